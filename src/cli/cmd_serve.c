/*
 * cmd_serve.c - `secondnum serve`: load the serving index from the store and
 * run the HTTP API until SIGTERM.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "follow/follower.h"
#include "http/server.h"
#include "http/subscriber.h"
#include "http/writer.h"
#include "notice/deliverer.h"
#include "notice/notifier.h"
#include "util/grow.h"
#include "store/log.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern const char sn_openapi_yaml[];
extern const size_t sn_openapi_yaml_len;

static const char usage[] =
    "usage: secondnum serve --db FILE [--listen HOST:PORT] [--threads N] [--key FILE]\n"
    "                       [--notice-deadline DAYS] [--retry-budget SECONDS]\n"
    "                       [--retry-base-ms MS] [subscriber options]\n"
    "\n"
    "Serve the HTTP API (docs/http-api.md; GET /openapi.yaml describes it) until\n"
    "SIGTERM or SIGINT, then finish the requests in flight and exit.\n"
    "\n"
    "  --db FILE          the store (created with the defaults when absent)\n"
    "  --listen HOST:PORT address to listen on (default 127.0.0.1:8080)\n"
    "  --threads N        event-loop threads (default: one per core)\n"
    "  --key FILE         the store's secret file, for id6 in carrier events and\n"
    "                     account hashes (default $SECONDNUM_KEY, else FILE.key;\n"
    "                     created when absent; every node of a PostgreSQL store\n"
    "                     needs the same one)\n"
    "  --notice-deadline DAYS  deadline of notices to apps, from their issue\n"
    "                     (default 5; decimals allowed)\n"
    "  --retry-budget SECONDS  how long a failing webhook delivery is retried\n"
    "                     before it is dead (default 86400)\n"
    "  --retry-base-ms MS first retry delay, doubled per attempt up to an hour,\n"
    "                     with jitter (default 1000)\n"
    "\n"
    "Subscriber self-service (sign-in by SMS code and ID digits, the web portal):\n"
    "  --sms DRIVER       outbox (default: messages stay in the store, read them\n"
    "                     with `secondnum sms outbox`) or kannel\n"
    "  --sms-config FILE  gateway settings, `key = value` lines: driver, url (the\n"
    "                     Kannel sendsms URL), user, password, from, max_attempts\n"
    "  --otp-ttl SECONDS  lifetime of a sign-in code (default 300)\n"
    "  --lockout SECONDS  lock after 5 wrong answers to a code (default 900)\n"
    "  --otp-per-number N, --otp-per-address N, --signin-per-address N\n"
    "                     hourly limits (defaults 5, 20, 30)\n"
    "  --session-ttl SECONDS  subscriber session lifetime (default 900)\n"
    "  --complaint-deadline DAYS  time each desk has to answer a complaint\n"
    "                     before it escalates (default 5; decimals allowed)\n"
    "  --client-ip-header NAME  take the client address from this header (set\n"
    "                     by a trusted proxy) for the per-address limits\n"
    "\n"
    "Exit status: 0 after a clean shutdown, 1 startup failed (port in use, bad\n"
    "store), 2 usage.\n";

typedef struct {
    sn_number_state *v;
    size_t n, cap;
} state_list;

static int collect_state(void *ctx, const sn_number_state *st)
{
    state_list *l = ctx;
    sn_number_state *v = sn_grow(l->v, &l->cap, l->n, sizeof(*v), 65536);
    if (v == NULL)
        return SN_ENOMEM;
    l->v = v;
    l->v[l->n++] = *st;
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void announce(void *arg)
{
    const sn_server_options *o = arg;
    fprintf(stderr, "secondnum serve: listening on http://%s with %u thread(s)\n", o->listen,
            o->threads);
}

/* Build the index and keyring from the store; the handle is closed after.
 * A store other nodes may write to gets its follower (svc->follower) opened
 * first: it reads where the changes stand before the index does. */
