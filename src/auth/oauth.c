/*
 * oauth.c - verifying OAuth 2.0 JWT access tokens (see oauth.h): the
 * header's algorithm and key, the signature (cjose), then the claims.
 * Holds only the options and the key source. Each thread remembers the
 * last token whose signature it verified (its claims and the key set that
 * verified it): the head of a request and then the request itself, or a
 * client reusing its token, cost one signature check; the claims are
 * checked again every time, and a new key set makes it verify again.
 */
#include "auth/oauth.h"

#include "auth/jwks.h"
#include "core/errors.h"

#include <cjose/cjose.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t len, clen;
    uint64_t set; /* sn_jwks_generation of the set that verified it; 0: none */
    char token[SN_OAUTH_TOKEN_MAX];
    char claims[SN_OAUTH_TOKEN_MAX]; /* decoded, so shorter than the token */
} verified_token;

static _Thread_local verified_token last_verified;

struct sn_oauth {
    char issuer[SN_OAUTH_ISSUER_MAX + 1];
    char audience[SN_OAUTH_ISSUER_MAX + 1];
    char admin_client[SN_OAUTH_CLIENT_MAX + 1]; /* "": no admin tokens */
    sn_jwks_source *keys;
};

int sn_oauth_open(const sn_oauth_options *opt, sn_oauth **out, char *err, size_t errlen)
{
    *out = NULL;
    if (opt->issuer == NULL || opt->audience == NULL || opt->jwks == NULL)
        return sn_fail(err, errlen, SN_ECONFIG,
                       "--oauth-issuer, --oauth-audience and --oauth-jwks go together");
    if (opt->issuer[0] == '\0' || strlen(opt->issuer) > SN_OAUTH_ISSUER_MAX ||
        opt->audience[0] == '\0' || strlen(opt->audience) > SN_OAUTH_ISSUER_MAX)
        return sn_fail(err, errlen, SN_ECONFIG,
                       "--oauth-issuer and --oauth-audience must be 1 to %d bytes",
                       SN_OAUTH_ISSUER_MAX);
    if (opt->admin_client != NULL &&
        (opt->admin_client[0] == '\0' || strlen(opt->admin_client) > SN_OAUTH_CLIENT_MAX))
        return sn_fail(err, errlen, SN_ECONFIG, "--oauth-admin-client must be 1 to %d bytes",
                       SN_OAUTH_CLIENT_MAX);
    sn_oauth *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    snprintf(o->issuer, sizeof(o->issuer), "%s", opt->issuer);
    snprintf(o->audience, sizeof(o->audience), "%s", opt->audience);
    if (opt->admin_client != NULL)
        snprintf(o->admin_client, sizeof(o->admin_client), "%s", opt->admin_client);
    int rc = sn_jwks_source_open(opt->jwks, &o->keys, err, errlen);
    if (rc != SN_OK) {
        free(o);
        return rc;
    }
    *out = o;
    return SN_OK;
}

int sn_oauth_is_admin(const sn_oauth *o, const sn_oauth_token *t)
{
    return o != NULL && o->admin_client[0] != '\0' && !t->three_legged &&
           (t->scopes & SN_OAUTH_SCOPE_ADMIN) != 0 && strcmp(t->client, o->admin_client) == 0;
}

void sn_oauth_close(sn_oauth *o)
{
    if (o == NULL)
        return;
    sn_jwks_source_close(o->keys);
    free(o);
}

static int b64url_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

int sn_oauth_token_shaped(const char *t, size_t len)
{
    size_t dots = 0, part = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (part == 0)
                return 0;
            dots++;
            part = 0;
        } else if (!b64url_char(t[i])) {
            return 0;
        } else {
            part++;
        }
    }
    return dots == 2 && part > 0;
}

/* ---- claims --------------------------------------------------------------- */

/* A NumericDate claim: 1 with *v, 0 when absent; -1 when not a number. */
static int numeric_date(json_t *claims, const char *name, double *v)
{
    json_t *j = json_object_get(claims, name);
    if (j == NULL)
        return 0;
    if (!json_is_number(j) || !isfinite(json_number_value(j)))
        return -1;
    *v = json_number_value(j);
    return 1;
}

