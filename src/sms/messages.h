/*
 * messages.h - the text of every message secondnum sends to a subscriber,
 * in Chinese and English (pure: no I/O, no clock).
 *
 * Texts are UTF-8 and bounded by the caller's buffer: a list that does not
 * fit is cut at a whole entry and ends with how many were left out, never
 * in the middle of a character. Numbers are shown masked (+86138****5678):
 * a message may be read over someone's shoulder.
 */
#ifndef SN_SMS_MESSAGES_H
#define SN_SMS_MESSAGES_H

#include "core/number.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { SN_LANG_ZH = 0, SN_LANG_EN = 1 } sn_lang;

/* "zh" or "en" (exactly); -1 for anything else. */
int sn_lang_parse(const char *s);
/* "zh" or "en". */
const char *sn_lang_code(int lang);

/* The number with its middle digits hidden: its first five digits (three
 * for a number of fewer than 12 digits) and last four stay:
 * "+86138****5678", "+155****4567" (SN_NUMBER_TEXT_MAX bytes). */
void sn_mask_number(sn_number n, char *out);

/* The sign-in code message. Returns the length written (always < cap). */
size_t sn_sms_otp_text(int lang, const char *code, unsigned ttl_minutes, char *out, size_t cap);

/* One app in a report: its shown name and how many bindings it holds in
 * the subscriber's tenure and before it. */
typedef struct {
    const char *name;
    uint32_t mine, previous;
} sn_report_app;

/* The bindings summary for masked number `masked`, with the count of the
 * subscriber's unbind requests still open. Returns the length written
 * (always < cap; cap must be at least 64). */
size_t sn_sms_report_text(int lang, const char *masked, const sn_report_app *apps, size_t n,
                          uint32_t open_requests, char *out, size_t cap);

#endif
