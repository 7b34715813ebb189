/* ONNX backend conformance: runs the ONNX test data sets
 * ($ZN_ONNX_TESTDATA/{node,pytorch-converted,simple}/<case>/model.onnx with
 * test_data_set_<k>/input_<i>.pb and output_<i>.pb) through the public API on each
 * backend of $ZN_CONFORMANCE_BACKENDS (default: every built backend) and compares outputs.
 * A case is skipped only for a stated reason (an op, dtype or form we do not
 * claim); a case whose ops are all claimed and that fails to load or to match
 * is a failure. Each passing case is also exported (zn_model_export_onnx),
 * reloaded and rerun, which checks the exporter on real numerics. Passing cases go to $ZN_BUILD_DIR/conformance_<backend>.txt. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "graph/graph.h"
#include "harness.h"
#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"
#include "onnx/onnx_internal.h"

#define RTOL 1e-3
#define ATOL 1e-4
#define MAX_IO 16

/* Scratch folder for export round trips ("" disables them). */
static char export_dir[512];

typedef struct reason_count { char text[96]; int count; } reason_count;

typedef struct tally {
  int passed, failed, skipped;
  reason_count reasons[256];
  int num_reasons;
  FILE *pass_list;
} tally;

static void add_reason(tally *t, const char *text) {
  for (int i = 0; i < t->num_reasons; i++)
    if (strcmp(t->reasons[i].text, text) == 0) { t->reasons[i].count++; return; }
  if (t->num_reasons < (int)ZN_ARRAY_SIZE(t->reasons)) {
    char *dst = t->reasons[t->num_reasons].text;  /* truncated on purpose: a reason's first line */
    size_t len = strnlen(text, sizeof t->reasons[0].text - 1);
    memcpy(dst, text, len);
    dst[len] = '\0';
    t->reasons[t->num_reasons++].count = 1;
  }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted subfolder names of dir (entries starting with prefix). */
static int list_dir(const char *dir, const char *prefix, char ***out) {
  *out = NULL;
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0, cap = 0;
  char **names = NULL;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, (size_t)cap * sizeof *p);
      if (!p) break;
      names = p;
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static void free_list(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* ---- classification: what the importer claims ---- */

static bool dtype_claimed(int32_t t) { return zn_onnx_dtype_size(t) != 0; }

static bool is_const_name(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0) return true;
  for (size_t i = 0; i < g->n_node; i++)
    if (strcmp(g->node[i]->op_type, "Constant") == 0 && g->node[i]->n_output && strcmp(g->node[i]->output[0], name) == 0)
      return true;
  return false;
}

static bool is_consumed(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t k = 0; k < g->node[i]->n_input; k++)
      if (strcmp(g->node[i]->input[k], name) == 0) return true;
  for (size_t i = 0; i < g->n_output; i++)
    if (strcmp(g->output[i]->name, name) == 0) return true;
  return false;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

/* Inputs from `first` on must be constants for the importer to fold them. */
static bool params_constant(const Onnx__GraphProto *g, const Onnx__NodeProto *n, size_t first) {
  for (size_t k = first; k < n->n_input; k++)
    if (*n->input[k] && !is_const_name(g, n->input[k])) return false;
  return true;
}

static bool value_info_claimed(const Onnx__ValueInfoProto *vi, bool is_input, char *why, size_t why_size) {
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
    snprintf(why, why_size, "non-tensor graph input/output");
    return false;
  }
  if (!dtype_claimed(tp->tensor_type->elem_type)) {
    snprintf(why, why_size, "dtype %s", zn_onnx_dtype_name(tp->tensor_type->elem_type));
    return false;
  }
  if (is_input && tp->tensor_type->shape) {
    const Onnx__TensorShapeProto *s = tp->tensor_type->shape;
    for (size_t i = 1; i < s->n_dim; i++)
      if (s->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || s->dim[i]->dim_value <= 0) {
        snprintf(why, why_size, "dynamic or empty non-batch input dim");
        return false;
      }
  }
  return true;
}

