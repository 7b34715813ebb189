/* Aligned allocation behind a pluggable allocator, so tests can inject
 * failures one allocation at a time (curl torture, XNNPACK mock allocator). */
#ifndef ZN_CORE_ALLOC_H
#define ZN_CORE_ALLOC_H

#include "core/common.h"

#define ZN_ALIGNMENT 64

typedef struct zn_allocator {
  void *context;
  void *(*aligned_alloc)(void *context, size_t alignment, size_t size);
  void (*aligned_free)(void *context, void *ptr);
} zn_allocator;

/* Replace the allocator (NULL: default). Tests only; not thread-safe. A block
 * must be freed while the allocator that made it is set (the default one's
 * large blocks are mappings that free() cannot take). */
ZN_INTERNAL void zn_allocator_set(const zn_allocator *allocator);

/* 64-byte aligned; size 0 allowed (returns a unique pointer). NULL on failure. */
ZN_INTERNAL void *zn_alloc_aligned(size_t size);
ZN_INTERNAL void *zn_calloc_aligned(size_t size);
ZN_INTERNAL void zn_free_aligned(void *ptr);

/* Plain heap helpers for small objects; all checked by callers. */
ZN_INTERNAL void *zn_malloc(size_t size);
ZN_INTERNAL void *zn_calloc(size_t count, size_t size);
ZN_INTERNAL void *zn_realloc(void *ptr, size_t size);
ZN_INTERNAL void zn_free(void *ptr);
ZN_INTERNAL char *zn_strdup(const char *s);

/* Bytes of memory the system can hand out now without swapping: Linux's
 * MemAvailable (/proc/meminfo), else free physical pages; 0 when unknown. */
ZN_INTERNAL size_t zn_memory_available(void);
/* Whether one planned block (an instance's arena; its inputs and outputs)
 * fits the memory limit: ZN_MEMORY_LIMIT_KIB when set (0: no limit), else
 * zn_memory_available() read now. ZN_ERR_OUT_OF_MEMORY otherwise, the message
 * "<doing>: <N> MiB <what>, more than the <L> MiB ...". */
ZN_INTERNAL zn_status zn_memory_check(size_t bytes, const char *doing, const char *what);

/* Overflow-checked size arithmetic: false on overflow. */
static inline bool zn_size_mul(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool zn_size_add(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

#endif
