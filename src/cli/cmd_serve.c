/*
 * cmd_serve.c - `secondnum serve`: load the serving index from the store,
 * start the threads that write, deliver, send SMS and follow other nodes,
 * and run the HTTP API until SIGTERM.
 */
#include "cli/cli.h"

#include "audit/audit.h"
#include "core/errors.h"
#include "delivery/deliverer.h"
#include "follow/follower.h"
#include "index/snapshot.h"
#include "service/snapshots.h"
#include "http/router.h"
#include "http/server.h"
#include "service/checks.h"
#include "service/keys.h"
#include "service/receipts.h"
#include "service/webhooks.h"
#include "service/writer.h"
#include "store/log.h"
#include "util/clock.h"
#include "util/grow.h"
#include "util/notify.h"
#include "util/log.h"
#include "util/reqlog.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: secondnum serve [--config FILE] --db FILE [--create] [--listen HOST:PORT]\n"
    "                       [--follow URL] [--threads N] [--key FILE]\n"
    "                       [--max-connections N]\n"
    "                       [--metrics-listen HOST:PORT]\n"
    "                       [--request-log FILE|-] [--log-level error|warn|info|debug]\n"
    "                       [--notice-deadline DAYS] [--retry-budget SECONDS]\n"
    "                       [--retry-base-ms MS] [--allow-private-webhooks]\n"
    "                       [--camara-window-start YYYY-MM-DD]\n"
    "                       [--index-snapshot PATH|off]\n"
    "                       [--index-snapshot-interval SECONDS]\n"
    "                       [--audit on|off] [--audit-retention-days N]\n"
    "                       [--audit-buffer N]\n"
    "                       [subscriber options] [OAuth options]\n"
    "\n"
    "Serve the HTTP API (docs/http-api.md; GET /openapi.yaml describes it) until\n"
    "SIGTERM or SIGINT, then finish the requests in flight and exit.\n"
    "Under systemd (Type=notify, $NOTIFY_SOCKET) it says READY=1 once the index\n"
    "is loaded and it listens, STOPPING=1 at SIGTERM, and with WatchdogSec= (4 s\n"
    "or more) WATCHDOG=1 every half interval while its writer thread runs.\n"
    "SIGHUP reopens the request log (after logrotate moved it).\n"
    "\n"
    "  --config FILE      read the options from FILE: db and key at its top, the\n"
    "                     others in its [serve] section, named as here without\n"
    "                     \"--\" (flags: true or false); flags given here override\n"
    "                     it (/etc/secondnum/secondnum.conf when installed)\n"
    "  --db FILE          the store (`secondnum init` makes one)\n"
    "  --create           create the store with the defaults when FILE is absent\n"
    "  --follow URL       read other nodes' changes from this PostgreSQL server\n"
    "                     (postgresql:// URL, several hosts allowed, e.g. with\n"
    "                     ?target_session_attrs=prefer-standby), read-only, polled\n"
    "                     every 100 ms: a hot standby; --db (best a multi-host URL\n"
    "                     with target_session_attrs=read-write) takes everything\n"
    "                     else (docs/scaling.md); default: follow through --db\n"
    "  --listen HOST:PORT address to listen on (default 127.0.0.1:8080)\n"
    "  --threads N        event-loop threads (default: one per core)\n"
    "  --max-connections N  connections served at once; more are answered 503\n"
    "                     and closed (default 10000, fewer when the open-files\n"
    "                     limit, raised to its hard limit at start, is low)\n"
    "  --metrics-listen HOST:PORT  also serve GET /metrics (Prometheus text\n"
    "                     format, docs/metrics.md) on this address, without a\n"
    "                     credential and nothing else there; for a Prometheus on\n"
    "                     a private network (on --listen, /metrics needs an\n"
    "                     admin key)\n"
    "  --request-log FILE one JSON line per request appended to FILE, or to\n"
    "                     stderr with '-' (docs/http-api.md, \"Request log\");\n"
    "                     default: no request log\n"
    "  --log-level LEVEL  serve's own lines on stderr: error, warn, info\n"
    "                     (default: startup and shutdown too) or debug\n"
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
    "  --check-rate N/s   numbers an app key may check a second, unless the key\n"
    "                     has its own limit (keys create --rate); a batch counts\n"
    "                     its items, a key's bucket holds one second of its rate\n"
    "                     (default 10000/s); over it: 429 with Retry-After\n"
    "  --check-daily N    numbers an app key may check a day on this server,\n"
    "                     counted in memory since it started (default 10000000)\n"
    "  --range-max N      numbers one range check (POST /v1/check/range) may list;\n"
    "                     a prefix with more is answered 413 (default 4096, at\n"
    "                     most 65536)\n"
    "  --hashed-checks on|off  off leaves the SHA-256, MD5 and SM3 lookups out of\n"
    "                     the index (most of its memory): checks by digest and\n"
    "                     range checks are then answered 422 (default on)\n"
    "  --allow-private-webhooks  let webhooks point at loopback, private,\n"
    "                     link-local and other non-public addresses (tests, closed\n"
    "                     networks); by default URLs naming them are refused and\n"
    "                     deliveries never connect to them\n"
    "  --camara-window-start YYYY-MM-DD  first day CAMARA v0.3 checks evaluate:\n"
    "                     an earlier specifiedDate is 400 OUT_OF_RANGE (default:\n"
    "                     none; a day before the number's first record, or after\n"
    "                     today, is OUT_OF_RANGE anyway)\n"
    "  --index-snapshot PATH|off  the index on disk: loaded at start (then only\n"
    "                     the changes after it are read from the store), written\n"
    "                     every interval and at a clean stop; a missing, damaged\n"
    "                     or foreign one is logged and the index built from the\n"
    "                     store (default: FILE.index beside a SQLite store; off\n"
    "                     for PostgreSQL, where each node names its own)\n"
    "  --index-snapshot-interval SECONDS  how often the snapshot is written\n"
    "                     (default 900; 0: only at a clean stop)\n"
    "  --audit on|off     record every answered request of a route in the audit\n"
    "                     trail (docs/operations.md, \"Audit trail\"; default on)\n"
    "  --audit-retention-days N  delete audit rows older than N days, hourly\n"
    "                     (default 180; 0 keeps them)\n"
    "  --audit-buffer N   audit records that may wait to be written (a batch item\n"
    "                     counts one); a request past it waits (default 262144)\n"
    "\n"
    "Subscriber self-service (sign-in by SMS code and ID digits, the web portal):\n"
    "  --sms DRIVER       outbox (default: messages stay in the store, read them\n"
    "                     with `secondnum sms outbox`) or kannel\n"
    "  --sms-config FILE  gateway settings, `key = value` lines: driver, url (the\n"
    "                     Kannel sendsms URL), user, password, from, max_attempts\n"
    "  --otp-ttl SECONDS  lifetime of a sign-in code (default 300)\n"
    "  --lockout SECONDS  how long a client address is locked out of a number\n"
    "                     after 5 wrong answers from it (default 900; other\n"
    "                     addresses go on; a code dies after 10 from all)\n"
    "  --otp-per-number N, --otp-per-address N, --signin-per-address N\n"
    "                     hourly limits (defaults 5, 20, 30)\n"
    "  --session-ttl SECONDS  subscriber session lifetime (default 900)\n"
    "  --complaint-deadline DAYS  time each desk has to answer a complaint\n"
    "                     before it escalates (default 5; decimals allowed)\n"
    "  --client-ip-header NAME  take the client address for the per-address\n"
    "                     limits from this header (X-Forwarded-For), written by\n"
    "                     a trusted proxy: the entry the proxy appended, a bare\n"
    "                     IP address (IPv6 counted by its /64); when it is\n"
    "                     missing or not an address, the peer's address\n"
    "  --client-ip-hops N trusted proxies in a row in front of serve, each\n"
    "                     appending to that header: the client is the Nth entry\n"
    "                     from the right (default 1, at most 16)\n"
    "\n"
    "OAuth 2.0 access tokens (JWT, RS256 or ES256) on the check routes, next to\n"
    "API keys (docs/http-api.md, \"Access tokens\"); the three go together:\n"
    "  --oauth-issuer ISS the exact iss tokens must carry\n"
    "  --oauth-audience AUD  a value tokens must have in aud\n"
    "  --oauth-jwks FILE|URL  the issuer's JWK Set: a file read at start, or an\n"
    "                     http(s) URL fetched at start, every 300 s, and when a\n"
    "                     token names an unknown kid (at most every 5 s)\n"
    "A token's client_id (or azp) acts for the app `secondnum apps oauth` maps\n"
    "it to, as that app's key (its limits and metrics).\n"
    "  --oauth-admin-client ID  tokens of this client with the scope\n"
    "                     secondnum:admin read as an admin: the GET admin routes\n"
    "                     and the /admin dashboard (never a write)\n"
    "\n"
    "Exit status: 0 after a clean shutdown, 1 startup failed (port in use, bad\n"
    "store), 2 usage.\n";

