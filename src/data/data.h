/* src/data: images in, model-ready tensors out. Decode JPEG (libjpeg-turbo)
 * and PNG (libpng) to RGB8, preprocess like torchvision's ImageNet eval
 * transform, read label files, list data sets (a folder of images, an
 * ImageNet-val layout, synthetic noise) and decode a data set ahead of time
 * with a small thread pool. Nothing here times anything. */
#ifndef ZN_DATA_DATA_H
#define ZN_DATA_DATA_H

#include "core/common.h"

/* ---- images ---- */

/* Largest width or height accepted; larger headers are refused before any
 * pixel buffer is allocated. */
#define ZN_IMAGE_MAX_DIM 16384
/* Largest image file read into memory. */
#define ZN_IMAGE_MAX_FILE_BYTES ((size_t)256 << 20)

typedef enum zn_image_format { ZN_IMAGE_FORMAT_UNKNOWN = 0, ZN_IMAGE_FORMAT_JPEG, ZN_IMAGE_FORMAT_PNG } zn_image_format;

/* An 8-bit RGB image, pixels interleaved row by row (stride = width * 3).
 * Struct provided by the caller; pixels owned by it, release with zn_image_deinit. */
typedef struct zn_image {
  int width;
  int height;
  uint8_t *pixels;
} zn_image;

/* Format from the first bytes (magic numbers), never from a file name. */
ZN_INTERNAL zn_image_format zn_image_detect_format(const void *data, size_t size);

/* Decode a JPEG or PNG file to RGB8 (grayscale, palette and alpha converted;
 * alpha dropped as PIL's convert("RGB") does; 16-bit reduced to 8).
 * Returns ZN_ERR_IO (cannot read), ZN_ERR_INVALID_INPUT (not an image, corrupt
 * or truncated, too large; the message names the file), ZN_ERR_OUT_OF_MEMORY.
 * On failure image_out is zeroed. */
ZN_INTERNAL zn_status zn_image_load_file(const char *path, zn_image *image_out);
/* The same from memory; name (may be NULL) is used in messages. data: borrowed for the call. */
ZN_INTERNAL zn_status zn_image_load_memory(const void *data, size_t size, const char *name, zn_image *image_out);
/* Allocate an uninitialised width x height image (caps as above). */
ZN_INTERNAL zn_status zn_image_init(zn_image *image, int width, int height);
ZN_INTERNAL void zn_image_deinit(zn_image *image);

/* Resize with PIL's bilinear filter (Image.resize(..., BILINEAR) with
 * antialiasing): separable triangle filter whose support grows with the
 * downscale factor, 8-bit fixed-point coefficients and 8-bit rounding after
 * each pass, so results match PIL's. dst is initialised here. */
ZN_INTERNAL zn_status zn_image_resize_bilinear(const zn_image *src, int out_width, int out_height, zn_image *dst);

/* ---- preprocessing (torchvision ImageNet eval transform) ---- */

typedef struct zn_preprocess_options {
  int crop_size;     /* output is crop_size x crop_size (224, 299) */
  int resize_size;   /* shorter side after resize; 0: round(crop_size / 0.875) */
  float mean[3];     /* per channel, on [0,1] values */
  float std[3];
} zn_preprocess_options;

/* ImageNet defaults for a crop size: resize round(size/0.875), mean
 * (0.485,0.456,0.406), std (0.229,0.224,0.225). */
ZN_INTERNAL zn_preprocess_options zn_preprocess_options_imagenet(int crop_size);

/* Shorter side -> resize_size, longer side -> int(resize_size * long / short)
 * (torchvision's truncation). */
ZN_INTERNAL void zn_preprocess_resized_dims(int width, int height, int resize_size, int *width_out, int *height_out);
/* torchvision CenterCrop offsets: int(round((in - crop) / 2)) with Python's
 * round-half-to-even; -((crop - in) // 2) (its zero padding) when the crop is
 * larger than the image. */
ZN_INTERNAL int zn_preprocess_crop_offset(int in_size, int crop_size);

/* Resize, centre-crop, scale to [0,1], normalise; writes 3 x crop x crop
 * float32 planes (NCHW for one image) into out_chw (caller's buffer of
 * 3*crop*crop floats). When the resized image is smaller than the crop
 * (resize_size < crop_size), the outside is zero-padded before normalising,
 * as torchvision does. */
ZN_INTERNAL zn_status zn_image_preprocess(const zn_image *image, const zn_preprocess_options *opts, float *out_chw);

/* ---- labels ---- */

#define ZN_LABELS_MAX_LINE 1024
#define ZN_LABELS_MAX_COUNT 1000000

typedef struct zn_labels zn_labels;

