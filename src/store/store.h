/*
 * store.h - the storage interface: the event log, the current state per
 * number, carriers and the deployment's settings.
 *
 * One interface, one file per backend (store_sqlite.c; PostgreSQL later).
 * The ledger (ledger.h) drives it with small primitives inside a transaction
 * it opens and closes; a backend never decides lifecycle questions.
 *
 * Durability contract every backend keeps:
 *   1. commit returns SN_OK only once the transaction is durable (survives
 *      kill -9 of the process; with SQLite, WAL with synchronous=FULL also
 *      survives power loss);
 *   2. a transaction is all or nothing: after rollback, or a crash before
 *      commit returned, none of its writes are visible;
 *   3. the event log is append-only: events are inserted, never updated or
 *      deleted; a number's state row always equals the result of applying
 *      its logged events in order (both are written in one transaction).
 *
 * A store handle is used by one thread at a time.
 */
#ifndef SN_STORE_H
#define SN_STORE_H

#include "core/lifecycle.h"
#include "crypto/secret.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sn_store sn_store;

/* An event as the log records it: the core event plus what only the log keeps. */
typedef struct {
    sn_event ev;
    const char *event_id;  /* carrier's event id, NULL when absent; not owned */
    uint32_t event_id_len;
    uint32_t index;        /* position in the caller's input (line, array index) */
    uint8_t has_id6;
    uint8_t id6_hash[SN_ID6_HASH_LEN];
} sn_log_event;

#define SN_EVENT_ID_MAX 64
#define SN_CARRIER_NAME_MAX 64

/* Open (and create when absent) the store at path. When the store is new it
 * is initialised with *rules (or the defaults when rules is NULL); an existing
 * store keeps the rules it was created with. */
int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                  size_t errlen);

/* Close; accepts NULL. An open transaction is rolled back. */
void sn_store_close(sn_store *s);

/* The jurisdiction rules recorded in the store. */
const sn_rules *sn_store_rules(const sn_store *s);

/* True when the store was created by this open. */
int sn_store_created(const sn_store *s);

int sn_store_begin(sn_store *s, char *err, size_t errlen);
int sn_store_commit(sn_store *s, char *err, size_t errlen);
void sn_store_rollback(sn_store *s);

/* The state of number n; an absent number yields an UNSEEN state. */
int sn_store_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);

/* Insert or replace a number's state (inside a transaction). */
int sn_store_put_state(sn_store *s, const sn_number_state *st, char *err, size_t errlen);

/* Is an event identical to e already logged: same number, kind and time, and
 * the same event id when both have one? Sets *found to 0 or 1. */
int sn_store_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);

/* Append e to the log as the number's event with the given ordinal (1-based). */
int sn_store_append_event(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                          size_t errlen);

/* The id of carrier `name`, created when absent and create is set
 * (SN_ENOTFOUND otherwise). */
int sn_store_carrier_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                        size_t errlen);

/* Call fn for every number's state, in number order (used to build the
 * serving index and to verify consistency). A non-zero return from fn stops
 * the scan and is returned. */
int sn_store_scan_states(sn_store *s, int (*fn)(void *ctx, const sn_number_state *st), void *ctx,
                         char *err, size_t errlen);

/* Call fn for every logged event of number n in log order. */
int sn_store_scan_events(sn_store *s, sn_number n,
                         int (*fn)(void *ctx, const sn_log_event *e, uint32_t ordinal), void *ctx,
                         char *err, size_t errlen);

/* An API key as the store keeps it: never the key itself, only its hash. */
typedef enum { SN_ROLE_NONE = 0, SN_ROLE_APP = 1, SN_ROLE_CARRIER = 2, SN_ROLE_ADMIN = 3 } sn_role;

#define SN_KEY_HASH_LEN 32
#define SN_KEY_NAME_MAX 64

typedef struct {
    uint32_t id;
    uint8_t role;     /* sn_role */
    uint8_t revoked;
    uint32_t carrier; /* for carrier keys: the carrier's id */
    char name[SN_KEY_NAME_MAX + 1];
    uint8_t hash[SN_KEY_HASH_LEN];
} sn_api_key;

/* Add a key (k->id is ignored); sets *id. */
int sn_store_add_key(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen);

/* Call fn for every key, revoked ones included, in id order. */
int sn_store_list_keys(sn_store *s, int (*fn)(void *ctx, const sn_api_key *k), void *ctx,
                       char *err, size_t errlen);

/* Revoke key id; *found is 0 when there is no such key. */
int sn_store_revoke_key(sn_store *s, uint32_t id, int *found, char *err, size_t errlen);

/* Give carrier `carrier` a number range: an E.164 prefix such as "+86138". */
int sn_store_add_range(sn_store *s, uint32_t carrier, const char *prefix, char *err,
                       size_t errlen);

/* Call fn for every carrier (with no range: prefix NULL) and each of its
 * ranges, in carrier id then prefix order. */
int sn_store_list_ranges(sn_store *s,
                         int (*fn)(void *ctx, uint32_t carrier, const char *name,
                                   const char *prefix),
                         void *ctx, char *err, size_t errlen);

/* The backend's own structural check (SQLite: PRAGMA integrity_check).
 * SN_OK, or SN_ESTORE with the first problem found. */
int sn_store_integrity(sn_store *s, char *err, size_t errlen);

#endif
