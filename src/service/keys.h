/*
 * keys.h - the deployment's API keys and carriers: what admins do over
 * HTTP and operators with `secondnum keys` and `secondnum carriers`.
 * Names and prefixes come validated by the caller (sn_name_valid,
 * sn_number_prefix_valid). A key is made here and shown once: only its
 * hash is stored. When the service has a keyring (serve), a key created
 * or revoked takes effect at once; other processes' keyrings reload it
 * within a second (writer.h).
 */
#ifndef SN_SERVICE_KEYS_H
#define SN_SERVICE_KEYS_H

#include "service/service.h"

#define SN_CARRIER_RANGES_MAX 256 /* ranges added at once */

/* Add carrier `name` (created when absent) and its ranges, in one
 * transaction; *id gets the carrier's id. */
int sn_carriers_add(sn_store *s, const char *name, const char *const *ranges, size_t n,
                    uint32_t *id, char *err, size_t errlen);

/* Every carrier and its ranges (store/keys.h, sn_store_list_ranges). */
int sn_carriers_list(sn_store *s, sn_range_fn fn, void *ctx, char *err, size_t errlen);

typedef struct {
    sn_api_key key;                 /* as stored (its id set) */
    char text[SN_KEY_TEXT_LEN + 1]; /* the key itself, to show once */
} sn_new_key;

/* Make a key of role for name; a carrier key names its carrier (created
 * when absent), others pass NULL. rate_per_s and rate_per_day limit the
 * numbers the key may check (0: the server's default; the caller checks
 * them against SN_CHECK_RATE_MAX and SN_CHECK_DAILY_MAX). */
int sn_keys_create(const sn_service *svc, sn_store *s, int role, const char *name,
                   const char *carrier, uint32_t rate_per_s, uint64_t rate_per_day, sn_new_key *out,
                   char *err, size_t errlen);

/* Every key, revoked ones too, in id order, with its carrier's name (NULL
 * for keys of other roles). */
typedef int (*sn_key_view_fn)(void *ctx, const sn_api_key *k, const char *carrier);
int sn_keys_list(sn_store *s, sn_key_view_fn fn, void *ctx, char *err, size_t errlen);

/* Reload svc->keys (and svc->oauth_clients, when set) from the store (the
 * writer's tick: keys made or revoked and OAuth clients mapped by another
 * process take effect within a second); a failure keeps the loaded ones
 * and is logged once. */
void sn_keys_reload(void *svc, sn_store *s);

/* Revoke key id: SN_OK, or SN_ENOTFOUND when there is no such key. */
int sn_keys_revoke(const sn_service *svc, sn_store *s, uint64_t id, char *err, size_t errlen);

#endif
