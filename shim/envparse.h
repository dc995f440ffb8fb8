/* Parsers for the values operators write in the environment and options. */
#ifndef SHIM_ENVPARSE_H
#define SHIM_ENVPARSE_H

#include <stddef.h>
#include <stdint.h>

enum flag {
	FLAG_UNSET,		/* absent, or only blanks */
	FLAG_FALSE,		/* false, 0, no, off (any case) */
	FLAG_TRUE,		/* true, 1, yes, on (any case) */
	FLAG_INVALID,		/* anything else: an operator mistake */
};

/* Judge an on/off VALUE (NULL when the variable is unset). */
enum flag parse_flag(const char *value);

/*
 * Parse a plain non-negative decimal ("3", "2.5", ".25", surrounding blanks
 * allowed; no sign, exponent or hex) into an integer count of units, where
 * SCALE units make one: seconds to milliseconds is SCALE 1000.  Digits
 * beyond the unit are dropped.  Returns 0 and sets *OUT, or -1 when S is
 * malformed or worth more than MAX units.
 */
int parse_decimal(const char *s, uint64_t scale, uint64_t max, uint64_t *out);

/*
 * Is S[0..N) well-formed UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF)?  What JSON strings may hold, and jansson checks.
 */
int utf8_valid(const char *s, size_t n);

/*
 * How many bytes of S[0..N) make its first MAX_CHARS characters, never
 * cutting a UTF-8 sequence in half.
 */
size_t utf8_prefix(const char *s, size_t n, size_t max_chars);

/* Parse a whole number in [LO, HI] (blanks allowed around it); -1 if not. */
int parse_int_range(const char *s, int lo, int hi, int *out);

#endif
