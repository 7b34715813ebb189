/* onednn backend, own 1x1 conv step (conv1x1.c) forced on every eligible conv
 * (ZN_ONEDNN_OWN_1X1=force) against the ref oracle: rows N*H*W with and
 * without a remainder of the 6-row tile (1, 3, 12, 25, 49, 75, 147, 196,
 * 529, 588), input channels not multiples of 16 (3, 20, 36, 40: the
 * intrinsics path where IC % 8 != 0), 64 to 256 output channels, no / ReLU /
 * Clip activation, no residual, a residual added in place and one read from
 * its own buffer, batch 1 and 3, 1 and 2 threads (output-channel and pixel
 * split; with and without a switch to the 1-thread set mid-run); a 1x1 conv
 * writing a concat's channel slice. Stated tolerance: max relative error
 * 1e-5. describe() counts the convs; the switch off and the size rule. */
#include <stdlib.h>

#include "backend_test.h"

#include "backend/onednn/onednn.h"

#define TOL 1e-5

static bool have_kernel(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

/* x -> c1: 1x1 ic->oc (+bias when bias) + act -> a -> c2: 1x1 oc->oc + bias + act -> b; res >= 1: -> c3: 1x1
 * oc->oc + residual a + act -> y (in place over a); res == 2: -> c4: 1x1 reading a again + residual y -> z (c3 then
 * reads a from its own buffer; c4 adds y in place). Own 1x1 convs: 2, 3 or 4. */
static zn_graph *chain_graph(int64_t ic, int64_t oc, int64_t h, int64_t w, zn_act act, int res, bool bias) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, ic, h, w}, w1[4] = {oc, ic, 1, 1}, w2[4] = {oc, oc, 1, 1}, bd[1] = {oc};
  int x = bt_input(g, "x", 4, xd), a, b, y, z;
  int i1[3] = {x, bt_const(g, "w1", 4, w1, 31, -0.4f, 0.4f), bias ? bt_const(g, "b1", 1, bd, 32, -0.5f, 0.5f) : 0};
  bt_conv1x1(g, "c1", bias ? 3 : 2, i1, "a", &a, act);
  int i2[3] = {a, bt_const(g, "w2", 4, w2, 33, -0.15f, 0.15f), bt_const(g, "b2", 1, bd, 34, -0.5f, 0.5f)};
  bt_conv1x1(g, "c2", 3, i2, "b", &b, act);
  if (res == 0) {
    zn_graph_mark_output(g, b);
    return g;
  }
  int i3[4] = {b, bt_const(g, "w3", 4, w2, 35, -0.15f, 0.15f), bt_const(g, "b3", 1, bd, 36, -0.5f, 0.5f), a};
  bt_conv1x1(g, "c3", 4, i3, "y", &y, act);
  if (res == 1) {
    zn_graph_mark_output(g, y);
    return g;
  }
  int i4[4] = {a, bt_const(g, "w4", 4, w2, 37, -0.15f, 0.15f), ZN_NO_VALUE, y};
  bt_conv1x1(g, "c4", 4, i4, "z", &z, bt_act(ZN_ACT_RELU, 0, 0));
  zn_graph_mark_output(g, z);
  return g;
}

/* x -> two 1x1 convs (ic -> 64, ic -> 128) -> channel concat -> output: both write their slice (zero-copy). */
static zn_graph *concat_graph(int64_t ic, int64_t s) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, ic, s, s}, w1[4] = {64, ic, 1, 1}, w2[4] = {128, ic, 1, 1}, b1[1] = {64}, b2[1] = {128};
  int x = bt_input(g, "x", 4, xd), a, b, y;
  int i1[3] = {x, bt_const(g, "w1", 4, w1, 41, -0.4f, 0.4f), bt_const(g, "b1", 1, b1, 42, -0.5f, 0.5f)};
  bt_conv1x1(g, "c1", 3, i1, "a", &a, bt_act(ZN_ACT_RELU, 0, 0));
  int i2[3] = {x, bt_const(g, "w2", 4, w2, 43, -0.4f, 0.4f), bt_const(g, "b2", 1, b2, 44, -0.5f, 0.5f)};
  bt_conv1x1(g, "c2", 3, i2, "b", &b, bt_act(ZN_ACT_NONE, 0, 0));
  int ins[2] = {a, b};
  bt_node(g, ZN_OP_CONCAT, "cat", 2, ins, "y", &y)->attrs.axis.axis = 1;
  zn_graph_mark_output(g, y);
  return g;
}

