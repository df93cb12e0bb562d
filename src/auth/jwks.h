/*
 * jwks.h - the JSON Web Key Set an OAuth 2.0 resource server verifies
 * access tokens with (RFC 7517), from a file read at start or from a URL
 * fetched with libcurl.
 *
 * A set, once parsed, never changes: readers (the loop threads) take a
 * reference to the current one (sn_jwks_acquire, a pointer copy under a
 * mutex held for no more than that) and give it back after use; a refresh
 * parses the new document off the loop threads and swaps the pointer, the
 * old set living until its last reader releases it. Readers never wait for
 * the network.
 *
 * A URL is fetched at open (synchronously: serve does not start without
 * keys), then by a background thread every SN_OAUTH_JWKS_REFRESH_S seconds,
 * and sooner when a token names a kid the set lacks (sn_jwks_want_refresh),
 * but never twice within SN_OAUTH_JWKS_MIN_REFRESH seconds. A failed
 * refresh keeps the set it has. A file is read once, at open.
 *
 * Only signing keys of the two algorithms accepted are kept: RSA keys
 * (RS256) and EC keys on P-256 (ES256); a key whose "use" is not "sig" or
 * whose "alg" names another algorithm is skipped. A key of those kinds
 * that cannot be kept (an EC coordinate shorter than the curve's size, a
 * kid longer than SN_OAUTH_KID_MAX) is counted and logged as a warning at
 * each load, so that a token naming it is not a mystery. A set with no key
 * kept is refused.
 */
#ifndef SN_AUTH_JWKS_H
#define SN_AUTH_JWKS_H

#include <stddef.h>
#include <stdint.h>

#define SN_OAUTH_JWKS_MIN_REFRESH 5     /* s: refreshes asked by unknown kids, at most this often */
#define SN_OAUTH_JWKS_REFRESH_S 300     /* s: a URL's set is fetched again this often */
#define SN_OAUTH_JWKS_MAX_BYTES 1048576 /* the largest JWK Set document read */
#define SN_OAUTH_JWKS_MAX_KEYS 64       /* keys kept from one set */
#define SN_OAUTH_JWKS_TIMEOUT_S 10      /* a fetch of the URL gives up after this */
#define SN_OAUTH_KID_MAX 128            /* the longest kid kept */

/* The algorithms of the keys kept. */
typedef enum { SN_JWK_RS256 = 1, SN_JWK_ES256 = 2 } sn_jwk_alg;

typedef struct {
    char kid[SN_OAUTH_KID_MAX + 1]; /* "" when the key has none */
    int alg;                        /* sn_jwk_alg */
    void *jwk;                      /* the cjose_jwk_t */
} sn_jwk;

typedef struct sn_jwks sn_jwks;
typedef struct sn_jwks_source sn_jwks_source;

/* Parse a JWK Set document (len bytes) into *out: SN_OK, or SN_EINVAL
 * with why when it is no JWK Set or keeps no key. */
int sn_jwks_parse(const char *doc, size_t len, sn_jwks **out, char *err, size_t errlen);

/* The key named kid, or, for kid NULL, the set's only key (NULL when the
 * set has several); NULL when there is none. */
const sn_jwk *sn_jwks_find(const sn_jwks *set, const char *kid);

/* How many keys of a kept kind (RSA, EC P-256, for signing) the set could
 * not keep (malformed, a kid too long, past SN_OAUTH_JWKS_MAX_KEYS), and in
 * *why the first of them and the reason (valid while the set is). */
size_t sn_jwks_unusable(const sn_jwks *set, const char **why);

/* A number no other set of the process has (a cache of verified tokens
 * keyed by it never outlives the set that verified them). */
uint64_t sn_jwks_generation(const sn_jwks *set);

/* The generation of src's current set. */
uint64_t sn_jwks_current_generation(sn_jwks_source *src);

/* Give back a reference (from sn_jwks_parse or sn_jwks_acquire). */
void sn_jwks_release(sn_jwks *set);

/* Open where (an http:// or https:// URL, else a file name): its set is
 * read now; a URL's refresher thread starts. */
int sn_jwks_source_open(const char *where, sn_jwks_source **out, char *err, size_t errlen);

/* Stop the refresher and free everything (NULL: nothing). */
void sn_jwks_source_close(sn_jwks_source *src);

/* The current set, referenced: the caller releases it. */
sn_jwks *sn_jwks_acquire(sn_jwks_source *src);

/* A token named a kid the set lacks: wake the refresher unless it ran
 * less than SN_OAUTH_JWKS_MIN_REFRESH seconds ago. Never blocks. */
void sn_jwks_want_refresh(sn_jwks_source *src);

#endif
