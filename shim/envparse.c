/* Parsers for the values operators write in the environment and options. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "envparse.h"

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Find the non-blank span of S: [*start, *start + *len). */
static void trim(const char *s, const char **start, size_t *len)
{
	size_t n = strlen(s);

	while (n && blank(*s)) {
		s++;
		n--;
	}
	while (n && blank(s[n - 1]))
		n--;
	*start = s;
	*len = n;
}

static int word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

enum flag parse_flag(const char *value)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	const char *s;
	size_t len, i;

	if (!value)
		return FLAG_UNSET;
	trim(value, &s, &len);
	if (len == 0)
		return FLAG_UNSET;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (word_is(s, len, yes[i]))
			return FLAG_TRUE;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (word_is(s, len, no[i]))
			return FLAG_FALSE;
	return FLAG_INVALID;
}

int parse_decimal(const char *str, uint64_t scale, uint64_t max, uint64_t *out)
{
	const char *s, *end;
	uint64_t whole = 0, frac = 0, div = 1, v;
	size_t len;
	int digits = 0;

	trim(str, &s, &len);
	end = s + len;
	for (; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
		whole = whole * 10 + (uint64_t)(*s - '0');
		if (whole > max)
			return -1;
	}
	if (s < end && *s == '.') {
		for (s++; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
			/* Keep only as many fraction digits as SCALE can use. */
			if (div < scale) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				div *= 10;
			}
		}
	}
	if (s != end || digits == 0)
		return -1;
	if (scale && whole > max / scale)
		return -1;
	v = whole * scale + frac * scale / div;
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_int_range(const char *str, int lo, int hi, int *out)
{
	const char *s, *end;
	size_t len;
	long v = 0;
	int neg = 0;

	trim(str, &s, &len);
	end = s + len;
	if (s < end && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > (long)hi + 1 && v > -(long)lo + 1)
			return -1;
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len, k;
	unsigned cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates, beyond Unicode. */
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += len;
	}
	return 1;
}

size_t utf8_prefix(const char *s, size_t n, size_t max_chars)
{
	size_t i, chars = 0;

	for (i = 0; i < n; i++) {
		/* A lead byte starts a character; the MAX_CHARS+1th ends it. */
		if (((unsigned char)s[i] & 0xc0) != 0x80 &&
		    chars++ == max_chars)
			break;
	}
	return i;
}
