/* AlexNet as torchvision 0.14 defines it (the one-GPU variant: 64-192-384-256-256
 * channels), in eval mode: Dropout is omitted and AdaptiveAvgPool2d((6, 6)) is
 * omitted too because at 224x224 input the features are already 6x6 (an
 * identity). The weights are SYNTHETIC (seeded He-normal, fan_out; FC
 * normal(0, 0.01); biases zero): good for throughput, not for predictions;
 * bring a trained ONNX file for those. */
#include "zoo/layers.h"

zn_status zn_zoo_build_alexnet(zn_zoo_builder *b) {
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  x = zn_zoo_conv(b, "features.0", x, 64, 11, 4, 2, 1, true);
  x = zn_zoo_relu(b, "features.1", x);
  x = zn_zoo_max_pool(b, "features.2", x, 3, 2, 0, false);
  x = zn_zoo_conv(b, "features.3", x, 192, 5, 1, 2, 1, true);
  x = zn_zoo_relu(b, "features.4", x);
  x = zn_zoo_max_pool(b, "features.5", x, 3, 2, 0, false);
  x = zn_zoo_conv(b, "features.6", x, 384, 3, 1, 1, 1, true);
  x = zn_zoo_relu(b, "features.7", x);
  x = zn_zoo_conv(b, "features.8", x, 256, 3, 1, 1, 1, true);
  x = zn_zoo_relu(b, "features.9", x);
  x = zn_zoo_conv(b, "features.10", x, 256, 3, 1, 1, 1, true);
  x = zn_zoo_relu(b, "features.11", x);
  x = zn_zoo_max_pool(b, "features.12", x, 3, 2, 0, false);
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "classifier.1", x, 4096);
  x = zn_zoo_relu(b, "classifier.2", x);
  x = zn_zoo_gemm(b, "classifier.4", x, 4096);
  x = zn_zoo_relu(b, "classifier.5", x);
  x = zn_zoo_gemm(b, "classifier.6", x, 1000);
  return zn_zoo_finish(b, x);
}
