/*
 * keys.h - API keys (only their hashes), carriers and the number ranges
 * each carrier owns.
 */
#ifndef SN_STORE_KEYS_H
#define SN_STORE_KEYS_H

#include "core/limits.h"
#include "store/store.h"

typedef enum { SN_ROLE_NONE = 0, SN_ROLE_APP = 1, SN_ROLE_CARRIER = 2, SN_ROLE_ADMIN = 3 } sn_role;

#define SN_KEY_HASH_LEN 32

/* An API key as the store keeps it: never the key itself, only its hash. */
typedef struct {
    uint32_t id;
    uint8_t role; /* sn_role */
    uint8_t revoked;
    uint32_t carrier; /* for carrier keys: the carrier's id */
    char name[SN_KEY_NAME_MAX + 1];
    uint8_t hash[SN_KEY_HASH_LEN];
    uint32_t rate_per_s;   /* numbers the key may check a second; 0: the server's default */
    uint64_t rate_per_day; /* and a day (on each node); 0: the server's default */
} sn_api_key;

typedef int (*sn_key_fn)(void *ctx, const sn_api_key *k);
#define SN_PREFIX_MAX 16 /* a range: "+" and up to 15 digits */

/* A carrier and one of its ranges. */
typedef struct {
    uint32_t carrier;
    char name[SN_CARRIER_NAME_MAX + 1];
    char prefix[SN_PREFIX_MAX + 1]; /* "" for a carrier with no range */
} sn_range;

typedef int (*sn_range_fn)(void *ctx, const sn_range *r);

/* The id of carrier `name`, created when absent and create is set
 * (SN_ENOTFOUND otherwise). */
int sn_store_carrier_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                        size_t errlen);

/* Give carrier `carrier` a number range: an E.164 prefix such as "+86138"
 * (adding one it has is not an error). */
int sn_store_add_range(sn_store *s, uint32_t carrier, const char *prefix, char *err, size_t errlen);

/* Call fn for every carrier (once with prefix "" when it has no range) and
 * each of its ranges, in carrier id then prefix order. */
int sn_store_list_ranges(sn_store *s, sn_range_fn fn, void *ctx, char *err, size_t errlen);

/* Add a key (k->id is ignored); sets *id. */
int sn_store_add_key(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen);

/* Call fn for every key, revoked ones included, in id order. */
int sn_store_list_keys(sn_store *s, sn_key_fn fn, void *ctx, char *err, size_t errlen);

/* Revoke key id; *found is 0 when there is no such key. */
int sn_store_revoke_key(sn_store *s, uint32_t id, int *found, char *err, size_t errlen);

#endif
