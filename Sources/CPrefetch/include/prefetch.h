#ifndef KLOGS_PREFETCH_H
#define KLOGS_PREFETCH_H
/// Asks the processor to start loading the cache line at `address` (for reading, kept in every cache level), so
/// that a load of it a few dozen instructions later does not wait for memory. Swift has no prefetch of its own.
/// Only a hint: an invalid address is never dereferenced.
static inline __attribute__((always_inline)) void klogs_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
#endif
