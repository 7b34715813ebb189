/* libFuzzer target: arbitrary bytes as an ONNX model through the whole load
 * path a user's file takes (import, verify, shape inference, the optimisation
 * passes, the ref backend's compile) and, for models small enough to run in a
 * blink, an instance at batch 1 run once on zero inputs. Any crash, leak, UB
 * or unbounded allocation is a bug; errors are the expected outcome. Built
 * with -DZN_FUZZ=ON (clang); scripts/fuzz.sh runs it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "zenith.h"

/* 64 MiB: models the fuzzer writes are tiny; a claim larger than this is refused. */
#define FUZZ_MAX_BYTES ((size_t)64 << 20)
/* Run only models this cheap (multiply-accumulates per image) ... */
#define FUZZ_MAX_MACS ((int64_t)1 << 20)
/* ... whose inputs and outputs are this small. */
#define FUZZ_MAX_IO_BYTES ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_once(const zn_model *m) {
  zn_instance *in = NULL;
  zn_instance_options io = zn_instance_options_default();
  if (zn_instance_create(m, &io, &in) != ZN_OK) return;
  size_t ni = zn_model_num_inputs(m), no = zn_model_num_outputs(m);
  void **ins = calloc(ni + 1, sizeof *ins), **outs = calloc(no + 1, sizeof *outs);
  int ok = ins && outs;
  for (size_t i = 0; ok && i < ni; i++) {
    size_t b = zn_instance_input_bytes(in, i);
    ok = b <= FUZZ_MAX_IO_BYTES && (ins[i] = calloc(b ? b : 1, 1)) != NULL;
  }
  for (size_t i = 0; ok && i < no; i++) {
    size_t b = zn_instance_output_bytes(in, i);
    ok = b <= FUZZ_MAX_IO_BYTES && (outs[i] = calloc(b ? b : 1, 1)) != NULL;
  }
  if (ok) (void)zn_instance_run(in, (const void *const *)ins, outs);
  for (size_t i = 0; ins && i < ni; i++) free(ins[i]);
  for (size_t i = 0; outs && i < no; i++) free(outs[i]);
  free(ins);
  free(outs);
  zn_instance_destroy(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zn_model_options o = zn_model_options_default();
  o.backend = "ref";
  o.max_model_bytes = FUZZ_MAX_BYTES;
  zn_model *m = NULL;
  /* base_dir NULL: external data is refused, so the fuzzer never reads files. */
  if (zn_model_load_memory(data, size, NULL, &o, &m) != ZN_OK) return 0;
  int64_t macs = zn_model_macs_per_image(m);
  if (macs >= 0 && macs <= FUZZ_MAX_MACS) run_once(m);
  zn_model_destroy(m);
  return 0;
}
