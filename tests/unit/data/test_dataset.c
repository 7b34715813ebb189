/* Data sets and the decode-ahead pool: folder listing (sorted, extensions
 * case-insensitive, non-images ignored), the ImageNet-val labels format and
 * its errors, synthetic noise, and loading with the skip/fail policies on the
 * sample images (truncated.jpg is the bad one), with 1 and 3 threads giving
 * identical tensors. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"
#include "harness.h"

static char tmpdir[512];

static void touch(const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void test_folder(void) {
  zn_dataset *ds = NULL;
  CHECK_OK(zn_dataset_open_folder(zn_test_source_path("tests/data/images"), &ds));
  static const char *expect[] = {"astronaut.jpg", "camera.png", "chelsea.jpg", "coffee.jpg", "rocket.jpg",
                                 "truncated.jpg"};
  CHECK_EQ_INT(ds ? ds->num_items : 0, 6);
  for (size_t i = 0; ds && i < ds->num_items && i < 6; i++) {
    CHECK(strcmp(base_name(ds->items[i].path), expect[i]) == 0);
    CHECK_EQ_INT(ds->items[i].label, -1);
  }
  CHECK(ds && ds->kind == ZN_DATASET_FOLDER);
  zn_dataset_destroy(ds);

  touch("B.JPG", "x");
  touch("a.Png", "x");
  touch("c.jpeg", "x");
  touch("d.txt", "x");
  touch("e.gif", "x");
  touch("jpg", "x");
  char sub[1024];
  snprintf(sub, sizeof sub, "%s/f.jpg", tmpdir);
  mkdir(sub, 0700);
  CHECK_OK(zn_dataset_open_folder(tmpdir, &ds));
  CHECK_EQ_INT(ds ? ds->num_items : 0, 3);
  if (ds && ds->num_items == 3) {
    CHECK(strcmp(base_name(ds->items[0].path), "B.JPG") == 0); /* byte order: 'B' < 'a' */
    CHECK(strcmp(base_name(ds->items[1].path), "a.Png") == 0);
    CHECK(strcmp(base_name(ds->items[2].path), "c.jpeg") == 0);
  }
  zn_dataset_destroy(ds);
  rmdir(sub);

  CHECK_STATUS(zn_dataset_open_folder("/nonexistent-folder", &ds), ZN_ERR_IO);
  CHECK_ERROR_HAS("/nonexistent-folder");
  CHECK(ds == NULL);
  CHECK_STATUS(zn_dataset_open_folder(zn_test_source_path("src/core"), &ds), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("no .jpg");
  zn_dataset_destroy(NULL);
}

static const char *labels_file(const char *text) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/val.txt", tmpdir);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

static void test_imagenet_val(void) {
  zn_dataset *ds = NULL;
  const char *images = zn_test_source_path("data/images");
  char folder[1024];
  snprintf(folder, sizeof folder, "%s", images);
  CHECK_OK(zn_dataset_open_imagenet_val(folder, labels_file("# file class\nchelsea.jpg 281\n\n  coffee.jpg\t967\r\n"),
                                        &ds));
  CHECK_EQ_INT(ds ? ds->num_items : 0, 2);
  if (ds && ds->num_items == 2) {
    CHECK(strcmp(base_name(ds->items[0].path), "chelsea.jpg") == 0);
    CHECK_EQ_INT(ds->items[0].label, 281);
    CHECK(strcmp(base_name(ds->items[1].path), "coffee.jpg") == 0);
    CHECK_EQ_INT(ds->items[1].label, 967);
    CHECK(ds->kind == ZN_DATASET_IMAGENET_VAL);
  }
  zn_dataset_destroy(ds);

  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, labels_file("chelsea.jpg 281\ncoffee.jpg cup\n"), &ds),
               ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("line 2");
  CHECK(ds == NULL);
  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, labels_file("chelsea.jpg 1 2\n"), &ds), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("line 1");
  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, labels_file("chelsea.jpg -3\n"), &ds), ZN_ERR_INVALID_INPUT);
  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, labels_file("../images/chelsea.jpg 3\n"), &ds),
               ZN_ERR_INVALID_INPUT);
  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, labels_file("missing.jpg 3\n"), &ds), ZN_ERR_IO);
  CHECK_ERROR_HAS("missing.jpg");
  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, labels_file("# nothing\n"), &ds), ZN_ERR_INVALID_INPUT);
  CHECK_STATUS(zn_dataset_open_imagenet_val("/nonexistent-folder", labels_file("a.jpg 1\n"), &ds), ZN_ERR_IO);
  CHECK_STATUS(zn_dataset_open_imagenet_val(folder, "/nonexistent/val.txt", &ds), ZN_ERR_IO);
  char path[1024];
  snprintf(path, sizeof path, "%s/val.txt", tmpdir);
  remove(path);
}

