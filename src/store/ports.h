/*
 * ports.h - port authorisations: a number's carrier of record (the donor)
 * has reported port_out naming the carrier it may go to (the recipient).
 *
 * One row per number: a later port_out replaces an earlier one, a port_in
 * that used it clears it. A row speaks only for the donor and tenure it was
 * made in: the events service ignores one whose donor is no longer the
 * carrier of record or whose tenure has ended.
 */
#ifndef SN_STORE_PORTS_H
#define SN_STORE_PORTS_H

#include "core/number.h"
#include "store/store.h"

#include <stdint.h>

typedef struct {
    uint32_t donor;     /* carrier of record that authorised the port */
    uint32_t recipient; /* carrier the number may be ported to */
    uint32_t tenure;    /* the number's tenure when it was authorised */
    int64_t at;         /* the port_out's event time */
} sn_port;

/* Record (or replace) n's authorisation. */
int sn_store_port_authorize(sn_store *s, sn_number n, const sn_port *p, char *err, size_t errlen);

/* n's authorisation; SN_ENOTFOUND when it has none. */
int sn_store_port_get(sn_store *s, sn_number n, sn_port *out, char *err, size_t errlen);

/* Forget n's authorisation (none is not an error). */
int sn_store_port_clear(sn_store *s, sn_number n, char *err, size_t errlen);

#endif
