/* Default allocator: posix_memalign, and for blocks of 2 MiB or more (packed
 * weights, arenas, input batches) a private mapping that starts on a 2 MiB
 * boundary and asks for transparent huge pages. Streaming 100-250 MB of
 * weights through 4 KiB pages costs a page walk every 4 KiB (AlexNet at batch
 * 1: +12 % on huge pages, docs/internals/arena.md). The mappings are returned
 * to the system when freed, so compile-time temporaries leave no heap behind.
 * Small-object helpers route through the same hook so failure injection
 * covers them too. */
#include "core/alloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/env.h"
#include "core/status.h"

/* Under AddressSanitizer every block stays on malloc, which it checks. */
#if defined(ZN_SANITIZE) || !defined(MADV_HUGEPAGE)
#define HUGE_BLOCKS 0
#else
#define HUGE_BLOCKS 1
#endif

#define HUGE_PAGE_BYTES ((size_t)2 << 20)
#define SMALL_PAGE_BYTES ((size_t)4096)

/* The live huge blocks, so free() can tell a mapping from a malloc block: it
 * only looks here for 2 MiB-aligned pointers, and there are tens of them. */
typedef struct huge_block {
  void *ptr;
  size_t bytes; /* mapped, from ptr */
} huge_block;

static struct {
  pthread_once_t once;
  bool enabled; /* ZN_HUGE_PAGES, default 1 */
  pthread_mutex_t lock;
  huge_block *blocks;
  size_t count, capacity;
} huge = {PTHREAD_ONCE_INIT, false, PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static void read_huge_switch(void) { huge.enabled = HUGE_BLOCKS && zn_env_bool("ZN_HUGE_PAGES", true); }

static bool huge_remember(void *p, size_t bytes) {
  bool ok = true;
  pthread_mutex_lock(&huge.lock);
  if (huge.count == huge.capacity) {
    const size_t cap = huge.capacity ? 2 * huge.capacity : 32;
    huge_block *b = realloc(huge.blocks, cap * sizeof *b);
    if (b) {
      huge.blocks = b;
      huge.capacity = cap;
    } else {
      ok = false;
    }
  }
  if (ok) huge.blocks[huge.count++] = (huge_block){p, bytes};
  pthread_mutex_unlock(&huge.lock);
  return ok;
}

/* The block's mapped size, removed from the table; 0 when p is not one. */
static size_t huge_forget(void *p) {
  size_t bytes = 0;
  pthread_mutex_lock(&huge.lock);
  for (size_t i = 0; i < huge.count; i++)
    if (huge.blocks[i].ptr == p) {
      bytes = huge.blocks[i].bytes;
      huge.blocks[i] = huge.blocks[--huge.count];
      break;
    }
  if (!huge.count) {
    free(huge.blocks);
    huge.blocks = NULL;
    huge.capacity = 0;
  }
  pthread_mutex_unlock(&huge.lock);
  return bytes;
}

/* Maps size + 2 MiB, keeps the 2 MiB-aligned part and unmaps the rest. Only
 * whole huge pages are advised: the tail stays on 4 KiB pages, so nothing
 * past the block becomes resident. A kernel with THP off ignores the advice
 * and the block works as a plain mapping. */
static void *huge_alloc(size_t size) {
  size_t bytes, span;
  if (!zn_size_add(size, SMALL_PAGE_BYTES - 1, &bytes)) return NULL;
  bytes &= ~(SMALL_PAGE_BYTES - 1);
  if (!zn_size_add(bytes, HUGE_PAGE_BYTES, &span)) return NULL;
  char *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return NULL;
  char *p = (char *)(((uintptr_t)base + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
  if (p > base) munmap(base, (size_t)(p - base));
  if (base + span > p + bytes) munmap(p + bytes, (size_t)(base + span - (p + bytes)));
  (void)madvise(p, bytes & ~(HUGE_PAGE_BYTES - 1), MADV_HUGEPAGE);
  if (!huge_remember(p, bytes)) {
    munmap(p, bytes);
    return NULL;
  }
  return p;
}

static void *default_alloc(void *ctx, size_t alignment, size_t size) {
  (void)ctx;
  pthread_once(&huge.once, read_huge_switch);
  if (huge.enabled && size >= HUGE_PAGE_BYTES) return huge_alloc(size);
  void *p = NULL;
  if (posix_memalign(&p, alignment, size ? size : alignment) != 0) return NULL;
  return p;
}

static void default_free(void *ctx, void *p) {
  (void)ctx;
  if (huge.enabled && ((uintptr_t)p & (HUGE_PAGE_BYTES - 1)) == 0) {
    const size_t bytes = huge_forget(p);
    if (bytes) {
      munmap(p, bytes);
      return;
    }
  }
  free(p);
}

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

size_t zn_memory_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[128];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    fclose(f);
    if (found) return kib > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)kib * 1024;
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  size_t bytes;
  return zn_size_mul((size_t)pages, (size_t)page, &bytes) ? bytes : SIZE_MAX;
}

static const char *human_bytes(size_t bytes, char *buf, size_t size) {
  static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = (double)bytes / 1024.0;
  int u = 0;
  while (v >= 1024.0 && u < 3) v /= 1024.0, u++;
  snprintf(buf, size, "%.1f %s", v, unit[u]);
  return buf;
}

zn_status zn_memory_check(size_t bytes, const char *doing, const char *what) {
  const size_t avail = zn_memory_available();
  const size_t limit = zn_env_kib("ZN_MEMORY_LIMIT_KIB", avail, "no limit");
  if (!limit || bytes <= limit) return ZN_OK;
  char need[32], have[32];
  return zn_error(ZN_ERR_OUT_OF_MEMORY, "%s: %s %s, more than the %s %s (a smaller batch needs less)", doing,
                  human_bytes(bytes, need, sizeof need), what, human_bytes(limit, have, sizeof have),
                  limit == avail ? "of memory available" : "allowed by ZN_MEMORY_LIMIT_KIB");
}
