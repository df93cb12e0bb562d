/*
 * store.c - the public storage interface, forwarding to the backend chosen at
 * open time (see backend.h). Owns no data of its own.
 */
#include "store/backend.h"

#include "core/errors.h"

#include <string.h>

/* The PostgreSQL backend (store_pg.c), for a postgres:// or postgresql:// URL. */
int sn_store_pg_open(const char *url, const sn_rules *rules, sn_store **out, char *err,
                     size_t errlen);

int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return sn_fail(err, errlen, SN_EUSAGE, "no database given (--db FILE)");
    if (strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0)
        return sn_store_pg_open(path, rules, out, err, errlen);
    return sn_store_sqlite_open(path, rules, out, err, errlen);
}

void sn_store_close(sn_store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

int sn_store_reachable(sn_store *s)
{
    return s->ops->reachable == NULL || s->ops->reachable(s);
}

const sn_rules *sn_store_rules(const sn_store *s)
{
    return &s->rules;
}

int sn_store_created(const sn_store *s)
{
    return s->created;
}

int sn_store_begin(sn_store *s, char *err, size_t errlen)
{
    return s->ops->begin(s, err, errlen);
}

int sn_store_commit(sn_store *s, char *err, size_t errlen)
{
    return s->ops->commit(s, err, errlen);
}

void sn_store_rollback(sn_store *s)
{
    s->ops->rollback(s);
}

int sn_store_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen)
{
    return s->ops->get_state(s, n, out, err, errlen);
}

int sn_store_get_states(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                        char *err, size_t errlen)
{
    int rc = SN_OK;
    if (s->ops->get_states != NULL)
        return s->ops->get_states(s, numbers, n, out, err, errlen);
    for (size_t i = 0; rc == SN_OK && i < n; i++)
        rc = s->ops->get_state(s, numbers[i], &out[i], err, errlen);
    return rc;
}

int sn_store_put_state(sn_store *s, const sn_number_state *st, char *err, size_t errlen)
{
    return s->ops->put_state(s, st, err, errlen);
}

int sn_store_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen)
{
    return s->ops->find_event(s, e, found, err, errlen);
}

int sn_store_append_event(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                          size_t errlen)
{
    return s->ops->append_event(s, e, ordinal, err, errlen);
}

int sn_store_carrier_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                        size_t errlen)
{
    return s->ops->carrier_id(s, name, create, id, err, errlen);
}

int sn_store_scan_states(sn_store *s, int (*fn)(void *ctx, const sn_number_state *st), void *ctx,
                         char *err, size_t errlen)
{
    return s->ops->scan_states(s, fn, ctx, err, errlen);
}

int sn_store_scan_events(sn_store *s, sn_number n,
                         int (*fn)(void *ctx, const sn_log_event *e, uint32_t ordinal), void *ctx,
                         char *err, size_t errlen)
{
    return s->ops->scan_events(s, n, fn, ctx, err, errlen);
}

int sn_store_integrity(sn_store *s, char *err, size_t errlen)
{
    return s->ops->integrity(s, err, errlen);
}

int sn_store_add_key(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen)
{
    return s->ops->add_key(s, k, id, err, errlen);
}

int sn_store_list_keys(sn_store *s, int (*fn)(void *ctx, const sn_api_key *k), void *ctx, char *err,
                       size_t errlen)
{
    return s->ops->list_keys(s, fn, ctx, err, errlen);
}

int sn_store_revoke_key(sn_store *s, uint32_t id, int *found, char *err, size_t errlen)
{
    return s->ops->revoke_key(s, id, found, err, errlen);
}

int sn_store_add_range(sn_store *s, uint32_t carrier, const char *prefix, char *err, size_t errlen)
{
    return s->ops->add_range(s, carrier, prefix, err, errlen);
}

int sn_store_list_ranges(sn_store *s,
                         int (*fn)(void *ctx, uint32_t carrier, const char *name,
                                   const char *prefix),
                         void *ctx, char *err, size_t errlen)
{
    return s->ops->list_ranges(s, fn, ctx, err, errlen);
}

int sn_store_app_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                    size_t errlen)
{
    return s->ops->app_id(s, name, create, id, err, errlen);
}

