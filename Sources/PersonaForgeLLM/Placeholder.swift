// Placeholder so the module builds while its first real file is written.
