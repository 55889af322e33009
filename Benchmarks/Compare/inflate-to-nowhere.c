/*
 * inflate-to-nowhere: decompresses a gzip file (every member) with zlib and throws the output away.
 *
 * The reference of the gzip target: `klogs ingest` of gzip input at a fraction of this tool's speed on the
 * same file (klogs itself inflates with ISA-L: isal-inflate-to-nowhere.c). Unlike `gzip -dc` (GNU gzip has its own,
 * slower inflate) and `pigz -dc` (zlib, but with reader and writer threads), this is zlib alone on one thread, with
 * the same 1 MiB buffers klogs reads with. Built by Benchmarks/compare.sh: cc -O2 inflate-to-nowhere.c -lz
 *
 * Usage: inflate-to-nowhere FILE.gz   (prints the decompressed byte count on standard output)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    /* 16 + MAX_WBITS: a gzip wrapper, as klogs reads it. */
    if (input == NULL || output == NULL || inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        fprintf(stderr, "%s: cannot set up zlib\n", argv[0]);
        return 70;
    }
    unsigned long long total = 0;
    int status = Z_OK;
    size_t count;
    while ((count = fread(input, 1, CHUNK, file)) > 0) {
        stream.next_in = input;
        stream.avail_in = (uInt)count;
        while (stream.avail_in > 0) {
            stream.next_out = output;
            stream.avail_out = CHUNK;
            status = inflate(&stream, Z_NO_FLUSH);
            if (status != Z_OK && status != Z_STREAM_END) {
                fprintf(stderr, "%s: %s: corrupt gzip data (zlib status %d)\n", argv[0], argv[1], status);
                return 65;
            }
            total += CHUNK - stream.avail_out;
            if (status == Z_STREAM_END) {
                inflateReset(&stream); /* the next gzip member, if any */
            }
        }
    }
    inflateEnd(&stream);
    fclose(file);
    free(input);
    free(output);
    printf("%llu\n", total);
    return 0;
}
