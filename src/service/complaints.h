/*
 * complaints.h - subscribers' complaints and the desks that answer them:
 * the app a complaint names, the carrier of record once it has escalated
 * there, and the regulator (admin keys) once it has escalated again, or at
 * any time (core/complaint.h has the escalation). The caller's role
 * decides what a desk sees: an app its own complaints at any level, a
 * carrier those of its numbers that reached it, the admin all of them; a
 * complaint a desk may not see is SN_ENOTFOUND like a missing one.
 */
#ifndef SN_SERVICE_COMPLAINTS_H
#define SN_SERVICE_COMPLAINTS_H

#include "service/signin.h"
#include "store/complaints.h"

#define SN_COMPLAINTS_LISTED 500 /* a subscriber's complaints listed at once */

/* File a complaint of kind about app (NULL: none named) with text (1 to
 * SN_COMPLAINT_TEXT_MAX bytes), for the session's number; *out as stored. */
int sn_complaints_file(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                       const char *app, int kind, const char *text, sn_complaint *out, char *err,
                       size_t errlen);

/* The session's complaints. */
int sn_complaints_mine(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                       sn_complaint_fn fn, void *ctx, char *err, size_t errlen);

/* A desk's complaints: q's state, level (the caller lets only admins set
 * it) and paging as asked; the rest of q is set from who. SN_EPERM for a carrier key that names no
 * carrier. */
int sn_complaints_desk(sn_store *s, const sn_caller *who, sn_complaint_query *q, sn_complaint_fn fn,
                       void *ctx, char *err, size_t errlen);

/* Resolve complaint id at who's level with resolution (1 to SN_NOTE_MAX
 * bytes); SN_ECONFLICT when it already was. *out as it now stands. */
int sn_complaints_resolve(sn_store *s, const sn_caller *who, uint64_t id, const char *resolution,
                          sn_complaint *out, char *err, size_t errlen);

#endif
