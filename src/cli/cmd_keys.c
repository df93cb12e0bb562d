/*
 * cmd_keys.c - `secondnum keys`: create, list and revoke API keys
 * (service/keys.h).
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "service/keys.h"

#include <string.h>

static const char usage[] =
    "usage: secondnum keys create --db FILE [--create] --role app|carrier|admin --name NAME\n"
    "                             [--carrier NAME] [--rate N/s] [--daily N]\n"
    "       secondnum keys list   --db FILE\n"
    "       secondnum keys revoke --db FILE ID\n"
    "\n"
    "API keys for the HTTP API. 'create' prints the new key alone on the first line\n"
    "of standard output; only its hash is stored, so it cannot be shown again.\n"
    "'list' prints id, role, name, carrier (a carrier key's; - for the others),\n"
    "state, rate and daily, tab-separated after a header line.\n"
    "A carrier key needs --carrier (created when absent). A revoked key stops\n"
    "working on a running server within a second.\n"
    "  --rate N/s   numbers the key may check a second (1 to 100000000; a batch\n"
    "               counts its items); default: the server's (serve --check-rate)\n"
    "  --daily N    numbers it may check a day on each server (1 to\n"
    "               1000000000000); default: the server's (serve --check-daily)\n"
    "Exit status: 0 done, 1 failed (no such key), 2 usage.\n";

typedef struct {
    const char *action, *db, *role, *name, *carrier;
    long id, rate, daily; /* rate and daily: 0 when not given */
    int create;
} keys_args;

static int rate_flag(const char *cmd, const char *v, void *dst)
{
    if (sn_cli_parse_rate(v, SN_CHECK_RATE_MAX, dst) != 0)
        return sn_cli_usage_error(cmd, "--rate must be N/s, N from 1 to %d (numbers a second)",
                                  SN_CHECK_RATE_MAX);
    return 0;
}

/* The options after the action; -1 after --help, else an exit code. */
static int parse(int argc, char **argv, keys_args *a)
{
    const sn_cli_opt opts[] = {
        SN_CLI_DB(&a->db),
        SN_CLI_CREATE(&a->create),
        SN_CLI_TEXT("role", &a->role),
        SN_CLI_TEXT("name", &a->name),
        SN_CLI_TEXT("carrier", &a->carrier),
        SN_CLI_FN("rate", rate_flag, &a->rate),
        SN_CLI_LONG("daily", &a->daily, 1, SN_CHECK_DAILY_MAX,
                    "--daily must be %ld to %ld (numbers a day)"),
    };
    return sn_cli_parse("keys", argc, argv, 2, opts, SN_CLI_N(opts), usage);
}

/* What each action needs beside --db. */
static int check_args(int argc, char **argv, keys_args *a)
{
    if (strcmp(a->action, "create") != 0 && (a->rate != 0 || a->daily != 0))
        return sn_cli_usage_error("keys", "--rate and --daily are for create");
    if (strcmp(a->action, "revoke") == 0) {
        if (optind != argc - 1 || sn_cli_parse_long(argv[optind], 1, UINT32_MAX, &a->id) != 0)
            return sn_cli_usage_error("keys", "revoke needs the key's ID (see 'keys list')");
        return SN_EXIT_OK;
    }
    if (optind != argc)
        return sn_cli_usage_error("keys", "unexpected argument '%s'", argv[optind]);
    if (strcmp(a->action, "list") == 0)
        return SN_EXIT_OK;
    if (a->role == NULL || sn_role_parse(a->role) == SN_ROLE_NONE)
        return sn_cli_usage_error("keys", "create needs --role app, carrier or admin");
    if (a->name == NULL || !sn_name_valid(a->name))
        return sn_cli_usage_error("keys", "create needs --name (1-64 printable characters)");
    if ((sn_role_parse(a->role) == SN_ROLE_CARRIER) != (a->carrier != NULL))
        return sn_cli_usage_error("keys", "--carrier is required for, and only for, carrier keys");
    if (a->carrier != NULL && !sn_name_valid(a->carrier))
        return sn_cli_usage_error("keys", "--carrier must be 1-64 printable characters");
    return SN_EXIT_OK;
}

/* One row; the carrier column names a carrier key's carrier, "-" for the
 * keys of other roles. */
static int print_key(void *ctx, const sn_api_key *k, const char *carrier)
{
    char rate[24] = "default", daily[24] = "default";
    (void)ctx;
    if (k->rate_per_s != 0)
        snprintf(rate, sizeof(rate), "%u/s", k->rate_per_s);
    if (k->rate_per_day != 0)
        snprintf(daily, sizeof(daily), "%llu", (unsigned long long)k->rate_per_day);
    printf("%u\t%s\t%s\t%s\t%s\t%s\t%s\n", k->id, sn_role_name(k->role), k->name,
           carrier != NULL && k->role == SN_ROLE_CARRIER ? carrier : "-",
           k->revoked ? "revoked" : "live", rate, daily);
    return 0;
}

static int run(sn_store *s, const keys_args *a, char *err, size_t errlen)
{
    sn_new_key nk;
    int rc;
    if (strcmp(a->action, "list") == 0) {
        printf("id\trole\tname\tcarrier\tstate\trate\tdaily\n");
        return sn_keys_list(s, print_key, NULL, err, errlen);
    }
    if (strcmp(a->action, "revoke") == 0) {
        if ((rc = sn_keys_revoke(NULL, s, (uint64_t)a->id, err, errlen)) == SN_OK)
            fprintf(stderr, "key %ld revoked\n", a->id);
        return rc;
    }
    rc = sn_keys_create(NULL, s, sn_role_parse(a->role), a->name, a->carrier, (uint32_t)a->rate,
                        (uint64_t)a->daily, &nk, err, errlen);
    if (rc == SN_OK) {
        printf("%s\n", nk.text);
        fprintf(stderr, "key %u (%s, %s) created; it is shown only now\n", nk.key.id, a->role,
                a->name);
    }
    return rc;
}

int sn_cmd_keys(int argc, char **argv)
{
    keys_args a = {argc > 1 ? argv[1] : "", NULL, NULL, NULL, NULL, 0, 0, 0, 0};
    sn_store *s = NULL;
    char err[SN_ERRMSG_MAX];
    int rc;
    if (strcmp(a.action, "--help") == 0 || strcmp(a.action, "-h") == 0)
        return fputs(usage, stdout), SN_EXIT_OK;
    if (strcmp(a.action, "create") && strcmp(a.action, "list") && strcmp(a.action, "revoke"))
        return sn_cli_usage_error("keys", "expected create, list or revoke");
    if ((rc = parse(argc, argv, &a)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if ((rc = check_args(argc, argv, &a)) != SN_EXIT_OK)
        return rc;
    if (sn_cli_open_store("keys", a.db, NULL, a.create, &s) != SN_OK)
        return SN_EXIT_REJECTED;
    rc = run(s, &a, err, sizeof(err));
    if (rc != SN_OK)
        fprintf(stderr, "secondnum keys: %s\n", err);
    sn_store_close(s);
    return rc == SN_OK ? SN_EXIT_OK : SN_EXIT_REJECTED;
}
