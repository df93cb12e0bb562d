/*
 * demand.c - coverage demand (see demand.h). A vote is recorded only for a
 * live session, a well-formed name that no registered app has, and a
 * subscriber under the per-subscriber cap; otherwise nothing is written.
 */
#include "service/demand.h"

#include "core/errors.h"
#include "util/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int sn_demand_normalize(const char *text, char *out, char *err, size_t errlen)
{
    size_t n = 0;
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 && *p != '\t')
            return sn_fail(err, errlen, SN_EINVAL, "name must not hold control characters");
        if (*p == 0x7f)
            return sn_fail(err, errlen, SN_EINVAL, "name must not hold control characters");
        if (*p == ' ' || *p == '\t') {
            space = n > 0;
            continue;
        }
        if (n + (size_t)space + 1 > SN_DEMAND_NAME_MAX)
            return sn_fail(err, errlen, SN_EINVAL, "name must be 1 to %d bytes",
                           SN_DEMAND_NAME_MAX);
        if (space)
            out[n++] = ' ';
        space = 0;
        out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    out[n] = '\0';
    if (n == 0)
        return sn_fail(err, errlen, SN_EINVAL, "name must be 1 to %d bytes", SN_DEMAND_NAME_MAX);
    return SN_OK;
}

static int ask(sn_store *s, const sn_session *ses, sn_demand_vote *out, char *err, size_t errlen)
{
    uint64_t mine = 0;
    int known = 0, asked = 0;
    int rc = sn_store_demand_known(s, out->name, &known, err, errlen);
    if (rc == SN_OK && known)
        return sn_fail(err, errlen, SN_ECONFLICT, "'%s' is an app of the registry already",
                       out->name);
    if (rc == SN_OK)
        rc = sn_store_demand_count(s, ses->number, ses->tenure, out->name, &mine, &out->votes,
                                   &asked, err, errlen);
    if (rc != SN_OK || asked) /* asked before: counted once already */
        return rc;
    if (mine >= SN_DEMAND_PER_SUBSCRIBER_MAX)
        return sn_fail(err, errlen, SN_ELIMIT, "a subscriber may ask for at most %d apps",
                       SN_DEMAND_PER_SUBSCRIBER_MAX);
    rc = sn_store_demand_add(s, out->name, ses->number, ses->tenure, sn_wall_sec(), &out->added,
                             err, errlen);
    if (rc == SN_OK && out->added)
        out->votes++;
    return rc;
}

int sn_demand_ask(const sn_service *svc, sn_store *s, const uint8_t *token_hash, const char *text,
                  sn_demand_vote *out, char *err, size_t errlen)
{
    sn_session ses;
    memset(out, 0, sizeof(*out));
    int rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen);
    if (rc == SN_OK)
        rc = sn_demand_normalize(text != NULL ? text : "", out->name, err, errlen);
    if (rc != SN_OK)
        return rc;
    if ((rc = sn_store_begin(s, err, errlen)) != SN_OK)
        return rc;
    rc = ask(s, &ses, out, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_demand_top(sn_store *s, uint32_t limit, sn_demand_fn fn, void *ctx, char *err, size_t errlen)
{
    if (limit < 1 || limit > SN_DEMAND_TOP_MAX)
        return sn_fail(err, errlen, SN_EINVAL, "limit must be 1 to %d", SN_DEMAND_TOP_MAX);
    return sn_store_demand_top(s, limit, fn, ctx, err, errlen);
}