static int check_times(json_t *claims, int64_t now, char *err, size_t errlen)
{
    double exp, nbf, iat, t = (double)now;
    int has;
    if ((has = numeric_date(claims, "exp", &exp)) <= 0)
        return sn_fail(err, errlen, SN_EAUTH, "the access token %s",
                       has == 0 ? "has no exp" : "has an exp that is no number");
    if (t > exp + SN_OAUTH_CLOCK_SKEW_S)
        return sn_fail(err, errlen, SN_EAUTH, "the access token has expired");
    if ((has = numeric_date(claims, "nbf", &nbf)) < 0 || (has && t + SN_OAUTH_CLOCK_SKEW_S < nbf))
        return sn_fail(err, errlen, SN_EAUTH, "the access token is not valid yet (nbf)");
    if ((has = numeric_date(claims, "iat", &iat)) < 0 || (has && t + SN_OAUTH_CLOCK_SKEW_S < iat))
        return sn_fail(err, errlen, SN_EAUTH, "the access token was issued in the future (iat)");
    return SN_OK;
}

static int audience_has(json_t *aud, const char *audience)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), audience) == 0;
    for (size_t i = 0; json_is_array(aud) && i < json_array_size(aud); i++) {
        const char *a = json_string_value(json_array_get(aud, i));
        if (a != NULL && strcmp(a, audience) == 0)
            return 1;
    }
    return 0;
}

static unsigned scopes_of(const char *scope)
{
    unsigned bits = 0;
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{SN_OAUTH_SCOPE_CAMARA_NAME, SN_OAUTH_SCOPE_CAMARA},
                 {SN_OAUTH_SCOPE_NATIVE_NAME, SN_OAUTH_SCOPE_NATIVE},
                 {SN_OAUTH_SCOPE_ADMIN_NAME, SN_OAUTH_SCOPE_ADMIN}};
    while (scope != NULL && *scope != '\0') {
        size_t n = strcspn(scope, " ");
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (n == strlen(known[k].name) && memcmp(scope, known[k].name, n) == 0)
                bits |= known[k].bit;
        scope += n;
        scope += strspn(scope, " ");
    }
    return bits;
}

