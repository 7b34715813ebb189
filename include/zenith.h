/* zenith.h — the whole public API of zenith, a CNN inference engine and
 * benchmarker for edge devices. Nothing else under include/ or src/ is public.
 *
 * Objects and their life cycle:
 *   zn_model     loaded from ONNX (file or memory) or built from the zoo, then
 *                optimised and compiled for one backend: the packed weights live
 *                here, read-only. Immutable after creation; share it freely.
 *   zn_instance  made from a model for one batch size: owns one activation
 *                arena and its thread settings. Run by one thread at a time.
 *
 * Thread-safety contract (curl's terms):
 *   - A zn_model may be used from any number of threads at once (creating
 *     instances, querying); it must outlive all of its instances.
 *   - A zn_instance must be used by one thread at a time; different instances
 *     may run concurrently, on any threads, without locks.
 *   - The library takes no locks behind the caller's back and starts no hidden
 *     threads except the compute threads an instance was asked for.
 *   - zn_last_error() is per thread.
 *
 * Errors are values: every fallible call returns a zn_status; a detailed
 * message ("failed to <verb> <object>: <why>" plus file, node, op, shape) is
 * available from zn_last_error() on the calling thread until its next failure.
 * Every create function sets *out = NULL on failure; destroy(NULL) is a no-op.
 */
#ifndef ZENITH_H
#define ZENITH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZN_VERSION_STRING "0.1.0"

typedef enum zn_status {
#define ZN_STATUS(name, number, text) name = number,
#include "zenith_status.def"
#undef ZN_STATUS
} zn_status;

/** Static text for a status ("invalid model"); never NULL. */
const char *zn_status_string(zn_status status);

/** The detailed message of the calling thread's last failure ("" if none).
 *  Borrowed: valid until the next zenith call on this thread. */
const char *zn_last_error(void);

/* ---- logging: the library never prints, it logs through a callback ---- */
typedef enum zn_log_level { ZN_LOG_ERROR = 0, ZN_LOG_WARN = 1, ZN_LOG_INFO = 2, ZN_LOG_DEBUG = 3 } zn_log_level;
typedef void (*zn_log_fn)(zn_log_level level, const char *message, void *user);
/** Set the process-wide log callback (NULL: discard) and the most verbose level
 *  passed to it. Not thread-safe: call before other threads use zenith. */
void zn_log_set(zn_log_fn fn, void *user, zn_log_level max_level);

/* ---- tensors ---- */
typedef enum zn_dtype {
  ZN_DTYPE_UNDEFINED = 0, ZN_DTYPE_FLOAT32 = 1, ZN_DTYPE_UINT8 = 2, ZN_DTYPE_INT8 = 3,
  ZN_DTYPE_INT32 = 6, ZN_DTYPE_INT64 = 7, ZN_DTYPE_BOOL = 9, ZN_DTYPE_FLOAT16 = 10,
  ZN_DTYPE_FLOAT64 = 11, ZN_DTYPE_BFLOAT16 = 16
} zn_dtype; /* numbers equal ONNX TensorProto.DataType */

const char *zn_dtype_name(zn_dtype dtype);
size_t zn_dtype_size(zn_dtype dtype); /* bytes per element; 0 if unknown */

#define ZN_MAX_DIMS 8
/** A model input or output. dims[i] == -1 marks the dynamic batch dimension
 *  (is_batch_dim[i] set); all other dims are fixed. */
typedef struct zn_tensor_info {
  const char *name;            /* borrowed from the model */
  zn_dtype dtype;
  int num_dims;
  int64_t dims[ZN_MAX_DIMS];
  int batch_axis;              /* axis that scales with the batch size, -1 if none */
} zn_tensor_info;

/* ---- models ---- */
typedef struct zn_model zn_model;
typedef struct zn_instance zn_instance;

typedef enum zn_precision { ZN_PRECISION_FP32 = 0, ZN_PRECISION_BF16 = 1 } zn_precision;

