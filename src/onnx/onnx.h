/* ONNX <-> IR: import a ModelProto into a zn_graph, export a zn_graph as an
 * ONNX model that ONNX Runtime can run, and read/write single TensorProto
 * files (the input_N.pb / output_N.pb of ONNX test data sets).
 *
 * Everything read from a file is untrusted: sizes are checked against the
 * bytes actually present before anything is allocated, and every tensor and
 * the file itself are capped by max_bytes. */
#ifndef ZN_ONNX_ONNX_H
#define ZN_ONNX_ONNX_H

#include "graph/graph.h"

typedef struct zn_onnx_import_options {
  size_t max_bytes;            /* cap on the model file and on every tensor (0 = 4 GiB) */
} zn_onnx_import_options;

/* Import an ONNX model file. External tensor data is resolved relative to the
 * file's folder and may not escape it (absolute paths, "..", symlinks out).
 * o may be NULL (defaults). On success *out is owned by the caller
 * (zn_graph_destroy); it has been toposorted and verified, not shape-inferred.
 * Errors: ZN_ERR_IO, ZN_ERR_INVALID_MODEL, ZN_ERR_UNSUPPORTED_OP, ZN_ERR_OUT_OF_MEMORY. */
ZN_INTERNAL zn_status zn_onnx_import_file(const char *path, const zn_onnx_import_options *o, zn_graph **out);

/* Same from memory (copied as needed, not kept). base_dir resolves external
 * data; NULL refuses models with external data. */
ZN_INTERNAL zn_status zn_onnx_import_memory(const void *data, size_t size, const char *base_dir,
                                            const zn_onnx_import_options *o, zn_graph **out);

/* Export as ONNX (opset 13, or the graph's opset when higher; raised to 14/15
 * when an op form needs it). Constants become raw_data initializers, the batch
 * axis of inputs/outputs becomes dim_param "N", fused Conv/Gemm activations and
 * the Conv residual input become separate standard nodes. */
ZN_INTERNAL zn_status zn_onnx_export_file(const zn_graph *g, const char *path);
/* *data_out: the caller owns it, release with zn_free. */
ZN_INTERNAL zn_status zn_onnx_export_memory(const zn_graph *g, void **data_out, size_t *size_out);

/* One tensor, as stored in a TensorProto file. */
typedef struct zn_onnx_tensor {
  char *name;                  /* "" when the file has none; owned */
  zn_dtype dtype;
  int num_dims;
  int64_t dims[ZN_MAX_DIMS];
  void *data;                  /* zn_alloc_aligned, little-endian, owned */
  size_t data_bytes;
} zn_onnx_tensor;

/* Read a TensorProto file (no external data). max_bytes caps the file and the
 * tensor (0 = 4 GiB). *out: the caller owns it, release with zn_onnx_tensor_destroy. */
ZN_INTERNAL zn_status zn_onnx_tensor_read_file(const char *path, size_t max_bytes, zn_onnx_tensor **out);
ZN_INTERNAL zn_status zn_onnx_tensor_read_memory(const void *data, size_t size, size_t max_bytes,
                                                 zn_onnx_tensor **out);
/* Write a TensorProto (raw_data). name may be NULL. data: data_bytes must equal
 * the product of dims times the dtype size. Nothing is kept. */
ZN_INTERNAL zn_status zn_onnx_tensor_write_file(const char *path, const char *name, zn_dtype dtype, int num_dims,
                                                const int64_t *dims, const void *data, size_t data_bytes);
ZN_INTERNAL void zn_onnx_tensor_destroy(zn_onnx_tensor *t);

#endif
