/*
 * feed.h - turning one carrier event's text fields into a log event.
 *
 * The same validation serves every way events arrive (CSV import, the HTTP
 * events endpoint), so a row means the same thing whichever way it comes.
 * CSV files as a whole are read by feed_csv.h.
 */
#ifndef SN_FEED_H
#define SN_FEED_H

#include "store/log.h"

/* The text of one event; a NULL or empty optional field is absent. */
typedef struct {
    const char *number;
    size_t number_len;
    const char *event;
    size_t event_len;
    const char *at;
    size_t at_len;
    const char *event_id;
    size_t event_id_len;
    const char *id6;
    size_t id6_len;
    const char *to; /* port_out: the recipient carrier's name */
    size_t to_len;
} sn_event_fields;

typedef struct {
    const sn_rules *rules;
    int64_t now;             /* events after this instant are rejected */
    const sn_secret *secret; /* for id6; NULL rejects events that carry one */
    uint32_t carrier;        /* the reporting carrier */
} sn_feed_context;

/* Validate f and fill *out (out->event_id and out->to point into f's memory; out->index
 * is left for the caller). SN_OK, or SN_ENUMBER / SN_EINVAL / SN_EDATE /
 * SN_EFUTURE / SN_ELIMIT with a sentence naming the field. */
int sn_feed_event_parse(const sn_feed_context *c, const sn_event_fields *f, sn_log_event *out,
                        char *err, size_t errlen);

#endif
