/* The ref backend's lifecycle and arena: states (run before reshape, bad
 * batch), reshape to a new batch, results independent of the batch and
 * bit-identical run to run, arena smaller than one buffer per value,
 * unsupported dtypes refused, and BatchNormalization calibration. */
#include "test_ref_util.h"

#include <stdlib.h>

#include "backend/ref/ref.h"
#include "core/rng.h"

/* x[N,4,8,8] -> (conv3x3 -> relu) x 4 -> y */
static zn_graph *make_chain(void) {
  zn_graph *g;
  if (zn_graph_create(&g) != ZN_OK) return NULL;
  const int64_t xd[4] = {1, 4, 8, 8}, wd[4] = {4, 4, 3, 3};
  float w[144];
  int cur = rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0);
  for (int l = 0; l < 4; l++) {
    char name[16];
    rt_fill(w, 144, 100 + (uint64_t)l);
    for (int i = 0; i < 144; i++) w[i] *= 0.4f;
    snprintf(name, sizeof name, "w%d", l);
    int ins[2] = {cur, rt_const(g, name, ZN_DTYPE_FLOAT32, 4, wd, w)};
    snprintf(name, sizeof name, "c%d", l);
    int c = rt_value(g, name);
    zn_conv_attrs *a = &rt_node(g, ZN_OP_CONV, name, 2, ins, c)->attrs.conv;
    *a = (zn_conv_attrs){.num_spatial = 2, .kernel = {3, 3}, .stride = {1, 1}, .dilation = {1, 1},
                         .pad_begin = {1, 1}, .pad_end = {1, 1}, .group = 1};
    snprintf(name, sizeof name, "r%d", l);
    int r = rt_value(g, name);
    rt_node(g, ZN_OP_RELU, name, 1, &c, r);
    cur = r;
  }
  zn_graph_mark_output(g, cur);
  return zn_graph_infer_shapes(g) == ZN_OK ? g : NULL;
}

/* g compiled on ref and one 1-thread instance made (not reshaped). */
static void open_ref(const zn_graph *g, void **compiled, void **inst) {
  zn_backend_instance_options io = {1, NULL, 0, NULL};
  *compiled = *inst = NULL;
  CHECK_OK(zn_backend_ref.compile(g, NULL, compiled));
  if (*compiled) CHECK_OK(zn_backend_ref.instance_create(*compiled, &io, inst));
}

static void test_lifecycle(void) {
  zn_graph *g = make_chain();
  CHECK(g != NULL);
  if (!g) return;
  const zn_backend_ops *b = &zn_backend_ref;
  void *compiled, *inst;
  open_ref(g, &compiled, &inst);
  if (!inst) return;
  CHECK_EQ_INT(b->weight_bytes(compiled), 4 * 144 * sizeof(float));
  static float x[4 * 256], y1[4 * 256], y4[4 * 256], y4b[4 * 256];
  rt_fill(x, 4 * 256, 5);
  const void *inputs[1] = {x};
  void *out1[1] = {y1}, *out4[1] = {y4}, *out4b[1] = {y4b};
  CHECK_STATUS(b->instance_run(inst, inputs, out1), ZN_ERR_INVALID_STATE);
  CHECK_STATUS(b->instance_reshape(inst, 0), ZN_ERR_INVALID_ARGUMENT);
  CHECK_OK(b->instance_reshape(inst, 1));
  /* 7 intermediate values of 1 KiB, at most 2 live at once, plus one im2col scratch (36 x 64 floats)
   * reused by all four convs; one buffer each would be 7 KiB + 4 scratches. */
  const size_t arena1 = b->instance_arena_bytes(inst);
  CHECK_EQ_INT(arena1, 2 * 1024 + 36 * 64 * 4);
  CHECK_OK(b->instance_run(inst, inputs, out1));
  CHECK_OK(b->instance_reshape(inst, 4));
  CHECK(b->instance_arena_bytes(inst) > arena1);
  CHECK_OK(b->instance_run(inst, inputs, out4));
  CHECK_OK(b->instance_run(inst, inputs, out4b));
  CHECK(memcmp(y4, y4b, sizeof y4) == 0); /* deterministic */
  CHECK(memcmp(y1, y4, 256 * sizeof(float)) == 0); /* image 0 does not depend on the batch */
  void *nulls[1] = {NULL};
  CHECK_STATUS(b->instance_run(inst, inputs, nulls), ZN_ERR_INVALID_ARGUMENT);
  char desc[256];
  CHECK(b->describe(compiled, desc, sizeof desc) > 0);
  CHECK(strstr(desc, "ref") != NULL);
  b->instance_destroy(inst);
  b->instance_destroy(NULL);
  b->compiled_destroy(compiled);
  zn_graph_destroy(g);
}

