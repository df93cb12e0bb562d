/*
 * store.c - the public storage interface, forwarding to the backend chosen at
 * open time (see backend.h). Owns no data of its own.
 */
#include "store/backend.h"

#include "core/errors.h"

int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return sn_fail(err, errlen, SN_EUSAGE, "no database given (--db FILE)");
    return sn_store_sqlite_open(path, rules, out, err, errlen);
}

void sn_store_close(sn_store *s)
{
    if (s != NULL)
        s->ops->close(s);
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

int sn_store_list_keys(sn_store *s, int (*fn)(void *ctx, const sn_api_key *k), void *ctx,
                       char *err, size_t errlen)
{
    return s->ops->list_keys(s, fn, ctx, err, errlen);
}

int sn_store_revoke_key(sn_store *s, uint32_t id, int *found, char *err, size_t errlen)
{
    return s->ops->revoke_key(s, id, found, err, errlen);
}

int sn_store_add_range(sn_store *s, uint32_t carrier, const char *prefix, char *err,
                       size_t errlen)
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
