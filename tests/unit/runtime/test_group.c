/* Concurrent instance groups: counts over the common window follow eq. 3.1
 * (inferences = instances x batch x batches), mixes count per model, the
 * input callback is called once per batch, failures end the window without a
 * hang, and creation errors name the instance. Never asserts a time. */
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "core/status.h"
#include "harness.h"
#include "runtime/group.h"
#include "unit/bench/tiny_model.h"

static zn_model *load_tiny(int64_t size) {
  char path[256];
  snprintf(path, sizeof path, "zn_test_group_tiny_%lld_%d.onnx", (long long)size, (int)getpid());
  if (tiny_model_write(path, size) != 0) return NULL;
  zn_model_options mo = zn_model_options_default();
  mo.backend = "ref";
  zn_model *m = NULL;
  zn_status st = zn_model_load_file(path, &mo, &m);
  remove(path);
  if (st != ZN_OK) fprintf(stderr, "load tiny model: %s\n", zn_last_error());
  return m;
}

static void check_consistent(const zn_group_result *r) {
  int64_t batches = 0;
  for (int i = 0; i < r->num_instances; i++) {
    batches += r->instances[i].batches;
    CHECK(r->instances[i].end_ns >= r->open_ns);
    CHECK(r->instances[i].end_ns <= r->close_ns);
    CHECK(r->instances[i].num_latencies <= r->instances[i].batches);
    for (int64_t k = 0; k < r->instances[i].num_latencies; k++) CHECK(r->instances[i].latencies_ns[k] > 0);
  }
  CHECK_EQ_INT(batches, r->total_batches);
  CHECK_EQ_INT(r->total_inferences, r->total_batches * r->batch);
  int64_t parts = 0;
  for (int p = 0; p < r->num_parts; p++) {
    parts += r->parts[p].inferences;
    CHECK_NEAR(r->parts[p].throughput * r->window_s, (double)r->parts[p].inferences, 1e-6 * (1 + r->parts[p].inferences));
  }
  CHECK_EQ_INT(parts, r->total_inferences);
  CHECK(r->window_s > 0);
  CHECK_NEAR(r->throughput * r->window_s, (double)r->total_inferences, 1e-6 * (1 + r->total_inferences));
}

static void test_fixed_batches(zn_model *m) {
  zn_group_part part = {m, 3};
  zn_group_options o = zn_group_options_default();
  o.batch = 2;
  zn_group *g = NULL;
  int created = -1;
  CHECK_OK(zn_group_create(&part, 1, &o, &g, &created));
  CHECK_EQ_INT(created, 3);
  CHECK_EQ_INT(zn_group_num_instances(g), 3);
  CHECK(zn_group_instance_bytes(g) > 0);
  zn_group_window w = {.warmup_batches = 1, .batches = 5};
  zn_group_result r;
  CHECK_OK(zn_group_run(g, &w, &r));
  CHECK_EQ_INT(r.num_instances, 3);
  CHECK_EQ_INT(r.total_inferences, 3 * 2 * 5); /* eq. 3.1 */
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(r.instances[i].batches, 5);
    CHECK_EQ_INT(r.instances[i].num_latencies, 5);
  }
  check_consistent(&r);
  /* a second window on the same (warm) group, no warm-up */
  w.warmup_batches = 0;
  w.batches = 2;
  CHECK_OK(zn_group_run(g, &w, &r));
  CHECK_EQ_INT(r.total_inferences, 3 * 2 * 2);
  check_consistent(&r);
  zn_group_destroy(g);
}

static void test_mix(zn_model *a, zn_model *b) {
  zn_group_part parts[2] = {{a, 2}, {b, 1}};
  zn_group *g = NULL;
  CHECK_OK(zn_group_create(parts, 2, NULL, &g, NULL));
  zn_group_window w = {.warmup_batches = 0, .batches = 4};
  zn_group_result r;
  CHECK_OK(zn_group_run(g, &w, &r));
  CHECK_EQ_INT(r.num_parts, 2);
  CHECK_EQ_INT(r.parts[0].inferences, 2 * 1 * 4);
  CHECK_EQ_INT(r.parts[1].inferences, 1 * 1 * 4);
  CHECK_EQ_INT(r.instances[0].part, 0);
  CHECK_EQ_INT(r.instances[2].part, 1);
  check_consistent(&r);
  zn_group_destroy(g);
}

