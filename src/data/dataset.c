/* Data set listings: which images a run or a benchmark feeds, in a fixed
 * order. A folder of images (sorted names, so runs are repeatable), an
 * ImageNet-validation layout (a folder plus "name class_index" lines), or
 * synthetic normal noise generated from a seed (no files at all). */
#include "data/data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/status.h"

#define DATASET_MAX_ITEMS ((size_t)100000000)
#define VAL_MAX_LINE 4096

void zn_dataset_destroy(zn_dataset *dataset) {
  if (!dataset) return;
  if (dataset->items)
    for (size_t i = 0; i < dataset->num_items; i++) zn_free(dataset->items[i].path);
  zn_free(dataset->items);
  zn_free(dataset);
}

static int has_image_extension(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name) return 0;
  return strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".png") == 0;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *join_path(const char *folder, const char *name) {
  size_t a = strlen(folder), b = strlen(name);
  int slash = a > 0 && folder[a - 1] != '/';
  char *p = zn_malloc(a + (size_t)slash + b + 1);
  if (!p) return NULL;
  memcpy(p, folder, a);
  if (slash) p[a] = '/';
  memcpy(p + a + slash, name, b + 1);
  return p;
}

static int is_regular_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Grow items to hold at least n + 1 entries. */
static int items_reserve(zn_dataset *ds, size_t *cap) {
  if (ds->num_items < *cap) return 1;
  size_t next = *cap ? *cap * 2 : 64;
  zn_dataset_item *grown = zn_realloc(ds->items, next * sizeof *grown);
  if (!grown) return 0;
  ds->items = grown;
  *cap = next;
  return 1;
}

zn_status zn_dataset_open_folder(const char *folder, zn_dataset **dataset_out) {
  if (!dataset_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to open image folder: dataset_out is NULL");
  *dataset_out = NULL;
  if (!folder) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to open image folder: folder is NULL");
  DIR *dir = opendir(folder);
  if (!dir) return zn_error(ZN_ERR_IO, "failed to open image folder %s: %s", folder, strerror(errno));
  zn_dataset *ds = zn_calloc(1, sizeof *ds);
  char **names = NULL;
  size_t num_names = 0, names_cap = 0;
  zn_status st = ZN_OK;
  if (!ds) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open image folder %s: out of memory", folder);
    goto done;
  }
  ds->kind = ZN_DATASET_FOLDER;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.' || !has_image_extension(e->d_name)) continue;
    if (num_names >= DATASET_MAX_ITEMS) {
      st = zn_error(ZN_ERR_INVALID_INPUT, "failed to open image folder %s: more than %zu images", folder,
                    DATASET_MAX_ITEMS);
      goto done;
    }
    if (num_names == names_cap) {
      size_t next = names_cap ? names_cap * 2 : 64;
      char **grown = zn_realloc(names, next * sizeof *grown);
      if (!grown) {
        st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open image folder %s: out of memory", folder);
        goto done;
      }
      names = grown;
      names_cap = next;
    }
    names[num_names] = zn_strdup(e->d_name);
    if (!names[num_names]) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open image folder %s: out of memory", folder);
      goto done;
    }
    num_names++;
  }
  if (num_names) qsort(names, num_names, sizeof *names, compare_names);
  ds->items = zn_calloc(num_names ? num_names : 1, sizeof *ds->items);
  if (!ds->items) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open image folder %s: out of memory", folder);
    goto done;
  }
  for (size_t i = 0; i < num_names; i++) {
    char *path = join_path(folder, names[i]);
    if (!path) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open image folder %s: out of memory", folder);
      goto done;
    }
    if (!is_regular_file(path)) { /* a folder named x.jpg, a dangling link */
      zn_free(path);
      continue;
    }
    ds->items[ds->num_items].path = path;
    ds->items[ds->num_items].label = -1;
    ds->num_items++;
  }
  if (ds->num_items == 0)
    st = zn_error(ZN_ERR_INVALID_INPUT, "failed to open image folder %s: no .jpg, .jpeg or .png files in it", folder);
done:
  closedir(dir);
  for (size_t i = 0; i < num_names; i++) zn_free(names[i]);
  zn_free(names);
  if (st != ZN_OK) {
    zn_dataset_destroy(ds);
    return st;
  }
  *dataset_out = ds;
  return ZN_OK;
}

