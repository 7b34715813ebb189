/* The zoo's layer helpers: one call adds one torchvision layer (node, output
 * value, seeded weights) and accounts its parameters and MACs, so the model
 * files read like torchvision's and the counting pass (graph == NULL) walks
 * exactly the same code as a real build. Weights are synthetic: every tensor
 * draws from its own stream seeded by (seed, tensor name), so a weight does not
 * depend on the order of construction and the same seed gives the same bytes. */
#include "zoo/layers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/status.h"

static const zn_zoo_tensor dead = {-1, 0, 0, 0};

void zn_zoo_builder_init(zn_zoo_builder *b, zn_graph *graph, uint64_t seed) {
  memset(b, 0, sizeof *b);
  b->graph = graph;
  b->seed = seed;
  b->bn_epsilon = 1e-5f;
  b->status = ZN_OK;
}

const char *zn_zoo_name(zn_zoo_builder *b, const char *fmt, ...) {
  char *buf = b->names[b->next_name];
  b->next_name = (b->next_name + 1) % (int)ZN_ARRAY_SIZE(b->names);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof b->names[0], fmt, ap);
  va_end(ap);
  /* A truncated name could collide with another: a builder bug, caught here. */
  if ((n < 0 || (size_t)n >= sizeof b->names[0]) && b->status == ZN_OK)
    b->status = zn_error(ZN_ERR_INTERNAL, "failed to name layer '%s...': name too long", buf);
  return buf;
}

static bool failed(const zn_zoo_builder *b) { return b->status != ZN_OK; }

/* Record the first failure; the message is already set by zn_error. */
static zn_zoo_tensor fail(zn_zoo_builder *b, zn_status st) {
  if (b->status == ZN_OK) b->status = st;
  return dead;
}

static bool is_4d(zn_zoo_tensor x) { return x.h > 0 && x.w > 0; }

/* ---- weights ---- */

static uint64_t name_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return h;
}

/* Box-Muller keeping both outputs of each pair (zn_rng_normal keeps one): half
 * the log/sqrt calls, which dominate building VGG-16's 138M weights. */
