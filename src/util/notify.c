/*
 * notify.c - sd_notify messages to systemd (see notify.h). The state is
 * set once by sn_notify_start on the main thread before any other thread
 * runs; the time of the last ping is the writer thread's alone.
 */
#include "util/notify.h"

#include "core/errors.h"
#include "util/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

static int enabled;                  /* $NOTIFY_SOCKET is set */
static uint64_t watchdog_usec;       /* 0: no watchdog */
static _Atomic int64_t last_ping_ms; /* monotonic */

int sn_notify_start(char *err, size_t errlen)
{
    uint64_t usec = 0;
    const char *sock = getenv("NOTIFY_SOCKET");
    enabled = sock != NULL && sock[0] != '\0';
    watchdog_usec = 0;
    if (!enabled || sd_watchdog_enabled(0, &usec) <= 0)
        return SN_OK;
    if (usec < SN_NOTIFY_WATCHDOG_MIN_USEC)
        return sn_fail(err, errlen, SN_ECONFIG,
                       "the systemd watchdog interval is %llu ms, under the %d s serve needs "
                       "(it pings from a tick of about a second): set WatchdogSec=%d or more",
                       (unsigned long long)(usec / 1000), SN_NOTIFY_WATCHDOG_MIN_USEC / 1000000,
                       SN_NOTIFY_WATCHDOG_MIN_USEC / 1000000);
    watchdog_usec = usec;
    atomic_store(&last_ping_ms, sn_monotonic_ms());
    return SN_OK;
}

uint64_t sn_notify_watchdog_usec(void)
{
    return watchdog_usec;
}

/* One message: head, then STATUS=status when there is one. */
static void send_state(const char *head, const char *status)
{
    if (!enabled)
        return;
    if (status == NULL)
        sd_notify(0, head);
    else
        sd_notifyf(0, "%s\nSTATUS=%s", head, status);
}

/* With the watchdog on, READY=1 carries the first ping (systemd's
 * watchdog runs from then on). */
void sn_notify_ready(const char *status)
{
    if (watchdog_usec != 0)
        atomic_store(&last_ping_ms, sn_monotonic_ms());
    send_state(watchdog_usec != 0 ? "READY=1\nWATCHDOG=1" : "READY=1", status);
}

void sn_notify_stopping(const char *status)
{
    send_state("STOPPING=1", status);
}

void sn_notify_watchdog(void)
{
    if (watchdog_usec == 0)
        return;
    int64_t now = sn_monotonic_ms();
    if (now - atomic_load(&last_ping_ms) < (int64_t)(watchdog_usec / 2000))
        return;
    atomic_store(&last_ping_ms, now);
    sd_notify(0, "WATCHDOG=1");
}
