/*
 * cli.h - what every subcommand shares: exit codes, the command table entry,
 * and small helpers for flags. Each subcommand lives in its own cmd_*.c file
 * and is a thin layer over the core, the ledger and the store.
 */
#ifndef SN_CLI_H
#define SN_CLI_H

#include "crypto/secret.h"
#include "store/store.h"

#include <getopt.h> /* optind, which sn_cli_parse leaves at the first argument */
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every subcommand. */
#define SN_EXIT_OK 0       /* success */
#define SN_EXIT_REJECTED 1 /* input was rejected (some or all of it), or a runtime failure */
#define SN_EXIT_USAGE 2    /* bad flags or arguments */

typedef struct {
    const char *name;
    const char *summary;               /* one line for `secondnum --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name; returns an exit code */
} sn_command;

int sn_cmd_init(int argc, char **argv);
int sn_cmd_import(int argc, char **argv);
int sn_cmd_check(int argc, char **argv);
int sn_cmd_gen(int argc, char **argv);
int sn_cmd_verify(int argc, char **argv);
int sn_cmd_keys(int argc, char **argv);
int sn_cmd_carriers(int argc, char **argv);
int sn_cmd_apps(int argc, char **argv);
int sn_cmd_receipts(int argc, char **argv);
int sn_cmd_audit(int argc, char **argv);
int sn_cmd_serve(int argc, char **argv);
int sn_cmd_sms(int argc, char **argv);
int sn_cmd_backup(int argc, char **argv);
int sn_cmd_restore(int argc, char **argv);

/* Print "secondnum CMD: message; see 'secondnum CMD --help'" to stderr, one
 * line (with the place set by sn_cli_usage_where before the message), and
 * return SN_EXIT_USAGE. */
int sn_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where the values being read come from ("FILE:LINE: "), printed before
 * every usage error until it is set back to NULL. */
void sn_cli_usage_where(const char *where);

/* Whether name is a command of the binary (main.c's table): the sections a
 * configuration file may have. */
int sn_cli_command_known(const char *name);

/* ---- flags ------------------------------------------------------------------
 * A command lists its flags in a table; sn_cli_parse reads argv into their
 * destinations, each bad value answered with the flag's error sentence. */
typedef enum {
    SN_OPT_TEXT, /* const char *: the value as given */
    SN_OPT_LONG, /* long: a decimal integer in [min, max] */
    SN_OPT_DAYS, /* int64_t: a duration in days (sn_cli_parse_days), in seconds */
    SN_OPT_FLAG, /* int: set to 1, no value */
    SN_OPT_DAY,  /* sn_day: YYYY-MM-DD */
    SN_OPT_TZ,   /* int: a UTC offset (+HH:MM) in minutes */
    SN_OPT_FN,   /* fn(cmd, value, dst): 0, or the exit code of its usage error */
} sn_opt_kind;

typedef struct {
    const char *name; /* the long option, without "--" */
    uint8_t kind;     /* sn_opt_kind */
    uint8_t required;
    void *dst;
    long min, max;     /* SN_OPT_LONG */
    const char *error; /* the usage error of a bad value (LONG: a format given min, max) */
    int (*fn)(const char *cmd, const char *value, void *dst);
} sn_cli_opt;

#define SN_CLI_OPTS_MAX 40 /* flags of one command */

/* Table entries. */
#define SN_CLI_OPT(name, kind, required, dst, min, max, error, fn)                                 \
    ((sn_cli_opt){(name), (kind), (required), (dst), (min), (max), (error), (fn)})
#define SN_CLI_DB(dst) SN_CLI_OPT("db", SN_OPT_TEXT, 1, dst, 0, 0, NULL, NULL)
#define SN_CLI_TEXT(name, dst) SN_CLI_OPT(name, SN_OPT_TEXT, 0, dst, 0, 0, NULL, NULL)
#define SN_CLI_FLAG(name, dst) SN_CLI_OPT(name, SN_OPT_FLAG, 0, dst, 0, 0, NULL, NULL)
#define SN_CLI_CREATE(dst) SN_CLI_FLAG("create", dst) /* create a missing store */
#define SN_CLI_LONG(name, dst, min, max, error)                                                    \
    SN_CLI_OPT(name, SN_OPT_LONG, 0, dst, min, max, error, NULL)
