/* `zenith run`: one model on a few images (or on a TensorProto input file):
 * preprocess to the model's input size, batch, run, print the top-K classes
 * per image and the latency per batch (median over the runs done). This is
 * the quick "does it work on my picture" path; `zenith bench` measures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/data.h"
#include "onnx/onnx.h"

#define RUN_MAX_BATCH 4096
#define RUN_MAX_IMAGES 100000

const char zn_cmd_run_usage[] =
    "usage: zenith run --model NAME|FILE.onnx (--image IMG... | --input input_0.pb) [options]\n"
    "\n"
    "  --model NAME|FILE   a zoo model (see `zenith zoo list`) or an ONNX file\n"
    "  --image IMG...      JPEG or PNG images, resized + centre-cropped to the model's\n"
    "                      input and normalised with the ImageNet mean/std\n"
    "  --input FILE.pb     an ONNX TensorProto file (as in ONNX test data sets) fed as is\n"
    "  --backend B         auto (default), ref, onednn, xnnpack\n"
    "  --batch N           images per run, 1..4096 (default 1); a short last batch is\n"
    "                      filled by repeating its last image\n"
    "  --threads T         compute threads of the instance (default 1)\n"
    "  --runs R            run each batch R times, 1..10000 (default 1); latency is the median\n"
    "  --seed S            seed of a zoo model's synthetic weights (default 1)\n"
    "  --labels FILE       class names, one per line (default: data/imagenet_labels.txt)\n"
    "  --top K             classes printed per image, 1..1000 (default 5)\n"
    "  --save-output FILE  write output 0 for all images as a TensorProto file\n"
    "  --verbose           print the library's info messages\n"
    "\n"
    "Probabilities are the softmax of the output, unless the output already sums to 1.\n"
    "Zoo weights are synthetic: their predictions are meaningless.\n";

typedef struct run_args {
  const char *model;
  const char *backend;
  const char *input_pb;
  const char *labels_path;
  const char *save_output;
  const char **images;
  int num_images;
  long long batch;
  int batch_given;
  long long threads;
  long long runs;
  long long top;
  uint64_t seed;
  int verbose;
} run_args;

static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  a->backend = "auto";
  a->batch = 1;
  a->threads = 1;
  a->runs = 1;
  a->top = 5;
  a->seed = 1;
  a->images = calloc((size_t)argc, sizeof *a->images);
  if (!a->images) {
    fprintf(stderr, "zenith: out of memory\n");
    return ZN_CLI_EXIT_ERROR;
  }
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int r;
#define VALUE_FLAG(name) ((r = zn_cli_flag_value("run", argc, argv, &i, name, &v)) != 0)
    if (VALUE_FLAG("--model")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->model = v;
    } else if (VALUE_FLAG("--backend")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->backend = v;
    } else if (VALUE_FLAG("--input")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->input_pb = v;
    } else if (VALUE_FLAG("--labels")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->labels_path = v;
    } else if (VALUE_FLAG("--save-output")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->save_output = v;
    } else if (VALUE_FLAG("--batch")) {
      if (r < 0 || zn_cli_parse_int("run", "--batch", v, 1, RUN_MAX_BATCH, &a->batch) != 0) return ZN_CLI_EXIT_USAGE;
      a->batch_given = 1;
    } else if (VALUE_FLAG("--threads")) {
      if (r < 0 || zn_cli_parse_int("run", "--threads", v, 1, 1024, &a->threads) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--runs")) {
      if (r < 0 || zn_cli_parse_int("run", "--runs", v, 1, 10000, &a->runs) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--top")) {
      if (r < 0 || zn_cli_parse_int("run", "--top", v, 1, 1000, &a->top) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--seed")) {
      if (r < 0 || zn_cli_parse_u64("run", "--seed", v, &a->seed) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--image")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->images[a->num_images++] = v;
      /* --image takes every following argument up to the next flag. */
      while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) a->images[a->num_images++] = argv[++i];
    } else if (zn_cli_flag(argv, i, "--verbose")) {
      a->verbose = 1;
    } else if (argv[i][0] == '-') {
      return zn_cli_usage_error("run", "unknown option '%s'", argv[i]);
    } else {
      return zn_cli_usage_error("run", "unexpected argument '%s' (images go after --image)", argv[i]);
    }