/* Why the case is outside what we claim, or NULL-equivalent (false) when claimed. */
static bool skip_reason(const Onnx__ModelProto *m, char *why, size_t why_size) {
  const Onnx__GraphProto *g = m->graph;
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++)
    if (!m->opset_import[i]->domain || !*m->opset_import[i]->domain || !strcmp(m->opset_import[i]->domain, "ai.onnx"))
      opset = m->opset_import[i]->version;
  if (!g || opset < 0) { snprintf(why, why_size, "no default-domain graph (training/preview)"); return true; }
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    zn_op op;
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0) {
      snprintf(why, why_size, "domain %s", n->domain);
      return true;
    }
    if (strcmp(n->op_type, "Constant") == 0) {
      if (n->n_attribute && n->attribute[0]->t && !dtype_claimed(n->attribute[0]->t->data_type)) {
        snprintf(why, why_size, "dtype %s", zn_onnx_dtype_name(n->attribute[0]->t->data_type));
        return true;
      }
      if (n->n_attribute && (attr(n, "value_string") || attr(n, "value_strings") || attr(n, "sparse_value"))) {
        snprintf(why, why_size, "Constant string/sparse");
        return true;
      }
      continue;
    }
    bool dropout = strcmp(n->op_type, "Dropout") == 0;
    if (!dropout && !zn_op_from_onnx(n->op_type, &op)) {
      snprintf(why, why_size, "op %s", n->op_type);
      return true;
    }
    /* LayerNormalization's Mean and InvStdDev are imported; each graph output is compared. */
    const bool multi_ok = strcmp(n->op_type, "LayerNormalization") == 0;
    for (size_t k = 1; k < n->n_output && !multi_ok; k++)
      if (*n->output[k] && is_consumed(g, n->output[k])) {
        snprintf(why, why_size, "multi-output %s", n->op_type);
        return true;
      }
    const Onnx__AttributeProto *a;
    if (dropout && (n->n_input > 2 || ((a = attr(n, "is_test")) && a->i == 0))) {
      snprintf(why, why_size, "training-mode Dropout");
      return true;
    }
    if (!strcmp(n->op_type, "BatchNormalization") && (a = attr(n, "training_mode")) && a->i) {
      snprintf(why, why_size, "training-mode BatchNormalization");
      return true;
    }
    if (!strcmp(n->op_type, "Cast") && (a = attr(n, "to")) && !dtype_claimed((int32_t)a->i)) {
      snprintf(why, why_size, "dtype %s", zn_onnx_dtype_name((int32_t)a->i));
      return true;
    }
    if (!strcmp(n->op_type, "Pad") && (a = attr(n, "mode")) && a->s.len == 4 && !memcmp(a->s.data, "wrap", 4)) {
      snprintf(why, why_size, "Pad mode wrap");
      return true;
    }
    if (opset < 7 && attr(n, "axis") &&
        (!strcmp(n->op_type, "Add") || !strcmp(n->op_type, "Sub") || !strcmp(n->op_type, "Mul") ||
         !strcmp(n->op_type, "Div"))) {
      snprintf(why, why_size, "legacy broadcast (opset < 7)");
      return true;
    }
    bool param_inputs = (!strcmp(n->op_type, "Clip") && opset >= 11) || (!strcmp(n->op_type, "Pad") && opset >= 11) ||
                        ((!strcmp(n->op_type, "Squeeze") || !strcmp(n->op_type, "Unsqueeze")) && opset >= 13) ||
                        (!strcmp(n->op_type, "ReduceMean") && opset >= 18) || !strcmp(n->op_type, "Reshape") ||
                        (!strcmp(n->op_type, "Slice") && opset >= 10) || !strcmp(n->op_type, "Expand");
    /* ConstantOfShape's only input is its shape, Range's three scalars give its length:
     * output shapes are fixed when an instance is made. */
    if ((!strcmp(n->op_type, "ConstantOfShape") || !strcmp(n->op_type, "Range")) && !params_constant(g, n, 0)) {
      snprintf(why, why_size, "%s", n->op_type[0] == 'R' ? "Range bounds given as runtime inputs"
                                                        : "ConstantOfShape shape given as a runtime input");
      return true;
    }
    if (param_inputs && !params_constant(g, n, 1)) {
      snprintf(why, why_size, "%s parameter given as a runtime input", n->op_type);
      return true;
    }
    if (!strcmp(n->op_type, "MaxPool") && (a = attr(n, "storage_order")) && a->i && n->n_output > 1) {
      snprintf(why, why_size, "multi-output MaxPool");
      return true;
    }
  }
  for (size_t i = 0; i < g->n_input; i++)
    if (!is_const_name(g, g->input[i]->name) && !value_info_claimed(g->input[i], true, why, why_size)) return true;
  for (size_t i = 0; i < g->n_output; i++)
    if (!value_info_claimed(g->output[i], false, why, why_size)) return true;
  for (size_t i = 0; i < g->n_initializer; i++)
    if (!dtype_claimed(g->initializer[i]->data_type)) {
      snprintf(why, why_size, "dtype %s", zn_onnx_dtype_name(g->initializer[i]->data_type));
      return true;
    }
  return false;
}

