/* Checks shared by the zoo tests: the reference figures of shared/MODELS.md,
 * an independent count of parameters and MACs from an inferred graph, and the
 * structural checks each model must pass. Static functions: include once per
 * test executable. */
#ifndef ZN_TEST_ZOO_CHECKS_H
#define ZN_TEST_ZOO_CHECKS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "harness.h"
#include "zoo/zoo.h"

typedef struct reference {
  const char *name;
  int input_size;
  int64_t num_params;       /* shared/MODELS.md */
  double gmacs;             /* shared/MODELS.md, 3 decimals */
} reference;

static const reference refs[] = {
    {"alexnet", 224, 61100840, 0.714},      {"densenet161", 224, 28681000, 7.728},
    {"inception_v3", 299, 23834568, 5.713}, {"mobilenet_v1", 224, 4231976, 0.569},
    {"mobilenet_v2", 224, 3504872, 0.301},  {"resnet18", 224, 11689512, 1.814},
    {"resnet50", 224, 25557032, 4.089},     {"squeezenet1_1", 224, 1235496, 0.349},
    {"vgg16", 224, 138357544, 15.470},
};

static int64_t elems(const zn_value *v) {
  int64_t n = -1;
  if (!zn_value_num_elements(v, 1, &n)) return -1;
  return n;
}

static const zn_value *input_value(const zn_graph *g, const zn_node *n, int k) {
  int id = zn_node_input(n, k);
  return id >= 0 ? &g->values[id] : NULL;
}

/* Parameters and MACs per image counted independently of the builder, from the
 * graph's constants and inferred shapes (MODELS.md's definitions). */
static void count_graph(const zn_graph *g, int64_t *params_out, int64_t *macs_out) {
  int64_t params = 0, macs = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    const zn_value *out = &g->values[n->outputs[0]];
    if (n->op == ZN_OP_CONV || n->op == ZN_OP_GEMM) {
      const zn_value *w = input_value(g, n, 1);
      params += elems(w);
      if (n->num_inputs > 2 && input_value(g, n, 2)) params += elems(input_value(g, n, 2));
      if (n->op == ZN_OP_CONV)
        macs += elems(out) * (elems(w) / w->dims[0]);         /* each output: Cin/g * kh * kw */
      else
        macs += elems(out) * w->dims[1];                       /* transB: W is [out, in] */
    } else if (n->op == ZN_OP_BATCH_NORM) {
      params += elems(input_value(g, n, 1)) + elems(input_value(g, n, 2));
    }
  }
  *params_out = params;
  *macs_out = macs;
}

/* FNV-1a over every constant's bytes, in value order. */
static uint64_t weights_hash(const zn_graph *g) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int v = 0; v < g->num_values; v++) {
    const unsigned char *p = g->values[v].data;
    for (size_t i = 0; p && i < g->values[v].data_bytes; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  }
  return h;
}

static bool op_allowed(zn_op op) {
  switch (op) {
  case ZN_OP_CONV: case ZN_OP_BATCH_NORM: case ZN_OP_RELU: case ZN_OP_CLIP: case ZN_OP_MAX_POOL:
  case ZN_OP_AVERAGE_POOL: case ZN_OP_CONCAT: case ZN_OP_ADD: case ZN_OP_GLOBAL_AVERAGE_POOL:
  case ZN_OP_FLATTEN: case ZN_OP_GEMM:
    return true;
  default:
    return false;
  }
}

static const zn_node *find_node(const zn_graph *g, const char *name) {
  for (int i = 0; i < g->num_nodes; i++)
    if (strcmp(g->nodes[i].name, name) == 0) return &g->nodes[i];
  return NULL;
}

