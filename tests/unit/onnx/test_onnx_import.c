/* ONNX importer: a good model imports with the right IR, and every kind of
 * bad file (truncated, random, cyclic, undefined inputs, lying shapes,
 * escaping external data, unknown ops) gets its status and a clear message.
 * Models are built at run time with protobuf-c; files go to a mkdtemp folder. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "onnx/onnx.h"
#include "onnx_builder.h"

#define FLOAT ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define INT64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define DOUBLE ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE

static char tmpdir[512];

static zn_status import_mb(const mb *b, const char *base_dir, zn_graph **g) {
  size_t size;
  uint8_t *buf = mb_pack(b, &size);
  zn_status st = zn_onnx_import_memory(buf, size, base_dir, NULL, g);
  free(buf);
  return st;
}

/* Import, expect a status and a message fragment; nothing leaks either way. */
#define EXPECT_IMPORT(b, dir, status, text) do { zn_graph *g_ = NULL; \
  CHECK_STATUS(import_mb((b), (dir), &g_), status); \
  if ((status) != ZN_OK) { CHECK(g_ == NULL); CHECK_ERROR_HAS(text); } \
  zn_graph_destroy(g_); } while (0)

static const float w_data[4 * 3 * 3 * 3] = {0};
static const float b_data[4] = {1, 2, 3, 4};

/* x[N,3,8,8] -> Conv(3x3, pad 1) -> Relu -> y */
static void conv_model(mb *b) {
  mb_init(b, 13);
  int64_t xd[4] = {-1, 3, 8, 8}, wd[4] = {4, 3, 3, 3}, bd[1] = {4};
  mb_input(b, "x", FLOAT, 4, xd);
  mb_initializer(b, "w", FLOAT, 4, wd, w_data, sizeof w_data);
  mb_initializer(b, "b", FLOAT, 1, bd, b_data, sizeof b_data);
  const char *ins[3] = {"x", "w", "b"}, *outs[1] = {"c"};
  int conv = mb_node(b, "Conv", "conv0", ins, 3, outs, 1);
  int64_t k[2] = {3, 3}, p[4] = {1, 1, 1, 1};
  mb_attr_ints(b, conv, "kernel_shape", 2, k);
  mb_attr_ints(b, conv, "pads", 4, p);
  mb_node1(b, "Relu", "relu0", "c", "y");
  mb_output(b, "y");
}

static void test_good(void) {
  mb b;
  conv_model(&b);
  zn_graph *g = NULL;
  CHECK_OK(import_mb(&b, NULL, &g));
  if (!g) return;
  CHECK_EQ_INT(g->opset, 13);
  CHECK_EQ_INT(g->num_nodes, 2);
  CHECK_EQ_INT(g->num_inputs, 1);
  CHECK_EQ_INT(g->num_outputs, 1);
  const zn_value *x = &g->values[g->inputs[0]];
  CHECK_EQ_INT(x->batch_axis, 0);
  CHECK_EQ_INT(x->dims[0], 1);
  CHECK_EQ_INT(x->dims[1], 3);
  CHECK_EQ_INT(x->dtype, ZN_DTYPE_FLOAT32);
  int conv = g->nodes[0].op == ZN_OP_CONV ? 0 : 1;
  const zn_conv_attrs *a = &g->nodes[conv].attrs.conv;
  CHECK_EQ_INT(a->num_spatial, 2);
  CHECK_EQ_INT(a->kernel[1], 3);
  CHECK_EQ_INT(a->stride[0], 1);
  CHECK_EQ_INT(a->dilation[1], 1);
  CHECK_EQ_INT(a->pad_begin[0], 1);
  CHECK_EQ_INT(a->pad_end[1], 1);
  CHECK_EQ_INT(a->group, 1);
  int bv = zn_graph_find_value(g, "b");
  CHECK(bv >= 0 && g->values[bv].data && memcmp(g->values[bv].data, b_data, sizeof b_data) == 0);
  zn_graph_destroy(g);

  /* An initializer also listed as a graph input is a constant, not an input. */
  int64_t wd[4] = {4, 3, 3, 3};
  mb_input(&b, "w", FLOAT, 4, wd);
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) CHECK_EQ_INT(g->num_inputs, 1);
  zn_graph_destroy(g);
}

