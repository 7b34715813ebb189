/* TensorProto decoding shared by the importer (initializers, Constant nodes)
 * and the tensor-file reader, plus the writer of TensorProto files. All sizes
 * come from an untrusted file, so rank, dims, the element count and the bytes
 * actually present (raw, typed fields or external file) are checked before any
 * buffer is allocated; external data may not leave the model's folder. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/status.h"
#include "onnx/onnx_internal.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw_data is little-endian; a big-endian host needs byte swaps");

size_t zn_onnx_dtype_size(int32_t t) {
  switch (t) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return 1;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return 1;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return 8;
  default: return 0;
  }
}

const char *zn_onnx_dtype_name(int32_t t) {
  static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
                                      "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
                                      "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
                                      "FLOAT8E5M2FNUZ"};
  return t >= 0 && (size_t)t < ZN_ARRAY_SIZE(names) ? names[t] : "unknown";
}

zn_status zn_onnx_read_whole_file(const char *path, size_t max_bytes, void **data_out, size_t *size_out) {
  *data_out = NULL;
  *size_out = 0;
  if (!max_bytes) max_bytes = ZN_ONNX_DEFAULT_MAX_BYTES;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return zn_error(ZN_ERR_IO, "failed to open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return zn_error(ZN_ERR_IO, "failed to read '%s': not a regular file", path);
  }
  if ((uint64_t)st.st_size > max_bytes) {
    close(fd);
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read '%s': %lld bytes exceed the cap of %zu bytes", path,
                    (long long)st.st_size, max_bytes);
  }
  size_t size = (size_t)st.st_size;
  char *buf = zn_malloc(size ? size : 1);
  if (!buf) {
    close(fd);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read '%s': out of memory for %zu bytes", path, size);
  }
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = r < 0 ? errno : EIO;
      close(fd);
      zn_free(buf);
      return zn_error(ZN_ERR_IO, "failed to read '%s': %s", path, r < 0 ? strerror(e) : "file shrank while reading");
    }
    got += (size_t)r;
  }
  close(fd);
  *data_out = buf;
  *size_out = size;
  return ZN_OK;
}

/* ---- external data ---- */

static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

/* A location is relative, and no component is "..". */
static bool location_is_safe(const char *loc) {
  if (!*loc || loc[0] == '/') return false;
  const char *p = loc;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.') return false;
    if (!slash) break;
    p = slash + 1;
  }
  return true;
}

static zn_status read_external(const Onnx__TensorProto *t, const char *base_dir, size_t bytes, const char *what,
                               void **data_out) {
  const char *loc = NULL, *off_s = NULL, *len_s = NULL;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = t->external_data[i];
    if (!e || !e->key) continue;
    if (strcmp(e->key, "location") == 0) loc = e->value;
    else if (strcmp(e->key, "offset") == 0) off_s = e->value;
    else if (strcmp(e->key, "length") == 0) len_s = e->value;
  }
  if (!base_dir)
    return zn_error(ZN_ERR_INVALID_MODEL,
                    "failed to read %s: it has external data, refused for a model loaded from memory without a folder",
                    what);
  if (!loc) return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: external data without a location", what);
  if (!location_is_safe(loc))
    return zn_error(ZN_ERR_INVALID_MODEL,
                    "failed to read %s: external data location '%s' must be a relative path inside the model folder",
                    what, loc);
  uint64_t offset = 0, length = 0;
  bool has_length = len_s != NULL;
  if ((off_s && !parse_u64(off_s, &offset)) || (len_s && !parse_u64(len_s, &length)))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: external data offset '%s' / length '%s' are not numbers",
                    what, off_s ? off_s : "", len_s ? len_s : "");

  char base_real[PATH_MAX], file_real[PATH_MAX], joined[PATH_MAX];
  if (!realpath(base_dir, base_real))
    return zn_error(ZN_ERR_IO, "failed to read %s: model folder '%s': %s", what, base_dir, strerror(errno));
  int n = snprintf(joined, sizeof joined, "%s/%s", base_real, loc);
  if (n < 0 || (size_t)n >= sizeof joined)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: external data path too long", what);
  if (!realpath(joined, file_real))
    return zn_error(ZN_ERR_IO, "failed to read %s: external data file '%s': %s", what, loc, strerror(errno));
  size_t bl = strlen(base_real);
  bool inside = strncmp(file_real, base_real, bl) == 0 && (file_real[bl] == '/' || (bl == 1 && base_real[0] == '/'));
  if (!inside)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: external data file '%s' resolves outside the model folder",
                    what, loc);

  int fd = open(file_real, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return zn_error(ZN_ERR_IO, "failed to read %s: external data file '%s': %s", what, loc, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return zn_error(ZN_ERR_IO, "failed to read %s: external data '%s' is not a regular file", what, loc);
  }
  uint64_t fsize = (uint64_t)st.st_size;
  if (offset > fsize || (has_length && length > fsize - offset)) {
    close(fd);
    return zn_error(ZN_ERR_INVALID_MODEL,
                    "failed to read %s: external data offset %llu + length %llu runs past the end of '%s' (%llu bytes)",
                    what, (unsigned long long)offset, (unsigned long long)length, loc, (unsigned long long)fsize);
  }
  if (!has_length) length = fsize - offset;
  if (length != bytes) {
    close(fd);
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: external data has %llu bytes, its shape needs %zu", what,
                    (unsigned long long)length, bytes);
  }
  void *buf = zn_alloc_aligned(bytes);
  if (!buf) {
    close(fd);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read %s: out of memory for %zu bytes", what, bytes);
  }
  size_t got = 0;
  while (got < bytes) {
    ssize_t r = pread(fd, (char *)buf + got, bytes - got, (off_t)(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      close(fd);
      zn_free_aligned(buf);
      return zn_error(ZN_ERR_IO, "failed to read %s: external data '%s' ended early", what, loc);
    }
    got += (size_t)r;
  }
  close(fd);
  *data_out = buf;
  return ZN_OK;
}