typedef struct zn_model_options {
  const char *backend;         /* "auto" (default), "ref", "onednn", "xnnpack"; copied, not kept */
  zn_precision precision;      /* default FP32 */
  int disable_passes;          /* 1: skip the optimisation passes (default 0) */
  size_t max_model_bytes;      /* cap on file/tensor sizes read (0 = 4 GiB) */
  int keep_graph_weights;      /* 1: keep the graph's float weights after the backend packed its
                                  own copy (needed by zn_model_export_onnx on such backends);
                                  default 0 frees them, so memory = packed weights + arenas */
  int64_t tune_batch;          /* the batch size the model will mostly run at: a backend that picks
                                  kernels by timing at load (onednn: Winograd or direct per 3x3
                                  conv) times them there (capped at 8); 0 = 1. Every batch still
                                  runs; this only steers the choice */
} zn_model_options;

zn_model_options zn_model_options_default(void);

/** Load an ONNX model from a file. External tensor data is read relative to the
 *  file's folder and may not escape it. opts may be NULL (defaults).
 *  @param path copied, not kept.
 *  @param model_out the caller owns it, release with zn_model_destroy.
 *  @return ZN_ERR_IO, ZN_ERR_INVALID_MODEL, ZN_ERR_UNSUPPORTED_OP, ... */
zn_status zn_model_load_file(const char *path, const zn_model_options *opts, zn_model **model_out);

/** Load an ONNX model from memory. base_dir (may be NULL: external data then
 *  refused) resolves external tensor data. data and base_dir: copied, not kept. */
zn_status zn_model_load_memory(const void *data, size_t size, const char *base_dir,
                               const zn_model_options *opts, zn_model **model_out);

/** Build a zoo model (see zn_zoo_*) with seeded synthetic weights. */
zn_status zn_model_from_zoo(const char *zoo_name, uint64_t seed, const zn_model_options *opts,
                            zn_model **model_out);

void zn_model_destroy(zn_model *model);

size_t zn_model_num_inputs(const zn_model *model);
size_t zn_model_num_outputs(const zn_model *model);
/** Describe input/output i into *info_out (names borrowed from the model). */
zn_status zn_model_input_info(const zn_model *model, size_t i, zn_tensor_info *info_out);
zn_status zn_model_output_info(const zn_model *model, size_t i, zn_tensor_info *info_out);
/** The backend the model was compiled for ("ref", "onednn", ...); borrowed. */
const char *zn_model_backend(const zn_model *model);
/** Multiply-accumulates per image and parameter count of the optimised graph. */
int64_t zn_model_macs_per_image(const zn_model *model);
int64_t zn_model_num_params(const zn_model *model);
/** Bytes of weights the model holds, shared by all instances: what the backend
 *  packed, plus the graph's constants still kept beside it. */
size_t zn_model_weight_bytes(const zn_model *model);

/** Write a human-readable summary (ops, shapes, params, MACs, backend kernels)
 *  into buf (NUL-terminated, truncated to buf_size). Returns the full length. */
size_t zn_model_describe(const zn_model *model, char *buf, size_t buf_size);

/** Export the model's optimised graph as ONNX. ZN_ERR_INVALID_STATE when the
 *  backend took the weights over (load with keep_graph_weights = 1, or on "ref"). */
zn_status zn_model_export_onnx(const zn_model *model, const char *path);

/* ---- instances ---- */
typedef struct zn_instance_options {
  int64_t batch;               /* batch size, default 1 */
  int num_threads;             /* compute threads for this instance, default 1 */
  const int *cpus;             /* CPUs to pin compute threads to (copied, not kept); NULL: no pinning */
  int num_cpus;
} zn_instance_options;

zn_instance_options zn_instance_options_default(void);

/** Create an instance of model; its arena is planned and allocated here.
 *  @param model borrowed, must outlive the instance.
 *  @param instance_out the caller owns it, release with zn_instance_destroy. */
zn_status zn_instance_create(const zn_model *model, const zn_instance_options *opts,
                             zn_instance **instance_out);

/** Change the batch size (re-plans the arena). */
zn_status zn_instance_reshape(zn_instance *instance, int64_t batch);
int64_t zn_instance_batch(const zn_instance *instance);
/** Bytes of the instance's activation arena. */
size_t zn_instance_arena_bytes(const zn_instance *instance);

/** Run one batch. inputs[i] points at input i in NCHW float32 (dtype of the
 *  model input) with its batch dimension = the instance's batch; outputs[i]
 *  likewise receives output i. Buffers borrowed for the call only.
 *  Never allocates. */
zn_status zn_instance_run(zn_instance *instance, const void *const *inputs, void *const *outputs);

