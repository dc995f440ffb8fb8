/*
 * The OTLP body: events built from the input (allowlisted keys mostly, any
 * key sometimes; any scalar, and non-scalars too), kept when the scrubber
 * lets them go, then encoded.  The body is always valid JSON with one span
 * per event, carrying each property unchanged as an OTLP AnyValue, and the
 * event's own ids: as tevent_assign_ids made them, as a spool line brought
 * them back, or, for an event without any, fresh ones whose trace id
 * starts with the event's millisecond.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "../../shim/report.h"
#include "../../shim/scrub.h"
#include "fuzz.h"

#define MAX_EVENTS 8
#define MAX_PROPS 16

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint64_t u64(struct reader *r)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | u8(r);
	return v;
}

/* Up to MAX bytes as a JSON string; NULL when they are not UTF-8. */
static json_t *string(struct reader *r, size_t max)
{
	size_t len = u8(r) % (max + 1);
	json_t *s;

	if (len > r->n)
		len = r->n;
	s = json_stringn((const char *)r->p, len);
	r->p += len;
	r->n -= len;
	return s;
}

static size_t table_size(void)
{
	size_t n = 0;

	while (scrub_table_key(n, NULL, NULL))
		n++;
	return n;
}

static json_t *value(struct reader *r)
{
	uint64_t bits;
	double d;

	switch (u8(r) % 7) {
	case 0:
		return json_integer((json_int_t)u64(r));
	case 1:
		bits = u64(r);
		memcpy(&d, &bits, sizeof(d));
		return isfinite(d) ? json_real(d) : json_real(0.5);
	case 2:
		return json_true();
	case 3:
		return json_false();
	case 4:
		return json_null();
	case 5:
		return json_pack("[i]", 1);
	default:
		return string(r, 80);
	}
}

static json_t *props(struct reader *r)
{
	size_t i, n = u8(r) % MAX_PROPS, keys = table_size();
	json_t *p = json_object(), *k, *v;
	uint8_t pick;

	for (i = 0; p && i < n; i++) {
		pick = u8(r);
		if (pick < 0xf0) {
			k = json_string(scrub_table_key(pick % keys, NULL,
							NULL));
		} else {
			k = string(r, 80);
		}
		v = value(r);
		if (k && v)
			json_object_set(p, json_string_value(k), v);
		json_decref(k);
		json_decref(v);
	}
	return p;
}

static json_t *resource(struct reader *r)
{
	struct scrub_verdict v;
	json_t *env = string(r, 80), *res;

	res = json_pack("{s:s, s:s, s:o, s:s}", "service.name",
			"synthorg-shim", "service.version", "0.1.0",
			"deployment.environment.name",
			env ? env : json_string("dev"), "os.type", "linux");
	if (res && !scrub_resource(res, &v)) {
		json_decref(res);
		res = json_pack("{s:s}", "service.name", "synthorg-shim");
	}
	return res;
}

/* The ids an event arrives with: made, read back from the spool, or none. */
static void ids(struct reader *r, struct tevent *ev)
{
	size_t i;

	memset(ev->trace_id, 0, sizeof(ev->trace_id));
	memset(ev->span_id, 0, sizeof(ev->span_id));
	switch (u8(r) % 3) {
	case 0:
		FUZZ_CHECK(tevent_assign_ids(ev) == 0, "no ids");
		break;
	case 1:
		for (i = 0; i < sizeof(ev->trace_id); i++)
			ev->trace_id[i] = u8(r);
		for (i = 0; i < sizeof(ev->span_id); i++)
			ev->span_id[i] = u8(r);
		break;
	default:
		break;	/* none: report_span makes them */
	}
}

static bool all_zero(const uint8_t *b, size_t n)
{
	while (n--)
		if (*b++)
			return false;
	return true;
}

static json_t *attr_at(json_t *attrs, size_t i, const char *key)
{
	json_t *kv = json_array_get(attrs, i);

	FUZZ_CHECK(kv && !strcmp(json_string_value(json_object_get(kv, "key")),
				 key), "attribute %zu is not %s", i, key);
	return json_object_get(kv, "value");
}

/* The AnyValue V carries WANT unchanged. */
static void check_any(const char *key, json_t *any, json_t *want)
{
	char num[24];
	json_t *v;

	FUZZ_CHECK(json_object_size(any) == 1, "%s: not one AnyValue", key);
	switch (json_typeof(want)) {
	case JSON_STRING:
		v = json_object_get(any, "stringValue");
		FUZZ_CHECK(json_equal(v, want), "%s: string changed", key);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(want));
		v = json_object_get(any, "intValue");
		FUZZ_CHECK(v && !strcmp(json_string_value(v), num),
			   "%s: integer changed", key);
		break;
	case JSON_REAL:
		v = json_object_get(any, "doubleValue");
		FUZZ_CHECK(json_is_number(v) &&
			   json_number_value(v) == json_real_value(want),
			   "%s: real changed", key);
		break;
	default:
		v = json_object_get(any, "boolValue");
		FUZZ_CHECK(json_is_boolean(v) &&
			   json_is_true(v) == json_is_true(want),
			   "%s: boolean changed", key);
	}
}