/* What the command line asks for. */
typedef struct {
    sn_server_options server;
    const char *db, *key_path;
    const char *follow; /* --follow: the server the follower reads; NULL: --db */
    int create;         /* --create: a missing store file is created */
    sn_deliverer_options deliveries;
    sn_subscribers subscribers;
    int64_t deadline_s;
    long check_rate, check_daily; /* a key's check limits unless it has its own */
    long range_max;               /* numbers a range answer may list */
    int hashed_checks;            /* --hashed-checks: 1 on (default), 0 off */
    int allow_private_webhooks;
    const char *request_log; /* --request-log: FILE, "-" (stderr), or NULL */
    int log_level;           /* --log-level (sn_log_level) */
    sn_day window_start;     /* --camara-window-start; SN_DAY_NONE without it */
    sn_oauth_options oauth;  /* all NULL: access tokens are not taken */
    const char *snapshot;    /* --index-snapshot: PATH, "off", or NULL (the default) */
    long snapshot_interval;  /* --index-snapshot-interval */
    int audit;               /* --audit: 1 on (default), 0 off */
    long audit_retention;    /* --audit-retention-days (0: kept) */
    long audit_buffer;       /* --audit-buffer */
} serve_config;

/* Every listener is open and the index loaded: the log line, and READY=1
 * to systemd (Type=notify). */