/* ---- running one case ---- */

static bool elem_close(zn_dtype dt, const void *got, const void *want, size_t i, char *why, size_t why_size) {
  double a, b;
  switch (dt) {
  case ZN_DTYPE_FLOAT32: a = ((const float *)got)[i], b = ((const float *)want)[i]; break;
  case ZN_DTYPE_FLOAT64: a = ((const double *)got)[i], b = ((const double *)want)[i]; break;
  default: {
    size_t es = zn_onnx_dtype_size((int32_t)dt);
    if (memcmp((const char *)got + i * es, (const char *)want + i * es, es) == 0) return true;
    long long ga = 0, wa = 0;
    memcpy(&ga, (const char *)got + i * es, es);
    memcpy(&wa, (const char *)want + i * es, es);
    snprintf(why, why_size, "element %zu: got %lld, want %lld (exact)", i, ga, wa);
    return false;
  }
  }
  if (isnan(a) && isnan(b)) return true;
  if (isinf(b) && a == b) return true;
  if (fabs(a - b) <= ATOL + RTOL * fabs(b)) return true;
  snprintf(why, why_size, "element %zu: got %.9g, want %.9g (rtol %g, atol %g)", i, a, b, RTOL, ATOL);
  return false;
}

/* One data set. Returns true when it matches; why explains a failure. */
static bool run_data_set(zn_model *model, zn_instance *inst, const char *set_dir, char *why, size_t why_size) {
  size_t ni = zn_model_num_inputs(model), no = zn_model_num_outputs(model);
  if (ni > MAX_IO || no > MAX_IO) { snprintf(why, why_size, "too many inputs/outputs"); return false; }
  zn_onnx_tensor *in[MAX_IO] = {0}, *want[MAX_IO] = {0};
  void *out[MAX_IO] = {0};
  bool ok = false;
  char path[4200];
  for (size_t i = 0; i < ni; i++) {
    snprintf(path, sizeof path, "%.4000s/input_%zu.pb", set_dir, i);
    if (zn_onnx_tensor_read_file(path, 0, &in[i]) != ZN_OK) {
      snprintf(why, why_size, "reading input_%zu.pb: %s", i, zn_last_error());
      goto done;
    }
    zn_tensor_info info;
    zn_model_input_info(model, i, &info);
    size_t bytes = zn_instance_input_bytes(inst, i);
    if ((zn_dtype)in[i]->dtype != info.dtype || in[i]->data_bytes != bytes) {
      snprintf(why, why_size, "input %zu ('%s'): file has %s and %zu bytes, model wants %s and %zu bytes", i,
               info.name, zn_dtype_name(in[i]->dtype), in[i]->data_bytes, zn_dtype_name(info.dtype), bytes);
      goto done;
    }
  }
  for (size_t i = 0; i < no; i++) {
    snprintf(path, sizeof path, "%.4000s/output_%zu.pb", set_dir, i);
    if (zn_onnx_tensor_read_file(path, 0, &want[i]) != ZN_OK) {
      snprintf(why, why_size, "reading output_%zu.pb: %s", i, zn_last_error());
      goto done;
    }
    size_t bytes = zn_instance_output_bytes(inst, i);
    if (want[i]->data_bytes != bytes) {
      snprintf(why, why_size, "output %zu: %zu bytes expected, the model produces %zu", i, want[i]->data_bytes, bytes);
      goto done;
    }
    if (!(out[i] = zn_alloc_aligned(bytes))) { snprintf(why, why_size, "out of memory"); goto done; }
    memset(out[i], 0xA5, bytes);
  }
  const void *in_ptrs[MAX_IO];
  for (size_t i = 0; i < ni; i++) in_ptrs[i] = in[i]->data;
  if (zn_instance_run(inst, in_ptrs, out) != ZN_OK) {
    snprintf(why, why_size, "run failed: %s", zn_last_error());
    goto done;
  }
  for (size_t i = 0; i < no; i++) {
    zn_tensor_info info;
    zn_model_output_info(model, i, &info);
    if ((zn_dtype)want[i]->dtype != info.dtype) {
      snprintf(why, why_size, "output %zu: dtype %s, expected %s", i, zn_dtype_name(info.dtype),
               zn_dtype_name(want[i]->dtype));
      goto done;
    }
    size_t es = zn_onnx_dtype_size((int32_t)info.dtype), n = es ? want[i]->data_bytes / es : 0;
    for (size_t k = 0; k < n; k++) {
      char elem[200];
      if (!elem_close(info.dtype, out[i], want[i]->data, k, elem, sizeof elem)) {
        snprintf(why, why_size, "output %zu ('%s') %s", i, info.name, elem);
        goto done;
      }
    }
  }
  ok = true;
done:
  for (size_t i = 0; i < MAX_IO; i++) {
    zn_onnx_tensor_destroy(in[i]);
    zn_onnx_tensor_destroy(want[i]);
    zn_free_aligned(out[i]);
  }
  return ok;
}

