/*
 * cmd_backup.c - `secondnum backup`: a consistent copy of a SQLite store
 * while it is being written (store.h, "Backups"), and, on request, of its
 * deployment secret beside it. A thin layer over sn_store_backup.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "util/clock.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: secondnum backup --db FILE [--force] [--with-key [--key KEY]] OUT\n"
    "\n"
    "Copy the SQLite store FILE to OUT while serve (or an import) keeps writing\n"
    "it: OUT holds exactly what was committed when the backup began, and the\n"
    "writers are not stopped (SQLite's online backup API, 1024 pages a step).\n"
    "OUT is written beside itself, fsynced and renamed into place, mode 0600;\n"
    "it is a store of its own: `secondnum verify --db OUT` checks it and\n"
    "`secondnum restore` puts it back. A store another process holds\n"
    "exclusively (serve never does) is waited for up to 10 s.\n"
    "\n"
    "  --db FILE    the store\n"
    "  --force      replace OUT (and OUT.key) if it exists; else it is refused\n"
    "  --with-key   also copy the deployment secret to OUT.key (mode 0600)\n"
    "  --key KEY    where that secret is (default $SECONDNUM_KEY, else FILE.key)\n"
    "\n"
    "The deployment secret is not in OUT. Without the secret a restored store\n"
    "cannot check ID hashes nor sign webhooks: back FILE.key up too, apart\n"
    "from OUT (or here, with --with-key, then keep OUT.key as safe as the key).\n"
    "A PostgreSQL store is backed up with pg_dump or pg_basebackup instead\n"
    "(docs/operations.md, \"Back up\").\n"
    "Exit status: 0 written, 1 failed (OUT left as it was), 2 usage.\n";

#define KEY_PATH_MAX 4200

/* The key files of --with-key: from KEY (or $SECONDNUM_KEY, or FILE.key)
 * to OUT.key, checked before anything is written. */
static int check_key_copy(const char *db, const char *key, const char *out, int force, char *from,
                          char *to)
{
    const char *env = getenv("SECONDNUM_KEY");
    if (key == NULL && env != NULL && env[0] != '\0')
        key = env;
    if (key != NULL)
        snprintf(from, KEY_PATH_MAX, "%s", key);
    else
        snprintf(from, KEY_PATH_MAX, "%s.key", db);
    snprintf(to, KEY_PATH_MAX, "%s.key", out);
    if (access(from, R_OK) != 0) {
        fprintf(stderr, "secondnum backup: no deployment secret to copy at %s\n", from);
        return SN_EXIT_REJECTED;
    }
    if (!force && access(to, F_OK) == 0) {
        fprintf(stderr, "secondnum backup: %s exists: not replaced (--force replaces it)\n", to);
        return SN_EXIT_REJECTED;
    }
    return SN_EXIT_OK;
}

int sn_cmd_backup(int argc, char **argv)
{
    char err[SN_ERRMSG_MAX], key_from[KEY_PATH_MAX], key_to[KEY_PATH_MAX];
    const char *db = NULL, *key = NULL;
    int force = 0, with_key = 0;
    sn_backup_info info;
    const sn_cli_opt opts[] = {SN_CLI_DB(&db), SN_CLI_FLAG("force", &force),
                               SN_CLI_FLAG("with-key", &with_key), SN_CLI_TEXT("key", &key)};
    int rc = sn_cli_parse("backup", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (optind != argc - 1)
        return sn_cli_usage_error("backup", "expected one OUT file after the options");
    const char *out = argv[optind];
    if (with_key && !sn_store_is_url(db) &&
        (rc = check_key_copy(db, key, out, force, key_from, key_to)) != SN_EXIT_OK)
        return rc;
    int64_t t0 = sn_monotonic_ms();
    if (sn_store_backup(db, out, force, &info, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum backup: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    printf("backed up %s to %s: %ld pages in %ld steps, %.2f s\n", db, out, info.pages, info.steps,
           (double)(sn_monotonic_ms() - t0) / 1000.0);
    if (!with_key) {
        printf("the deployment secret (%s%s) is not in it: back it up separately\n",
               key != NULL ? key : db, key != NULL ? "" : ".key");
        return SN_EXIT_OK;
    }
    if (sn_store_copy_file(key_from, key_to, force, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum backup: the store is backed up, but not its secret: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    printf("copied the deployment secret to %s\n", key_to);
    return SN_EXIT_OK;
}
