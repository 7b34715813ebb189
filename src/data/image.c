/* Image decoding to RGB8: JPEG through libjpeg-turbo, PNG through libpng's
 * classic API. Both libraries report errors by calling a handler that must not
 * return (libjpeg's default one calls exit()), so each decode installs its own
 * handler that records the message and longjmps back here: a corrupt or
 * truncated file becomes ZN_ERR_INVALID_INPUT naming the file, never a crash.
 * The format is chosen from the magic bytes, never from the file name. */
#include "data/data.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "core/alloc.h"
#include "core/status.h"

/* libjpeg's own working memory (progressive coefficient buffers, ...). */
#define JPEG_MAX_WORK_BYTES ((long)1 << 30)

zn_image_format zn_image_detect_format(const void *data, size_t size) {
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  const uint8_t *p = data;
  if (size >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return ZN_IMAGE_FORMAT_JPEG;
  if (size >= 8 && memcmp(p, png_magic, 8) == 0) return ZN_IMAGE_FORMAT_PNG;
  return ZN_IMAGE_FORMAT_UNKNOWN;
}

zn_status zn_image_init(zn_image *image, int width, int height) {
  memset(image, 0, sizeof *image);
  if (width <= 0 || height <= 0 || width > ZN_IMAGE_MAX_DIM || height > ZN_IMAGE_MAX_DIM)
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to create image: size %dx%d outside 1..%d", width, height,
                    ZN_IMAGE_MAX_DIM);
  size_t bytes = (size_t)width * (size_t)height * 3;
  image->pixels = zn_malloc(bytes);
  if (!image->pixels)
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate image: %dx%d RGB (%zu bytes)", width, height, bytes);
  image->width = width;
  image->height = height;
  return ZN_OK;
}

void zn_image_deinit(zn_image *image) {
  if (!image) return;
  zn_free(image->pixels);
  memset(image, 0, sizeof *image);
}

static zn_status check_dims(const char *name, long width, long height) {
  if (width <= 0 || height <= 0 || width > ZN_IMAGE_MAX_DIM || height > ZN_IMAGE_MAX_DIM)
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to decode image %s: size %ldx%ld outside 1..%d", name, width,
                    height, ZN_IMAGE_MAX_DIM);
  return ZN_OK;
}

/* ---- JPEG ---- */

typedef struct jpeg_error_ctx {
  struct jpeg_error_mgr mgr; /* first: libjpeg hands us a pointer to it */
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} jpeg_error_ctx;

static void jpeg_fail(j_common_ptr cinfo) {
  jpeg_error_ctx *ctx = (jpeg_error_ctx *)cinfo->err;
  cinfo->err->format_message(cinfo, ctx->message);
  longjmp(ctx->jump, 1);
}

/* Warnings (level -1): a file that ends early is only a warning to libjpeg,
 * which pads the image with grey; PIL refuses such a file, and so do we. */
static void jpeg_emit(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) jpeg_fail(cinfo);
  cinfo->err->num_warnings++;
}

static void jpeg_quiet(j_common_ptr cinfo) { (void)cinfo; }

/* CMYK/YCCK JPEGs (Adobe, stored inverted) to RGB: R = C * K / 255. */
static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, int width, int inverted) {
  for (int x = 0; x < width; x++) {
    unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
    if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
    rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
    rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
    rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
  }
}

static zn_status decode_jpeg(const uint8_t *data, size_t size, const char *name, zn_image *out) {
  struct jpeg_decompress_struct cinfo;
  jpeg_error_ctx err;
  uint8_t *volatile pixels = NULL;
  uint8_t *volatile cmyk_row = NULL;
  volatile int created = 0;

  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_emit;
  err.mgr.output_message = jpeg_quiet;
  err.message[0] = '\0';
  if (setjmp(err.jump)) {
    if (created) jpeg_destroy_decompress(&cinfo);
    zn_free(pixels);
    zn_free(cmyk_row);
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to decode image %s: corrupt or truncated JPEG: %s", name,
                    err.message);
  }
  jpeg_create_decompress(&cinfo);
  created = 1;
  cinfo.mem->max_memory_to_use = JPEG_MAX_WORK_BYTES;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);

  zn_status st = check_dims(name, (long)cinfo.image_width, (long)cinfo.image_height);
  if (st != ZN_OK) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  int inverted = cmyk && cinfo.saw_Adobe_marker;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);

  int width = (int)cinfo.output_width, height = (int)cinfo.output_height;
  size_t bytes = (size_t)width * (size_t)height * 3;
  pixels = zn_malloc(bytes);
  if (cmyk) cmyk_row = zn_malloc((size_t)width * 4);
  if (!pixels || (cmyk && !cmyk_row)) {
    jpeg_destroy_decompress(&cinfo);
    zn_free(pixels);
    zn_free(cmyk_row);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to decode image %s: cannot allocate %dx%d pixels", name, width,
                    height);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t *dst = pixels + (size_t)cinfo.output_scanline * (size_t)width * 3;
    JSAMPROW row = cmyk ? cmyk_row : dst;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break; /* suspension cannot happen with a memory source */
    if (cmyk) cmyk_row_to_rgb(cmyk_row, dst, width, inverted);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  zn_free(cmyk_row);
  out->width = width;
  out->height = height;
  out->pixels = pixels;
  return ZN_OK;
}

