/* Option parsing shared by every subcommand: --name VALUE, --name=VALUE, flags, --help, and a
 * "did you mean" hint for a mistyped option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"

static void print_help(const char *command, const char *usage, const char *summary,
                       const cli_option *options, size_t count) {
    printf("Usage: clgraph %s %s\n\n%s\n\nOptions:\n", command, usage, summary);
    for (size_t i = 0; i < count; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", options[i].name, options[i].metavar ? " " : "",
                 options[i].metavar ? options[i].metavar : "");
        printf("  %-22s %s\n", left, options[i].help);
    }
    printf("  %-22s %s\n", "-h, --help", "show this help and exit");
}

int cli_parse(const char *command, const char *usage, const char *summary, int argc, char **argv,
              const cli_option *options, size_t option_count, const char **positional,
              size_t max_positional, size_t *positional_count, bool *help_shown) {
    *help_shown = false;
    if (positional_count)
        *positional_count = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_help(command, usage, summary, options, option_count);
            *help_shown = true;
            return CLI_OK;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (!positional_count || *positional_count >= max_positional) {
                fprintf(stderr,
                        "clgraph %s: error: unexpected argument '%s'; see 'clgraph %s --help'\n",
                        command, arg, command);
                return CLI_USAGE;
            }
            positional[(*positional_count)++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_option *opt = NULL;
        for (size_t j = 0; j < option_count; j++)
            if (strlen(options[j].name) == name_len &&
                strncmp(options[j].name, arg, name_len) == 0)
                opt = &options[j];
        if (!opt) {
            const char *names[32];
            size_t n = 0;
            for (size_t j = 0; j < option_count && n < 31; j++)
                names[n++] = options[j].name;
            names[n++] = "--help";
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)name_len, arg);
            const char *close = cg__closest(name, names, n);
            fprintf(stderr, "clgraph %s: error: unknown option '%s'", command, name);
            if (close)
                fprintf(stderr, " (did you mean '%s'?)", close);
            fprintf(stderr, "; see 'clgraph %s --help'\n", command);
            return CLI_USAGE;
        }
        if (!opt->metavar) {
            if (eq) {
                fprintf(stderr, "clgraph %s: error: option '%s' takes no value\n", command,
                        opt->name);
                return CLI_USAGE;
            }
            *opt->flag = true;
            continue;
        }
        if (!opt->value || (!eq && i + 1 >= argc)) {
            /* Options gathered before parsing (--set) arrive here only without their value. */
            fprintf(stderr, "clgraph %s: error: option '%s' needs a value (%s %s)\n", command,
                    opt->name, opt->name, opt->metavar);
            return CLI_USAGE;
        }
        if (eq) {
            *opt->value = eq + 1;
        } else if (i + 1 < argc) {
            *opt->value = argv[++i];
        } else {
            fprintf(stderr, "clgraph %s: error: option '%s' needs a value (%s %s)\n", command,
                    opt->name, opt->name, opt->metavar);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

bool cli_take_sets(const char *command, int argc, char **argv, const char **sets, int cap,
                   int *n_sets, char **rest, int *n_rest) {
    *n_sets = *n_rest = 0;
    int given = 0;
    for (int i = 0; i < argc; i++) {
        bool set = strcmp(argv[i], "--set") == 0 && i + 1 < argc;
        if (set || strncmp(argv[i], "--set=", 6) == 0) {
            given++;
            const char *v = set ? argv[++i] : argv[i] + 6;
            if (*n_sets < cap)
                sets[(*n_sets)++] = v;
        } else {
            rest[(*n_rest)++] = argv[i];
        }
    }
    if (given > cap)
        fprintf(stderr, "clgraph %s: error: %d --set options; at most %d are taken (put the "
                        "others in the experiment file, or a variant)\n",
                command, given, cap);
    return given <= cap;
}

void cli_report_error(const char *what, int status) {
    fprintf(stderr, "clgraph: error: %s: %s: %s\n", what, cg_status_str((cg_status)status),
            cg_error_message());
}

int cli_count(const char *command, const char *opt, const char *v, int lo, int *out) {
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > 100000) {
        fprintf(stderr, "clgraph %s: error: %s %s: give a whole number from %d to 100000\n",
                command, opt, v, lo);
        return CLI_USAGE;
    }
    *out = (int)n;
    return CLI_OK;
}

int cli_positive(const char *command, const char *opt, const char *v, int *out) {
    return cli_count(command, opt, v, 1, out);
}

char *cli_command_line(const char *command, int argc, char **argv) {
    size_t cap = 32 + strlen(command);
    for (int i = 0; i < argc; i++)
        cap += 4 * strlen(argv[i]) + 3;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t n = (size_t)snprintf(out, cap, "clgraph %s", command);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool plain = *a != '\0';
        for (const char *p = a; *p && plain; p++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           "-_./=,:+@%", *p) != NULL;
        out[n++] = ' ';
        if (plain) {
            memcpy(out + n, a, strlen(a));
            n += strlen(a);
            continue;
        }
        out[n++] = '\'';
        for (const char *p = a; *p; p++) {
            if (*p == '\'') {
                memcpy(out + n, "'\\''", 4);
                n += 4;
            } else {
                out[n++] = *p;
            }
        }
        out[n++] = '\'';
    }
    out[n] = '\0';
    return out;
}

/* CLI_OK when one positional argument was given, else the usage error naming what it is. */
static int exactly_one(const char *command, size_t n_positional, const char *what,
                       const char *example) {
    if (n_positional == 1)
        return CLI_OK;
    fprintf(stderr, "clgraph %s: error: name %s, e.g. 'clgraph %s %s'\n", command, what,
            command, example);
    return CLI_USAGE;
}

int cli_one_experiment(const char *command, size_t n_positional) {
    return exactly_one(command, n_positional, "an experiment file", "experiments/baseline.yaml");
}

int cli_one_run_dir(const char *command, size_t n_positional) {
    return exactly_one(command, n_positional, "a results folder", "runs/baseline/20261123-101500");
}
