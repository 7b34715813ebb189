/* The ref backend's internals: the tensor view every kernel receives, one
 * kernel per op (or op family, one file each), and the shared helpers
 * (the GEMM loop, activations, element sizes). Kernels never allocate: any
 * scratch they need is planned in the instance arena (zn_ref_conv_scratch_bytes).
 * Kernels check the shapes they index by (cheap, O(rank)) and return
 * ZN_ERR_INVALID_MODEL rather than read out of bounds. */
#ifndef ZN_BACKEND_REF_REF_H
#define ZN_BACKEND_REF_REF_H

#include "backend/backend.h"

/* A dense row-major tensor at the instance's batch size. */
typedef struct zn_ref_tensor {
  void *data;
  zn_dtype dtype;
  int num_dims;
  int64_t dims[ZN_MAX_DIMS];
  int64_t count;                 /* elements */
  size_t elem_bytes;
} zn_ref_tensor;

/* in[k] is input k of the node (NULL for an absent optional input). */
typedef zn_status (*zn_ref_kernel)(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch);

/* Calibrate BatchNormalization statistics: run g once on seeded standard-normal
 * inputs at the given batch size; before each BatchNormalization node runs, set
 * its mean (input 3) and variance (input 4) constants to the per-channel mean and
 * (population) variance of its actual input. Deterministic for a seed. The graph
 * must be shaped (zn_graph_infer_shapes) and not yet BN-folded. */
ZN_INTERNAL zn_status zn_ref_calibrate_batch_norm(zn_graph *g, int64_t batch, uint64_t seed);

/* ---- helpers ---- */
/* C[m, n] += sum_k A(m, k) * B(k, n), summed in an order fixed by the shapes
 * and strides alone (deterministic; k ascending when B's rows are contiguous,
 * so the result does not depend on blocking). A(m, k) = a[m * a_rs + k * a_cs],
 * B(k, n) = b[k * b_rs + n * b_cs], C row-major with leading dimension ldc. */
ZN_INTERNAL void zn_ref_sgemm_f32(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs,
                                  const float *b, int64_t b_rs, int64_t b_cs, float *c, int64_t ldc);
ZN_INTERNAL void zn_ref_act_apply_f32(const zn_act *act, float *data, int64_t count);
ZN_INTERNAL float zn_ref_act_f32(const zn_act *act, float x);
/* True for the activations zn_ref_act_apply_f32 knows. */
ZN_INTERNAL bool zn_ref_act_supported(const zn_act *act);
/* Numpy-style broadcast: strides (in elements) of `in` seen with out's rank;
 * 0 on broadcast axes. False if not broadcastable to out. */
ZN_INTERNAL bool zn_ref_broadcast_strides(const zn_ref_tensor *in, const zn_ref_tensor *out,
                                          int64_t strides_out[ZN_MAX_DIMS]);
/* out's elements in order, element i read from src at the offset its index
 * gives with src_strides (in elements; 0 repeats along a broadcast axis):
 * Transpose's permuted strides, Expand's broadcast ones. */
ZN_INTERNAL void zn_ref_strided_copy(zn_ref_tensor *out, const void *src, const int64_t src_strides[ZN_MAX_DIMS]);
/* Read element i of an int32/int64 tensor as int64 (indices, starts, ends...). */
ZN_INTERNAL int64_t zn_ref_read_index(const zn_ref_tensor *t, int64_t i);