static void test_truncated_and_random(void) {
  mb b;
  conv_model(&b);
  size_t size;
  uint8_t *buf = mb_pack(&b, &size);
  /* Every cut: never a crash; the last cut is always invalid. */
  int failures = 0;
  for (size_t cut = 0; cut < size; cut++) {
    zn_graph *g = NULL;
    zn_status st = zn_onnx_import_memory(buf, cut, NULL, NULL, &g);
    if (st != ZN_OK) {
      failures++;
      CHECK(g == NULL);
      CHECK(zn_last_error()[0] != '\0');
    }
    zn_graph_destroy(g);
  }
  CHECK(failures > (int)size / 2);
  zn_graph *g = NULL;
  CHECK_STATUS(zn_onnx_import_memory(buf, size - 1, NULL, NULL, &g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("not a valid ONNX ModelProto");
  free(buf);

  uint64_t seed = 42;
  uint8_t rnd[2048];
  for (int iter = 0; iter < 300; iter++) {
    size_t n = (size_t)(zn_test_rand_u64(&seed) % sizeof rnd);
    for (size_t i = 0; i < n; i++) rnd[i] = (uint8_t)zn_test_rand_u64(&seed);
    g = NULL;
    zn_status st = zn_onnx_import_memory(rnd, n, NULL, NULL, &g);
    CHECK(st != ZN_OK);
    CHECK(g == NULL);
    CHECK(zn_last_error()[0] != '\0');
    zn_graph_destroy(g);
  }

  /* A file that does not exist: an I/O error naming it. */
  CHECK_STATUS(zn_onnx_import_file("/nonexistent/model.onnx", NULL, &g), ZN_ERR_IO);
  CHECK_ERROR_HAS("/nonexistent/model.onnx");
}

static void test_structure(void) {
  mb b;
  int64_t xd[2] = {1, 4};
  /* cycle: a = Relu(bb), bb = Relu(a) */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  const char *ins[2] = {"x", "bb"}, *outs[1] = {"a"};
  mb_node(&b, "Add", "add0", ins, 2, outs, 1);
  mb_node1(&b, "Relu", "relu1", "a", "bb");
  mb_output(&b, "bb");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "cycle");

  /* a node reading an undefined value */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  mb_node1(&b, "Relu", "relu0", "nope", "y");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "'nope'");

  /* a value defined twice */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  mb_node1(&b, "Relu", "r0", "x", "y");
  mb_node1(&b, "Relu", "r1", "x", "y");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "defined twice");

  /* an output nobody produces */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  mb_node1(&b, "Relu", "r0", "x", "y");
  mb_output(&b, "zz");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "'zz'");

  /* unknown op: status and exact message */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  mb_node1(&b, "Relu", "n1", "x", "r");
  mb_node1(&b, "Foo", "n3", "r", "y");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "unsupported op 'Foo' (node 'n3', opset 13)");

  /* a node of another domain */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  int n = mb_node1(&b, "FusedGemm", "fg", "x", "y");
  b.nodes[n].domain = (char *)"com.microsoft";
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "com.microsoft");

  /* no default-domain opset */
  mb_init(&b, 13);
  b.os[0].domain = (char *)"com.example";
  mb_input(&b, "x", FLOAT, 2, xd);
  mb_node1(&b, "Relu", "r0", "x", "y");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "opset_import");

  /* input with a symbolic non-batch dim */
  mb_init(&b, 13);
  int64_t sym[2] = {1, -1};
  mb_input(&b, "x", FLOAT, 2, sym);
  mb_node1(&b, "Relu", "r0", "x", "y");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "dim 1 is symbolic");
}