static void fill_normal(float *p, size_t count, float std, zn_rng *rng) {
  size_t i = 0;
  for (; i + 1 < count; i += 2) {
    double u1 = ((double)(zn_rng_u64(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0, 1] */
    double u2 = (double)(zn_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);        /* [0, 1) */
    double radius = std * sqrt(-2.0 * log(u1)), s, c;
    sincos(6.283185307179586 * u2, &s, &c);
    p[i] = (float)(radius * c);
    p[i + 1] = (float)(radius * s);
  }
  if (i < count) p[i] = std * zn_rng_normal(rng);
}

typedef enum fill_kind { FILL_NORMAL, FILL_ZEROS, FILL_ONES } fill_kind;

/* Add a float32 constant "<owner>.<suffix>" filled as asked; returns its id. */
static zn_status add_tensor(zn_zoo_builder *b, const char *owner, const char *suffix, int num_dims,
                            const int64_t *dims, fill_kind kind, float std, int *id_out) {
  char name[256];
  int n = snprintf(name, sizeof name, "%s.%s", owner, suffix);
  if (n < 0 || (size_t)n >= sizeof name)
    return zn_error(ZN_ERR_INTERNAL, "failed to add weight of '%s': name too long", owner);
  size_t count = 1;
  for (int i = 0; i < num_dims; i++)
    if (!zn_size_mul(count, (size_t)dims[i], &count))
      return zn_error(ZN_ERR_INTERNAL, "failed to add weight '%s': size overflows", name);
  size_t bytes;
  if (!zn_size_mul(count, sizeof(float), &bytes))
    return zn_error(ZN_ERR_INTERNAL, "failed to add weight '%s': size overflows", name);
  float *data = zn_alloc_aligned(bytes);
  if (!data) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add weight '%s': out of memory (%zu bytes)", name, bytes);
  if (kind == FILL_NORMAL) {
    zn_rng rng;
    zn_rng_init(&rng, b->seed);
    zn_rng_init(&rng, zn_rng_u64(&rng) ^ name_hash(name));
    fill_normal(data, count, std, &rng);
  } else {
    float v = kind == FILL_ONES ? 1.0f : 0.0f;
    for (size_t i = 0; i < count; i++) data[i] = v;
  }
  return zn_graph_add_const_owned(b->graph, name, ZN_DTYPE_FLOAT32, num_dims, dims, data, bytes, id_out);
}

/* Add a node with one fresh float32 output value named like the node. */
static zn_status add_node(zn_zoo_builder *b, zn_op op, const char *name, int num_inputs, const int *inputs,
                          int *out_id, zn_node **node_out) {
  int out, idx;
  ZN_TRY(zn_graph_add_value(b->graph, name, ZN_DTYPE_FLOAT32, &out));
  ZN_TRY(zn_graph_add_node(b->graph, op, name, num_inputs, inputs, 1, &out, &idx));
  *out_id = out;
  *node_out = &b->graph->nodes[idx];
  return ZN_OK;
}

/* ---- graph ends ---- */

zn_zoo_tensor zn_zoo_input(zn_zoo_builder *b, int64_t c, int64_t h, int64_t w) {
  if (failed(b)) return dead;
  zn_zoo_tensor t = {-1, c, h, w};
  if (!b->graph) return t;
  zn_status st = zn_graph_add_value(b->graph, "input", ZN_DTYPE_FLOAT32, &t.id);
  if (st != ZN_OK) return fail(b, st);
  zn_value *v = &b->graph->values[t.id];
  v->num_dims = 4;
  v->dims[0] = 1; /* coefficient of the batch N */
  v->dims[1] = c;
  v->dims[2] = h;
  v->dims[3] = w;
  v->batch_axis = 0;
  st = zn_graph_mark_input(b->graph, t.id);
  if (st != ZN_OK) return fail(b, st);
  return t;
}

zn_status zn_zoo_finish(zn_zoo_builder *b, zn_zoo_tensor x) {
  if (failed(b) || !b->graph) return b->status;
  zn_value *v = &b->graph->values[x.id];
  char *name = zn_strdup("logits");
  if (!name) {
    fail(b, zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to name graph output: out of memory"));
    return b->status;
  }
  zn_free(v->name);
  v->name = name;
  zn_status st = zn_graph_mark_output(b->graph, x.id);
  if (st != ZN_OK) fail(b, st);
  return b->status;
}

/* ---- layers ---- */

zn_zoo_tensor zn_zoo_conv_ex(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t out_c, int64_t kh,
                             int64_t kw, int64_t stride, int64_t ph, int64_t pw, int64_t group, bool bias,
                             float weight_std) {
  if (failed(b)) return dead;
  if (!is_4d(x) || group <= 0 || x.c % group || out_c % group)
    return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build conv '%s': input [%lld,%lld,%lld] group %lld", name,
                            (long long)x.c, (long long)x.h, (long long)x.w, (long long)group));
  zn_zoo_tensor y = {-1, out_c, (x.h + 2 * ph - kh) / stride + 1, (x.w + 2 * pw - kw) / stride + 1};
  if (y.h <= 0 || y.w <= 0)
    return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build conv '%s': output would be empty", name));
  int64_t in_per_group = x.c / group;
  int64_t weight_elems = out_c * in_per_group * kh * kw;
  b->num_params += weight_elems + (bias ? out_c : 0);
  b->macs_per_image += weight_elems * y.h * y.w;
  if (!b->graph) return y;

  int64_t wdims[4] = {out_c, in_per_group, kh, kw};
  float std = weight_std > 0 ? weight_std : sqrtf(2.0f / (float)(out_c * kh * kw));
  int ins[3] = {x.id, -1, -1};
  zn_status st = add_tensor(b, name, "weight", 4, wdims, FILL_NORMAL, std, &ins[1]);
  if (st == ZN_OK && bias) st = add_tensor(b, name, "bias", 1, &out_c, FILL_ZEROS, 0, &ins[2]);
  zn_node *n = NULL;
  if (st == ZN_OK) st = add_node(b, ZN_OP_CONV, name, bias ? 3 : 2, ins, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  zn_conv_attrs *a = &n->attrs.conv;
  a->num_spatial = 2;
  a->kernel[0] = kh, a->kernel[1] = kw;
  a->stride[0] = a->stride[1] = stride;
  a->dilation[0] = a->dilation[1] = 1;
  a->pad_begin[0] = a->pad_end[0] = ph;
  a->pad_begin[1] = a->pad_end[1] = pw;
  a->auto_pad = ZN_AUTO_PAD_NOTSET;
  a->group = group;
  a->act.kind = ZN_ACT_NONE;
  return y;
}

zn_zoo_tensor zn_zoo_conv(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t out_c, int64_t kernel,
                          int64_t stride, int64_t pad, int64_t group, bool bias) {
  return zn_zoo_conv_ex(b, name, x, out_c, kernel, kernel, stride, pad, pad, group, bias, 0.0f);
}

zn_zoo_tensor zn_zoo_batch_norm(zn_zoo_builder *b, const char *name, zn_zoo_tensor x) {
  if (failed(b)) return dead;
  b->num_params += 2 * x.c; /* scale + bias; running statistics are not parameters */
  zn_zoo_tensor y = x;
  if (!b->graph) return y;
  int ins[5] = {x.id, -1, -1, -1, -1};
  int64_t c = x.c;
  zn_status st = add_tensor(b, name, "weight", 1, &c, FILL_ONES, 0, &ins[1]);
  if (st == ZN_OK) st = add_tensor(b, name, "bias", 1, &c, FILL_ZEROS, 0, &ins[2]);
  if (st == ZN_OK) st = add_tensor(b, name, "running_mean", 1, &c, FILL_ZEROS, 0, &ins[3]);
  if (st == ZN_OK) st = add_tensor(b, name, "running_var", 1, &c, FILL_ONES, 0, &ins[4]);
  zn_node *n = NULL;
  if (st == ZN_OK) st = add_node(b, ZN_OP_BATCH_NORM, name, 5, ins, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  n->attrs.batch_norm.epsilon = b->bn_epsilon;
  return y;
}

static zn_zoo_tensor activation(zn_zoo_builder *b, zn_op op, const char *name, zn_zoo_tensor x, zn_act act) {
  if (failed(b)) return dead;
  zn_zoo_tensor y = x;
  if (!b->graph) return y;
  zn_node *n = NULL;
  zn_status st = add_node(b, op, name, 1, &x.id, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  n->attrs.act = act;
  return y;
}

zn_zoo_tensor zn_zoo_relu(zn_zoo_builder *b, const char *name, zn_zoo_tensor x) {
  return activation(b, ZN_OP_RELU, name, x, (zn_act){ZN_ACT_RELU, 0.0f, 0.0f});
}

zn_zoo_tensor zn_zoo_relu6(zn_zoo_builder *b, const char *name, zn_zoo_tensor x) {
  return activation(b, ZN_OP_CLIP, name, x, (zn_act){ZN_ACT_CLIP, 0.0f, 6.0f});
}

/* PyTorch's pooled size, ceil_mode included: a last window that would start
 * in the right padding is dropped. */
static int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode) {
  int64_t span = in + 2 * p - k;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) out--;
  return out;
}

static zn_zoo_tensor pool(zn_zoo_builder *b, zn_op op, const char *name, zn_zoo_tensor x, int64_t kernel,
                          int64_t stride, int64_t pad, bool ceil_mode, bool count_include_pad) {
  if (failed(b)) return dead;
  zn_zoo_tensor y = {-1, x.c, pooled_size(x.h, kernel, stride, pad, ceil_mode),
                     pooled_size(x.w, kernel, stride, pad, ceil_mode)};
  if (!is_4d(x) || y.h <= 0 || y.w <= 0)
    return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build pool '%s': output would be empty", name));
  if (!b->graph) return y;
  zn_node *n = NULL;
  zn_status st = add_node(b, op, name, 1, &x.id, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  zn_pool_attrs *a = &n->attrs.pool;
  a->num_spatial = 2;
  a->kernel[0] = a->kernel[1] = kernel;
  a->stride[0] = a->stride[1] = stride;
  a->dilation[0] = a->dilation[1] = 1;
  a->pad_begin[0] = a->pad_begin[1] = a->pad_end[0] = a->pad_end[1] = pad;
  a->auto_pad = ZN_AUTO_PAD_NOTSET;
  a->ceil_mode = ceil_mode;
  a->count_include_pad = count_include_pad;
  return y;
}

zn_zoo_tensor zn_zoo_max_pool(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t kernel, int64_t stride,
                              int64_t pad, bool ceil_mode) {
  return pool(b, ZN_OP_MAX_POOL, name, x, kernel, stride, pad, ceil_mode, false);
}

zn_zoo_tensor zn_zoo_avg_pool(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t kernel, int64_t stride,
                              int64_t pad, bool count_include_pad) {
  return pool(b, ZN_OP_AVERAGE_POOL, name, x, kernel, stride, pad, false, count_include_pad);
}

zn_zoo_tensor zn_zoo_global_avg_pool(zn_zoo_builder *b, const char *name, zn_zoo_tensor x) {
  if (failed(b)) return dead;
  if (!is_4d(x)) return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build '%s': input is not 4-D", name));
  zn_zoo_tensor y = {-1, x.c, 1, 1};
  if (!b->graph) return y;
  zn_node *n = NULL;
  zn_status st = add_node(b, ZN_OP_GLOBAL_AVERAGE_POOL, name, 1, &x.id, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  return y;
}

zn_zoo_tensor zn_zoo_flatten(zn_zoo_builder *b, const char *name, zn_zoo_tensor x) {
  if (failed(b)) return dead;
  zn_zoo_tensor y = {-1, is_4d(x) ? x.c * x.h * x.w : x.c, 0, 0};
  if (!b->graph) return y;
  zn_node *n = NULL;
  zn_status st = add_node(b, ZN_OP_FLATTEN, name, 1, &x.id, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  n->attrs.axis.axis = 1;
  return y;
}

zn_zoo_tensor zn_zoo_gemm(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t out_features) {
  if (failed(b)) return dead;
  if (is_4d(x)) return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build gemm '%s': input is not flattened", name));
  b->num_params += x.c * out_features + out_features;
  b->macs_per_image += x.c * out_features;
  zn_zoo_tensor y = {-1, out_features, 0, 0};
  if (!b->graph) return y;
  int64_t wdims[2] = {out_features, x.c};
  int ins[3] = {x.id, -1, -1};
  zn_status st = add_tensor(b, name, "weight", 2, wdims, FILL_NORMAL, 0.01f, &ins[1]);
  if (st == ZN_OK) st = add_tensor(b, name, "bias", 1, &out_features, FILL_ZEROS, 0, &ins[2]);
  zn_node *n = NULL;
  if (st == ZN_OK) st = add_node(b, ZN_OP_GEMM, name, 3, ins, &y.id, &n);
  if (st != ZN_OK) return fail(b, st);
  n->attrs.gemm = (zn_gemm_attrs){.trans_a = false, .trans_b = true, .alpha = 1.0f, .beta = 1.0f,
                                  .act = {ZN_ACT_NONE, 0.0f, 0.0f}};
  return y;
}

zn_zoo_tensor zn_zoo_add(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, zn_zoo_tensor y) {
  if (failed(b)) return dead;
  if (x.c != y.c || x.h != y.h || x.w != y.w)
    return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build add '%s': operand shapes differ", name));
  zn_zoo_tensor z = x;
  if (!b->graph) return z;
  int ins[2] = {x.id, y.id};
  zn_node *n = NULL;
  zn_status st = add_node(b, ZN_OP_ADD, name, 2, ins, &z.id, &n);
  if (st != ZN_OK) return fail(b, st);
  return z;
}

zn_zoo_tensor zn_zoo_concat(zn_zoo_builder *b, const char *name, int count, const zn_zoo_tensor *xs) {
  if (failed(b)) return dead;
  if (count < 1) return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build concat '%s': no inputs", name));
  if (count == 1) return xs[0];
  zn_zoo_tensor y = {-1, 0, xs[0].h, xs[0].w};
  for (int i = 0; i < count; i++) {
    if (xs[i].h != y.h || xs[i].w != y.w)
      return fail(b, zn_error(ZN_ERR_INTERNAL, "failed to build concat '%s': input %d has another size", name, i));
    y.c += xs[i].c;
  }
  if (!b->graph) return y;
  int *ins = zn_malloc((size_t)count * sizeof(int));
  if (!ins) return fail(b, zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to build concat '%s': out of memory", name));
  for (int i = 0; i < count; i++) ins[i] = xs[i].id;
  zn_node *n = NULL;
  zn_status st = add_node(b, ZN_OP_CONCAT, name, count, ins, &y.id, &n);
  zn_free(ins);
  if (st != ZN_OK) return fail(b, st);
  n->attrs.axis.axis = 1;
  return y;
}

zn_zoo_tensor zn_zoo_conv_bn_act(zn_zoo_builder *b, zn_zoo_tensor x, const char *conv_name, const char *bn_name,
                                 const char *act_name, zn_act_kind act, int64_t out_c, int64_t kh, int64_t kw,
                                 int64_t stride, int64_t ph, int64_t pw, int64_t group) {
  x = zn_zoo_conv_ex(b, conv_name, x, out_c, kh, kw, stride, ph, pw, group, false, 0.0f);
  x = zn_zoo_batch_norm(b, bn_name, x);
  if (act == ZN_ACT_RELU) x = zn_zoo_relu(b, act_name, x);
  else if (act == ZN_ACT_CLIP) x = zn_zoo_relu6(b, act_name, x);
  return x;
}
