/*
 * log.h - the event log and each number's current state: what the ledger
 * writes, what the serving index is built from, and the changes other
 * serve nodes follow.
 *
 * Events are appended with their ordinal in their number's history (1, 2,
 * ...), so a number's history is one key range in log order. A number's
 * state row is written in the transaction that logs its events.
 */
#ifndef SN_STORE_LOG_H
#define SN_STORE_LOG_H

#include "core/limits.h"
#include "crypto/secret.h"
#include "store/store.h"

/* An event as the log records it: the core event plus what only the log keeps. */
typedef struct {
    sn_event ev;
    const char *event_id; /* carrier's event id, NULL when absent; not owned */
    uint32_t event_id_len;
    uint32_t index; /* position in the caller's input (line, array index) */
    uint8_t has_id6;
    uint8_t flags; /* SN_LOG_* */
    union {
        uint8_t id6_hash[SN_ID6_HASH_LEN]; /* when has_id6 */
        struct {                           /* port_out (never has an id6): the recipient */
            const char *to;                /* carrier's name; not owned */
            uint32_t to_len;
        };
    };
} sn_log_event;

#define SN_LOG_FORCED 1     /* the carrier overrode the reissue guard */
#define SN_LOG_NEW_TENURE 2 /* the event started a new tenure (set by the ledger) */

typedef int (*sn_state_fn)(void *ctx, const sn_number_state *st);
typedef int (*sn_event_fn)(void *ctx, const sn_log_event *e, uint32_t ordinal);
typedef int (*sn_change_fn)(void *ctx, const sn_number_state *st, uint64_t seq);
typedef int (*sn_disconnection_fn)(void *ctx, sn_number n, sn_day cancelled, sn_day reissued);

/* What a backend implements (backend.h); callers use the functions below. */
typedef struct {
    int (*get_state)(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);
    int (*get_states)(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                      char *err, size_t errlen);
    int (*put_state)(sn_store *s, const sn_number_state *st, int fresh, char *err, size_t errlen);
    int (*find_event)(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);
    int (*append_event)(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                        size_t errlen);
    int (*scan_states)(sn_store *s, sn_state_fn fn, void *ctx, char *err, size_t errlen);
    int (*scan_events)(sn_store *s, sn_number n, sn_event_fn fn, void *ctx, char *err,
                       size_t errlen);
    /* Make this transaction's writes visible to SQL that reads the log
     * tables (a backend that buffers them sends them); NULL: nothing to do. */
    int (*sync)(sn_store *s, char *err, size_t errlen);
} sn_log_ops;

/* The change numbers a handle's last committed transaction took for its
 * state writes: every one in (from, to], and no other writer's among them
 * (writers draw them one at a time under the writer lock); from == to when
 * it wrote no state or the backend cannot tell. session: the server session
 * that committed it (PostgreSQL: its backend process id; 0: unknown). */
typedef struct {
    uint64_t from, to;
    int64_t session;
} sn_store_commit_changes;

/* Following the changes: only a backend that several processes share. */
typedef struct {
    int (*cursor)(sn_store *s, uint64_t *seq, char *err, size_t errlen);
    int (*after)(sn_store *s, uint64_t after, uint64_t floor, uint32_t limit, sn_change_fn fn,
                 void *ctx, char *err, size_t errlen);
    int (*listen)(sn_store *s, char *err, size_t errlen);
    int (*wait)(sn_store *s, int timeout_ms, int wake_fd, int64_t ignore_session, char *err,
                size_t errlen);
} sn_changes_ops;

/* The state of number n; an absent number yields an UNSEEN state. */
int sn_store_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);

/* The states of numbers[0..n), which ascend strictly, into out[0..n): as n
 * calls of sn_store_get_state, at less cost for numbers close together. */
int sn_store_get_states(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                        char *err, size_t errlen);

/* Write a number's state (inside a transaction). fresh: the store held no
 * state for it (the state as read had no events), so its row is inserted
 * (SN_ESTORE when one is there); else its row is updated (SN_ESTORE when
 * none is). */
int sn_store_put_state(sn_store *s, const sn_number_state *st, int fresh, char *err, size_t errlen);

/* Is an event identical to e already logged: same number, kind and time, and
 * the same event id when both have one? Sets *found to 0 or 1. */
int sn_store_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);

