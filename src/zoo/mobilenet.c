/* MobileNet-V1 (Howard et al. 2017: the original 28-layer network, width 1.0,
 * BN + ReLU after every convolution, 1024 -> 1000 classifier) and MobileNet-V2
 * (torchvision 0.14: inverted residuals, ReLU6 as Clip(0, 6), linear
 * bottlenecks, 1280 -> 1000 classifier; Dropout omitted as in eval mode).
 * The weights are SYNTHETIC (seeded He-normal, fan_out, as torchvision's
 * MobileNet init; FC normal(0, 0.01)): good for throughput, not for
 * predictions; bring a trained ONNX file for those. */
#include "zoo/layers.h"

#include <stdio.h>

/* ---- MobileNet-V1 ---- */

zn_status zn_zoo_build_mobilenet_v1(zn_zoo_builder *b) {
  /* (pointwise output channels, depthwise stride) of the 13 separable blocks. */
  static const struct { int64_t out_c, stride; } blocks[13] = {
      {64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
      {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  x = zn_zoo_conv_bn_act(b, x, "features.0.conv", "features.0.bn", "features.0.relu", ZN_ACT_RELU, 32, 3, 3, 2, 1, 1,
                         1);
  for (int i = 0; i < 13; i++) {
    int k = i + 1;
    x = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "features.%d.dw.conv", k), zn_zoo_name(b, "features.%d.dw.bn", k),
                           zn_zoo_name(b, "features.%d.dw.relu", k), ZN_ACT_RELU, x.c, 3, 3, blocks[i].stride, 1, 1,
                           x.c);
    x = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "features.%d.pw.conv", k), zn_zoo_name(b, "features.%d.pw.bn", k),
                           zn_zoo_name(b, "features.%d.pw.relu", k), ZN_ACT_RELU, blocks[i].out_c, 1, 1, 1, 0, 0, 1);
  }
  x = zn_zoo_global_avg_pool(b, "avgpool", x);
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "fc", x, 1000);
  return zn_zoo_finish(b, x);
}

/* ---- MobileNet-V2 ---- */

/* InvertedResidual: [1x1 expand + BN + ReLU6] (when t != 1), 3x3 depthwise +
 * BN + ReLU6, 1x1 project + BN (linear), + input when stride 1 and the
 * channel count is kept. Names follow torchvision's Sequential indices. */
static zn_zoo_tensor inverted_residual(zn_zoo_builder *b, const char *p, zn_zoo_tensor x, int64_t out_c,
                                       int64_t stride, int64_t expand_ratio) {
  int64_t hidden = x.c * expand_ratio;
  zn_zoo_tensor y = x;
  int k = 0; /* index of the next module inside .conv */
  if (expand_ratio != 1) {
    y = zn_zoo_conv_bn_act(b, y, zn_zoo_name(b, "%s.conv.%d.0", p, k), zn_zoo_name(b, "%s.conv.%d.1", p, k),
                           zn_zoo_name(b, "%s.conv.%d.2", p, k), ZN_ACT_CLIP, hidden, 1, 1, 1, 0, 0, 1);
    k++;
  }
  y = zn_zoo_conv_bn_act(b, y, zn_zoo_name(b, "%s.conv.%d.0", p, k), zn_zoo_name(b, "%s.conv.%d.1", p, k),
                         zn_zoo_name(b, "%s.conv.%d.2", p, k), ZN_ACT_CLIP, hidden, 3, 3, stride, 1, 1, hidden);
  k++;
  y = zn_zoo_conv_bn_act(b, y, zn_zoo_name(b, "%s.conv.%d", p, k), zn_zoo_name(b, "%s.conv.%d", p, k + 1), NULL,
                         ZN_ACT_NONE, out_c, 1, 1, 1, 0, 0, 1);
  if (stride == 1 && x.c == out_c) y = zn_zoo_add(b, zn_zoo_name(b, "%s.add", p), x, y);
  return y;
}

zn_status zn_zoo_build_mobilenet_v2(zn_zoo_builder *b) {
  /* t (expansion), c (output channels), n (repeats), s (first stride). */
  static const struct { int64_t t, c, n, s; } settings[7] = {
      {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  x = zn_zoo_conv_bn_act(b, x, "features.0.0", "features.0.1", "features.0.2", ZN_ACT_CLIP, 32, 3, 3, 2, 1, 1, 1);
  int index = 1;
  for (int s = 0; s < 7; s++) {
    for (int64_t i = 0; i < settings[s].n; i++) {
      char prefix[32];
      snprintf(prefix, sizeof prefix, "features.%d", index++);
      x = inverted_residual(b, prefix, x, settings[s].c, i == 0 ? settings[s].s : 1, settings[s].t);
    }
  }
  x = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "features.%d.0", index), zn_zoo_name(b, "features.%d.1", index),
                         zn_zoo_name(b, "features.%d.2", index), ZN_ACT_CLIP, 1280, 1, 1, 1, 0, 0, 1);
  x = zn_zoo_global_avg_pool(b, "avgpool", x);
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "classifier.1", x, 1000);
  return zn_zoo_finish(b, x);
}
