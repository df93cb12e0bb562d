/*
 * notify.h - telling systemd how serve is doing (sd_notify, libsystemd):
 * READY=1 once the index is loaded and every listener is open, STOPPING=1
 * when shutdown begins, and WATCHDOG=1 while the service is alive.
 *
 * Everything here is a no-op when $NOTIFY_SOCKET is unset (serve started
 * by hand, by a test, by another supervisor). The watchdog is on when
 * systemd sets $WATCHDOG_USEC (WatchdogSec= in the unit) for this process
 * ($WATCHDOG_PID); WATCHDOG=1 then goes out from the writer's tick (about
 * once a second, sn_writer_start), at most every half interval: a writer
 * stuck on the store stops the pings and systemd restarts the service.
 * Thread-safe: ready and stopping come from the main thread, the watchdog
 * from the writer thread.
 */
#ifndef SN_NOTIFY_H
#define SN_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* The shortest watchdog interval serve accepts (WatchdogSec=4): the writer
 * ticks about once a second and pings at half the interval, so a ping is
 * at most half the interval plus a tick apart. */
#define SN_NOTIFY_WATCHDOG_MIN_USEC 4000000

/* Read the watchdog settings from the environment. SN_OK, or SN_ECONFIG
 * with why when the interval is below SN_NOTIFY_WATCHDOG_MIN_USEC. */
int sn_notify_start(char *err, size_t errlen);

/* The watchdog interval in microseconds, 0 when it is off. */
uint64_t sn_notify_watchdog_usec(void);

/* READY=1 with STATUS=status (may be NULL). */
void sn_notify_ready(const char *status);

/* STOPPING=1 with STATUS=status (may be NULL). */
void sn_notify_stopping(const char *status);

/* WATCHDOG=1 when half the interval has passed since the last one (or
 * since sn_notify_start); nothing when the watchdog is off. */
void sn_notify_watchdog(void);

#endif
