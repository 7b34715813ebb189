/* The arena planner (see arena.h, docs/internals/arena.md): greedy by size,
 * like XNNPACK's memory planner and ggml's gallocr. Large buffers are placed
 * first because they are the hardest to fit; each one goes into the smallest
 * gap left between buffers it is live together with, or on top of them. */
#include "core/arena.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "core/status.h"

typedef struct order_item { size_t size; int64_t first; size_t index; } order_item;
typedef struct span { size_t begin, end; } span;

static size_t round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }

static int by_size_desc(const void *a, const void *b) {
  const order_item *x = a, *y = b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  if (x->first != y->first) return x->first < y->first ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

static int by_begin(const void *a, const void *b) {
  const span *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : (x->end > y->end);
}

zn_status zn_arena_plan(zn_arena_request *req, size_t count, size_t *total_bytes_out) {
  *total_bytes_out = 0;
  const size_t align = ZN_ARENA_ALIGNMENT;
  for (size_t i = 0; i < count; i++) {
    if (req[i].first > req[i].last)
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to plan arena: request %zu has interval [%lld, %lld]", i,
                      (long long)req[i].first, (long long)req[i].last);
    if (req[i].size_bytes > SIZE_MAX / 2)
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan arena: request %zu of %zu bytes", i, req[i].size_bytes);
    req[i].offset = 0;
  }
  if (count == 0) return ZN_OK;

  order_item *order = zn_malloc(count * sizeof *order);
  span *spans = zn_malloc(count * sizeof *spans);
  bool *placed = zn_calloc(count, sizeof *placed);
  if (!order || !spans || !placed) {
    zn_free(order), zn_free(spans), zn_free(placed);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan arena: out of memory for %zu requests", count);
  }
  for (size_t i = 0; i < count; i++) {
    order[i] = (order_item){round_up(req[i].size_bytes, align), req[i].first, i};
  }
  qsort(order, count, sizeof *order, by_size_desc);

  zn_status st = ZN_OK;
  size_t total = 0;
  for (size_t k = 0; k < count && order[k].size > 0; k++) {
    const size_t i = order[k].index, size = order[k].size;
    /* Buffers already placed whose lifetimes overlap this one. */
    size_t num_spans = 0;
    for (size_t j = 0; j < count; j++) {
      if (!placed[j] || req[j].last < req[i].first || req[j].first > req[i].last) continue;
      spans[num_spans++] = (span){req[j].offset, req[j].offset + round_up(req[j].size_bytes, align)};
    }
    qsort(spans, num_spans, sizeof *spans, by_begin);
    /* Smallest gap that fits (best fit); else above everything that overlaps. */
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (size_t s = 0; s < num_spans; s++) {
      if (spans[s].begin > cursor && spans[s].begin - cursor >= size && spans[s].begin - cursor < best_gap) {
        best_gap = spans[s].begin - cursor;
        best = cursor;
      }
      if (spans[s].end > cursor) cursor = spans[s].end;
    }
    if (best == SIZE_MAX) best = cursor;
    size_t end;
    if (!zn_size_add(best, size, &end)) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan arena: total size overflows");
      break;
    }
    req[i].offset = best;
    placed[i] = true;
    if (end > total) total = end;
  }
  zn_free(order);
  zn_free(spans);
  zn_free(placed);
  /* An arena larger than the memory the system can give would page, or be
   * killed when first touched (overcommit lets the allocation succeed):
   * refuse it while it is still a plan. */
  if (st == ZN_OK) st = zn_memory_check(total, "failed to plan arena", "of activations");
  if (st == ZN_OK) *total_bytes_out = total;
  return st;
}