static void announce(void *arg)
{
    const sn_server_options *o = arg;
    const sn_service *svc = o->ctx;
    char status[SN_LISTEN_HOST_MAX + 96];
    sn_log(SN_LOG_INFO, "listening on http://%s with %u thread(s)", o->listen, o->threads);
    if (o->metrics_listen != NULL)
        sn_log(SN_LOG_INFO, "metrics on http://%s/metrics", o->metrics_listen);
    snprintf(status, sizeof(status), "serving %zu numbers on http://%s",
             sn_numindex_count(svc->index), o->listen);
    sn_notify_ready(status);
}

/* SIGTERM or SIGINT: STOPPING=1 to systemd while the requests in flight end. */
static void stopping(void *ctx)
{
    (void)ctx;
    sn_log(SN_LOG_INFO, "stopping");
    sn_notify_stopping("finishing the requests in flight");
}

/* The writer's tick, about once a second: the service's own, then the
 * systemd watchdog's ping, which stops when the writer hangs. */
static void tick(void *ctx, sn_store *store)
{
    sn_service_tick(ctx, store);
    sn_notify_watchdog();
}

/* The loops are done: no request waits for the writer any more. */
static void drained(void *ctx)
{
    sn_service *svc = ctx;
    sn_writer_stop(svc->reports);
    svc->reports = NULL;
    sn_writer_stop(svc->writer);
    svc->writer = NULL;
}

/* SIGHUP: logrotate moved the request log away. */
static void hangup(void *ctx)
{
    (void)ctx;
    sn_log(SN_LOG_DEBUG, "SIGHUP: reopening the request log");
    sn_reqlog_reopen();
}

/* Build the index and keyring from the store; the handle is closed after.
 * A store other nodes may write to gets its follower (svc->follower) opened
 * first: it reads where the changes stand before the index does. */
static int load(const char *db, const char *follow, int create, sn_service *svc, char *err,
                size_t errlen)
{
    int64_t t0 = sn_monotonic_ms();
    sn_store *store = NULL;
    int rc;
    if ((rc = sn_cli_open_store("serve", db, NULL, create, &store)) != SN_OK)
        return sn_fail(err, errlen, rc, "cannot open the store");
    svc->rules = *sn_store_rules(store);
    if (sn_store_can_follow(store) &&
        (rc = sn_follower_open(db, follow, svc->index, &svc->follower, err, errlen)) != SN_OK) {
        sn_store_close(store);
        return rc;
    }
    rc = sn_service_load(svc, store, err, errlen);
    sn_store_close(store);
    if (rc == SN_OK)
        sn_log(SN_LOG_INFO, "%zu numbers indexed in %.2f s", sn_numindex_count(svc->index),
               (double)(sn_monotonic_ms() - t0) / 1000.0);
    return rc;
}

/* svc->snapshots as --index-snapshot says: by default beside a SQLite
 * file (not an in-memory or URI one), none for PostgreSQL. */
