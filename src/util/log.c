/*
 * log.c - serve's own log lines (see log.h). The level is an atomic read by
 * every thread; a line is formatted on the caller's stack and written by
 * one write(2) to stderr, so it is never split by another thread's.
 */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int current = SN_LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

int sn_log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void sn_log_set_level(sn_log_level level)
{
    atomic_store(&current, (int)level);
}

int sn_log_enabled(sn_log_level level)
{
    return (int)level <= atomic_load_explicit(&current, memory_order_relaxed);
}

void sn_log(sn_log_level level, const char *fmt, ...)
{
    static const char prefix[] = "secondnum serve: ";
    char line[SN_LOG_LINE_MAX];
    size_t n = sizeof(prefix) - 1, cap = sizeof(line) - 1; /* room for the newline */
    if (!sn_log_enabled(level))
        return;
    memcpy(line, prefix, n);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, cap - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    if ((size_t)m >= cap - n) { /* cut: say so */
        n = cap;
        memcpy(line + n - 3, "...", 3);
    } else {
        n += (size_t)m;
    }
    line[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}