zn_status zn_dataset_open_imagenet_val(const char *folder, const char *labels_path, zn_dataset **dataset_out) {
  if (!dataset_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to open ImageNet-val set: dataset_out is NULL");
  *dataset_out = NULL;
  if (!folder || !labels_path)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to open ImageNet-val set: folder or labels file is NULL");
  struct stat sb;
  if (stat(folder, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return zn_error(ZN_ERR_IO, "failed to open ImageNet-val set: %s is not a folder", folder);
  FILE *f = fopen(labels_path, "r");
  if (!f) return zn_error(ZN_ERR_IO, "failed to open ImageNet-val labels file %s: %s", labels_path, strerror(errno));
  zn_dataset *ds = zn_calloc(1, sizeof *ds);
  char *line = zn_malloc(VAL_MAX_LINE + 2);
  size_t cap = 0, line_no = 0;
  zn_status st = ZN_OK;
  if (!ds || !line) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open ImageNet-val set: out of memory");
    goto done;
  }
  ds->kind = ZN_DATASET_IMAGENET_VAL;
  while (fgets(line, VAL_MAX_LINE + 2, f)) {
    line_no++;
    size_t len = strlen(line);
    if (len > VAL_MAX_LINE && line[len - 1] != '\n') {
      st = zn_error(ZN_ERR_INVALID_INPUT, "failed to read %s line %zu: longer than %d characters", labels_path,
                    line_no, VAL_MAX_LINE);
      goto done;
    }
    char name[VAL_MAX_LINE + 1], extra[2];
    long long label;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#') continue;
    int n = sscanf(p, "%4096s %lld %1s", name, &label, extra);
    if (n != 2) {
      st = zn_error(ZN_ERR_INVALID_INPUT,
                    "failed to read %s line %zu: expected \"<file name> <class index>\"", labels_path, line_no);
      goto done;
    }
    if (label < 0 || label > 1000000) {
      st = zn_error(ZN_ERR_INVALID_INPUT, "failed to read %s line %zu: class index %lld out of range 0..1000000",
                    labels_path, line_no, label);
      goto done;
    }
    if (strchr(name, '/')) {
      st = zn_error(ZN_ERR_INVALID_INPUT, "failed to read %s line %zu: file name %s may not contain '/'",
                    labels_path, line_no, name);
      goto done;
    }
    if (ds->num_items >= DATASET_MAX_ITEMS || !items_reserve(ds, &cap)) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read %s line %zu: too many items", labels_path, line_no);
      goto done;
    }
    char *path = join_path(folder, name);
    if (!path) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to open ImageNet-val set: out of memory");
      goto done;
    }
    if (!is_regular_file(path)) {
      st = zn_error(ZN_ERR_IO, "failed to read %s line %zu: image %s does not exist", labels_path, line_no, path);
      zn_free(path);
      goto done;
    }
    ds->items[ds->num_items].path = path;
    ds->items[ds->num_items].label = label;
    ds->num_items++;
  }
  if (ferror(f)) {
    st = zn_error(ZN_ERR_IO, "failed to read %s: %s", labels_path, strerror(errno));
    goto done;
  }
  if (ds->num_items == 0)
    st = zn_error(ZN_ERR_INVALID_INPUT, "failed to open ImageNet-val set: %s lists no images", labels_path);
done:
  fclose(f);
  zn_free(line);
  if (st != ZN_OK) {
    zn_dataset_destroy(ds);
    return st;
  }
  *dataset_out = ds;
  return ZN_OK;
}

zn_status zn_dataset_open_synthetic(size_t num_items, uint64_t seed, zn_dataset **dataset_out) {
  if (!dataset_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create synthetic set: dataset_out is NULL");
  *dataset_out = NULL;
  if (num_items == 0 || num_items > DATASET_MAX_ITEMS)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create synthetic set: %zu items outside 1..%zu", num_items,
                    DATASET_MAX_ITEMS);
  zn_dataset *ds = zn_calloc(1, sizeof *ds);
  if (ds) ds->items = zn_calloc(num_items, sizeof *ds->items);
  if (!ds || !ds->items) {
    zn_dataset_destroy(ds);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create synthetic set of %zu items: out of memory", num_items);
  }
  ds->kind = ZN_DATASET_SYNTHETIC;
  ds->num_items = num_items;
  ds->seed = seed;
  for (size_t i = 0; i < num_items; i++) ds->items[i].label = -1;
  *dataset_out = ds;
  return ZN_OK;
}

void zn_dataset_synthetic_fill(uint64_t seed, size_t index, int size, float *out_chw) {
  zn_rng rng;
  /* Mix the index so neighbouring items do not share splitmix64 streams. */
  zn_rng_init(&rng, seed ^ (0xD1B54A32D192ED03ull * ((uint64_t)index + 1)));
  size_t n = (size_t)3 * size * size;
  for (size_t i = 0; i < n; i++) out_chw[i] = zn_rng_normal(&rng);
}