static void test_tensors(void) {
  mb b;
  int64_t xd[2] = {1, 4};
  float four[4] = {1, 2, 3, 4};
  const char *ins[2] = {"x", "w"}, *outs[1] = {"y"};
#define ADD_MODEL() do { mb_init(&b, 13); mb_input(&b, "x", FLOAT, 2, xd); \
    mb_node(&b, "Add", "add0", ins, 2, outs, 1); mb_output(&b, "y"); } while (0)

  ADD_MODEL();
  int64_t neg[2] = {-1, 4};
  mb_initializer(&b, "w", FLOAT, 2, neg, four, sizeof four);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "negative");

  ADD_MODEL();
  int64_t huge[3] = {(int64_t)1 << 40, (int64_t)1 << 40, 16};
  mb_initializer(&b, "w", FLOAT, 3, huge, four, sizeof four);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "overflows");

  ADD_MODEL();
  int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
  mb_initializer(&b, "w", FLOAT, 9, nine, four, sizeof four);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "rank 9");

  ADD_MODEL();
  int64_t eight[1] = {8};
  mb_initializer(&b, "w", FLOAT, 1, eight, four, sizeof four);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "its shape needs 32");

  /* typed field shorter than the shape */
  ADD_MODEL();
  Onnx__TensorProto *t = mb_initializer(&b, "w", FLOAT, 1, eight, NULL, 0);
  t->n_float_data = 4;
  t->float_data = four;
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "its shape needs 32");

  /* 4 GiB claimed by a tiny file: refused before any allocation (raw and typed) */
  ADD_MODEL();
  int64_t g4[1] = {(int64_t)1 << 30};
  mb_initializer(&b, "w", FLOAT, 1, g4, four, sizeof four);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "its shape needs 4294967296");
  ADD_MODEL();
  t = mb_initializer(&b, "w", FLOAT, 1, g4, NULL, 0);
  t->n_float_data = 4;
  t->float_data = four;
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "its shape needs 4294967296");
  ADD_MODEL();
  int64_t g8[1] = {(int64_t)1 << 31};
  mb_initializer(&b, "w", FLOAT, 1, g8, four, sizeof four);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "exceed the cap");

  /* a user cap */
  ADD_MODEL();
  float big[512] = {0};
  int64_t d512[1] = {512};
  mb_initializer(&b, "w", FLOAT, 1, d512, big, sizeof big);
  size_t size;
  uint8_t *buf = mb_pack(&b, &size);
  zn_onnx_import_options o = {.max_bytes = 4096};
  zn_graph *g = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, &o, &g));
  zn_graph_destroy(g);
  g = NULL;
  o.max_bytes = 1024;
  CHECK_STATUS(zn_onnx_import_memory(buf, size, NULL, &o, &g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("cap");
  free(buf);

  /* unsupported dtype */
  ADD_MODEL();
  mb_initializer(&b, "w", ONNX__TENSOR_PROTO__DATA_TYPE__STRING, 1, eight, NULL, 0);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "STRING");

  /* double weights feeding a float op are narrowed; feeding Reshape they are refused */
  ADD_MODEL();
  double dd[4] = {0.5, 1.5, -2, 3};
  int64_t d4[1] = {4};
  mb_initializer(&b, "w", DOUBLE, 1, d4, dd, sizeof dd);
  g = NULL;
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    const zn_value *w = &g->values[zn_graph_find_value(g, "w")];
    CHECK_EQ_INT(w->dtype, ZN_DTYPE_FLOAT32);
    CHECK(w->data_bytes == 16 && ((float *)w->data)[1] == 1.5f);
  }
  zn_graph_destroy(g);
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 2, xd);
  mb_node(&b, "Reshape", "rs", ins, 2, outs, 1);
  mb_output(&b, "y");
  mb_initializer(&b, "w", DOUBLE, 1, d4, dd, sizeof dd);
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "DOUBLE");
#undef ADD_MODEL
}

static int write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int rc = fwrite(data, 1, n, f) == n ? 0 : -1;
  if (fclose(f) != 0) rc = -1;
  return rc;
}

