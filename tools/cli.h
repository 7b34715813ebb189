/* Shared pieces of the `zenith` command-line tool: the command table (from
 * commands.def), exit codes, flag parsing, error printing and model opening.
 * The CLI uses only the public API (zenith.h) and src/data; it holds no logic
 * a library user would need. */
#ifndef ZN_TOOLS_CLI_H
#define ZN_TOOLS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "zenith.h"

#define ZN_CLI_EXIT_OK 0
#define ZN_CLI_EXIT_ERROR 1 /* the command failed (bad file, bad model, ...) */
#define ZN_CLI_EXIT_USAGE 2 /* unknown command or flag, bad flag value */

#define ZN_CLI_COMMAND(name, summary)        \
  int zn_cmd_##name(int argc, char **argv); \
  extern const char zn_cmd_##name##_usage[];
#include "commands.def"
#undef ZN_CLI_COMMAND

/* Print "zenith: <status text>: <zn_last_error()>" to stderr; returns ZN_CLI_EXIT_ERROR. */
int zn_cli_fail(zn_status status);
/* Print "zenith <cmd>: <message>" and the command's usage to stderr; returns ZN_CLI_EXIT_USAGE. */
int zn_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a command's usage (NULL: the command list) to f. */
void zn_cli_print_usage(FILE *f, const char *cmd);

/* Match argv[*i] against a flag taking a value ("--name VALUE" or
 * "--name=VALUE"). Returns 1 and sets *value (advancing *i past a separate
 * value), 0 when argv[*i] is another flag, -1 (after printing a usage error)
 * when the value is missing. */
int zn_cli_flag_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value);
/* A flag without a value ("--verbose"): 1 when argv[*i] is it. */
int zn_cli_flag(char **argv, int i, const char *name);
/* Parse a decimal integer within [lo, hi]; on failure print a usage error
 * naming the flag and return -1, else 0. */
int zn_cli_parse_int(const char *cmd, const char *flag, const char *text, long long lo, long long hi,
                     long long *out);
int zn_cli_parse_u64(const char *cmd, const char *flag, const char *text, uint64_t *out);
/* The backend name must be "auto" or a compiled-in backend; prints a usage error otherwise. */
int zn_cli_check_backend(const char *cmd, const char *backend);

/* Open a model by zoo name or ONNX file path. *is_zoo tells which. */
zn_status zn_cli_open_model(const char *spec, const char *backend, uint64_t seed, int *is_zoo, zn_model **model_out);
/* The same with every model option (precision, tune_batch, ...). */
zn_status zn_cli_open_model_with(const char *spec, const zn_model_options *opts, uint64_t seed, int *is_zoo,
                                 zn_model **model_out);
/* Print the synthetic-weights note once per process. */
void zn_cli_note_synthetic(void);
/* Route library log messages to stderr ("zenith: warning: ..."). */
void zn_cli_log_setup(int verbose);
/* data/imagenet_labels.txt under ZN_SOURCE_DIR (env first, then the build's). */
const char *zn_cli_default_labels(void);
/* Monotonic clock in nanoseconds. */
int64_t zn_cli_now_ns(void);

#endif
