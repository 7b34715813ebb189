/* Builder helpers shared by the zoo's model files: each adds one torchvision
 * layer (Conv, BatchNormalization, Relu, pools, Gemm, ...) to a graph with its
 * seeded synthetic weights, and tracks shapes, parameters and MACs itself.
 * With graph == NULL the same calls only count (no weights materialised), which
 * is how the registry computes each entry's num_params and macs_per_image.
 *
 * Errors are sticky: the first failure is kept in builder->status and every
 * later call is a no-op returning a dead tensor, so a model file reads as a
 * straight list of layers and checks the status once at the end. */
#ifndef ZN_ZOO_LAYERS_H
#define ZN_ZOO_LAYERS_H

#include "core/common.h"
#include "graph/graph.h"

typedef struct zn_zoo_builder {
  zn_graph *graph;          /* NULL: counting pass only */
  uint64_t seed;            /* weights of a tensor come from seed + its name */
  float bn_epsilon;         /* 1e-5, Inception-V3 1e-3 */
  zn_status status;         /* first failure (sticky) */
  int64_t num_params;       /* Conv/Gemm weights + biases, BN scale + bias */
  int64_t macs_per_image;   /* Conv + Gemm */
  char names[8][160];       /* ring of scratch names for zn_zoo_name */
  int next_name;
} zn_zoo_builder;

/* An activation: its value id (-1 in a counting pass) and its shape per image.
 * 4-D [N, c, h, w], or 2-D [N, c] after Flatten (h = w = 0). */
typedef struct zn_zoo_tensor {
  int id;
  int64_t c, h, w;
} zn_zoo_tensor;

ZN_INTERNAL void zn_zoo_builder_init(zn_zoo_builder *b, zn_graph *graph, uint64_t seed);

/* A formatted layer name in a ring of 8 scratch buffers: valid until 8 more
 * names are made, which is enough for the arguments of one helper call (the
 * helpers copy names at once). Keep longer-lived prefixes in local buffers. */
ZN_INTERNAL const char *zn_zoo_name(zn_zoo_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The graph input "input": float32 [N, c, h, w]. */
ZN_INTERNAL zn_zoo_tensor zn_zoo_input(zn_zoo_builder *b, int64_t c, int64_t h, int64_t w);
/* Rename x to "logits" and mark it as the graph output. Returns b->status. */
ZN_INTERNAL zn_status zn_zoo_finish(zn_zoo_builder *b, zn_zoo_tensor x);

/* Conv with square kernel and pads: weights He-normal, fan_out (PyTorch's
 * kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out_c * kh * kw))),
 * bias (when asked) zero. */
ZN_INTERNAL zn_zoo_tensor zn_zoo_conv(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t out_c,
                                      int64_t kernel, int64_t stride, int64_t pad, int64_t group, bool bias);
/* General form: kh x kw kernel, pads (ph, pw) on both sides; weight_std > 0
 * replaces He-normal by normal(0, weight_std). */
ZN_INTERNAL zn_zoo_tensor zn_zoo_conv_ex(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t out_c,
                                         int64_t kh, int64_t kw, int64_t stride, int64_t ph, int64_t pw,
                                         int64_t group, bool bias, float weight_std);
/* BatchNormalization (inference form): gamma 1, beta 0, mean 0, var 1. */
ZN_INTERNAL zn_zoo_tensor zn_zoo_batch_norm(zn_zoo_builder *b, const char *name, zn_zoo_tensor x);
ZN_INTERNAL zn_zoo_tensor zn_zoo_relu(zn_zoo_builder *b, const char *name, zn_zoo_tensor x);
ZN_INTERNAL zn_zoo_tensor zn_zoo_relu6(zn_zoo_builder *b, const char *name, zn_zoo_tensor x); /* Clip(0, 6) */
ZN_INTERNAL zn_zoo_tensor zn_zoo_max_pool(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t kernel,
                                          int64_t stride, int64_t pad, bool ceil_mode);
ZN_INTERNAL zn_zoo_tensor zn_zoo_avg_pool(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t kernel,
                                          int64_t stride, int64_t pad, bool count_include_pad);
ZN_INTERNAL zn_zoo_tensor zn_zoo_global_avg_pool(zn_zoo_builder *b, const char *name, zn_zoo_tensor x);
ZN_INTERNAL zn_zoo_tensor zn_zoo_flatten(zn_zoo_builder *b, const char *name, zn_zoo_tensor x);
/* Gemm transB=1: weight [out, in] normal(0, 0.01), bias zero. */
ZN_INTERNAL zn_zoo_tensor zn_zoo_gemm(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, int64_t out_features);
ZN_INTERNAL zn_zoo_tensor zn_zoo_add(zn_zoo_builder *b, const char *name, zn_zoo_tensor x, zn_zoo_tensor y);
/* Concat on channels (axis 1); all xs share h and w. */
ZN_INTERNAL zn_zoo_tensor zn_zoo_concat(zn_zoo_builder *b, const char *name, int count, const zn_zoo_tensor *xs);

/* Conv (no bias) + BN + an activation (act: ZN_ACT_NONE, ZN_ACT_RELU or
 * ZN_ACT_CLIP for ReLU6), the torchvision Conv2dNormActivation / BasicConv2d
 * pattern. Names: "<conv>", "<bn>", "<act>" given by the caller. */
ZN_INTERNAL zn_zoo_tensor zn_zoo_conv_bn_act(zn_zoo_builder *b, zn_zoo_tensor x, const char *conv_name,
                                             const char *bn_name, const char *act_name, zn_act_kind act,
                                             int64_t out_c, int64_t kh, int64_t kw, int64_t stride, int64_t ph,
                                             int64_t pw, int64_t group);

/* Model builders (one per network; each returns b->status). */
ZN_INTERNAL zn_status zn_zoo_build_alexnet(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_densenet161(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_inception_v3(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_mobilenet_v1(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_mobilenet_v2(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_resnet18(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_resnet50(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_squeezenet1_1(zn_zoo_builder *b);
ZN_INTERNAL zn_status zn_zoo_build_vgg16(zn_zoo_builder *b);

#endif
