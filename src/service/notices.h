/*
 * notices.h - the app's side of notices: the pull feed, one notice, the
 * acknowledgement (an outcome that unbinds removes the binding the notice
 * was about, in the same transaction), and the disconnections feed.
 *
 * Every call is scoped to an app id (0: every app, the admin view), so an
 * app never sees another app's notice: another app's notice id is
 * SN_ENOTFOUND exactly like an id that does not exist.
 */
#ifndef SN_SERVICE_NOTICES_H
#define SN_SERVICE_NOTICES_H

#include "service/service.h"
#include "store/log.h"
#include "store/notices.h"

/* The notices q asks for (q->app 0: every app's), in id order. */
int sn_notices_list(sn_store *s, const sn_notice_query *q, sn_notice_fn fn, void *ctx, char *err,
                    size_t errlen);

/* Notice id of app. */
int sn_notices_get(sn_store *s, uint32_t app, uint64_t id, sn_notice *out, char *err,
                   size_t errlen);

/* Acknowledge notice id of app with outcome (sn_outcome) and note (may be
 * NULL): the same outcome again changes nothing, another one is
 * SN_ECONFLICT. *out is the notice as it now stands. */
int sn_notices_ack(sn_store *s, uint32_t app, uint64_t id, int outcome, const char *note,
                   sn_notice *out, char *err, size_t errlen);

/* The numbers cancelled or reissued since day `since` (not after today),
 * after number `after`, at most limit (store/log.h). */
int sn_notices_disconnections(const sn_service *svc, sn_store *s, sn_day since, sn_number after,
                              uint32_t limit, sn_disconnection_fn fn, void *ctx, char *err,
                              size_t errlen);

#endif
