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
    int (*get_state)(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);
    int (*put_state)(sn_store *s, const sn_number_state *st, char *err, size_t errlen);
    int (*find_event)(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);
    int (*append_event)(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                        size_t errlen);
    int (*carrier_id)(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                      size_t errlen);
    int (*scan_states)(sn_store *s, int (*fn)(void *, const sn_number_state *), void *ctx,
                       char *err, size_t errlen);
    int (*scan_events)(sn_store *s, sn_number n,
                       int (*fn)(void *, const sn_log_event *, uint32_t), void *ctx, char *err,
                       size_t errlen);
    int (*integrity)(sn_store *s, char *err, size_t errlen);
    int (*add_key)(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen);
    int (*list_keys)(sn_store *s, int (*fn)(void *, const sn_api_key *), void *ctx, char *err,
                     size_t errlen);
    int (*revoke_key)(sn_store *s, uint32_t id, int *found, char *err, size_t errlen);
    int (*add_range)(sn_store *s, uint32_t carrier, const char *prefix, char *err, size_t errlen);
    int (*list_ranges)(sn_store *s,
                       int (*fn)(void *, uint32_t, const char *, const char *), void *ctx,
                       char *err, size_t errlen);
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