#undef VALUE_FLAG
  }
  if (!a->model) return zn_cli_usage_error("run", "--model is required");
  if (!a->num_images && !a->input_pb) return zn_cli_usage_error("run", "give --image IMG... or --input FILE.pb");
  if (a->num_images && a->input_pb) return zn_cli_usage_error("run", "give --image or --input, not both");
  if (a->num_images > RUN_MAX_IMAGES) return zn_cli_usage_error("run", "at most %d images", RUN_MAX_IMAGES);
  if (zn_cli_check_backend("run", a->backend) != 0) return ZN_CLI_EXIT_USAGE;
  return ZN_CLI_EXIT_OK;
}

static int compare_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Probabilities of one image's scores: softmax, unless they already are
 * probabilities (all in [0, 1], summing to 1). */
static void to_probabilities(const float *scores, size_t n, double *probs) {
  double sum = 0.0;
  int is_prob = 1;
  for (size_t i = 0; i < n; i++) {
    if (!(scores[i] >= 0.0f && scores[i] <= 1.0f)) is_prob = 0;
    sum += scores[i];
  }
  if (is_prob && fabs(sum - 1.0) < 1e-3) {
    for (size_t i = 0; i < n; i++) probs[i] = scores[i];
    return;
  }
  double max = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (scores[i] > max) max = scores[i];
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    probs[i] = isfinite(max) ? exp((double)scores[i] - max) : 0.0;
    total += probs[i];
  }
  for (size_t i = 0; i < n; i++) probs[i] = total > 0 ? probs[i] / total : 0.0;
}

static void print_top(const char *what, const float *scores, size_t n, int top, const zn_labels *labels,
                      double *probs) {
  to_probabilities(scores, n, probs);
  printf("%s:\n", what);
  int k_max = top < (int)n ? top : (int)n;
  for (int k = 0; k < k_max; k++) {
    /* Selection of the k-th best; ties keep the lower class index. */
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
      if (probs[i] < 0) continue; /* taken */
      if (best == n || probs[i] > probs[best]) best = i;
    }
    if (best == n) break;
    const char *name = labels ? zn_labels_get(labels, (int64_t)best) : NULL;
    printf("  top%d: class %4zu  p=%.4f  %s\n", k + 1, best, probs[best], name ? name : "?");
    probs[best] = -1.0;
  }
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Everything the run owns, released in one place. */
typedef struct run_state {
  zn_model *model;
  zn_instance *instance;
  zn_labels *labels;
  zn_onnx_tensor *input_tensor;
  float *input;
  float *output;
  float *saved;
  double *latencies_ms;
  double *probs;
} run_state;

static void run_state_free(run_state *s) {
  zn_instance_destroy(s->instance);
  zn_model_destroy(s->model);
  zn_labels_destroy(s->labels);
  zn_onnx_tensor_destroy(s->input_tensor);
  free(s->input);
  free(s->output);
  free(s->saved);
  free(s->latencies_ms);
  free(s->probs);
}

static int fail_out_of_memory(const char *what) {
  fprintf(stderr, "zenith: out of memory: failed to allocate %s\n", what);
  return ZN_CLI_EXIT_ERROR;
}

