/* Interop runner: loads the ONNX files that PyTorch's exporter wrote
 * (tests/interop/export_torchvision.py: <root>/<case>/model.onnx with
 * test_data_set_0/{input_0,output_0}.pb) through the public API on each backend
 * asked for, runs them and compares the logits with PyTorch's. A dynamic-batch
 * model is also run again at batch 1 (instance reshape) on the first image.
 * A fast backend that refuses a node of a case (ViT's Expand, attention on
 * [12N,197,64]) is a stated "decl" row, not a failure, provided "auto" (that
 * backend per node, the rest on others) passes the same case.
 * Prints one table row per case and backend, then "N passed, N failed". */
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "onnx/onnx.h"
#include "zenith.h"

/* Tolerance on max |got - want|, as a fraction of max |want| (the logit scale):
 * ref computes in the same fp32 as PyTorch, only summation order differs. */
static double tolerance_for(const char *backend) {
  return strncmp(backend, "ref", 3) == 0 ? 1e-4 : 1e-3;
}

typedef struct result {
  bool ok;
  bool declined;               /* a fast backend refused a node at load */
  int64_t batch;
  double max_abs, max_rel;     /* max |got - want|, and that over max |want| */
  int top1_agree, top1_total;
  char note[1400];
} result;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_cases(const char *root, char ***out) {
  *out = NULL;
  DIR *d = opendir(root);
  if (!d) return -1;
  int n = 0, cap = 0;
  char **names = NULL;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[4200];
    snprintf(path, sizeof path, "%.3000s/%.1000s/model.onnx", root, e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fclose(f);
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **p = realloc(names, (size_t)cap * sizeof *p);
      if (!p) break;
      names = p;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static int64_t argmax(const float *x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

/* Compare rows [0, rows) of got with want (row length cls); a top-1 mismatch
 * fails unless PyTorch's own margin to the class we chose is within tol. */
static void compare(const float *got, const float *want, int64_t rows, int64_t cls, double tol_frac, result *r) {
  double scale = 0;
  for (int64_t i = 0; i < rows * cls; i++) scale = fmax(scale, fabs(want[i]));
  double tol = tol_frac * (scale > 0 ? scale : 1);
  for (int64_t i = 0; i < rows * cls; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= r->max_abs)) r->max_abs = d; /* NaN propagates as a failure */
  }
  r->max_rel = r->max_abs / (scale > 0 ? scale : 1);
  if (!(r->max_abs <= tol)) {
    r->ok = false;
    size_t len = strlen(r->note);
    snprintf(r->note + len, sizeof r->note - len, "%smax abs err %.3g > tol %.3g", len ? "; " : "", r->max_abs, tol);
  }
  for (int64_t b = 0; b < rows; b++) {
    int64_t g = argmax(got + b * cls, cls), w = argmax(want + b * cls, cls);
    r->top1_total++;
    if (g == w) { r->top1_agree++; continue; }
    double margin = want[b * cls + w] - want[b * cls + g];
    size_t len = strlen(r->note);
    if (margin > 2 * tol) r->ok = false;
    snprintf(r->note + len, sizeof r->note - len, "%simage %lld top-1 %lld vs PyTorch %lld (margin %.3g%s)",
             len ? "; " : "", (long long)b, (long long)g, (long long)w, margin, margin > 2 * tol ? "" : ", a tie");
  }
}

static void fail(result *r, const char *what, zn_status st) {
  r->ok = false;
  snprintf(r->note, sizeof r->note, "%s: %s: %s", what, zn_status_string(st), zn_last_error());
}

/* backend_spec: "ref", "onednn", ... with an optional ":nopass" suffix. */
static void run_case(const char *case_dir, const char *backend_spec, result *r) {
  memset(r, 0, sizeof *r);
  r->ok = true;
  char backend[64], path[4200];
  snprintf(backend, sizeof backend, "%s", backend_spec);
  char *colon = strchr(backend, ':');
  zn_model_options mo = zn_model_options_default();
  if (colon) {
    *colon = 0;
    mo.disable_passes = strcmp(colon + 1, "nopass") == 0;
  }
  mo.backend = backend;
  zn_model *model = NULL;
  zn_instance *inst = NULL;
  zn_onnx_tensor *in = NULL, *want = NULL;
  float *out = NULL;
  zn_status st;

  snprintf(path, sizeof path, "%.4000s/test_data_set_0/input_0.pb", case_dir);
  if ((st = zn_onnx_tensor_read_file(path, 0, &in)) != ZN_OK) { fail(r, "read input_0.pb", st); goto done; }
  snprintf(path, sizeof path, "%.4000s/test_data_set_0/output_0.pb", case_dir);
  if ((st = zn_onnx_tensor_read_file(path, 0, &want)) != ZN_OK) { fail(r, "read output_0.pb", st); goto done; }
  if (in->num_dims != 4 || in->dtype != ZN_DTYPE_FLOAT32 || want->num_dims != 2 || want->dtype != ZN_DTYPE_FLOAT32 ||
      want->dims[0] != in->dims[0]) {
    r->ok = false;
    snprintf(r->note, sizeof r->note, "test data is not [N,3,H,W] -> [N,classes] float32");
    goto done;
  }
  snprintf(path, sizeof path, "%.4000s/model.onnx", case_dir);
  if ((st = zn_model_load_file(path, &mo, &model)) != ZN_OK) {
    fail(r, "load", st);
    r->declined = st == ZN_ERR_UNSUPPORTED_OP && strcmp(backend, "ref") != 0 && strcmp(backend, "auto") != 0 &&
                  strstr(zn_last_error(), "does not support node '") != NULL;
    goto done;
  }
  if (zn_model_num_inputs(model) != 1 || zn_model_num_outputs(model) != 1) {
    r->ok = false;
    snprintf(r->note, sizeof r->note, "model has %zu inputs, %zu outputs; expected 1 and 1", zn_model_num_inputs(model),
             zn_model_num_outputs(model));
    goto done;
  }
  r->batch = in->dims[0];
  zn_instance_options io = zn_instance_options_default();
  io.batch = r->batch;
  if ((st = zn_instance_create(model, &io, &inst)) != ZN_OK) { fail(r, "instance", st); goto done; }
  if (zn_instance_input_bytes(inst, 0) != in->data_bytes || zn_instance_output_bytes(inst, 0) != want->data_bytes) {
    r->ok = false;
    snprintf(r->note, sizeof r->note, "sizes: model takes %zu input bytes and gives %zu output bytes at batch %lld; "
             "PyTorch's files have %zu and %zu", zn_instance_input_bytes(inst, 0), zn_instance_output_bytes(inst, 0),
             (long long)r->batch, in->data_bytes, want->data_bytes);
    goto done;
  }
  if (!(out = zn_alloc_aligned(want->data_bytes))) { fail(r, "allocate output", ZN_ERR_OUT_OF_MEMORY); goto done; }
  memset(out, 0xFF, want->data_bytes); /* NaN: an unwritten output cannot pass */
  const void *ins[1] = {in->data};
  void *outs[1] = {out};
  if ((st = zn_instance_run(inst, ins, outs)) != ZN_OK) { fail(r, "run", st); goto done; }
  int64_t cls = want->dims[1];
  compare(out, want->data, r->batch, cls, tolerance_for(backend), r);

  /* Dynamic batch: the same instance reshaped to batch 1, first image only. */
  zn_tensor_info info;
  if (r->batch > 1 && zn_model_input_info(model, 0, &info) == ZN_OK && info.batch_axis == 0) {
    if ((st = zn_instance_reshape(inst, 1)) != ZN_OK) { fail(r, "reshape to batch 1", st); goto done; }
    memset(out, 0xFF, want->data_bytes);
    if ((st = zn_instance_run(inst, ins, outs)) != ZN_OK) { fail(r, "run at batch 1", st); goto done; }
    result r1;
    memset(&r1, 0, sizeof r1);
    r1.ok = true;
    compare(out, want->data, 1, cls, tolerance_for(backend), &r1);
    r->max_abs = fmax(r->max_abs, r1.max_abs);
    r->max_rel = fmax(r->max_rel, r1.max_rel);
    r->top1_agree += r1.top1_agree;
    r->top1_total += r1.top1_total;
    if (!r1.ok) {
      r->ok = false;
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len, "%sat batch 1: %.600s", len ? "; " : "", r1.note);
    }
  }
done:
  zn_free_aligned(out);
  zn_instance_destroy(inst);
  zn_model_destroy(model);
  zn_onnx_tensor_destroy(in);
  zn_onnx_tensor_destroy(want);
}

