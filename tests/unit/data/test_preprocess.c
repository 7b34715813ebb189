/* Resampling and ImageNet preprocessing: constant images stay constant, a
 * linear ramp is resampled to its value at each output pixel's centre, the
 * resampler matches PIL 9.4's Image.resize(BILINEAR) bytes on a test pattern,
 * centre-crop offsets follow torchvision (Python rounding, padding), the
 * normalisation is exact, and the whole pipeline on sample photos matches
 * torchvision's eval transform (references computed once with PIL + NumPy). */
#include <stdlib.h>

#include "data/data.h"
#include "harness.h"

static void fill_constant(zn_image *img, uint8_t r, uint8_t g, uint8_t b) {
  for (size_t i = 0; i < (size_t)img->width * img->height; i++) {
    img->pixels[3 * i] = r;
    img->pixels[3 * i + 1] = g;
    img->pixels[3 * i + 2] = b;
  }
}

static void test_constant(void) {
  static const int sizes[][4] = {{100, 80, 37, 23}, {37, 23, 100, 80}, {640, 427, 384, 256},
                                 {5, 5, 1, 1},      {1, 1, 7, 9},      {300, 451, 256, 384}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    zn_image src, dst;
    CHECK_OK(zn_image_init(&src, sizes[k][0], sizes[k][1]));
    fill_constant(&src, 0, 137, 255);
    CHECK_OK(zn_image_resize_bilinear(&src, sizes[k][2], sizes[k][3], &dst));
    CHECK_EQ_INT(dst.width, sizes[k][2]);
    CHECK_EQ_INT(dst.height, sizes[k][3]);
    int bad = 0;
    for (size_t i = 0; dst.pixels && i < (size_t)dst.width * dst.height; i++)
      if (dst.pixels[3 * i] != 0 || dst.pixels[3 * i + 1] != 137 || dst.pixels[3 * i + 2] != 255) bad++;
    CHECK_EQ_INT(bad, 0);
    zn_image_deinit(&src);
    zn_image_deinit(&dst);
  }
}

/* A horizontal ramp v(x) = x sampled at pixel centres: a symmetric triangle
 * filter averages it to the ramp's value at the output pixel's centre
 * (x_c = (i + 0.5) * scale - 0.5) wherever the filter is not cut by an edge. */
static void test_ramp(void) {
  zn_image src, dst;
  CHECK_OK(zn_image_init(&src, 256, 4));
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 256; x++)
      for (int c = 0; c < 3; c++) src.pixels[((size_t)y * 256 + x) * 3 + c] = (uint8_t)x;
  static const int widths[] = {64, 100, 181, 255, 400};
  for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
    int ow = widths[k];
    CHECK_OK(zn_image_resize_bilinear(&src, ow, 4, &dst));
    double scale = 256.0 / ow, support = scale > 1 ? scale : 1;
    int worst = 0;
    for (int i = 0; dst.pixels && i < ow; i++) {
      double center = (i + 0.5) * scale;
      if (center - support < 0 || center + support > 256) continue;
      double expect = center - 0.5;
      int got = dst.pixels[(size_t)(2 * ow + i) * 3 + 1];
      int err = abs(got - (int)lround(expect));
      if (err > worst) worst = err;
    }
    CHECK(worst <= 1);
    zn_image_deinit(&dst);
  }
  /* Vertical too: transpose the ramp. */
  zn_image col;
  CHECK_OK(zn_image_init(&col, 2, 256));
  for (int y = 0; y < 256; y++)
    for (int x = 0; x < 2; x++)
      for (int c = 0; c < 3; c++) col.pixels[((size_t)y * 2 + x) * 3 + c] = (uint8_t)y;
  CHECK_OK(zn_image_resize_bilinear(&col, 2, 64, &dst));
  for (int i = 2; dst.pixels && i < 62; i++) CHECK_NEAR(dst.pixels[(size_t)i * 2 * 3], (i + 0.5) * 4 - 0.5, 1.0);
  zn_image_deinit(&dst);
  zn_image_deinit(&col);
  zn_image_deinit(&src);
}

