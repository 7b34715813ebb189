/* Accuracy of a reduced-precision model (bf16) against the fp32 model of the
 * same file and backend: both run the same images and their logits (output 0)
 * are compared per image. Used by `zenith bench` for bf16 workloads and by
 * `zenith profile --precision bf16`, so a lower precision is never a silent
 * loss (docs/internals/onednn.md, "Precision"). */
#ifndef ZN_BENCH_ACCURACY_H
#define ZN_BENCH_ACCURACY_H

#include "core/common.h"

/* Running totals over the images compared so far; zero it to start. */
typedef struct zn_bench_accuracy {
  int64_t num_images;          /* images compared */
  int64_t num_classes;         /* elements of output 0 per image (0 before the first image) */
  double max_rel_err;          /* worst image's max|reduced - fp32| / max|fp32| (max|reduced - fp32| when
                                  fp32's logits are all 0); NaN or inf when an output is not finite */
  int64_t top1_agree;          /* images whose top-1 class is the same */
  int64_t top5_agree;          /* images whose fp32 top-1 class is among the reduced model's top 5 */
} zn_bench_accuracy;

/* Fractions of num_images (NaN when no image was compared). */
ZN_INTERNAL double zn_bench_accuracy_top1(const zn_bench_accuracy *acc);
ZN_INTERNAL double zn_bench_accuracy_top5(const zn_bench_accuracy *acc);

/* Add num_images images of num_classes logits each (image-major) to acc.
 * fp32 is the reference. ZN_ERR_INVALID_ARGUMENT for NULL pointers, no image,
 * fewer than 1 class, or a class count other than acc's earlier images'. */
ZN_INTERNAL zn_status zn_bench_accuracy_add(zn_bench_accuracy *acc, const float *reduced, const float *fp32,
                                            int64_t num_images, int64_t num_classes);

/* Run num_images images (float32, the models' input size per image, image-
 * major; borrowed) through reduced and fp32 (one instance each, batch 1,
 * num_threads threads) and compare output 0 into *acc_out (overwritten).
 * Both models must have one float32 input of the same size and a float32
 * output 0 of the same size: ZN_ERR_INVALID_ARGUMENT otherwise, as for NULL
 * pointers or num_images < 1. Errors of the instances pass through. */
ZN_INTERNAL zn_status zn_bench_accuracy_measure(const zn_model *reduced, const zn_model *fp32, const float *images,
                                                int64_t num_images, int num_threads, zn_bench_accuracy *acc_out);

/* Elements of input 0 for one image (batch 1), or 0 when the model's input 0
 * is not float32 or has no fixed size. */
ZN_INTERNAL int64_t zn_bench_accuracy_image_elements(const zn_model *model);

#endif
