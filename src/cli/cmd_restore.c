/*
 * cmd_restore.c - `secondnum restore`: put a backup back as a store. The
 * backup is copied beside the store, opened (its schema migrated when it
 * is older), verified like `secondnum verify`, and only then renamed over
 * the store; a backup that fails any of it leaves the store as it was.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "service/verify.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: secondnum restore --db FILE [--force] [--with-key [--key KEY]] IN\n"
    "\n"
    "Make the backup IN (from `secondnum backup`) the store FILE. IN is checked\n"
    "first, on a copy beside FILE: a SQLite database of its own (no write-ahead\n"
    "log beside it), a secondnum store of a schema version this build reads\n"
    "(an older one is migrated), SQLite's integrity check and every number's\n"
    "state against its log (as `secondnum verify`). Only then is the copy\n"
    "fsynced and renamed over FILE, mode 0600. IN is never changed.\n"
    "\n"
    "  --db FILE    the store to write; stop `serve` first: a store another\n"
    "               process has open is refused\n"
    "  --force      replace FILE (and FILE.key) if it exists; else it is refused\n"
    "  --with-key   also copy the deployment secret IN.key (mode 0600)\n"
    "  --key KEY    where to put it (default $SECONDNUM_KEY, else FILE.key)\n"
    "\n"
    "Without --with-key, put the deployment secret back by hand (as FILE.key,\n"
    "mode 0600, or where --key points) before starting serve. A PostgreSQL store is restored with\n"
    "pg_restore (docs/operations.md, \"Back up\").\n"
    "Exit status: 0 restored, 1 refused or failed (FILE left as it was), 2 usage.\n";

#define KEY_PATH_MAX 4200

static void print_problem(void *ctx, const char *sentence)
{
    (void)ctx;
    fprintf(stderr, "secondnum restore: %s\n", sentence);
}

/* Open the staged copy and verify it; SN_OK when consistent. */
static int verify_staged(const char *staged, const char *in, sn_verify_report *r)
{
    char err[SN_ERRMSG_MAX];
    sn_store *store = NULL;
    int rc = sn_store_open(staged, NULL, &store, err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_verify(store, r, print_problem, NULL, err, sizeof(err));
    sn_store_close(store);
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum restore: %s is not a sound store: %s\n", in, err);
        return rc;
    }
    if (r->mismatches + r->replay_errors != 0) {
        fprintf(stderr, "secondnum restore: %s is inconsistent (%zu problems): not restored\n", in,
                r->mismatches + r->replay_errors);
        return SN_ESTORE;
    }
    return SN_OK;
}

/* The key files of --with-key: from IN.key to KEY (or $SECONDNUM_KEY, or
 * FILE.key), checked first. */
static int check_key_copy(const char *in, const char *db, const char *key, int force, char *from,
                          char *to)
{
    const char *env = getenv("SECONDNUM_KEY");
    if (key == NULL && env != NULL && env[0] != '\0')
        key = env;
    snprintf(from, KEY_PATH_MAX, "%s.key", in);
    if (key != NULL)
        snprintf(to, KEY_PATH_MAX, "%s", key);
    else
        snprintf(to, KEY_PATH_MAX, "%s.key", db);
    if (access(from, R_OK) != 0) {
        fprintf(stderr, "secondnum restore: no deployment secret to copy at %s\n", from);
        return SN_EXIT_REJECTED;
    }
    if (!force && access(to, F_OK) == 0) {
        fprintf(stderr, "secondnum restore: %s exists: not replaced (--force replaces it)\n", to);
        return SN_EXIT_REJECTED;
    }
    return SN_EXIT_OK;
}

int sn_cmd_restore(int argc, char **argv)
{
    char err[SN_ERRMSG_MAX], staged[4200], key_from[KEY_PATH_MAX], key_to[KEY_PATH_MAX];
    const char *db = NULL, *key = NULL;
    int force = 0, with_key = 0;
    sn_verify_report r;
    const sn_cli_opt opts[] = {SN_CLI_DB(&db), SN_CLI_FLAG("force", &force),
                               SN_CLI_FLAG("with-key", &with_key), SN_CLI_TEXT("key", &key)};
    int rc = sn_cli_parse("restore", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (optind != argc - 1)
        return sn_cli_usage_error("restore", "expected one IN file after the options");
    const char *in = argv[optind];
    if (with_key && !sn_store_is_url(db) &&
        (rc = check_key_copy(in, db, key, force, key_from, key_to)) != SN_EXIT_OK)
        return rc;
    if (sn_store_restore_stage(in, db, force, staged, sizeof(staged), err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum restore: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    if (verify_staged(staged, in, &r) != SN_OK) {
        sn_store_restore_discard(staged);
        return SN_EXIT_REJECTED;
    }
    if (sn_store_restore_install(staged, db, err, sizeof(err)) != SN_OK) {
        sn_store_restore_discard(staged);
        fprintf(stderr, "secondnum restore: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    printf("restored %s to %s: %zu numbers, %zu events, consistent\n", in, db, r.numbers, r.events);
    if (with_key && sn_store_copy_file(key_from, key_to, force, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum restore: the store is restored, but not its secret: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    if (with_key)
        printf("copied the deployment secret to %s\n", key_to);
    return SN_EXIT_OK;
}
