/* A tiny image model for bench and group tests, written as an ONNX file with
 * the ONNX test builder: x[N,3,S,S] -> Conv(3->4, 3x3, pad 1) -> Relu ->
 * GlobalAveragePool -> Flatten -> y[N,4]. Fast on every backend, so tests run
 * many windows in little time. Header-only; include once per test binary. */
#ifndef ZN_TEST_TINY_MODEL_H
#define ZN_TEST_TINY_MODEL_H

#include "unit/onnx/onnx_builder.h"

/* Write the model with input size s (e.g. 8) to path; 0 on success. */
static inline int tiny_model_write(const char *path, int64_t s) {
  static mb b;
  static float w[4 * 3 * 3 * 3], bias[4];
  for (int i = 0; i < 4 * 27; i++) w[i] = (float)((i * 37) % 11 - 5) * 0.05f;
  for (int i = 0; i < 4; i++) bias[i] = 0.01f * (float)i;
  mb_init(&b, 13);
  int64_t xd[4] = {-1, 3, s, s}, wd[4] = {4, 3, 3, 3}, bd[1] = {4};
  mb_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, xd);
  mb_initializer(&b, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, wd, w, sizeof w);
  mb_initializer(&b, "b", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, bd, bias, sizeof bias);
  const char *cin[3] = {"x", "w", "b"}, *cout[1] = {"c"};
  int conv = mb_node(&b, "Conv", "conv", cin, 3, cout, 1);
  int64_t k[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
  mb_attr_ints(&b, conv, "kernel_shape", 2, k);
  mb_attr_ints(&b, conv, "pads", 4, pads);
  mb_node1(&b, "Relu", "relu", "c", "r");
  mb_node1(&b, "GlobalAveragePool", "gap", "r", "g");
  mb_node1(&b, "Flatten", "flat", "g", "y");
  mb_output(&b, "y");
  return mb_write(&b, path);
}

#endif
