/*
 * cmd_verify.c - `secondnum verify`: prove a store is consistent.
 *
 * The proof is the service's (service/verify.h); this prints it.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "service/verify.h"

#include <string.h>

static const char usage[] =
    "usage: secondnum verify --db FILE\n"
    "\n"
    "Check a store: the database's own integrity check, then every number's state\n"
    "against a replay of its event log. Prints the numbers and events checked.\n"
    "Exit status: 0 consistent, 1 inconsistent or unreadable, 2 usage.\n";

static void print_problem(void *ctx, const char *sentence)
{
    (void)ctx;
    fprintf(stderr, "%s\n", sentence);
}

int sn_cmd_verify(int argc, char **argv)
{
    sn_verify_report r;
    sn_store *store = NULL;
    char err[SN_ERRMSG_MAX];
    const char *db = NULL;
    const sn_cli_opt opts[] = {SN_CLI_DB(&db)};
    int rc = sn_cli_parse("verify", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (optind != argc)
        return sn_cli_usage_error("verify", "expected --db FILE and nothing else");
    if (sn_cli_open_store("verify", db, NULL, 0, &store) != SN_OK)
        return SN_EXIT_REJECTED;
    rc = sn_verify(store, &r, print_problem, NULL, err, sizeof(err));
    sn_store_close(store);
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum verify: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    printf("%zu numbers, %zu events: %s\n", r.numbers, r.events,
           r.mismatches + r.replay_errors == 0 ? "consistent" : "INCONSISTENT");
    return r.mismatches + r.replay_errors == 0 ? SN_EXIT_OK : SN_EXIT_REJECTED;
}