static void test_synthetic(void) {
  zn_dataset *ds = NULL;
  CHECK_OK(zn_dataset_open_synthetic(4, 7, &ds));
  CHECK_EQ_INT(ds ? ds->num_items : 0, 4);
  zn_dataset *none = NULL;
  CHECK_STATUS(zn_dataset_open_synthetic(0, 7, &none), ZN_ERR_INVALID_ARGUMENT);
  CHECK(none == NULL);
  zn_loader_options o = zn_loader_options_default(32);
  zn_loaded_set *set = NULL;
  CHECK_OK(zn_dataset_load(ds, &o, &set));
  CHECK_EQ_INT(set ? set->num_images : 0, 4);
  if (set && set->num_images == 4) {
    size_t n = 3 * 32 * 32;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < 4 * n; i++) {
      sum += set->data[i];
      sq += (double)set->data[i] * set->data[i];
    }
    CHECK_NEAR(sum / (4.0 * n), 0.0, 0.05);
    CHECK_NEAR(sq / (4.0 * n), 1.0, 0.05);
    CHECK(memcmp(zn_loaded_set_image(set, 0), zn_loaded_set_image(set, 1), n * sizeof(float)) != 0);
    float *again = malloc(n * sizeof(float));
    zn_dataset_synthetic_fill(7, 2, 32, again);
    CHECK(memcmp(again, zn_loaded_set_image(set, 2), n * sizeof(float)) == 0);
    zn_dataset_synthetic_fill(8, 2, 32, again);
    CHECK(memcmp(again, zn_loaded_set_image(set, 2), n * sizeof(float)) != 0);
    free(again);
    CHECK(set->paths[0] == NULL);
    CHECK_EQ_INT(set->labels[3], -1);
  }
  CHECK(zn_loaded_set_image(set, 4) == NULL);
  zn_loaded_set_destroy(set);
  zn_dataset_destroy(ds);
}

static void test_loader(void) {
  zn_dataset *ds = NULL;
  CHECK_OK(zn_dataset_open_folder(zn_test_source_path("tests/data/images"), &ds));
  if (!ds) return;
  zn_loader_options o = zn_loader_options_default(64);
  zn_loaded_set *set = NULL;

  /* fail: the run stops at truncated.jpg, named. */
  o.num_threads = 3;
  CHECK_STATUS(zn_dataset_load(ds, &o, &set), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("truncated.jpg");
  CHECK(set == NULL);

  /* skip: 5 good images in order, the bad one listed with its reason. */
  o.policy = ZN_BAD_IMAGE_SKIP;
  zn_loaded_set *set1 = NULL, *set3 = NULL;
  o.num_threads = 1;
  CHECK_OK(zn_dataset_load(ds, &o, &set1));
  o.num_threads = 3;
  CHECK_OK(zn_dataset_load(ds, &o, &set3));
  if (set1 && set3) {
    CHECK_EQ_INT(set1->num_images, 5);
    CHECK_EQ_INT(set3->num_images, 5);
    CHECK_EQ_INT(set3->num_bad, 1);
    CHECK(strcmp(base_name(set3->bad[0].path), "truncated.jpg") == 0);
    CHECK(set3->bad[0].message && strstr(set3->bad[0].message, "truncated.jpg") != NULL);
    CHECK(strcmp(base_name(set3->paths[4]), "rocket.jpg") == 0);
    size_t n = 3 * 64 * 64;
    CHECK(memcmp(set1->data, set3->data, 5 * n * sizeof(float)) == 0);
    /* The pool's tensor equals decoding + preprocessing by hand. */
    zn_image img;
    float *expect = malloc(n * sizeof(float));
    CHECK_OK(zn_image_load_file(zn_test_source_path("data/images/chelsea.jpg"), &img));
    zn_preprocess_options po = zn_preprocess_options_imagenet(64);
    CHECK_OK(zn_image_preprocess(&img, &po, expect));
    CHECK(memcmp(expect, zn_loaded_set_image(set3, 2), n * sizeof(float)) == 0);
    free(expect);
    zn_image_deinit(&img);
  }
  zn_loaded_set_destroy(set1);
  zn_loaded_set_destroy(set3);

  /* max_items and the byte cap. */
  o.max_items = 2;
  CHECK_OK(zn_dataset_load(ds, &o, &set));
  CHECK_EQ_INT(set ? set->num_images : 0, 2);
  zn_loaded_set_destroy(set);
  o.max_items = 0;
  o.max_bytes = 1000;
  CHECK_STATUS(zn_dataset_load(ds, &o, &set), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("cap");
  o.max_bytes = 0;
  o.crop_size = 0;
  CHECK_STATUS(zn_dataset_load(ds, &o, &set), ZN_ERR_INVALID_ARGUMENT);
  zn_dataset_destroy(ds);

  /* A set of only bad images is an error even with skip. */
  char path[1024];
  snprintf(path, sizeof path, "%s/bad.jpg", tmpdir);
  touch("bad.jpg", "not a jpeg");
  zn_dataset *one = NULL;
  CHECK_OK(zn_dataset_open_imagenet_val(tmpdir, labels_file("bad.jpg 1\n"), &one));
  o = zn_loader_options_default(32);
  o.policy = ZN_BAD_IMAGE_SKIP;
  CHECK_STATUS(zn_dataset_load(one, &o, &set), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("bad.jpg");
  zn_dataset_destroy(one);
  remove(path);
  zn_loaded_set_destroy(NULL);
}

int zn_test_main(void) {
  snprintf(tmpdir, sizeof tmpdir, "%s/zn_test_dataset_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) {
    fprintf(stderr, "cannot create a temporary folder\n");
    return 1;
  }
  test_folder();
  test_imagenet_val();
  test_synthetic();
  test_loader();
  static const char *files[] = {"B.JPG", "a.Png", "c.jpeg", "d.txt", "e.gif", "jpg", "val.txt"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
    remove(path);
  }
  rmdir(tmpdir);
  return 0;
}