static void test_duration_and_pinning(zn_model *m) {
  zn_group_part part = {m, 2};
  zn_group_options o = zn_group_options_default();
  o.pin = true; /* over all CPUs of the process, round-robin */
  zn_group *g = NULL;
  CHECK_OK(zn_group_create(&part, 1, &o, &g, NULL));
  zn_group_window w = {.warmup_batches = 2, .duration_ns = 20 * 1000 * 1000};
  zn_group_result r;
  CHECK_OK(zn_group_run(g, &w, &r));
  for (int i = 0; i < 2; i++) CHECK(r.instances[i].batches >= 1); /* each starts at least one batch */
  check_consistent(&r);
  zn_group_destroy(g);
}

typedef struct counter { atomic_int calls; int64_t fail_at; } counter;

static zn_status counting_input(void *user, int part, int instance, int64_t seq, void *const *scratch,
                                const void *const **inputs_out) {
  counter *c = user;
  atomic_fetch_add(&c->calls, 1);
  if (c->fail_at >= 0 && instance == 1 && seq == c->fail_at) return zn_error(ZN_ERR_INVALID_INPUT, "test input failure at batch %lld", (long long)seq);
  *inputs_out = (const void *const *)scratch;
  return ZN_OK;
}

static void test_input_fn_and_failure(zn_model *m) {
  counter c = {0, -1};
  zn_group_part part = {m, 2};
  zn_group_options o = zn_group_options_default();
  o.input_fn = counting_input;
  o.input_user = &c;
  zn_group *g = NULL;
  CHECK_OK(zn_group_create(&part, 1, &o, &g, NULL));
  zn_group_window w = {.warmup_batches = 1, .batches = 3};
  zn_group_result r;
  CHECK_OK(zn_group_run(g, &w, &r));
  CHECK_EQ_INT(atomic_load(&c.calls), 2 * (1 + 3)); /* once per batch, warm-up included */
  /* instance 1 fails in its window: the run fails, names it, and returns */
  c.fail_at = 5;
  w.warmup_batches = 0;
  w.batches = 50;
  CHECK_STATUS(zn_group_run(g, &w, &r), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("instance 2");
  CHECK_ERROR_HAS("test input failure");
  /* failing in the warm-up still releases the other instance */
  c.fail_at = 1 + 4 + 0; /* its next seq */
  w.warmup_batches = 3;
  w.batches = 2;
  CHECK_STATUS(zn_group_run(g, &w, &r), ZN_ERR_INVALID_INPUT);
  zn_group_destroy(g);
}

static void test_bad_arguments(zn_model *m) {
  zn_group *g = (zn_group *)1;
  CHECK_STATUS(zn_group_create(NULL, 1, NULL, &g, NULL), ZN_ERR_INVALID_ARGUMENT);
  CHECK(g == NULL);
  zn_group_part zero = {m, 0};
  CHECK_STATUS(zn_group_create(&zero, 1, NULL, &g, NULL), ZN_ERR_INVALID_ARGUMENT);
  /* an instance that cannot be created: the error says which, nothing leaks */
  zn_group_part two = {m, 2};
  zn_group_options o = zn_group_options_default();
  o.batch = (int64_t)1 << 40;
  int created = -1;
  CHECK(zn_group_create(&two, 1, &o, &g, &created) != ZN_OK);
  CHECK(g == NULL);
  CHECK_EQ_INT(created, 0);
  CHECK_ERROR_HAS("failed to create instance 1 of 2");
  zn_group_part one = {m, 1};
  CHECK_OK(zn_group_create(&one, 1, NULL, &g, NULL));
  zn_group_window bad = {.warmup_batches = 0, .batches = 0, .duration_ns = 0};
  zn_group_result r;
  CHECK_STATUS(zn_group_run(g, &bad, &r), ZN_ERR_INVALID_ARGUMENT);
  zn_group_destroy(g);
  zn_group_destroy(NULL);
}

int zn_test_main(void) {
  zn_model *a = load_tiny(8), *b = load_tiny(12);
  CHECK(a != NULL && b != NULL);
  if (!a || !b) return 1;
  test_fixed_batches(a);
  test_mix(a, b);
  test_duration_and_pinning(a);
  test_input_fn_and_failure(a);
  test_bad_arguments(a);
  zn_model_destroy(a);
  zn_model_destroy(b);
  return 0;
}
