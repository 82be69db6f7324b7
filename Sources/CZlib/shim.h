#ifndef PERSONAFORGE_CZLIB_SHIM_H
#define PERSONAFORGE_CZLIB_SHIM_H
// zlib (zlib1g-dev). Imported only by PersonaForgeCompression.
#include <zlib.h>

// deflateInit2 is a macro Swift cannot call; this typed shim forwards to it.
static inline int CZlib_deflateInitRaw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
#endif
