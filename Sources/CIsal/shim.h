#ifndef KLOGS_CISAL_SHIM_H
#define KLOGS_CISAL_SHIM_H
/// Intel's ISA-L (Debian libisal-dev): klogs reads gzip input with its inflate (`isal_inflate`) and checks gzip
/// header CRCs with its CRC-32 (`crc32_gzip_refl`).
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#endif
