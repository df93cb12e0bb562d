/*
 * jwks.c - JSON Web Key Sets: parsing with jansson and cjose, the file or
 * URL they come from, and the refresher thread (see jwks.h). Invariants: a
 * parsed set is immutable; src->current is never NULL after open and is
 * swapped only under src->lock, which no one holds across I/O.
 */
#include "auth/jwks.h"

#include "core/errors.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/thread.h"

#include <cjose/cjose.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_uint_fast64_t generations = 1; /* the next set's generation */

struct sn_jwks {
    atomic_int refs;
    uint64_t generation; /* unique to this set in the process */
    size_t n;
    size_t unusable;                  /* keys of a kept kind that could not be kept */
    char unusable_why[SN_ERRMSG_MAX]; /* the first of them, and why */
    sn_jwk keys[SN_OAUTH_JWKS_MAX_KEYS];
};

struct sn_jwks_source {
    char *url; /* NULL for a file */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    sn_jwks *current;
    int wanted, stopping, started;
    int64_t last_ms; /* the last fetch began (monotonic) */
    pthread_t tid;
};

/* The algorithm a JWK verifies, or 0 when it is not kept. */
static int key_alg(json_t *k)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const char *alg = json_string_value(json_object_get(k, "alg"));
    const char *crv = json_string_value(json_object_get(k, "crv"));
    int a = 0;
    if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
        return 0;
    if (strcmp(kty, "RSA") == 0)
        a = SN_JWK_RS256;
    else if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
        a = SN_JWK_ES256;
    if (a != 0 && alg != NULL && strcmp(alg, a == SN_JWK_RS256 ? "RS256" : "ES256") != 0)
        return 0;
    return a;
}

#define SN_STR_(x) #x
#define SN_XSTR(x) SN_STR_(x) /* a limit's value as a string literal */

/* Count key k of a kept kind as unusable, remembering the first. */
static void unusable(sn_jwks *set, const char *kid, const char *why)
{
    if (set->unusable++ == 0)
        snprintf(set->unusable_why, sizeof(set->unusable_why), "the key %s%.*s%s %s",
                 kid != NULL ? "\"" : "", kid != NULL ? SN_OAUTH_KID_MAX : 0,
                 kid != NULL ? kid : "", kid != NULL ? "\"" : "without a kid", why);
}

/* Keep key k in set when it is one of ours and imports. */
static void keep_key(sn_jwks *set, json_t *k)
{
    const char *kid = json_string_value(json_object_get(k, "kid"));
    int alg = key_alg(k);
    cjose_err cerr;
    if (alg == 0)
        return;
    if (set->n == SN_OAUTH_JWKS_MAX_KEYS) {
        unusable(set, kid, "is past the most keys kept (" SN_XSTR(SN_OAUTH_JWKS_MAX_KEYS) ")");
        return;
    }
    if (kid != NULL && strlen(kid) > SN_OAUTH_KID_MAX) {
        unusable(set, kid, "has a kid longer than " SN_XSTR(SN_OAUTH_KID_MAX) " bytes");
        return;
    }
    /* only the public members: a private "d" must not make it a signing key */
    json_t *pub = json_deep_copy(k);
    if (pub == NULL) {
        unusable(set, kid, "could not be copied (out of memory)");
        return;
    }
    json_object_del(pub, "d");
    cjose_jwk_t *jwk = cjose_jwk_import_json((cjose_header_t *)pub, &cerr);
    json_decref(pub);
    if (jwk == NULL) {
        /* RFC 7518 6.2.1.2: an EC coordinate is the curve's full size (32
         * bytes on P-256), leading zero bytes kept; a shorter one is refused */
        unusable(set, kid,
                 alg == SN_JWK_ES256 ? "does not import (an EC P-256 key needs \"x\" and \"y\" of "
                                       "32 bytes each, leading zeros kept)"
                                     : "does not import (an RSA key needs \"n\" and \"e\")");
        return;
    }
    sn_jwk *e = &set->keys[set->n++];
    snprintf(e->kid, sizeof(e->kid), "%s", kid != NULL ? kid : "");
    e->alg = alg;
    e->jwk = jwk;
}