int sn_store_get_app(sn_store *s, uint32_t id, sn_app *out, char *err, size_t errlen)
{
    return s->ops->get_app(s, id, out, err, errlen);
}

int sn_store_set_webhook(sn_store *s, uint32_t app, const char *url, const char *secret, char *err,
                         size_t errlen)
{
    return s->ops->set_webhook(s, app, url, secret, err, errlen);
}

int sn_store_set_subscription(sn_store *s, uint32_t app, int cancellations, int reissues, char *err,
                              size_t errlen)
{
    return s->ops->set_subscription(s, app, cancellations, reissues, err, errlen);
}

int sn_store_put_binding(sn_store *s, const sn_binding *b, char *err, size_t errlen)
{
    return s->ops->put_binding(s, b, err, errlen);
}

int sn_store_delete_binding(sn_store *s, uint32_t app, sn_number n,
                            const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                            size_t errlen)
{
    return s->ops->delete_binding(s, app, n, account, found, err, errlen);
}

int sn_store_list_bindings(sn_store *s, uint32_t app, sn_number n,
                           int (*fn)(void *ctx, const sn_binding *b), void *ctx, char *err,
                           size_t errlen)
{
    return s->ops->list_bindings(s, app, n, fn, ctx, err, errlen);
}

int sn_store_issue_notices(sn_store *s, const sn_notice_spec *spec, size_t *issued, char *err,
                           size_t errlen)
{
    return s->ops->issue_notices(s, spec, issued, err, errlen);
}

int sn_store_open_cancellations(sn_store *s, sn_number n, int64_t now, uint32_t *apps,
                                int64_t *until, char *err, size_t errlen)
{
    return s->ops->open_cancellations(s, n, now, apps, until, err, errlen);
}

int sn_store_list_notices(sn_store *s, const sn_notice_query *q,
                          int (*fn)(void *ctx, const sn_notice *n), void *ctx, char *err,
                          size_t errlen)
{
    return s->ops->list_notices(s, q, fn, ctx, err, errlen);
}

int sn_store_get_notice(sn_store *s, uint64_t id, sn_notice *out, char *err, size_t errlen)
{
    return s->ops->get_notice(s, id, out, err, errlen);
}

int sn_store_ack_notice(sn_store *s, uint64_t id, int outcome, const char *note, int64_t at,
                        char *err, size_t errlen)
{
    return s->ops->ack_notice(s, id, outcome, note, at, err, errlen);
}

int sn_store_due_deliveries(sn_store *s, int64_t now_ms, int64_t after_at_ms,
                            uint64_t after_notice, uint32_t part, uint32_t nparts, uint32_t limit,
                            int (*fn)(void *ctx, const sn_delivery *d, const sn_notice *n,
                                      const sn_app *app),
                            void *ctx, char *err, size_t errlen)
{
    return s->ops->due_deliveries(s, now_ms, after_at_ms, after_notice, part, nparts, limit, fn, ctx, err,
                                  errlen);
}

int sn_store_relax_durability(sn_store *s, char *err, size_t errlen)
{
    return s->ops->relax_durability(s, err, errlen);
}

int sn_store_update_delivery(sn_store *s, const sn_delivery *d, char *err, size_t errlen)
{
    return s->ops->update_delivery(s, d, err, errlen);
}

int sn_store_list_deliveries(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                             int (*fn)(void *ctx, const sn_delivery *d), void *ctx, char *err,
                             size_t errlen)
{
    return s->ops->list_deliveries(s, app, state, after, limit, fn, ctx, err, errlen);
}

int sn_store_delivery_counts(sn_store *s, uint32_t app, uint64_t counts[3], char *err,
                             size_t errlen)
{
    return s->ops->delivery_counts(s, app, counts, err, errlen);
}

int sn_store_next_delivery(sn_store *s, int64_t *at_ms, char *err, size_t errlen)
{
    return s->ops->next_delivery(s, at_ms, err, errlen);
}

int sn_store_list_disconnections(sn_store *s, sn_day since, sn_number after, uint32_t limit,
                                 int (*fn)(void *ctx, sn_number n, sn_day cancelled,
                                           sn_day reissued),
                                 void *ctx, char *err, size_t errlen)
{
    return s->ops->list_disconnections(s, since, after, limit, fn, ctx, err, errlen);
}

