/* `zenith zoo list | export`: the nine built-in thesis models (figures from
 * zn_zoo_get: parameters and multiply-accumulates per image), and writing one
 * as an ONNX file with seeded synthetic weights. */
#include <string.h>

#include "cli.h"

const char zn_cmd_zoo_usage[] =
    "usage: zenith zoo list\n"
    "       zenith zoo export NAME OUT.onnx [--seed S]\n"
    "\n"
    "  list     the built-in models: name, display name, input size, parameters,\n"
    "           GMACs (multiply-accumulates) per image\n"
    "  export   write model NAME with seeded synthetic weights (--seed, default 1)\n"
    "           as ONNX, runnable by zenith, ONNX Runtime or PyTorch\n"
    "\n"
    "Zoo weights are synthetic: use them for throughput, not for predictions.\n";

static void print_thousands(char *buf, size_t size, long long v) {
  char digits[32];
  snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
  size_t n = strlen(digits), k = 0;
  if (v < 0 && k + 1 < size) buf[k++] = '-';
  for (size_t i = 0; i < n && k + 1 < size; i++) {
    buf[k++] = digits[i];
    size_t left = n - 1 - i;
    if (left > 0 && left % 3 == 0 && k + 1 < size) buf[k++] = ',';
  }
  buf[k] = '\0';
}

static int zoo_list(int argc, char **argv) {
  if (argc > 2) return zn_cli_usage_error("zoo", "unexpected argument '%s'", argv[2]);
  printf("%-15s %-15s %5s %13s %12s\n", "name", "model", "input", "params", "GMACs/image");
  for (size_t i = 0; i < zn_zoo_count(); i++) {
    const zn_zoo_entry *e = zn_zoo_get(i);
    if (!e) continue;
    char params[32];
    print_thousands(params, sizeof params, (long long)e->num_params);
    printf("%-15s %-15s %5d %13s %12.3f\n", e->name, e->display_name, e->input_size, params,
           e->macs_per_image / 1e9);
  }
  return ZN_CLI_EXIT_OK;
}

static int zoo_export(int argc, char **argv) {
  const char *positional[2] = {NULL, NULL};
  int num_positional = 0;
  uint64_t seed = 1;
  for (int i = 2; i < argc; i++) {
    const char *v = NULL;
    int r = zn_cli_flag_value("zoo", argc, argv, &i, "--seed", &v);
    if (r < 0) return ZN_CLI_EXIT_USAGE;
    if (r > 0) {
      if (zn_cli_parse_u64("zoo", "--seed", v, &seed) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      return zn_cli_usage_error("zoo", "unknown option '%s'", argv[i]);
    } else if (num_positional < 2) {
      positional[num_positional++] = argv[i];
    } else {
      return zn_cli_usage_error("zoo", "unexpected argument '%s'", argv[i]);
    }
  }
  if (num_positional != 2) return zn_cli_usage_error("zoo", "export needs NAME and OUT.onnx");
  if (!zn_zoo_find(positional[0]))
    return zn_cli_usage_error("zoo", "unknown zoo model '%s' (see `zenith zoo list`)", positional[0]);
  zn_model_options o = zn_model_options_default();
  o.backend = "ref";     /* the export is the graph; no need to pack weights for a fast backend */
  o.disable_passes = 1; /* export torchvision's structure (BN unfolded), as torch.onnx.export would */
  zn_model *model = NULL;
  zn_status st = zn_model_from_zoo(positional[0], seed, &o, &model);
  if (st == ZN_OK) st = zn_model_export_onnx(model, positional[1]);
  zn_model_destroy(model);
  if (st != ZN_OK) return zn_cli_fail(st);
  zn_cli_note_synthetic();
  printf("wrote %s (%s, seed %llu)\n", positional[1], positional[0], (unsigned long long)seed);
  return ZN_CLI_EXIT_OK;
}

int zn_cmd_zoo(int argc, char **argv) {
  if (argc < 2) return zn_cli_usage_error("zoo", "missing subcommand (list or export)");
  if (strcmp(argv[1], "list") == 0) return zoo_list(argc, argv);
  if (strcmp(argv[1], "export") == 0) return zoo_export(argc, argv);
  return zn_cli_usage_error("zoo", "unknown subcommand '%s'", argv[1]);
}
