/* fuzz_event.c - libFuzzer driver: one carrier event as POST /v1/events
 * carries it (a flat object) through the feed's validation: never crashes,
 * and an accepted event has a known kind, a number and a time. */
#include "core/errors.h"
#include "feed/feed.h"
#include "http/flatjson.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { NUMBER, EVENT, AT, EVENT_ID, ID6, NFIELDS };
    char err[SN_ERRMSG_MAX], scratch[1024];
    sn_flat_field f[NFIELDS] = {{"number", NULL, 0, 0},
                                {"event", NULL, 0, 0},
                                {"at", NULL, 0, 0},
                                {"event_id", NULL, 0, 0},
                                {"id6", NULL, 0, 0}};
    static const sn_rules rules = {86, 90, 480};
    sn_feed_context fc = {&rules, 1800000000, NULL, 1};
    sn_log_event e;
    if (size + NFIELDS + 1 > sizeof(scratch) ||
        sn_flatjson_parse((const char *)data, size, f, NFIELDS, scratch, sizeof(scratch), err,
                          sizeof(err)) != SN_OK)
        return 0;
    sn_event_fields ef = {f[NUMBER].value,   f[NUMBER].len,   f[EVENT].value, f[EVENT].len,
                          f[AT].value,       f[AT].len,       f[EVENT_ID].value,
                          f[EVENT_ID].len,   f[ID6].value,    f[ID6].len};
    if (sn_feed_event_parse(&fc, &ef, &e, err, sizeof(err)) != SN_OK)
        return 0;
    if (e.ev.kind == SN_EV_NONE || e.ev.number == 0 || e.ev.at > fc.now)
        abort();
    return 0;
}
