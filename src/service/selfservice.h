/*
 * selfservice.h - what a signed-in subscriber does with their number: see
 * every app bound to it, split into their own tenure's bindings and a
 * previous owner's; ask an app to unbind; follow those requests; get the
 * summary by SMS; and the checklist before cancelling the number. Every
 * call judges the session first (signin.h): SN_EAUTH when it expired or
 * ended. Reads take no transaction; a write is one.
 */
#ifndef SN_SELFSERVICE_H
#define SN_SELFSERVICE_H

#include "service/signin.h"
#include "store/notices.h"

#define SN_SUMMARY_DATES 100 /* bound_at times listed per app; the count is exact */

/* One app's bindings on the number. */
typedef struct {
    uint32_t app;
    char name[SN_APP_NAME_MAX + 1];
    char display[SN_DISPLAY_NAME_MAX + 1]; /* its display name, else its name */
    uint32_t mine, previous;               /* bindings in this tenure, in earlier ones */
    int64_t dates[SN_SUMMARY_DATES];       /* bound_at of the first `mine`, oldest first */
    int requested;                         /* checklist: an unbind request of "mine" is open */
} sn_app_summary;

/* The session's number's bindings, per app (by app name): *apps (the
 * caller frees it) of *n; *ses the session. */
int sn_selfservice_bindings(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                            sn_session *ses, sn_app_summary **apps, size_t *n, char *err,
                            size_t errlen);

/* The checklist before cancelling: as sn_selfservice_bindings, with
 * `requested` set. */
int sn_selfservice_checklist(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                             sn_session *ses, sn_app_summary **apps, size_t *n, char *err,
                             size_t errlen);

/* Ask app `app` to unbind the bindings in scope (sn_request_scope): one
 * unbind_request notice per binding, deadline from the deployment's
 * notice deadline. SN_ENOTFOUND when there is no such app or it holds none
 * in scope; SN_ECONFLICT when every one is already asked about. *out is
 * the request as a listing shows it. */
int sn_selfservice_unbind(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                          const char *app, int scope, sn_request *out, char *err, size_t errlen);

/* The session's requests, newest first. */
int sn_selfservice_requests(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                            sn_request_fn fn, void *ctx, char *err, size_t errlen);

/* Queue the summary by SMS in lang (NULL: the session's): the language
 * used into lang_out, the text into text. */
int sn_selfservice_report(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                          const char *lang, char lang_out[SN_LANG_LEN + 1], char *text, size_t cap,
                          char *err, size_t errlen);

/* The messages sent to subscribers, for the operator (`secondnum sms`): of
 * number n (0: all), in state (-1: any), after id `after`, at most limit. */
int sn_selfservice_messages(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                            sn_sms_fn fn, void *ctx, char *err, size_t errlen);

#endif
