/* "auto" per node (runtime/partition.h): a graph whose ReduceMean over
 * channels and Erf no fast backend runs is cut into segments, the fast
 * backend's and ref's, and gives ref's outputs: through the partition table
 * directly (batches, threads, reshape, profile steps) and through the public
 * API (the backend name, the warnings, describe, profile, export, bf16). */
#include <unistd.h>

#include "unit/backend/backend_test.h"

#include "onnx/onnx.h"
#include "runtime/partition.h"
#include "zenith.h"

static char warnings[8192];

static void capture(zn_log_level level, const char *message, void *user) {
  (void)user;
  if (level != ZN_LOG_WARN) return;
  size_t used = strlen(warnings);
  snprintf(warnings + used, sizeof warnings - used, "%s\n", message);
}

/* x [N,8,10,10] -> conv 3x3 + ReLU = c1 (also an output) -> mean over
 * channels m -> a = c1 + m -> conv 1x1 c2 -> erf e -> global pool -> flatten
 * -> gemm y [N,10]. The fast backends refuse ReduceMean (channels) and Erf:
 * five segments, c1 read by the second and the third. */
static zn_graph *mixed_graph(void) {
  zn_graph *g = bt_graph();
  g->opset = 13;
  int64_t xd[4] = {1, 8, 10, 10}, w1d[4] = {16, 8, 3, 3}, b1d[1] = {16}, w2d[4] = {16, 16, 1, 1}, wfd[2] = {10, 16},
          bfd[1] = {10};
  int x = bt_input(g, "x", 4, xd);
  int w1 = bt_const(g, "w1", 4, w1d, 1, -0.3f, 0.3f), b1 = bt_const(g, "b1", 1, b1d, 2, -0.1f, 0.1f);
  int w2 = bt_const(g, "w2", 4, w2d, 3, -0.3f, 0.3f);
  int wf = bt_const(g, "wf", 2, wfd, 4, -0.3f, 0.3f), bf = bt_const(g, "bf", 1, bfd, 5, -0.1f, 0.1f);
  int c1, m, a, c2, e, p, f, y;
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv1", 3, (int[]){x, w1, b1}, "c1", &c1);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  n = bt_node(g, ZN_OP_REDUCE_MEAN, "mean", 1, &c1, "m", &m);
  n->attrs.reduce.num_axes = 1;
  n->attrs.reduce.axes[0] = 1;
  n->attrs.reduce.keepdims = true;
  bt_node(g, ZN_OP_ADD, "add", 2, (int[]){c1, m}, "a", &a);
  bt_conv1x1(g, "conv2", 2, (int[]){a, w2}, "c2", &c2, bt_act(ZN_ACT_NONE, 0, 0));
  bt_node(g, ZN_OP_ERF, "erf", 1, &c2, "e", &e);
  bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "pool", 1, &e, "p", &p);
  bt_node(g, ZN_OP_FLATTEN, "flatten", 1, &p, "f", &f)->attrs.axis.axis = 1;
  n = bt_node(g, ZN_OP_GEMM, "fc", 3, (int[]){f, wf, bf}, "y", &y);
  n->attrs.gemm.trans_b = true;
  n->attrs.gemm.alpha = n->attrs.gemm.beta = 1.0f;
  zn_graph_mark_output(g, y);
  zn_graph_mark_output(g, c1);
  if (zn_graph_verify(g) != ZN_OK || zn_graph_infer_shapes(g) != ZN_OK) bt_setup_failed("graph", zn_last_error());
  return g;
}

static bool have(const char *name) { return zn_backend_find(name) != NULL; }