/* Compile g with t; run at batch on threads (set / switch_step as zn_onednn_instance_force) against ref; the worst
 * max relative error of the outputs; describe into text and the first own 1x1 step's profile kernel into kernel. */
static double run_err(const zn_graph *g, const odn_tuning *t, int64_t batch, int threads, int set, int switch_step,
                      char *text, size_t text_size, char *kernel, size_t kernel_size) {
  const zn_backend_ops *be = &zn_backend_onednn;
  bt_io a = {0}, r = {0};
  void *compiled = NULL, *inst = NULL;
  double worst = INFINITY;
  zn_backend_instance_options iopt = {threads, NULL, 0, NULL};
  text[0] = kernel[0] = 0;
  if (!bt_io_init(&a, g, batch, 7) || !bt_io_init(&r, g, batch, 7) ||
      bt_run(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, &r) != ZN_OK)
    goto done;
  if (zn_onednn_compile_tuned(g, NULL, t, &compiled) != ZN_OK || be->instance_create(compiled, &iopt, &inst) != ZN_OK)
    goto done;
  zn_onednn_instance_force(inst, set, switch_step);
  int64_t step_ns[64];
  if (be->instance_reshape(inst, batch) != ZN_OK || be->instance_num_steps(inst) > 64 ||
      be->instance_run_profiled(inst, (const void *const *)a.in, (void *const *)a.out, step_ns) != ZN_OK)
    goto done;
  be->describe(compiled, text, text_size);
  for (int i = 0; i < be->instance_num_steps(inst); i++) {
    zn_backend_step st;
    be->instance_step(inst, i, &st);
    if (strstr(st.kernel, "own 1x1")) {
      snprintf(kernel, kernel_size, "%s", st.kernel);
      break;
    }
  }
  worst = 0;
  for (int i = 0; i < a.num_out; i++) {
    double e = bt_rel_err(a.out[i], r.out[i], a.out_count[i]);
    if (e > worst) worst = e;
  }
done:
  if (!(worst < INFINITY)) fprintf(stderr, "own 1x1: run failed: %s\n", zn_last_error());
  if (inst) be->instance_destroy(inst);
  if (compiled) be->compiled_destroy(compiled);
  bt_io_deinit(&a);
  bt_io_deinit(&r);
  return worst;
}

static int count_of(const char *text) {
  const char *at = strstr(text, "own 1x1 (");
  at = at ? strstr(at, "): ") : NULL;
  int n = -1;
  if (!at || sscanf(at + 3, "%d", &n) != 1) return -1;
  return n;
}

static void test_forced(void) {
  static const struct { int64_t ic, oc, h, w; } cases[] = {
      {20, 64, 1, 1}, {40, 64, 5, 5}, {36, 256, 7, 7}, {3, 128, 4, 3}, {64, 256, 14, 14}, {24, 64, 23, 23}};
  const zn_act acts[3] = {bt_act(ZN_ACT_NONE, 0, 0), bt_act(ZN_ACT_RELU, 0, 0), bt_act(ZN_ACT_CLIP, -0.5f, 0.7f)};
  const odn_tuning force = {ODN_BF16_DEFAULT_F32, 0, 0, 0, 0, true, true, true, 2, true};
  const int expect = have_kernel() ? 1 : 0;
  char text[8192], kernel[160];
  double worst = 0;
  for (size_t ck = 0; ck < ZN_ARRAY_SIZE(cases); ck++)
    for (int res = 0; res <= 2; res++) {
      zn_graph *g = chain_graph(cases[ck].ic, cases[ck].oc, cases[ck].h, cases[ck].w, acts[(ck + (size_t)res) % 3], res,
                                ck % 2 == 0);
      CHECK_OK(zn_graph_infer_shapes(g));
      for (int64_t b = 1; b <= 3; b += 2)
        for (int t = 1; t <= 2; t++)
          for (int sw = 0; sw <= (t == 2); sw++) {
            double e = run_err(g, &force, b, t, t - 1, sw ? 2 : -1, text, sizeof text, kernel, sizeof kernel);
            if (!(e <= TOL))
              fprintf(stderr, "own 1x1 case %zu residual %d batch %lld threads %d switch %d: max relative error %.3g\n",
                      ck, res, (long long)b, t, sw, e);
            CHECK(e <= TOL);
            if (e > worst) worst = e;
            CHECK_EQ_INT(count_of(text), expect * (2 + res));
            CHECK((strstr(text, "in place") != NULL) == (res > 0));
            CHECK((strstr(text, "zenith:1x1+prefetch") != NULL) == (expect == 1));
            CHECK((strstr(kernel, "own 1x1 (avx512 6x64 + weight prefetch") != NULL) == (expect == 1));
            if (expect && t == 2 && !sw) {
              /* c1's split: weight blocks below ODN_OWN_1X1_PIXEL_SPLIT_ROWS rows (when there are 2 blocks) */
              int64_t rows = b * cases[ck].h * cases[ck].w;
              bool oc = cases[ck].oc / 64 >= 2 && (rows < ODN_OWN_1X1_PIXEL_SPLIT_ROWS || rows < 12);
              CHECK(strstr(kernel, oc ? "output-channel split" : "pixel split") != NULL);
            }
          }
      zn_graph_destroy(g);
    }
  fprintf(stderr, "own 1x1: %zu shapes x 3 residual modes, batch 1 and 3, 1 and 2 threads: max relative error %.3g "
          "(tolerance %g)\n", ZN_ARRAY_SIZE(cases), worst, TOL);
}

