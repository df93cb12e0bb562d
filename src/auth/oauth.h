/*
 * oauth.h - OAuth 2.0 access tokens (JWT, RFC 9068 style) as a resource
 * server takes them: the signature with the configured JWK Set (jwks.h;
 * cjose does the cryptography), then the claims.
 *
 * Accepted: a JWS in compact form of at most SN_OAUTH_TOKEN_MAX bytes,
 * "alg" RS256 or ES256 (anything else, "none" and HS* included, is
 * refused before any key is looked at), no "crit" header, a "kid" that the
 * set has (a token without one: the set's only key, refused when it has
 * several), the key's own algorithm equal to the token's. Claims: "exp"
 * (required), "nbf" and "iat" (optional) held against now with
 * SN_OAUTH_CLOCK_SKEW_S seconds of tolerance each way; "iss" exactly the
 * configured issuer; "aud" (a string or an array) containing the
 * configured audience. What the caller decides from: the client
 * ("client_id", else "azp"), the scopes ("scope", space-separated) and
 * the subscriber of a three-legged token ("sub" as tel:+<E.164>).
 */
#ifndef SN_AUTH_OAUTH_H
#define SN_AUTH_OAUTH_H

#include "core/number.h"

#include <stddef.h>
#include <stdint.h>

#define SN_OAUTH_TOKEN_MAX 8192  /* bytes of the longest access token taken */
#define SN_OAUTH_CLOCK_SKEW_S 60 /* s of clock difference allowed on exp, nbf, iat */
#define SN_OAUTH_CLIENT_MAX 128  /* bytes of the longest client_id (or azp) */
#define SN_OAUTH_ISSUER_MAX 512  /* bytes of --oauth-issuer and --oauth-audience */

/* The scopes that matter here, as bits of sn_oauth_token.scopes. */
#define SN_OAUTH_SCOPE_CAMARA_NAME "number-recycling:check" /* the CAMARA check paths */
#define SN_OAUTH_SCOPE_NATIVE_NAME "secondnum:check"        /* /v1/check and its kin */
#define SN_OAUTH_SCOPE_ADMIN_NAME "secondnum:admin"         /* admin reads (the dashboard) */
#define SN_OAUTH_SCOPE_CAMARA 1u
#define SN_OAUTH_SCOPE_NATIVE 2u
#define SN_OAUTH_SCOPE_ADMIN 4u

typedef struct {
    const char *issuer;   /* the exact "iss" */
    const char *audience; /* must be in "aud" */
    const char *jwks;     /* a file or an http(s) URL */
    /* the client whose tokens with the scope secondnum:admin read as an
     * admin (the GET admin routes, the /admin dashboard); NULL: none */
    const char *admin_client;
} sn_oauth_options;

/* What a valid token says. */
typedef struct {
    char client[SN_OAUTH_CLIENT_MAX + 1]; /* "" when it names none */
    unsigned scopes;                      /* SN_OAUTH_SCOPE_* */
    int three_legged;                     /* sub is a tel: URI: */
    sn_number number;                     /* its number */
} sn_oauth_token;

typedef struct sn_oauth sn_oauth;

/* Check the options and open the key set (jwks.h; a URL is fetched now). */
int sn_oauth_open(const sn_oauth_options *opt, sn_oauth **out, char *err, size_t errlen);
void sn_oauth_close(sn_oauth *o);

/* True when t (verified) reads as an admin: a two-legged token of the
 * configured admin client with the scope secondnum:admin. */
int sn_oauth_is_admin(const sn_oauth *o, const sn_oauth_token *t);

/* True when t looks like a JWT: three base64url parts (two dots). */
int sn_oauth_token_shaped(const char *t, size_t len);

/* Verify token (len bytes) at now (Unix seconds): SN_OK with *out, or
 * SN_EAUTH with why (for a 401). Thread-safe; never waits on the
 * network (an unknown kid only asks the refresher for a new set). */
int sn_oauth_verify(sn_oauth *o, const char *token, size_t len, int64_t now, sn_oauth_token *out,
                    char *err, size_t errlen);

/* The claims step alone (claims: the payload's JSON, len bytes): SN_OK
 * with *out, or SN_EAUTH with why. */
int sn_oauth_check_claims(const char *claims, size_t len, const char *issuer, const char *audience,
                          int64_t now, sn_oauth_token *out, char *err, size_t errlen);

#endif
