/* `zenith analyze RESULTS.json|csv [--output OUT.json]`: thesis Figure 4.5,
 * the Pearson correlation of throughput with batch size, concurrency, CPU %,
 * memory, power and I/O across a results file's repetitions, printed and
 * written as JSON, each coefficient with its sample count. */
#include <string.h>

#include "bench/runner.h"
#include "cli.h"

const char zn_cmd_analyze_usage[] =
    "usage: zenith analyze RESULTS.json|RESULTS.csv [--output OUT.json]\n"
    "\n"
    "Correlates throughput with batch, concurrency, cpu_pct, memory (RSS), power\n"
    "and io (disk bytes/s) over every repetition in a `zenith bench` results file\n"
    "(Pearson's r, with n = the pairs behind it; a metric the machine lacked is\n"
    "'absent'). Writes OUT.json (default: RESULTS with .analysis.json).\n";

int zn_cmd_analyze(int argc, char **argv) {
  const char *input = NULL, *output = NULL;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int r = zn_cli_flag_value("analyze", argc, argv, &i, "--output", &v);
    if (r < 0) return ZN_CLI_EXIT_USAGE;
    if (r > 0) output = v;
    else if (argv[i][0] == '-') return zn_cli_usage_error("analyze", "unknown option '%s'", argv[i]);
    else if (!input) input = argv[i];
    else return zn_cli_usage_error("analyze", "unexpected argument '%s'", argv[i]);
  }
  if (!input) return zn_cli_usage_error("analyze", "no results file given");
  char out_path[4096];
  if (!output) {
    snprintf(out_path, sizeof out_path, "%s", input);
    char *dot = strrchr(out_path, '.');
    char *slash = strrchr(out_path, '/');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    strncat(out_path, ".analysis.json", sizeof out_path - strlen(out_path) - 1);
    output = out_path;
  }
  zn_bench_correlation c[ZN_ANALYZE_MAX_FACTORS];
  size_t n = 0, rows = 0;
  zn_status st = zn_bench_analyze_file(input, c, &n, &rows);
  if (st != ZN_OK) return zn_cli_fail(st);
  printf("Pearson correlation with throughput over %zu repetitions of %s\n", rows, input);
  printf("%-12s %8s %6s  %s\n", "factor", "r", "n", "note");
  for (size_t i = 0; i < n; i++) {
    if (c[i].note && !(c[i].r == c[i].r)) printf("%-12s %8s %6zu  %s\n", c[i].factor, "-", c[i].n, c[i].note);
    else printf("%-12s %8.3f %6zu\n", c[i].factor, c[i].r, c[i].n);
  }
  st = zn_bench_analyze_write_json(output, input, c, n, rows);
  if (st != ZN_OK) return zn_cli_fail(st);
  printf("written: %s\n", output);
  return ZN_CLI_EXIT_OK;
}