int sn_store_app_stats(sn_store *s, int64_t now, int (*fn)(void *ctx, const sn_app_stats *st),
                       void *ctx, char *err, size_t errlen)
{
    return s->ops->app_stats(s, now, fn, ctx, err, errlen);
}

/* ---- subscribers ---- */

/* A backend without the subscriber tables leaves these ops NULL: a call
 * then fails with SN_ESTORE instead of crashing. */
#define NEEDS_OP(s, op, err, errlen)                                                               \
    do {                                                                                           \
        if ((s)->ops->op == NULL)                                                                  \
            return sn_fail(err, errlen, SN_ESTORE, "the %s store has no subscriber tables",        \
                           (s)->ops->name);                                                        \
    } while (0)

int sn_store_sms_add(sn_store *s, const sn_sms_msg *m, uint64_t *id, char *err, size_t errlen)
{
    NEEDS_OP(s, sms_add, err, errlen);
    return s->ops->sms_add(s, m, id, err, errlen);
}

int sn_store_sms_list(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                      int (*fn)(void *ctx, const sn_sms_msg *m), void *ctx, char *err,
                      size_t errlen)
{
    NEEDS_OP(s, sms_list, err, errlen);
    return s->ops->sms_list(s, n, state, after, limit, fn, ctx, err, errlen);
}

int sn_store_sms_due(sn_store *s, int64_t now_ms, uint32_t limit,
                     int (*fn)(void *ctx, const sn_sms_msg *m), void *ctx, char *err, size_t errlen)
{
    NEEDS_OP(s, sms_due, err, errlen);
    return s->ops->sms_due(s, now_ms, limit, fn, ctx, err, errlen);
}

int sn_store_sms_update(sn_store *s, const sn_sms_msg *m, char *err, size_t errlen)
{
    NEEDS_OP(s, sms_update, err, errlen);
    return s->ops->sms_update(s, m, err, errlen);
}

int sn_store_otp_get(sn_store *s, sn_number n, sn_otp *out, char *err, size_t errlen)
{
    NEEDS_OP(s, otp_get, err, errlen);
    return s->ops->otp_get(s, n, out, err, errlen);
}

int sn_store_otp_put(sn_store *s, const sn_otp *o, char *err, size_t errlen)
{
    NEEDS_OP(s, otp_put, err, errlen);
    return s->ops->otp_put(s, o, err, errlen);
}

int sn_store_otp_delete(sn_store *s, sn_number n, char *err, size_t errlen)
{
    NEEDS_OP(s, otp_delete, err, errlen);
    return s->ops->otp_delete(s, n, err, errlen);
}

int sn_store_rate_hit(sn_store *s, const char *bucket, int64_t window, uint32_t *count, char *err,
                      size_t errlen)
{
    NEEDS_OP(s, rate_hit, err, errlen);
    return s->ops->rate_hit(s, bucket, window, count, err, errlen);
}

int sn_store_session_put(sn_store *s, const sn_session *ses, char *err, size_t errlen)
{
    NEEDS_OP(s, session_put, err, errlen);
    return s->ops->session_put(s, ses, err, errlen);
}

int sn_store_session_get(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], sn_session *out,
                         char *err, size_t errlen)
{
    NEEDS_OP(s, session_get, err, errlen);
    return s->ops->session_get(s, hash, out, err, errlen);
}

int sn_store_session_delete(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                            size_t errlen)
{
    NEEDS_OP(s, session_delete, err, errlen);
    return s->ops->session_delete(s, hash, err, errlen);
}

int sn_store_subscriber_purge(sn_store *s, int64_t now, char *err, size_t errlen)
{
    NEEDS_OP(s, subscriber_purge, err, errlen);
    return s->ops->subscriber_purge(s, now, err, errlen);
}

int sn_store_number_bindings(sn_store *s, sn_number n,
                             int (*fn)(void *ctx, const sn_binding *b, const char *app,
                                       const char *display),
                             void *ctx, char *err, size_t errlen)
{
    NEEDS_OP(s, number_bindings, err, errlen);
    return s->ops->number_bindings(s, n, fn, ctx, err, errlen);
}

