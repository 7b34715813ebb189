/* Helpers shared by the `zenith` commands: error and usage printing with the
 * exit-code convention (0 ok, 1 failure, 2 usage), strict flag parsing (a
 * value out of range is refused here with the flag's name, before any work),
 * opening a model by zoo name or file, and the library log hook. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int zn_cli_fail(zn_status status) {
  const char *detail = zn_last_error();
  if (detail && detail[0])
    fprintf(stderr, "zenith: %s: %s\n", zn_status_string(status), detail);
  else
    fprintf(stderr, "zenith: %s\n", zn_status_string(status));
  return ZN_CLI_EXIT_ERROR;
}

void zn_cli_print_usage(FILE *f, const char *cmd) {
#define ZN_CLI_COMMAND(name, summary) \
  if (cmd && strcmp(cmd, #name) == 0) { fputs(zn_cmd_##name##_usage, f); return; }
#include "commands.def"
#undef ZN_CLI_COMMAND
  fprintf(f, "usage: zenith <command> [options]\n"
             "       zenith help [command]   zenith --version\n\ncommands:\n");
#define ZN_CLI_COMMAND(name, summary) fprintf(f, "  %-9s %s\n", #name, summary);
#include "commands.def"
#undef ZN_CLI_COMMAND
  fprintf(f, "\n`zenith help <command>` or `zenith <command> --help` shows a command's options.\n");
}

int zn_cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "zenith%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  zn_cli_print_usage(stderr, cmd);
  return ZN_CLI_EXIT_USAGE;
}

int zn_cli_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

int zn_cli_flag_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return 0;
  if (a[n] == '=') {
    *value = a + n + 1;
    return 1;
  }
  if (a[n] != '\0') return 0;
  if (*i + 1 >= argc) {
    zn_cli_usage_error(cmd, "%s needs a value", name);
    return -1;
  }
  *value = argv[++*i];
  return 1;
}

int zn_cli_parse_int(const char *cmd, const char *flag, const char *text, long long lo, long long hi,
                     long long *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    zn_cli_usage_error(cmd, "%s must be an integer in %lld..%lld (got '%s')", flag, lo, hi, text);
    return -1;
  }
  *out = v;
  return 0;
}

int zn_cli_parse_u64(const char *cmd, const char *flag, const char *text, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
    zn_cli_usage_error(cmd, "%s must be a non-negative integer (got '%s')", flag, text);
    return -1;
  }
  *out = (uint64_t)v;
  return 0;
}

int zn_cli_check_backend(const char *cmd, const char *backend) {
  if (strcmp(backend, "auto") == 0) return 0;
  for (size_t i = 0; i < zn_backend_count(); i++)
    if (strcmp(zn_backend_name(i), backend) == 0) return 0;
  char list[256] = "auto";
  for (size_t i = 0; i < zn_backend_count(); i++) {
    strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, zn_backend_name(i), sizeof list - strlen(list) - 1);
  }
  zn_cli_usage_error(cmd, "unknown backend '%s' (built in: %s)", backend, list);
  return -1;
}

static int is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

zn_status zn_cli_open_model(const char *spec, const char *backend, uint64_t seed, int *is_zoo, zn_model **model_out) {
  zn_model_options o = zn_model_options_default();
  o.backend = backend;
  return zn_cli_open_model_with(spec, &o, seed, is_zoo, model_out);
}

zn_status zn_cli_open_model_with(const char *spec, const zn_model_options *opts, uint64_t seed, int *is_zoo,
                                 zn_model **model_out) {
  const zn_model_options o = *opts;
  *is_zoo = 0;
  if (zn_zoo_find(spec) && !is_file(spec)) {
    *is_zoo = 1;
    return zn_model_from_zoo(spec, seed, &o, model_out);
  }
  if (!is_file(spec) && !strchr(spec, '/') && !strchr(spec, '.')) {
    /* Neither a file nor a zoo name: say both, the load below would only say "no such file". */
    fprintf(stderr, "zenith: '%s' is not a zoo model (see `zenith zoo list`) nor a file\n", spec);
  }
  return zn_model_load_file(spec, &o, model_out);
}

void zn_cli_note_synthetic(void) {
  static int printed;
  if (printed) return;
  printed = 1;
  /* on stderr with the other notes: stdout carries results (top-5, tables, CSV) */
  fprintf(stderr, "note: zoo weights are synthetic (seeded random): predictions are meaningless; "
          "bring a trained ONNX model for real predictions\n");
}

static void log_to_stderr(zn_log_level level, const char *message, void *user) {
  (void)user;
  static const char *names[] = {"error", "warning", "info", "debug"};
  fprintf(stderr, "zenith: %s: %s\n", names[level <= ZN_LOG_DEBUG ? level : ZN_LOG_DEBUG], message);
}

void zn_cli_log_setup(int verbose) { zn_log_set(log_to_stderr, NULL, verbose ? ZN_LOG_INFO : ZN_LOG_WARN); }

const char *zn_cli_default_labels(void) {
  static char path[4096];
  const char *root = getenv("ZN_SOURCE_DIR");
#ifdef ZN_SOURCE_DIR
  if (!root || !root[0]) root = ZN_SOURCE_DIR;
#endif
  if (!root || !root[0]) return NULL;
  snprintf(path, sizeof path, "%s/data/imagenet_labels.txt", root);
  return is_file(path) ? path : NULL;
}

int64_t zn_cli_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
