/*
 * group.h - the single check records of one audit transaction gathered
 * into group rows (store/audit.h, "A group row").
 *
 * A check's record alone in its row cost the trail's thread about as much
 * as the check cost its loop (the row, its two index entries, the WAL): so
 * the checks one app's key asks on one route within one second, answered
 * alike (status), share a row, up to SN_AUDIT_GROUP_ITEMS of them, each
 * with its number's hash, day asked, verdict, millisecond and x-correlator.
 * The caller writes a transaction's group rows before its other rows.
 * Invariants: a record joins at most one group; a group is written whole
 * (one row) by the callback, in the transaction its records were taken in:
 * when it is full, when an (SN_AUDIT_GROUP_OPEN + 1)th key comes (the
 * oldest group goes), and at flush; after a failed transaction the caller
 * clears the groups (its records are taken again).
 */
#ifndef SN_AUDIT_GROUP_H
#define SN_AUDIT_GROUP_H

#include "audit/audit.h"
#include "store/audit.h"

#include <stddef.h>
#include <stdint.h>

#define SN_AUDIT_GROUP_ITEMS 1024 /* records one group row holds at most */
#define SN_AUDIT_GROUP_OPEN 16    /* groups gathering at once in a transaction */

typedef struct sn_audit_groups sn_audit_groups;

/* Writes one row (a full group, or one at flush). */
typedef int (*sn_audit_row_write_fn)(void *ctx, const sn_audit_row *row, char *err, size_t errlen);

/* A packed item: hash (NULL: none, zeros), day, verdict byte. */
void sn_audit_item_put(uint8_t out[SN_AUDIT_ITEM_BYTES], const uint8_t *hash, sn_day day,
                       uint8_t verdict);

/* Whether r goes in a group: an app's check of one number with a verdict,
 * hashed (hashing on), whose answer nobody waits for (no done callback).
 * A subscriber's own checks (no app) keep rows of their own. */
int sn_audit_groupable(const sn_audit_record *r, int hashing);

int sn_audit_groups_new(sn_audit_groups **out);
void sn_audit_groups_free(sn_audit_groups *g);

/* r (groupable) joins its group, hash its number's; a group written on the
 * way goes through write. */
int sn_audit_groups_add(sn_audit_groups *g, const sn_audit_record *r,
                        const uint8_t hash[SN_AUDIT_HASH_LEN], sn_audit_row_write_fn write,
                        void *ctx, char *err, size_t errlen);

/* Every open group written through write, oldest first; none left open. */
int sn_audit_groups_flush(sn_audit_groups *g, sn_audit_row_write_fn write, void *ctx, char *err,
                          size_t errlen);

/* Every open group dropped unwritten (its transaction failed). */
void sn_audit_groups_clear(sn_audit_groups *g);

#endif
