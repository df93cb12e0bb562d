/*
 * cmd_sms.c - `secondnum sms`: read the text messages secondnum sent or
 * queued for subscribers. `outbox` prints the outbox driver's messages
 * (development and tests read sign-in codes there); `list` shows every
 * message's delivery state (a gateway's texts are erased once sent).
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "service/selfservice.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: secondnum sms outbox --db FILE [--number NUMBER] [--after ID] [--limit N] [--json]\n"
    "       secondnum sms list   --db FILE [--number NUMBER] [--after ID] [--limit N] [--json]\n"
    "\n"
    "Messages to subscribers, oldest first. 'outbox' prints those the outbox\n"
    "driver kept (serve --sms outbox, the default): id, time, number, language\n"
    "and text, tab-separated after a header line, or one JSON object per line\n"
    "with --json. 'list' prints every message with its state (outbox, pending,\n"
    "sent, failed), attempts and last error; texts already handed to a gateway,\n"
    "and those of sign-in codes that were used, replaced or expired, are erased\n"
    "and print empty.\n"
    "Exit status: 0 done, 1 failed, 2 usage.\n";

static const char *const state_names[] = {"pending", "sent", "failed", "outbox"};
static const char *const purpose_names[] = {"", "otp", "report"};

typedef struct {
    int json, list;
    unsigned long count;
} printer;

static void json_text(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int print_message(void *ctx, const sn_sms_msg *m)
{
    printer *p = ctx;
    char number[SN_NUMBER_TEXT_MAX], at[SN_TIME_TEXT_MAX];
    const char *state = m->state <= SN_SMS_OUTBOX ? state_names[m->state] : "?";
    const char *purpose = m->purpose <= SN_SMS_REPORT ? purpose_names[m->purpose] : "?";
    sn_number_format(m->number, number);
    sn_utc_format(m->created, at);
    p->count++;
    if (p->json) {
        printf("{\"id\":%llu,\"number\":\"%s\",\"created_at\":\"%s\",\"lang\":\"%s\","
               "\"purpose\":\"%s\",\"state\":\"%s\",\"attempts\":%u,\"text\":",
               (unsigned long long)m->id, number, at, m->lang, purpose, state, m->attempts);
        json_text(m->text);
        printf(",\"error\":");
        if (m->error[0] != '\0')
            json_text(m->error);
        else
            printf("null");
        printf("}\n");
    } else if (p->list) {
        printf("%llu\t%s\t%s\t%s\t%s\t%u\t%s\n", (unsigned long long)m->id, at, number, purpose,
               state, m->attempts, m->error);
    } else {
        printf("%llu\t%s\t%s\t%s\t%s\n", (unsigned long long)m->id, at, number, m->lang, m->text);
    }
    return 0;
}

typedef struct {
    const char *db, *number;
    long after, limit;
} sms_args;

/* The options after the action; -1 after --help, else an exit code. */
static int parse_args(int argc, char **argv, sms_args *a, printer *p)
{
    const sn_cli_opt opts[] = {
        SN_CLI_DB(&a->db),
        SN_CLI_TEXT("number", &a->number),
        SN_CLI_LONG("after", &a->after, 0, 0x7fffffffffffffffL, "--after must be a message id"),
        SN_CLI_LONG("limit", &a->limit, 1, 1000000, "--limit must be 1-1000000"),
        SN_CLI_FLAG("json", &p->json),
    };
    int rc = sn_cli_parse("sms", argc, argv, 2, opts, SN_CLI_N(opts), usage);
    if (rc == SN_EXIT_OK && optind != argc)
        return sn_cli_usage_error("sms", "unexpected argument '%s'", argv[optind]);
    return rc;
}

int sn_cmd_sms(int argc, char **argv)
{
    sms_args a = {NULL, NULL, 0, 1000000};
    printer p = {0, 0, 0};
    char err[SN_ERRMSG_MAX];
    sn_store *store = NULL;
    sn_number n = 0;
    struct stat sb;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SN_EXIT_USAGE : SN_EXIT_OK;
    }
    if (strcmp(argv[1], "outbox") != 0 && strcmp(argv[1], "list") != 0)
        return sn_cli_usage_error("sms", "unknown action '%s' (outbox or list)", argv[1]);
    p.list = strcmp(argv[1], "list") == 0;
    if ((rc = parse_args(argc, argv, &a, &p)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (strstr(a.db, "://") == NULL && stat(a.db, &sb) != 0) {
        fprintf(stderr, "secondnum sms: no store at %s\n", a.db);
        return SN_EXIT_REJECTED;
    }
    if ((rc = sn_cli_open_store("sms", a.db, NULL, 0, &store)) != SN_OK)
        return SN_EXIT_REJECTED;
    if (a.number != NULL &&
        sn_number_parse(a.number, strlen(a.number), sn_store_rules(store)->default_cc, &n, err,
                        sizeof(err)) != SN_OK) {
        sn_store_close(store);
        return sn_cli_usage_error("sms", "--number: %s", err);
    }
    if (!p.json)
        printf(p.list ? "id\tcreated_at\tnumber\tpurpose\tstate\tattempts\terror\n"
                      : "id\tcreated_at\tnumber\tlang\ttext\n");
    rc = sn_selfservice_messages(store, n, p.list ? -1 : SN_SMS_OUTBOX, (uint64_t)a.after,
                                 (uint32_t)a.limit, print_message, &p, err, sizeof(err));
    sn_store_close(store);
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum sms: %s\n", err);
        return SN_EXIT_REJECTED;
    }
    return SN_EXIT_OK;
}
