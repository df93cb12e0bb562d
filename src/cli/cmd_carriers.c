/*
 * cmd_carriers.c - `secondnum carriers`: the number ranges each carrier
 * owns (service/keys.h).
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "service/keys.h"

#include <string.h>

static const char usage[] =
    "usage: secondnum carriers add  --db FILE [--create] --name NAME --range PREFIX [--range ...]\n"
    "       secondnum carriers list --db FILE\n"
    "\n"
    "Carriers and the number ranges they own: an E.164 prefix such as +86138.\n"
    "A carrier may report events only for numbers in its ranges, or ported to it.\n"
    "Exit status: 0 done, 1 failed, 2 usage.\n";

#define RANGES_MAX 64 /* --range flags at once */

typedef struct {
    const char *action, *db, *name;
    const char *ranges[RANGES_MAX];
    size_t nranges;
    int create;
} carriers_args;

static int add_range(const char *cmd, const char *value, void *dst)
{
    carriers_args *a = dst;
    if (a->nranges == RANGES_MAX)
        return sn_cli_usage_error(cmd, "at most %d --range flags", RANGES_MAX);
    a->ranges[a->nranges++] = value;
    return 0;
}

/* The command line into a; -1 after --help, else an exit code. */
static int parse(int argc, char **argv, carriers_args *a)
{
    const sn_cli_opt opts[] = {SN_CLI_DB(&a->db), SN_CLI_CREATE(&a->create),
                               SN_CLI_TEXT("name", &a->name), SN_CLI_FN("range", add_range, a)};
    int rc = sn_cli_parse("carriers", argc, argv, 2, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc;
    if (optind != argc)
        return sn_cli_usage_error("carriers", "unexpected argument '%s'", argv[optind]);
    if (strcmp(a->action, "add") != 0)
        return SN_EXIT_OK;
    if (a->name == NULL || !sn_name_valid(a->name) || a->nranges == 0)
        return sn_cli_usage_error("carriers", "add needs --name and at least one --range");
    for (size_t i = 0; i < a->nranges; i++)
        if (!sn_number_prefix_valid(a->ranges[i]))
            return sn_cli_usage_error("carriers", "range '%s' is not an E.164 prefix like +86138",
                                      a->ranges[i]);
    return SN_EXIT_OK;
}

static int print_range(void *ctx, const sn_range *r)
{
    (void)ctx;
    printf("%u\t%s\t%s\n", r->carrier, r->name, r->prefix);
    return 0;
}

int sn_cmd_carriers(int argc, char **argv)
{
    carriers_args a = {argc > 1 ? argv[1] : "", NULL, NULL, {NULL}, 0, 0};
    sn_store *s = NULL;
    char err[SN_ERRMSG_MAX];
    uint32_t id;
    int rc;
    if (strcmp(a.action, "--help") == 0 || strcmp(a.action, "-h") == 0)
        return fputs(usage, stdout), SN_EXIT_OK;
    if (strcmp(a.action, "add") && strcmp(a.action, "list"))
        return sn_cli_usage_error("carriers", "expected add or list");
    if ((rc = parse(argc, argv, &a)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (sn_cli_open_store("carriers", a.db, NULL, a.create, &s) != SN_OK)
        return SN_EXIT_REJECTED;
    if (strcmp(a.action, "list") == 0) {
        printf("id\tname\trange\n");
        rc = sn_carriers_list(s, print_range, NULL, err, sizeof(err));
    } else if ((rc = sn_carriers_add(s, a.name, a.ranges, a.nranges, &id, err, sizeof(err))) ==
               SN_OK) {
        printf("carrier %s (%u): %zu range(s) added\n", a.name, id, a.nranges);
    }
    if (rc != SN_OK)
        fprintf(stderr, "secondnum carriers: %s\n", err);
    sn_store_close(s);
    return rc == SN_OK ? SN_EXIT_OK : SN_EXIT_REJECTED;
}