static int load(const char *db, sn_service *svc, char *err, size_t errlen)
{
    struct timespec t0;
    sn_store *store = NULL;
    int rc;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = sn_cli_open_store("serve", db, NULL, &store)) != SN_OK)
        return sn_fail(err, errlen, rc, "cannot open the store");
    svc->rules = *sn_store_rules(store);
    if (sn_store_can_follow(store) &&
        (rc = sn_follower_open(db, svc->index, &svc->follower, err, errlen)) != SN_OK) {
        sn_store_close(store);
        return rc;
    }
    state_list states = {NULL, 0, 0};
    rc = sn_store_scan_states(store, collect_state, &states, err, errlen);
    if (rc == SN_OK)
        rc = sn_numindex_load(svc->index, states.v, states.n);
    free(states.v);
    if (rc == SN_ENOMEM)
        sn_fail(err, errlen, rc, "out of memory building the index");
    else if (rc == SN_ELIMIT)
        sn_fail(err, errlen, rc, "a number's dates are outside 1900-4770");
    if (rc == SN_OK)
        rc = sn_keyring_load(svc->keys, store, err, errlen);
    sn_store_close(store);
    if (rc == SN_OK)
        fprintf(stderr, "secondnum serve: %zu numbers indexed in %.2f s\n",
                sn_numindex_count(svc->index), seconds_since(&t0));
    return rc;
}

enum {
    OPT_SMS = 256,
    OPT_SMS_CONFIG,
    OPT_OTP_TTL,
    OPT_LOCKOUT,
    OPT_PER_NUMBER,
    OPT_PER_ADDRESS,
    OPT_SIGNIN_PER_ADDRESS,
    OPT_SESSION_TTL,
    OPT_COMPLAINT_DEADLINE,
    OPT_CLIENT_IP_HEADER,
};

/* A subscriber option of serve; 0, or the usage error's exit code. */
static int subscriber_option(int c, const char *arg, sn_subscribers *sub)
{
    char err[SN_ERRMSG_MAX];
    long v;
    switch (c) {
    case OPT_SMS:
        if ((sub->sms.driver = sn_sms_driver_parse(arg)) < 0)
            return sn_cli_usage_error("serve", "--sms must be outbox or kannel");
        return 0;
    case OPT_SMS_CONFIG:
        if (sn_sms_config_load(arg, &sub->sms, err, sizeof(err)) != SN_OK)
            return sn_cli_usage_error("serve", "--sms-config: %s", err);
        return 0;
    case OPT_OTP_TTL:
    case OPT_LOCKOUT:
    case OPT_SESSION_TTL:
        if (sn_cli_parse_long(arg, 1, 86400, &v) != 0)
            return sn_cli_usage_error("serve", "durations must be 1-86400 seconds");
        *(c == OPT_OTP_TTL ? &sub->opt.otp_ttl_s
          : c == OPT_LOCKOUT ? &sub->opt.lockout_s
                             : &sub->opt.session_ttl_s) = v;
        return 0;
    case OPT_PER_NUMBER:
    case OPT_PER_ADDRESS:
    case OPT_SIGNIN_PER_ADDRESS:
        if (sn_cli_parse_long(arg, 1, 1000000, &v) != 0)
            return sn_cli_usage_error("serve", "hourly limits must be 1-1000000");
        *(c == OPT_PER_NUMBER    ? &sub->opt.otp_per_number
          : c == OPT_PER_ADDRESS ? &sub->opt.otp_per_address
                                 : &sub->opt.signin_per_address) = (uint32_t)v;
        return 0;
    case OPT_COMPLAINT_DEADLINE:
        if (sn_cli_parse_days(arg, &sub->opt.complaint_period_s) != 0 ||
            sub->opt.complaint_period_s < 1)
            return sn_cli_usage_error("serve", "--complaint-deadline must be 1 second to 3650 days");
        return 0;
    case OPT_CLIENT_IP_HEADER:
        if (arg[0] == '\0' || strlen(arg) >= sizeof(sub->opt.client_ip_header))
            return sn_cli_usage_error("serve", "--client-ip-header must be a header name");
        for (size_t i = 0; arg[i] != '\0'; i++) /* h2o keeps header names in lowercase */
            sub->opt.client_ip_header[i] = (char)tolower((unsigned char)arg[i]);
        return 0;
    default: return sn_cli_usage_error("serve", "unknown option");
    }
}

