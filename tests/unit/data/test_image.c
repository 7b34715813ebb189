/* Image decoding: the sample images decode to their known sizes, grayscale and
 * palette/alpha/16-bit PNGs become RGB8, and bad input (truncated JPEG and
 * PNG, random bytes, a text file, absurd dimensions, a missing file) is a
 * clear error naming the file, never a crash. */
#include <png.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/data.h"
#include "harness.h"

static void check_decodes(const char *rel, int width, int height) {
  zn_image img;
  CHECK_OK(zn_image_load_file(zn_test_source_path(rel), &img));
  CHECK_EQ_INT(img.width, width);
  CHECK_EQ_INT(img.height, height);
  CHECK(img.pixels != NULL);
  zn_image_deinit(&img);
}

static uint8_t *read_all(const char *path, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size_out = (size_t)n;
  return buf;
}

/* Writes a small PNG with libpng into a temporary file; returns its path. */
static const char *write_png(const char *name, int width, int height, int color_type, int bit_depth,
                             const uint8_t *rows_data, size_t row_bytes, const png_color *palette, int num_palette,
                             const uint8_t *trans, int num_trans) {
  static char path[512];
  snprintf(path, sizeof path, "%s/zn_test_%s_%d.png", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name,
           (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return NULL;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, num_palette);
  if (trans) png_set_tRNS(png, info, trans, num_trans, NULL);
  png_write_info(png, info);
  for (int y = 0; y < height; y++) png_write_row(png, rows_data + (size_t)y * row_bytes);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  fclose(f);
  return path;
}

static void test_png_conversions(void) {
  zn_image img;
  /* RGBA: alpha dropped, colour kept (no compositing). */
  uint8_t rgba[2 * 4] = {10, 20, 30, 0, 200, 100, 50, 255};
  const char *p = write_png("rgba", 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, 8, NULL, 0, NULL, 0);
  CHECK(p != NULL);
  CHECK_OK(zn_image_load_file(p, &img));
  CHECK_EQ_INT(img.width, 2);
  if (img.pixels) {
    CHECK_EQ_INT(img.pixels[0], 10);
    CHECK_EQ_INT(img.pixels[2], 30);
    CHECK_EQ_INT(img.pixels[3], 200);
    CHECK_EQ_INT(img.pixels[5], 50);
  }
  zn_image_deinit(&img);
  remove(p);

  /* Palette with transparency: expanded through the palette, alpha dropped. */
  png_color pal[2] = {{1, 2, 3}, {250, 251, 252}};
  uint8_t trans[1] = {0};
  uint8_t idx[3] = {1, 0, 1};
  p = write_png("palette", 3, 1, PNG_COLOR_TYPE_PALETTE, 8, idx, 3, pal, 2, trans, 1);
  CHECK(p != NULL);
  CHECK_OK(zn_image_load_file(p, &img));
  if (img.pixels) {
    CHECK_EQ_INT(img.pixels[0], 250);
    CHECK_EQ_INT(img.pixels[3], 1);
    CHECK_EQ_INT(img.pixels[5], 3);
    CHECK_EQ_INT(img.pixels[8], 252);
  }
  zn_image_deinit(&img);
  remove(p);

  /* 16-bit RGB: high byte kept. */
  uint8_t rgb16[6] = {0x12, 0x34, 0xab, 0xcd, 0xff, 0x00};
  p = write_png("rgb16", 1, 1, PNG_COLOR_TYPE_RGB, 16, rgb16, 6, NULL, 0, NULL, 0);
  CHECK(p != NULL);
  CHECK_OK(zn_image_load_file(p, &img));
  if (img.pixels) {
    CHECK_EQ_INT(img.pixels[0], 0x12);
    CHECK_EQ_INT(img.pixels[1], 0xab);
    CHECK_EQ_INT(img.pixels[2], 0xff);
  }
  zn_image_deinit(&img);
  remove(p);

  /* 1-bit grayscale: expanded to 0/255 in all three channels. */
  uint8_t bits[1] = {0x80}; /* first pixel white, second black */
  p = write_png("gray1", 2, 1, PNG_COLOR_TYPE_GRAY, 1, bits, 1, NULL, 0, NULL, 0);
  CHECK(p != NULL);
  CHECK_OK(zn_image_load_file(p, &img));
  if (img.pixels) {
    CHECK_EQ_INT(img.pixels[0], 255);
    CHECK_EQ_INT(img.pixels[2], 255);
    CHECK_EQ_INT(img.pixels[3], 0);
  }
  zn_image_deinit(&img);
  remove(p);
}

static void test_grayscale_png(void) {
  zn_image img;
  CHECK_OK(zn_image_load_file(zn_test_source_path("data/images/camera.png"), &img));
  CHECK_EQ_INT(img.width, 512);
  CHECK_EQ_INT(img.height, 512);
  if (!img.pixels) return;
  int same = 1, varied = 0;
  for (size_t i = 0; i < (size_t)512 * 512; i++) {
    const uint8_t *p = img.pixels + 3 * i;
    if (p[0] != p[1] || p[1] != p[2]) same = 0;
    if (p[0] != img.pixels[0]) varied = 1;
  }
  CHECK(same);
  CHECK(varied); /* a photograph, not a blank */
  zn_image_deinit(&img);
}

static void test_bad_inputs(void) {
  zn_image img;
  /* Truncated JPEG: libjpeg only warns; we refuse it, naming the file. */
  CHECK_STATUS(zn_image_load_file(zn_test_source_path("tests/data/images/truncated.jpg"), &img), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("truncated.jpg");
  CHECK(img.pixels == NULL && img.width == 0);

  /* A text file with an image-looking name. */
  CHECK_STATUS(zn_image_load_file(zn_test_source_path("data/images/SOURCES.md"), &img), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("not an image");
  CHECK_ERROR_HAS("SOURCES.md");

  /* Random bytes. */
  uint8_t noise[4096];
  uint64_t s = 42;
  for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)zn_test_rand_u64(&s);
  CHECK_STATUS(zn_image_load_memory(noise, sizeof noise, "noise.bin", &img), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("not an image");
  CHECK_ERROR_HAS("noise.bin");
  CHECK_STATUS(zn_image_load_memory(noise, 0, "empty", &img), ZN_ERR_INVALID_INPUT);

  /* Random bytes behind a JPEG / PNG signature. */
  noise[0] = 0xff; noise[1] = 0xd8; noise[2] = 0xff;
  CHECK_STATUS(zn_image_load_memory(noise, sizeof noise, "fake.jpg", &img), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("fake.jpg");
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  memcpy(noise, png_magic, 8);
  CHECK_STATUS(zn_image_load_memory(noise, sizeof noise, "fake.png", &img), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("fake.png");

  /* Missing file and a folder. */
  CHECK_STATUS(zn_image_load_file(zn_test_source_path("data/images/no-such.jpg"), &img), ZN_ERR_IO);
  CHECK_ERROR_HAS("no-such.jpg");
  CHECK_STATUS(zn_image_load_file(zn_test_source_path("data/images"), &img), ZN_ERR_IO);

  /* Truncated PNG: the first half of camera.png. */
  size_t size = 0;
  uint8_t *png = read_all(zn_test_source_path("data/images/camera.png"), &size);
  CHECK(png != NULL);
  if (png) {
    CHECK_STATUS(zn_image_load_memory(png, size / 2, "half.png", &img), ZN_ERR_INVALID_INPUT);
    CHECK_ERROR_HAS("half.png");
    /* Absurd width in the IHDR chunk (bytes 16..19): refused before allocating. */
    png[16] = 0x00; png[17] = 0x01; png[18] = 0x00; png[19] = 0x00; /* 65536 */
    CHECK_STATUS(zn_image_load_memory(png, size, "wide.png", &img), ZN_ERR_INVALID_INPUT);
    CHECK_ERROR_HAS("wide.png");
    free(png);
  }

  /* Absurd JPEG dimensions: patch the SOF0 frame header of chelsea.jpg. */
  uint8_t *jpg = read_all(zn_test_source_path("data/images/chelsea.jpg"), &size);
  CHECK(jpg != NULL);
  if (jpg) {
    int patched = 0;
    for (size_t i = 2; i + 9 < size; i++)
      if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
        jpg[i + 5] = 0xfd; jpg[i + 6] = 0xe8; /* height 65000 */
        jpg[i + 7] = 0xfd; jpg[i + 8] = 0xe8; /* width 65000 */
        patched = 1;
        break;
      }
    CHECK(patched);
    CHECK_STATUS(zn_image_load_memory(jpg, size, "huge.jpg", &img), ZN_ERR_INVALID_INPUT);
    CHECK_ERROR_HAS("huge.jpg");
    CHECK_ERROR_HAS("65000");
    /* Every truncation point of a real JPEG fails cleanly or decodes. */
    free(jpg);
    jpg = read_all(zn_test_source_path("data/images/chelsea.jpg"), &size);
    for (size_t cut = 0; jpg && cut < size; cut += 997) {
      zn_status st = zn_image_load_memory(jpg, cut, "cut.jpg", &img);
      CHECK(st == ZN_ERR_INVALID_INPUT);
      zn_image_deinit(&img);
    }
    free(jpg);
  }

  /* Corrupted bytes (seeded positions) in a JPEG and a PNG: each decode either
   * succeeds (libjpeg tolerates damaged entropy data) or fails cleanly. */
  static const char *files[] = {"data/images/chelsea.jpg", "data/images/camera.png"};
  for (int f = 0; f < 2; f++) {
    uint8_t *orig = read_all(zn_test_source_path(files[f]), &size);
    CHECK(orig != NULL);
    if (!orig) continue;
    uint8_t *copy = malloc(size);
    uint64_t seed = 7 + (uint64_t)f;
    int bad_status = 0;
    for (int trial = 0; trial < 40 && copy; trial++) {
      memcpy(copy, orig, size);
      for (int k = 0; k < 4; k++) copy[2 + zn_test_rand_u64(&seed) % (size - 2)] ^= (uint8_t)(1 + trial);
      zn_status st = zn_image_load_memory(copy, size, "flipped", &img);
      if (st != ZN_OK && st != ZN_ERR_INVALID_INPUT) bad_status++;
      if (st == ZN_OK && (img.width <= 0 || !img.pixels)) bad_status++;
      zn_image_deinit(&img);
    }
    CHECK_EQ_INT(bad_status, 0);
    free(copy);
    free(orig);
  }

  CHECK_STATUS(zn_image_init(&img, 0, 10), ZN_ERR_INVALID_INPUT);
  CHECK_STATUS(zn_image_init(&img, ZN_IMAGE_MAX_DIM + 1, 10), ZN_ERR_INVALID_INPUT);
  zn_image_deinit(NULL);
}

static void test_detect(void) {
  static const uint8_t jpeg[4] = {0xff, 0xd8, 0xff, 0xe0};
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  CHECK_EQ_INT(zn_image_detect_format(jpeg, 4), ZN_IMAGE_FORMAT_JPEG);
  CHECK_EQ_INT(zn_image_detect_format(png, 8), ZN_IMAGE_FORMAT_PNG);
  CHECK_EQ_INT(zn_image_detect_format(png, 7), ZN_IMAGE_FORMAT_UNKNOWN);
  CHECK_EQ_INT(zn_image_detect_format("GIF89a", 6), ZN_IMAGE_FORMAT_UNKNOWN);
}

int zn_test_main(void) {
  /* Sizes as reported by `file`. */
  check_decodes("data/images/astronaut.jpg", 512, 512);
  check_decodes("data/images/camera.png", 512, 512);
  check_decodes("data/images/chelsea.jpg", 451, 300);
  check_decodes("data/images/coffee.jpg", 600, 400);
  check_decodes("data/images/rocket.jpg", 640, 427);
  test_detect();
  test_grayscale_png();
  test_png_conversions();
  test_bad_inputs();
  return 0;
}