int sn_store_set_app_display(sn_store *s, uint32_t app, const char *display, char *err,
                             size_t errlen)
{
    NEEDS_OP(s, set_app_display, err, errlen);
    return s->ops->set_app_display(s, app, display, err, errlen);
}

int sn_store_app_display(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1],
                         char *err, size_t errlen)
{
    NEEDS_OP(s, app_display, err, errlen);
    return s->ops->app_display(s, app, display, err, errlen);
}

int sn_store_add_request(sn_store *s, sn_request *r, int64_t now_ms, size_t *issued, char *err,
                         size_t errlen)
{
    NEEDS_OP(s, add_request, err, errlen);
    return s->ops->add_request(s, r, now_ms, issued, err, errlen);
}

int sn_store_list_requests(sn_store *s, sn_number n, uint32_t tenure,
                           int (*fn)(void *ctx, const sn_request *r), void *ctx, char *err,
                           size_t errlen)
{
    NEEDS_OP(s, list_requests, err, errlen);
    return s->ops->list_requests(s, n, tenure, fn, ctx, err, errlen);
}

int sn_store_add_complaint(sn_store *s, sn_complaint *c, char *err, size_t errlen)
{
    NEEDS_OP(s, add_complaint, err, errlen);
    return s->ops->add_complaint(s, c, err, errlen);
}

int sn_store_list_complaints(sn_store *s, const sn_complaint_query *q,
                             int (*fn)(void *ctx, const sn_complaint *c), void *ctx, char *err,
                             size_t errlen)
{
    NEEDS_OP(s, list_complaints, err, errlen);
    return s->ops->list_complaints(s, q, fn, ctx, err, errlen);
}

int sn_store_get_complaint(sn_store *s, uint64_t id, sn_complaint *out, char *err, size_t errlen)
{
    NEEDS_OP(s, get_complaint, err, errlen);
    return s->ops->get_complaint(s, id, out, err, errlen);
}

int sn_store_resolve_complaint(sn_store *s, uint64_t id, int level, const char *resolution,
                               int64_t at, char *err, size_t errlen)
{
    NEEDS_OP(s, resolve_complaint, err, errlen);
    return s->ops->resolve_complaint(s, id, level, resolution, at, err, errlen);
}

/* ---- following the changes ---- */

/* A single-node backend keeps no change numbers: these fail instead of
 * crashing. */
#define NEEDS_FOLLOW_OP(s, op, err, errlen)                                                        \
    do {                                                                                           \
        if ((s)->ops->op == NULL)                                                                  \
            return sn_fail(err, errlen, SN_ESTORE,                                                 \
                           "following changes is not supported by the %s store", (s)->ops->name);  \
    } while (0)

int sn_store_can_follow(const sn_store *s)
{
    return s->ops->change_cursor != NULL && s->ops->changes_after != NULL &&
           s->ops->listen != NULL && s->ops->wait_changes != NULL;
}

int sn_store_change_cursor(sn_store *s, uint64_t *seq, char *err, size_t errlen)
{
    NEEDS_FOLLOW_OP(s, change_cursor, err, errlen);
    return s->ops->change_cursor(s, seq, err, errlen);
}

int sn_store_changes_after(sn_store *s, uint64_t after, uint32_t limit,
                           int (*fn)(void *ctx, const sn_number_state *st, uint64_t seq), void *ctx,
                           char *err, size_t errlen)
{
    NEEDS_FOLLOW_OP(s, changes_after, err, errlen);
    return s->ops->changes_after(s, after, limit, fn, ctx, err, errlen);
}

int sn_store_listen(sn_store *s, char *err, size_t errlen)
{
    NEEDS_FOLLOW_OP(s, listen, err, errlen);
    return s->ops->listen(s, err, errlen);
}

int sn_store_wait_changes(sn_store *s, int timeout_ms, int wake_fd, char *err, size_t errlen)
{
    NEEDS_FOLLOW_OP(s, wait_changes, err, errlen);
    return s->ops->wait_changes(s, timeout_ms, wake_fd, err, errlen);
}
