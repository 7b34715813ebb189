/* libFuzzer target: arbitrary bytes as an ONNX model through the whole load
 * path a user's file takes (import, verify, shape inference, the optimisation
 * passes, the ref backend's compile) and, for models small enough to run in a
 * blink, an instance at batch 1 run once on zero inputs. Any crash, leak, UB
 * or unbounded allocation is a bug; errors are the expected outcome.
 * ZN_FUZZ_BACKEND picks another backend than ref (onednn, xnnpack, auto);
 * scripts/fuzz.sh gives each built one a share of its time. oneDNN's and XNNPACK's kernels are not instrumented, so
 * ASan cannot see them overrun a buffer: every block zenith allocates, and
 * the input and output buffers here, end against a PROT_NONE guard page
 * instead, and an overrun faults at once (that is how a float32 import over
 * a bool input's buffer was found). Built with -DZN_FUZZ=ON (clang);
 * scripts/fuzz.sh runs it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/alloc.h"
#include "zenith.h"

/* 64 MiB: models the fuzzer writes are tiny; a claim larger than this is refused. */
#define FUZZ_MAX_BYTES ((size_t)64 << 20)
/* Run only models this cheap (multiply-accumulates per image) ... */
#define FUZZ_MAX_MACS ((int64_t)1 << 20)
/* ... whose inputs and outputs are this small. */
#define FUZZ_MAX_IO_BYTES ((size_t)1 << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- guarded blocks: [header][...][block] then a PROT_NONE page ---- */
typedef struct guard_header {
  void *base;
  size_t len;
} guard_header;

/* The header sits below the block, 8-byte aligned whatever the block's alignment. */
static guard_header *header_of(void *p) {
  return (guard_header *)(((uintptr_t)p - sizeof(guard_header)) & ~(uintptr_t)7);
}

/* size bytes whose end (size rounded up to align) touches the guard page. */
static void *guard_alloc(size_t size, size_t align) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t body = (size + align - 1) / align * align;
  const size_t data = (body + sizeof(guard_header) + 64 + page - 1) / page * page;
  char *base = mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return NULL;
  if (mprotect(base + data, page, PROT_NONE) != 0) {
    munmap(base, data + page);
    return NULL;
  }
  char *p = base + data - body;
  guard_header *h = header_of(p);
  h->base = base;
  h->len = data + page;
  return p;
}

static void guard_free(void *p) {
  if (!p) return;
  const guard_header *h = header_of(p);
  munmap(h->base, h->len);
}

static void *zn_guard_alloc(void *context, size_t alignment, size_t size) {
  (void)context;
  return guard_alloc(size ? size : 1, alignment < ZN_ALIGNMENT ? ZN_ALIGNMENT : alignment);
}
static void zn_guard_free(void *context, void *p) {
  (void)context;
  guard_free(p);
}
static const zn_allocator guarded = {NULL, zn_guard_alloc, zn_guard_free};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *b = getenv("ZN_FUZZ_BACKEND");
  if (b && *b && strcmp(b, "auto") != 0) {
    bool built = false;
    for (size_t i = 0; i < zn_backend_count(); i++) built = built || strcmp(zn_backend_name(i), b) == 0;
    if (!built) {
      fprintf(stderr, "fuzz_model_run: backend '%s' is not built here: nothing to fuzz\n", b);
      exit(0);
    }
  }
  zn_allocator_set(&guarded);
  return 0;
}

/* Bytes of tensor info t at batch 1 (the batch axis counts 1), or SIZE_MAX
 * when it exceeds FUZZ_MAX_IO_BYTES or is unknown. */
static size_t io_bytes(const zn_tensor_info *t) {
  size_t bytes = zn_dtype_size(t->dtype);
  if (!bytes) return SIZE_MAX;
  for (int d = 0; d < t->num_dims; d++) {
    const int64_t n = d == t->batch_axis ? 1 : t->dims[d];
    if (n < 0 || (n > 0 && bytes > FUZZ_MAX_IO_BYTES / (size_t)n)) return SIZE_MAX;
    bytes *= (size_t)n;
  }
  return bytes;
}

/* Every input and output fits FUZZ_MAX_IO_BYTES at batch 1: checked from the
 * model before an instance exists, since a backend library (XNNPACK's
 * indirection buffers) may allocate in proportion to them while it is made. */
static bool io_small(const zn_model *m) {
  zn_tensor_info t;
  for (size_t i = 0; i < zn_model_num_inputs(m); i++)
    if (zn_model_input_info(m, i, &t) != ZN_OK || io_bytes(&t) > FUZZ_MAX_IO_BYTES) return false;
  for (size_t i = 0; i < zn_model_num_outputs(m); i++)
    if (zn_model_output_info(m, i, &t) != ZN_OK || io_bytes(&t) > FUZZ_MAX_IO_BYTES) return false;
  return true;
}

static void run_once(const zn_model *m) {
  if (!io_small(m)) return;
  zn_instance *in = NULL;
  zn_instance_options io = zn_instance_options_default();
  if (zn_instance_create(m, &io, &in) != ZN_OK) return;
  size_t ni = zn_model_num_inputs(m), no = zn_model_num_outputs(m);
  void **ins = calloc(ni + 1, sizeof *ins), **outs = calloc(no + 1, sizeof *outs);
  int ok = ins && outs;
  for (size_t i = 0; ok && i < ni; i++) {
    size_t b = zn_instance_input_bytes(in, i);
    ok = b <= FUZZ_MAX_IO_BYTES && (ins[i] = guard_alloc(b ? b : 1, 1)) != NULL;  /* zeros: fresh mapping */
  }
  for (size_t i = 0; ok && i < no; i++) {
    size_t b = zn_instance_output_bytes(in, i);
    ok = b <= FUZZ_MAX_IO_BYTES && (outs[i] = guard_alloc(b ? b : 1, 1)) != NULL;
  }
  if (ok) (void)zn_instance_run(in, (const void *const *)ins, outs);
  for (size_t i = 0; ins && i < ni; i++) guard_free(ins[i]);
  for (size_t i = 0; outs && i < no; i++) guard_free(outs[i]);
  free(ins);
  free(outs);
  zn_instance_destroy(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zn_model_options o = zn_model_options_default();
  const char *b = getenv("ZN_FUZZ_BACKEND");
  o.backend = b && *b ? b : "ref";
  o.max_model_bytes = FUZZ_MAX_BYTES;
  zn_model *m = NULL;
  /* base_dir NULL: external data is refused, so the fuzzer never reads files. */
  if (zn_model_load_memory(data, size, NULL, &o, &m) != ZN_OK) return 0;
  int64_t macs = zn_model_macs_per_image(m);
  if (macs >= 0 && macs <= FUZZ_MAX_MACS) run_once(m);
  zn_model_destroy(m);
  return 0;
}