static int run(const run_args *a, run_state *s) {
  zn_cli_log_setup(a->verbose);
  int is_zoo = 0;
  zn_status st = zn_cli_open_model(a->model, a->backend, a->seed, &is_zoo, &s->model);
  if (st != ZN_OK) return zn_cli_fail(st);
  if (is_zoo) zn_cli_note_synthetic();

  const char *labels_path = a->labels_path ? a->labels_path : zn_cli_default_labels();
  if (labels_path) {
    st = zn_labels_load(labels_path, &s->labels);
    if (st != ZN_OK) return zn_cli_fail(st);
  } else {
    fprintf(stderr, "zenith: warning: no labels file found (set ZN_SOURCE_DIR or pass --labels)\n");
  }

  if (zn_model_num_inputs(s->model) != 1 || zn_model_num_outputs(s->model) < 1) {
    fprintf(stderr, "zenith: invalid model: run needs one input and at least one output (this model has %zu and %zu)\n",
            zn_model_num_inputs(s->model), zn_model_num_outputs(s->model));
    return ZN_CLI_EXIT_ERROR;
  }
  zn_tensor_info in, out;
  if ((st = zn_model_input_info(s->model, 0, &in)) != ZN_OK) return zn_cli_fail(st);
  if ((st = zn_model_output_info(s->model, 0, &out)) != ZN_OK) return zn_cli_fail(st);
  if (in.dtype != ZN_DTYPE_FLOAT32 || out.dtype != ZN_DTYPE_FLOAT32) {
    fprintf(stderr, "zenith: unsupported operator: run feeds and reads float32 tensors (input %s is %s, output %s is %s)\n",
            in.name, zn_dtype_name(in.dtype), out.name, zn_dtype_name(out.dtype));
    return ZN_CLI_EXIT_ERROR;
  }

  /* How many items (images or tensor rows) and the batch size. */
  int64_t batch = a->batch;
  size_t num_items = (size_t)a->num_images;
  int crop = 0;
  if (a->input_pb) {
    st = zn_onnx_tensor_read_file(a->input_pb, 0, &s->input_tensor);
    if (st != ZN_OK) return zn_cli_fail(st);
    const zn_onnx_tensor *t = s->input_tensor;
    int ok = t->dtype == ZN_DTYPE_FLOAT32 && t->num_dims == in.num_dims;
    for (int d = 0; ok && d < in.num_dims; d++)
      if (d != in.batch_axis && t->dims[d] != in.dims[d]) ok = 0;
    if (!ok) {
      fprintf(stderr, "zenith: invalid input data: %s does not match input %s of the model (%d dims, float32 wanted)\n",
              a->input_pb, in.name, in.num_dims);
      return ZN_CLI_EXIT_ERROR;
    }
    batch = in.batch_axis >= 0 ? t->dims[in.batch_axis] : 1;
    if (batch < 1 || batch > RUN_MAX_BATCH) {
      fprintf(stderr, "zenith: invalid input data: %s has batch %lld (1..%d supported)\n", a->input_pb,
              (long long)batch, RUN_MAX_BATCH);
      return ZN_CLI_EXIT_ERROR;
    }
    if (a->batch_given && a->batch != batch) {
      fprintf(stderr, "zenith: invalid argument: --batch %lld differs from the batch %lld of %s\n", a->batch,
              (long long)batch, a->input_pb);
      return ZN_CLI_EXIT_ERROR;
    }
    num_items = (size_t)batch;
  } else {
    if (in.num_dims != 4 || in.dims[1] != 3 || in.dims[2] != in.dims[3] || in.dims[2] <= 0) {
      fprintf(stderr, "zenith: invalid argument: --image needs a model input of shape [N,3,S,S]; input %s has %d dims\n",
              in.name, in.num_dims);
      return ZN_CLI_EXIT_ERROR;
    }
    crop = (int)in.dims[2];
  }
  if (in.batch_axis < 0 && batch != 1) {
    fprintf(stderr, "zenith: invalid argument: this model has a fixed batch of 1; --batch %lld is not possible\n",
            (long long)batch);
    return ZN_CLI_EXIT_ERROR;
  }

  zn_instance_options io = zn_instance_options_default();
  io.batch = batch;
  io.num_threads = (int)a->threads;
  st = zn_instance_create(s->model, &io, &s->instance);
  if (st != ZN_OK) return zn_cli_fail(st);
  size_t in_bytes = zn_instance_input_bytes(s->instance, 0), out_bytes = zn_instance_output_bytes(s->instance, 0);
  size_t in_floats = in_bytes / sizeof(float), out_floats = out_bytes / sizeof(float);
  size_t image_floats = in_floats / (size_t)batch, classes = out_floats / (size_t)batch;
  if (classes == 0 || image_floats == 0) {
    fprintf(stderr, "zenith: internal error: empty input or output tensor\n");
    return ZN_CLI_EXIT_ERROR;
  }
  s->input = malloc(in_bytes);
  s->output = malloc(out_bytes);
  s->probs = malloc(classes * sizeof(double));
  if (a->save_output) s->saved = malloc(classes * num_items * sizeof(float));
  size_t num_batches = (num_items + (size_t)batch - 1) / (size_t)batch;
  s->latencies_ms = malloc(num_batches * (size_t)a->runs * sizeof(double));
  if (!s->input || !s->output || !s->probs || !s->latencies_ms || (a->save_output && !s->saved))
    return fail_out_of_memory("the input and output buffers");

  if (a->num_images && num_items % (size_t)batch != 0)
    printf("note: %zu image%s for batch %lld: the last batch repeats its last image to fill %lld slot%s\n", num_items,
           num_items == 1 ? "" : "s", (long long)batch, (long long)(num_batches * (size_t)batch - num_items),
           num_batches * (size_t)batch - num_items == 1 ? "" : "s");
  printf("model: %s, backend %s, batch %lld, %lld thread%s\n", a->model, zn_model_backend(s->model), (long long)batch,
         a->threads, a->threads == 1 ? "" : "s");

  size_t num_latencies = 0;
  zn_preprocess_options pre = zn_preprocess_options_imagenet(crop);
  for (size_t b = 0; b < num_batches; b++) {
    size_t first = b * (size_t)batch;
    if (a->input_pb) {
      memcpy(s->input, s->input_tensor->data, in_bytes);
    } else {
      for (int64_t k = 0; k < batch; k++) {
        size_t item = first + (size_t)k < num_items ? first + (size_t)k : num_items - 1;
        float *dst = s->input + (size_t)k * image_floats;
        if (item < first + (size_t)k && k > 0) { /* padding: repeat the last image */
          memcpy(dst, s->input + (size_t)(k - 1) * image_floats, image_floats * sizeof(float));
          continue;
        }
        zn_image img;
        st = zn_image_load_file(a->images[item], &img);
        if (st == ZN_OK) {
          st = zn_image_preprocess(&img, &pre, dst);
          zn_image_deinit(&img);
        }
        if (st != ZN_OK) return zn_cli_fail(st);
      }
    }
    const void *inputs[1] = {s->input};
    void *outputs[1] = {s->output};
    for (long long r = 0; r < a->runs; r++) {
      int64_t t0 = zn_cli_now_ns();
      st = zn_instance_run(s->instance, inputs, outputs);
      int64_t t1 = zn_cli_now_ns();
      if (st != ZN_OK) return zn_cli_fail(st);
      s->latencies_ms[num_latencies++] = (double)(t1 - t0) / 1e6;
    }
    for (int64_t k = 0; k < batch && first + (size_t)k < num_items; k++) {
      size_t item = first + (size_t)k;
      const float *scores = s->output + (size_t)k * classes;
      char what[512];
      if (a->input_pb)
        snprintf(what, sizeof what, "%s[%zu]", base_name(a->input_pb), item);
      else
        snprintf(what, sizeof what, "%s", a->images[item]);
      print_top(what, scores, classes, (int)a->top, s->labels, s->probs);
      if (s->saved) memcpy(s->saved + item * classes, scores, classes * sizeof(float));
    }
  }
  if (s->labels && zn_labels_count(s->labels) != classes)
    fprintf(stderr, "zenith: warning: the labels file has %zu names for %zu classes\n", zn_labels_count(s->labels),
            classes);

  qsort(s->latencies_ms, num_latencies, sizeof(double), compare_double);
  double median = num_latencies % 2 ? s->latencies_ms[num_latencies / 2]
                                    : 0.5 * (s->latencies_ms[num_latencies / 2 - 1] + s->latencies_ms[num_latencies / 2]);
  printf("latency: %.3f ms per batch of %lld (median of %zu run%s; min %.3f, max %.3f)\n", median, (long long)batch,
         num_latencies, num_latencies == 1 ? "" : "s", s->latencies_ms[0], s->latencies_ms[num_latencies - 1]);

  if (a->save_output) {
    int64_t dims[ZN_MAX_DIMS];
    int nd = out.num_dims;
    for (int d = 0; d < nd; d++) dims[d] = out.dims[d];
    if (out.batch_axis >= 0) {
      dims[out.batch_axis] = (int64_t)num_items;
    } else if (num_items != 1) {
      fprintf(stderr, "zenith: invalid argument: output %s has no batch axis to hold %zu images\n", out.name,
              num_items);
      return ZN_CLI_EXIT_ERROR;
    }
    st = zn_onnx_tensor_write_file(a->save_output, out.name, ZN_DTYPE_FLOAT32, nd, dims, s->saved,
                                   classes * num_items * sizeof(float));
    if (st != ZN_OK) return zn_cli_fail(st);
    printf("wrote %s (output %s, %zu item%s)\n", a->save_output, out.name, num_items, num_items == 1 ? "" : "s");
  }
  return ZN_CLI_EXIT_OK;
}

int zn_cmd_run(int argc, char **argv) {
  run_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc == ZN_CLI_EXIT_OK) {
    run_state s;
    memset(&s, 0, sizeof s);
    rc = run(&a, &s);
    run_state_free(&s);
  }
  free(a.images);
  return rc;
}