/* An arena larger than the memory limit is refused at reshape, with both
 * sizes named: ZN_MEMORY_LIMIT_KIB, and by default the memory available. */
static void test_memory_limit(void) {
  zn_graph *g = make_chain();
  CHECK(g != NULL);
  if (!g) return;
  const zn_backend_ops *b = &zn_backend_ref;
  void *compiled, *inst;
  open_ref(g, &compiled, &inst);
  if (!inst) return;
  setenv("ZN_MEMORY_LIMIT_KIB", "4", 1); /* batch 1 needs 11 KiB */
  CHECK_STATUS(b->instance_reshape(inst, 1), ZN_ERR_OUT_OF_MEMORY);
  CHECK_ERROR_HAS("4.0 KiB allowed by ZN_MEMORY_LIMIT_KIB");
  setenv("ZN_MEMORY_LIMIT_KIB", "12", 1);
  CHECK_OK(b->instance_reshape(inst, 1));
  CHECK_STATUS(b->instance_reshape(inst, 2), ZN_ERR_OUT_OF_MEMORY);
  unsetenv("ZN_MEMORY_LIMIT_KIB");
  CHECK_OK(b->instance_reshape(inst, 2));
  b->instance_destroy(inst);
  b->compiled_destroy(compiled);
  zn_graph_destroy(g);
  /* x[1,1,1,4] -> MaxPool with an end pad of 2^34 columns -> Relu: a 64 GiB
   * intermediate (a fuzzed model planned 21 GiB this way) */
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[4] = {1, 1, 1, 4};
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0), p = rt_value(g, "p"), y = rt_value(g, "y");
  zn_pool_attrs *pa = &rt_node(g, ZN_OP_MAX_POOL, "mp", 1, &x, p)->attrs.pool;
  *pa = (zn_pool_attrs){.num_spatial = 2, .kernel = {1, 2}, .stride = {1, 1}, .dilation = {1, 1}};
  pa->pad_end[1] = (int64_t)1 << 34;
  rt_node(g, ZN_OP_RELU, "relu", 1, &p, y);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  open_ref(g, &compiled, &inst);
  if (inst) {
    CHECK_STATUS(b->instance_reshape(inst, 1), ZN_ERR_OUT_OF_MEMORY);
    CHECK_ERROR_HAS("64.0 GiB of activations, more than the");
    CHECK_ERROR_HAS("of memory available");
  }
  b->instance_destroy(inst);
  b->compiled_destroy(compiled);
  zn_graph_destroy(g);
}

static void test_unsupported(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[2] = {1, 4};
  int in = rt_input(g, "x", ZN_DTYPE_FLOAT16, 2, xd, 0), out = rt_value(g, "y");
  rt_node(g, ZN_OP_RELU, "relu16", 1, &in, out);
  zn_graph_mark_output(g, out);
  CHECK_OK(zn_graph_infer_shapes(g));
  char why[256];
  CHECK(!zn_backend_ref.supports_node(g, &g->nodes[0], why, sizeof why));
  CHECK(strstr(why, "Relu is not implemented for inputs (float16) -> float16") != NULL);
  void *compiled = (void *)1;
  CHECK_STATUS(zn_backend_ref.compile(g, NULL, &compiled), ZN_ERR_UNSUPPORTED_OP);
  CHECK_ERROR_HAS("relu16");
  CHECK_ERROR_HAS("float16");
  CHECK(compiled == NULL);
  zn_graph_destroy(g);
}

