/*
 * config.c - a command's settings (cli.h): its flags (sn_cli_parse, getopt)
 * and the configuration file of `--config FILE` (INI, read with libinih),
 * into the command's option table; the file first, then the flags, which
 * override it.
 *
 * The file, a regular file, is read twice: once for its syntax (every line
 * a comment, a `key = value` or a `[section]`, none longer than
 * SN_CLI_CONFIG_LINE_MAX), then for its values, in file order, stopping at the first bad one. So a
 * file with an error sets nothing the command acts on: the command exits
 * with the usage error. Values are copied into storage kept until exit
 * (the option tables store pointers to them).
 */
#include "cli/cli.h"

#include "core/errors.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The copies of the values, freed at exit. */
static char **kept;
static size_t nkept, kept_cap;

static void free_kept(void)
{
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    free(kept);
    kept = NULL;
    nkept = kept_cap = 0;
}

/* A copy of value that lives until exit, or NULL when out of memory. */
static const char *keep(const char *value)
{
    if (nkept == kept_cap) {
        size_t cap = kept_cap == 0 ? 16 : kept_cap * 2;
        char **grown = realloc(kept, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        if (kept == NULL)
            atexit(free_kept);
        kept = grown;
        kept_cap = cap;
    }
    char *copy = strdup(value);
    if (copy != NULL)
        kept[nkept++] = copy;
    return copy;
}

typedef struct {
    const char *cmd, *path;
    const sn_cli_opt *opts;
    size_t n;
    int *seen;
    FILE *f;
    int line; /* of the line read last */
    int rc;   /* the first error's exit code; reading stops there */
    int shared_line[SN_CLI_OPTS_MAX], section_line[SN_CLI_OPTS_MAX]; /* where each was set */
} config_read;

_Static_assert(SN_CLI_CONFIG_LINE_MAX == INI_MAX_LINE - 1, "libinih reads lines of INI_MAX_LINE");

static int config_error(config_read *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error at the current line; returns its exit code. */
static int config_error(config_read *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->rc = sn_cli_usage_error(r->cmd, "%s:%d: %s", r->path, r->line, msg);
    return r->rc;
}

/* A [section] line names a command; 0, or the error's exit code. libinih
 * says nothing of a section until a key in it, so it is checked here. */
static int check_section(config_read *r, const char *line)
{
    char name[64];
    const char *end = strchr(line, ']');
    if (line[0] != '[' || end == NULL)
        return 0;
    size_t len = (size_t)(end - line - 1);
    if (len >= sizeof(name))
        len = sizeof(name) - 1;
    memcpy(name, line + 1, len);
    name[len] = '\0';
    if (!sn_cli_command_known(name))
        return config_error(r, "unknown section [%s]: sections are named after commands", name);
    return 0;
}

/* libinih's reader: one line, counted, without its leading blanks (so an
 * indented line is never the continuation of the value above); a line too
 * long for libinih ends the reading with an error (libinih would split it). */
static char *read_line(char *str, int num, void *stream)
{
    config_read *r = stream;
    if (r->rc != 0 || fgets(str, num, r->f) == NULL)
        return NULL;
    r->line++;
    size_t len = strlen(str);
    if (len + 1 == (size_t)num && str[len - 1] != '\n') {
        int next = getc(r->f);
        if (next != EOF && next != '\n') {
            config_error(r, "a line is at most %d characters", SN_CLI_CONFIG_LINE_MAX);
            return NULL;
        }
    }
    size_t blanks = strspn(str, " \t");
    memmove(str, str + blanks, len - blanks + 1);
    return check_section(r, str) == 0 ? str : NULL;
}

static int syntax_only(void *user, const char *section, const char *name, const char *value)
{
    (void)user, (void)section, (void)name, (void)value;
    return 1;
}

/* A flag's value from the file: true/yes/1 or false/no/0. */
static int take_flag(config_read *r, const sn_cli_opt *o, const char *v)
{
    int on = !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1");
    int off = !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0");
    if (!on && !off)
        return config_error(r, "%s is a flag: true or false (yes/no, 1/0), not '%s'", o->name, v);
    *(int *)o->dst = on;
    return 0;
}

/* One value into option i. */
static int take_value(config_read *r, size_t i, const char *value)
{
    const sn_cli_opt *o = &r->opts[i];
    char where[4200];
    if (value[0] == '\0')
        return config_error(r, "%s has no value", o->name);
    r->seen[i] = 1;
    if (o->kind == SN_OPT_FLAG)
        return take_flag(r, o, value);
    const char *copy = keep(value);
    if (copy == NULL)
        return config_error(r, "out of memory");
    snprintf(where, sizeof(where), "%s:%d: ", r->path, r->line);
    sn_cli_usage_where(where);
    r->rc = sn_cli_take(r->cmd, o, copy);
    sn_cli_usage_where(NULL);
    return r->rc;
}

/* libinih's handler: 1 to go on, 0 at the first error (said). */
static int on_value(void *user, const char *section, const char *name, const char *value)
{
    config_read *r = user;
    int shared = section[0] == '\0';
    if (r->rc != 0)
        return 0;
    if (!shared && strcmp(section, r->cmd) != 0)
        return 1; /* another command's options (its section was checked by read_line) */
    if (shared && strcmp(name, "db") != 0 && strcmp(name, "key") != 0)
        return config_error(r,
                            "%s belongs in a command's section ([%s]); only db and key "
                            "come before the first section",
                            name, r->cmd),
               0;
    size_t i = 0;
    while (i < r->n && strcmp(r->opts[i].name, name) != 0)
        i++;
    if (i == r->n && shared)
        return 1; /* a shared key this command does not use */
    if (i == r->n)
        return config_error(r, "unknown key '%s' in [%s]", name, section), 0;
    int *lines = shared ? r->shared_line : r->section_line;
    if (lines[i] != 0)
        return config_error(r, "%s is set twice (first on line %d)", name, lines[i]), 0;
    lines[i] = r->line;
    return take_value(r, i, value) == 0;
}

/* One reading of the file with handler: 0 or a usage error's exit code. */
static int read_config(config_read *r, ini_handler handler)
{
    struct stat st;
    r->f = fopen(r->path, "r");
    if (r->f == NULL)
        return sn_cli_usage_error(r->cmd, "--config %s: %s", r->path, strerror(errno));
    if (fstat(fileno(r->f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(r->f);
        r->f = NULL;
        return sn_cli_usage_error(r->cmd, "--config %s: not a regular file", r->path);
    }
    r->line = 0;
    int bad = ini_parse_stream(read_line, r, handler, r);
    fclose(r->f);
    r->f = NULL;
    if (r->rc == 0 && bad != 0) {
        r->line = bad;
        config_error(r, "not a `key = value` line, a [section] or a comment");
    }
    return r->rc;
}

int sn_cli_config_apply(const char *cmd, const char *path, const sn_cli_opt *opts, size_t n,
                        int *seen)
{
    config_read r;
    memset(&r, 0, sizeof(r));
    r.cmd = cmd;
    r.path = path;
    r.opts = opts;
    r.n = n < SN_CLI_OPTS_MAX ? n : SN_CLI_OPTS_MAX;
    r.seen = seen;
    int rc = read_config(&r, syntax_only);
    return rc != 0 ? rc : read_config(&r, on_value);
}

/* A flag given on the command line: its option and value, applied after
 * the configuration file. */
typedef struct {
    int opt;
    const char *value;
} given_flag;

/* getopt over argv into given (argc entries at most) and *config: 0, -1
 * after --help, or a usage error's exit code. */
static int read_argv(const char *cmd, int argc, char **argv, int first, const struct option *lo,
                     int n, const char *usage, given_flag *given, size_t *ngiven,
                     const char **config)
{
    int c;
    opterr = 0; /* every error is said once, by sn_cli_usage_error */
    optind = first;
    while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        if (c == n)
            return fputs(usage, stdout), -1;
        if (c == ':')
            return sn_cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
        if (c < 0 || c > n + 1)
            return sn_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        if (c == n + 1 && *config != NULL)
            return sn_cli_usage_error(cmd, "--config is given twice");
        if (c == n + 1)
            *config = optarg;
        else
            given[(*ngiven)++] = (given_flag){c, optarg};
    }
    return 0;
}

int sn_cli_parse(const char *cmd, int argc, char **argv, int first, const sn_cli_opt *opts,
                 size_t n, const char *usage)
{
    struct option lo[SN_CLI_OPTS_MAX + 3];
    int seen[SN_CLI_OPTS_MAX] = {0}, rc;
    const char *config = NULL;
    size_t ngiven = 0;
    if (n > SN_CLI_OPTS_MAX)
        return sn_cli_usage_error(cmd, "too many flags to parse");
    for (size_t i = 0; i < n; i++)
        lo[i] = (struct option){opts[i].name,
                                opts[i].kind == SN_OPT_FLAG ? no_argument : required_argument, NULL,
                                (int)i};
    lo[n] = (struct option){"help", no_argument, NULL, (int)n};
    lo[n + 1] = (struct option){"config", required_argument, NULL, (int)n + 1};
    lo[n + 2] = (struct option){NULL, 0, NULL, 0};
    given_flag *given = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*given));
    if (given == NULL)
        return fputs("secondnum: out of memory\n", stderr), SN_EXIT_REJECTED;
    rc = read_argv(cmd, argc, argv, first, lo, (int)n, usage, given, &ngiven, &config);
    if (rc == 0 && config != NULL)
        rc = sn_cli_config_apply(cmd, config, opts, n, seen);
    for (size_t i = 0; rc == 0 && i < ngiven; i++) {
        seen[given[i].opt] = 1;
        rc = sn_cli_take(cmd, &opts[given[i].opt], given[i].value);
    }
    free(given);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (opts[i].required && !seen[i])
            return sn_cli_usage_error(cmd, "--%s is required (a flag, or `%s =` in --config FILE)",
                                      opts[i].name, opts[i].name);
    return SN_EXIT_OK;
}