int sn_jwks_parse(const char *doc, size_t len, sn_jwks **out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(doc, len, 0, &jerr);
    json_t *keys = json_object_get(root, "keys");
    *out = NULL;
    if (root == NULL || !json_is_array(keys)) {
        json_decref(root);
        return sn_fail(err, errlen, SN_EINVAL, "not a JWK Set (an object with a \"keys\" array)");
    }
    sn_jwks *set = calloc(1, sizeof(*set));
    if (set == NULL) {
        json_decref(root);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    atomic_init(&set->refs, 1);
    set->generation = (uint64_t)atomic_fetch_add(&generations, 1);
    for (size_t i = 0; i < json_array_size(keys); i++)
        keep_key(set, json_array_get(keys, i));
    json_decref(root);
    if (set->n == 0) {
        int rc =
            set->unusable > 0
                ? sn_fail(err, errlen, SN_EINVAL, "the JWK Set keeps no key: %s", set->unusable_why)
                : sn_fail(err, errlen, SN_EINVAL,
                          "the JWK Set has no RSA or EC P-256 signing key (RS256, ES256)");
        free(set);
        return rc;
    }
    *out = set;
    return SN_OK;
}

const sn_jwk *sn_jwks_find(const sn_jwks *set, const char *kid)
{
    if (kid == NULL)
        return set->n == 1 ? &set->keys[0] : NULL;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    return NULL;
}

size_t sn_jwks_unusable(const sn_jwks *set, const char **why)
{
    *why = set->unusable > 0 ? set->unusable_why : "";
    return set->unusable;
}

uint64_t sn_jwks_generation(const sn_jwks *set)
{
    return set->generation;
}

uint64_t sn_jwks_current_generation(sn_jwks_source *src)
{
    pthread_mutex_lock(&src->lock);
    uint64_t g = src->current->generation;
    pthread_mutex_unlock(&src->lock);
    return g;
}

void sn_jwks_release(sn_jwks *set)
{
    if (set == NULL || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    for (size_t i = 0; i < set->n; i++)
        cjose_jwk_release(set->keys[i].jwk);
    free(set);
}

/* ---- where the set comes from ------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
    int over;
} body_buf;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    body_buf *b = ctx;
    size_t add = size * n;
    if (b->len + add > SN_OAUTH_JWKS_MAX_BYTES) {
        b->over = 1;
        return 0;
    }
    char *grown = realloc(b->buf, b->len + add + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, p, add);
    b->buf = grown;
    b->len += add;
    return add;
}

/* Fetch url into *b (the caller frees b->buf). */
static int fetch_url(const char *url, body_buf *b, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    /* a cache on the way must not answer with a set the issuer has retired */
    struct curl_slist *head = curl_slist_append(NULL, "Cache-Control: no-cache");
    char why[CURL_ERROR_SIZE] = "";
    long status = 0;
    if (h == NULL || head == NULL) {
        curl_easy_cleanup(h);
        curl_slist_free_all(head);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SN_OAUTH_JWKS_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, why);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, head);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(head);
    if (b->over)
        return sn_fail(err, errlen, SN_ELIMIT, "%s: larger than %d bytes", url,
                       SN_OAUTH_JWKS_MAX_BYTES);
    if (cc != CURLE_OK)
        return sn_fail(err, errlen, SN_EIO, "%s: %s", url, why[0] ? why : curl_easy_strerror(cc));
    if (status != 200)
        return sn_fail(err, errlen, SN_EIO, "%s: HTTP status %ld", url, status);
    return SN_OK;
}

/* Read a file into *b (the caller frees b->buf). */
static int read_file(const char *path, body_buf *b, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t got;
    if (f == NULL)
        return sn_fail(err, errlen, SN_EIO, "cannot read %s", path);
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (on_body(chunk, 1, got, b) != got)
            break;
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (b->over)
        return sn_fail(err, errlen, SN_ELIMIT, "%s: larger than %d bytes", path,
                       SN_OAUTH_JWKS_MAX_BYTES);
    return bad ? sn_fail(err, errlen, SN_EIO, "cannot read %s", path) : SN_OK;
}

static int is_url(const char *where)
{
    return strncmp(where, "http://", 7) == 0 || strncmp(where, "https://", 8) == 0;
}

/* Read where into a new set. */
static int load_set(const char *where, sn_jwks **out, char *err, size_t errlen)
{
    body_buf b = {NULL, 0, 0};
    char why[SN_ERRMSG_MAX];
    int rc = is_url(where) ? fetch_url(where, &b, err, errlen) : read_file(where, &b, err, errlen);
    if (rc == SN_OK &&
        (rc = sn_jwks_parse(b.buf ? b.buf : "", b.len, out, why, sizeof(why))) != SN_OK)
        sn_fail(err, errlen, rc, "%s: %s", where, why);
    free(b.buf);
    const char *first;
    size_t skipped = rc == SN_OK ? sn_jwks_unusable(*out, &first) : 0;
    if (skipped > 0)
        sn_log(SN_LOG_WARN,
               "the JWK Set %s: %zu signing key%s not kept, the first: %s "
               "(tokens naming it are refused)",
               where, skipped, skipped == 1 ? "" : "s", first);
    return rc;
}

/* One refresh: fetch without the lock, swap under it. */
static void refresh(sn_jwks_source *src)
{
    char err[SN_ERRMSG_MAX];
    sn_jwks *set = NULL, *old;
    if (load_set(src->url, &set, err, sizeof(err)) != SN_OK) {
        sn_log(SN_LOG_WARN, "refreshing the JWK Set: %s (keeping the loaded one)", err);
        return;
    }
    pthread_mutex_lock(&src->lock);
    old = src->current;
    src->current = set;
    pthread_mutex_unlock(&src->lock);
    sn_jwks_release(old);
}

/* The refresher: waits for the period, a wanted refresh (not sooner than
 * the minimum interval after the last) or the stop. */
static void *refresher(void *arg)
{
    sn_jwks_source *src = arg;
    pthread_mutex_lock(&src->lock);
    while (!src->stopping) {
        int64_t now = sn_monotonic_ms();
        int64_t due = src->last_ms + (int64_t)SN_OAUTH_JWKS_REFRESH_S * 1000;
        int64_t soon = src->last_ms + (int64_t)SN_OAUTH_JWKS_MIN_REFRESH * 1000;
        if (src->wanted && soon < due)
            due = soon;
        if (now >= due) {
            src->wanted = 0;
            src->last_ms = now;
            pthread_mutex_unlock(&src->lock);
            refresh(src);
            pthread_mutex_lock(&src->lock);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (due - now) % 1000 * 1000000;
        ts.tv_sec += (due - now) / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&src->wake, &src->lock, &ts);
    }
    pthread_mutex_unlock(&src->lock);
    return NULL;
}

static int start_refresher(sn_jwks_source *src, char *err, size_t errlen)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&src->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (sn_thread_start(&src->tid, refresher, src) != 0)
        return sn_fail(err, errlen, SN_ENOMEM, "cannot start the JWK Set refresher");
    src->started = 1;
    return SN_OK;
}

