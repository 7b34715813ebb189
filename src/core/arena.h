/* A generic memory planner: given buffers with liveness intervals, assign each
 * an offset inside one arena so that buffers alive at the same time never
 * overlap. It knows nothing about graphs: an interval is any pair of ordered
 * step numbers (for a backend, the first and last node index touching a value).
 * docs/internals/arena.md explains the algorithm. */
#ifndef ZN_CORE_ARENA_H
#define ZN_CORE_ARENA_H

#include "core/common.h"

#define ZN_ARENA_ALIGNMENT 64

typedef struct zn_arena_request {
  int64_t first, last;   /* in: live from step first to step last, inclusive (first <= last) */
  size_t size_bytes;     /* in: 0 means no memory (offset 0, ignored by the planner) */
  size_t offset;         /* out: byte offset in the arena, a multiple of ZN_ARENA_ALIGNMENT */
} zn_arena_request;

/* Plan offsets for count requests (greedy: largest first, each into the
 * smallest gap among the already placed buffers whose intervals overlap it).
 * *total_bytes_out receives the arena size needed (a multiple of the alignment).
 * Deterministic. ZN_ERR_INVALID_ARGUMENT if an interval is reversed,
 * ZN_ERR_OUT_OF_MEMORY if sizes overflow, scratch memory cannot be had, or the
 * arena would not fit zn_memory_check's limit. */
ZN_INTERNAL zn_status zn_arena_plan(zn_arena_request *requests, size_t count, size_t *total_bytes_out);

#endif
