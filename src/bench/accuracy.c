/* bf16-against-fp32 accuracy: the same images through a reduced-precision
 * model and the fp32 model of the same file, their logits compared image by
 * image (max relative error, top-1 agreement, fp32's top-1 within the reduced
 * top-5), as benchmarks/bench_bf16.c measures it on zoo models. Lives in the
 * bench layer because `zenith bench` and `zenith profile` both report it. */
#include "bench/accuracy.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

double zn_bench_accuracy_top1(const zn_bench_accuracy *acc) {
  return acc->num_images > 0 ? (double)acc->top1_agree / (double)acc->num_images : NAN;
}

double zn_bench_accuracy_top5(const zn_bench_accuracy *acc) {
  return acc->num_images > 0 ? (double)acc->top5_agree / (double)acc->num_images : NAN;
}

/* Indexes of the k largest values (k <= 5, fewer when n < k), largest first;
 * ties keep the lower index first. NaN never ranks. Returns how many. */
static int top_k(const float *x, int64_t n, int k, int64_t *idx) {
  int have = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(x[i])) continue;
    int j = have < k ? have : k;
    while (j > 0 && x[i] > x[idx[j - 1]]) j--;
    if (j >= k) continue;
    int last = have < k ? have : k - 1;  /* the slot that falls off (or the new one) */
    memmove(idx + j + 1, idx + j, (size_t)(last - j) * sizeof *idx);
    idx[j] = i;
    if (have < k) have++;
  }
  return have;
}

zn_status zn_bench_accuracy_add(zn_bench_accuracy *acc, const float *reduced, const float *fp32, int64_t num_images,
                                int64_t num_classes) {
  if (!acc || !reduced || !fp32)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare logits: NULL %s", !acc ? "accumulator" : "logits");
  if (num_images < 1) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare logits: no images (%lld)",
                                      (long long)num_images);
  if (num_classes < 1) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare logits: %lld classes per image",
                                       (long long)num_classes);
  if (acc->num_images > 0 && acc->num_classes != num_classes)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare logits: %lld classes per image, earlier images had %lld",
                    (long long)num_classes, (long long)acc->num_classes);
  for (int64_t b = 0; b < num_images; b++) {
    const float *h = reduced + b * num_classes, *f = fp32 + b * num_classes;
    double max_diff = 0, max_ref = 0;
    for (int64_t i = 0; i < num_classes; i++) {
      double d = fabs((double)h[i] - (double)f[i]), r = fabs((double)f[i]);
      if (!(d <= max_diff)) max_diff = d;  /* NaN sticks */
      if (!(r <= max_ref)) max_ref = r;
    }
    double e = max_ref > 0 ? max_diff / max_ref : max_diff;
    if (!(e <= acc->max_rel_err)) acc->max_rel_err = e;
    int64_t tf[5] = {0}, th[5] = {0}; /* top_k fills what it returns; zeroed for -O3's maybe-uninitialized */
    int nf = top_k(f, num_classes, 1, tf), nh = top_k(h, num_classes, 5, th);
    if (nf == 1 && nh >= 1 && tf[0] == th[0]) acc->top1_agree++;
    bool in5 = false;
    for (int j = 0; nf == 1 && j < nh; j++) in5 |= th[j] == tf[0];
    if (in5) acc->top5_agree++;
  }
  acc->num_images += num_images;
  acc->num_classes = num_classes;
  return ZN_OK;
}

int64_t zn_bench_accuracy_image_elements(const zn_model *model) {
  zn_tensor_info info;
  if (!model || zn_model_num_inputs(model) < 1 || zn_model_input_info(model, 0, &info) != ZN_OK ||
      info.dtype != ZN_DTYPE_FLOAT32)
    return 0;
  int64_t n = 1;
  for (int d = 0; d < info.num_dims; d++) {
    int64_t v = d == info.batch_axis ? 1 : info.dims[d];
    if (v <= 0 || n > INT64_MAX / v) return 0;
    n *= v;
  }
  return n;
}

/* One model's instance at batch 1 and its output 0 buffer (all outputs are bound). */
typedef struct side {
  zn_instance *inst;
  void **outs;
  size_t num_outs;
} side;

static void side_deinit(side *s) {
  for (size_t i = 0; s->outs && i < s->num_outs; i++) zn_free_aligned(s->outs[i]);
  zn_free(s->outs);
  zn_instance_destroy(s->inst);
  memset(s, 0, sizeof *s);
}