static void test_external(void) {
  char dir[600], path[700], outside[700], model[700];
  snprintf(dir, sizeof dir, "%s/model", tmpdir);
  CHECK(mkdir(dir, 0700) == 0);
  float data[32];
  for (int i = 0; i < 32; i++) data[i] = (float)i;
  snprintf(path, sizeof path, "%s/weights.bin", dir);
  CHECK(write_bytes(path, data, sizeof data) == 0);
  snprintf(outside, sizeof outside, "%s/outside.bin", tmpdir);
  CHECK(write_bytes(outside, data, sizeof data) == 0);
  snprintf(path, sizeof path, "%s/escape.bin", dir);
  CHECK(symlink("../outside.bin", path) == 0);
  snprintf(model, sizeof model, "%s/model.onnx", dir);

  mb b;
  int64_t xd[2] = {1, 4}, d4[1] = {4};
  const char *ins[2] = {"x", "w"}, *outs[1] = {"y"};
#define EXT_MODEL(loc, off, len) do { mb_init(&b, 13); mb_input(&b, "x", FLOAT, 2, xd); \
    mb_node(&b, "Add", "add0", ins, 2, outs, 1); mb_output(&b, "y"); \
    mb_external(&b, mb_initializer(&b, "w", FLOAT, 1, d4, NULL, 0), loc, off, len); } while (0)

  /* good: 4 floats at offset 16, through import_file */
  EXT_MODEL("weights.bin", "16", "16");
  CHECK(mb_write(&b, model) == 0);
  zn_graph *g = NULL;
  CHECK_OK(zn_onnx_import_file(model, NULL, &g));
  if (g) {
    const zn_value *w = &g->values[zn_graph_find_value(g, "w")];
    CHECK(w->data_bytes == 16 && memcmp(w->data, data + 4, 16) == 0);
  }
  zn_graph_destroy(g);
  /* from memory with the folder given */
  EXPECT_IMPORT(&b, dir, ZN_OK, "");
  /* from memory without a folder: refused */
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "external data");

  EXT_MODEL("missing.bin", NULL, NULL);
  EXPECT_IMPORT(&b, dir, ZN_ERR_IO, "missing.bin");
  EXT_MODEL("../../etc/passwd", NULL, NULL);
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "inside the model folder");
  EXT_MODEL("/etc/passwd", NULL, NULL);
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "relative path");
  EXT_MODEL("sub/../../outside.bin", NULL, NULL);
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "inside the model folder");
  EXT_MODEL("escape.bin", "0", "16");
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "resolves outside the model folder");
  EXT_MODEL("weights.bin", "112", "32");
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "runs past the end");
  EXT_MODEL("weights.bin", "1000", NULL);
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "runs past the end");
  EXT_MODEL("weights.bin", "0", "8");
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "needs 16");
  EXT_MODEL("weights.bin", "-4", "16");
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "not numbers");
  /* 4 GiB claimed against a 128-byte file */
  EXT_MODEL("weights.bin", NULL, NULL);
  b.inits[0].dims[0] = (int64_t)1 << 30;
  EXPECT_IMPORT(&b, dir, ZN_ERR_INVALID_MODEL, "needs 4294967296");
#undef EXT_MODEL
  unlink(path);
  snprintf(path, sizeof path, "%s/weights.bin", dir);
  unlink(path);
  unlink(model);
  unlink(outside);
  rmdir(dir);
}