/* Checks every model shares: ops, names, attributes, ends of the graph. */
static void check_common(const zn_graph *g, const reference *r) {
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    CHECK(op_allowed(n->op));
    CHECK(n->name[0] != '\0');
    if (n->op == ZN_OP_GEMM) {
      CHECK(n->attrs.gemm.trans_b && !n->attrs.gemm.trans_a);
      CHECK(n->attrs.gemm.alpha == 1.0f && n->attrs.gemm.beta == 1.0f);
    }
    if (n->op == ZN_OP_CONV) {
      CHECK_EQ_INT(n->attrs.conv.num_spatial, 2);
      CHECK(n->attrs.conv.dilation[0] == 1 && n->attrs.conv.dilation[1] == 1);
      CHECK_EQ_INT(n->attrs.conv.act.kind, ZN_ACT_NONE);
    }
    if (n->op == ZN_OP_CONCAT || n->op == ZN_OP_FLATTEN) CHECK_EQ_INT(n->attrs.axis.axis, 1);
    if (n->op == ZN_OP_BATCH_NORM)
      CHECK_NEAR(n->attrs.batch_norm.epsilon, strcmp(r->name, "inception_v3") == 0 ? 1e-3 : 1e-5, 1e-9);
  }
  /* Node names are unique (they are module paths). */
  int dup = 0;
  for (int i = 0; i < g->num_nodes && g->num_nodes < 2000; i++)
    for (int j = i + 1; j < g->num_nodes; j++) dup += strcmp(g->nodes[i].name, g->nodes[j].name) == 0;
  CHECK_EQ_INT(dup, 0);

  CHECK_EQ_INT(g->num_inputs, 1);
  CHECK_EQ_INT(g->num_outputs, 1);
  if (g->num_inputs != 1 || g->num_outputs != 1) return;
  const zn_value *in = &g->values[g->inputs[0]];
  CHECK(strcmp(in->name, "input") == 0);
  CHECK_EQ_INT(in->dtype, ZN_DTYPE_FLOAT32);
  CHECK_EQ_INT(in->num_dims, 4);
  CHECK_EQ_INT(in->batch_axis, 0);
  CHECK_EQ_INT(in->dims[0], 1);
  CHECK_EQ_INT(in->dims[1], 3);
  CHECK_EQ_INT(in->dims[2], r->input_size);
  CHECK_EQ_INT(in->dims[3], r->input_size);
  const zn_value *out = &g->values[g->outputs[0]];
  char buf[64];
  printf("  %s: %d nodes, %d values, input %s", r->name, g->num_nodes, g->num_values,
         zn_value_shape_str(in, buf, sizeof buf));
  printf(" -> %s %s\n", out->name, zn_value_shape_str(out, buf, sizeof buf));
  CHECK(strcmp(out->name, "logits") == 0);
  CHECK_EQ_INT(out->dtype, ZN_DTYPE_FLOAT32);
  CHECK_EQ_INT(out->num_dims, 2);
  CHECK_EQ_INT(out->batch_axis, 0);   /* the batch survives: [N,1000] */
  CHECK_EQ_INT(out->dims[0], 1);
  CHECK_EQ_INT(out->dims[1], 1000);
  CHECK(!g->static_batch);
}

