/* Default allocator: posix_memalign. Small-object helpers route through the
 * same hook so failure injection covers them too. */
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ctx, size_t alignment, size_t size) {
  (void)ctx;
  void *p = NULL;
  if (posix_memalign(&p, alignment, size ? size : alignment) != 0) return NULL;
  return p;
}
static void default_free(void *ctx, void *p) { (void)ctx; free(p); }

static const zn_allocator default_allocator = {NULL, default_alloc, default_free};
static const zn_allocator *current = &default_allocator;

void zn_allocator_set(const zn_allocator *a) { current = a ? a : &default_allocator; }

void *zn_alloc_aligned(size_t size) { return current->aligned_alloc(current->context, ZN_ALIGNMENT, size); }
void *zn_calloc_aligned(size_t size) {
  void *p = zn_alloc_aligned(size);
  if (p) memset(p, 0, size);
  return p;
}
void zn_free_aligned(void *p) { if (p) current->aligned_free(current->context, p); }

/* Small objects: a 16-byte header keeps the size for realloc. */
typedef struct { size_t size; size_t pad; } header;

void *zn_malloc(size_t size) {
  size_t total;
  if (!zn_size_add(size, sizeof(header), &total)) return NULL;
  header *h = current->aligned_alloc(current->context, 16, total);
  if (!h) return NULL;
  h->size = size;
  return h + 1;
}
void *zn_calloc(size_t count, size_t size) {
  size_t total;
  if (!zn_size_mul(count, size, &total)) return NULL;
  void *p = zn_malloc(total);
  if (p) memset(p, 0, total);
  return p;
}
void *zn_realloc(void *ptr, size_t size) {
  if (!ptr) return zn_malloc(size);
  header *h = (header *)ptr - 1;
  void *q = zn_malloc(size);
  if (!q) return NULL;
  memcpy(q, ptr, h->size < size ? h->size : size);
  zn_free(ptr);
  return q;
}
void zn_free(void *ptr) { if (ptr) current->aligned_free(current->context, (header *)ptr - 1); }
char *zn_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = zn_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}
