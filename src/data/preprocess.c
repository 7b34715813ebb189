/* Resampling and ImageNet preprocessing, matching torchvision's eval transform
 * on a PIL image: Resize(round(crop / 0.875)) with PIL's antialiased bilinear
 * filter, CenterCrop(crop), ToTensor, Normalize(mean, std). The resampler
 * follows PIL's published algorithm (a triangle filter stretched by the
 * downscale factor, weights normalised per output pixel, 22-bit fixed-point
 * taps, rounding to 8 bits after the horizontal and the vertical pass) so a
 * model sees the same numbers it was evaluated with in PyTorch. */
#include "data/data.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

#define PRECISION_BITS (32 - 8 - 2)

/* Taps of a 1-D resample from in_size to out_size: output i reads
 * in[bounds[2i] .. bounds[2i] + bounds[2i+1]) with weights coeffs[i*ksize ...]. */
typedef struct taps {
  int ksize;
  int *bounds;
  int32_t *coeffs;
} taps;

static void taps_deinit(taps *t) {
  zn_free(t->bounds);
  zn_free(t->coeffs);
  memset(t, 0, sizeof *t);
}

static double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

static zn_status taps_init(taps *t, int in_size, int out_size) {
  memset(t, 0, sizeof *t);
  double scale = (double)in_size / out_size;
  double filter_scale = scale < 1.0 ? 1.0 : scale;
  double support = 1.0 * filter_scale; /* bilinear support is 1 */
  int ksize = (int)ceil(support) * 2 + 1;
  double *w = zn_malloc(sizeof(double) * (size_t)ksize);
  t->bounds = zn_malloc(sizeof(int) * 2 * (size_t)out_size);
  t->coeffs = zn_calloc((size_t)out_size * (size_t)ksize, sizeof(int32_t));
  if (!w || !t->bounds || !t->coeffs) {
    zn_free(w);
    taps_deinit(t);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate resampling taps (%d -> %d)", in_size, out_size);
  }
  t->ksize = ksize;
  for (int i = 0; i < out_size; i++) {
    double center = (i + 0.5) * scale;
    /* C truncation, as PIL: the +0.5 rounds the positive cases. */
    int lo = (int)(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = (int)(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    int n = hi - lo;
    double sum = 0.0, inv_scale = 1.0 / filter_scale;
    for (int k = 0; k < n; k++) {
      w[k] = triangle((k + lo - center + 0.5) * inv_scale);
      sum += w[k];
    }
    for (int k = 0; k < n; k++) {
      double v = sum != 0.0 ? w[k] / sum : 0.0;
      t->coeffs[(size_t)i * ksize + k] =
          (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    t->bounds[2 * i] = lo;
    t->bounds[2 * i + 1] = n;
  }
  zn_free(w);
  return ZN_OK;
}

static inline uint8_t clip8(int64_t acc) {
  int64_t v = acc >> PRECISION_BITS;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void resample_horizontal(const zn_image *src, zn_image *dst, const taps *t) {
  for (int y = 0; y < dst->height; y++) {
    const uint8_t *in = src->pixels + (size_t)y * src->width * 3;
    uint8_t *out = dst->pixels + (size_t)y * dst->width * 3;
    for (int x = 0; x < dst->width; x++) {
      int lo = t->bounds[2 * x], n = t->bounds[2 * x + 1];
      const int32_t *k = t->coeffs + (size_t)x * t->ksize;
      int64_t r = 1 << (PRECISION_BITS - 1), g = r, b = r;
      for (int j = 0; j < n; j++) {
        const uint8_t *p = in + (size_t)(lo + j) * 3;
        r += p[0] * (int64_t)k[j];
        g += p[1] * (int64_t)k[j];
        b += p[2] * (int64_t)k[j];
      }
      out[3 * x] = clip8(r);
      out[3 * x + 1] = clip8(g);
      out[3 * x + 2] = clip8(b);
    }
  }
}

static void resample_vertical(const zn_image *src, zn_image *dst, const taps *t) {
  size_t stride = (size_t)src->width * 3;
  for (int y = 0; y < dst->height; y++) {
    int lo = t->bounds[2 * y], n = t->bounds[2 * y + 1];
    const int32_t *k = t->coeffs + (size_t)y * t->ksize;
    uint8_t *out = dst->pixels + (size_t)y * stride;
    for (size_t x = 0; x < stride; x++) {
      int64_t acc = 1 << (PRECISION_BITS - 1);
      for (int j = 0; j < n; j++) acc += src->pixels[(size_t)(lo + j) * stride + x] * (int64_t)k[j];
      out[x] = clip8(acc);
    }
  }
}

zn_status zn_image_resize_bilinear(const zn_image *src, int out_width, int out_height, zn_image *dst) {
  if (!src || !src->pixels || !dst)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to resize image: NULL image");
  memset(dst, 0, sizeof *dst);
  ZN_TRY(zn_image_init(dst, out_width, out_height));
  zn_image mid = {0};
  taps th = {0}, tv = {0};
  zn_status st = ZN_OK;
  int need_h = out_width != src->width, need_v = out_height != src->height;
  if (!need_h && !need_v) {
    memcpy(dst->pixels, src->pixels, (size_t)src->width * src->height * 3);
    return ZN_OK;
  }
  if (need_h && need_v) {
    st = zn_image_init(&mid, out_width, src->height);
    if (st != ZN_OK) goto done;
  }
  if (need_h) {
    st = taps_init(&th, src->width, out_width);
    if (st != ZN_OK) goto done;
    resample_horizontal(src, need_v ? &mid : dst, &th);
  }
  if (need_v) {
    st = taps_init(&tv, src->height, out_height);
    if (st != ZN_OK) goto done;
    resample_vertical(need_h ? &mid : src, dst, &tv);
  }
done:
  taps_deinit(&th);
  taps_deinit(&tv);
  zn_image_deinit(&mid);
  if (st != ZN_OK) zn_image_deinit(dst);
  return st;
}

zn_preprocess_options zn_preprocess_options_imagenet(int crop_size) {
  zn_preprocess_options o = {
      .crop_size = crop_size,
      .resize_size = 0,
      .mean = {0.485f, 0.456f, 0.406f},
      .std = {0.229f, 0.224f, 0.225f},
  };
  return o;
}

static int default_resize(int crop_size) { return (int)lround(crop_size / 0.875); }

void zn_preprocess_resized_dims(int width, int height, int resize_size, int *width_out, int *height_out) {
  if (width <= height) {
    *width_out = resize_size;
    *height_out = (int)((int64_t)resize_size * height / width);
  } else {
    *height_out = resize_size;
    *width_out = (int)((int64_t)resize_size * width / height);
  }
}

int zn_preprocess_crop_offset(int in_size, int crop_size) {
  /* torchvision pads (crop - in) // 2 on the left/top when the crop is larger. */
  if (in_size < crop_size) return -((crop_size - in_size) / 2);
  /* Python's round() halves to even; so does nearbyint in the default mode. */
  return (int)nearbyint((in_size - crop_size) / 2.0);
}

zn_status zn_image_preprocess(const zn_image *image, const zn_preprocess_options *opts, float *out_chw) {
  if (!image || !image->pixels || !opts || !out_chw)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to preprocess image: NULL argument");
  int crop = opts->crop_size;
  if (crop <= 0 || crop > ZN_IMAGE_MAX_DIM)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to preprocess image: crop size %d outside 1..%d", crop,
                    ZN_IMAGE_MAX_DIM);
  int resize = opts->resize_size > 0 ? opts->resize_size : default_resize(crop);
  if (resize > ZN_IMAGE_MAX_DIM)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to preprocess image: resize %d exceeds %d", resize,
                    ZN_IMAGE_MAX_DIM);
  for (int c = 0; c < 3; c++)
    if (!(opts->std[c] > 0.0f))
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to preprocess image: std[%d] = %g is not positive", c,
                      (double)opts->std[c]);
  int rw, rh;
  zn_preprocess_resized_dims(image->width, image->height, resize, &rw, &rh);
  if (rw <= 0 || rh <= 0 || rw > ZN_IMAGE_MAX_DIM || rh > ZN_IMAGE_MAX_DIM)
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to preprocess image: %dx%d resizes to %dx%d (limit %d)",
                    image->width, image->height, rw, rh, ZN_IMAGE_MAX_DIM);
  zn_image resized = {0};
  const zn_image *src = image;
  if (rw != image->width || rh != image->height) {
    ZN_TRY(zn_image_resize_bilinear(image, rw, rh, &resized));
    src = &resized;
  }
  int top = zn_preprocess_crop_offset(rh, crop), left = zn_preprocess_crop_offset(rw, crop);
  size_t plane = (size_t)crop * crop;
  for (int c = 0; c < 3; c++) {
    float mean = opts->mean[c], std = opts->std[c];
    float *dst = out_chw + c * plane;
    for (int y = 0; y < crop; y++) {
      int sy = y + top;
      for (int x = 0; x < crop; x++) {
        int sx = x + left;
        float v = 0.0f; /* CenterCrop pads with 0 when the crop is larger */
        if (sy >= 0 && sy < rh && sx >= 0 && sx < rw) v = src->pixels[((size_t)sy * rw + sx) * 3 + c] / 255.0f;
        dst[(size_t)y * crop + x] = (v - mean) / std;
      }
    }
  }
  zn_image_deinit(&resized);
  return ZN_OK;
}