/** Bytes of input/output i at the instance's batch size. */
size_t zn_instance_input_bytes(const zn_instance *instance, size_t i);
size_t zn_instance_output_bytes(const zn_instance *instance, size_t i);

void zn_instance_destroy(zn_instance *instance);

/* ---- per-step profile: where one run's time goes, step by step ---- */
typedef struct zn_profile zn_profile;

/** One step of a profiled run, in execution order. A step computes the nodes
 *  of the optimised graph it names (several when the backend fused them); a
 *  step naming none is data movement the backend added (layout import or
 *  export, reorder, residual copy). Strings borrowed from the profile: valid
 *  until zn_profile_destroy. */
typedef struct zn_profile_step_info {
  const char *kernel;              /* implementation that ran ("brgconv_1x1:avx512_core") */
  int num_nodes;
  const char *const *node_names;   /* [num_nodes], the step's main node first */
  const char *const *op_types;     /* [num_nodes], ONNX op types ("Conv") */
  int64_t macs;                    /* multiply-accumulates of those nodes at the run's batch (Conv,
                                      Gemm, MatMul; 0 for other ops) */
  double seconds;                  /* wall time of the step (monotonic clock around it) */
} zn_profile_step_info;

/** Run one batch like zn_instance_run while timing every step of the
 *  backend, and return the steps. The run's outputs are those of a plain run;
 *  its total time exceeds a plain run's by one clock read per step. Allocates
 *  (the profile), unlike zn_instance_run. Same thread rule as zn_instance_run.
 *  @param inputs, outputs as for zn_instance_run (borrowed for the call).
 *  @param profile_out the caller owns it, release with zn_profile_destroy.
 *  @return ZN_ERR_UNSUPPORTED_OP when the instance's backend has no per-step
 *  profile; ZN_ERR_INVALID_STATE when the last reshape failed; any status of
 *  zn_instance_run. */
zn_status zn_instance_profile(zn_instance *instance, const void *const *inputs, void *const *outputs,
                              zn_profile **profile_out);
/** Number of steps (0 for NULL). */
size_t zn_profile_num_steps(const zn_profile *profile);
/** Describe step i into *info_out; ZN_ERR_INVALID_ARGUMENT when out of range. */
zn_status zn_profile_step(const zn_profile *profile, size_t i, zn_profile_step_info *info_out);
/** Nodes of the optimised graph that no step computes: the backend folded
 *  them away at compile (aliases such as Reshape/Flatten/Identity, a Flatten
 *  read directly by the Gemm after it, a concat its producers write in
 *  place), so they cost nothing at run time. Names and op types borrowed from
 *  the profile; i < zn_profile_num_unstepped_nodes, else NULL. */
size_t zn_profile_num_unstepped_nodes(const zn_profile *profile);
const char *zn_profile_unstepped_node_name(const zn_profile *profile, size_t i);
const char *zn_profile_unstepped_op_type(const zn_profile *profile, size_t i);
/** Wall time of the whole profiled run in seconds (steps + the gaps between them). */
double zn_profile_total_seconds(const zn_profile *profile);
void zn_profile_destroy(zn_profile *profile);

/* ---- the zoo: the nine thesis models ---- */
typedef struct zn_zoo_entry {
  const char *name;            /* "resnet50", ... */
  const char *display_name;    /* "ResNet-50" */
  int input_size;              /* 224 or 299 */
  int64_t num_params;
  int64_t macs_per_image;
} zn_zoo_entry;

size_t zn_zoo_count(void);
/** Entry i (static, never freed) or NULL when out of range. */
const zn_zoo_entry *zn_zoo_get(size_t i);
const zn_zoo_entry *zn_zoo_find(const char *name);

/* ---- backends ---- */
size_t zn_backend_count(void);
/** Name of compiled-in backend i ("ref", "onednn", ...), NULL when out of range. */
const char *zn_backend_name(size_t i);
/** Resolve "auto" to the backend this machine prefers; borrowed static text.
 *  Loading a model with "auto" tries the next one (onednn, xnnpack, ref on
 *  x86-64) when a backend refuses a node, with a warning saying why;
 *  zn_model_backend() tells which one compiled it. */
const char *zn_backend_resolve(const char *name);

#ifdef __cplusplus
}
#endif
#endif