/* Attribute and input forms real exporters write. */
static void test_forms(void) {
  mb b;
  zn_graph *g = NULL;
  int64_t xd[4] = {0, 2, 4, 4};

  /* Clip: attributes before opset 11, constant inputs after (absent max = +inf) */
  mb_init(&b, 6);
  mb_input(&b, "x", FLOAT, 4, xd);
  int n = mb_node1(&b, "Clip", "c", "x", "y");
  mb_attr_float(&b, n, "min", 0.0f);
  mb_attr_float(&b, n, "max", 6.0f);
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK_EQ_INT(g->nodes[0].attrs.act.kind, ZN_ACT_CLIP);
    CHECK(g->nodes[0].attrs.act.alpha == 0.0f && g->nodes[0].attrs.act.beta == 6.0f);
    CHECK_EQ_INT(g->values[g->inputs[0]].batch_axis, 0);
  }
  zn_graph_destroy(g);

  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 4, xd);
  float lo = -1.0f;
  mb_initializer(&b, "lo", FLOAT, 0, NULL, &lo, 4);
  const char *cins[3] = {"x", "lo", ""}, *couts[1] = {"y"};
  mb_node(&b, "Clip", "c", cins, 3, couts, 1);
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK(g->nodes[0].attrs.act.alpha == -1.0f && isinf(g->nodes[0].attrs.act.beta));
    CHECK_EQ_INT(g->nodes[0].num_inputs, 1);
  }
  zn_graph_destroy(g);

  /* Clip min computed by a node: refused, naming the reason */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 4, xd);
  mb_node1(&b, "Relu", "r", "x", "lo");
  mb_node(&b, "Clip", "c", cins, 3, couts, 1);
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "Clip min must be a constant");

  /* Constant node (value_ints) feeding Unsqueeze's axes (opset 13); Squeeze with the attribute (opset 11) */
  mb_init(&b, 13);
  mb_input(&b, "x", FLOAT, 4, xd);
  const char *no_in[1] = {NULL}, *axes_out[1] = {"axes"};
  n = mb_node(&b, "Constant", "k", no_in, 0, axes_out, 1);
  Onnx__AttributeProto *a = mb_attr(&b, n, "value_ints");
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  int64_t ax[2] = {0, -1};
  a->n_ints = 2;
  a->ints = ax;
  const char *uins[2] = {"x", "axes"}, *uouts[1] = {"y"};
  mb_node(&b, "Unsqueeze", "u", uins, 2, uouts, 1);
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK_EQ_INT(g->num_nodes, 1);
    CHECK_EQ_INT(g->nodes[0].attrs.axes.num_axes, 2);
    CHECK_EQ_INT(g->nodes[0].attrs.axes.axes[1], -1);
  }
  zn_graph_destroy(g);

  /* Pad: attribute form (opset 2) and input form (opset 11), reflect */
  mb_init(&b, 2);
  mb_input(&b, "x", FLOAT, 4, xd);
  n = mb_node1(&b, "Pad", "p", "x", "y");
  int64_t pads[8] = {0, 0, 1, 2, 0, 0, 3, 4};
  mb_attr_ints(&b, n, "pads", 8, pads);
  mb_attr_float(&b, n, "value", 0.5f);
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK_EQ_INT(g->nodes[0].attrs.pad.num_pads, 8);
    CHECK_EQ_INT(g->nodes[0].attrs.pad.pads[6], 3);
    CHECK(g->nodes[0].attrs.pad.value == 0.5f);
  }
  zn_graph_destroy(g);
  mb_init(&b, 11);
  mb_input(&b, "x", FLOAT, 4, xd);
  int64_t d8[1] = {8};
  mb_initializer(&b, "pads", INT64, 1, d8, pads, sizeof pads);
  const char *pins[2] = {"x", "pads"};
  n = mb_node(&b, "Pad", "p", pins, 2, uouts, 1);
  mb_attr_string(&b, n, "mode", "reflect");
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK_EQ_INT(g->nodes[0].attrs.pad.mode, ZN_PAD_REFLECT);
    CHECK_EQ_INT(g->nodes[0].attrs.pad.pads[7], 4);
  }
  zn_graph_destroy(g);
  mb_attr_string(&b, n, "mode", "wrap"); /* a later "mode" does not replace the first: use a fresh model */
  mb_init(&b, 19);
  mb_input(&b, "x", FLOAT, 4, xd);
  mb_initializer(&b, "pads", INT64, 1, d8, pads, sizeof pads);
  n = mb_node(&b, "Pad", "p", pins, 2, uouts, 1);
  mb_attr_string(&b, n, "mode", "wrap");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "Pad mode");

  /* Softmax before opset 13 is the legacy 2-D form; MaxPool attributes; Dropout -> Identity */
  mb_init(&b, 11);
  mb_input(&b, "x", FLOAT, 4, xd);
  n = mb_node1(&b, "MaxPool", "mp", "x", "m");
  int64_t k2[2] = {2, 2}, s2[2] = {2, 2};
  mb_attr_ints(&b, n, "kernel_shape", 2, k2);
  mb_attr_ints(&b, n, "strides", 2, s2);
  mb_attr_int(&b, n, "ceil_mode", 1);
  mb_attr_string(&b, n, "auto_pad", "SAME_LOWER");
  const char *dins[1] = {"m"}, *douts[2] = {"d", "mask"};
  mb_node(&b, "Dropout", "dr", dins, 1, douts, 2);
  mb_node1(&b, "Softmax", "sm", "d", "y");
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK_EQ_INT(g->num_nodes, 3);
    CHECK(g->nodes[0].attrs.pool.ceil_mode);
    CHECK_EQ_INT(g->nodes[0].attrs.pool.auto_pad, ZN_AUTO_PAD_SAME_LOWER);
    CHECK_EQ_INT(g->nodes[0].attrs.pool.stride[1], 2);
    CHECK_EQ_INT(g->nodes[1].op, ZN_OP_IDENTITY);
    CHECK(g->nodes[2].attrs.softmax.legacy_2d);
    CHECK_EQ_INT(g->nodes[2].attrs.softmax.axis, 1);
  }
  zn_graph_destroy(g);
  /* ... but a used Dropout mask is refused */
  mb_output(&b, "mask");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "mask");

  /* BatchNormalization in training mode is refused */
  mb_init(&b, 15);
  mb_input(&b, "x", FLOAT, 4, xd);
  float two[2] = {1, 1};
  int64_t d2[1] = {2};
  mb_initializer(&b, "s", FLOAT, 1, d2, two, sizeof two);
  const char *bins[5] = {"x", "s", "s", "s", "s"}, *bouts[1] = {"y"};
  n = mb_node(&b, "BatchNormalization", "bn", bins, 5, bouts, 1);
  mb_attr_int(&b, n, "training_mode", 1);
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "training_mode");

  /* Slice before opset 10: attributes become constant inputs */
  mb_init(&b, 9);
  mb_input(&b, "x", FLOAT, 4, xd);
  n = mb_node1(&b, "Slice", "sl", "x", "y");
  int64_t st[1] = {1}, en[1] = {3}, axs[1] = {2};
  mb_attr_ints(&b, n, "starts", 1, st);
  mb_attr_ints(&b, n, "ends", 1, en);
  mb_attr_ints(&b, n, "axes", 1, axs);
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    CHECK_EQ_INT(g->nodes[0].num_inputs, 4);
    const zn_value *e = &g->values[g->nodes[0].inputs[2]];
    CHECK(e->data && e->dtype == ZN_DTYPE_INT64 && ((int64_t *)e->data)[0] == 3);
  }
  zn_graph_destroy(g);
}

