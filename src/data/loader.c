/* Decoding a data set ahead of a measurement: a small pthread pool decodes
 * and preprocesses every image into one float block, so the measured loop
 * only reads memory.
 * DESIGN: the calling thread owns everything; workers take item indices from
 * one atomic counter and write only their own slot (tensor, ok flag, error
 * text), so no locks are needed. With policy FAIL a failure raises a stop
 * flag that other workers check between items. The pool lives for one
 * zn_dataset_load call and is joined before it returns. Afterwards good
 * slots are compacted in data-set order, so the result does not depend on
 * thread timing. */
#include "data/data.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

#define LOADER_MAX_THREADS 64
#define LOADER_DEFAULT_MAX_BYTES ((size_t)4 << 30)

zn_loader_options zn_loader_options_default(int crop_size) {
  zn_loader_options o = {.num_threads = 1, .crop_size = crop_size, .policy = ZN_BAD_IMAGE_FAIL};
  return o;
}

typedef struct slot {
  int ok;
  zn_status status;
  char *message;
} slot;

typedef struct pool {
  const zn_dataset *dataset;
  zn_preprocess_options pre;
  size_t count;
  size_t image_floats;
  float *data;
  slot *slots;
  atomic_size_t next;
  atomic_int stop;
  int fail_fast;
} pool;

static void load_one(pool *p, size_t i) {
  const zn_dataset_item *item = &p->dataset->items[i];
  float *dst = p->data + i * p->image_floats;
  slot *s = &p->slots[i];
  if (p->dataset->kind == ZN_DATASET_SYNTHETIC) {
    zn_dataset_synthetic_fill(p->dataset->seed, i, p->pre.crop_size, dst);
    s->ok = 1;
    return;
  }
  zn_image img;
  zn_status st = zn_image_load_file(item->path, &img);
  if (st == ZN_OK) {
    st = zn_image_preprocess(&img, &p->pre, dst);
    if (st != ZN_OK) zn_error_prefix(st, "image %s: ", item->path);
    zn_image_deinit(&img);
  }
  if (st == ZN_OK) {
    s->ok = 1;
    return;
  }
  s->status = st;
  s->message = zn_strdup(zn_last_error()); /* NULL on OOM: reported without text */
  if (p->fail_fast) atomic_store(&p->stop, 1);
}

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    if (atomic_load(&p->stop)) break;
    size_t i = atomic_fetch_add(&p->next, 1);
    if (i >= p->count) break;
    load_one(p, i);
  }
  return NULL;
}

void zn_loaded_set_destroy(zn_loaded_set *set) {
  if (!set) return;
  zn_free_aligned(set->data);
  zn_free(set->labels);
  zn_free(set->paths);
  if (set->bad)
    for (size_t i = 0; i < set->num_bad; i++) {
      zn_free(set->bad[i].path);
      zn_free(set->bad[i].message);
    }
  zn_free(set->bad);
  zn_free(set);
}

const float *zn_loaded_set_image(const zn_loaded_set *set, size_t i) {
  if (!set || i >= set->num_images) return NULL;
  return set->data + i * (size_t)3 * set->crop_size * set->crop_size;
}

