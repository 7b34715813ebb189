/* Inception-V3 as torchvision 0.14 defines it, at 299x299, without the
 * auxiliary head and with transform_input off (the default when built without
 * pretrained weights): BasicConv2d = Conv (no bias) + BN (eps 1e-3) + ReLU;
 * branch pools are AveragePool 3x3 s1 p1 with count_include_pad (PyTorch's
 * default); Dropout omitted (eval). The weights are SYNTHETIC (seeded
 * He-normal, fan_out, where torchvision uses a truncated normal: the runtime
 * recalibrates BN statistics anyway; FC normal(0, 0.01)): good for
 * throughput, not for predictions; bring a trained ONNX file for those. */
#include "zoo/layers.h"

#include <stdio.h>

/* BasicConv2d "<p>.conv", "<p>.bn", "<p>.relu"; p is "<block>.<branch>". */
static zn_zoo_tensor basic_conv(zn_zoo_builder *b, const char *block, const char *branch, zn_zoo_tensor x,
                                int64_t out_c, int64_t kh, int64_t kw, int64_t stride, int64_t ph, int64_t pw) {
  char p[96];
  snprintf(p, sizeof p, "%s%s%s", block, *block ? "." : "", branch);
  return zn_zoo_conv_bn_act(b, x, zn_zoo_name(b, "%s.conv", p), zn_zoo_name(b, "%s.bn", p),
                            zn_zoo_name(b, "%s.relu", p), ZN_ACT_RELU, out_c, kh, kw, stride, ph, pw, 1);
}

static zn_zoo_tensor branch_avg_pool(zn_zoo_builder *b, const char *m, zn_zoo_tensor x) {
  return zn_zoo_avg_pool(b, zn_zoo_name(b, "%s.avg_pool", m), x, 3, 1, 1, true);
}

static zn_zoo_tensor inception_a(zn_zoo_builder *b, const char *m, zn_zoo_tensor x, int64_t pool_features) {
  zn_zoo_tensor br[4];
  br[0] = basic_conv(b, m, "branch1x1", x, 64, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch5x5_1", x, 48, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch5x5_2", br[1], 64, 5, 5, 1, 2, 2);
  br[2] = basic_conv(b, m, "branch3x3dbl_1", x, 64, 1, 1, 1, 0, 0);
  br[2] = basic_conv(b, m, "branch3x3dbl_2", br[2], 96, 3, 3, 1, 1, 1);
  br[2] = basic_conv(b, m, "branch3x3dbl_3", br[2], 96, 3, 3, 1, 1, 1);
  br[3] = branch_avg_pool(b, m, x);
  br[3] = basic_conv(b, m, "branch_pool", br[3], pool_features, 1, 1, 1, 0, 0);
  return zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", m), 4, br);
}

