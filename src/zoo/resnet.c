/* ResNet-18 and ResNet-50 as torchvision 0.14 defines them (ResNet-50 is v1.5:
 * the stride sits on the 3x3 conv of the bottleneck), exported as ONNX would be
 * in eval mode: Conv + BatchNormalization + Relu, Add for the shortcut,
 * GlobalAveragePool, Flatten, Gemm. Node names follow torchvision's module paths.
 * The weights are SYNTHETIC (seeded He-normal, fan_out, as torchvision's own
 * ResNet init): good for throughput, not for predictions; bring a trained ONNX
 * file for those. */
#include "zoo/layers.h"

#include <stdio.h>

/* BasicBlock: 3x3 conv, BN, ReLU, 3x3 conv, BN, + shortcut, ReLU. */
static zn_zoo_tensor basic_block(zn_zoo_builder *b, const char *p, zn_zoo_tensor x, int64_t planes, int64_t stride) {
  zn_zoo_tensor y = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "%s.conv1", p), zn_zoo_name(b, "%s.bn1", p),
                                       zn_zoo_name(b, "%s.relu", p), ZN_ACT_RELU, planes, 3, 3, stride, 1, 1, 1);
  y = zn_zoo_conv_bn_act(b, y, zn_zoo_name(b, "%s.conv2", p), zn_zoo_name(b, "%s.bn2", p), NULL, ZN_ACT_NONE, planes,
                         3, 3, 1, 1, 1, 1);
  zn_zoo_tensor shortcut = x;
  if (stride != 1 || x.c != planes)
    shortcut = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "%s.downsample.0", p), zn_zoo_name(b, "%s.downsample.1", p),
                                  NULL, ZN_ACT_NONE, planes, 1, 1, stride, 0, 0, 1);
  y = zn_zoo_add(b, zn_zoo_name(b, "%s.add", p), y, shortcut);
  return zn_zoo_relu(b, zn_zoo_name(b, "%s.relu_1", p), y);
}

/* Bottleneck: 1x1 reduce, 3x3 (strided), 1x1 expand x4, + shortcut, ReLU. */
static zn_zoo_tensor bottleneck(zn_zoo_builder *b, const char *p, zn_zoo_tensor x, int64_t planes, int64_t stride) {
  const int64_t expansion = 4;
  zn_zoo_tensor y = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "%s.conv1", p), zn_zoo_name(b, "%s.bn1", p),
                                       zn_zoo_name(b, "%s.relu", p), ZN_ACT_RELU, planes, 1, 1, 1, 0, 0, 1);
  y = zn_zoo_conv_bn_act(b, y, zn_zoo_name(b, "%s.conv2", p), zn_zoo_name(b, "%s.bn2", p),
                         zn_zoo_name(b, "%s.relu_1", p), ZN_ACT_RELU, planes, 3, 3, stride, 1, 1, 1);
  y = zn_zoo_conv_bn_act(b, y, zn_zoo_name(b, "%s.conv3", p), zn_zoo_name(b, "%s.bn3", p), NULL, ZN_ACT_NONE,
                         planes * expansion, 1, 1, 1, 0, 0, 1);
  zn_zoo_tensor shortcut = x;
  if (stride != 1 || x.c != planes * expansion)
    shortcut = zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "%s.downsample.0", p), zn_zoo_name(b, "%s.downsample.1", p),
                                  NULL, ZN_ACT_NONE, planes * expansion, 1, 1, stride, 0, 0, 1);
  y = zn_zoo_add(b, zn_zoo_name(b, "%s.add", p), y, shortcut);
  return zn_zoo_relu(b, zn_zoo_name(b, "%s.relu_2", p), y);
}

static zn_status resnet(zn_zoo_builder *b, bool use_bottleneck, const int blocks[4]) {
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  x = zn_zoo_conv_bn_act(b, x, "conv1", "bn1", "relu", ZN_ACT_RELU, 64, 7, 7, 2, 3, 3, 1);
  x = zn_zoo_max_pool(b, "maxpool", x, 3, 2, 1, false);
  for (int layer = 0; layer < 4; layer++) {
    int64_t planes = (int64_t)64 << layer;
    for (int i = 0; i < blocks[layer]; i++) {
      char prefix[64];
      snprintf(prefix, sizeof prefix, "layer%d.%d", layer + 1, i);
      int64_t stride = (layer > 0 && i == 0) ? 2 : 1;
      x = use_bottleneck ? bottleneck(b, prefix, x, planes, stride) : basic_block(b, prefix, x, planes, stride);
    }
  }
  x = zn_zoo_global_avg_pool(b, "avgpool", x);
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "fc", x, 1000);
  return zn_zoo_finish(b, x);
}

zn_status zn_zoo_build_resnet18(zn_zoo_builder *b) {
  static const int blocks[4] = {2, 2, 2, 2};
  return resnet(b, false, blocks);
}

zn_status zn_zoo_build_resnet50(zn_zoo_builder *b) {
  static const int blocks[4] = {3, 4, 6, 3};
  return resnet(b, true, blocks);
}
