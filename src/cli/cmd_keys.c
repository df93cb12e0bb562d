/*
 * cmd_keys.c - `secondnum keys` and `secondnum carriers`: manage API keys and
 * the number ranges carriers own. Thin layers over the store.
 */
#include "cli/cli.h"

#include "auth/apikey.h"
#include "core/errors.h"
#include "store/keys.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char keys_usage[] =
    "usage: secondnum keys create --db FILE --role app|carrier|admin --name NAME [--carrier NAME]\n"
    "       secondnum keys list   --db FILE\n"
    "       secondnum keys revoke --db FILE ID\n"
    "\n"
    "API keys for the HTTP API. 'create' prints the new key alone on the first line\n"
    "of standard output; only its hash is stored, so it cannot be shown again.\n"
    "A carrier key needs --carrier (created when absent). A revoked key stops\n"
    "working on a running server within a second.\n"
    "Exit status: 0 done, 1 failed (no such key), 2 usage.\n";

static const char carriers_usage[] =
    "usage: secondnum carriers add  --db FILE --name NAME --range PREFIX [--range PREFIX ...]\n"
    "       secondnum carriers list --db FILE\n"
    "\n"
    "Carriers and the number ranges they own: an E.164 prefix such as +86138.\n"
    "A carrier may report events only for numbers in its ranges, or ported to it.\n"
    "Exit status: 0 done, 1 failed, 2 usage.\n";

typedef struct {
    const char *db, *role, *name, *carrier;
    const char *ranges[64];
    size_t nranges;
} admin_args;

static int parse(const char *cmd, int argc, char **argv, admin_args *a, const char *usage)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"role", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'},    {"carrier", required_argument, NULL, 'c'},
        {"range", required_argument, NULL, 'g'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(a, 0, sizeof(*a));
    optind = 2; /* argv[0] is the command, argv[1] the action */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': a->db = optarg; break;
        case 'r': a->role = optarg; break;
        case 'n': a->name = optarg; break;
        case 'c': a->carrier = optarg; break;
        case 'g':
            if (a->nranges == sizeof(a->ranges) / sizeof(a->ranges[0]))
                return sn_cli_usage_error(cmd, "at most 64 --range flags");
            a->ranges[a->nranges++] = optarg;
            break;
        case 'h': fputs(usage, stdout); return -1;
        default: return sn_cli_usage_error(cmd, "unknown option");
        }
    }
    if (a->db == NULL)
        return sn_cli_usage_error(cmd, "--db FILE is required");
    return SN_EXIT_OK;
}


static int print_key(void *ctx, const sn_api_key *k)
{
    (void)ctx;
    printf("%u\t%s\t%s\t%u\t%s\n", k->id, sn_role_name(k->role), k->name, k->carrier,
           k->revoked ? "revoked" : "live");
    return 0;
}

static int keys_create(sn_store *s, const admin_args *a)
{
    char err[SN_ERRMSG_MAX], text[SN_KEY_TEXT_LEN + 1];
    sn_api_key k;
    uint32_t id;
    memset(&k, 0, sizeof(k));
    k.role = (uint8_t)sn_role_parse(a->role);
    snprintf(k.name, sizeof(k.name), "%s", a->name);
    if (k.role == SN_ROLE_CARRIER &&
        sn_store_carrier_id(s, a->carrier, 1, &k.carrier, err, sizeof(err)) != SN_OK)
        goto fail;
    sn_apikey_generate(text, k.hash);
    if (sn_store_add_key(s, &k, &id, err, sizeof(err)) != SN_OK)
        goto fail;
    printf("%s\n", text);
    fprintf(stderr, "key %u (%s, %s) created; it is shown only now\n", id, a->role, a->name);
    return SN_EXIT_OK;
fail:
    fprintf(stderr, "secondnum keys: %s\n", err);
    return SN_EXIT_REJECTED;
}

