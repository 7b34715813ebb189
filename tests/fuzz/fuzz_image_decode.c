/* libFuzzer target: arbitrary bytes as a JPEG or PNG through the decoder
 * (libjpeg-turbo / libpng behind longjmp error handlers) and, when they
 * decode, through the ImageNet preprocessing (resize, centre crop,
 * normalise). Any crash, leak, UB or allocation over the documented caps is
 * a bug; errors are the expected outcome. Built with -DZN_FUZZ=ON (clang);
 * scripts/fuzz.sh runs it. */
#include <stddef.h>
#include <stdint.h>

#include "data/data.h"

/* A small crop keeps each run short; the resize path is the same at any size. */
#define FUZZ_CROP 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zn_image img;
  if (zn_image_load_memory(data, size, "fuzz input", &img) != ZN_OK) return 0;
  float out[3 * FUZZ_CROP * FUZZ_CROP];
  zn_preprocess_options o = zn_preprocess_options_imagenet(FUZZ_CROP);
  (void)zn_image_preprocess(&img, &o, out);
  zn_image_deinit(&img);
  return 0;
}