/* One class name per line, line i = class i (leading/trailing spaces and
 * '\r' trimmed). A line longer than ZN_LABELS_MAX_LINE is an error naming it.
 * A final line without '\n' counts; a trailing empty line does not. */
ZN_INTERNAL zn_status zn_labels_load(const char *path, zn_labels **labels_out);
ZN_INTERNAL void zn_labels_destroy(zn_labels *labels);
ZN_INTERNAL size_t zn_labels_count(const zn_labels *labels);
/* Class name, or NULL when out of range. Borrowed from labels. */
ZN_INTERNAL const char *zn_labels_get(const zn_labels *labels, int64_t index);

/* ---- data sets ---- */

typedef enum zn_dataset_kind { ZN_DATASET_FOLDER = 0, ZN_DATASET_IMAGENET_VAL, ZN_DATASET_SYNTHETIC } zn_dataset_kind;

typedef struct zn_dataset_item {
  char *path;        /* NULL for synthetic items */
  int64_t label;     /* class index, -1 when unknown */
} zn_dataset_item;

typedef struct zn_dataset {
  zn_dataset_kind kind;
  size_t num_items;
  zn_dataset_item *items;
  uint64_t seed;     /* synthetic: item i is normal noise from seed + i */
} zn_dataset;

/* Every .jpg/.jpeg/.png (case-insensitive) directly in folder, sorted by name
 * (byte order); labels -1. An empty folder is an error. */
ZN_INTERNAL zn_status zn_dataset_open_folder(const char *folder, zn_dataset **dataset_out);

/* ImageNet-val layout: images in folder, and a labels file of lines
 *     <file name> <class index>
 * e.g. "ILSVRC2012_val_00000001.JPEG 65", separated by spaces or tabs; blank
 * lines and lines starting with '#' are ignored. File names are relative to
 * folder and may not contain '/'. Items keep the file's order. A malformed
 * line is an error naming the file and line; a listed image that does not
 * exist is an error too. */
ZN_INTERNAL zn_status zn_dataset_open_imagenet_val(const char *folder, const char *labels_path,
                                                   zn_dataset **dataset_out);

/* num_items images of standard normal noise (already "normalised"), item i
 * drawn from seed + i; labels -1. */
ZN_INTERNAL zn_status zn_dataset_open_synthetic(size_t num_items, uint64_t seed, zn_dataset **dataset_out);

ZN_INTERNAL void zn_dataset_destroy(zn_dataset *dataset);

/* Fill out_chw (3*size*size floats) with synthetic item index of dataset. */
ZN_INTERNAL void zn_dataset_synthetic_fill(uint64_t seed, size_t index, int size, float *out_chw);

/* ---- decoding ahead: a small pthread pool ---- */

typedef enum zn_bad_image_policy { ZN_BAD_IMAGE_FAIL = 0, ZN_BAD_IMAGE_SKIP = 1 } zn_bad_image_policy;

typedef struct zn_loader_options {
  int num_threads;                 /* decode threads, default 1 (0 -> 1) */
  int crop_size;                   /* model input size (224, 299); required */
  zn_bad_image_policy policy;      /* default FAIL */
  size_t max_items;                /* first max_items of the data set; 0 = all */
  size_t max_bytes;                /* cap on the decoded tensors; 0 = 4 GiB */
} zn_loader_options;

ZN_INTERNAL zn_loader_options zn_loader_options_default(int crop_size);

typedef struct zn_bad_image {
  char *path;
  char *message;                   /* zn_last_error() text of its failure */
} zn_bad_image;

/* Images decoded and preprocessed into one block: image i is
 * data[i * 3 * crop * crop ...], with its label and path (borrowed from the
 * data set, which must outlive it). */
typedef struct zn_loaded_set {
  size_t num_images;
  int crop_size;
  float *data;                     /* num_images * 3 * crop * crop floats */
  int64_t *labels;
  const char **paths;              /* NULL entries for synthetic items */
  size_t num_bad;                  /* images skipped (policy SKIP) */
  zn_bad_image *bad;
} zn_loaded_set;

/* Decode + preprocess the data set's items on opts->num_threads threads.
 * A bad image is recorded by name: with FAIL the call returns its status and
 * a message naming it (the first bad one in data set order); with SKIP it is
 * left out and listed in bad[]. All images bad is an error either way.
 * @param set_out the caller owns it, release with zn_loaded_set_destroy. */
ZN_INTERNAL zn_status zn_dataset_load(const zn_dataset *dataset, const zn_loader_options *opts,
                                      zn_loaded_set **set_out);
ZN_INTERNAL void zn_loaded_set_destroy(zn_loaded_set *set);
/* Image i's 3 x crop x crop planes. */
ZN_INTERNAL const float *zn_loaded_set_image(const zn_loaded_set *set, size_t i);

#endif