int sn_jwks_source_open(const char *where, sn_jwks_source **out, char *err, size_t errlen)
{
    sn_jwks_source *src = calloc(1, sizeof(*src));
    int rc;
    *out = NULL;
    if (src == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    pthread_mutex_init(&src->lock, NULL);
    if (is_url(where) &&
        (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (src->url = strdup(where)) == NULL))
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    else
        rc = load_set(where, &src->current, err, errlen);
    src->last_ms = sn_monotonic_ms();
    if (rc == SN_OK && src->url != NULL)
        rc = start_refresher(src, err, errlen);
    if (rc != SN_OK) {
        sn_jwks_source_close(src);
        return rc;
    }
    *out = src;
    return SN_OK;
}

void sn_jwks_source_close(sn_jwks_source *src)
{
    if (src == NULL)
        return;
    if (src->started) {
        sn_thread_stop(&src->lock, &src->wake, &src->stopping, src->tid);
        pthread_cond_destroy(&src->wake);
    }
    sn_jwks_release(src->current);
    pthread_mutex_destroy(&src->lock);
    free(src->url);
    free(src);
}

sn_jwks *sn_jwks_acquire(sn_jwks_source *src)
{
    pthread_mutex_lock(&src->lock);
    sn_jwks *set = src->current;
    atomic_fetch_add(&set->refs, 1);
    pthread_mutex_unlock(&src->lock);
    return set;
}

void sn_jwks_want_refresh(sn_jwks_source *src)
{
    if (src->url == NULL)
        return;
    pthread_mutex_lock(&src->lock);
    if (!src->wanted) {
        src->wanted = 1;
        pthread_cond_signal(&src->wake);
    }
    pthread_mutex_unlock(&src->lock);
}
