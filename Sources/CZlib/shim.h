#ifndef KLOGS_CZLIB_SHIM_H
#define KLOGS_CZLIB_SHIM_H
/// zlib writes the tests' gzip files and checks klogs' reading of them (klogs reads gzip with ISA-L: Sources/CIsal).
#include <zlib.h>

/// `inflateInit2` and `deflateInit2` are macros, which Swift cannot call.
static inline int klogs_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
static inline int klogs_deflateInit2(z_streamp stream, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(stream, level, method, windowBits, memLevel, strategy);
}
#endif
