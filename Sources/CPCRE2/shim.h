#ifndef KLOGS_CPCRE2_SHIM_H
#define KLOGS_CPCRE2_SHIM_H
/// PCRE2's public names are macros over width-specific functions; this shim fixes the width to 8 bits,
/// so Swift calls the `pcre2_*_8` functions directly.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