/* Load path on backend and run every data set of case_dir; why explains a failure. */
static bool load_and_run(const char *backend, const char *path, const char *case_dir, zn_status *load_status,
                         char *why, size_t why_size) {
  zn_model_options opts = zn_model_options_default();
  opts.backend = backend;
  opts.keep_graph_weights = 1; /* each passing case is exported too */
  zn_model *model = NULL;
  zn_instance *inst = NULL;
  bool ok = false;
  *load_status = zn_model_load_file(path, &opts, &model);
  if (*load_status != ZN_OK) {
    snprintf(why, why_size, "load: %s: %s", zn_status_string(*load_status), zn_last_error());
    return false;
  }
  zn_instance_options io = zn_instance_options_default();
  io.batch = 1;
  if (zn_instance_create(model, &io, &inst) != ZN_OK) {
    snprintf(why, why_size, "instance: %s", zn_last_error());
  } else {
    char **sets;
    int nsets = list_dir(case_dir, "test_data_set_", &sets);
    ok = nsets > 0;
    if (!ok) snprintf(why, why_size, "no test_data_set_*");
    for (int i = 0; i < nsets && ok; i++) {
      char set_dir[4200], sw[1000];
      snprintf(set_dir, sizeof set_dir, "%.3000s/%.1000s", case_dir, sets[i]);
      ok = run_data_set(model, inst, set_dir, sw, sizeof sw);
      if (!ok) snprintf(why, why_size, "%s: %s", sets[i], sw);
    }
    free_list(sets, nsets);
  }
  /* Passing cases also go through the exporter: export, reload, rerun. */
  if (ok && export_dir[0]) {
    char exported[4200], ew[1000];
    snprintf(exported, sizeof exported, "%s/exported.onnx", export_dir);
    zn_status est = zn_model_export_onnx(model, exported);
    if (est != ZN_OK) {
      ok = false;
      snprintf(why, why_size, "export: %s", zn_last_error());
    } else {
      char saved = export_dir[0];
      export_dir[0] = '\0'; /* no recursion */
      zn_status st2;
      ok = load_and_run(backend, exported, case_dir, &st2, ew, sizeof ew);
      export_dir[0] = saved;
      if (!ok) snprintf(why, why_size, "after export and reload: %s", ew);
      remove(exported);
    }
  }
  zn_instance_destroy(inst);
  zn_model_destroy(model);
  return ok;
}

static void run_case(const char *backend, const char *suite, const char *case_dir, const char *case_name, tally *t) {
  char path[4200], why[1200];
  snprintf(path, sizeof path, "%.4000s/model.onnx", case_dir);
  void *buf;
  size_t size;
  if (zn_onnx_read_whole_file(path, 0, &buf, &size) != ZN_OK) return; /* not a case folder */
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, buf);
  zn_free(buf);
  bool skip = !m || skip_reason(m, why, sizeof why);
  /* The first graph input of a dtype other than float32, if any: a backend
   * refusing a node on such data is a dtype skip, not a failure. */
  char non_float[32] = "";
  for (size_t i = 0; m && m->graph && i < m->graph->n_input; i++) {
    const Onnx__TypeProto *tp = m->graph->input[i]->type;
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
        tp->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
      snprintf(non_float, sizeof non_float, "%s", zn_onnx_dtype_name(tp->tensor_type->elem_type));
      break;
    }
  }
  if (!m) snprintf(why, sizeof why, "model.onnx does not parse");
  if (m) onnx__model_proto__free_unpacked(m, NULL);
  if (skip) {
    t->skipped++;
    add_reason(t, why);
    return;
  }
  zn_status st;
  bool ok = load_and_run(backend, path, case_dir, &st, why, sizeof why);
  /* A dtype the backend lacks is a stated skip, and so is a node a fast
   * backend declines (supports_node); ref is the oracle and must run every
   * claimed op on float data. Anything else claimed-but-failed is a failure. */
  const char *refused = ok || st != ZN_ERR_UNSUPPORTED_OP ? NULL : strstr(why, "does not support node '");
  if (!ok && st == ZN_ERR_UNSUPPORTED_OP && (strstr(why, "dtype") || (refused && *non_float))) {
    snprintf(why, sizeof why, "backend %s: dtype %s not supported", backend, non_float[0] ? non_float : "?");
    t->skipped++;
    add_reason(t, why);
    return;
  }
  if (refused && strcmp(backend, "ref") != 0) {
    const char *op = strstr(refused, "' (");
    int len = 0;
    if (op) {
      op += 3;
      while (op[len] && op[len] != ',' && op[len] != ')' && len < 40) len++;
    }
    snprintf(why, sizeof why, "backend %s declines %.*s", backend, len, op ? op : "?");
    t->skipped++;
    add_reason(t, why);
    return;
  }
  if (ok) {
    t->passed++;
    if (t->pass_list) fprintf(t->pass_list, "%s/%s\n", suite, case_name);
  } else {
    t->failed++;
    printf("FAIL %s/%s [%s]: %s\n", suite, case_name, backend, why);
  }
}