/* Model-specific structure the brief and torchvision fix. */
static void check_specific(const zn_graph *g, const reference *r) {
  int count[ZN_OP_COUNT] = {0};
  for (int i = 0; i < g->num_nodes; i++) count[g->nodes[i].op]++;
  const zn_node *n;
  if (strcmp(r->name, "mobilenet_v2") == 0) {
    CHECK_EQ_INT(count[ZN_OP_CLIP], 35);  /* stem + 16 x (expand, dw) - 1 (t=1 block) + last 1x1 */
    CHECK_EQ_INT(count[ZN_OP_RELU], 0);
    CHECK_EQ_INT(count[ZN_OP_ADD], 10);
    CHECK((n = find_node(g, "features.0.2")) && n->op == ZN_OP_CLIP && n->attrs.act.kind == ZN_ACT_CLIP &&
          n->attrs.act.alpha == 0.0f && n->attrs.act.beta == 6.0f);
    CHECK((n = find_node(g, "features.2.conv.1.0")) && n->op == ZN_OP_CONV && n->attrs.conv.group == 96 &&
          n->attrs.conv.stride[0] == 2);
  } else if (strcmp(r->name, "mobilenet_v1") == 0) {
    CHECK_EQ_INT(count[ZN_OP_CONV], 27);
    CHECK_EQ_INT(count[ZN_OP_GEMM], 1);   /* 28 weight layers */
    CHECK_EQ_INT(count[ZN_OP_BATCH_NORM], 27);
    CHECK_EQ_INT(count[ZN_OP_RELU], 27);
    CHECK((n = find_node(g, "features.13.dw.conv")) && n->attrs.conv.group == 1024);
  } else if (strcmp(r->name, "squeezenet1_1") == 0) {
    CHECK_EQ_INT(count[ZN_OP_MAX_POOL], 3);
    CHECK_EQ_INT(count[ZN_OP_GEMM], 0);
    for (int i = 0; i < g->num_nodes; i++)
      if (g->nodes[i].op == ZN_OP_MAX_POOL) CHECK(g->nodes[i].attrs.pool.ceil_mode);
    CHECK((n = find_node(g, "features.12.cat")) && n->op == ZN_OP_CONCAT);
  } else if (strcmp(r->name, "inception_v3") == 0) {
    CHECK_EQ_INT(count[ZN_OP_AVERAGE_POOL], 9);
    for (int i = 0; i < g->num_nodes; i++) {
      const zn_pool_attrs *a = &g->nodes[i].attrs.pool;
      if (g->nodes[i].op == ZN_OP_AVERAGE_POOL)
        CHECK(a->kernel[0] == 3 && a->stride[0] == 1 && a->pad_begin[0] == 1 && a->pad_end[1] == 1 &&
              a->count_include_pad);
    }
    CHECK((n = find_node(g, "Mixed_6b.branch7x7_2.conv")) && n->attrs.conv.kernel[0] == 1 &&
          n->attrs.conv.kernel[1] == 7 && n->attrs.conv.pad_begin[1] == 3 && n->attrs.conv.pad_begin[0] == 0);
    const zn_value *v = &g->values[zn_graph_find_value(g, "Mixed_7c.cat")];
    CHECK(v->num_dims == 4 && v->dims[1] == 2048 && v->dims[2] == 8 && v->dims[3] == 8);
  } else if (strcmp(r->name, "densenet161") == 0) {
    /* Pre-activation BNs read a Concat or pool, not a Conv: they cannot fold. */
    int standalone = 0;
    for (int i = 0; i < g->num_nodes; i++) {
      if (g->nodes[i].op != ZN_OP_BATCH_NORM) continue;
      int p = g->values[zn_node_input(&g->nodes[i], 0)].producer;
      standalone += p < 0 || g->nodes[p].op != ZN_OP_CONV;
    }
    CHECK_EQ_INT(standalone, 78 + 3 + 1);  /* norm1 of 78 layers, 3 transitions, norm5 */
    CHECK_EQ_INT(count[ZN_OP_AVERAGE_POOL], 3);
    CHECK((n = find_node(g, "features.denseblock3.denselayer36.cat")) && n->num_inputs == 36);
    const zn_value *v = &g->values[zn_graph_find_value(g, "features.denseblock4.cat")];
    CHECK(v->num_dims == 4 && v->dims[1] == 2208 && v->dims[2] == 7);
  } else if (strcmp(r->name, "resnet50") == 0) {
    CHECK_EQ_INT(count[ZN_OP_CONV], 53);
    CHECK_EQ_INT(count[ZN_OP_ADD], 16);
    CHECK((n = find_node(g, "layer2.0.conv2")) && n->attrs.conv.stride[0] == 2);  /* v1.5 */
    CHECK((n = find_node(g, "layer2.0.conv1")) && n->attrs.conv.stride[0] == 1);
  } else if (strcmp(r->name, "resnet18") == 0) {
    CHECK_EQ_INT(count[ZN_OP_CONV], 20);
    CHECK_EQ_INT(count[ZN_OP_ADD], 8);
  } else if (strcmp(r->name, "vgg16") == 0) {
    CHECK_EQ_INT(count[ZN_OP_CONV], 13);
    CHECK_EQ_INT(count[ZN_OP_GEMM], 3);
    CHECK_EQ_INT(count[ZN_OP_MAX_POOL], 5);
  } else if (strcmp(r->name, "alexnet") == 0) {
    CHECK_EQ_INT(count[ZN_OP_CONV], 5);
    CHECK_EQ_INT(count[ZN_OP_GEMM], 3);
    const zn_value *v = &g->values[zn_graph_find_value(g, "features.12")];
    CHECK(v->num_dims == 4 && v->dims[1] == 256 && v->dims[2] == 6 && v->dims[3] == 6);
  }
}

static const float *const_data(const zn_graph *g, const char *name, int64_t *count) {
  int id = zn_graph_find_value(g, name);
  if (id < 0 || !g->values[id].data) { *count = 0; return NULL; }
  *count = (int64_t)(g->values[id].data_bytes / sizeof(float));
  return g->values[id].data;
}

static void moments(const float *p, int64_t n, double *mean, double *std) {
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < n; i++) s += p[i], s2 += (double)p[i] * p[i];
  *mean = s / (double)n;
  *std = sqrt(s2 / (double)n - *mean * *mean);
}

/* The stated init: He-normal fan_out for convs, N(0, 0.01) for FC, zero
 * biases, BN gamma 1 / beta 0 / mean 0 / var 1. */
