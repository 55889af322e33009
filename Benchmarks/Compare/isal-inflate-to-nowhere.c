/*
 * isal-inflate-to-nowhere: decompresses a gzip file (every member) with ISA-L and throws the output away.
 *
 * The speed limit for `klogs ingest` of gzip input since klogs inflates with ISA-L (Sources/CIsal); the issue's
 * gzip target stays relative to zlib (inflate-to-nowhere.c), which this tool is put next to. One thread, the same
 * 1 MiB buffers klogs reads with. Built by Benchmarks/compare.sh: cc -O2 isal-inflate-to-nowhere.c -lisal
 *
 * Usage: isal-inflate-to-nowhere FILE.gz   (prints the decompressed byte count on standard output)
 */
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>

enum { CHUNK = 1 << 20 };

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.gz\n", argv[0]);
        return 64;
    }
    FILE *file = fopen(argv[1], "rb");
    if (file == NULL) {
        perror(argv[1]);
        return 66;
    }
    unsigned char *input = malloc(CHUNK);
    unsigned char *output = malloc(CHUNK);
    struct inflate_state *state = calloc(1, sizeof *state);
    if (input == NULL || output == NULL || state == NULL) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 70;
    }
    isal_inflate_init(state);
    state->crc_flag = ISAL_GZIP; /* the gzip header and trailer too, checked */
    unsigned long long total = 0;
    size_t count;
    while ((count = fread(input, 1, CHUNK, file)) > 0) {
        state->next_in = input;
        state->avail_in = (uint32_t)count;
        while (state->avail_in > 0) {
            state->next_out = output;
            state->avail_out = CHUNK;
            int status = isal_inflate(state);
            if (status < 0) {
                fprintf(stderr, "%s: %s: corrupt gzip data (ISA-L status %d)\n", argv[0], argv[1], status);
                return 65;
            }
            total += CHUNK - state->avail_out;
            if (state->block_state == ISAL_BLOCK_FINISH) {
                /* The next gzip member, if any: ISA-L stops right after a member's trailer. */
                isal_inflate_reset(state);
                state->crc_flag = ISAL_GZIP;
            }
        }
    }
    fclose(file);
    free(state);
    free(input);
    free(output);
    printf("%llu\n", total);
    return 0;
}