int sn_cmd_keys(int argc, char **argv)
{
    const char *action = argc > 1 ? argv[1] : "";
    admin_args a;
    sn_store *s = NULL;
    char err[SN_ERRMSG_MAX];
    long id = 0;
    int rc, found = 0;

    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return fputs(keys_usage, stdout), SN_EXIT_OK;
    if (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "revoke"))
        return sn_cli_usage_error("keys", "expected create, list or revoke");
    if ((rc = parse("keys", argc, argv, &a, keys_usage)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (strcmp(action, "create") == 0) {
        if (optind != argc || a.role == NULL || sn_role_parse(a.role) == SN_ROLE_NONE)
            return sn_cli_usage_error("keys", "create needs --role app, carrier or admin");
        if (a.name == NULL || !sn_name_valid(a.name))
            return sn_cli_usage_error("keys", "create needs --name (1-64 printable characters)");
        if ((sn_role_parse(a.role) == SN_ROLE_CARRIER) != (a.carrier != NULL))
            return sn_cli_usage_error("keys", "--carrier is required for, and only for, carrier keys");
        if (a.carrier != NULL && !sn_name_valid(a.carrier))
            return sn_cli_usage_error("keys", "--carrier must be 1-64 printable characters");
    } else if (strcmp(action, "revoke") == 0) {
        if (optind != argc - 1 || sn_cli_parse_long(argv[optind], 1, UINT32_MAX, &id) != 0)
            return sn_cli_usage_error("keys", "revoke needs the key's ID (see 'keys list')");
    } else if (optind != argc) {
        return sn_cli_usage_error("keys", "list takes no arguments");
    }
    if (sn_cli_open_store("keys", a.db, NULL, &s) != SN_OK)
        return SN_EXIT_REJECTED;
    if (strcmp(action, "create") == 0) {
        rc = keys_create(s, &a);
    } else if (strcmp(action, "list") == 0) {
        printf("id\trole\tname\tcarrier\tstate\n");
        rc = sn_store_list_keys(s, print_key, NULL, err, sizeof(err)) == SN_OK ? SN_EXIT_OK
                                                                            : SN_EXIT_REJECTED;
    } else {
        rc = sn_store_revoke_key(s, (uint32_t)id, &found, err, sizeof(err)) == SN_OK && found
                 ? SN_EXIT_OK
                 : SN_EXIT_REJECTED;
        if (rc != SN_EXIT_OK)
            fprintf(stderr, "secondnum keys: %s\n", found ? err : "no such key");
        else
            fprintf(stderr, "key %ld revoked\n", id);
    }
    sn_store_close(s);
    return rc;
}


static int print_range(void *ctx, const sn_range *r)
{
    uint32_t carrier = r->carrier;
    const char *name = r->name, *prefix = r->prefix[0] != '\0' ? r->prefix : NULL;
    (void)ctx;
    printf("%u\t%s\t%s\n", carrier, name, prefix ? prefix : "");
    return 0;
}

int sn_cmd_carriers(int argc, char **argv)
{
    const char *action = argc > 1 ? argv[1] : "";
    admin_args a;
    sn_store *s = NULL;
    char err[SN_ERRMSG_MAX];
    uint32_t id;
    int rc;

    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return fputs(carriers_usage, stdout), SN_EXIT_OK;
    if (strcmp(action, "add") && strcmp(action, "list"))
        return sn_cli_usage_error("carriers", "expected add or list");
    if ((rc = parse("carriers", argc, argv, &a, carriers_usage)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (optind != argc)
        return sn_cli_usage_error("carriers", "unexpected argument '%s'", argv[optind]);
    if (strcmp(action, "add") == 0) {
        if (a.name == NULL || !sn_name_valid(a.name) || a.nranges == 0)
            return sn_cli_usage_error("carriers", "add needs --name and at least one --range");
        for (size_t i = 0; i < a.nranges; i++)
            if (!sn_number_prefix_valid(a.ranges[i]))
                return sn_cli_usage_error("carriers", "range '%s' is not an E.164 prefix like +86138",
                                          a.ranges[i]);
    }
    if (sn_cli_open_store("carriers", a.db, NULL, &s) != SN_OK)
        return SN_EXIT_REJECTED;
    rc = SN_EXIT_OK;
    if (strcmp(action, "list") == 0) {
        printf("id\tname\trange\n");
        if (sn_store_list_ranges(s, print_range, NULL, err, sizeof(err)) != SN_OK)
            rc = SN_EXIT_REJECTED;
    } else if (sn_store_begin(s, err, sizeof(err)) != SN_OK ||
               sn_store_carrier_id(s, a.name, 1, &id, err, sizeof(err)) != SN_OK) {
        rc = SN_EXIT_REJECTED;
    } else {
        for (size_t i = 0; i < a.nranges && rc == SN_EXIT_OK; i++)
            if (sn_store_add_range(s, id, a.ranges[i], err, sizeof(err)) != SN_OK)
                rc = SN_EXIT_REJECTED;
        if (rc == SN_EXIT_OK && sn_store_commit(s, err, sizeof(err)) != SN_OK)
            rc = SN_EXIT_REJECTED;
        if (rc == SN_EXIT_OK)
            printf("carrier %s (%u): %zu range(s) added\n", a.name, id, a.nranges);
    }
    if (rc != SN_EXIT_OK)
        fprintf(stderr, "secondnum carriers: %s\n", err);
    sn_store_close(s);
    return rc;
}