/* ---- PNG ---- */

typedef struct png_ctx {
  jmp_buf jump;
  char message[256];
  const uint8_t *data;
  size_t size;
  size_t pos;
} png_ctx;

static void png_fail(png_structp png, png_const_charp message) {
  png_ctx *ctx = png_get_error_ptr(png);
  snprintf(ctx->message, sizeof ctx->message, "%s", message);
  longjmp(ctx->jump, 1);
}

static void png_quiet(png_structp png, png_const_charp message) { (void)png; (void)message; }

static void png_read_memory(png_structp png, png_bytep out, size_t count) {
  png_ctx *ctx = png_get_io_ptr(png);
  if (count > ctx->size - ctx->pos) png_error(png, "file ends early (truncated)");
  memcpy(out, ctx->data + ctx->pos, count);
  ctx->pos += count;
}

static zn_status decode_png(const uint8_t *data, size_t size, const char *name, zn_image *out) {
  png_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.data = data;
  ctx.size = size;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_quiet);
  if (!png) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to decode image %s: cannot create PNG reader", name);
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to decode image %s: cannot create PNG reader", name);
  }
  uint8_t *volatile pixels = NULL;
  uint8_t **volatile rows = NULL;
  if (setjmp(ctx.jump)) {
    png_destroy_read_struct(&png, &info, NULL);
    zn_free(pixels);
    zn_free(rows);
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to decode image %s: corrupt or truncated PNG: %s", name,
                    ctx.message);
  }
  png_set_read_fn(png, &ctx, png_read_memory);
  png_set_user_limits(png, ZN_IMAGE_MAX_DIM, ZN_IMAGE_MAX_DIM);
  png_set_chunk_malloc_max(png, (png_alloc_size_t)64 << 20);
  png_read_info(png, info);

  png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  int color_type = png_get_color_type(png, info), bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth == 16) png_set_strip_16(png); /* keep the high byte, as PIL does */
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_strip_alpha(png); /* PIL's convert("RGB") drops alpha without compositing */
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != (size_t)width * 3)
    png_error(png, "unexpected layout after conversion to RGB8");

  pixels = zn_malloc((size_t)width * height * 3);
  rows = zn_malloc(sizeof(uint8_t *) * height);
  if (!pixels || !rows) {
    png_destroy_read_struct(&png, &info, NULL);
    zn_free(pixels);
    zn_free(rows);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to decode image %s: cannot allocate %ux%u pixels", name,
                    (unsigned)width, (unsigned)height);
  }
  for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width * 3;
  png_read_image(png, rows);
  png_destroy_read_struct(&png, &info, NULL);
  zn_free(rows);
  out->width = (int)width;
  out->height = (int)height;
  out->pixels = pixels;
  return ZN_OK;
}

/* ---- entry points ---- */

zn_status zn_image_load_memory(const void *data, size_t size, const char *name, zn_image *image_out) {
  if (!image_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to decode image: image_out is NULL");
  memset(image_out, 0, sizeof *image_out);
  if (!name) name = "(memory)";
  if (!data && size) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to decode image %s: data is NULL", name);
  switch (zn_image_detect_format(data, size)) {
  case ZN_IMAGE_FORMAT_JPEG: return decode_jpeg(data, size, name, image_out);
  case ZN_IMAGE_FORMAT_PNG: return decode_png(data, size, name, image_out);
  default:
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to decode image %s: not an image (no JPEG or PNG signature)", name);
  }
}

zn_status zn_image_load_file(const char *path, zn_image *image_out) {
  if (!image_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load image: image_out is NULL");
  memset(image_out, 0, sizeof *image_out);
  if (!path) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load image: path is NULL");
  FILE *f = fopen(path, "rb");
  if (!f) return zn_error(ZN_ERR_IO, "failed to open image %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return zn_error(ZN_ERR_IO, "failed to read image %s: not a regular file", path);
  }
  if ((uint64_t)sb.st_size > ZN_IMAGE_MAX_FILE_BYTES) {
    fclose(f);
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to read image %s: file of %lld bytes exceeds the %zu-byte cap",
                    path, (long long)sb.st_size, ZN_IMAGE_MAX_FILE_BYTES);
  }
  size_t size = (size_t)sb.st_size;
  uint8_t *data = zn_malloc(size ? size : 1);
  if (!data) {
    fclose(f);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read image %s: cannot allocate %zu bytes", path, size);
  }
  size_t got = fread(data, 1, size, f);
  int read_error = ferror(f);
  fclose(f);
  if (read_error || got != size) {
    zn_free(data);
    return zn_error(ZN_ERR_IO, "failed to read image %s: short read (%zu of %zu bytes)", path, got, size);
  }
  zn_status st = zn_image_load_memory(data, size, path, image_out);
  zn_free(data);
  return st;
}