int sn_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"notice-deadline", required_argument, NULL, 'n'},
        {"retry-budget", required_argument, NULL, 'b'},
        {"retry-base-ms", required_argument, NULL, 'r'},
        {"sms", required_argument, NULL, OPT_SMS},
        {"sms-config", required_argument, NULL, OPT_SMS_CONFIG},
        {"otp-ttl", required_argument, NULL, OPT_OTP_TTL},
        {"lockout", required_argument, NULL, OPT_LOCKOUT},
        {"otp-per-number", required_argument, NULL, OPT_PER_NUMBER},
        {"otp-per-address", required_argument, NULL, OPT_PER_ADDRESS},
        {"signin-per-address", required_argument, NULL, OPT_SIGNIN_PER_ADDRESS},
        {"session-ttl", required_argument, NULL, OPT_SESSION_TTL},
        {"complaint-deadline", required_argument, NULL, OPT_COMPLAINT_DEADLINE},
        {"client-ip-header", required_argument, NULL, OPT_CLIENT_IP_HEADER},
        {NULL, 0, NULL, 0},
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    sn_server_options o = {"127.0.0.1:8080", cores > 0 ? (unsigned)cores : 1};
    const char *db = NULL, *key_path = NULL;
    sn_service svc;
    sn_secret secret;
    sn_deliverer_options dopt;
    sn_subscribers subscribers;
    sn_sms_sender *sms = NULL;
    int64_t deadline_s = SN_DEFAULT_NOTICE_DEADLINE_S;
    char err[SN_ERRMSG_MAX];
    long v;
    int c, rc = SN_EXIT_REJECTED;

    sn_deliverer_defaults(&dopt);
    memset(&subscribers, 0, sizeof(subscribers));
    sn_subscriber_defaults(&subscribers.opt);
    sn_sms_defaults(&subscribers.sms);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': o.listen = optarg; break;
        case 'k': key_path = optarg; break;
        case 't':
            if (sn_cli_parse_long(optarg, 1, 256, &v) != 0)
                return sn_cli_usage_error("serve", "--threads must be 1-256");
            o.threads = (unsigned)v;
            break;
        case 'n':
            if (sn_cli_parse_days(optarg, &deadline_s) != 0)
                return sn_cli_usage_error("serve", "--notice-deadline must be 0-3650 days");
            break;
        case 'b':
            if (sn_cli_parse_long(optarg, 0, 30L * 86400, &v) != 0)
                return sn_cli_usage_error("serve", "--retry-budget must be 0-2592000 seconds");
            dopt.retry_budget_ms = (int64_t)v * 1000;
            break;
        case 'r':
            if (sn_cli_parse_long(optarg, 1, 3600L * 1000, &v) != 0)
                return sn_cli_usage_error("serve", "--retry-base-ms must be 1-3600000");
            dopt.retry_base_ms = v;
            break;
        case 'h': fputs(usage, stdout); return SN_EXIT_OK;
        default:
            if ((v = subscriber_option(c, optarg, &subscribers)) != 0)
                return (int)v;
        }
    }
    if (db == NULL)
        return sn_cli_usage_error("serve", "--db FILE is required");
    if (optind != argc)
        return sn_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (subscribers.sms.driver == SN_SMS_DRIVER_KANNEL && subscribers.sms.kannel_url[0] == '\0')
        return sn_cli_usage_error("serve", "--sms kannel needs --sms-config with a url");
    memset(&svc, 0, sizeof(svc));
    svc.openapi = sn_openapi_yaml;
    svc.openapi_len = sn_openapi_yaml_len;
    svc.index = sn_numindex_new();
    svc.keys = sn_keyring_new();
    if (svc.index == NULL || svc.keys == NULL) {
        fprintf(stderr, "secondnum serve: out of memory\n");
        goto out;
    }
    if (load(db, &svc, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum serve: %s\n", err);
        goto out;
    }
    int have = sn_cli_load_secret("serve", db, key_path, 1, &secret);
    if (have < 0)
        goto out;
    svc.secret = have ? &secret : NULL;
    svc.notice_deadline_s = deadline_s;
    svc.subscribers = &subscribers;
    if ((svc.follower != NULL && sn_follower_start(svc.follower, err, sizeof(err)) != SN_OK) ||
        sn_deliverer_start(db, &dopt, &svc.deliverer, err, sizeof(err)) != SN_OK ||
        sn_sms_sender_start(db, &subscribers.sms, &sms, err, sizeof(err)) != SN_OK ||
        sn_writer_start(db, &svc, &svc.writer, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum serve: %s\n", err);
        goto out;
    }
    if (sn_server_run(&o, &svc, announce, &o, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum serve: %s\n", err);
        goto out;
    }
    fprintf(stderr, "secondnum serve: stopped\n");
    rc = SN_EXIT_OK;
out:
    sn_sms_sender_stop(sms);
    sn_deliverer_stop(svc.deliverer);
    sn_follower_stop(svc.follower); /* the writer, which calls it, has stopped */
    sn_numindex_free(svc.index);
    sn_keyring_free(svc.keys);
    return rc;
}
