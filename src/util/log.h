/*
 * log.h - serve's own log lines (startup, shutdown, warnings, errors) on
 * stderr, filtered by a level (`serve --log-level`, default info).
 *
 * Every line is "secondnum serve: " and the message, written whole by one
 * write(2): lines of several threads never interleave. Messages never
 * carry a phone number, ID digits or a code.
 */
#ifndef SN_LOG_H
#define SN_LOG_H

typedef enum {
    SN_LOG_ERROR = 0, /* something failed */
    SN_LOG_WARN = 1,  /* something the operator should fix or know */
    SN_LOG_INFO = 2,  /* startup, shutdown, recoveries (the default level) */
    SN_LOG_DEBUG = 3, /* more detail */
} sn_log_level;

#define SN_LOG_LINE_MAX 2048 /* a line's bytes at most; longer ones are cut, ending "..." */

/* "error", "warn", "info" or "debug": its level, or -1. */
int sn_log_level_parse(const char *name);

/* Lines of levels above this one are not written (thread-safe). */
void sn_log_set_level(sn_log_level level);

/* Would a line of this level be written? */
int sn_log_enabled(sn_log_level level);

/* One line on stderr, when level is enabled; thread-safe. */
void sn_log(sn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
