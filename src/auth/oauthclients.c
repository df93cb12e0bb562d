/*
 * oauthclients.c - the client id -> app table of serve (see
 * oauthclients.h). Invariant: t->v is sorted by client id; it is replaced
 * whole under the write lock.
 */
#include "auth/oauthclients.h"

#include "auth/oauth.h"
#include "core/errors.h"
#include "util/grow.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SN_OAUTH_CLIENT_MAX == SN_OAUTH_CLIENT_ID_MAX,
               "a token's client and a mapped client id have one length limit");

struct sn_oauth_clients {
    pthread_rwlock_t lock;
    sn_oauth_client *v;
    size_t n;
};

typedef struct {
    sn_oauth_client *v;
    size_t n, cap;
} client_list;

static int cmp(const void *a, const void *b)
{
    return strcmp(((const sn_oauth_client *)a)->client, ((const sn_oauth_client *)b)->client);
}

sn_oauth_clients *sn_oauth_clients_new(void)
{
    sn_oauth_clients *t = calloc(1, sizeof(*t));
    if (t != NULL)
        pthread_rwlock_init(&t->lock, NULL);
    return t;
}

void sn_oauth_clients_free(sn_oauth_clients *t)
{
    if (t == NULL)
        return;
    pthread_rwlock_destroy(&t->lock);
    free(t->v);
    free(t);
}

static int collect(void *ctx, const sn_oauth_client *c)
{
    client_list *l = ctx;
    sn_oauth_client *v = sn_grow(l->v, &l->cap, l->n, sizeof(*v), 16);
    if (v == NULL)
        return SN_ENOMEM;
    l->v = v;
    l->v[l->n++] = *c;
    return 0;
}

int sn_oauth_clients_load(sn_oauth_clients *t, sn_store *s, char *err, size_t errlen)
{
    client_list l = {NULL, 0, 0};
    int rc = sn_store_list_oauth_clients(s, collect, &l, err, errlen);
    if (rc != SN_OK) {
        free(l.v);
        return rc == SN_ENOMEM ? sn_fail(err, errlen, rc, "out of memory") : rc;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), cmp); /* the store's order may not be bytes */
    pthread_rwlock_wrlock(&t->lock);
    sn_oauth_client *old = t->v;
    t->v = l.v;
    t->n = l.n;
    pthread_rwlock_unlock(&t->lock);
    free(old);
    return SN_OK;
}

int sn_oauth_clients_find(sn_oauth_clients *t, const char *client, char app[SN_APP_NAME_MAX + 1])
{
    sn_oauth_client probe;
    if (strlen(client) >= sizeof(probe.client))
        return 0;
    snprintf(probe.client, sizeof(probe.client), "%s", client);
    pthread_rwlock_rdlock(&t->lock);
    const sn_oauth_client *hit = t->n ? bsearch(&probe, t->v, t->n, sizeof(probe), cmp) : NULL;
    if (hit != NULL)
        memcpy(app, hit->app, SN_APP_NAME_MAX + 1);
    pthread_rwlock_unlock(&t->lock);
    return hit != NULL;
}
