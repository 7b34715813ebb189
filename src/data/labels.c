/* Class-name files: one name per line, line i naming class i (the format of
 * ImageNet's imagenet_classes.txt). Read whole with a size cap, each line
 * bounded, so a wrong file (a binary, a huge single line) is a clear error. */
#include "data/data.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

#define LABELS_MAX_FILE_BYTES ((size_t)64 << 20)

struct zn_labels {
  size_t count;
  char **names;
  char *text; /* all names, NUL-separated; names[] point into it */
};

void zn_labels_destroy(zn_labels *labels) {
  if (!labels) return;
  zn_free(labels->names);
  zn_free(labels->text);
  zn_free(labels);
}

size_t zn_labels_count(const zn_labels *labels) { return labels ? labels->count : 0; }

const char *zn_labels_get(const zn_labels *labels, int64_t index) {
  if (!labels || index < 0 || (uint64_t)index >= labels->count) return NULL;
  return labels->names[index];
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

zn_status zn_labels_load(const char *path, zn_labels **labels_out) {
  if (!labels_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load labels: labels_out is NULL");
  *labels_out = NULL;
  if (!path) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load labels: path is NULL");
  FILE *f = fopen(path, "rb");
  if (!f) return zn_error(ZN_ERR_IO, "failed to open labels file %s: %s", path, strerror(errno));

  zn_labels *labels = zn_calloc(1, sizeof *labels);
  size_t cap = 4096, size = 0;
  char *text = zn_malloc(cap);
  zn_status st = ZN_OK;
  if (!labels || !text) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load labels file %s: out of memory", path);
    goto fail;
  }
  for (;;) {
    if (size + 1 >= cap) {
      if (cap >= LABELS_MAX_FILE_BYTES) {
        st = zn_error(ZN_ERR_INVALID_INPUT, "failed to load labels file %s: larger than %zu bytes", path,
                      LABELS_MAX_FILE_BYTES);
        goto fail;
      }
      char *grown = zn_realloc(text, cap * 2);
      if (!grown) {
        st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load labels file %s: out of memory", path);
        goto fail;
      }
      text = grown;
      cap *= 2;
    }
    size_t got = fread(text + size, 1, cap - 1 - size, f);
    size += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    st = zn_error(ZN_ERR_IO, "failed to read labels file %s: %s", path, strerror(errno));
    goto fail;
  }
  text[size] = '\0';
  if (memchr(text, '\0', size)) {
    st = zn_error(ZN_ERR_INVALID_INPUT, "failed to load labels file %s: contains NUL bytes (not a text file)", path);
    goto fail;
  }

  /* Count lines: a final line without '\n' counts, an empty tail does not. */
  size_t count = 0;
  for (size_t i = 0; i < size; i++)
    if (text[i] == '\n') count++;
  if (size > 0 && text[size - 1] != '\n') count++;
  if (count == 0) {
    st = zn_error(ZN_ERR_INVALID_INPUT, "failed to load labels file %s: file is empty", path);
    goto fail;
  }
  if (count > ZN_LABELS_MAX_COUNT) {
    st = zn_error(ZN_ERR_INVALID_INPUT, "failed to load labels file %s: %zu lines exceed the limit of %d", path,
                  count, ZN_LABELS_MAX_COUNT);
    goto fail;
  }
  labels->names = zn_malloc(sizeof(char *) * count);
  if (!labels->names) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load labels file %s: out of memory", path);
    goto fail;
  }
  char *line = text;
  for (size_t n = 0; n < count; n++) {
    char *end = strchr(line, '\n');
    char *next = end ? end + 1 : text + size;
    if (!end) end = text + size;
    if ((size_t)(end - line) > ZN_LABELS_MAX_LINE) {
      st = zn_error(ZN_ERR_INVALID_INPUT, "failed to load labels file %s: line %zu is longer than %d characters",
                    path, n + 1, ZN_LABELS_MAX_LINE);
      goto fail;
    }
    *end = '\0';
    while (*line && is_space(*line)) line++;
    char *tail = end;
    while (tail > line && is_space(tail[-1])) *--tail = '\0';
    labels->names[n] = line;
    line = next;
  }
  labels->count = count;
  labels->text = text;
  fclose(f);
  *labels_out = labels;
  return ZN_OK;

fail:
  fclose(f);
  zn_free(text);
  zn_labels_destroy(labels);
  return st;
}
