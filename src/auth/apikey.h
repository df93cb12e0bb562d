/*
 * apikey.h - API keys: making them, hashing them, and the in-memory keyring
 * the server authenticates every request against.
 *
 * A key is "sn_" followed by 64 hex digits (32 random bytes). The store keeps
 * only BLAKE2b-256 of the key text: keys are random, so an unkeyed hash is
 * enough to make a leaked table useless. The keyring maps hash -> (id, role,
 * carrier) for the live keys; readers take a shared lock, a reload swaps the
 * whole table under the exclusive lock.
 */
#ifndef SN_APIKEY_H
#define SN_APIKEY_H

#include "store/keys.h"

#define SN_KEY_TEXT_LEN 67 /* "sn_" + 64 hex */

/* "app", "carrier", "admin"; NULL for anything else. */
const char *sn_role_name(int role);
/* Role from its name; SN_ROLE_NONE when unknown. */
sn_role sn_role_parse(const char *s);

/* True when s can name a key or a carrier: 1 to SN_KEY_NAME_MAX bytes, no
 * control characters. */
int sn_name_valid(const char *s);

/* Make a new random key into text (SN_KEY_TEXT_LEN + 1 bytes) and its hash. */
void sn_apikey_generate(char *text, uint8_t hash[SN_KEY_HASH_LEN]);

/* Hash a presented key (any bytes, any length). */
void sn_apikey_hash(const char *text, size_t len, uint8_t hash[SN_KEY_HASH_LEN]);

typedef struct sn_keyring sn_keyring;

/* An empty keyring; NULL when out of memory. */
sn_keyring *sn_keyring_new(void);
void sn_keyring_free(sn_keyring *kr);

/* Replace the keyring's contents with the live keys in the store. */
int sn_keyring_load(sn_keyring *kr, sn_store *s, char *err, size_t errlen);

/* Add or revoke one key at once (after the store has it), so the API's own
 * changes take effect before the next reload. */
void sn_keyring_put(sn_keyring *kr, const sn_api_key *k);

/* Look up a presented key: 1 and *out filled when live, 0 otherwise. */
int sn_keyring_find(sn_keyring *kr, const char *text, size_t len, sn_api_key *out);

/* The app key an OAuth client's tokens act as (auth/oauth.h): the live app
 * key named app with the lowest id; 1 and *out filled, 0 when app has no
 * live key. A scan of the keyring. */
int sn_keyring_find_app(sn_keyring *kr, const char *app, sn_api_key *out);

#endif
