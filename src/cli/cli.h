/* The clgraph command: shared option parsing and the entry points of its subcommands. */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of every subcommand. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* One option. A flag sets *flag; an option with a value stores it in *value. */
typedef struct cli_option {
    const char *name; /* "--device" */
    const char *metavar; /* "D" for an option taking a value, NULL for a flag */
    const char *help;
    const char **value;
    bool *flag;
} cli_option;

/* Parses argv (after the subcommand name). Positional arguments are collected into positional
 * (at most max_positional). --help prints usage and makes *help_shown true. Returns CLI_OK or
 * CLI_USAGE after printing an error with a hint. */
int cli_parse(const char *command, const char *usage, const char *summary, int argc, char **argv,
              const cli_option *options, size_t option_count, const char **positional,
              size_t max_positional, size_t *positional_count, bool *help_shown);

/* Takes every `--set KEY=VALUE` (or --set=KEY=VALUE) out of argv into sets and the other
 * arguments into rest, in order; the option may repeat. More than cap of them: false, with a
 * message saying how many are taken. */
bool cli_take_sets(const char *command, int argc, char **argv, const char **sets, int cap,
                   int *n_sets, char **rest, int *n_rest);

/* Checks that exactly one experiment file was named (n_positional of them); else prints what to
 * write and returns CLI_USAGE. */
int cli_one_experiment(const char *command, size_t n_positional);
/* The same for commands that take one results folder (eval, report). */
int cli_one_run_dir(const char *command, size_t n_positional);

/* Reads a whole number from 1 to 100000 given to option opt of command; else prints an error
 * and returns CLI_USAGE. */
int cli_positive(const char *command, const char *opt, const char *v, int *out);

/* The same for a whole number from lo to 100000. */
int cli_count(const char *command, const char *opt, const char *v, int lo, int *out);

/* "clgraph COMMAND ARGS...", each argument quoted for a POSIX shell where it needs it (freed
 * with free(); NULL without memory). */
char *cli_command_line(const char *command, int argc, char **argv);

/* Prints "clgraph: error: <status text>: <message>" to stderr. */
void cli_report_error(const char *what, int status);

int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
