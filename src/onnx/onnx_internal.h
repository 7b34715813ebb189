/* Helpers shared by the ONNX importer, exporter and tensor-file code; not
 * part of onnx.h because they expose protobuf-c types. */
#ifndef ZN_ONNX_ONNX_INTERNAL_H
#define ZN_ONNX_ONNX_INTERNAL_H

#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"

#define ZN_ONNX_DEFAULT_MAX_BYTES ((size_t)4 << 30)

/* Bytes per element of the dtypes the importer accepts; 0 for others. */
ZN_INTERNAL size_t zn_onnx_dtype_size(int32_t onnx_type);
ZN_INTERNAL const char *zn_onnx_dtype_name(int32_t onnx_type);

/* Read a whole file (at most max_bytes) into *data_out (zn_malloc; the caller frees). */
ZN_INTERNAL zn_status zn_onnx_read_whole_file(const char *path, size_t max_bytes, void **data_out, size_t *size_out);

/* Decode a TensorProto into out (name, dtype, dims, data owned by out).
 * base_dir resolves external data (NULL: refused). what names the tensor in
 * messages ("initializer 'w'"). Checks rank, dims, element-count overflow,
 * max_bytes and the data's length against the shape before allocating. */
ZN_INTERNAL zn_status zn_onnx_tensor_decode(const Onnx__TensorProto *t, const char *base_dir, size_t max_bytes,
                                            const char *what, zn_onnx_tensor *out);

#endif
