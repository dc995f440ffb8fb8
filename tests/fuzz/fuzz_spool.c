/*
 * The spool, as anyone with access to the data volume may have left it:
 * spool_parse keeps only well-formed, known, recent events and counts the
 * rest; what it keeps (ids included) survives spool_format and a second
 * parse unchanged; and the kept events go on as the telemetry thread sends
 * them, through the scrubber and into an OTLP body that is valid JSON.
 */
#include <jansson.h>
#include <string.h>

#include "../../shim/report.h"
#include "../../shim/scrub.h"
#include "../../shim/spool.h"
#include "fuzz.h"

/* 2026-08-21T12:00:00Z: the seeds' times are within a day before it. */
#define NOW_NS 1787313600000000000ull

static size_t nonempty_lines(const uint8_t *data, size_t size)
{
	size_t i, n = 0, len = 0;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n') {
			n += len > 0;
			len = 0;
		} else {
			len++;
		}
	}
	return n + (len > 0);
}

static const uint8_t zero[16];

static void check_event(const struct tevent *ev)
{
	FUZZ_CHECK((unsigned)ev->type < EV_COUNT, "type %d", ev->type);
	FUZZ_CHECK(ev->time_ns <= NOW_NS &&
		   NOW_NS - ev->time_ns <= SPOOL_MAX_AGE_NS,
		   "time %llu kept", (unsigned long long)ev->time_ns);
	FUZZ_CHECK(json_is_object(ev->props), "properties not an object");
	/* Kept from the line when whole, made anew when not: never zero. */
	FUZZ_CHECK(memcmp(ev->trace_id, zero, sizeof(ev->trace_id)) &&
		   memcmp(ev->span_id, zero, sizeof(ev->span_id)),
		   "an all-zero id");
}

static bool same_event(const struct tevent *a, const struct tevent *b)
{
	return a->type == b->type && a->time_ns == b->time_ns &&
	       !memcmp(a->trace_id, b->trace_id, sizeof(a->trace_id)) &&
	       !memcmp(a->span_id, b->span_id, sizeof(a->span_id)) &&
	       json_equal(a->props, b->props);
}

/*
 * Format and parse back: the same events, in order.  spool_format keeps
 * whole events within SPOOL_MAX_BYTES, so a tail may be left out, but only
 * when the next one would not have fitted.
 */
static void check_round_trip(const struct tevent *evs, size_t n)
{
	struct tevent back[SPOOL_MAX_EVENTS];
	size_t len, len1, bad, m, i;
	char *text, *one;

	text = spool_format(evs, n, &len);
	if (!text)
		return;	/* out of memory */
	FUZZ_CHECK(strlen(text) == len, "length %zu for %zu bytes of text",
		   len, strlen(text));
	FUZZ_CHECK(len <= SPOOL_MAX_BYTES, "spool of %zu bytes", len);
	m = spool_parse(text, len, NOW_NS, back, SPOOL_MAX_EVENTS, &bad);
	FUZZ_CHECK(bad == 0, "%zu formatted lines do not parse back", bad);
	FUZZ_CHECK(m <= n, "%zu events back from %zu", m, n);
	for (i = 0; i < m; i++)
		FUZZ_CHECK(same_event(&evs[i], &back[i]),
			   "event %zu changed on the way back", i);
	if (m < n) {
		one = spool_format(evs + m, 1, &len1);
		FUZZ_CHECK(!one || len + len1 > SPOOL_MAX_BYTES,
			   "event %zu left out though it fits", m);
		free(one);
	}
	for (i = 0; i < m; i++)
		json_decref(back[i].props);
	free(text);
}

/* What load_spool and flush do next: scrub, then encode what passed. */
static void check_report(const struct tevent *evs, size_t n)
{
	struct tevent ok[SPOOL_MAX_EVENTS];
	struct scrub_verdict v;
	json_t *resource, *body;
	size_t i, k = 0;
	char *text;

	for (i = 0; i < n; i++)
		if (scrub_event(evs[i].type, evs[i].props, &v))
			ok[k++] = evs[i];
	if (!k)
		return;
	resource = json_pack("{s:s, s:s}", "service.name", "synthorg-shim",
			     "deployment.environment.name", "dev");
	text = report_encode(resource, ok, k);
	json_decref(resource);
	if (!text)
		return;	/* out of memory or randomness */
	body = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(body != NULL, "the OTLP body is not JSON");
	json_decref(body);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tevent evs[SPOOL_MAX_EVENTS];
	size_t n, bad = 12345, i;

	n = spool_parse((const char *)data, size, NOW_NS, evs,
			SPOOL_MAX_EVENTS, &bad);
	FUZZ_CHECK(n <= SPOOL_MAX_EVENTS, "%zu events", n);
	FUZZ_CHECK(n + bad == nonempty_lines(data, size),
		   "%zu kept + %zu bad != %zu lines", n, bad,
		   nonempty_lines(data, size));
	for (i = 0; i < n; i++)
		check_event(&evs[i]);
	check_round_trip(evs, n);
	check_report(evs, n);
	for (i = 0; i < n; i++)
		json_decref(evs[i].props);
	return 0;
}
