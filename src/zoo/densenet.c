/* DenseNet-161 as torchvision 0.14 defines it (growth 48, blocks 6-12-36-24,
 * 96 initial features, bottleneck 4 x growth), exported as ONNX would be in
 * eval mode: every dense layer concatenates all earlier features of its block
 * and starts with a pre-activation BatchNormalization that no Conv precedes,
 * so those BNs stay standalone after BN folding; transitions end in a 2x2
 * AveragePool. The weights are SYNTHETIC (seeded He-normal, fan_out, where
 * torchvision uses fan_in: the runtime recalibrates BN statistics anyway; FC
 * normal(0, 0.01)): good for throughput, not for predictions; bring a trained
 * ONNX file for those. */
#include "zoo/layers.h"

#include <stdio.h>

#define GROWTH 48
#define BN_SIZE 4
#define MAX_LAYERS 36

/* One dense block: layer i reads the concatenation of the block input and the
 * i earlier layer outputs (torch.cat in _DenseLayer.forward); the block's
 * output is the concatenation of all of them. */
static zn_zoo_tensor dense_block(zn_zoo_builder *b, int block, int num_layers, zn_zoo_tensor x) {
  zn_zoo_tensor features[MAX_LAYERS + 1];
  features[0] = x;
  for (int i = 0; i < num_layers; i++) {
    char p[64];
    snprintf(p, sizeof p, "features.denseblock%d.denselayer%d", block, i + 1);
    zn_zoo_tensor y = zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", p), i + 1, features);
    y = zn_zoo_batch_norm(b, zn_zoo_name(b, "%s.norm1", p), y);
    y = zn_zoo_relu(b, zn_zoo_name(b, "%s.relu1", p), y);
    y = zn_zoo_conv(b, zn_zoo_name(b, "%s.conv1", p), y, BN_SIZE * GROWTH, 1, 1, 0, 1, false);
    y = zn_zoo_batch_norm(b, zn_zoo_name(b, "%s.norm2", p), y);
    y = zn_zoo_relu(b, zn_zoo_name(b, "%s.relu2", p), y);
    features[i + 1] = zn_zoo_conv(b, zn_zoo_name(b, "%s.conv2", p), y, GROWTH, 3, 1, 1, 1, false);
  }
  return zn_zoo_concat(b, zn_zoo_name(b, "features.denseblock%d.cat", block), num_layers + 1, features);
}

static zn_zoo_tensor transition(zn_zoo_builder *b, int index, zn_zoo_tensor x) {
  x = zn_zoo_batch_norm(b, zn_zoo_name(b, "features.transition%d.norm", index), x);
  x = zn_zoo_relu(b, zn_zoo_name(b, "features.transition%d.relu", index), x);
  x = zn_zoo_conv(b, zn_zoo_name(b, "features.transition%d.conv", index), x, x.c / 2, 1, 1, 0, 1, false);
  return zn_zoo_avg_pool(b, zn_zoo_name(b, "features.transition%d.pool", index), x, 2, 2, 0, false);
}

zn_status zn_zoo_build_densenet161(zn_zoo_builder *b) {
  static const int blocks[4] = {6, 12, 36, 24};
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  x = zn_zoo_conv_bn_act(b, x, "features.conv0", "features.norm0", "features.relu0", ZN_ACT_RELU, 96, 7, 7, 2, 3, 3,
                         1);
  x = zn_zoo_max_pool(b, "features.pool0", x, 3, 2, 1, false);
  for (int i = 0; i < 4; i++) {
    x = dense_block(b, i + 1, blocks[i], x);
    if (i < 3) x = transition(b, i + 1, x);
  }
  x = zn_zoo_batch_norm(b, "features.norm5", x);
  x = zn_zoo_relu(b, "relu", x);
  x = zn_zoo_global_avg_pool(b, "avgpool", x);
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "classifier", x, 1000);
  return zn_zoo_finish(b, x);
}