static int open_snapshots(const serve_config *cf, sn_service *svc, char *err, size_t errlen)
{
    char path[SN_SNAPSHOT_PATH_MAX];
    const char *db = cf->db;
    if (cf->snapshot != NULL && strcmp(cf->snapshot, "off") == 0)
        return SN_OK;
    if (cf->snapshot != NULL)
        return sn_snapshots_new(cf->snapshot, cf->snapshot_interval, &svc->snapshots, err, errlen);
    if (sn_store_is_url(db) || strcmp(db, ":memory:") == 0 || strncmp(db, "file:", 5) == 0)
        return SN_OK;
    if (snprintf(path, sizeof(path), "%s%s", db, SN_SNAPSHOT_SUFFIX) >= (int)sizeof(path))
        return sn_fail(err, errlen, SN_EINVAL, "--db path too long for its index snapshot");
    return sn_snapshots_new(path, cf->snapshot_interval, &svc->snapshots, err, errlen);
}

static int listen_address(const char *cmd, const char *v, void *dst)
{
    char err[SN_ERRMSG_MAX];
    if (sn_server_listen_valid(v, err, sizeof(err)) != SN_OK)
        return sn_cli_usage_error(cmd, "%s", err);
    *(const char **)dst = v;
    return 0;
}

static int metrics_address(const char *cmd, const char *v, void *dst)
{
    char err[SN_ERRMSG_MAX];
    if (sn_server_listen_valid(v, err, sizeof(err)) != SN_OK)
        return sn_cli_usage_error(cmd,
                                  "--metrics-listen must be HOST:PORT with a port of 1 to "
                                  "65535, not '%s'",
                                  v);
    *(const char **)dst = v;
    return 0;
}

static int sms_driver(const char *cmd, const char *v, void *dst)
{
    sn_sms_options *sms = dst;
    if ((sms->driver = sn_sms_driver_parse(v)) < 0)
        return sn_cli_usage_error(cmd, "--sms must be outbox or kannel");
    return 0;
}

static int sms_config(const char *cmd, const char *v, void *dst)
{
    char err[SN_ERRMSG_MAX];
    if (sn_sms_config_load(v, dst, err, sizeof(err)) != SN_OK)
        return sn_cli_usage_error(cmd, "--sms-config: %s", err);
    return 0;
}

static int log_level(const char *cmd, const char *v, void *dst)
{
    if ((*(int *)dst = sn_log_level_parse(v)) < 0)
        return sn_cli_usage_error(cmd, "--log-level must be error, warn, info or debug");
    return 0;
}

static int on_off(const char *cmd, const char *v, void *dst)
{
    if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
        return sn_cli_usage_error(cmd, "--hashed-checks must be on or off");
    *(int *)dst = strcmp(v, "on") == 0;
    return 0;
}

static int audit_on_off(const char *cmd, const char *v, void *dst)
{
    if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
        return sn_cli_usage_error(cmd, "--audit must be on or off");
    *(int *)dst = strcmp(v, "on") == 0;
    return 0;
}

static int check_rate(const char *cmd, const char *v, void *dst)
{
    if (sn_cli_parse_rate(v, SN_CHECK_RATE_MAX, dst) != 0)
        return sn_cli_usage_error(cmd, "--check-rate must be N/s, N from 1 to %d",
                                  SN_CHECK_RATE_MAX);
    return 0;
}

/* h2o keeps header names in lowercase. */
static int client_ip_header(const char *cmd, const char *v, void *dst)
{
    sn_subscriber_options *opt = dst;
    if (v[0] == '\0' || strlen(v) >= sizeof(opt->client_ip_header))
        return sn_cli_usage_error(cmd, "--client-ip-header must be a header name");
    for (size_t i = 0; v[i] != '\0'; i++)
        opt->client_ip_header[i] = (char)tolower((unsigned char)v[i]);
    return 0;
}

/* The flags' integers, before they go to their fields. */
typedef struct {
    long threads, max_connections, retry_budget, retry_base, otp_ttl, lockout, session_ttl;
    long per_number, per_address, signin_per_address, client_ip_hops;
} serve_numbers;

static void apply_numbers(const serve_numbers *v, serve_config *cf)
{
    sn_subscriber_options *o = &cf->subscribers.opt;
    cf->server.threads = (unsigned)v->threads;
    cf->server.max_connections = (size_t)v->max_connections;
    cf->deliveries.retry_budget_ms = (int64_t)v->retry_budget * 1000;
    cf->deliveries.retry_base_ms = v->retry_base;
    o->otp_ttl_s = v->otp_ttl;
    o->lockout_s = v->lockout;
    o->session_ttl_s = v->session_ttl;
    o->otp_per_number = (uint32_t)v->per_number;
    o->otp_per_address = (uint32_t)v->per_address;
    o->signin_per_address = (uint32_t)v->signin_per_address;
    o->client_ip_hops = (uint32_t)v->client_ip_hops;
}