/* ---- kernels ---- */
ZN_INTERNAL size_t zn_ref_conv_scratch_bytes(const zn_node *node, const zn_ref_tensor *x, const zn_ref_tensor *w);
ZN_INTERNAL zn_status zn_ref_conv_nchw_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                           void *scratch);
ZN_INTERNAL zn_status zn_ref_gemm_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                      void *scratch);
ZN_INTERNAL zn_status zn_ref_matmul_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                        void *scratch);
ZN_INTERNAL zn_status zn_ref_binary(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                    void *scratch);   /* Add Sub Mul Div: f32, int64 */
ZN_INTERNAL zn_status zn_ref_sum_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                     void *scratch);
ZN_INTERNAL zn_status zn_ref_activation_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                            void *scratch);
ZN_INTERNAL zn_status zn_ref_softmax_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                         void *scratch);
ZN_INTERNAL zn_status zn_ref_max_pool_nchw_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                               void *scratch);
ZN_INTERNAL zn_status zn_ref_average_pool_nchw_f32(const zn_node *n, const zn_ref_tensor *const *in,
                                                   zn_ref_tensor *out, void *scratch);
ZN_INTERNAL zn_status zn_ref_global_pool_nchw_f32(const zn_node *n, const zn_ref_tensor *const *in,
                                                  zn_ref_tensor *out, void *scratch);
ZN_INTERNAL zn_status zn_ref_reduce_mean_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                             void *scratch);
ZN_INTERNAL zn_status zn_ref_batch_norm_nchw_f32(const zn_node *n, const zn_ref_tensor *const *in,
                                                 zn_ref_tensor *out, void *scratch);
ZN_INTERNAL zn_status zn_ref_lrn_nchw_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                          void *scratch);
ZN_INTERNAL zn_status zn_ref_concat(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                    void *scratch);
ZN_INTERNAL zn_status zn_ref_copy(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                  void *scratch);     /* Reshape Flatten Squeeze Unsqueeze Identity */
ZN_INTERNAL zn_status zn_ref_shape(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch);
ZN_INTERNAL zn_status zn_ref_transpose(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                       void *scratch);
ZN_INTERNAL zn_status zn_ref_pad(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                 void *scratch);
ZN_INTERNAL zn_status zn_ref_gather(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                    void *scratch);
ZN_INTERNAL zn_status zn_ref_cast(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                  void *scratch);
ZN_INTERNAL bool zn_ref_cast_supported(zn_dtype from, zn_dtype to);
ZN_INTERNAL zn_status zn_ref_pow_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                     void *scratch);   /* float32 base; float32/int32/int64 exponent */
ZN_INTERNAL zn_status zn_ref_unary_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                       void *scratch); /* Sqrt Erf */
/* mean and inv_std (each NULL or one float per normalised row) also receive the row statistics. */
ZN_INTERNAL zn_status zn_ref_layer_norm_stats_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                                  zn_ref_tensor *mean, zn_ref_tensor *inv_std);
ZN_INTERNAL zn_status zn_ref_layer_norm_f32(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                            void *scratch);
ZN_INTERNAL zn_status zn_ref_slice(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch);
ZN_INTERNAL zn_status zn_ref_expand(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                    void *scratch);   /* any dtype; int64 shape */
ZN_INTERNAL zn_status zn_ref_constant_of_shape(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                               void *scratch);
ZN_INTERNAL zn_status zn_ref_equal(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch);    /* bool output */
ZN_INTERNAL bool zn_ref_equal_supported(zn_dtype t);
ZN_INTERNAL zn_status zn_ref_where(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch);    /* bool condition, any dtype */
ZN_INTERNAL zn_status zn_ref_mod(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                 void *scratch);      /* int8/uint8/int32/int64; float32 with fmod */
ZN_INTERNAL bool zn_ref_mod_supported(zn_dtype t, bool fmod);
ZN_INTERNAL zn_status zn_ref_not(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                 void *scratch);      /* bool */
ZN_INTERNAL zn_status zn_ref_range(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch);    /* int32, int64, float32 scalars */
ZN_INTERNAL zn_status zn_ref_scatter_nd(const zn_node *n, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                        void *scratch);  /* any dtype (none), f32/i32/i64 (add, mul) */
ZN_INTERNAL bool zn_ref_scatter_nd_supported(zn_dtype t, zn_scatter_reduction red);

#endif
