/* `zenith inspect`: what a model becomes inside zenith: the graph after the
 * optimisation passes (zn_model_describe), the backend's packed-weight bytes
 * (shared by all instances) and the activation-arena bytes one instance needs
 * at each batch size, i.e. the memory model weights + N x arena. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char zn_cmd_inspect_usage[] =
    "usage: zenith inspect FILE.onnx|NAME [--backend B] [--batch N] [--seed S]\n"
    "\n"
    "  prints the graph after optimisation (ops, shapes, params, MACs), the packed\n"
    "  weight bytes of backend B (auto, ref, onednn, xnnpack; default auto) and the\n"
    "  arena bytes of one instance at batch sizes 1, 8 and 32 (or only N with --batch).\n";

int zn_cmd_inspect(int argc, char **argv) {
  const char *spec = NULL, *backend = "auto";
  long long batch = 0;
  uint64_t seed = 1;
  int verbose = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int r;
    if ((r = zn_cli_flag_value("inspect", argc, argv, &i, "--backend", &v)) != 0) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      backend = v;
    } else if ((r = zn_cli_flag_value("inspect", argc, argv, &i, "--batch", &v)) != 0) {
      if (r < 0 || zn_cli_parse_int("inspect", "--batch", v, 1, 4096, &batch) != 0) return ZN_CLI_EXIT_USAGE;
    } else if ((r = zn_cli_flag_value("inspect", argc, argv, &i, "--seed", &v)) != 0) {
      if (r < 0 || zn_cli_parse_u64("inspect", "--seed", v, &seed) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (zn_cli_flag(argv, i, "--verbose")) {
      verbose = 1;
    } else if (argv[i][0] == '-') {
      return zn_cli_usage_error("inspect", "unknown option '%s'", argv[i]);
    } else if (!spec) {
      spec = argv[i];
    } else {
      return zn_cli_usage_error("inspect", "unexpected argument '%s'", argv[i]);
    }
  }
  if (!spec) return zn_cli_usage_error("inspect", "missing model (a zoo name or an ONNX file)");
  if (zn_cli_check_backend("inspect", backend) != 0) return ZN_CLI_EXIT_USAGE;
  zn_cli_log_setup(verbose);

  zn_model *model = NULL;
  int is_zoo = 0;
  zn_status st = zn_cli_open_model(spec, backend, seed, &is_zoo, &model);
  if (st != ZN_OK) return zn_cli_fail(st);
  if (is_zoo) zn_cli_note_synthetic();

  size_t need = zn_model_describe(model, NULL, 0);
  char *text = malloc(need + 1);
  if (!text) {
    zn_model_destroy(model);
    fprintf(stderr, "zenith: out of memory: failed to allocate the model description\n");
    return ZN_CLI_EXIT_ERROR;
  }
  zn_model_describe(model, text, need + 1);
  printf("model: %s\n%s", spec, text);
  if (need && text[need - 1] != '\n') putchar('\n');
  free(text);

  size_t weights = zn_model_weight_bytes(model);
  printf("memory (backend %s): packed weights %zu bytes (%.1f MiB), shared by all instances\n",
         zn_model_backend(model), weights, weights / 1048576.0);
  static const long long default_batches[] = {1, 8, 32};
  const long long *batches = batch ? &batch : default_batches;
  size_t num_batches = batch ? 1 : sizeof default_batches / sizeof default_batches[0];
  zn_tensor_info in;
  int fixed_batch = zn_model_num_inputs(model) > 0 && zn_model_input_info(model, 0, &in) == ZN_OK && in.batch_axis < 0;
  int rc = ZN_CLI_EXIT_OK;
  for (size_t k = 0; k < num_batches; k++) {
    if (fixed_batch && batches[k] != 1) {
      printf("  batch %4lld: not possible (the model's batch is fixed to 1)\n", batches[k]);
      continue;
    }
    zn_instance_options o = zn_instance_options_default();
    o.batch = batches[k];
    zn_instance *inst = NULL;
    st = zn_instance_create(model, &o, &inst);
    if (st != ZN_OK) {
      rc = zn_cli_fail(st);
      break;
    }
    size_t arena = zn_instance_arena_bytes(inst);
    printf("  batch %4lld: arena %zu bytes (%.1f MiB); weights + 8 instances = %.1f MiB\n", batches[k], arena,
           arena / 1048576.0, (weights + 8.0 * arena) / 1048576.0);
    zn_instance_destroy(inst);
  }
  zn_model_destroy(model);
  return rc;
}
