/*
 * cli.h - what every subcommand shares: exit codes, the command table entry,
 * and small helpers for flags. Each subcommand lives in its own cmd_*.c file
 * and is a thin layer over the core, the ledger and the store.
 */
#ifndef SN_CLI_H
#define SN_CLI_H

#include "crypto/secret.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>

/* Exit codes of every subcommand. */
#define SN_EXIT_OK 0       /* success */
#define SN_EXIT_REJECTED 1 /* input was rejected (some or all of it), or a runtime failure */
#define SN_EXIT_USAGE 2    /* bad flags or arguments */

typedef struct {
    const char *name;
    const char *summary;                  /* one line for `secondnum --help` */
    int (*run)(int argc, char **argv);    /* argv[0] is the command name; returns an exit code */
} sn_command;

int sn_cmd_init(int argc, char **argv);
int sn_cmd_import(int argc, char **argv);
int sn_cmd_check(int argc, char **argv);
int sn_cmd_gen(int argc, char **argv);
int sn_cmd_verify(int argc, char **argv);
int sn_cmd_keys(int argc, char **argv);
int sn_cmd_carriers(int argc, char **argv);
int sn_cmd_serve(int argc, char **argv);
int sn_cmd_sms(int argc, char **argv);

/* Print "secondnum CMD: message" to stderr and return SN_EXIT_USAGE. */
int sn_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a decimal integer flag value in [min, max]; 0 on success, -1 otherwise. */
int sn_cli_parse_long(const char *s, long min, long max, long *out);

/* A duration in days, decimals allowed ("5", "0.5", "0.0001"), 0 to 3650,
 * into whole seconds. 0 on success, -1 when malformed or out of range. */
int sn_cli_parse_days(const char *s, int64_t *seconds);


/* Open the store at db (creating it with rules, or the defaults, when absent)
 * and, when the store is new, create its secret file too. Prints the reason
 * to stderr on failure. Returns SN_OK or the error code. */
int sn_cli_open_store(const char *cmd, const char *db, const sn_rules *rules, sn_store **out);

/* The secret file of a store: key_path when given, else $SECONDNUM_KEY, else
 * "<db>.key" (a PostgreSQL URL needs one of the first two). Loads it
 * into *secret; returns 1 when loaded, 0 when absent and create is not set
 * (nothing printed), -1 on an error (printed). */
int sn_cli_load_secret(const char *cmd, const char *db, const char *key_path, int create,
                       sn_secret *secret);

/* A progress line on stderr, drawn only when stderr is a terminal. */
typedef struct {
    int enabled;
    uint64_t total;       /* expected units (0 = unknown) */
    const char *label;
    long last_ms;
} sn_progress;

void sn_progress_start(sn_progress *p, const char *label, uint64_t total);
void sn_progress_update(sn_progress *p, uint64_t done, uint64_t count);
void sn_progress_finish(sn_progress *p);

#endif
