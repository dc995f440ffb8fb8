/* OTLP/HTTP JSON bodies shaped as the Logfire SDK's logfire.info records. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "rnd.h"
#include "version.h"

/* Logfire's level for info, and the span kind INTERNAL. */
#define LEVEL_INFO 9
#define SPAN_KIND_INTERNAL 1
/* The parent is known not to be remote: what the Python encoder sets. */
#define SPAN_FLAGS 256

void hex_encode(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(uint8_t *b, size_t n, const char *s)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = nibble(s[2 * i]);
		lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int tevent_assign_ids(struct tevent *ev)
{
	uint64_t ms = ev->time_ns / 1000000;
	int i;

	if (rnd_bytes(ev->trace_id + 6, 10) < 0 ||
	    rnd_bytes(ev->span_id, sizeof(ev->span_id)) < 0)
		return -1;
	for (i = 0; i < 6; i++)
		ev->trace_id[i] = (uint8_t)(ms >> (8 * (5 - i)));
	/* An all-zero span id is invalid; a random one is, once in 2^64. */
	if (all_zero(ev->span_id, sizeof(ev->span_id)))
		ev->span_id[7] = 1;
	return 0;
}

/* 64-bit integers travel as decimal strings in OTLP JSON. */
static json_t *int64_string(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

json_t *report_any_value(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_pack("{s:O}", "stringValue", v);
	case JSON_INTEGER:
		return json_pack("{s:o}", "intValue",
				 int64_string(json_integer_value(v)));
	case JSON_REAL:
		return json_pack("{s:O}", "doubleValue", v);
	case JSON_TRUE:
	case JSON_FALSE:
		return json_pack("{s:O}", "boolValue", v);
	default:
		return NULL;
	}
}

/* Append {"key": KEY, "value": AnyValue(V)} to ATTRS; steals V. */
static int add_attr(json_t *attrs, const char *key, json_t *v)
{
	json_t *any = v ? report_any_value(v) : NULL;
	json_t *kv;

	json_decref(v);
	if (!any)
		return -1;
	kv = json_pack("{s:s, s:o}", "key", key, "value", any);
	return kv ? json_array_append_new(attrs, kv) : -1;
}

static json_t *attributes(const struct tevent *ev)
{
	const char *name = event_name(ev->type), *key;
	json_t *attrs = json_array(), *schema = json_object(), *v;
	char *schema_text = NULL;
	int bad = !attrs || !schema;

	bad |= add_attr(attrs, "logfire.span_type", json_string("log"));
	bad |= add_attr(attrs, "logfire.level_num", json_integer(LEVEL_INFO));
	bad |= add_attr(attrs, "logfire.msg_template", json_string(name));
	bad |= add_attr(attrs, "logfire.msg", json_string(name));
	json_object_foreach(ev->props, key, v) {
		bad |= add_attr(attrs, key, json_incref(v));
		/* Every scalar's schema is {}: Logfire shows them as arguments. */
		bad |= json_object_set_new(schema, key, json_object());
	}
	if (json_object_size(ev->props)) {
		json_t *doc = json_pack("{s:s, s:O}", "type", "object",
					"properties", schema);

		schema_text = doc ? json_dumps(doc, JSON_COMPACT |
					       JSON_PRESERVE_ORDER) : NULL;
		json_decref(doc);
		bad |= !schema_text;
		if (schema_text)
			bad |= add_attr(attrs, "logfire.json_schema",
					json_string(schema_text));
	}
	free(schema_text);
	json_decref(schema);
	if (bad) {
		json_decref(attrs);
		return NULL;
	}
	return attrs;
}

json_t *report_span(const struct tevent *ev)
{
	char trace_hex[33], span_hex[17];
	struct tevent ids = *ev;
	json_t *attrs;

	if (all_zero(ids.span_id, sizeof(ids.span_id)) &&
	    tevent_assign_ids(&ids) < 0)
		return NULL;
	hex_encode(trace_hex, ids.trace_id, sizeof(ids.trace_id));
	hex_encode(span_hex, ids.span_id, sizeof(ids.span_id));
	attrs = attributes(ev);
	if (!attrs)
		return NULL;
	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:o, s:o, s:o}",
			 "traceId", trace_hex, "spanId", span_hex,
			 "flags", SPAN_FLAGS, "name", event_name(ev->type),
			 "kind", SPAN_KIND_INTERNAL,
			 "startTimeUnixNano", int64_string((int64_t)ev->time_ns),
			 "endTimeUnixNano", int64_string((int64_t)ev->time_ns),
			 "attributes", attrs);
}

static json_t *resource_attributes(json_t *resource)
{
	json_t *attrs = json_array(), *v;
	const char *key;

	if (!attrs)
		return NULL;
	json_object_foreach(resource, key, v) {
		if (add_attr(attrs, key, json_incref(v)) < 0) {
			json_decref(attrs);
			return NULL;
		}
	}
	return attrs;
}

char *report_encode(json_t *resource, const struct tevent *evs, size_t n)
{
	json_t *spans = json_array(), *body, *span;
	char *text;
	size_t i;

	if (!spans || n == 0) {
		json_decref(spans);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		span = report_span(&evs[i]);
		if (!span || json_array_append_new(spans, span) < 0) {
			json_decref(spans);
			return NULL;
		}
	}
	/* The scope is "logfire", as for every record a Logfire SDK makes. */
	body = json_pack("{s:[{s:{s:o}, s:[{s:{s:s, s:s}, s:o}]}]}",
			 "resourceSpans",
			 "resource", "attributes", resource_attributes(resource),
			 "scopeSpans", "scope", "name", "logfire",
			 "version", SHIM_VERSION, "spans", spans);
	if (!body)
		return NULL;
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	return text;
}
