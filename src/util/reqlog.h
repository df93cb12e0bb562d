/*
 * reqlog.h - the request log (`serve --request-log FILE|-`): one JSON line
 * per answered request, written in batches by a thread of its own, so a
 * slow disk never holds up an answer.
 *
 * A loop thread formats its line on its own stack (sn_reqlog_format) and
 * appends it to a shared buffer under a lock held for one memcpy; the
 * writer thread swaps the buffer out and writes it, every
 * SN_REQLOG_FLUSH_MS or as soon as it is half full. A line that does not
 * fit (the disk is slower than the requests) is dropped and counted; the
 * writer then writes a line {"time":..., "dropped":N, ...} in its place
 * and warns on stderr. At close every line appended is written.
 *
 * Reopening (SIGHUP, after logrotate renamed the file): every line
 * appended before sn_reqlog_reopen goes to the old file, every later one
 * to the new. Privacy: the entry has no field that could carry a phone
 * number, ID digits or a code (no path, query or body); callers pass the
 * route's pattern.
 */
#ifndef SN_REQLOG_H
#define SN_REQLOG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of lines waiting for the writer; more are dropped and counted. */
#define SN_REQLOG_BUFFER_BYTES (1u << 20)
/* Lines are written at least this often. */
#define SN_REQLOG_FLUSH_MS 100
/* A line's bytes at most: the fields' text is cut (at a whole character
 * or escape) to these many bytes, escaped, so every line fits. */
#define SN_REQLOG_LINE_MAX 1024
#define SN_REQLOG_ROUTE_MAX 128
#define SN_REQLOG_METHOD_MAX 16
#define SN_REQLOG_APP_MAX 192
#define SN_REQLOG_CORRELATOR_MAX 300 /* a valid x-correlator (256) whole */
#define SN_REQLOG_CLIENT_MAX 64

/* One answered request. */
typedef struct {
    const char *route;      /* the route pattern, or the class of a path that is none */
    const char *method;     /* a method name, never the client's text */
    int status;             /* HTTP status */
    int64_t latency_us;     /* from the request's start to its answer */
    int64_t key;            /* the API key's id, or -1 */
    const char *app;        /* the app's name (app keys), or NULL */
    int session;            /* authenticated by a subscriber's session */
    const char *correlator; /* x-correlator, or NULL */
    size_t correlator_len;  /*   (escaped, cut to 256 bytes) */
    const char *client;     /* the peer's address, or NULL */
    uint64_t bytes;         /* bytes of the answer's body */
} sn_reqlog_entry;

/* The entry as one JSON line with its newline, time unix_us (wall clock,
 * microseconds) in RFC 3339 UTC with milliseconds, into out: its length
 * (at most SN_REQLOG_LINE_MAX, cap >= SN_REQLOG_LINE_MAX). Pure. */
size_t sn_reqlog_format(const sn_reqlog_entry *e, int64_t unix_us, char *out, size_t cap);

/* Start logging to path ("-": stderr), appending: SN_OK, or an error with
 * why (the file cannot be opened, the thread not started). */
int sn_reqlog_open(const char *path, char *err, size_t errlen);

/* Is the log open? (An unopened log costs one load per request.) */
int sn_reqlog_on(void);

/* Log one request (any thread); nothing when the log is not open. */
void sn_reqlog_add(const sn_reqlog_entry *e);

/* Reopen the file by its name (any thread; the writer does it): lines
 * added before go to the old file, later ones to the new. A file that
 * cannot be opened is said on stderr and the old one kept. */
void sn_reqlog_reopen(void);

/* Write every line added, stop the writer, close the file. */
void sn_reqlog_close(void);

/* Lines dropped since the log was last opened (tests, debug). */
uint64_t sn_reqlog_dropped(void);

#endif
