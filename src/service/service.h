/*
 * service.h - what every use case of a running secondnum sees: the
 * deployment (its rules, its secret, the serving index, the API keys, the
 * threads that write, deliver and follow) and who is asking.
 *
 * The service layer (src/service/) owns the rules of each family of use
 * cases and their transactions: events.c (carrier events, one path for
 * the live feed and imports), checks.c, bindings.c, notices.c,
 * webhooks.c, keys.c, apps.c, signin.c and selfservice.c (subscribers),
 * complaints.c. Its functions take a store handle, run on the writer
 * thread (writer.h) in a server, and return SN_OK or an SN_E* code with a
 * sentence for the caller; HTTP handlers and CLI commands only parse,
 * authorize, call one of them and format the answer.
 */
#ifndef SN_SERVICE_H
#define SN_SERVICE_H

#include "auth/apikey.h"
#include "auth/keylimits.h"
#include "auth/oauth.h"
#include "auth/oauthclients.h"
#include "core/subscriber.h"
#include "crypto/secret.h"
#include "index/numindex.h"
#include "service/coverage.h"
#include "sms/gateway.h"
#include "util/metrics.h"

typedef struct sn_writer sn_writer;
typedef struct sn_deliverer sn_deliverer;
typedef struct sn_follower sn_follower;
typedef struct sn_receipt_keys sn_receipt_keys;
typedef struct sn_snapshots sn_snapshots;

/* Subscriber self-service: its settings, the SMS gateway's, and when dead
 * codes and sessions were last purged (writer thread only). */
typedef struct {
    sn_subscriber_options opt;
    sn_sms_options sms;
    int64_t purged_at;
} sn_subscribers;

#define SN_DEFAULT_NOTICE_DEADLINE_S (5 * 86400) /* a notice's deadline, from its issue */

typedef struct sn_service {
    sn_rules rules;
    const sn_secret *secret;         /* for id6, accounts, codes; NULL when the store has none */
    sn_numindex *index;              /* the serving index (NULL outside serve) */
    sn_keyring *keys;                /* the live API keys (NULL outside serve) */
    sn_writer *writer;               /* the one writable store handle (serve) */
    sn_writer *reports;              /* report routes' reads, on their own handle (serve) */
    sn_deliverer *deliverer;         /* woken after commits that issue notices; may be NULL */
    sn_follower *follower;           /* other nodes' changes; NULL on SQLite */
    int64_t notice_deadline_s;       /* a notice's deadline runs this long from its issue */
    sn_subscribers *subscribers;     /* NULL: self-service is off */
    int keys_stale;                  /* the last reload of the keys failed (writer thread) */
    sn_key_meters *meters;           /* what each key checked (NULL: checks are not limited) */
    sn_check_limits key_limits;      /* a key's check limits unless it has its own (serve) */
    size_t range_max;                /* numbers a range answer may list (0: the default) */
    int allow_private_webhooks;      /* webhooks may point at non-public addresses (webhook.h) */
    int erasing_failed;              /* the last erasing of dead code texts failed (writer) */
    sn_oauth *oauth;                 /* OAuth 2.0 access tokens (NULL: not configured) */
    sn_oauth_clients *oauth_clients; /* their clients' apps (with oauth; reloaded with the keys) */
    sn_coverage *coverage;           /* the carriers' number ranges (NULL outside serve) */
    int coverage_stale;              /* the last reload of the ranges failed (writer thread) */
    sn_day window_start;             /* CAMARA v0.3: earlier days are OUT_OF_RANGE (serve
                                        --camara-window-start; SN_DAY_NONE: no such day) */
    sn_receipt_keys *receipts;       /* check receipts' keys (receipts.h; NULL: no secret) */
    sn_snapshots *snapshots;         /* index snapshots (snapshots.h; NULL: none) */
} sn_service;

/* Who is asking, as the HTTP layer authenticated them. */
typedef struct {
    uint8_t role;                  /* sn_role */
    uint32_t key;                  /* the API key's id */
    uint32_t carrier;              /* carrier keys: the carrier */
    char app[SN_APP_NAME_MAX + 1]; /* app keys: the app's name */
    uint32_t app_id;               /* app keys: the app's id, once sn_service_app_of ran */
} sn_caller;

/* Set who->app_id for an app key: the app its name names, created (in a
 * transaction of its own) on first use. Other roles: nothing to do. */
int sn_service_app_of(sn_store *s, sn_caller *who, char *err, size_t errlen);

/* Fill svc->index with every number's state (from svc->snapshots' snapshot
 * and the changes after it when there is a usable one), svc->keys with the live
 * API keys, svc->coverage (when set) with the carriers' ranges and
 * svc->oauth_clients (when set) with the OAuth clients' apps, from s (at
 * startup, before any thread serves). */
int sn_service_load(sn_service *svc, sn_store *s, char *err, size_t errlen);

/* The writer's tick (about once a second, writer thread; ctx is the
 * sn_service): reload the API keys (keys.h) and the carriers' ranges
 * (coverage.h), and erase the texts of
 * sign-in codes that died (store/subscribers.h), so a code never outlives
 * its use or its lifetime in the store by more than a second or so. */
void sn_service_tick(void *ctx, sn_store *s);

/* The gauges of the metrics that the store holds (notices open and
 * overdue, deliveries by state, the follower's lag) into g; have_store 0
 * when the store could not say. Writer thread. */
void sn_service_read_gauges(const sn_service *svc, sn_store *s, sn_metrics_gauges *g);

#endif