/* Append e to the log as the number's event with the given ordinal
 * (1 to SN_MAX_EVENTS_PER_NUMBER; SN_ELIMIT otherwise). */
int sn_store_append_event(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                          size_t errlen);

/* Call fn for every number's state, in number order (the serving index is
 * built from it; verify replays against it). fn may read through the handle
 * meanwhile. A non-zero return from fn stops the scan and is returned. */
int sn_store_scan_states(sn_store *s, sn_state_fn fn, void *ctx, char *err, size_t errlen);

/* Call fn for every logged event of number n in log order; fn may use the
 * handle meanwhile, but not for another scan_events. A non-zero return from
 * fn stops and is returned. */
int sn_store_scan_events(sn_store *s, sn_number n, sn_event_fn fn, void *ctx, char *err,
                         size_t errlen);

/* Numbers cancelled or reissued on or after day `since`, in number order
 * after `after` (0: from the start), at most limit: fn gets the day of the
 * number's latest cancellation and latest reissue, SN_DAY_NONE for the one
 * before `since` (or never). Read from the numbers' states, no index. */
int sn_store_list_disconnections(sn_store *s, sn_day since, sn_number after, uint32_t limit,
                                 sn_disconnection_fn fn, void *ctx, char *err, size_t errlen);

/* ---- following the changes (several serve nodes on one server store) -----
 * Every write of a number's state takes a new change number (seq), and
 * seqs become visible in increasing order: once the changes up to seq N
 * were read, reading the changes after N misses none and repeats none (a
 * number changed again shows once, with its latest state and seq). Both
 * backends keep them (SQLite since schema 7: an index snapshot's replay
 * reads them), but only a store several processes share (PostgreSQL) can
 * be followed: on SQLite, listen and wait must not be called.
 * docs/internals/postgres.md ("Several nodes") explains why it holds. */

/* 1 when other processes write the store and can be followed (PostgreSQL:
 * listen and wait work). */
int sn_store_can_follow(const sn_store *s);

/* 1 when the backend keeps change numbers (cursor and changes_after work). */
int sn_store_has_changes(const sn_store *s);

/* The highest committed change number (0 when no state was ever written). */
int sn_store_change_cursor(sn_store *s, uint64_t *seq, char *err, size_t errlen);

/* The states written after change `after`, in change order, at most limit:
 * fn gets each with its change number; a non-zero return stops the call
 * and is returned. */
int sn_store_changes_after(sn_store *s, uint64_t after, uint32_t limit, sn_change_fn fn, void *ctx,
                           char *err, size_t errlen);

/* The same from a server that may lag behind the one written to (a hot
 * standby): nothing at all unless the read's snapshot holds change `floor`
 * (its highest change number is floor or more), so every state it returns
 * is as new as any committed up to floor. One statement, one snapshot:
 * also right when the connection moved to another server meanwhile. */
int sn_store_changes_after_floor(sn_store *s, uint64_t after, uint64_t floor, uint32_t limit,
                                 sn_change_fn fn, void *ctx, char *err, size_t errlen);

/* Ask to be woken by commits that write states (PostgreSQL: LISTEN). A
 * connection lost later loses it: call again after sn_store_wait_changes
 * failed. */
int sn_store_listen(sn_store *s, char *err, size_t errlen);

/* Wait at most timeout_ms for a commit that wrote states (after
 * sn_store_listen), or for wake_fd (-1: none; the caller drains it) to be
 * readable. A commit of session ignore_session (a node's own writer, which
 * puts its states into the index itself; 0: none) does not wake it.
 * 1 when woken, 0 at the timeout, SN_ESTORE when the connection
 * was lost or is not listening (listen again, then read what was missed). */
int sn_store_wait_changes(sn_store *s, int timeout_ms, int wake_fd, int64_t ignore_session,
                          char *err, size_t errlen);

/* The change numbers of this handle's last commit (sn_store_commit_changes;
 * all zero before the first and for a backend without change numbers;
 * from == to after a commit that wrote no state). Both backends: the
 * follower skips its own node's commits by them (PostgreSQL), and a serving
 * process tells from them whether its index holds every change up to `to`
 * (service/snapshots.h, SQLite). */
void sn_store_last_commit_changes(const sn_store *s, sn_store_commit_changes *out);

#endif