#define SN_CLI_DAYS(name, dst, error) SN_CLI_OPT(name, SN_OPT_DAYS, 0, dst, 0, 0, error, NULL)
#define SN_CLI_DAY(name, dst) SN_CLI_OPT(name, SN_OPT_DAY, 0, dst, 0, 0, NULL, NULL)
#define SN_CLI_TZ(name, dst) SN_CLI_OPT(name, SN_OPT_TZ, 0, dst, 0, 0, NULL, NULL)
#define SN_CLI_FN(name, fn, dst) SN_CLI_OPT(name, SN_OPT_FN, 0, dst, 0, 0, NULL, fn)
#define SN_CLI_N(opts) (sizeof(opts) / sizeof((opts)[0]))

/* Read argv[first..] by opts (n of them; --help and --config FILE are
 * implied): SN_EXIT_OK with optind at the first argument, -1 after --help
 * printed usage (the command exits 0), or the exit code of a usage error
 * (printed). With --config, the file's values (sn_cli_config_apply) come
 * first and the flags override them; a required flag may come from either. */
int sn_cli_parse(const char *cmd, int argc, char **argv, int first, const sn_cli_opt *opts,
                 size_t n, const char *usage);

/* One value into its option's destination: 0, or the exit code of the
 * usage error printed. A flag (SN_OPT_FLAG) is set by a NULL value. The
 * value must live as long as the destination is read. */
int sn_cli_take(const char *cmd, const sn_cli_opt *o, const char *value);

/* ---- the configuration file (config.c) ---------------------------------------
 * INI syntax (libinih): `key = value` lines, `#` or `;` comments. Before the
 * first section only the shared keys db and key; a section per command
 * ([serve], [import], ...) holds that command's options, named as the long
 * options without "--", values as on the command line, flags true/false,
 * yes/no or 1/0. A command reads the shared keys and its own section and
 * skips the other commands' sections. An unknown key or section, a bad value,
 * an empty value, a key set twice in the same place, a line over
 * SN_CLI_CONFIG_LINE_MAX or a line that is neither is a usage error naming
 * FILE:LINE. */
#define SN_CLI_CONFIG_LINE_MAX                                                                     \
    199 /* characters of a line, newline excluded (libinih's INI_MAX_LINE - 1) */

/* Apply the file at path to opts, marking seen[i] for each option set:
 * 0, or the exit code of the usage error printed. The values are copies
 * kept until the process exits. */
int sn_cli_config_apply(const char *cmd, const char *path, const sn_cli_opt *opts, size_t n,
                        int *seen);

/* Parse a decimal integer flag value in [min, max]; 0 on success, -1 otherwise. */
int sn_cli_parse_long(const char *s, long min, long max, long *out);

/* A rate in numbers a second, "N/s" or "N", 1 to max; 0 on success, -1
 * otherwise. */
int sn_cli_parse_rate(const char *s, long max, long *out);

/* A duration in days, decimals allowed ("5", "0.5", "0.0001"), 0 to 3650,
 * into whole seconds. 0 on success, -1 when malformed or out of range. */
int sn_cli_parse_days(const char *s, int64_t *seconds);

/* Open the store at db and, when the store is new, create its secret file
 * too. A store file that does not exist is created (with rules, or the
 * defaults) only when create is set (init, or a command's --create), so a
 * mistyped path is an error rather than a new empty store. Prints the
 * reason to stderr on failure. Returns SN_OK or the error code. */
int sn_cli_open_store(const char *cmd, const char *db, const sn_rules *rules, int create,
                      sn_store **out);

/* The secret file of a store: key_path when given, else $SECONDNUM_KEY, else
 * "<db>.key" (a PostgreSQL URL needs one of the first two). Loads it
 * into *secret; returns 1 when loaded, 0 when absent and create is not set
 * (nothing printed), -1 on an error (printed). */
int sn_cli_load_secret(const char *cmd, const char *db, const char *key_path, int create,
                       sn_secret *secret);

/* A progress line on stderr, drawn only when stderr is a terminal. */
typedef struct {
    int enabled;
    uint64_t total; /* expected units (0 = unknown) */
    const char *label;
    int64_t last_ms;
} sn_progress;

void sn_progress_start(sn_progress *p, const char *label, uint64_t total);
void sn_progress_update(sn_progress *p, uint64_t done, uint64_t count);
void sn_progress_finish(sn_progress *p);

#endif
