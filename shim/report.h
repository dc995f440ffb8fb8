/* OTLP/HTTP JSON bodies shaped as the Logfire SDK's logfire.info records. */
#ifndef SHIM_REPORT_H
#define SHIM_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "scrub.h"

/* One event, its properties already through the scrubber, in order. */
struct tevent {
	enum event_type type;
	uint64_t time_ns;	/* CLOCK_REALTIME: Logfire rejects old times */
	json_t *props;
};

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