/* Exact bytes from PIL 9.4: Image.fromarray(a).resize((w, h), Image.BILINEAR)
 * for a[y, x, c] = (7x + 13y + 50c + (x*y) % 17) % 256 on a 37 x 23 image.
 * Checked as the sum and the index-weighted sum mod 2^32, plus three pixels. */
static void test_matches_pil(void) {
  static const struct {
    int w, h;
    uint64_t sum, wsum;
    uint8_t first[3], mid[3], last[3];
  } ref[] = {
      {16, 11, 67419, 17845448, {17, 67, 117}, {35, 80, 130}, {66, 65, 115}},
      {50, 30, 575112, 1295801465, {0, 50, 100}, {30, 80, 130}, {36, 86, 136}},
      {37, 11, 155948, 95369684, {10, 60, 110}, {29, 74, 124}, {25, 75, 125}},
      {5, 3, 5750, 132285, {86, 136, 174}, {109, 87, 121}, {183, 113, 78}},
  };
  zn_image src;
  CHECK_OK(zn_image_init(&src, 37, 23));
  for (int y = 0; y < 23; y++)
    for (int x = 0; x < 37; x++)
      for (int c = 0; c < 3; c++)
        src.pixels[((size_t)y * 37 + x) * 3 + c] = (uint8_t)((x * 7 + y * 13 + c * 50 + (x * y) % 17) % 256);
  for (size_t k = 0; k < sizeof ref / sizeof ref[0]; k++) {
    zn_image dst;
    CHECK_OK(zn_image_resize_bilinear(&src, ref[k].w, ref[k].h, &dst));
    if (!dst.pixels) continue;
    size_t n = (size_t)ref[k].w * ref[k].h * 3;
    uint64_t sum = 0, wsum = 0;
    for (size_t i = 0; i < n; i++) {
      sum += dst.pixels[i];
      wsum += (i + 1) * dst.pixels[i];
    }
    CHECK_EQ_INT(sum, ref[k].sum);
    CHECK_EQ_INT(wsum % ((uint64_t)1 << 32), ref[k].wsum);
    const uint8_t *mid = dst.pixels + ((size_t)(ref[k].h / 2) * ref[k].w + ref[k].w / 2) * 3;
    const uint8_t *last = dst.pixels + n - 3;
    for (int c = 0; c < 3; c++) {
      CHECK_EQ_INT(dst.pixels[c], ref[k].first[c]);
      CHECK_EQ_INT(mid[c], ref[k].mid[c]);
      CHECK_EQ_INT(last[c], ref[k].last[c]);
    }
    zn_image_deinit(&dst);
  }
  zn_image_deinit(&src);
}

static void test_geometry(void) {
  int w, h;
  zn_preprocess_resized_dims(451, 300, 256, &w, &h);
  CHECK_EQ_INT(w, 384);
  CHECK_EQ_INT(h, 256);
  zn_preprocess_resized_dims(300, 451, 256, &w, &h);
  CHECK_EQ_INT(w, 256);
  CHECK_EQ_INT(h, 384);
  zn_preprocess_resized_dims(640, 427, 342, &w, &h); /* 342 * 640 / 427 = 512.6 -> 512 */
  CHECK_EQ_INT(w, 512);
  CHECK_EQ_INT(h, 342);
  zn_preprocess_resized_dims(512, 512, 256, &w, &h);
  CHECK_EQ_INT(w, 256);
  CHECK_EQ_INT(h, 256);

  CHECK_EQ_INT(zn_preprocess_crop_offset(384, 224), 80);
  CHECK_EQ_INT(zn_preprocess_crop_offset(256, 224), 16);
  CHECK_EQ_INT(zn_preprocess_crop_offset(257, 224), 16); /* round(16.5) = 16 */
  CHECK_EQ_INT(zn_preprocess_crop_offset(259, 224), 18); /* round(17.5) = 18 */
  CHECK_EQ_INT(zn_preprocess_crop_offset(224, 224), 0);
  CHECK_EQ_INT(zn_preprocess_crop_offset(200, 224), -12);
  CHECK_EQ_INT(zn_preprocess_crop_offset(201, 224), -11); /* pad (224 - 201) // 2 = 11 */

  zn_preprocess_options o = zn_preprocess_options_imagenet(224);
  CHECK_EQ_INT(o.crop_size, 224);
  CHECK_NEAR(o.mean[0], 0.485, 1e-7);
  CHECK_NEAR(o.std[2], 0.225, 1e-7);
}