static zn_status side_init(side *s, const zn_model *model, int num_threads, const char *which) {
  memset(s, 0, sizeof *s);
  zn_instance_options io = zn_instance_options_default();
  io.batch = 1;
  io.num_threads = num_threads;
  zn_status st = zn_instance_create(model, &io, &s->inst);
  if (st != ZN_OK) return zn_error_prefix(st, "failed to create the %s instance: ", which);
  s->num_outs = zn_model_num_outputs(model);
  s->outs = zn_calloc(s->num_outs ? s->num_outs : 1, sizeof *s->outs);
  if (!s->outs) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate the %s outputs: out of memory", which);
  for (size_t i = 0; i < s->num_outs; i++) {
    size_t bytes = zn_instance_output_bytes(s->inst, i);
    s->outs[i] = zn_alloc_aligned(bytes ? bytes : 1);
    if (!s->outs[i])
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate the %s output %zu (%zu bytes): out of memory", which, i,
                      bytes);
  }
  return ZN_OK;
}

static zn_status check_io(const zn_model *reduced, const zn_model *fp32) {
  size_t ni_r = zn_model_num_inputs(reduced), ni_f = zn_model_num_inputs(fp32);
  if (ni_r != 1 || ni_f != 1)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: the models have %zu and %zu inputs; the "
                                             "check feeds one image input", ni_r, ni_f);
  if (zn_model_num_outputs(reduced) < 1 || zn_model_num_outputs(fp32) < 1)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: a model has no output");
  zn_tensor_info a, b;
  ZN_TRY(zn_model_output_info(reduced, 0, &a));
  ZN_TRY(zn_model_output_info(fp32, 0, &b));
  if (a.dtype != ZN_DTYPE_FLOAT32 || b.dtype != ZN_DTYPE_FLOAT32)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: output 0 is %s and %s, not float32",
                    zn_dtype_name(a.dtype), zn_dtype_name(b.dtype));
  int64_t er = zn_bench_accuracy_image_elements(reduced), ef = zn_bench_accuracy_image_elements(fp32);
  if (er == 0 || er != ef)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: input 0 holds %lld and %lld float32 "
                                             "elements per image", (long long)er, (long long)ef);
  return ZN_OK;
}

zn_status zn_bench_accuracy_measure(const zn_model *reduced, const zn_model *fp32, const float *images,
                                    int64_t num_images, int num_threads, zn_bench_accuracy *acc_out) {
  if (!acc_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: NULL acc_out");
  memset(acc_out, 0, sizeof *acc_out);
  if (!reduced || !fp32 || !images)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: NULL %s", !images ? "images" : "model");
  if (num_images < 1)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: no images (%lld)", (long long)num_images);
  ZN_TRY(check_io(reduced, fp32));
  side r, f;
  memset(&f, 0, sizeof f);
  zn_status st = side_init(&r, reduced, num_threads < 1 ? 1 : num_threads, "reduced-precision");
  if (st == ZN_OK) st = side_init(&f, fp32, num_threads < 1 ? 1 : num_threads, "fp32");
  size_t out_r = 0, out_f = 0, per_in = 0;
  if (st == ZN_OK) {
    out_r = zn_instance_output_bytes(r.inst, 0);
    out_f = zn_instance_output_bytes(f.inst, 0);
    per_in = zn_instance_input_bytes(f.inst, 0);
    if (out_r != out_f || out_f < sizeof(float))
      st = zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: output 0 holds %zu and %zu bytes per image",
                    out_r, out_f);
    else if (per_in != zn_instance_input_bytes(r.inst, 0) ||
             per_in != (size_t)zn_bench_accuracy_image_elements(fp32) * sizeof(float))
      st = zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to compare precisions: input 0 of %zu bytes at batch 1 is not one "
                                             "image", per_in);
  }
  zn_bench_accuracy acc;
  memset(&acc, 0, sizeof acc);
  for (int64_t i = 0; i < num_images && st == ZN_OK; i++) {
    const void *in[1] = {(const char *)images + (size_t)i * per_in};
    st = zn_instance_run(f.inst, in, f.outs);
    if (st == ZN_OK) st = zn_instance_run(r.inst, in, r.outs);
    if (st == ZN_OK)
      st = zn_bench_accuracy_add(&acc, r.outs[0], f.outs[0], 1, (int64_t)(out_f / sizeof(float)));
  }
  side_deinit(&r);
  side_deinit(&f);
  if (st == ZN_OK) *acc_out = acc;
  return st;
}