static int cmp_reason(const void *a, const void *b) {
  const reason_count *x = a, *y = b;
  return x->count != y->count ? y->count - x->count : strcmp(x->text, y->text);
}

/* $ZN_ONNX_TESTDATA, else where Debian's libonnx-testdata installs it. */
static const char *testdata_root(void) {
  const char *r = getenv("ZN_ONNX_TESTDATA");
  return r && *r ? r : "/usr/share/libonnx-testdata/data";
}

int zn_test_main(void) {
  const char *root = testdata_root();
  struct stat sb;
  if (!root || stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    printf("conformance: ONNX test data not found (ZN_ONNX_TESTDATA=%s); install libonnx-testdata\n",
           root ? root : "(unset)");
    return 0;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(export_dir, sizeof export_dir, "%s/zn_conformance_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(export_dir)) export_dir[0] = '\0';
  char export_dir_saved[512];
  snprintf(export_dir_saved, sizeof export_dir_saved, "%s", export_dir);
  /* Default: every backend built into this binary, ref first. */
  char all[256] = "";
  for (size_t i = 0; i < zn_backend_count(); i++)
    snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? "," : "", zn_backend_name(i));
  const char *backends = getenv("ZN_CONFORMANCE_BACKENDS");
  if (!backends || !*backends) backends = all;
  const char *build = getenv("ZN_BUILD_DIR");
  static const char *const suites[] = {"node", "pytorch-converted", "simple"};
  int total_failed = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", backends);
  for (char *save = NULL, *b = strtok_r(list, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
    tally *t = calloc(1, sizeof *t);
    if (!t) return 1;
    char out_path[4200];
    snprintf(out_path, sizeof out_path, "%s/conformance_%s.txt", build && *build ? build : ".", b);
    t->pass_list = fopen(out_path, "w");
    for (size_t s = 0; s < ZN_ARRAY_SIZE(suites); s++) {
      char suite_dir[4200];
      snprintf(suite_dir, sizeof suite_dir, "%s/%s", root, suites[s]);
      char **cases;
      int n = list_dir(suite_dir, "", &cases);
      for (int i = 0; i < n; i++) {
        char case_dir[4400];
        snprintf(case_dir, sizeof case_dir, "%.3000s/%.1000s", suite_dir, cases[i]);
        run_case(b, suites[s], case_dir, cases[i], t);
      }
      free_list(cases, n);
    }
    if (t->pass_list) fclose(t->pass_list);
    printf("conformance %s: %d ran, %d passed, %d failed, %d skipped (float tolerance rtol %g, atol %g; integers "
           "exact)\n", b, t->passed + t->failed, t->passed, t->failed, t->skipped, RTOL, ATOL);
    qsort(t->reasons, (size_t)t->num_reasons, sizeof t->reasons[0], cmp_reason);
    printf("skip reasons:\n");
    for (int i = 0; i < t->num_reasons; i++) printf("  %5d  %s\n", t->reasons[i].count, t->reasons[i].text);
    printf("passing cases listed in %s\n", out_path);
    fflush(stdout);
    total_failed += t->failed;
    CHECK_EQ_INT(t->failed, 0);
    free(t);
  }
  if (export_dir_saved[0]) rmdir(export_dir_saved);
  return total_failed ? 1 : 0;
}