/* The partition table on its own, against ref's run of the whole graph. */
static void test_segments(const char *fast_name) {
  const zn_backend_ops *order[2] = {zn_backend_find(fast_name), zn_backend_find("ref")};
  zn_graph *g = mixed_graph();
  int assign[16];
  zn_partition_assign(g, order, 2, assign, NULL);
  void *compiled = NULL, *inst = NULL;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_FP32};
  CHECK_OK(zn_partition_compile(g, order, assign, &co, &compiled));
  if (!compiled) {
    zn_graph_destroy(g);
    return;
  }
  const zn_backend_ops *b = &zn_partition_backend;
  char want_name[64];
  snprintf(want_name, sizeof want_name, "%s+ref", fast_name);
  CHECK(strcmp(zn_partition_name(compiled), want_name) == 0);
  if (strcmp(fast_name, "onednn") == 0) CHECK_EQ_INT(zn_partition_num_segments(compiled), 5);
  CHECK(zn_partition_num_segments(compiled) >= 3);
  CHECK(b->weight_bytes(compiled) > 0);
  for (int threads = 1; threads <= 2; threads++) {
    zn_backend_instance_options io = {threads, NULL, 0, NULL};
    CHECK_OK(b->instance_create(compiled, &io, &inst));
    if (!inst) break;
    const int64_t batches[3] = {1, 3, 2}; /* and reshaped in between */
    for (int k = 0; k < 3; k++) {
      bt_io got, want;
      CHECK(bt_io_init(&got, g, batches[k], 7) && bt_io_init(&want, g, batches[k], 7));
      CHECK_OK(bt_run(&zn_backend_ref, g, batches[k], ZN_PRECISION_FP32, 1, &want));
      CHECK_OK(b->instance_reshape(inst, batches[k]));
      CHECK(b->instance_arena_bytes(inst) > 0);
      /* one arena for every segment: the largest, not their sum */
      zn_partition_memory mem;
      zn_partition_instance_memory(inst, &mem);
      CHECK(b->instance_arena_bytes(inst) == mem.block_bytes + mem.slot_bytes);
      CHECK(mem.block_bytes > 0 && mem.block_bytes < mem.segments_bytes);
      CHECK(mem.slot_bytes > 0);
      CHECK_OK(b->instance_run(inst, (const void *const *)got.in, (void *const *)got.out));
      for (int o = 0; o < 2; o++) {
        double err = bt_rel_err(got.out[o], want.out[o], got.out_count[o]);
        if (!(err <= 1e-5)) fprintf(stderr, "%s, %d threads, batch %lld, output %d: error %.3g\n", fast_name, threads,
                                    (long long)batches[k], o, err);
        CHECK(err <= 1e-5);
      }
      /* the profile: steps numbered into the whole graph, kernels named by backend */
      int steps = b->instance_num_steps(inst);
      CHECK(steps >= zn_partition_num_segments(compiled));
      int64_t ns[64] = {0};
      if (steps > 0 && steps <= 64) {
        CHECK_OK(b->instance_run_profiled(inst, (const void *const *)got.in, (void *const *)got.out, ns));
        bool saw_mean = false, saw_erf = false;
        for (int i = 0; i < steps; i++) {
          zn_backend_step s;
          b->instance_step(inst, i, &s);
          CHECK(strncmp(s.kernel, "ref: ", 5) == 0 || strncmp(s.kernel, fast_name, strlen(fast_name)) == 0);
          for (int j = 0; j < s.num_nodes; j++) {
            CHECK(s.nodes[j] >= 0 && s.nodes[j] < g->num_nodes);
            if (s.nodes[j] < 0 || s.nodes[j] >= g->num_nodes) continue;
            const char *name = g->nodes[s.nodes[j]].name;
            if (strcmp(name, "mean") == 0) saw_mean = strncmp(s.kernel, "ref: ", 5) == 0;
            if (strcmp(name, "erf") == 0) saw_erf = strncmp(s.kernel, "ref: ", 5) == 0;
          }
        }
        CHECK(saw_mean && saw_erf);
      }
      bt_io_deinit(&got);
      bt_io_deinit(&want);
    }
    b->instance_destroy(inst);
    inst = NULL;
  }
  char text[8192];
  size_t len = b->describe(compiled, text, sizeof text);
  if (getenv("ZN_TEST_VERBOSE")) fputs(text, stdout);
  char want[160];
  snprintf(want, sizeof want, "segment 2: ref, %s ('mean%s'); %s refused 'mean': ReduceMean is not implemented",
           strcmp(fast_name, "onednn") == 0 ? "1 node" : "2 nodes", strcmp(fast_name, "onednn") == 0 ? "" : "'..'add",
           fast_name);
  CHECK(len > 0 && strstr(text, want) != NULL);
  b->compiled_destroy(compiled);
  zn_graph_destroy(g);
}

/* A graph output no node computes (an input passed through) is not split. */
static void test_refuses_passthrough(void) {
  const zn_backend_ops *order[2] = {zn_backend_find("ref"), zn_backend_find("ref")};
  zn_graph *g = bt_graph();
  int64_t d[2] = {1, 4};
  int x = bt_input(g, "x", 2, d), y;
  bt_node(g, ZN_OP_RELU, "relu", 1, &x, "y", &y);
  zn_graph_mark_output(g, y);
  zn_graph_mark_output(g, x);
  CHECK_OK(zn_graph_infer_shapes(g));
  int assign[1] = {0};
  void *compiled = (void *)1;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_FP32};
  CHECK_STATUS(zn_partition_compile(g, order, assign, &co, &compiled), ZN_ERR_UNSUPPORTED_OP);
  CHECK(compiled == NULL);
  CHECK_ERROR_HAS("output 'x' is not computed by a node");
  zn_graph_destroy(g);
}

static zn_status load(const void *onnx, size_t size, const char *backend, zn_precision precision, bool keep,
                      zn_model **out) {
  zn_model_options o = zn_model_options_default();
  o.backend = backend;
  o.precision = precision;
  o.keep_graph_weights = keep;
  warnings[0] = '\0';
  return zn_model_load_memory(onnx, size, NULL, &o, out);
}

static void run_model(zn_model *m, int64_t batch, float *x, float *y, float *c1) {
  zn_instance_options io = zn_instance_options_default();
  io.batch = batch;
  io.num_threads = 2;
  zn_instance *inst = NULL;
  CHECK_OK(zn_instance_create(m, &io, &inst));
  const void *ins[1] = {x};
  void *outs[2] = {y, c1};
  if (inst) CHECK_OK(zn_instance_run(inst, ins, outs));
  zn_instance_destroy(inst);
}

