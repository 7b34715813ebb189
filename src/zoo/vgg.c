/* VGG-16 (configuration "D", no batch norm) as torchvision 0.14 defines it, in
 * eval mode: Dropout is omitted and AdaptiveAvgPool2d((7, 7)) is omitted too
 * because at 224x224 input the features are already 7x7 (an identity).
 * The weights are SYNTHETIC (seeded He-normal, fan_out, as torchvision's VGG
 * init; FC normal(0, 0.01); biases zero): good for throughput, not for
 * predictions; bring a trained ONNX file for those. */
#include "zoo/layers.h"

zn_status zn_zoo_build_vgg16(zn_zoo_builder *b) {
  /* Output channels of each 3x3 conv; 0 marks a 2x2 max pool. */
  static const int64_t cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  zn_zoo_tensor x = zn_zoo_input(b, 3, 224, 224);
  int index = 0; /* torchvision's index in the features Sequential */
  for (size_t i = 0; i < ZN_ARRAY_SIZE(cfg); i++) {
    if (cfg[i] == 0) {
      x = zn_zoo_max_pool(b, zn_zoo_name(b, "features.%d", index++), x, 2, 2, 0, false);
    } else {
      x = zn_zoo_conv(b, zn_zoo_name(b, "features.%d", index++), x, cfg[i], 3, 1, 1, 1, true);
      x = zn_zoo_relu(b, zn_zoo_name(b, "features.%d", index++), x);
    }
  }
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "classifier.0", x, 4096);
  x = zn_zoo_relu(b, "classifier.1", x);
  x = zn_zoo_gemm(b, "classifier.3", x, 4096);
  x = zn_zoo_relu(b, "classifier.4", x);
  x = zn_zoo_gemm(b, "classifier.6", x, 1000);
  return zn_zoo_finish(b, x);
}
