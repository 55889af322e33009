#ifndef KLOGS_CISAL_SHIM_H
#define KLOGS_CISAL_SHIM_H
/// Intel's ISA-L (Debian libisal-dev): klogs reads gzip input with its inflate (`isal_inflate`) and checks gzip
/// header CRCs with its CRC-32 (`crc32_gzip_refl`).
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

/// The bytes ISA-L decoded into its own buffer but has not copied out yet (`tmp_out_valid - tmp_out_processed` of
/// them): Swift cannot reach `tmp_out_buffer`, an array too large to import.
static inline const uint8_t *klogs_isal_pending_output(const struct inflate_state *state) {
    return state->tmp_out_buffer + state->tmp_out_processed;
}
#endif