/* ---- decoding ---- */

static zn_status shape_text_error(const char *what, size_t have, size_t need) {
  return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: it holds %zu bytes of data, its shape needs %zu", what,
                  have, need);
}

zn_status zn_onnx_tensor_decode(const Onnx__TensorProto *t, const char *base_dir, size_t max_bytes, const char *what,
                                zn_onnx_tensor *out) {
  memset(out, 0, sizeof *out);
  if (!max_bytes) max_bytes = ZN_ONNX_DEFAULT_MAX_BYTES;
  int32_t dt = t->data_type;
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: no data type", what);
  size_t es = zn_onnx_dtype_size(dt);
  if (!es)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to read %s: dtype %s (%d) is not supported", what,
                    zn_onnx_dtype_name(dt), (int)dt);
  if (t->n_dims > ZN_MAX_DIMS)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: rank %zu exceeds the maximum of %d", what, t->n_dims,
                    ZN_MAX_DIMS);
  size_t numel = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    int64_t d = t->dims[i];
    if (d < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: dims[%zu] = %lld is negative", what, i, (long long)d);
    if ((uint64_t)d > SIZE_MAX || !zn_size_mul(numel, (size_t)d, &numel))
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: the element count of its dims overflows", what);
  }
  size_t bytes;
  if (!zn_size_mul(numel, es, &bytes) || numel > (size_t)INT64_MAX)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: the element count of its dims overflows", what);
  if (bytes > max_bytes)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read %s: %zu bytes exceed the cap of %zu bytes", what, bytes,
                    max_bytes);

  void *data = NULL;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    ZN_TRY(read_external(t, base_dir, bytes, what, &data));
  } else if (t->has_raw_data || t->raw_data.len) {
    if (t->raw_data.len != bytes) return shape_text_error(what, t->raw_data.len, bytes);
    if (!(data = zn_alloc_aligned(bytes)))
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read %s: out of memory for %zu bytes", what, bytes);
    if (bytes) memcpy(data, t->raw_data.data, bytes);
  } else {
    size_t have;
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = t->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = t->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = t->n_int64_data; break;
    default: have = t->n_int32_data; break; /* INT32, UINT8, INT8, BOOL */
    }
    if (have != numel) {
      size_t have_bytes;
      if (!zn_size_mul(have, es, &have_bytes)) have_bytes = SIZE_MAX;
      return shape_text_error(what, have_bytes, bytes);
    }
    if (!(data = zn_alloc_aligned(bytes)))
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read %s: out of memory for %zu bytes", what, bytes);
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: if (bytes) memcpy(data, t->float_data, bytes); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: if (bytes) memcpy(data, t->double_data, bytes); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: if (bytes) memcpy(data, t->int64_data, bytes); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: if (bytes) memcpy(data, t->int32_data, bytes); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
      for (size_t i = 0; i < numel; i++) ((uint8_t *)data)[i] = t->int32_data[i] != 0;
      break;
    default: /* UINT8, INT8: one element per int32, truncated as ONNX specifies */
      for (size_t i = 0; i < numel; i++) ((uint8_t *)data)[i] = (uint8_t)t->int32_data[i];
      break;
    }
  }
  out->name = zn_strdup(t->name ? t->name : "");
  if (!out->name) {
    zn_free_aligned(data);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read %s: out of memory", what);
  }
  out->dtype = (zn_dtype)dt;
  out->num_dims = (int)t->n_dims;
  for (size_t i = 0; i < t->n_dims; i++) out->dims[i] = t->dims[i];
  out->data = data;
  out->data_bytes = bytes;
  return ZN_OK;
}

