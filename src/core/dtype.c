/* dtype names and sizes (numbers equal ONNX TensorProto.DataType). */
#include "core/common.h"

ZN_PUBLIC const char *zn_dtype_name(zn_dtype d) {
  switch (d) {
    case ZN_DTYPE_FLOAT32: return "float32";
    case ZN_DTYPE_UINT8: return "uint8";
    case ZN_DTYPE_INT8: return "int8";
    case ZN_DTYPE_INT32: return "int32";
    case ZN_DTYPE_INT64: return "int64";
    case ZN_DTYPE_BOOL: return "bool";
    case ZN_DTYPE_FLOAT16: return "float16";
    case ZN_DTYPE_FLOAT64: return "float64";
    case ZN_DTYPE_BFLOAT16: return "bfloat16";
    case ZN_DTYPE_UNDEFINED: break;
  }
  return "undefined";
}

ZN_PUBLIC size_t zn_dtype_size(zn_dtype d) {
  switch (d) {
    case ZN_DTYPE_FLOAT32: case ZN_DTYPE_INT32: return 4;
    case ZN_DTYPE_UINT8: case ZN_DTYPE_INT8: case ZN_DTYPE_BOOL: return 1;
    case ZN_DTYPE_INT64: case ZN_DTYPE_FLOAT64: return 8;
    case ZN_DTYPE_FLOAT16: case ZN_DTYPE_BFLOAT16: return 2;
    case ZN_DTYPE_UNDEFINED: break;
  }
  return 0;
}
