/* SqueezeNet 1.1 as torchvision 0.14 defines it: Fire modules (1x1 squeeze,
 * 1x1 and 3x3 expand, concatenated), max pools with ceil_mode, and a 1x1 conv
 * classifier + ReLU + global average pool (no Gemm); Dropout omitted (eval).
 * The weights are SYNTHETIC (seeded He-normal, fan_out; final_conv
 * normal(0, 0.01) as torchvision; biases zero): good for throughput, not for
 * predictions; bring a trained ONNX file for those. */
#include "zoo/layers.h"

#include <stdio.h>

static zn_zoo_tensor fire(zn_zoo_builder *b, int index, zn_zoo_tensor x, int64_t squeeze, int64_t expand1x1,
                          int64_t expand3x3) {
  char p[32];
  snprintf(p, sizeof p, "features.%d", index);
  x = zn_zoo_conv(b, zn_zoo_name(b, "%s.squeeze", p), x, squeeze, 1, 1, 0, 1, true);
  x = zn_zoo_relu(b, zn_zoo_name(b, "%s.squeeze_activation", p), x);
  zn_zoo_tensor branches[2];
  branches[0] = zn_zoo_conv(b, zn_zoo_name(b, "%s.expand1x1", p), x, expand1x1, 1, 1, 0, 1, true);
  branches[0] = zn_zoo_relu(b, zn_zoo_name(b, "%s.expand1x1_activation", p), branches[0]);
  branches[1] = zn_zoo_conv(b, zn_zoo_name(b, "%s.expand3x3", p), x, expand3x3, 3, 1, 1, 1, true);
  branches[1] = zn_zoo_relu(b, zn_zoo_name(b, "%s.expand3x3_activation", p), branches[1]);
  return zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", p), 2, branches);
}

zn_status zn_zoo_build_squeezenet1_1(zn_zoo_builder *b) {
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  x = zn_zoo_conv(b, "features.0", x, 64, 3, 2, 0, 1, true);
  x = zn_zoo_relu(b, "features.1", x);
  x = zn_zoo_max_pool(b, "features.2", x, 3, 2, 0, true);
  x = fire(b, 3, x, 16, 64, 64);
  x = fire(b, 4, x, 16, 64, 64);
  x = zn_zoo_max_pool(b, "features.5", x, 3, 2, 0, true);
  x = fire(b, 6, x, 32, 128, 128);
  x = fire(b, 7, x, 32, 128, 128);
  x = zn_zoo_max_pool(b, "features.8", x, 3, 2, 0, true);
  x = fire(b, 9, x, 48, 192, 192);
  x = fire(b, 10, x, 48, 192, 192);
  x = fire(b, 11, x, 64, 256, 256);
  x = fire(b, 12, x, 64, 256, 256);
  x = zn_zoo_conv_ex(b, "classifier.1", x, 1000, 1, 1, 1, 0, 0, 1, true, 0.01f);
  x = zn_zoo_relu(b, "classifier.2", x);
  x = zn_zoo_global_avg_pool(b, "classifier.3", x);
  x = zn_zoo_flatten(b, "flatten", x);
  return zn_zoo_finish(b, x);
}