/* x -> conv (weights x 10, so activations are far from unit scale) -> bn -> y */
static zn_graph *make_bn_graph(void) {
  zn_graph *g;
  if (zn_graph_create(&g) != ZN_OK) return NULL;
  const int64_t xd[4] = {1, 3, 6, 6}, wd[4] = {5, 3, 3, 3}, c5 = 5;
  float w[135], ones[5] = {1, 1, 1, 1, 1}, zeros[5] = {0};
  rt_fill(w, 135, 77);
  for (int i = 0; i < 135; i++) w[i] = w[i] * 10.0f + 3.0f;
  int ins[2] = {rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0), rt_const(g, "w", ZN_DTYPE_FLOAT32, 4, wd, w)};
  int c = rt_value(g, "c");
  *(&rt_node(g, ZN_OP_CONV, "conv", 2, ins, c)->attrs.conv) =
      (zn_conv_attrs){.num_spatial = 2, .kernel = {3, 3}, .stride = {1, 1}, .dilation = {1, 1}, .pad_begin = {1, 1},
                      .pad_end = {1, 1}, .group = 1};
  int bins[5] = {c, rt_const(g, "scale", ZN_DTYPE_FLOAT32, 1, &c5, ones),
                 rt_const(g, "bias", ZN_DTYPE_FLOAT32, 1, &c5, zeros),
                 rt_const(g, "mean", ZN_DTYPE_FLOAT32, 1, &c5, zeros),
                 rt_const(g, "var", ZN_DTYPE_FLOAT32, 1, &c5, ones)};
  int y = rt_value(g, "y");
  rt_node(g, ZN_OP_BATCH_NORM, "bn", 5, bins, y)->attrs.batch_norm.epsilon = 1e-5f;
  zn_graph_mark_output(g, y);
  return zn_graph_infer_shapes(g) == ZN_OK ? g : NULL;
}

static void test_calibrate(void) {
  zn_graph *g = make_bn_graph(), *g2 = make_bn_graph();
  CHECK(g && g2);
  if (!g || !g2) return;
  CHECK_OK(zn_ref_calibrate_batch_norm(g, 4, 1234));
  CHECK_OK(zn_ref_calibrate_batch_norm(g2, 4, 1234));
  const zn_value *m = &g->values[zn_graph_find_value(g, "mean")], *v = &g->values[zn_graph_find_value(g, "var")];
  const zn_value *m2 = &g2->values[zn_graph_find_value(g2, "mean")];
  CHECK(memcmp(m->data, m2->data, 5 * sizeof(float)) == 0); /* deterministic */
  CHECK(fabsf(((const float *)m->data)[0]) > 1.0f);          /* the input really was off-centre */
  CHECK(((const float *)v->data)[0] > 10.0f);
  /* Running the calibration input again gives per-channel mean 0, variance 1. */
  static float x[4 * 3 * 36], y[4 * 5 * 36];
  zn_rng rng;
  zn_rng_init(&rng, 1234);
  for (int i = 0; i < 4 * 3 * 36; i++) x[i] = zn_rng_normal(&rng);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 4, inputs, outputs));
  for (int c = 0; c < 5; c++) {
    double s = 0, ss = 0;
    for (int n = 0; n < 4; n++)
      for (int p = 0; p < 36; p++) s += y[(n * 5 + c) * 36 + p];
    const double mean = s / 144;
    for (int n = 0; n < 4; n++)
      for (int p = 0; p < 36; p++) ss += (y[(n * 5 + c) * 36 + p] - mean) * (y[(n * 5 + c) * 36 + p] - mean);
    CHECK_NEAR(mean, 0.0, 1e-4);
    CHECK_NEAR(ss / 144, 1.0, 1e-3);
  }
  zn_graph_destroy(g);
  zn_graph_destroy(g2);
}

int zn_test_main(void) {
  test_lifecycle();
  test_unsupported();
  test_memory_limit();
  test_calibrate();
  return 0;
}