static void test_concat_slice(void) {
  const odn_tuning force = {ODN_BF16_DEFAULT_F32, 0, 0, 0, 0, true, true, true, 2, true};
  char text[8192], kernel[160];
  zn_graph *g = concat_graph(40, 9);
  CHECK_OK(zn_graph_infer_shapes(g));
  for (int64_t b = 1; b <= 3; b += 2)
    for (int t = 1; t <= 2; t++) {
      double e = run_err(g, &force, b, t, t - 1, t == 2 ? 2 : -1, text, sizeof text, kernel, sizeof kernel);
      if (!(e <= TOL)) fprintf(stderr, "own 1x1 concat slice batch %lld threads %d: %.3g\n", (long long)b, t, e);
      CHECK(e <= TOL);
      if (have_kernel()) {
        CHECK_EQ_INT(count_of(text), 2);
        CHECK(strstr(text, "1x1 convs as matmul): on, 1 concats") != NULL);
      }
    }
  zn_graph_destroy(g);
}

static int described_count(const zn_graph *g) {
  void *compiled = NULL;
  char text[8192] = "";
  CHECK_OK(zn_backend_onednn.compile(g, NULL, &compiled));
  if (!compiled) return -1;
  zn_backend_onednn.describe(compiled, text, sizeof text);
  zn_backend_onednn.compiled_destroy(compiled);
  return count_of(text);
}

/* The switch through the environment: force, 0 and the default size rule
 * (512 -> 512 at 14x14: 1 MiB of weights, 196 rows, taken; 40 -> 64: not). */
static void test_switch(void) {
  const int expect = have_kernel() ? 1 : 0;
  zn_graph *small = chain_graph(40, 64, 5, 5, bt_act(ZN_ACT_RELU, 0, 0), 1, true);
  zn_graph *big = chain_graph(512, 512, 14, 14, bt_act(ZN_ACT_RELU, 0, 0), 0, true);
  zn_graph *big_rows = chain_graph(512, 512, 29, 29, bt_act(ZN_ACT_RELU, 0, 0), 0, true);  /* 841 rows > 784 */
  CHECK_OK(zn_graph_infer_shapes(small));
  CHECK_OK(zn_graph_infer_shapes(big));
  CHECK_OK(zn_graph_infer_shapes(big_rows));
  setenv("ZN_ONEDNN_OWN_1X1", "force", 1);
  CHECK_EQ_INT(described_count(small), 3 * expect);
  setenv("ZN_ONEDNN_OWN_1X1", "0", 1);
  CHECK_EQ_INT(described_count(small), 0);
  CHECK_EQ_INT(described_count(big), 0);
  setenv("ZN_ONEDNN_OWN_1X1", "1", 1);
  CHECK_EQ_INT(described_count(small), 0);
  CHECK_EQ_INT(described_count(big), 2 * expect);  /* c1 512 -> 512 and c2 */
  CHECK_EQ_INT(described_count(big_rows), 0);
  unsetenv("ZN_ONEDNN_OWN_1X1");
  bt_compare(&zn_backend_onednn, "own 1x1, default switch, 512 -> 512", big, 1, ZN_PRECISION_FP32, 2, TOL);
  zn_graph_destroy(small);
  zn_graph_destroy(big);
  zn_graph_destroy(big_rows);
}

int zn_test_main(void) {
  test_forced();
  test_concat_slice();
  test_switch();
  return 0;
}