/* ---- tensor files ---- */

void zn_onnx_tensor_destroy(zn_onnx_tensor *t) {
  if (!t) return;
  zn_free(t->name);
  zn_free_aligned(t->data);
  zn_free(t);
}

zn_status zn_onnx_tensor_read_memory(const void *data, size_t size, size_t max_bytes, zn_onnx_tensor **out) {
  *out = NULL;
  if (!max_bytes) max_bytes = ZN_ONNX_DEFAULT_MAX_BYTES;
  if (size > max_bytes)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to read tensor: %zu bytes exceed the cap of %zu bytes", size,
                    max_bytes);
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
  if (!tp) return zn_error(ZN_ERR_INVALID_MODEL, "failed to read tensor: not a valid TensorProto (%zu bytes)", size);
  zn_onnx_tensor *t = zn_calloc(1, sizeof *t);
  zn_status st;
  if (!t) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read tensor: out of memory");
  } else {
    char what[300];
    snprintf(what, sizeof what, "tensor '%.256s'", tp->name ? tp->name : "");
    st = zn_onnx_tensor_decode(tp, NULL, max_bytes, what, t);
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  if (st != ZN_OK) {
    zn_free(t);
    return st;
  }
  *out = t;
  return ZN_OK;
}

zn_status zn_onnx_tensor_read_file(const char *path, size_t max_bytes, zn_onnx_tensor **out) {
  *out = NULL;
  void *buf;
  size_t size;
  ZN_TRY(zn_onnx_read_whole_file(path, max_bytes, &buf, &size));
  zn_status st = zn_onnx_tensor_read_memory(buf, size, max_bytes, out);
  zn_free(buf);
  if (st != ZN_OK) return zn_error_prefix(st, "%s: ", path);
  return ZN_OK;
}

zn_status zn_onnx_tensor_write_file(const char *path, const char *name, zn_dtype dtype, int num_dims,
                                    const int64_t *dims, const void *data, size_t data_bytes) {
  size_t es = zn_onnx_dtype_size((int32_t)dtype);
  if (!es) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to write tensor '%s': dtype %d not supported", path, dtype);
  if (num_dims < 0 || num_dims > ZN_MAX_DIMS)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to write tensor '%s': rank %d", path, num_dims);
  size_t numel = 1;
  for (int i = 0; i < num_dims; i++)
    if (dims[i] < 0 || !zn_size_mul(numel, (size_t)dims[i], &numel))
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to write tensor '%s': bad dims", path);
  size_t need;
  if (!zn_size_mul(numel, es, &need) || need != data_bytes)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to write tensor '%s': %zu data bytes, its shape needs %zu", path,
                    data_bytes, need);
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims_copy[ZN_MAX_DIMS];
  for (int i = 0; i < num_dims; i++) dims_copy[i] = dims[i];
  tp.n_dims = (size_t)num_dims;
  tp.dims = dims_copy;
  tp.has_data_type = 1;
  tp.data_type = (int32_t)dtype;
  tp.name = (char *)(name ? name : "");
  tp.has_raw_data = 1;
  tp.raw_data.len = data_bytes;
  tp.raw_data.data = (uint8_t *)data;
  size_t size = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *buf = zn_malloc(size ? size : 1);
  if (!buf) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to write tensor '%s': out of memory", path);
  onnx__tensor_proto__pack(&tp, buf);
  FILE *f = fopen(path, "wb");
  zn_status st = ZN_OK;
  if (!f) {
    st = zn_error(ZN_ERR_IO, "failed to write tensor '%s': %s", path, strerror(errno));
  } else {
    bool ok = fwrite(buf, 1, size, f) == size;
    if (fclose(f) != 0) ok = false;
    if (!ok) st = zn_error(ZN_ERR_IO, "failed to write tensor '%s': write error", path);
  }
  zn_free(buf);
  return st;
}
