/* `zenith bench [CONFIG.ini] [flags]`: the benchmarker. Reads the INI config
 * (or the built-in default: mobilenet_v2 on the bundled images), applies
 * flag overrides, checks everything before any work, runs, and writes the
 * CSV, JSON and effective INI plus a table on stdout. Ctrl-C stops after the
 * current window and still writes what was measured. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/runner.h"
#include "cli.h"

const char zn_cmd_bench_usage[] =
    "usage: zenith bench [CONFIG.ini] [options]\n"
    "\n"
    "Measures throughput (thesis eq. 3.1) and latency over repeated windows while a\n"
    "monitor samples CPU, memory, power and I/O. Without CONFIG, a short built-in\n"
    "run: mobilenet_v2 on data/images, batch 1 and 8, concurrency 1 and 2.\n"
    "Keys are documented in docs/bench-config.md; options override the file.\n"
    "\n"
    "  --set SECTION.KEY=VALUE   any config key (repeatable)\n"
    "  --models LIST             [model] models (zoo names or .onnx files)\n"
    "  --mix LIST                [model] mix, e.g. mobilenet_v2*3,inception_v3*1\n"
    "  --backend NAME            [model] backend (auto, ref, onednn, xnnpack)\n"
    "  --batch LIST              [run] batch (e.g. 1,8 or pow2:32)\n"
    "  --concurrency LIST        [run] concurrency (e.g. 1,2,4 or sweep)\n"
    "  --threads LIST            [device] threads per instance\n"
    "  --cpus LIST               [device] cpus (e.g. 0-1); --pin pins instances\n"
    "  --scenario S              [run] scenario: offline or single-stream\n"
    "  --repetitions N           [run] repetitions\n"
    "  --batches N | --duration-ms MS   [run] window length\n"
    "  --warmup N                [run] warmup_batches\n"
    "  --images DIR              [data] source = folder, path = DIR\n"
    "  --synthetic               [data] source = synthetic\n"
    "  --output DIR              [output] folder;  --name NAME  [output] name\n"
    "  --no-monitor              [monitor] enabled = off\n"
    "  --check                   check the configuration and exit\n";

static const struct { const char *flag, *section, *key; } simple_flags[] = {
    {"--models", "model", "models"},       {"--mix", "model", "mix"},
    {"--backend", "model", "backend"},     {"--batch", "run", "batch"},
    {"--concurrency", "run", "concurrency"}, {"--threads", "device", "threads"},
    {"--cpus", "device", "cpus"},          {"--scenario", "run", "scenario"},
    {"--repetitions", "run", "repetitions"}, {"--batches", "run", "batches"},
    {"--duration-ms", "run", "duration_ms"}, {"--warmup", "run", "warmup_batches"},
    {"--output", "output", "folder"},      {"--name", "output", "name"},
};

static const char *default_images(void) {
  static char buf[4096];
  const char *root = getenv("ZN_SOURCE_DIR");
#ifdef ZN_SOURCE_DIR
  if (!root) root = ZN_SOURCE_DIR;
#endif
  snprintf(buf, sizeof buf, "%s/data/images", root ? root : ".");
  return buf;
}

static int fail_config(void) {
  fprintf(stderr, "zenith bench: %s\n", zn_last_error());
  return ZN_CLI_EXIT_ERROR;
}

int zn_cmd_bench(int argc, char **argv) {
  static zn_bench_config cfg; /* large: keep it off the stack */
  const char *config_path = NULL;
  int first_flag = 1;
  if (argc > 1 && argv[1][0] != '-') {
    config_path = argv[1];
    first_flag = 2;
  }
  if (config_path) {
    zn_bench_config_init(&cfg);
    if (zn_bench_config_load(&cfg, config_path) != ZN_OK) return fail_config();
  } else {
    zn_bench_config_init_default(&cfg, default_images());
  }
  bool check_only = false;
  for (int i = first_flag; i < argc; i++) {
    const char *v = NULL;
    int r = zn_cli_flag_value("bench", argc, argv, &i, "--set", &v);
    if (r < 0) return ZN_CLI_EXIT_USAGE;
    if (r > 0) {
      if (zn_bench_config_set_arg(&cfg, v, "--set") != ZN_OK) return fail_config();
      continue;
    }
    bool matched = false;
    for (size_t f = 0; f < sizeof simple_flags / sizeof simple_flags[0] && !matched; f++) {
      r = zn_cli_flag_value("bench", argc, argv, &i, simple_flags[f].flag, &v);
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      if (r > 0) {
        matched = true;
        if (zn_bench_config_set(&cfg, simple_flags[f].section, simple_flags[f].key, v, simple_flags[f].flag) != ZN_OK)
          return fail_config();
      }
    }
    if (matched) continue;
    r = zn_cli_flag_value("bench", argc, argv, &i, "--images", &v);
    if (r < 0) return ZN_CLI_EXIT_USAGE;
    if (r > 0) {
      if (zn_bench_config_set(&cfg, "data", "source", "folder", "--images") != ZN_OK ||
          zn_bench_config_set(&cfg, "data", "path", v, "--images") != ZN_OK)
        return fail_config();
    } else if (zn_cli_flag(argv, i, "--synthetic")) {
      if (zn_bench_config_set(&cfg, "data", "source", "synthetic", "--synthetic") != ZN_OK) return fail_config();
    } else if (zn_cli_flag(argv, i, "--pin")) {
      if (zn_bench_config_set(&cfg, "device", "pin", "on", "--pin") != ZN_OK) return fail_config();
    } else if (zn_cli_flag(argv, i, "--no-monitor")) {
      if (zn_bench_config_set(&cfg, "monitor", "enabled", "off", "--no-monitor") != ZN_OK) return fail_config();
    } else if (zn_cli_flag(argv, i, "--check")) {
      check_only = true;
    } else if (argv[i][0] == '-') {
      return zn_cli_usage_error("bench", "unknown option '%s'", argv[i]);
    } else {
      return zn_cli_usage_error("bench", "unexpected argument '%s' (one CONFIG file, first)", argv[i]);
    }
  }
  if (zn_bench_config_check(&cfg) != ZN_OK) return fail_config();
  if (check_only) {
    char text[8192];
    zn_bench_config_format(&cfg, text, sizeof text);
    fputs(text, stdout);
    return ZN_CLI_EXIT_OK;
  }
  zn_cli_log_setup(0);
  for (int w = 0; w < cfg.num_workloads; w++)
    for (int p = 0; p < cfg.workloads[w].num_parts; p++)
      if (zn_zoo_find(cfg.workloads[w].parts[p].model)) zn_cli_note_synthetic();
  zn_bench_run_options ro = {isatty(2) ? stderr : NULL, stderr, stdout};
  if (zn_bench_sigint_install() != ZN_OK) return zn_cli_fail(ZN_ERR_INTERNAL);
  zn_bench_results *res = NULL;
  zn_status st = zn_bench_run(&cfg, &ro, &res);
  zn_bench_sigint_restore();
  if (st != ZN_OK) return fail_config();
  char csv[1024], json[1024];
  zn_bench_print_table(res, stdout);
  st = zn_bench_write_results(res, csv, json, sizeof csv);
  if (st == ZN_OK) printf("results: %s, %s\n", csv, json);
  int rc = st != ZN_OK ? zn_cli_fail(st) : (res->failure[0] ? ZN_CLI_EXIT_ERROR : ZN_CLI_EXIT_OK);
  if (res->interrupted && rc == ZN_CLI_EXIT_OK) rc = 130; /* the shell's convention for SIGINT */
  zn_bench_results_destroy(res);
  return rc;
}