/* Who and what: the client, the scopes, a tel: subject. */
static int read_subject(json_t *claims, sn_oauth_token *out, char *err, size_t errlen)
{
    const char *client = json_string_value(json_object_get(claims, "client_id"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    char why[SN_ERRMSG_MAX];
    if (client == NULL)
        client = json_string_value(json_object_get(claims, "azp"));
    if (client != NULL && strlen(client) <= SN_OAUTH_CLIENT_MAX)
        snprintf(out->client, sizeof(out->client), "%s", client);
    out->scopes = scopes_of(json_string_value(json_object_get(claims, "scope")));
    if (sub == NULL || strncmp(sub, "tel:", 4) != 0)
        return SN_OK;
    if (sub[4] != '+' ||
        sn_number_parse(sub + 4, strlen(sub + 4), 0, &out->number, why, sizeof(why)) != SN_OK)
        return sn_fail(err, errlen, SN_EAUTH,
                       "the access token's sub is a tel: URI without a valid E.164 number");
    out->three_legged = 1;
    return SN_OK;
}

int sn_oauth_check_claims(const char *claims, size_t len, const char *issuer, const char *audience,
                          int64_t now, sn_oauth_token *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *c = json_loadb(claims, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *iss = json_string_value(json_object_get(c, "iss"));
    int rc;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(c))
        rc = sn_fail(err, errlen, SN_EAUTH, "the access token's claims are no JSON object");
    else if ((rc = check_times(c, now, err, errlen)) != SN_OK)
        ;
    else if (iss == NULL || strcmp(iss, issuer) != 0)
        rc = sn_fail(err, errlen, SN_EAUTH, "the access token is not from the trusted issuer");
    else if (!audience_has(json_object_get(c, "aud"), audience))
        rc = sn_fail(err, errlen, SN_EAUTH, "the access token is not meant for this API (aud)");
    else
        rc = read_subject(c, out, err, errlen);
    json_decref(c);
    return rc;
}

/* ---- the signature ---------------------------------------------------------- */

/* The header's algorithm and kid; SN_EAUTH unless RS256 or ES256. */
static int read_header(cjose_jws_t *jws, int *alg, const char **kid, char *err, size_t errlen)
{
    json_t *h = (json_t *)cjose_jws_get_protected(jws);
    const char *a = json_string_value(json_object_get(h, "alg"));
    json_t *k = json_object_get(h, "kid");
    if (a != NULL && strcmp(a, "RS256") == 0)
        *alg = SN_JWK_RS256;
    else if (a != NULL && strcmp(a, "ES256") == 0)
        *alg = SN_JWK_ES256;
    else
        return sn_fail(err, errlen, SN_EAUTH,
                       "the access token must be signed with RS256 or ES256");
    if (json_object_get(h, "crit") != NULL)
        return sn_fail(err, errlen, SN_EAUTH, "the access token has critical header parameters");
    if (k != NULL && !json_is_string(k))
        return sn_fail(err, errlen, SN_EAUTH, "the access token's kid is no string");
    *kid = json_string_value(k);
    return SN_OK;
}

/* Verify jws with the key set: SN_OK with the set's generation in *gen,
 * or SN_EAUTH. */
static int verify_signature(sn_oauth *o, cjose_jws_t *jws, uint64_t *gen, char *err, size_t errlen)
{
    int alg = 0, rc;
    const char *kid = NULL;
    cjose_err cerr;
    if ((rc = read_header(jws, &alg, &kid, err, errlen)) != SN_OK)
        return rc;
    sn_jwks *set = sn_jwks_acquire(o->keys);
    const sn_jwk *key = sn_jwks_find(set, kid);
    *gen = sn_jwks_generation(set);
    if (key == NULL) {
        if (kid != NULL)
            sn_jwks_want_refresh(o->keys);
        rc = sn_fail(err, errlen, SN_EAUTH, "%s",
                     kid != NULL ? "the access token's key (kid) is not in the key set"
                                 : "the access token names no key (kid)");
    } else if (key->alg != alg || !cjose_jws_verify(jws, key->jwk, &cerr)) {
        rc = sn_fail(err, errlen, SN_EAUTH, "the access token's signature does not verify");
    }
    sn_jwks_release(set);
    return rc;
}

/* The signature of token, and its claims into this thread's last_verified. */
static int verify_jws(sn_oauth *o, const char *token, size_t len, char *err, size_t errlen)
{
    cjose_err cerr;
    uint8_t *claims = NULL;
    size_t clen = 0;
    uint64_t gen = 0;
    verified_token *v = &last_verified;
    cjose_jws_t *jws = cjose_jws_import(token, len, &cerr);
    if (jws == NULL)
        return sn_fail(err, errlen, SN_EAUTH, "the access token is no valid JWS");
    v->set = 0;
    int rc = verify_signature(o, jws, &gen, err, errlen);
    if (rc == SN_OK &&
        (!cjose_jws_get_plaintext(jws, &claims, &clen, &cerr) || clen > sizeof(v->claims)))
        rc = sn_fail(err, errlen, SN_EAUTH, "the access token has no claims");
    if (rc == SN_OK) {
        memcpy(v->token, token, len);
        v->len = len;
        memcpy(v->claims, claims, clen);
        v->clen = clen;
        v->set = gen;
    }
    cjose_jws_release(jws);
    return rc;
}

int sn_oauth_verify(sn_oauth *o, const char *token, size_t len, int64_t now, sn_oauth_token *out,
                    char *err, size_t errlen)
{
    const verified_token *v = &last_verified;
    memset(out, 0, sizeof(*out));
    if (len > SN_OAUTH_TOKEN_MAX)
        return sn_fail(err, errlen, SN_EAUTH, "the access token is longer than %d bytes",
                       SN_OAUTH_TOKEN_MAX);
    if (!sn_oauth_token_shaped(token, len))
        return sn_fail(err, errlen, SN_EAUTH, "the access token is no JWT");
    int rc = SN_OK;
    if (v->set == 0 || v->len != len || v->set != sn_jwks_current_generation(o->keys) ||
        memcmp(v->token, token, len) != 0)
        rc = verify_jws(o, token, len, err, errlen);
    if (rc != SN_OK)
        return rc;
    return sn_oauth_check_claims(v->claims, v->clen, o->issuer, o->audience, now, out, err, errlen);
}
