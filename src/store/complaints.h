/*
 * complaints.h - subscribers' complaints and their resolution. Where a
 * complaint stands (its level) is computed from its times (core/complaint.h);
 * the store filters by it with the same arithmetic.
 */
#ifndef SN_STORE_COMPLAINTS_H
#define SN_STORE_COMPLAINTS_H

#include "core/complaint.h"
#include "store/store.h"

/* Which complaints a list shows: a subscriber's (number and tenure), an
 * app's, those that reached a carrier, or all (admin) that reached
 * min_level; open_only leaves out resolved ones. */
typedef struct {
    sn_number number; /* with tenure: one subscriber's; 0: any */
    uint32_t tenure;
    uint32_t app;     /* 0: any */
    uint32_t carrier; /* 0: any; else only those that reached the carrier level */
    uint8_t min_level;
    uint8_t open_only;
    uint64_t after;
    uint32_t limit;
    int64_t now;
} sn_complaint_query;

typedef int (*sn_complaint_fn)(void *ctx, const sn_complaint *c);

/* Record c (c->id is set). */
int sn_store_add_complaint(sn_store *s, sn_complaint *c, char *err, size_t errlen);

/* Complaints matching q in id order. */
int sn_store_list_complaints(sn_store *s, const sn_complaint_query *q, sn_complaint_fn fn,
                             void *ctx, char *err, size_t errlen);

/* SN_ENOTFOUND when there is no complaint id. */
int sn_store_get_complaint(sn_store *s, uint64_t id, sn_complaint *out, char *err, size_t errlen);

/* Resolve an open complaint at `level` (sn_complaint_level) at time at. */
int sn_store_resolve_complaint(sn_store *s, uint64_t id, int level, const char *resolution,
                               int64_t at, char *err, size_t errlen);

#endif