static void check_init(const zn_graph *g) {
  int64_t n;
  double mean, std;
  const float *w = const_data(g, "layer3.0.conv2.weight", &n);  /* [256,256,3,3] */
  CHECK_EQ_INT(n, 256 * 256 * 9);
  if (w) {
    moments(w, n, &mean, &std);
    CHECK_NEAR(mean, 0.0, 0.002);
    CHECK_NEAR(std, sqrt(2.0 / (256 * 9)), 0.01 * sqrt(2.0 / (256 * 9)));
  }
  w = const_data(g, "fc.weight", &n);
  CHECK_EQ_INT(n, 512 * 1000);
  if (w) {
    moments(w, n, &mean, &std);
    CHECK_NEAR(mean, 0.0, 1e-4);
    CHECK_NEAR(std, 0.01, 1e-4);
  }
  static const struct { const char *name; float value; } fixed[] = {
      {"fc.bias", 0.0f}, {"bn1.weight", 1.0f}, {"bn1.bias", 0.0f},
      {"layer4.1.bn2.running_mean", 0.0f}, {"layer4.1.bn2.running_var", 1.0f}};
  for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) {
    w = const_data(g, fixed[k].name, &n);
    CHECK(w && n > 0);
    int64_t bad = 0;
    for (int64_t i = 0; w && i < n; i++) bad += w[i] != fixed[k].value;
    CHECK_EQ_INT(bad, 0);
  }
}

/* The graph layer's passes accept the model: BN folds into the convs except
 * DenseNet's 82 pre-activation BNs, the output stays logits [N,1000] and the
 * MACs do not change. Rewrites g. */
static void check_optimized(zn_graph *g, const reference *r, int64_t macs) {
  CHECK_OK(zn_graph_optimize(g));
  int bn = 0;
  for (int i = 0; i < g->num_nodes; i++) bn += g->nodes[i].op == ZN_OP_BATCH_NORM;
  CHECK_EQ_INT(bn, strcmp(r->name, "densenet161") == 0 ? 82 : 0);
  CHECK_EQ_INT(zn_graph_macs_per_image(g), macs);
  CHECK_EQ_INT(g->num_outputs, 1);
  if (g->num_outputs != 1) return;
  const zn_value *out = &g->values[g->outputs[0]];
  CHECK(strcmp(out->name, "logits") == 0);
  CHECK(out->num_dims == 2 && out->batch_axis == 0 && out->dims[0] == 1 && out->dims[1] == 1000);
  printf("  %-13s optimised: %d nodes, %d BatchNormalization left\n", r->name, g->num_nodes, bn);
}

/* Build r's model with seed 42 and check everything; with rebuild, also that
 * seed 42 again gives the same weight bytes and seed 43 other ones. */
static void check_model(const reference *r, bool rebuild) {
  const zn_zoo_entry *e = zn_zoo_find(r->name);
  CHECK(e != NULL);
  zn_graph *g = NULL;
  CHECK_OK(zn_zoo_build(r->name, 42, &g));
  if (!g || !e) { zn_graph_destroy(g); return; }
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  check_common(g, r);
  check_specific(g, r);
  if (strcmp(r->name, "resnet18") == 0) check_init(g);

  int64_t params, macs;
  count_graph(g, &params, &macs);
  int64_t graph_params = zn_graph_num_params(g), graph_macs = zn_graph_macs_per_image(g);
  printf("  %-13s params: zoo %lld, graph %lld, counted %lld, MODELS.md %lld\n", r->name,
         (long long)e->num_params, (long long)graph_params, (long long)params, (long long)r->num_params);
  printf("  %-13s GMACs:  zoo %.4f, graph %.4f, counted %.4f, MODELS.md %.3f\n", r->name,
         e->macs_per_image / 1e9, graph_macs / 1e9, macs / 1e9, r->gmacs);
  CHECK_EQ_INT(e->num_params, params);
  CHECK_EQ_INT(e->macs_per_image, macs);
  CHECK_EQ_INT(graph_params, params);
  CHECK_EQ_INT(graph_macs, macs);
  CHECK_NEAR((double)params, (double)r->num_params, 0.01 * (double)r->num_params);
  CHECK_NEAR(macs / 1e9, r->gmacs, 0.01 * r->gmacs);

  uint64_t h = rebuild ? weights_hash(g) : 0;
  check_optimized(g, r, macs);
  if (rebuild) {
    zn_graph_destroy(g);
    g = NULL;
    CHECK_OK(zn_zoo_build(r->name, 42, &g));
    if (g) CHECK(weights_hash(g) == h);
    zn_graph_destroy(g);
    g = NULL;
    CHECK_OK(zn_zoo_build(r->name, 43, &g));
    if (g) CHECK(weights_hash(g) != h);
  }
  zn_graph_destroy(g);
}

static inline const reference *find_reference(const char *name) {
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
    if (strcmp(refs[i].name, name) == 0) return &refs[i];
  return NULL;
}

#endif