static void test_normalise(void) {
  zn_image img;
  CHECK_OK(zn_image_init(&img, 300, 260));
  fill_constant(&img, 255, 0, 128);
  zn_preprocess_options o = zn_preprocess_options_imagenet(224);
  float *out = malloc(sizeof(float) * 3 * 224 * 224);
  CHECK_OK(zn_image_preprocess(&img, &o, out));
  const float expect[3] = {(1.0f - 0.485f) / 0.229f, (0.0f - 0.456f) / 0.224f, (128 / 255.0f - 0.406f) / 0.225f};
  int bad = 0;
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 224 * 224; i++)
      if (out[c * 224 * 224 + i] != expect[c]) bad++;
  CHECK_EQ_INT(bad, 0);
  CHECK_NEAR(out[0], 2.2489083, 1e-6);
  CHECK_NEAR(out[224 * 224], -2.0357143, 1e-6);

  /* Crop larger than the resized image: padding is pixel 0, normalised. */
  o.resize_size = 200;
  CHECK_OK(zn_image_preprocess(&img, &o, out));
  CHECK_NEAR(out[0], -0.485 / 0.229, 1e-6);               /* top-left: padding */
  CHECK_NEAR(out[112 * 224 + 112], expect[0], 1e-6);        /* centre: image */

  /* Bad options. */
  o = zn_preprocess_options_imagenet(0);
  CHECK_STATUS(zn_image_preprocess(&img, &o, out), ZN_ERR_INVALID_ARGUMENT);
  o = zn_preprocess_options_imagenet(224);
  o.std[1] = 0.0f;
  CHECK_STATUS(zn_image_preprocess(&img, &o, out), ZN_ERR_INVALID_ARGUMENT);
  free(out);
  zn_image_deinit(&img);
}

/* Decode + resize + crop + normalise against torchvision's transform as
 * computed with PIL 9.4 + NumPy on the same files (per-channel sums and three
 * values). JPEG decoding uses the same libjpeg-turbo defaults as PIL. */
static void test_pipeline_matches_torchvision(void) {
  static const struct {
    const char *file;
    int crop;
    double sums[3];
    float v0, v1, v2; /* [0][0][0], [1][100][50], [2][crop-1][crop-1] */
  } ref[] = {
      {"data/images/chelsea.jpg", 224, {19573.683340366, -9259.473417479545, -26052.637614034116},
       0.810429f, -1.0378151f, 0.7925056f},
      {"data/images/camera.png", 224, {-45.78914632368833, 6449.192195319105, 17570.75464117527},
       1.3584211f, -1.7380952f, 0.7227889f},
      {"data/images/rocket.jpg", 299, {-98701.39605070092, -73111.60549394973, -15230.833824547008},
       -1.6897851f, -0.897759f, -1.0201306f},
  };
  for (size_t k = 0; k < sizeof ref / sizeof ref[0]; k++) {
    zn_image img;
    CHECK_OK(zn_image_load_file(zn_test_source_path(ref[k].file), &img));
    int c = ref[k].crop;
    size_t plane = (size_t)c * c;
    float *out = malloc(sizeof(float) * 3 * plane);
    zn_preprocess_options o = zn_preprocess_options_imagenet(c);
    CHECK_OK(zn_image_preprocess(&img, &o, out));
    for (int ch = 0; ch < 3; ch++) {
      double s = 0;
      for (size_t i = 0; i < plane; i++) s += out[ch * plane + i];
      CHECK_NEAR(s, ref[k].sums[ch], 0.05);
    }
    CHECK_NEAR(out[0], ref[k].v0, 1e-5);
    CHECK_NEAR(out[plane + 100 * (size_t)c + 50], ref[k].v1, 1e-5);
    CHECK_NEAR(out[3 * plane - 1], ref[k].v2, 1e-5);
    free(out);
    zn_image_deinit(&img);
  }
}

int zn_test_main(void) {
  test_constant();
  test_ramp();
  test_matches_pil();
  test_geometry();
  test_normalise();
  test_pipeline_matches_torchvision();
  return 0;
}
