/*
 * oauthclients.h - the OAuth 2.0 clients serve knows (client id -> app
 * name), loaded from the store at start and reloaded by the writer's tick
 * like the keyring (service/keys.c), so `secondnum apps oauth` takes
 * effect within a second. Thread-safe: readers on the loop threads take a
 * read lock held for one binary search.
 */
#ifndef SN_AUTH_OAUTHCLIENTS_H
#define SN_AUTH_OAUTHCLIENTS_H

#include "store/apps.h"

typedef struct sn_oauth_clients sn_oauth_clients;

/* An empty table; NULL when out of memory. */
sn_oauth_clients *sn_oauth_clients_new(void);
void sn_oauth_clients_free(sn_oauth_clients *t);

/* Replace the table's contents with the store's mappings. */
int sn_oauth_clients_load(sn_oauth_clients *t, sn_store *s, char *err, size_t errlen);

/* The app client (len bytes) acts for: 1 with app filled, 0 when none. */
int sn_oauth_clients_find(sn_oauth_clients *t, const char *client, char app[SN_APP_NAME_MAX + 1]);

#endif
