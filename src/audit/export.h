/*
 * export.h - the audit trail's records as the regulator reads them: CSV
 * (a header line, then one line a record) or JSON (one object a record),
 * a batch check's row expanded into one record per item, filtered by a
 * number's keyed hash. Shared by GET /v1/admin/audit (h_audit.c) and
 * `secondnum audit export` (cmd_audit.c). Pure formatting; any thread.
 */
#ifndef SN_AUDIT_EXPORT_H
#define SN_AUDIT_EXPORT_H

#include "store/audit.h"
#include "util/strbuf.h"

#define SN_AUDIT_CSV_HEADER                                                                        \
    "id,item,at,route,method,status,who_kind,who,app,number_hash,date,answer,request\n"

/* The verdict names an export uses for an item's verdict byte. */
const char *sn_audit_verdict_name(uint8_t v);

/* Append r's records to out (CSV lines, or JSON objects each followed by
 * sep when more come: "," for an array, "\n" for lines); only those whose
 * number hash is *only when only is not NULL. *first is 1 until a record
 * was written (it takes no separator). Returns the records written. */
size_t sn_audit_export_row(sn_strbuf *out, const sn_audit_row *r, int csv, const char *sep,
                           const uint8_t *only, int *first);

/* The Unix milliseconds bounds of days from..to (inclusive) in a zone. */
void sn_audit_day_bounds(sn_day from, sn_day to, int tz_minutes, int64_t *lo, int64_t *hi);

#endif
