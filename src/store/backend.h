/*
 * backend.h - what a storage backend implements (private to src/store/).
 *
 * A backend embeds `struct sn_store` as its first member and fills `ops`;
 * store.c forwards every public sn_store_* call through this table, so adding
 * a backend is adding one file and one line in sn_store_open.
 */
#ifndef SN_STORE_BACKEND_H
#define SN_STORE_BACKEND_H

#include "store/store.h"

typedef struct {
    const char *name;
    void (*close)(sn_store *s);
    int (*begin)(sn_store *s, char *err, size_t errlen);
    int (*commit)(sn_store *s, char *err, size_t errlen);
    void (*rollback)(sn_store *s);
    int (*reachable)(sn_store *s); /* NULL: always (an embedded store) */
    int (*get_state)(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);
    /* NULL: store.c calls get_state for each */
    int (*get_states)(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                      char *err, size_t errlen);
    int (*put_state)(sn_store *s, const sn_number_state *st, char *err, size_t errlen);
    int (*find_event)(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);
    int (*append_event)(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                        size_t errlen);
    int (*carrier_id)(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                      size_t errlen);
    int (*scan_states)(sn_store *s, int (*fn)(void *, const sn_number_state *), void *ctx,
                       char *err, size_t errlen);
    int (*scan_events)(sn_store *s, sn_number n, int (*fn)(void *, const sn_log_event *, uint32_t),
                       void *ctx, char *err, size_t errlen);
    int (*integrity)(sn_store *s, char *err, size_t errlen);
    int (*add_key)(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen);
    int (*list_keys)(sn_store *s, int (*fn)(void *, const sn_api_key *), void *ctx, char *err,
                     size_t errlen);
    int (*revoke_key)(sn_store *s, uint32_t id, int *found, char *err, size_t errlen);
    int (*add_range)(sn_store *s, uint32_t carrier, const char *prefix, char *err, size_t errlen);
    int (*list_ranges)(sn_store *s, int (*fn)(void *, uint32_t, const char *, const char *),
                       void *ctx, char *err, size_t errlen);
    int (*app_id)(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                  size_t errlen);
    int (*get_app)(sn_store *s, uint32_t id, sn_app *out, char *err, size_t errlen);
    int (*set_webhook)(sn_store *s, uint32_t app, const char *url, const char *secret, char *err,
                       size_t errlen);
    int (*set_subscription)(sn_store *s, uint32_t app, int cancellations, int reissues, char *err,
                            size_t errlen);
    int (*put_binding)(sn_store *s, const sn_binding *b, char *err, size_t errlen);
    int (*delete_binding)(sn_store *s, uint32_t app, sn_number n,
                          const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                          size_t errlen);
    int (*list_bindings)(sn_store *s, uint32_t app, sn_number n,
                         int (*fn)(void *ctx, const sn_binding *b), void *ctx, char *err,
                         size_t errlen);
    int (*issue_notices)(sn_store *s, const sn_notice_spec *spec, size_t *issued, char *err,
                         size_t errlen);
    int (*open_cancellations)(sn_store *s, sn_number n, int64_t now, uint32_t *apps, int64_t *until,
                              char *err, size_t errlen);
    int (*list_notices)(sn_store *s, const sn_notice_query *q,
                        int (*fn)(void *ctx, const sn_notice *n), void *ctx, char *err,
                        size_t errlen);
    int (*get_notice)(sn_store *s, uint64_t id, sn_notice *out, char *err, size_t errlen);
    int (*ack_notice)(sn_store *s, uint64_t id, int outcome, const char *note, int64_t at,
                      char *err, size_t errlen);
    int (*due_deliveries)(sn_store *s, int64_t now_ms, int64_t after_at_ms, uint64_t after_notice,
                          uint32_t part, uint32_t nparts, uint32_t limit,
                          int (*fn)(void *ctx, const sn_delivery *d, const sn_notice *n,
                                    const sn_app *app),
                          void *ctx, char *err, size_t errlen);
    int (*relax_durability)(sn_store *s, char *err, size_t errlen);
    int (*update_delivery)(sn_store *s, const sn_delivery *d, char *err, size_t errlen);
    int (*list_deliveries)(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                           int (*fn)(void *ctx, const sn_delivery *d), void *ctx, char *err,
                           size_t errlen);
    int (*delivery_counts)(sn_store *s, uint32_t app, uint64_t counts[3], char *err, size_t errlen);
    int (*next_delivery)(sn_store *s, int64_t *at_ms, char *err, size_t errlen);
    int (*list_disconnections)(sn_store *s, sn_day since, sn_number after, uint32_t limit,
                               int (*fn)(void *ctx, sn_number n, sn_day cancelled, sn_day reissued),
                               void *ctx, char *err, size_t errlen);
    int (*app_stats)(sn_store *s, int64_t now, int (*fn)(void *ctx, const sn_app_stats *st),
                     void *ctx, char *err, size_t errlen);
    /* subscribers (schema version 3) */
    int (*sms_add)(sn_store *s, const sn_sms_msg *m, uint64_t *id, char *err, size_t errlen);
    int (*sms_list)(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                    int (*fn)(void *ctx, const sn_sms_msg *m), void *ctx, char *err, size_t errlen);
    int (*sms_due)(sn_store *s, int64_t now_ms, uint32_t limit,
                   int (*fn)(void *ctx, const sn_sms_msg *m), void *ctx, char *err, size_t errlen);
    int (*sms_update)(sn_store *s, const sn_sms_msg *m, char *err, size_t errlen);
    int (*otp_get)(sn_store *s, sn_number n, sn_otp *out, char *err, size_t errlen);
    int (*otp_put)(sn_store *s, const sn_otp *o, char *err, size_t errlen);
    int (*otp_delete)(sn_store *s, sn_number n, char *err, size_t errlen);
    int (*rate_hit)(sn_store *s, const char *bucket, int64_t window, uint32_t *count, char *err,
                    size_t errlen);
    int (*session_put)(sn_store *s, const sn_session *ses, char *err, size_t errlen);
    int (*session_get)(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], sn_session *out,
                       char *err, size_t errlen);
    int (*session_delete)(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                          size_t errlen);
    int (*subscriber_purge)(sn_store *s, int64_t now, char *err, size_t errlen);
    int (*number_bindings)(sn_store *s, sn_number n,
                           int (*fn)(void *ctx, const sn_binding *b, const char *app,
                                     const char *display),
                           void *ctx, char *err, size_t errlen);
    int (*set_app_display)(sn_store *s, uint32_t app, const char *display, char *err,
                           size_t errlen);
    int (*app_display)(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1], char *err,
                       size_t errlen);
    int (*add_request)(sn_store *s, sn_request *r, int64_t now_ms, size_t *issued, char *err,
                       size_t errlen);
    int (*list_requests)(sn_store *s, sn_number n, uint32_t tenure,
                         int (*fn)(void *ctx, const sn_request *r), void *ctx, char *err,
                         size_t errlen);
    int (*add_complaint)(sn_store *s, sn_complaint *c, char *err, size_t errlen);
    int (*list_complaints)(sn_store *s, const sn_complaint_query *q,
                           int (*fn)(void *ctx, const sn_complaint *c), void *ctx, char *err,
                           size_t errlen);
    int (*get_complaint)(sn_store *s, uint64_t id, sn_complaint *out, char *err, size_t errlen);
    int (*resolve_complaint)(sn_store *s, uint64_t id, int level, const char *resolution,
                             int64_t at, char *err, size_t errlen);
    /* following the changes (several nodes); NULL in a single-node backend */
    int (*change_cursor)(sn_store *s, uint64_t *seq, char *err, size_t errlen);
    int (*changes_after)(sn_store *s, uint64_t after, uint32_t limit,
                         int (*fn)(void *ctx, const sn_number_state *st, uint64_t seq), void *ctx,
                         char *err, size_t errlen);
    int (*listen)(sn_store *s, char *err, size_t errlen);
    int (*wait_changes)(sn_store *s, int timeout_ms, int wake_fd, char *err, size_t errlen);
} sn_store_ops;

struct sn_store {
    const sn_store_ops *ops;
    sn_rules rules;
    int created;
};

/* The SQLite backend (store_sqlite.c). */
int sn_store_sqlite_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                         size_t errlen);

#endif
