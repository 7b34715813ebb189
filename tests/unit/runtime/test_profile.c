/* zn_instance_profile on every built backend (squeezenet1_1 at batch 2; on
 * onednn also densenet161, whose concat + batch norm + ReLU run as one own
 * step): steps have a kernel text and a non-negative time; every node of
 * the optimised graph is named exactly once, either by one step or in the
 * unstepped list, and only the kinds a backend folds away at compile may be
 * unstepped; Conv/Gemm MACs add up to the model's; the profiled run's
 * outputs equal a plain run's (bitwise on 1 thread, relative error <= 1e-5
 * on 2 threads, where oneDNN may switch primitive sets between runs); bad
 * arguments, a backend without a profile and allocation failures give their
 * status. No timing is asserted. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

#include "harness.h"
#include "zenith.h"

#include "core/alloc.h"
#include "runtime/model.h"

static bool have_backend(const char *name) {
  for (size_t i = 0; i < zn_backend_count(); i++)
    if (strcmp(zn_backend_name(i), name) == 0) return true;
  return false;
}

static zn_model *open_model(const char *zoo, const char *backend) {
  zn_model_options o = zn_model_options_default();
  o.backend = backend;
  o.tune_batch = 2;
  zn_model *m = NULL;
  CHECK_OK(zn_model_from_zoo(zoo, 1, &o, &m));
  return m;
}

/* Op types a backend may leave without a step (it folds them at compile). */
static bool may_be_unstepped(const char *backend, const char *op) {
  if (strcmp(backend, "onednn") != 0) return false;  /* ref and xnnpack: one step per node */
  static const char *const folded[] = {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Concat"};
  for (size_t i = 0; i < sizeof folded / sizeof folded[0]; i++)
    if (strcmp(op, folded[i]) == 0) return true;
  return false;
}

/* Every node of the model's optimised graph is named once: by one step or as unstepped. */
static void check_coverage(const zn_model *m, const zn_profile *p, const char *backend, bool *saw_fused_bn) {
  const zn_graph *g = m->graph;
  int *seen = calloc((size_t)g->num_nodes + 1, sizeof *seen);
  CHECK(seen != NULL);
  if (!seen) return;
  int64_t macs = 0;
  for (size_t i = 0; i < zn_profile_num_steps(p); i++) {
    zn_profile_step_info s;
    CHECK_OK(zn_profile_step(p, i, &s));
    CHECK(s.kernel && s.kernel[0] != '\0');
    CHECK(s.seconds >= 0.0);
    CHECK(s.macs >= 0);
    if (strcmp(backend, "ref") == 0) CHECK_EQ_INT(s.num_nodes, 1);
    macs += s.macs;
    for (int k = 0; k < s.num_nodes; k++) {
      int found = -1;
      for (int j = 0; j < g->num_nodes && found < 0; j++)
        if (strcmp(g->nodes[j].name, s.node_names[k]) == 0) found = j;
      CHECK(found >= 0);
      if (found < 0) continue;
      CHECK(strcmp(s.op_types[k], zn_op_name(g->nodes[found].op)) == 0);
      seen[found]++;
      if (k > 0 && strcmp(s.op_types[k], "BatchNormalization") == 0) *saw_fused_bn = true;
    }
  }
  for (size_t u = 0; u < zn_profile_num_unstepped_nodes(p); u++) {
    const char *name = zn_profile_unstepped_node_name(p, u), *op = zn_profile_unstepped_op_type(p, u);
    CHECK(name && op);
    if (!name || !op) continue;
    if (!may_be_unstepped(backend, op)) fprintf(stderr, "  %s: node %s (%s) has no step\n", backend, name, op);
    CHECK(may_be_unstepped(backend, op));
    for (int j = 0; j < g->num_nodes; j++)
      if (strcmp(g->nodes[j].name, name) == 0) seen[j]++;
  }
  for (int j = 0; j < g->num_nodes; j++) {
    if (seen[j] != 1) fprintf(stderr, "  %s: node %s named %d times\n", backend, g->nodes[j].name, seen[j]);
    CHECK_EQ_INT(seen[j], 1);
  }
  CHECK_EQ_INT(macs, 2 * zn_model_macs_per_image(m));  /* batch 2: every Conv/Gemm/MatMul is in a step */
  CHECK(zn_profile_unstepped_node_name(p, zn_profile_num_unstepped_nodes(p)) == NULL);
  free(seen);
}

/* Profile (twice) against plain runs on `threads` threads. */
static void check_model(const char *zoo, const char *backend, int threads, bool *saw_fused_bn) {
  zn_model *m = open_model(zoo, backend);
  if (!m) return;
  zn_instance_options io = zn_instance_options_default();
  io.batch = 2;
  io.num_threads = threads;
  zn_instance *inst = NULL;
  CHECK_OK(zn_instance_create(m, &io, &inst));
  const size_t in_bytes = inst ? zn_instance_input_bytes(inst, 0) : 0;
  const size_t out_bytes = inst ? zn_instance_output_bytes(inst, 0) : 0;
  float *x = malloc(in_bytes + 4), *plain = calloc(out_bytes + 4, 1), *prof = calloc(out_bytes + 4, 1);
  CHECK(x && plain && prof);
  if (inst && x && plain && prof) {
    uint64_t rng = 7;
    for (size_t e = 0; e < in_bytes / 4; e++) x[e] = zn_test_rand_uniform(&rng, -1.0f, 1.0f);
    const void *ins[1] = {x};
    void *outs_plain[1] = {plain}, *outs_prof[1] = {prof};
    CHECK_OK(zn_instance_run(inst, ins, outs_plain));
    for (int rep = 0; rep < 2; rep++) {
      zn_profile *p = NULL;
      memset(prof, 0xff, out_bytes);
      CHECK_OK(zn_instance_profile(inst, ins, outs_prof, &p));
      CHECK(p != NULL);
      if (!p) continue;
      CHECK(zn_profile_num_steps(p) > 0);
      CHECK(zn_profile_total_seconds(p) > 0.0);
      check_coverage(m, p, backend, saw_fused_bn);
      const int64_t n = (int64_t)(out_bytes / 4);
      if (threads == 1) CHECK(memcmp(plain, prof, out_bytes) == 0);
      else CHECK(zn_test_rel_err(prof, plain, n) <= 1e-5);
      printf("  %s %s %d thread(s): %zu steps, %zu unstepped nodes, rel err %.3g\n", zoo, backend, threads,
             zn_profile_num_steps(p), zn_profile_num_unstepped_nodes(p), zn_test_rel_err(prof, plain, n));
      zn_profile_destroy(p);
    }
  }
  free(x);
  free(plain);
  free(prof);
  zn_instance_destroy(inst);
  zn_model_destroy(m);
}

static void check_errors(void) {
  zn_model *m = open_model("squeezenet1_1", "ref");
  zn_instance_options io = zn_instance_options_default();
  io.batch = 2;
  zn_instance *inst = NULL;
  if (m) CHECK_OK(zn_instance_create(m, &io, &inst));
  if (!inst) {
    zn_model_destroy(m);
    return;
  }
  float *x = calloc(zn_instance_input_bytes(inst, 0), 1), *y = calloc(zn_instance_output_bytes(inst, 0), 1);
  const void *ins[1] = {x};
  void *outs[1] = {y};
  zn_profile *p = (zn_profile *)&p;
  CHECK_STATUS(zn_instance_profile(NULL, ins, outs, &p), ZN_ERR_INVALID_ARGUMENT);
  CHECK(p == NULL);
  CHECK_STATUS(zn_instance_profile(inst, ins, outs, NULL), ZN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zn_instance_profile(inst, NULL, outs, &p), ZN_ERR_INVALID_ARGUMENT);
  void *no_out[1] = {NULL};
  CHECK_STATUS(zn_instance_profile(inst, ins, no_out, &p), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("output 0");

  /* accessors on NULL and out of range */
  zn_profile_step_info info;
  CHECK_EQ_INT(zn_profile_num_steps(NULL), 0);
  CHECK_EQ_INT(zn_profile_num_unstepped_nodes(NULL), 0);
  CHECK(zn_profile_unstepped_node_name(NULL, 0) == NULL);
  CHECK(zn_profile_total_seconds(NULL) == 0.0);
  CHECK_STATUS(zn_profile_step(NULL, 0, &info), ZN_ERR_INVALID_ARGUMENT);
  zn_profile_destroy(NULL);
  CHECK_OK(zn_instance_profile(inst, ins, outs, &p));
  if (p) {
    CHECK_EQ_INT(zn_profile_num_unstepped_nodes(p), 0);  /* ref: one step per node */
    CHECK_STATUS(zn_profile_step(p, zn_profile_num_steps(p), &info), ZN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(zn_profile_step(p, 0, NULL), ZN_ERR_INVALID_ARGUMENT);
    zn_profile_destroy(p);
  }

  /* a backend without the per-step entries (the ref table without them) */
  const zn_backend_ops *saved = m->backend;
  zn_backend_ops bare = *saved;
  bare.instance_num_steps = NULL;
  bare.instance_run_profiled = NULL;
  bare.instance_step = NULL;
  m->backend = &bare;
  p = (zn_profile *)&p;
  CHECK_STATUS(zn_instance_profile(inst, ins, outs, &p), ZN_ERR_UNSUPPORTED_OP);
  CHECK_ERROR_HAS("no per-step profile");
  CHECK(p == NULL);
  m->backend = saved;

  /* every allocation of the profile failing in turn: a clean ZN_ERR_OUT_OF_MEMORY (leaks: the sanitizer run) */
  zn_test_failing f = {0, LONG_MAX};
  zn_allocator a = {&f, zn_test_failing_alloc, zn_test_failing_free};
  zn_allocator_set(&a);
  zn_status st = zn_instance_profile(inst, ins, outs, &p);
  zn_allocator_set(NULL);
  CHECK_OK(st);
  zn_profile_destroy(p);
  const long total = f.count;
  CHECK(total >= 4);
  for (long k = 0; k < total; k++) {
    f = (zn_test_failing){0, k};
    p = (zn_profile *)&p;
    zn_allocator_set(&a);
    st = zn_instance_profile(inst, ins, outs, &p);
    zn_allocator_set(NULL);
    CHECK_STATUS(st, ZN_ERR_OUT_OF_MEMORY);
    CHECK(p == NULL);
  }
  free(x);
  free(y);
  zn_instance_destroy(inst);
  zn_model_destroy(m);
}

int zn_test_main(void) {
  static const char *const backends[] = {"ref", "onednn", "xnnpack"};
  for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
    if (!have_backend(backends[b])) {
      printf("  %s: not built, skipped\n", backends[b]);
      continue;
    }
    bool fused_bn = false;
    check_model("squeezenet1_1", backends[b], 1, &fused_bn);
    if (strcmp(backends[b], "ref") != 0) check_model("squeezenet1_1", backends[b], 2, &fused_bn);
    if (strcmp(backends[b], "onednn") == 0) {
      check_model("densenet161", "onednn", 1, &fused_bn);
      CHECK(fused_bn);  /* concat + batch norm (+ ReLU) as one own step */
    }
  }
  check_errors();
  return 0;
}
