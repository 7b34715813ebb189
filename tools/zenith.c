/* `zenith`: the command-line tool. main() only dispatches: each command lives
 * in tools/cmd_<name>.c and is listed once in commands.def. Exit codes: 0 ok,
 * 1 the command failed (message "zenith: <status>: <detail>" on stderr),
 * 2 usage error (unknown command or flag; usage on stderr). */
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name;
  int (*main)(int argc, char **argv);
} command;

static const command commands[] = {
#define ZN_CLI_COMMAND(name, summary) {#name, zn_cmd_##name},
#include "commands.def"
#undef ZN_CLI_COMMAND
};

int main(int argc, char **argv) {
  if (argc < 2) return zn_cli_usage_error(NULL, "no command given");
  const char *cmd = argv[1];
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    printf("zenith %s\n", ZN_VERSION_STRING);
    return ZN_CLI_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    if (argc > 2) {
      for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[2], commands[i].name) == 0) {
          zn_cli_print_usage(stdout, argv[2]);
          return ZN_CLI_EXIT_OK;
        }
      return zn_cli_usage_error(NULL, "unknown command '%s'", argv[2]);
    }
    zn_cli_print_usage(stdout, NULL);
    return ZN_CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) {
      for (int k = 2; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
          zn_cli_print_usage(stdout, cmd);
          return ZN_CLI_EXIT_OK;
        }
      return commands[i].main(argc - 1, argv + 1);
    }
  if (cmd[0] == '-') return zn_cli_usage_error(NULL, "unknown option '%s'", cmd);
  return zn_cli_usage_error(NULL, "unknown command '%s'", cmd);
}