static int check_together(const serve_config *cf);

/* The command line into cf: -1 to go on, else the exit code. */
/* What parse_args checks once every option is read: the options that
 * depend on each other, and no argument left over. */
static int finish_args(int argc, char **argv, serve_config *cf, serve_numbers *v)
{
    sn_subscriber_options *o = &cf->subscribers.opt;
    sn_log_set_level((sn_log_level)cf->log_level);
    if (cf->request_log != NULL && cf->request_log[0] == '\0')
        return sn_cli_usage_error("serve", "--request-log must be a file or -");
    if (v->client_ip_hops != -1 && o->client_ip_header[0] == '\0')
        return sn_cli_usage_error("serve", "--client-ip-hops needs --client-ip-header");
    if (v->client_ip_hops == -1)
        v->client_ip_hops = o->client_ip_hops;
    apply_numbers(v, cf);
    if (optind != argc)
        return sn_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    return check_together(cf);
}

static int parse_args(int argc, char **argv, serve_config *cf)
{
    static const char duration[] = "durations must be %ld-%ld seconds";
    static const char hourly[] = "hourly limits must be %ld-%ld";
    sn_subscriber_options *o = &cf->subscribers.opt;
    serve_numbers v = {cf->server.threads,
                       (long)cf->server.max_connections,
                       cf->deliveries.retry_budget_ms / 1000,
                       cf->deliveries.retry_base_ms,
                       o->otp_ttl_s,
                       o->lockout_s,
                       o->session_ttl_s,
                       o->otp_per_number,
                       o->otp_per_address,
                       o->signin_per_address,
                       -1};
    const sn_cli_opt opts[] = {
        SN_CLI_DB(&cf->db),
        SN_CLI_CREATE(&cf->create),
        SN_CLI_TEXT("follow", &cf->follow),
        SN_CLI_FN("listen", listen_address, &cf->server.listen),
        SN_CLI_FN("metrics-listen", metrics_address, &cf->server.metrics_listen),
        SN_CLI_LONG("threads", &v.threads, 1, 256, "--threads must be %ld-%ld"),
        SN_CLI_LONG("max-connections", &v.max_connections, 1, SN_SERVER_MAX_CONNECTIONS_LIMIT,
                    "--max-connections must be %ld-%ld"),
        SN_CLI_TEXT("key", &cf->key_path),
        SN_CLI_TEXT("request-log", &cf->request_log),
        SN_CLI_FN("log-level", log_level, &cf->log_level),
        SN_CLI_DAYS("notice-deadline", &cf->deadline_s, "--notice-deadline must be 0-3650 days"),
        SN_CLI_LONG("retry-budget", &v.retry_budget, 0, 30L * 86400,
                    "--retry-budget must be %ld-%ld seconds"),
        SN_CLI_LONG("retry-base-ms", &v.retry_base, 1, 3600L * 1000,
                    "--retry-base-ms must be %ld-%ld"),
        SN_CLI_FN("check-rate", check_rate, &cf->check_rate),
        SN_CLI_LONG("check-daily", &cf->check_daily, 1, SN_CHECK_DAILY_MAX,
                    "--check-daily must be %ld to %ld"),
        SN_CLI_LONG("range-max", &cf->range_max, 1, SN_RANGE_RESULTS_MAX_LIMIT,
                    "--range-max must be %ld to %ld"),
        SN_CLI_FN("hashed-checks", on_off, &cf->hashed_checks),
        SN_CLI_FLAG("allow-private-webhooks", &cf->allow_private_webhooks),
        SN_CLI_DAY("camara-window-start", &cf->window_start),
        SN_CLI_FN("sms", sms_driver, &cf->subscribers.sms),
        SN_CLI_FN("sms-config", sms_config, &cf->subscribers.sms),
        SN_CLI_LONG("otp-ttl", &v.otp_ttl, 1, 86400, duration),
        SN_CLI_LONG("lockout", &v.lockout, 1, 86400, duration),
        SN_CLI_LONG("otp-per-number", &v.per_number, 1, 1000000, hourly),
        SN_CLI_LONG("otp-per-address", &v.per_address, 1, 1000000, hourly),
        SN_CLI_LONG("signin-per-address", &v.signin_per_address, 1, 1000000, hourly),
        SN_CLI_LONG("session-ttl", &v.session_ttl, 1, 86400, duration),
        SN_CLI_DAYS("complaint-deadline", &o->complaint_period_s,
                    "--complaint-deadline must be 1 second to 3650 days"),
        SN_CLI_FN("client-ip-header", client_ip_header, o),
        SN_CLI_LONG("client-ip-hops", &v.client_ip_hops, 1, SN_CLIENT_IP_HOPS_MAX,
                    "--client-ip-hops must be %ld-%ld"),
        SN_CLI_TEXT("oauth-issuer", &cf->oauth.issuer),
        SN_CLI_TEXT("oauth-audience", &cf->oauth.audience),
        SN_CLI_TEXT("oauth-jwks", &cf->oauth.jwks),
        SN_CLI_TEXT("index-snapshot", &cf->snapshot),
        SN_CLI_LONG("index-snapshot-interval", &cf->snapshot_interval, 0,
                    SN_SNAPSHOT_INTERVAL_MAX_S,
                    "--index-snapshot-interval must be %ld-%ld seconds"),
        SN_CLI_FN("audit", audit_on_off, &cf->audit),
        SN_CLI_LONG("audit-retention-days", &cf->audit_retention, 0, SN_AUDIT_RETENTION_MAX,
                    "--audit-retention-days must be %ld-%ld"),
        SN_CLI_LONG("audit-buffer", &cf->audit_buffer, 1, SN_AUDIT_BUFFER_MAX,
                    "--audit-buffer must be %ld-%ld"),
        SN_CLI_TEXT("oauth-admin-client", &cf->oauth.admin_client),
    };
    int rc = sn_cli_parse("serve", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    return finish_args(argc, argv, cf, &v);
}

/* The settings that must agree with each other: -1 when they do, else the
 * exit code of the usage error. */
static int check_together(const serve_config *cf)
{
    if (cf->follow != NULL && (!sn_store_is_url(cf->follow) || !sn_store_is_url(cf->db)))
        return sn_cli_usage_error("serve", "--follow takes a postgresql:// URL, with --db one too");
    if (cf->subscribers.opt.complaint_period_s < 1)
        return sn_cli_usage_error("serve", "--complaint-deadline must be 1 second to 3650 days");
    if (cf->server.metrics_listen != NULL &&
        strcmp(cf->server.metrics_listen, cf->server.listen) == 0)
        return sn_cli_usage_error("serve", "--metrics-listen must differ from --listen");
    if (cf->subscribers.sms.driver == SN_SMS_DRIVER_KANNEL &&
        cf->subscribers.sms.kannel_url[0] == '\0')
        return sn_cli_usage_error("serve", "--sms kannel needs --sms-config with a url");
    int oauth_flags =
        (cf->oauth.issuer != NULL) + (cf->oauth.audience != NULL) + (cf->oauth.jwks != NULL);
    if (oauth_flags != 0 && oauth_flags != 3)
        return sn_cli_usage_error("serve",
                                  "--oauth-issuer, --oauth-audience and --oauth-jwks go together");
    if (cf->oauth.admin_client != NULL && oauth_flags == 0)
        return sn_cli_usage_error("serve", "--oauth-admin-client needs --oauth-issuer, "
                                           "--oauth-audience and --oauth-jwks");
    return -1;
}

/* A store file other users may read: made by an earlier version (new
 * ones are 0600), or loosened by hand. Said, not changed. */
static void warn_loose_mode(const char *db)
{
    struct stat st;
    if (!sn_store_is_url(db) && stat(db, &st) == 0 && (st.st_mode & 077) != 0)
        sn_log(SN_LOG_WARN,
               "warning: %s is readable by other users (mode %04o); "
               "chmod 600 it (its -wal and -shm files take its mode)",
               db, (unsigned)(st.st_mode & 07777));
}

/* Seal the webhook secrets an earlier version kept in the clear, and tell
 * the operator of webhooks that cannot work. */
static int audit_webhooks(const char *db, const sn_service *svc, char *err, size_t errlen)
{
    sn_webhook_audit a;
    sn_store *store = NULL;
    int rc = sn_store_open(db, NULL, &store, err, errlen);
    if (rc == SN_OK)
        rc = sn_webhooks_seal_stored(svc, store, &a, err, errlen);
    sn_store_close(store);
    if (rc != SN_OK)
        return rc;
    if (a.sealed > 0)
        sn_log(SN_LOG_INFO, "sealed %u webhook secret(s) kept in the clear", a.sealed);
    if (a.unreadable > 0)
        sn_log(SN_LOG_WARN,
               "warning: %u webhook secret(s) (app %s first) do not open "
               "with this deployment secret: their deliveries fail until the app sets its "
               "webhook again",
               a.unreadable, a.unreadable_app);
    if (a.refused_urls > 0)
        sn_log(SN_LOG_WARN,
               "warning: %u webhook URL(s) (app %s first) break the webhook "
               "rules (a non-public address, localhost or user:password@): deliveries to a "
               "non-public address fail (no public address) unless serve runs with "
               "--allow-private-webhooks",
               a.refused_urls, a.refused_url_app);
    return SN_OK;
}

/* The keys that sign check receipts (service/receipts.h), the first made
 * when the store has none; without a deployment secret receipts are off. */
static int load_receipts(const char *db, sn_service *svc, char *err, size_t errlen)
{
    sn_store *store = NULL;
    if (svc->secret == NULL)
        return SN_OK;
    if ((svc->receipts = sn_receipt_keys_new()) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    int rc = sn_store_open(db, NULL, &store, err, errlen);
    if (rc == SN_OK)
        rc = sn_receipts_load(svc->receipts, svc->secret, store, 1, err, errlen);
    sn_store_close(store);
    return rc;
}

/* Start the threads and serve until a signal; SN_OK after a clean stop. */
static int run(serve_config *cf, sn_service *svc, sn_secret *secret, sn_sms_sender **sms, char *err,
               size_t errlen)
{
    char note[256];
    int rc;
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP); /* kept pending until serving: a reload while loading kills nothing */
    pthread_sigmask(SIG_BLOCK, &hup, NULL);
    if ((rc = sn_notify_start(err, errlen)) != SN_OK)
        return rc;
    if (cf->request_log != NULL && (rc = sn_reqlog_open(cf->request_log, err, errlen)) != SN_OK)
        return rc;
    sn_server_limits(&cf->server, note, sizeof(note));
    sn_log(SN_LOG_INFO, "%s", note);
    if (cf->request_log != NULL)
        sn_log(SN_LOG_DEBUG, "request log: %s (%u bytes of lines wait at most)",
               strcmp(cf->request_log, "-") == 0 ? "stderr" : cf->request_log,
               SN_REQLOG_BUFFER_BYTES);
    if (cf->oauth.issuer != NULL &&
        (rc = sn_oauth_open(&cf->oauth, &svc->oauth, err, errlen)) != SN_OK)
        return rc;
    if ((rc = load(cf->db, cf->follow, cf->create, svc, err, errlen)) != SN_OK)
        return rc;
    int have = sn_cli_load_secret("serve", cf->db, cf->key_path, 1, secret);
    if (have < 0)
        return SN_ECONFIG; /* said already */
    svc->secret = have ? secret : NULL;
    svc->notice_deadline_s = cf->deadline_s;
    svc->key_limits = (sn_check_limits){(uint32_t)cf->check_rate, (uint64_t)cf->check_daily};
    svc->range_max = (size_t)cf->range_max;
    svc->subscribers = &cf->subscribers;
    svc->allow_private_webhooks = cf->allow_private_webhooks;
    svc->window_start = cf->window_start;
    cf->deliveries.secret = svc->secret;
    cf->deliveries.allow_private = cf->allow_private_webhooks;
    warn_loose_mode(cf->db);
    if ((rc = audit_webhooks(cf->db, svc, err, errlen)) != SN_OK ||
        (rc = load_receipts(cf->db, svc, err, errlen)) != SN_OK)
        return rc;
    if ((svc->follower != NULL && (rc = sn_follower_start(svc->follower, err, errlen)) != SN_OK) ||
        (rc = sn_snapshots_start(svc->snapshots, svc, err, errlen)) != SN_OK ||
        (rc = sn_deliverer_start(cf->db, &cf->deliveries, &svc->deliverer, err, errlen)) != SN_OK ||
        (rc = sn_sms_sender_start(cf->db, &cf->subscribers.sms, sms, err, errlen)) != SN_OK ||
        (rc = sn_writer_start(cf->db, (sn_writer_names){"sn-writer", "sn-publisher"}, tick, svc,
                              &svc->writer, err, errlen)) != SN_OK ||
        (rc = sn_writer_start(cf->db, (sn_writer_names){"sn-reports", "sn-reports-pub"}, NULL, NULL,
                              &svc->reports, err, errlen)) != SN_OK)
        return rc;
    sn_audit_options ao = {cf->db, svc->secret, (uint32_t)cf->audit_retention,
                           (uint32_t)cf->audit_buffer, svc->rules.tz_minutes};
    if (cf->audit && (rc = sn_audit_start(&ao, err, errlen)) != SN_OK)
        return rc;
    cf->server.handle = sn_router_handle;
    cf->server.admit_head = sn_router_admit_head;
    cf->server.metrics_handle = sn_metrics_listener_handle;
    cf->server.metrics_admit_head = sn_metrics_listener_admit_head;
    cf->server.ctx = svc;
    cf->server.drained = drained;
    cf->server.stopping = stopping;
    cf->server.hangup = hangup;
    return sn_server_run(&cf->server, announce, &cf->server, err, errlen);
}

int sn_cmd_serve(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    serve_config cf;
    sn_service svc;
    sn_secret secret;
    sn_sms_sender *sms = NULL;
    char err[SN_ERRMSG_MAX] = "";
    memset(&cf, 0, sizeof(cf));
    cf.server.listen = "127.0.0.1:8080";
    cf.server.threads = cores > 0 ? (unsigned)cores : 1;
    cf.deadline_s = SN_DEFAULT_NOTICE_DEADLINE_S;
    cf.check_rate = SN_CHECK_RATE_DEFAULT;
    cf.check_daily = SN_CHECK_DAILY_DEFAULT;
    cf.log_level = SN_LOG_INFO;
    cf.window_start = SN_DAY_NONE;
    cf.range_max = SN_RANGE_RESULTS_MAX_DEFAULT;
    cf.hashed_checks = 1;
    cf.snapshot_interval = SN_SNAPSHOT_INTERVAL_DEFAULT_S;
    cf.audit = 1;
    cf.audit_retention = SN_AUDIT_RETENTION_DEFAULT;
    cf.audit_buffer = SN_AUDIT_BUFFER_DEFAULT;
    sn_deliverer_defaults(&cf.deliveries);
    sn_subscriber_defaults(&cf.subscribers.opt);
    sn_sms_defaults(&cf.subscribers.sms);
    int rc = parse_args(argc, argv, &cf);
    if (rc >= 0)
        return rc;
    memset(&svc, 0, sizeof(svc));
    svc.index = sn_numindex_new();
    if (svc.index != NULL && !cf.hashed_checks)
        sn_numindex_without_digests(svc.index);
    svc.keys = sn_keyring_new();
    svc.meters = sn_key_meters_new();
    svc.coverage = sn_coverage_new();
    if (cf.oauth.issuer != NULL)
        svc.oauth_clients = sn_oauth_clients_new();
    if (svc.index == NULL || svc.keys == NULL || svc.meters == NULL || svc.coverage == NULL ||
        (cf.oauth.issuer != NULL && svc.oauth_clients == NULL))
        rc = sn_fail(err, sizeof(err), SN_ENOMEM, "out of memory");
    else if ((rc = open_snapshots(&cf, &svc, err, sizeof(err))) == SN_OK)
        rc = run(&cf, &svc, &secret, &sms, err, sizeof(err));
    sn_writer_stop(svc.reports); /* when serving never began; else stopped already */
    sn_writer_stop(svc.writer);
    svc.writer = NULL;
    sn_snapshots_stop(svc.snapshots, rc == SN_OK); /* the last one after a clean stop */
    sn_reqlog_close();                             /* every line written; the loops are gone */
    sn_audit_stop();                               /* every record written; the loops are gone */
    if (rc != SN_OK && err[0] != '\0')
        sn_log(SN_LOG_ERROR, "%s", err);
    else if (rc == SN_OK)
        sn_log(SN_LOG_INFO, "stopped");
    sn_sms_sender_stop(sms);
    sn_deliverer_stop(svc.deliverer);
    sn_follower_stop(svc.follower); /* the writer, which calls it, has stopped */
    sn_snapshots_free(svc.snapshots);
    sn_numindex_free(svc.index);
    sn_keyring_free(svc.keys);
    sn_key_meters_free(svc.meters);
    sn_coverage_free(svc.coverage);
    sn_oauth_close(svc.oauth);
    sn_oauth_clients_free(svc.oauth_clients);
    sn_receipt_keys_free(svc.receipts);
    return rc == SN_OK ? SN_EXIT_OK : SN_EXIT_REJECTED;
}
