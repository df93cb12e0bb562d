/*
 * cli.c - helpers every subcommand shares: usage errors, numeric flags,
 * opening the store with its secret, and the terminal progress line.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "util/clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The place of the values being read (a configuration file's line), or "". */
static const char *usage_where = "";

void sn_cli_usage_where(const char *where)
{
    usage_where = where != NULL ? where : "";
}

int sn_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "secondnum %s: %s", cmd, usage_where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see 'secondnum %s --help'\n", cmd);
    return SN_EXIT_USAGE;
}

int sn_cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int sn_cli_parse_rate(const char *s, long max, long *out)
{
    char digits[24];
    size_t n = strlen(s);
    if (n >= 2 && strcmp(s + n - 2, "/s") == 0)
        n -= 2;
    if (n == 0 || n >= sizeof(digits))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    memcpy(digits, s, n);
    digits[n] = '\0';
    return sn_cli_parse_long(digits, 1, max, out);
}

/* The secret's file: --key, else $SECONDNUM_KEY, else "<db>.key" next to a
 * SQLite file. A PostgreSQL store has no file to sit next to (and every node
 * must share one secret), so it needs one of the first two. */
static int secret_path(const char *cmd, const char *db, const char *key_path, char *buf, size_t len)
{
    const char *env = getenv("SECONDNUM_KEY");
    if (key_path == NULL && env != NULL && env[0] != '\0')
        key_path = env;
    if (key_path != NULL) {
        snprintf(buf, len, "%s", key_path);
        return 0;
    }
    if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0) {
        fprintf(stderr,
                "secondnum %s: a PostgreSQL store keeps its secret in a file: "
                "pass --key FILE or set SECONDNUM_KEY\n",
                cmd);
        return -1;
    }
    snprintf(buf, len, "%s.key", db);
    return 0;
}

int sn_cli_load_secret(const char *cmd, const char *db, const char *key_path, int create,
                       sn_secret *secret)
{
    char path[4096], err[SN_ERRMSG_MAX];
    if (secret_path(cmd, db, key_path, path, sizeof(path)) != 0)
        return -1;
    int rc = sn_secret_load(path, create, secret, err, sizeof(err));
    if (rc == SN_OK)
        return 1;
    if (rc == SN_ENOTFOUND)
        return 0;
    fprintf(stderr, "secondnum %s: %s\n", cmd, err);
    return -1;
}

int sn_cli_open_store(const char *cmd, const char *db, const sn_rules *rules, int create,
                      sn_store **out)
{
    char err[SN_ERRMSG_MAX];
    sn_secret secret;
    *out = NULL;
    if (!create && db != NULL && db[0] != '\0' && !sn_store_is_url(db) && access(db, F_OK) != 0) {
        fprintf(stderr,
                "secondnum %s: no store at %s (create one with `secondnum init --db %s`, or pass "
                "--create)\n",
                cmd, db, db);
        return SN_ENOTFOUND;
    }
    int rc = sn_store_open(db, rules, out, err, sizeof(err));
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum %s: %s\n", cmd, err);
        return rc;
    }
    if (sn_store_created(*out) && sn_cli_load_secret(cmd, db, NULL, 1, &secret) < 0) {
        sn_store_close(*out);
        *out = NULL;
        return SN_EIO;
    }
    return SN_OK;
}

void sn_progress_start(sn_progress *p, const char *label, uint64_t total)
{
    p->enabled = isatty(STDERR_FILENO);
    p->total = total;
    p->label = label;
    p->last_ms = 0;
}

void sn_progress_update(sn_progress *p, uint64_t done, uint64_t count)
{
    enum { WIDTH = 30, EVERY_MS = 100 };
    if (!p->enabled)
        return;
    long t = sn_monotonic_ms();
    if (t - p->last_ms < EVERY_MS && (p->total == 0 || done < p->total))
        return;
    p->last_ms = t;
    if (p->total == 0) {
        fprintf(stderr, "\r%s %llu", p->label, (unsigned long long)count);
        return;
    }
    unsigned pct = (unsigned)(done >= p->total ? 100 : done * 100 / p->total);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = (unsigned)i < pct * WIDTH / 100 ? '#' : ' ';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %3u%% %llu", p->label, bar, pct, (unsigned long long)count);
}

void sn_progress_finish(sn_progress *p)
{
    if (p->enabled)
        fputs("\r\033[K", stderr);
}

int sn_cli_parse_days(const char *s, int64_t *seconds)
{
    char *end;
    errno = 0;
    double days = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(days >= 0 && days <= 3650))
        return -1;
    *seconds = (int64_t)(days * 86400.0 + 0.5);
    return 0;
}

int sn_cli_take(const char *cmd, const sn_cli_opt *o, const char *v)
{
    char why[SN_ERRMSG_MAX];
    switch (o->kind) {
    case SN_OPT_TEXT:
        *(const char **)o->dst = v;
        return 0;
    case SN_OPT_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case SN_OPT_LONG:
        return sn_cli_parse_long(v, o->min, o->max, o->dst) == 0
                   ? 0
                   : sn_cli_usage_error(cmd, o->error, o->min, o->max);
    case SN_OPT_DAYS:
        return sn_cli_parse_days(v, o->dst) == 0 ? 0 : sn_cli_usage_error(cmd, "%s", o->error);
    case SN_OPT_DAY:
        return sn_day_parse(v, strlen(v), o->dst, why, sizeof(why)) == SN_OK
                   ? 0
                   : sn_cli_usage_error(cmd, "--%s: %s", o->name, why);
    case SN_OPT_TZ:
        return sn_tz_parse(v, o->dst, why, sizeof(why)) == SN_OK
                   ? 0
                   : sn_cli_usage_error(cmd, "--%s: %s", o->name, why);
    default:
        return o->fn(cmd, v, o->dst);
    }
}