zn_status zn_dataset_load(const zn_dataset *dataset, const zn_loader_options *opts, zn_loaded_set **set_out) {
  if (!set_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load data set: set_out is NULL");
  *set_out = NULL;
  if (!dataset || !opts) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load data set: NULL argument");
  if (opts->crop_size <= 0 || opts->crop_size > 4096)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load data set: input size %d outside 1..4096",
                    opts->crop_size);
  int threads = opts->num_threads <= 0 ? 1 : opts->num_threads;
  if (threads > LOADER_MAX_THREADS) threads = LOADER_MAX_THREADS;
  size_t count = dataset->num_items;
  if (opts->max_items && opts->max_items < count) count = opts->max_items;
  if (count == 0) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load data set: it has no items");
  if ((size_t)threads > count) threads = (int)count;

  size_t image_floats = (size_t)3 * opts->crop_size * opts->crop_size, total_bytes;
  size_t cap = opts->max_bytes ? opts->max_bytes : LOADER_DEFAULT_MAX_BYTES;
  if (!zn_size_mul(count, image_floats * sizeof(float), &total_bytes) || total_bytes > cap)
    return zn_error(ZN_ERR_INVALID_ARGUMENT,
                    "failed to load data set: %zu images of 3x%dx%d floats exceed the %zu-byte cap", count,
                    opts->crop_size, opts->crop_size, cap);

  pool p;
  memset(&p, 0, sizeof p);
  p.dataset = dataset;
  p.pre = zn_preprocess_options_imagenet(opts->crop_size);
  p.count = count;
  p.image_floats = image_floats;
  p.fail_fast = opts->policy == ZN_BAD_IMAGE_FAIL;
  atomic_init(&p.next, 0);
  atomic_init(&p.stop, 0);

  zn_status st = ZN_OK;
  zn_loaded_set *set = zn_calloc(1, sizeof *set);
  pthread_t *tids = zn_calloc((size_t)threads, sizeof *tids);
  p.data = zn_alloc_aligned(total_bytes);
  p.slots = zn_calloc(count, sizeof *p.slots);
  if (!set || !tids || !p.data || !p.slots) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load data set: cannot allocate %zu bytes for %zu images",
                  total_bytes, count);
    goto done;
  }

  int started = 0;
  for (; started < threads - 1; started++)
    if (pthread_create(&tids[started], NULL, worker, &p) != 0) break; /* fewer threads still finish the work */
  worker(&p); /* the calling thread works too */
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);

  size_t num_ok = 0, num_bad = 0;
  for (size_t i = 0; i < count; i++) {
    if (p.slots[i].ok) num_ok++;
    else if (p.slots[i].status != ZN_OK) num_bad++;
  }
  if (p.fail_fast && num_bad) {
    for (size_t i = 0; i < count; i++)
      if (!p.slots[i].ok && p.slots[i].status != ZN_OK) {
        if (p.slots[i].message)
          st = zn_error(p.slots[i].status, "failed to load data set: %s", p.slots[i].message);
        else
          st = zn_error(p.slots[i].status, "failed to load data set: bad image %s", dataset->items[i].path);
        break;
      }
    goto done;
  }
  if (num_ok == 0) {
    st = zn_error(ZN_ERR_INVALID_INPUT, "failed to load data set: all %zu images are bad (first: %s)", count,
                  p.slots[0].message ? p.slots[0].message : "?");
    goto done;
  }

  set->labels = zn_calloc(num_ok, sizeof *set->labels);
  set->paths = zn_calloc(num_ok, sizeof *set->paths);
  set->bad = zn_calloc(num_bad ? num_bad : 1, sizeof *set->bad);
  if (!set->labels || !set->paths || !set->bad) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load data set: out of memory");
    goto done;
  }
  size_t k = 0;
  for (size_t i = 0; i < count; i++) {
    if (p.slots[i].ok) {
      if (k != i) memmove(p.data + k * image_floats, p.data + i * image_floats, image_floats * sizeof(float));
      set->labels[k] = dataset->items[i].label;
      set->paths[k] = dataset->items[i].path;
      k++;
    } else {
      zn_bad_image *b = &set->bad[set->num_bad++];
      b->path = zn_strdup(dataset->items[i].path ? dataset->items[i].path : "(synthetic)");
      b->message = p.slots[i].message;
      p.slots[i].message = NULL;
      if (!b->path) {
        st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load data set: out of memory");
        goto done;
      }
    }
  }
  set->num_images = num_ok;
  set->crop_size = opts->crop_size;
  set->data = p.data;
  p.data = NULL;

done:
  if (p.slots)
    for (size_t i = 0; i < count; i++) zn_free(p.slots[i].message);
  zn_free(p.slots);
  zn_free_aligned(p.data);
  zn_free(tids);
  if (st != ZN_OK) {
    zn_loaded_set_destroy(set);
    return st;
  }
  *set_out = set;
  return ZN_OK;
}
