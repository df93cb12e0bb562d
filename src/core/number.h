/*
 * number.h - phone number parsing and normalisation (pure, no I/O).
 *
 * A number is kept as its E.164 digits read as one unsigned integer:
 * "+8613812345678" is 8613812345678. E.164 numbers never start with 0, so the
 * integer is unique and round-trips; 15 digits fit easily in 64 bits. The value
 * 0 means "no number". Integers make the in-memory index and the store keys
 * small and fast to compare.
 */
#ifndef SN_NUMBER_H
#define SN_NUMBER_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t sn_number;

/* Longest text form: '+', 15 digits, NUL. */
#define SN_NUMBER_TEXT_MAX 17

/* Parse s[0..len) into *out.
 * Accepts E.164 ("+" then 5 to 15 digits, the first not 0) and, when
 * default_cc is not 0, the national form of that country:
 *   86 (China): 11 digits starting with 1;
 *   1 (NANP):   10 digits, area code and exchange not starting with 0 or 1;
 *   others:     a national significant number, optionally after one trunk 0,
 *               giving 5 to 15 digits in all with the country code.
 * No spaces or separators: a feed or request that sends them is wrong, and
 * guessing would turn a typo into somebody else's number.
 * Returns SN_OK, or SN_ENUMBER with a message in err. */
int sn_number_parse(const char *s, size_t len, unsigned default_cc, sn_number *out, char *err,
                    size_t errlen);

/* Write "+<digits>" into buf (at least SN_NUMBER_TEXT_MAX bytes); returns the
 * length written (without NUL). */
size_t sn_number_format(sn_number n, char *buf);

/* True when p is an E.164 prefix: "+" then 1 to 15 digits, the first not 0
 * (carrier number ranges such as "+86138"). */
int sn_number_prefix_valid(const char *p);

/* True when cc is a plausible E.164 country code (1 to 3 digits, not 0). */
int sn_country_code_valid(unsigned cc);

#endif
