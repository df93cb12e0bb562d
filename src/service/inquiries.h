/*
 * inquiries.h - "who checked my number": the apps that checked a signed-in
 * subscriber's number, or bound or unbound an account to it, during the
 * subscriber's own tenure, read from the audit trail (store/audit.h) like
 * the inquiries of a credit report. Never a row from before the tenure's
 * start (a previous owner's): the start is the instant of the number's
 * latest activation, else (a history that begins mid-tenure) of its first
 * recorded event. Reads only; the session is judged first (signin.h).
 */
#ifndef SN_INQUIRIES_H
#define SN_INQUIRIES_H

#include "service/signin.h"
#include "store/audit.h"

#define SN_INQUIRIES_PAGE_DEFAULT 50 /* rows of a page when the caller gives no limit */
#define SN_INQUIRIES_PAGE_MAX 200    /* rows of a page at most */

/* The session's number's inquiries with row id below `before` (0: from the
 * newest), newest first, at most limit, to fn; *since gets the tenure's
 * start (Unix seconds). SN_EAUTH when the session is not valid. */
int sn_inquiries_list(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                      uint64_t before, uint32_t limit, sn_audit_inquiry_fn fn, void *ctx,
                      int64_t *since, char *err, size_t errlen);

#endif