static void check_span(json_t *span, const struct tevent *ev)
{
	json_t *attrs = json_object_get(span, "attributes"), *schema, *doc;
	const char *trace = json_string_value(json_object_get(span, "traceId"));
	const char *sid = json_string_value(json_object_get(span, "spanId"));
	const char *key;
	char want[40];
	json_t *v;
	size_t i = 4;

	FUZZ_CHECK(!strcmp(json_string_value(json_object_get(span, "name")),
			   event_name(ev->type)), "span name");
	FUZZ_CHECK(trace && strlen(trace) == 32 &&
		   strspn(trace, "0123456789abcdef") == 32, "trace id %s",
		   trace ? trace : "-");
	FUZZ_CHECK(sid && strlen(sid) == 16 &&
		   strspn(sid, "0123456789abcdef") == 16 &&
		   strcmp(sid, "0000000000000000"), "span id %s",
		   sid ? sid : "-");
	if (all_zero(ev->span_id, sizeof(ev->span_id))) {
		/* Made now: the millisecond, then randomness. */
		snprintf(want, sizeof(want), "%012" PRIx64,
			 ev->time_ns / 1000000);
		FUZZ_CHECK(!strncmp(trace, want + strlen(want) - 12, 12),
			   "fresh trace id %s for ms %s", trace, want);
	} else {
		hex_encode(want, ev->trace_id, sizeof(ev->trace_id));
		FUZZ_CHECK(!strcmp(trace, want), "trace id %s, not %s", trace,
			   want);
		hex_encode(want, ev->span_id, sizeof(ev->span_id));
		FUZZ_CHECK(!strcmp(sid, want), "span id %s, not %s", sid, want);
	}
	snprintf(want, sizeof(want), "%" PRIu64, ev->time_ns);
	FUZZ_CHECK(!strcmp(json_string_value(json_object_get(span,
			   "startTimeUnixNano")), want) &&
		   !strcmp(json_string_value(json_object_get(span,
			   "endTimeUnixNano")), want), "times");
	attr_at(attrs, 0, "logfire.span_type");
	attr_at(attrs, 3, "logfire.msg");
	json_object_foreach(ev->props, key, v)
		check_any(key, attr_at(attrs, i++, key), v);
	if (!json_object_size(ev->props)) {
		FUZZ_CHECK(json_array_size(attrs) == 4, "a schema for nothing");
		return;
	}
	schema = attr_at(attrs, i++, "logfire.json_schema");
	FUZZ_CHECK(json_array_size(attrs) == i, "extra attributes");
	doc = json_loads(json_string_value(json_object_get(schema,
			 "stringValue")), JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(doc && json_object_size(json_object_get(doc, "properties"))
		   == json_object_size(ev->props), "schema");
	json_decref(doc);
}

static void check_body(const char *text, const struct tevent *evs, size_t n)
{
	json_t *body = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *spans;
	size_t i;

	FUZZ_CHECK(body != NULL, "the OTLP body is not JSON");
	spans = json_object_get(json_array_get(json_object_get(
		json_array_get(json_object_get(body, "resourceSpans"), 0),
		"scopeSpans"), 0), "spans");
	FUZZ_CHECK(json_array_size(spans) == n, "%zu spans for %zu events",
		   json_array_size(spans), n);
	for (i = 0; i < n; i++)
		check_span(json_array_get(spans, i), &evs[i]);
	json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct tevent evs[MAX_EVENTS];
	struct scrub_verdict v;
	size_t n = 0, i, want = 1 + u8(&r) % MAX_EVENTS;
	json_t *res = resource(&r);
	char *text;

	for (i = 0; i < want; i++) {
		evs[n].type = (enum event_type)(u8(&r) % EV_COUNT);
		/* Times the clock can give: below 2^63 ns (year 2262). */
		evs[n].time_ns = u64(&r) >> 1;
		ids(&r, &evs[n]);
		evs[n].props = props(&r);
		if (evs[n].props && scrub_event(evs[n].type, evs[n].props, &v))
			n++;
		else
			json_decref(evs[n].props);
	}
	text = report_encode(res, evs, n);
	FUZZ_CHECK(text || n == 0, "no body for %zu events", n);
	if (text)
		check_body(text, evs, n);
	free(text);
	for (i = 0; i < n; i++)
		json_decref(evs[i].props);
	json_decref(res);
	return 0;
}
