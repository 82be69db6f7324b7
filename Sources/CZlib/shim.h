#ifndef PERSONAFORGE_CZLIB_SHIM_H
#define PERSONAFORGE_CZLIB_SHIM_H
// zlib (zlib1g-dev). Imported only by PersonaForgeCompression.
#include <zlib.h>

// deflateInit2 is a macro Swift cannot call; this typed shim forwards to it.
static inline int CZlib_deflateInitRaw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

// A gzip (RFC 1952) stream: zlib writes the header (mtime 0, no name) and the
// CRC-32 / size trailer itself when windowBits is 15 + 16.
static inline int CZlib_deflateInitGzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
