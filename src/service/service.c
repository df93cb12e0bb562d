/*
 * service.c - what every use case shares (see service.h): the caller's
 * app and the end of a transaction.
 */
#include "service/service.h"

#include "core/errors.h"
#include "store/apps.h"

#include <stdio.h>
#include <time.h>

int sn_service_app_of(sn_store *s, sn_caller *who, char *err, size_t errlen)
{
    if (who->role != SN_ROLE_APP || who->app_id != 0)
        return SN_OK;
    int rc = sn_store_app_id(s, who->app, 0, &who->app_id, err, errlen);
    if (rc != SN_ENOTFOUND)
        return rc;
    if ((rc = sn_store_begin(s, err, errlen)) == SN_OK)
        rc = sn_store_app_id(s, who->app, 1, &who->app_id, err, errlen);
    return sn_service_end(s, rc, 0, err, errlen);
}

int sn_service_end(sn_store *s, int rc, int kept, char *err, size_t errlen)
{
    char why[SN_ERRMSG_MAX];
    if (rc == SN_OK || kept) {
        int c = sn_store_commit(s, why, sizeof(why));
        if (c == SN_OK)
            return rc;
        snprintf(err, errlen, "%s", why);
        rc = c;
    }
    sn_store_rollback(s);
    return rc;
}
