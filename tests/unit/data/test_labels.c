/* Label files: the shipped ImageNet list has 1000 classes in index order;
 * CRLF, a missing final newline and spaces are handled; an over-long line, a
 * binary file, an empty file and a missing file are clear errors. */
#include <stdlib.h>
#include <unistd.h>

#include "data/data.h"
#include "harness.h"

static const char *write_temp(const char *name, const void *data, size_t size) {
  static char path[512];
  snprintf(path, sizeof path, "%s/zn_test_%s_%d.txt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name,
           (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  fwrite(data, 1, size, f);
  fclose(f);
  return path;
}

int zn_test_main(void) {
  zn_labels *labels = NULL;
  CHECK_OK(zn_labels_load(zn_test_source_path("data/imagenet_labels.txt"), &labels));
  CHECK_EQ_INT(zn_labels_count(labels), 1000);
  CHECK(zn_labels_get(labels, 0) && strcmp(zn_labels_get(labels, 0), "tench") == 0);
  CHECK(zn_labels_get(labels, 999) && strcmp(zn_labels_get(labels, 999), "toilet tissue") == 0);
  CHECK(zn_labels_get(labels, 1000) == NULL);
  CHECK(zn_labels_get(labels, -1) == NULL);
  zn_labels_destroy(labels);

  const char crlf[] = "  cat \r\ndog\r\n\r\nbird";
  const char *p = write_temp("crlf", crlf, sizeof crlf - 1);
  CHECK_OK(zn_labels_load(p, &labels));
  CHECK_EQ_INT(zn_labels_count(labels), 4);
  CHECK(labels && strcmp(zn_labels_get(labels, 0), "cat") == 0);
  CHECK(labels && strcmp(zn_labels_get(labels, 1), "dog") == 0);
  CHECK(labels && strcmp(zn_labels_get(labels, 2), "") == 0);
  CHECK(labels && strcmp(zn_labels_get(labels, 3), "bird") == 0);
  zn_labels_destroy(labels);
  remove(p);

  char *longline = malloc(ZN_LABELS_MAX_LINE + 10);
  memset(longline, 'x', ZN_LABELS_MAX_LINE + 9);
  longline[0] = 'a';
  longline[1] = '\n';
  longline[ZN_LABELS_MAX_LINE + 9] = '\n';
  p = write_temp("long", longline, ZN_LABELS_MAX_LINE + 10);
  CHECK_STATUS(zn_labels_load(p, &labels), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("line 2");
  CHECK(labels == NULL);
  remove(p);
  free(longline);

  const char binary[] = "abc\0def\n";
  p = write_temp("binary", binary, sizeof binary - 1);
  CHECK_STATUS(zn_labels_load(p, &labels), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("not a text file");
  remove(p);

  p = write_temp("empty", "", 0);
  CHECK_STATUS(zn_labels_load(p, &labels), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("empty");
  remove(p);

  CHECK_STATUS(zn_labels_load("/nonexistent/labels.txt", &labels), ZN_ERR_IO);
  CHECK_ERROR_HAS("/nonexistent/labels.txt");
  zn_labels_destroy(NULL);
  CHECK_EQ_INT(zn_labels_count(NULL), 0);
  return 0;
}
