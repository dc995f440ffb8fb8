/*
 * The small parsers behind every option and variable, each against a
 * second reading written here: parse_flag, parse_decimal (with the scales
 * and limits the product uses and others), parse_int_range, sig_parse and
 * sig_name.
 *
 * Input: a selector byte, 8 parameter bytes, then the text (cut at its
 * first NUL, as C strings from argv and the environment are).
 */
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "../../shim/envparse.h"
#include "../../shim/sigtab.h"
#include "fuzz.h"

typedef unsigned __int128 u128;

#define HEAD 9
/* Far beyond any bound below, and far from overflowing a u128. */
#define SATURATE ((u128)1 << 80)

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text without blanks around it: [*s, *s + return). */
static size_t trimmed(const char **s)
{
	size_t n = strlen(*s);

	while (n && blank(**s)) {
		(*s)++;
		n--;
	}
	while (n && blank((*s)[n - 1]))
		n--;
	return n;
}

static void check_flag(const char *text)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	enum flag want = FLAG_INVALID;
	const char *s = text;
	size_t n = trimmed(&s), i;

	if (n == 0)
		want = FLAG_UNSET;
	for (i = 0; i < 4; i++) {
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
			want = FLAG_TRUE;
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
			want = FLAG_FALSE;
	}
	FUZZ_CHECK(parse_flag(text) == want, "parse_flag: %d, not %d",
		   parse_flag(text), want);
	FUZZ_CHECK(parse_flag(NULL) == FLAG_UNSET, "parse_flag(NULL)");
}

/*
 * parse_decimal keeps the fraction digits SCALE can use (k digits, the
 * least with 10^k >= SCALE) and drops the rest: the value is
 * whole * SCALE + floor(0.d1..dk * SCALE).
 */
static void check_decimal(const char *text, uint64_t scale, uint64_t max)
{
	const char *s = text;
	size_t n = trimmed(&s), i = 0;
	u128 whole = 0, frac = 0, div = 1, v;
	uint64_t got = 0xdeadbeef;
	int digits = 0, rc;
	bool ok;

	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
		if (whole < SATURATE)
			whole = whole * 10 + (u128)(s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (div < scale) {
				frac = frac * 10 + (u128)(s[i] - '0');
				div *= 10;
			}
	ok = i == n && digits > 0;
	v = whole * scale + frac * scale / div;
	ok = ok && whole < SATURATE && v <= max;
	rc = parse_decimal(text, scale, max, &got);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "parse_decimal(scale %llu, max %llu)"
		   " returned %d", (unsigned long long)scale,
		   (unsigned long long)max, rc);
	FUZZ_CHECK(!ok || got == (uint64_t)v, "parse_decimal: %llu, not %llu",
		   (unsigned long long)got, (unsigned long long)v);
}

static void check_int_range(const char *text, int lo, int hi)
{
	const char *s = text;
	size_t n = trimmed(&s), i = 0;
	__int128 v = 0;
	bool neg = false, ok;
	int got = 0x5a5a5a5a, rc;

	if (n && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i++;
	}
	ok = i < n;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			ok = false;
			break;
		}
		if (v < (__int128)SATURATE)
			v = v * 10 + (s[i] - '0');
	}
	if (neg)
		v = -v;
	ok = ok && v >= lo && v <= hi;
	rc = parse_int_range(text, lo, hi, &got);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "parse_int_range([%d, %d]) returned %d",
		   lo, hi, rc);
	FUZZ_CHECK(!ok || got == (int)v, "parse_int_range: %d", got);
}

/* A signal by name, number or real-time offset, read apart from sigtab.c. */
static int expect_signal(const char *s)
{
	/* glibc calls 29 POLL; sigtab.c calls it IO. */
	static const struct {
		const char *name;
		int sig;
	} aliases[] = {
		{ "IOT", SIGABRT }, { "POLL", SIGIO }, { "IO", SIGIO },
		{ "CLD", SIGCHLD },
	};
	const char *p;
	long v = 0;
	int i, base;

	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	/* A number, bare or as "SIG<n>" (what sig_name writes for 32-34). */
	if (*s >= '0' && *s <= '9') {
		for (p = s; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			if (v <= SIGRTMAX)
				v = v * 10 + (*p - '0');
		}
		return v >= 1 && v <= SIGRTMAX ? (int)v : -1;
	}
	for (i = 1; i < 32; i++)
		if (sigabbrev_np(i) && strcasecmp(s, sigabbrev_np(i)) == 0)
			return i;
	for (i = 0; i < (int)(sizeof(aliases) / sizeof(aliases[0])); i++)
		if (strcasecmp(s, aliases[i].name) == 0)
			return aliases[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0)
		base = SIGRTMIN;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		base = SIGRTMAX;
	else
		return -1;
	if (s[5] == '\0')
		return base;
	if (s[5] != (base == SIGRTMIN ? '+' : '-') || !s[6])
		return -1;
	for (p = s + 6; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v <= SIGRTMAX)
			v = v * 10 + (*p - '0');
	}
	if (v > SIGRTMAX - SIGRTMIN)
		return -1;
	return base == SIGRTMIN ? SIGRTMIN + (int)v : SIGRTMAX - (int)v;
}

/* A name sig_name writes parses back, unless it is the bare "SIG<n>". */
static void check_name(int sig)
{
	char buf[SIG_NAME_MAX];
	const char *name = sig_name(sig, buf);

	FUZZ_CHECK(name == buf && strlen(buf) < SIG_NAME_MAX, "sig_name(%d)",
		   sig);
	if (strspn(buf + 3, "-0123456789") == strlen(buf + 3))
		return;
	FUZZ_CHECK(sig_parse(buf) == sig, "sig_name(%d) = %s parses as %d",
		   sig, buf, sig_parse(buf));
}

static void check_signal(const char *text, int32_t num)
{
	int got = sig_parse(text), want = expect_signal(text);

	FUZZ_CHECK(got == want, "sig_parse: %d, not %d", got, want);
	if (got > 0)
		check_name(got);
	check_name(num);
}

static uint64_t u64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t scales[] = { 1, 10, 1000, 3600000, 1000000000,
					   7, 60000 };
	uint8_t head[HEAD] = { 0 };
	uint64_t p, max;
	int32_t lo, hi;
	char *text;

	memcpy(head, data, size < HEAD ? size : HEAD);
	text = size > HEAD ? fuzz_strndup(data + HEAD, size - HEAD) :
			     fuzz_strndup((const uint8_t *)"", 0);
	p = u64_at(head + 1);
	switch (head[0] % 4) {
	case 0:
		check_flag(text);
		break;
	case 1:
		/*
		 * The product's limits are small; past (2^64 - 10) / 10 the
		 * digit loop itself could wrap, which no caller allows.
		 */
		max = p % ((UINT64_MAX - 9) / 10);
		check_decimal(text, scales[(head[0] / 4) % 7], max);
		break;
	case 2:
		lo = (int32_t)(uint32_t)p;
		hi = (int32_t)(uint32_t)(p >> 32);
		check_int_range(text, lo, hi);
		break;
	default:
		check_signal(text, (int32_t)(uint32_t)p);
		break;
	}
	free(text);
	return 0;
}