static zn_zoo_tensor inception_b(zn_zoo_builder *b, const char *m, zn_zoo_tensor x) {
  zn_zoo_tensor br[3];
  br[0] = basic_conv(b, m, "branch3x3", x, 384, 3, 3, 2, 0, 0);
  br[1] = basic_conv(b, m, "branch3x3dbl_1", x, 64, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch3x3dbl_2", br[1], 96, 3, 3, 1, 1, 1);
  br[1] = basic_conv(b, m, "branch3x3dbl_3", br[1], 96, 3, 3, 2, 0, 0);
  br[2] = zn_zoo_max_pool(b, zn_zoo_name(b, "%s.max_pool", m), x, 3, 2, 0, false);
  return zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", m), 3, br);
}

static zn_zoo_tensor inception_c(zn_zoo_builder *b, const char *m, zn_zoo_tensor x, int64_t c7) {
  zn_zoo_tensor br[4];
  br[0] = basic_conv(b, m, "branch1x1", x, 192, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch7x7_1", x, c7, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch7x7_2", br[1], c7, 1, 7, 1, 0, 3);
  br[1] = basic_conv(b, m, "branch7x7_3", br[1], 192, 7, 1, 1, 3, 0);
  br[2] = basic_conv(b, m, "branch7x7dbl_1", x, c7, 1, 1, 1, 0, 0);
  br[2] = basic_conv(b, m, "branch7x7dbl_2", br[2], c7, 7, 1, 1, 3, 0);
  br[2] = basic_conv(b, m, "branch7x7dbl_3", br[2], c7, 1, 7, 1, 0, 3);
  br[2] = basic_conv(b, m, "branch7x7dbl_4", br[2], c7, 7, 1, 1, 3, 0);
  br[2] = basic_conv(b, m, "branch7x7dbl_5", br[2], 192, 1, 7, 1, 0, 3);
  br[3] = branch_avg_pool(b, m, x);
  br[3] = basic_conv(b, m, "branch_pool", br[3], 192, 1, 1, 1, 0, 0);
  return zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", m), 4, br);
}

static zn_zoo_tensor inception_d(zn_zoo_builder *b, const char *m, zn_zoo_tensor x) {
  zn_zoo_tensor br[3];
  br[0] = basic_conv(b, m, "branch3x3_1", x, 192, 1, 1, 1, 0, 0);
  br[0] = basic_conv(b, m, "branch3x3_2", br[0], 320, 3, 3, 2, 0, 0);
  br[1] = basic_conv(b, m, "branch7x7x3_1", x, 192, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch7x7x3_2", br[1], 192, 1, 7, 1, 0, 3);
  br[1] = basic_conv(b, m, "branch7x7x3_3", br[1], 192, 7, 1, 1, 3, 0);
  br[1] = basic_conv(b, m, "branch7x7x3_4", br[1], 192, 3, 3, 2, 0, 0);
  br[2] = zn_zoo_max_pool(b, zn_zoo_name(b, "%s.max_pool", m), x, 3, 2, 0, false);
  return zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", m), 3, br);
}

/* InceptionE: the 3x3 branches split into 1x3 and 3x1 convs whose outputs are
 * concatenated (an inner Concat each) before the block's outer Concat. */
static zn_zoo_tensor inception_e(zn_zoo_builder *b, const char *m, zn_zoo_tensor x) {
  zn_zoo_tensor br[4], split[2];
  br[0] = basic_conv(b, m, "branch1x1", x, 320, 1, 1, 1, 0, 0);
  br[1] = basic_conv(b, m, "branch3x3_1", x, 384, 1, 1, 1, 0, 0);
  split[0] = basic_conv(b, m, "branch3x3_2a", br[1], 384, 1, 3, 1, 0, 1);
  split[1] = basic_conv(b, m, "branch3x3_2b", br[1], 384, 3, 1, 1, 1, 0);
  br[1] = zn_zoo_concat(b, zn_zoo_name(b, "%s.branch3x3.cat", m), 2, split);
  br[2] = basic_conv(b, m, "branch3x3dbl_1", x, 448, 1, 1, 1, 0, 0);
  br[2] = basic_conv(b, m, "branch3x3dbl_2", br[2], 384, 3, 3, 1, 1, 1);
  split[0] = basic_conv(b, m, "branch3x3dbl_3a", br[2], 384, 1, 3, 1, 0, 1);
  split[1] = basic_conv(b, m, "branch3x3dbl_3b", br[2], 384, 3, 1, 1, 1, 0);
  br[2] = zn_zoo_concat(b, zn_zoo_name(b, "%s.branch3x3dbl.cat", m), 2, split);
  br[3] = branch_avg_pool(b, m, x);
  br[3] = basic_conv(b, m, "branch_pool", br[3], 192, 1, 1, 1, 0, 0);
  return zn_zoo_concat(b, zn_zoo_name(b, "%s.cat", m), 4, br);
}

zn_status zn_zoo_build_inception_v3(zn_zoo_builder *b) {
  b->bn_epsilon = 1e-3f;
  zn_zoo_tensor x = zn_zoo_input(b, 3, 299, 299);
  x = basic_conv(b, "", "Conv2d_1a_3x3", x, 32, 3, 3, 2, 0, 0);
  x = basic_conv(b, "", "Conv2d_2a_3x3", x, 32, 3, 3, 1, 0, 0);
  x = basic_conv(b, "", "Conv2d_2b_3x3", x, 64, 3, 3, 1, 1, 1);
  x = zn_zoo_max_pool(b, "maxpool1", x, 3, 2, 0, false);
  x = basic_conv(b, "", "Conv2d_3b_1x1", x, 80, 1, 1, 1, 0, 0);
  x = basic_conv(b, "", "Conv2d_4a_3x3", x, 192, 3, 3, 1, 0, 0);
  x = zn_zoo_max_pool(b, "maxpool2", x, 3, 2, 0, false);
  x = inception_a(b, "Mixed_5b", x, 32);
  x = inception_a(b, "Mixed_5c", x, 64);
  x = inception_a(b, "Mixed_5d", x, 64);
  x = inception_b(b, "Mixed_6a", x);
  x = inception_c(b, "Mixed_6b", x, 128);
  x = inception_c(b, "Mixed_6c", x, 160);
  x = inception_c(b, "Mixed_6d", x, 160);
  x = inception_c(b, "Mixed_6e", x, 192);
  x = inception_d(b, "Mixed_7a", x);
  x = inception_e(b, "Mixed_7b", x);
  x = inception_e(b, "Mixed_7c", x);
  x = zn_zoo_global_avg_pool(b, "avgpool", x);
  x = zn_zoo_flatten(b, "flatten", x);
  x = zn_zoo_gemm(b, "fc", x, 1000);
  return zn_zoo_finish(b, x);
}
