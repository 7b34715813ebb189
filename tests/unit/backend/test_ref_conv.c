/* ref Conv (im2col tiles + GEMM) against a direct convolution written as
 * plain nested loops: 1-3 spatial dims, stride 2, dilation 2, asymmetric
 * pads, depthwise, group 2, 1x1 direct path, outputs wider than one tile,
 * batch 2, bias + residual + activation fusion. */
#include "test_ref_util.h"

#include <stdlib.h>

typedef struct conv_case {
  const char *name;
  int ns;
  int64_t C, M, group;
  int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
  bool bias, residual;
  zn_act act;
} conv_case;

static int64_t out_dim(const conv_case *c, int i) {
  return (c->in[i] + c->pb[i] + c->pe[i] - c->d[i] * (c->k[i] - 1) - 1) / c->s[i] + 1;
}

/* Direct convolution; spatial dims beyond ns are size 1. */
static void direct_conv(const conv_case *c, int64_t N, const float *x, const float *w, const float *b, const float *r,
                        float *y) {
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0}, o[3] = {1, 1, 1};
  for (int i = 0; i < c->ns; i++) {
    int j = 3 - c->ns + i;
    in[j] = c->in[i], k[j] = c->k[i], s[j] = c->s[i], d[j] = c->d[i], p[j] = c->pb[i], o[j] = out_dim(c, i);
  }
  const int64_t Cg = c->C / c->group, Mg = c->M / c->group;
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < c->M; m++)
      for (int64_t o0 = 0; o0 < o[0]; o0++)
        for (int64_t o1 = 0; o1 < o[1]; o1++)
          for (int64_t o2 = 0; o2 < o[2]; o2++) {
            float acc = b ? b[m] : 0.0f;
            const int64_t g = m / Mg;
            for (int64_t cc = 0; cc < Cg; cc++)
              for (int64_t a0 = 0; a0 < k[0]; a0++)
                for (int64_t a1 = 0; a1 < k[1]; a1++)
                  for (int64_t a2 = 0; a2 < k[2]; a2++) {
                    int64_t i0 = o0 * s[0] - p[0] + a0 * d[0], i1 = o1 * s[1] - p[1] + a1 * d[1],
                            i2 = o2 * s[2] - p[2] + a2 * d[2];
                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2]) continue;
                    float xv = x[(((n * c->C + g * Cg + cc) * in[0] + i0) * in[1] + i1) * in[2] + i2];
                    float wv = w[(((m * Cg + cc) * k[0] + a0) * k[1] + a1) * k[2] + a2];
                    acc += xv * wv;
                  }
            int64_t yi = (((n * c->M + m) * o[0] + o0) * o[1] + o1) * o[2] + o2;
            if (r) acc += r[yi];
            switch (c->act.kind) {
            case ZN_ACT_RELU: acc = acc > 0 ? acc : 0; break;
            case ZN_ACT_CLIP: acc = acc < c->act.alpha ? c->act.alpha : acc > c->act.beta ? c->act.beta : acc; break;
            default: break;
            }
            y[yi] = acc;
          }
}

