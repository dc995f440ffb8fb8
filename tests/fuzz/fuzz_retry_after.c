/*
 * Retry-After, as a receiver (or anything between) may send it: delta
 * seconds up to a day, or an HTTP-date; the wait is never negative, is
 * exactly what the value says, and its arithmetic never overflows.
 *
 * Input: 8 bytes for "now" (Unix seconds, up to 2^34), then the header
 * value, cut at its first NUL and at 63 bytes as deliver.c keeps it.
 */
#include <curl/curl.h>
#include <string.h>

#include "../../shim/deliver.h"
#include "fuzz.h"

#define VALUE_MAX 63

static int64_t expect(const char *value, int64_t now_s)
{
	__int128 ms;
	int64_t secs = 0;
	const char *p;
	time_t when;

	if (!*value)
		return -1;
	if (*value >= '0' && *value <= '9') {
		for (p = value; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			if (secs <= 86400)
				secs = secs * 10 + (*p - '0');
		}
		/* Waits past a day are a day: not within any budget. */
		return (secs <= 86400 ? secs : 86400) * 1000;
	}
	when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	if (when <= now_s)
		return 0;
	ms = ((__int128)when - now_s) * 1000;
	return ms > 86400 * 1000 ? 86400 * 1000 : (int64_t)ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 0;
	size_t i, len;
	char value[VALUE_MAX + 1];
	int64_t got, want;

	for (i = 0; i < 8 && i < size; i++)
		now = now << 8 | data[i];
	now %= (uint64_t)1 << 34;
	len = size > 8 ? size - 8 : 0;
	if (len > VALUE_MAX)
		len = VALUE_MAX;
	memcpy(value, data + (size > 8 ? 8 : size), len);
	value[len] = '\0';

	got = deliver_retry_after_ms(value, (int64_t)now);
	FUZZ_CHECK(got >= -1, "negative wait %lld", (long long)got);
	want = expect(value, (int64_t)now);
	FUZZ_CHECK(got == want, "%lld ms, not %lld, for \"%s\"",
		   (long long)got, (long long)want, value);
	FUZZ_CHECK(deliver_retry_after_ms(NULL, (int64_t)now) == -1,
		   "a wait for no header");
	return 0;
}
