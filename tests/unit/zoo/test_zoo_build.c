/* The zoo without the big models, fast enough for the sanitizer run: the
 * registry, bad names, allocation failures injected one at a time, the stated
 * weight init, exact seed reproducibility, and the full structural checks of
 * MobileNet-V1/V2, ResNet-18 and SqueezeNet 1.1. */
#include <limits.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "zoo_checks.h"

/* Same seed: same bytes, tensor by tensor; another seed: every random tensor differs. */
static void check_seed_exact(const char *name) {
  zn_graph *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(zn_zoo_build(name, 7, &a));
  CHECK_OK(zn_zoo_build(name, 7, &b));
  CHECK_OK(zn_zoo_build(name, 8, &c));
  if (a && b && c) {
    CHECK_EQ_INT(a->num_values, b->num_values);
    CHECK_EQ_INT(a->num_values, c->num_values);
    int same = 0, differ = 0, random = 0;
    for (int v = 0; v < a->num_values && v < b->num_values && v < c->num_values; v++) {
      if (!a->values[v].data) continue;
      CHECK_EQ_INT(a->values[v].data_bytes, b->values[v].data_bytes);
      same += memcmp(a->values[v].data, b->values[v].data, a->values[v].data_bytes) == 0;
      bool is_random = strstr(a->values[v].name, ".weight") && a->values[v].num_dims >= 2;
      random += is_random;
      if (is_random) differ += memcmp(a->values[v].data, c->values[v].data, a->values[v].data_bytes) != 0;
    }
    int consts = 0;
    for (int v = 0; v < a->num_values; v++) consts += a->values[v].data != NULL;
    CHECK_EQ_INT(same, consts);
    CHECK(random > 0);
    CHECK_EQ_INT(differ, random);
  }
  zn_graph_destroy(a);
  zn_graph_destroy(b);
  zn_graph_destroy(c);
}

static void check_registry(void) {
  CHECK_EQ_INT(zn_zoo_count(), 9);
  CHECK(zn_zoo_get(9) == NULL);
  CHECK(zn_zoo_get((size_t)-1) == NULL);
  CHECK(zn_zoo_find("nope") == NULL);
  CHECK(zn_zoo_find(NULL) == NULL);
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    const zn_zoo_entry *e = zn_zoo_find(refs[i].name);
    CHECK(e != NULL);
    if (!e) continue;
    CHECK(e == zn_zoo_get(i));
    CHECK(strcmp(e->name, refs[i].name) == 0);
    CHECK(e->display_name && e->display_name[0]);
    CHECK_EQ_INT(e->input_size, refs[i].input_size);
  }
  zn_graph *g = (zn_graph *)&g;  /* must be reset to NULL */
  CHECK_STATUS(zn_zoo_build("resnet51", 1, &g), ZN_ERR_INVALID_ARGUMENT);
  CHECK(g == NULL);
  CHECK_ERROR_HAS("resnet51");
  CHECK_ERROR_HAS("alexnet");
  CHECK_ERROR_HAS("squeezenet1_1");
  CHECK_ERROR_HAS("vgg16");
  CHECK_STATUS(zn_zoo_build(NULL, 1, &g), ZN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zn_zoo_build("resnet18", 1, NULL), ZN_ERR_INVALID_ARGUMENT);
}

/* Every failure point of a build returns ZN_ERR_OUT_OF_MEMORY with *out NULL
 * and leaks nothing (the sanitizer build checks leaks). About 60 points spread
 * over the whole build, plus the first 20. */
static void check_alloc_failures(const char *name) {
  zn_test_failing f = {0, LONG_MAX};
  zn_allocator a = {&f, zn_test_failing_alloc, zn_test_failing_free};
  zn_allocator_set(&a);
  zn_graph *g = NULL;
  zn_status st = zn_zoo_build(name, 1, &g);
  zn_allocator_set(NULL);
  CHECK_OK(st);
  zn_graph_destroy(g);
  long total = f.count;
  CHECK(total > 20);
  long step = total / 60 > 0 ? total / 60 : 1;
  int failures = 0, points = 0;
  for (long k = 0; k < total; k += k < 20 ? 1 : step) {
    f = (zn_test_failing){0, k};
    zn_allocator_set(&a);
    g = (zn_graph *)&f;
    st = zn_zoo_build(name, 1, &g);
    zn_allocator_set(NULL);
    points++;
    failures += st == ZN_ERR_OUT_OF_MEMORY && g == NULL;
    if (st == ZN_OK) zn_graph_destroy(g);
  }
  printf("  %s: %ld allocations, %d failure points, %d clean failures\n", name, total, points, failures);
  CHECK_EQ_INT(failures, points);
}

int zn_test_main(void) {
  check_registry();
  static const char *const small[] = {"mobilenet_v1", "mobilenet_v2", "resnet18", "squeezenet1_1"};
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
    const reference *r = find_reference(small[i]);
    CHECK(r != NULL);
    if (r) check_model(r, false);
  }
  check_seed_exact("squeezenet1_1");
  check_seed_exact("mobilenet_v2");
  check_alloc_failures("squeezenet1_1");
  return 0;
}