/* The forms torchvision 0.14's Swin-T writes at opset 14: window pads computed
 * from the input's shape (Shape -> Gather -> Mod -> Sub -> Mod -> Concat -> Pad),
 * kept as Pad's input at import and moved into its attributes by shape inference
 * with the batch still symbolic; Dropout in training mode with ratio 0 (the
 * identity); and Mod / ScatterND attributes out of range. */
static void test_swin_forms(void) {
  mb b;
  zn_graph *g = NULL;
  const int64_t xd[4] = {-1, 5, 5, 2}, d1[1] = {1}, d4[1] = {4};
  const int64_t one[1] = {1}, three = 3, zeros4[4] = {0, 0, 0, 0}, zero1[1] = {0}, axes0[1] = {0};
  mb_init(&b, 14);
  mb_input(&b, "x", FLOAT, 4, xd);
  mb_initializer(&b, "i1", INT64, 0, NULL, one, 8);
  mb_initializer(&b, "w", INT64, 0, NULL, &three, 8);
  mb_initializer(&b, "z4", INT64, 1, d4, zeros4, sizeof zeros4);
  mb_initializer(&b, "z1", INT64, 1, d1, zero1, 8);
  mb_initializer(&b, "ax", INT64, 1, d1, axes0, 8);
  mb_node1(&b, "Shape", "shape", "x", "sh");
  const char *gi[2] = {"sh", "i1"}, *go[1] = {"h"};
  mb_node(&b, "Gather", "gather", gi, 2, go, 1);
  const char *m1i[2] = {"h", "w"}, *m1o[1] = {"m"};
  mb_node(&b, "Mod", "mod1", m1i, 2, m1o, 1);
  const char *si[2] = {"w", "m"}, *so[1] = {"s"};
  mb_node(&b, "Sub", "sub", si, 2, so, 1);
  const char *m2i[2] = {"s", "w"}, *m2o[1] = {"p"};
  mb_node(&b, "Mod", "mod2", m2i, 2, m2o, 1);
  const char *ui[2] = {"p", "ax"}, *uo[1] = {"pu"};
  mb_node(&b, "Unsqueeze", "unsq", ui, 2, uo, 1);
  const char *ci[5] = {"z4", "z1", "pu", "pu", "z1"}, *co[1] = {"pads"};
  int n = mb_node(&b, "Concat", "concat", ci, 5, co, 1);
  mb_attr_int(&b, n, "axis", 0);
  const char *pi[2] = {"x", "pads"}, *po[1] = {"y"};
  mb_node(&b, "Pad", "pad", pi, 2, po, 1);
  mb_output(&b, "y");
  CHECK_OK(import_mb(&b, NULL, &g));
  if (g) {
    const int pad = g->num_nodes - 1;
    CHECK_EQ_INT(g->nodes[pad].op, ZN_OP_PAD);
    CHECK_EQ_INT(g->nodes[pad].num_inputs, 2);  /* pads kept: not a constant yet */
    CHECK_OK(zn_graph_infer_shapes(g));
    CHECK(!g->static_batch);
    const zn_node *pn = &g->nodes[pad];
    CHECK_EQ_INT(pn->num_inputs, 1);
    CHECK_EQ_INT(pn->attrs.pad.num_pads, 8);
    const int64_t want[8] = {0, 0, 0, 0, 0, 1, 1, 0};  /* (3 - 5 % 3) % 3 = 1 after H and W */
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(pn->attrs.pad.pads[i], want[i]);
    const zn_value *y = &g->values[pn->outputs[0]];
    CHECK_EQ_INT(y->batch_axis, 0);
    CHECK_EQ_INT(y->dims[1], 6);
    CHECK_EQ_INT(y->dims[2], 6);
  }
  zn_graph_destroy(g);

  /* Dropout(ratio 0, training_mode true) is the identity; a non-zero ratio is refused */
  const float ratio0 = 0.0f, ratio5 = 0.5f;
  const uint8_t yes = 1;
  for (int k = 0; k < 2; k++) {
    mb_init(&b, 14);
    mb_input(&b, "x", FLOAT, 4, xd);
    mb_initializer(&b, "r", FLOAT, 0, NULL, k ? &ratio5 : &ratio0, 4);
    mb_initializer(&b, "t", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 0, NULL, &yes, 1);
    const char *di[3] = {"x", "r", "t"}, *dout[1] = {"y"};
    mb_node(&b, "Dropout", "drop", di, 3, dout, 1);
    mb_output(&b, "y");
    if (k == 0) {
      CHECK_OK(import_mb(&b, NULL, &g));
      CHECK(g && g->num_nodes == 1 && g->nodes[0].op == ZN_OP_IDENTITY && g->nodes[0].num_inputs == 1);
      zn_graph_destroy(g);
    } else {
      EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "training_mode=true with a non-zero ratio");
    }
  }

  /* Mod's fmod is 0 or 1; ScatterND's reduction none, add or mul */
  mb_init(&b, 16);
  mb_input(&b, "x", FLOAT, 4, xd);
  const char *mi[2] = {"x", "x"}, *mo[1] = {"y"};
  n = mb_node(&b, "Mod", "mod", mi, 2, mo, 1);
  mb_attr_int(&b, n, "fmod", 2);
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_INVALID_MODEL, "fmod = 2, must be 0 or 1");
  mb_init(&b, 18);
  mb_input(&b, "x", FLOAT, 4, xd);
  mb_initializer(&b, "i", INT64, 2, (int64_t[]){1, 1}, one, 8);
  const char *sci[3] = {"x", "i", "x"}, *sco[1] = {"y"};
  n = mb_node(&b, "ScatterND", "scatter", sci, 3, sco, 1);
  mb_attr_string(&b, n, "reduction", "max");
  mb_output(&b, "y");
  EXPECT_IMPORT(&b, NULL, ZN_ERR_UNSUPPORTED_OP, "reduction other than none, add or mul");
}

int zn_test_main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/zn_onnx_import_XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) {
    fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  test_good();
  test_truncated_and_random();
  test_structure();
  test_tensors();
  test_external();
  test_forms();
  test_swin_forms();
  rmdir(tmpdir);
  return 0;
}
