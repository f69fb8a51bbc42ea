#ifndef OMNIFIN_CBLAS_SHIM_H
#define OMNIFIN_CBLAS_SHIM_H

// The generic CBLAS interface. Debian's libblas-dev provides the header and the link-time library;
// at run time libblas.so.3 resolves to OpenBLAS (libopenblas0) through update-alternatives.
#include <cblas.h>

// Swift has no prefetch intrinsic. The graph walk of the HNSW index is bound by memory latency, so it
// asks for the next neighbour's vector while it computes the current distance.
static inline void omnifin_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