/* "auto" (per node: the preferred backend, others for the nodes it refuses) is always there. */
static bool backend_built(const char *spec) {
  size_t len = strcspn(spec, ":");
  if (len == 4 && strncmp(spec, "auto", 4) == 0) return true;
  for (size_t i = 0; zn_backend_name(i); i++)
    if (strlen(zn_backend_name(i)) == len && strncmp(zn_backend_name(i), spec, len) == 0) return true;
  return false;
}

static void usage(void) {
  fprintf(stderr,
          "usage: zn_interop_run [--backends ref,onednn[,xnnpack][,auto][,ref:nopass]] ROOT [CASE_PREFIX...]\n"
          "  ROOT holds <case>/model.onnx + test_data_set_0/{input_0,output_0}.pb\n"
          "  default backends: ref, then onednn and xnnpack where built, then auto\n");
}

int main(int argc, char **argv) {
  const char *backends = NULL, *root = NULL;
  int first_prefix = argc;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--backends") == 0 && i + 1 < argc) {
      backends = argv[++i];
    } else if (argv[i][0] == '-') {
      usage();
      return 2;
    } else {
      root = argv[i];
      first_prefix = i + 1;
      break;
    }
  }
  if (!root) { usage(); return 2; }
  char list[256];
  if (backends) {
    snprintf(list, sizeof list, "%s", backends);
  } else {
    snprintf(list, sizeof list, "ref%s%s,auto", backend_built("onednn") ? ",onednn" : "",
             backend_built("xnnpack") ? ",xnnpack" : "");
  }

  char **cases;
  int n = list_cases(root, &cases);
  if (n < 0) { fprintf(stderr, "interop: cannot open %s\n", root); return 2; }
  printf("interop: %d case folders under %s; tolerance: max abs err <= 1e-4 x max|logit| (ref), 1e-3 (others);\n"
         "         top-1 must agree unless PyTorch's own margin is within 2 x tolerance (a tie)\n", n, root);
  printf("%-28s %-12s %-5s %5s %10s %10s %6s  %s\n", "case", "backend", "ok", "batch", "max_abs", "max_rel", "top1",
         "note");
  int passed = 0, failed = 0, skipped = 0, declined = 0;
  for (int c = 0; c < n; c++) {
    bool wanted = first_prefix >= argc;
    for (int p = first_prefix; p < argc; p++)
      if (strncmp(cases[c], argv[p], strlen(argv[p])) == 0) wanted = true;
    if (!wanted) continue;
    char case_dir[4200], copy[256];
    snprintf(case_dir, sizeof case_dir, "%.3000s/%.1000s", root, cases[c]);
    snprintf(copy, sizeof copy, "%s", list);
    int case_declined = 0;
    bool auto_ok = false;
    for (char *save = NULL, *b = strtok_r(copy, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
      if (!backend_built(b)) {
        printf("%-28s %-12s %-5s %5s %10s %10s %6s  %s\n", cases[c], b, "skip", "-", "-", "-", "-", "backend not built");
        skipped++;
        continue;
      }
      result r;
      run_case(case_dir, b, &r);
      char top1[32] = "-";
      if (r.top1_total) snprintf(top1, sizeof top1, "%d/%d", r.top1_agree, r.top1_total);
      printf("%-28s %-12s %-5s %5lld %10.3g %10.3g %6s  %s\n", cases[c], b,
             r.ok ? "PASS" : r.declined ? "decl" : "FAIL", (long long)r.batch, r.max_abs, r.max_rel, top1, r.note);
      fflush(stdout);
      if (strcmp(b, "auto") == 0) auto_ok = r.ok;
      if (r.ok) passed++;
      else if (r.declined) declined++, case_declined++;
      else failed++;
    }
    if (case_declined && !auto_ok) {
      printf("%-28s %-12s %-5s  %d backend(s) refuse a node and auto did not run the case correctly (or was not asked)\n",
             cases[c], "-", "FAIL", case_declined);
      failed++;
    }
  }
  for (int c = 0; c < n; c++) free(cases[c]);
  free(cases);
  printf("interop: %d passed, %d failed", passed, failed);
  if (declined) printf(", %d declined (the backend refuses a node; auto ran the case)", declined);
  if (skipped) printf(", %d skipped (backend not built)", skipped);
  printf("\n");
  return failed ? 1 : passed ? 0 : 1;
}
