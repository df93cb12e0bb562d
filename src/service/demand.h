/*
 * demand.h - coverage demand ("I want to check more apps"): a signed-in
 * subscriber names an app the registry does not have; the dashboard ranks
 * the names most asked for. A name is normalized before it is counted
 * (spaces trimmed and runs of them made one, ASCII letters in lower case),
 * so "WeChat " and "wechat" are one name; each subscriber (number and
 * tenure) counts once per name and may name at most
 * SN_DEMAND_PER_SUBSCRIBER_MAX apps.
 */
#ifndef SN_SERVICE_DEMAND_H
#define SN_SERVICE_DEMAND_H

#include "service/signin.h"
#include "store/demand.h"

#define SN_DEMAND_NAME_MAX 64           /* bytes of a normalized name */
#define SN_DEMAND_PER_SUBSCRIBER_MAX 20 /* names one subscriber may ask for */
#define SN_DEMAND_TOP_DEFAULT 20        /* names ranked when no limit is asked */
#define SN_DEMAND_TOP_MAX 100           /* names ranked at most */

/* Normalize text into out (SN_DEMAND_NAME_MAX + 1 bytes): SN_OK, or
 * SN_EINVAL when it is empty once trimmed, longer than
 * SN_DEMAND_NAME_MAX, or holds a control character. */
int sn_demand_normalize(const char *text, char *out, char *err, size_t errlen);

typedef struct {
    char name[SN_DEMAND_NAME_MAX + 1]; /* as counted */
    int added;                         /* 0: this subscriber had asked before */
    uint64_t votes;                    /* subscribers who asked for it */
} sn_demand_vote;

/* The session's subscriber asks for app `text`: SN_EINVAL for a bad name,
 * SN_ECONFLICT when an app of that name (or display name) is registered,
 * SN_ELIMIT past SN_DEMAND_PER_SUBSCRIBER_MAX names. */
int sn_demand_ask(const sn_service *svc, sn_store *s, const uint8_t *token_hash, const char *text,
                  sn_demand_vote *out, char *err, size_t errlen);

/* The names most asked for, at most limit (1 to SN_DEMAND_TOP_MAX). */
int sn_demand_top(sn_store *s, uint32_t limit, sn_demand_fn fn, void *ctx, char *err,
                  size_t errlen);

#endif
