#ifndef OMNIFIN_CBLAS_SHIM_H
#define OMNIFIN_CBLAS_SHIM_H

#include <stdint.h>

// The generic CBLAS interface. Debian's libblas-dev provides the header and the link-time library;
// at run time libblas.so.3 resolves to OpenBLAS (libopenblas0) through update-alternatives.
#include <cblas.h>

// Small helpers the Swift standard library does not offer on raw memory; they compile to single instructions.

// Swift has no prefetch intrinsic. The graph walk of the HNSW index is bound by memory latency, so it
// asks for the next vectors and neighbour lists while it computes the current distances.
static inline void omnifin_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

// Searches read neighbour lists while writers rewrite them. Writers publish each word with a release store and
// readers take it with an acquire load, so a reader that sees a node id also sees that node's vector; on x86-64
// both are plain moves.
static inline uint32_t omnifin_load_acquire_u32(const uint32_t *address) {
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}
static inline void omnifin_store_release_u32(uint32_t *address, uint32_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELEASE);
}
static inline uint8_t omnifin_load_relaxed_u8(const uint8_t *address) {
    return __atomic_load_n(address, __ATOMIC_RELAXED);
}
static inline void omnifin_store_relaxed_u8(uint8_t *address, uint8_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELAXED);
}

#endif