/* Through the public API, as `zenith run --backend auto` sees it. */
static void test_model_auto(void) {
  const char *fast = zn_backend_resolve("auto");
  if (strcmp(fast, "ref") == 0) return;
  zn_graph *g = mixed_graph();
  void *onnx = NULL;
  size_t size = 0;
  CHECK_OK(zn_onnx_export_memory(g, &onnx, &size));
  zn_graph_destroy(g);
  if (!onnx) return;
  zn_model *a = NULL, *r = NULL;
  CHECK_OK(load(onnx, size, "ref", ZN_PRECISION_FP32, false, &r));
  CHECK_OK(load(onnx, size, "auto", ZN_PRECISION_FP32, false, &a));
  if (a && r) {
    char want[64];
    snprintf(want, sizeof want, "%s+ref", fast);
    CHECK(strcmp(zn_model_backend(a), want) == 0);
    snprintf(want, sizeof want, "backend '%s' does not support node 'mean' (ReduceMean", fast);
    CHECK(strstr(warnings, want) != NULL);
    CHECK(strstr(warnings, "does not support node 'erf' (Erf") != NULL);
    CHECK(strstr(warnings, "segments (zn_model_describe lists them)") != NULL);
    char text[16384];
    zn_model_describe(a, text, sizeof text);
    CHECK(strstr(text, "auto per node:") != NULL && strstr(text, "segment 2: ref") != NULL);
    CHECK(zn_model_weight_bytes(a) > 0);
    /* the segments took the weights: the graph cannot be written back */
    CHECK_STATUS(zn_model_export_onnx(a, "/nonexistent/partition.onnx"), ZN_ERR_INVALID_STATE);
    const int64_t batch = 3;
    float x[3 * 8 * 100], ya[30], yr[30], ca[3 * 1600], cr[3 * 1600];
    uint64_t seed = 11;
    for (size_t i = 0; i < ZN_ARRAY_SIZE(x); i++) x[i] = zn_test_rand_uniform(&seed, -1.f, 1.f);
    run_model(a, batch, x, ya, ca);
    run_model(r, batch, x, yr, cr);
    CHECK(bt_rel_err(ya, yr, 30) <= 1e-5);
    CHECK(bt_rel_err(ca, cr, 3 * 1600) <= 1e-5);
    /* profile: every node stepped or folded, none lost */
    zn_instance *inst = NULL;
    CHECK_OK(zn_instance_create(a, NULL, &inst));
    zn_profile *p = NULL;
    const void *ins[1] = {x};
    void *outs[2] = {ya, ca};
    if (inst) CHECK_OK(zn_instance_profile(inst, ins, outs, &p));
    if (p) {
      size_t refs = 0;
      bool ref_mean = false;
      for (size_t i = 0; i < zn_profile_num_steps(p); i++) {
        zn_profile_step_info s;
        CHECK_OK(zn_profile_step(p, i, &s));
        for (size_t k = 0; k < (size_t)s.num_nodes; k++) {
          refs++;
          if (strcmp(s.node_names[k], "mean") == 0) ref_mean = strncmp(s.kernel, "ref: ", 5) == 0;
        }
      }
      CHECK(ref_mean);
      CHECK(refs + zn_profile_num_unstepped_nodes(p) >= 8);
    }
    zn_profile_destroy(p);
    zn_instance_destroy(inst);
  }
  zn_model_destroy(a);
  a = NULL;
  /* a named backend still runs every node or refuses */
  CHECK_STATUS(load(onnx, size, fast, ZN_PRECISION_FP32, false, &a), ZN_ERR_UNSUPPORTED_OP);
  CHECK_ERROR_HAS("does not support node 'mean'");
  /* kept weights: the graph can be exported */
  CHECK_OK(load(onnx, size, "auto", ZN_PRECISION_FP32, true, &a));
  if (a) {
    char path[] = "/tmp/zn-test-partition-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
      close(fd);
      CHECK_OK(zn_model_export_onnx(a, path));
      remove(path);
    }
  }
  zn_model_destroy(a);
  a = NULL;
  /* bf16: the fast segments in bf16, ref's in fp32, said in describe */
  zn_status st = load(onnx, size, "auto", ZN_PRECISION_BF16, false, &a);
  if (st == ZN_OK) {
    char text[16384];
    zn_model_describe(a, text, sizeof text);
    CHECK(strstr(text, "(fp32: ref has no bf16)") != NULL);
  } else {
    printf("bf16 case skipped: %s\n", zn_last_error());
  }
  zn_model_destroy(a);
  zn_model_destroy(r);
  zn_free(onnx);
}

int zn_test_main(void) {
  zn_log_set(capture, NULL, ZN_LOG_WARN);
  const char *fast[2] = {"onednn", "xnnpack"};
  for (int k = 0; k < 2; k++)
    if (have(fast[k])) test_segments(fast[k]);
  test_refuses_passthrough();
  test_model_auto();
  return 0;
}
