/*
 * cmd_apps.c - `secondnum apps`: which OAuth 2.0 clients act for which app
 * (service/apps.h). serve takes a change within a second.
 */
#include "cli/cli.h"

#include "auth/apikey.h"
#include "core/errors.h"
#include "service/apps.h"

#include <string.h>

static const char usage[] =
    "usage: secondnum apps oauth --db FILE [--create] --app NAME --client-id ID\n"
    "       secondnum apps oauth --db FILE --client-id ID --remove\n"
    "       secondnum apps oauth --db FILE --list\n"
    "\n"
    "Map an OAuth 2.0 client to an app: the access tokens whose client_id (or\n"
    "azp) is ID then act for app NAME on the check routes, as the app's API key\n"
    "(the live app key of that name with the lowest id: its rate limits, its\n"
    "metrics); serve needs its OAuth options (secondnum serve --help).\n"
    "A client acts for one app (mapping it again moves it); an app may have\n"
    "several clients. A running serve takes a change within a second.\n"
    "\n"
    "  --app NAME         the app (the name of its app keys)\n"
    "  --client-id ID     the client: 1 to 128 printable characters, no space\n"
    "  --remove           remove the client's mapping\n"
    "  --list             print every mapping: client id, app\n"
    "\n"
    "Exit status: 0 done, 1 failed (a client to remove that has no mapping), 2 usage.\n";

typedef struct {
    const char *db, *app, *client;
    int create, remove, list;
} apps_args;

/* The command line into a; -1 after --help, else an exit code. */
static int parse(int argc, char **argv, apps_args *a)
{
    const sn_cli_opt opts[] = {SN_CLI_DB(&a->db),
                               SN_CLI_CREATE(&a->create),
                               SN_CLI_TEXT("app", &a->app),
                               SN_CLI_TEXT("client-id", &a->client),
                               SN_CLI_FLAG("remove", &a->remove),
                               SN_CLI_FLAG("list", &a->list)};
    int rc = sn_cli_parse("apps", argc, argv, 2, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc;
    if (optind != argc)
        return sn_cli_usage_error("apps", "unexpected argument '%s'", argv[optind]);
    if (a->list + a->remove + (a->app != NULL) != 1)
        return sn_cli_usage_error("apps", "oauth takes one of --app, --remove and --list");
    if (a->list && a->client != NULL)
        return sn_cli_usage_error("apps", "--list takes no --client-id");
    if (!a->list && (a->client == NULL || !sn_oauth_client_id_valid(a->client)))
        return sn_cli_usage_error("apps",
                                  "--client-id must be 1 to %d printable characters, no space",
                                  SN_OAUTH_CLIENT_ID_MAX);
    if (a->app != NULL && !sn_name_valid(a->app))
        return sn_cli_usage_error("apps", "--app must be a valid app name");
    return SN_EXIT_OK;
}

static int print_client(void *ctx, const sn_oauth_client *c)
{
    (void)ctx;
    printf("%s\t%s\n", c->client, c->app);
    return 0;
}

int sn_cmd_apps(int argc, char **argv)
{
    apps_args a = {NULL, NULL, NULL, 0, 0, 0};
    const char *action = argc > 1 ? argv[1] : "";
    sn_store *s = NULL;
    char err[SN_ERRMSG_MAX];
    int rc;
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return fputs(usage, stdout), SN_EXIT_OK;
    if (strcmp(action, "oauth") != 0)
        return sn_cli_usage_error("apps", "expected oauth");
    if ((rc = parse(argc, argv, &a)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (sn_cli_open_store("apps", a.db, NULL, a.create, &s) != SN_OK)
        return SN_EXIT_REJECTED;
    if (a.list) {
        printf("client_id\tapp\n");
        rc = sn_store_list_oauth_clients(s, print_client, NULL, err, sizeof(err));
    } else if (a.remove) {
        if ((rc = sn_apps_unmap_client(s, a.client, err, sizeof(err))) == SN_OK)
            printf("client %s removed\n", a.client);
    } else if ((rc = sn_apps_map_client(s, a.client, a.app, err, sizeof(err))) == SN_OK) {
        printf("client %s acts for app %s\n", a.client, a.app);
    }
    if (rc != SN_OK)
        fprintf(stderr, "secondnum apps: %s\n", err);
    sn_store_close(s);
    return rc == SN_OK ? SN_EXIT_OK : SN_EXIT_REJECTED;
}
