/* libFuzzer target: arbitrary bytes as an ONNX model through the importer,
 * the verifier and shape inference. Any crash, leak, UB or unbounded
 * allocation is a bug; errors are the expected outcome. Built with
 * -DZN_FUZZ=ON (clang); scripts/fuzz.sh runs it. */
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "onnx/onnx.h"

/* 64 MiB: models the fuzzer writes are tiny; a claim larger than this is refused. */
#define FUZZ_MAX_BYTES ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zn_onnx_import_options o = {.max_bytes = FUZZ_MAX_BYTES};
  zn_graph *g = NULL;
  /* base_dir NULL: external data is refused, so the fuzzer never reads files. */
  if (zn_onnx_import_memory(data, size, NULL, &o, &g) == ZN_OK) {
    if (zn_graph_verify(g) == ZN_OK) (void)zn_graph_infer_shapes(g);
    /* What imported must export. */
    void *buf = NULL;
    size_t n = 0;
    if (zn_onnx_export_memory(g, &buf, &n) == ZN_OK) zn_free(buf);
  }
  zn_graph_destroy(g);
  return 0;
}
