/* OTLP/HTTP JSON bodies shaped as the Logfire SDK's logfire.info records. */
#ifndef SHIM_REPORT_H
#define SHIM_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "scrub.h"

/*
 * One event, its properties already through the scrubber, in order.  Its
 * trace and span ids are fixed once, when it is made: a batch sent again
 * (a retry, the spool at the next boot) carries the same ids, so copies
 * that a cut-short transfer had already delivered can be told apart.
 */
struct tevent {
	enum event_type type;
	uint64_t time_ns;	/* CLOCK_REALTIME: Logfire rejects old times */
	json_t *props;
	uint8_t trace_id[16];	/* all zero: made at encoding */
	uint8_t span_id[8];
};

/*
 * Give EV its ids: the trace id's first six bytes are the event's
 * millisecond (Logfire's ULID layout), the rest random; the span id
 * random and never all zero.  0, or -1 when randomness failed.
 */
int tevent_assign_ids(struct tevent *ev);

/* Lower-case hex of N bytes into OUT (2N+1 bytes); for the spool too. */
void hex_encode(char *out, const uint8_t *b, size_t n);

/* Parse exactly 2N hex digits into B; 0, or -1 if S is not that. */
int hex_decode(uint8_t *b, size_t n, const char *s);

/*
 * One log span for EV: name and template the event's name, start equal
 * to end, logfire.* attributes around the properties, and a fresh trace
 * id whose first six bytes are the event's millisecond (Logfire's ULID
 * layout).  NULL when out of memory or randomness.
 */
json_t *report_span(const struct tevent *ev);

/*
 * The ExportTraceServiceRequest for N events under the scrubbed resource
 * attributes RESOURCE, as compact JSON text (free() it), or NULL.
 */
char *report_encode(json_t *resource, const struct tevent *evs, size_t n);

/* An OTLP AnyValue for a scalar JSON value, or NULL for anything else. */
json_t *report_any_value(json_t *v);

#endif
