/* ref pooling against PyTorch-style formulas written out per window:
 * MaxPool (ceil_mode, dilation, pads where padding never wins), AveragePool
 * (count_include_pad on and off, with and without ceil_mode), global pools. */
#include "test_ref_util.h"

typedef struct pool_case {
  const char *name;
  zn_op op;
  int64_t H, W, k[2], s[2], d[2], pb[2], pe[2];
  bool ceil_mode, include_pad;
  int64_t want_oh, want_ow; /* written by hand from the definitions */
} pool_case;

static void reference(const pool_case *c, int64_t NC, const float *x, float *y) {
  for (int64_t nc = 0; nc < NC; nc++)
    for (int64_t oh = 0; oh < c->want_oh; oh++)
      for (int64_t ow = 0; ow < c->want_ow; ow++) {
        const int64_t h0 = oh * c->s[0] - c->pb[0], w0 = ow * c->s[1] - c->pb[1];
        float best = -INFINITY, sum = 0;
        int64_t valid = 0;
        for (int64_t a = 0; a < c->k[0]; a++)
          for (int64_t b = 0; b < c->k[1]; b++) {
            const int64_t h = h0 + a * c->d[0], w = w0 + b * c->d[1];
            if (h < 0 || h >= c->H || w < 0 || w >= c->W) continue;
            const float v = x[(nc * c->H + h) * c->W + w];
            best = v > best ? v : best;
            sum += v;
            valid++;
          }
        /* PyTorch: the divisor with padding counts the window clipped to the padded input. */
        const int64_t hend = ZN_MIN(h0 + c->k[0], c->H + c->pe[0]), wend = ZN_MIN(w0 + c->k[1], c->W + c->pe[1]);
        const int64_t padded = (hend - h0) * (wend - w0);
        y[(nc * c->want_oh + oh) * c->want_ow + ow] =
            c->op == ZN_OP_MAX_POOL ? best : sum / (float)(c->include_pad ? padded : valid);
      }
}

static void run_case(const pool_case *c, bool negative) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  const int64_t N = 2, C = 3, NC = N * C, xn = NC * c->H * c->W, yn = NC * c->want_oh * c->want_ow;
  float x[2 * 3 * 16 * 16], y[2 * 3 * 16 * 16], want[2 * 3 * 16 * 16];
  rt_fill(x, xn, 7);
  if (negative)
    for (int64_t i = 0; i < xn; i++) x[i] = -2.0f - fabsf(x[i]);
  int64_t xd[4] = {1, C, c->H, c->W};
  int in = rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0), out = rt_value(g, "y");
  zn_node *n = rt_node(g, c->op, "pool", 1, &in, out);
  zn_pool_attrs *a = &n->attrs.pool;
  a->num_spatial = 2;
  for (int i = 0; i < 2; i++)
    a->kernel[i] = c->k[i], a->stride[i] = c->s[i], a->dilation[i] = c->d[i], a->pad_begin[i] = c->pb[i],
    a->pad_end[i] = c->pe[i];
  a->ceil_mode = c->ceil_mode;
  a->count_include_pad = c->include_pad;
  zn_graph_mark_output(g, out);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, N, inputs, outputs));
  CHECK_EQ_INT(g->values[out].dims[2], c->want_oh);
  CHECK_EQ_INT(g->values[out].dims[3], c->want_ow);
  reference(c, NC, x, want);
  char what[96];
  snprintf(what, sizeof what, "%s%s", c->name, negative ? " (negative input)" : "");
  rt_check_close(what, y, want, yn, 1e-6f);
  zn_graph_destroy(g);
}

static void test_global(zn_op op) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 3, 5, 4};
  float x[2 * 60], y[6], want[6];
  rt_fill(x, 120, 9);
  for (int c = 0; c < 6; c++) {
    float s = 0, m = -INFINITY;
    for (int i = 0; i < 20; i++) s += x[c * 20 + i], m = x[c * 20 + i] > m ? x[c * 20 + i] : m;
    want[c] = op == ZN_OP_GLOBAL_MAX_POOL ? m : s / 20.0f;
  }
  int in = rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0), out = rt_value(g, "y");
  rt_node(g, op, "gp", 1, &in, out);
  zn_graph_mark_output(g, out);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 2, inputs, outputs));
  rt_check_close(zn_op_name(op), y, want, 6, 1e-6f);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  const pool_case cases[] = {
      /* 6x6, k3 s2: floor gives 2, ceil gives 3 (last window starts at 4, inside). */
      {"max ceil_mode", ZN_OP_MAX_POOL, 6, 6, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true, false, 3, 3},
      {"max floor", ZN_OP_MAX_POOL, 6, 6, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, false, false, 2, 2},
      /* 7x7 pad 1, k3 s2 ceil: (7+2-3)/2 = 3 exactly -> 4; the 4th starts at 5 < 8. */
      {"max pad ceil", ZN_OP_MAX_POOL, 7, 7, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, false, 4, 4},
      /* 8x9 dilation 2 pads 2/1: (8+3-5)/1+1 = 7, (9+3-5)/2+1 = 4. */
      {"max dilation", ZN_OP_MAX_POOL, 8, 9, {3, 3}, {1, 2}, {2, 2}, {2, 2}, {1, 1}, false, false, 7, 4},
      /* 5x5 k2 s2 pad 1 ceil: ceil((5+2-2)/2)+1 = 4, but window 4 would start at 6-1 = 5, inside the
       * end padding only, so it is dropped: 3. */
      {"max ceil drop", ZN_OP_MAX_POOL, 5, 5, {2, 2}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, false, 3, 3},
      {"avg include pad", ZN_OP_AVERAGE_POOL, 5, 5, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, false, true, 3, 3},
      {"avg exclude pad", ZN_OP_AVERAGE_POOL, 5, 5, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, false, false, 3, 3},
      /* 6x6 k3 s2 pad 1 ceil: ceil((6+2-3)/2)+1 = 4; the last window [5,7] is clipped to [5,6]. */
      {"avg ceil include pad", ZN_OP_AVERAGE_POOL, 6, 6, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, true, 4, 4},
      {"avg ceil exclude pad", ZN_OP_AVERAGE_POOL, 6, 6, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, false, 4, 4},
      {"avg asym pads", ZN_OP_AVERAGE_POOL, 6, 7, {2, 3}, {1, 2}, {1, 1}, {0, 2}, {1, 0}, false, true, 6, 4},
  };
  for (size_t i = 0; i < ZN_ARRAY_SIZE(cases); i++) {
    run_case(&cases[i], false);
    run_case(&cases[i], true);
  }
  test_global(ZN_OP_GLOBAL_AVERAGE_POOL);
  test_global(ZN_OP_GLOBAL_MAX_POOL);
  return 0;
}