static void run_case(const conv_case *c, int64_t batch) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[5] = {1, c->C}, wd[5] = {c->M, c->C / c->group}, yd[5] = {batch, c->M};
  int64_t xn = batch * c->C, wn = c->M * (c->C / c->group), yn = batch * c->M;
  for (int i = 0; i < c->ns; i++) {
    xd[2 + i] = c->in[i], wd[2 + i] = c->k[i], yd[2 + i] = out_dim(c, i);
    xn *= c->in[i], wn *= c->k[i], yn *= yd[2 + i];
  }
  float *x = malloc((size_t)xn * 4), *w = malloc((size_t)wn * 4), *b = malloc((size_t)c->M * 4);
  float *r = malloc((size_t)yn * 4), *y = malloc((size_t)yn * 4), *want = malloc((size_t)yn * 4);
  rt_fill(x, xn, 1), rt_fill(w, wn, 2), rt_fill(b, c->M, 3), rt_fill(r, yn, 4);
  int ins[4];
  ins[0] = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2 + c->ns, xd, 0);
  ins[1] = rt_const(g, "w", ZN_DTYPE_FLOAT32, 2 + c->ns, wd, w);
  ins[2] = c->bias ? rt_const(g, "b", ZN_DTYPE_FLOAT32, 1, &c->M, b) : ZN_NO_VALUE;
  int nin = 3;
  if (c->residual) {
    int64_t rd[5];
    memcpy(rd, yd, sizeof rd);
    rd[0] = 1;
    ins[3] = rt_input(g, "r", ZN_DTYPE_FLOAT32, 2 + c->ns, rd, 0);
    nin = 4;
  }
  int out = rt_value(g, "y");
  zn_node *n = rt_node(g, ZN_OP_CONV, "conv", nin, ins, out);
  zn_conv_attrs *a = &n->attrs.conv;
  a->num_spatial = c->ns;
  a->group = c->group;
  a->act = c->act;
  for (int i = 0; i < c->ns; i++) {
    a->kernel[i] = c->k[i], a->stride[i] = c->s[i], a->dilation[i] = c->d[i];
    a->pad_begin[i] = c->pb[i], a->pad_end[i] = c->pe[i];
  }
  zn_graph_mark_output(g, out);
  const void *inputs[2] = {x, r};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, batch, inputs, outputs));
  CHECK_EQ_INT(g->values[out].dims[1], c->M);
  direct_conv(c, batch, x, w, c->bias ? b : NULL, c->residual ? r : NULL, want);
  char what[96];
  snprintf(what, sizeof what, "conv %s batch %lld", c->name, (long long)batch);
  rt_check_close(what, y, want, yn, 1e-5f);
  zn_graph_destroy(g);
  free(x), free(w), free(b), free(r), free(y), free(want);
}

int zn_test_main(void) {
  const zn_act none = {ZN_ACT_NONE, 0, 0}, relu = {ZN_ACT_RELU, 0, 0}, clip6 = {ZN_ACT_CLIP, 0.0f, 0.5f};
  const conv_case cases[] = {
      {"3x3 pad 1", 2, 3, 4, 1, {7, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, false, none},
      {"stride 2 asym pads", 2, 3, 5, 1, {9, 8}, {3, 2}, {2, 2}, {1, 1}, {0, 1}, {2, 0}, true, false, none},
      {"dilation 2", 2, 2, 3, 1, {10, 9}, {3, 3}, {1, 2}, {2, 2}, {2, 1}, {2, 3}, false, false, none},
      {"depthwise s2", 2, 6, 6, 6, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, false, relu},
      {"depthwise multiplier 2", 2, 3, 6, 3, {5, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, false, none},
      {"group 2", 2, 4, 6, 2, {6, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, false, none},
      {"1x1 direct, > 1 tile", 2, 5, 7, 1, {20, 21}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true, false, none},
      {"1x1 stride 2", 2, 4, 3, 1, {7, 7}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, false, false, none},
      {"3x3 > 1 tile", 2, 3, 5, 1, {19, 23}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, false, none},
      {"7x7 s2 p3", 2, 3, 4, 1, {23, 23}, {7, 7}, {2, 2}, {1, 1}, {3, 3}, {3, 3}, true, false, relu},
      {"residual + relu", 2, 4, 4, 1, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, true, relu},
      {"residual + clip", 2, 4, 8, 2, {5, 5}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true, true, clip6},
      {"1-D", 1, 3, 4, 1, {17}, {5}, {2}, {2}, {3}, {1}, true, false, none},
      {"3-D", 3, 2, 3, 1, {5, 6, 4}, {3, 2, 3}, {2, 1, 1}, {1, 2, 1}, {1, 0, 1}, {1, 1, 0}, true, false, none},
      {"3-D depthwise", 3, 4, 4, 4, {4, 5, 5}, {3, 3, 3}, {1, 2, 1}, {1, 1, 2}, {1, 1, 2}, {1, 1, 2}, false, false, none},
      {"kernel larger than input (padded)", 2, 2, 2, 1, {2, 2}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, false, none},
  };
  for (size_t i = 0; i < ZN_ARRAY_SIZE(cases); i++) {
    run_case(&cases[i], 1);
    run_case(&cases[i], 2);
  }
  return 0;
}
