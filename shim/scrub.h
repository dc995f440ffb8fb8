/* The privacy scrubber: the only way an event's properties leave. */
#ifndef SHIM_SCRUB_H
#define SHIM_SCRUB_H

#include <jansson.h>
#include <stdbool.h>

#define SCRUB_STRING_MAX 64	/* characters */

enum event_type {
	EV_STARTUP,
	EV_HEARTBEAT,
	EV_SESSION_SUMMARY,
	EV_SHUTDOWN,
	EV_COUNT,
};

/* Who provides a key: the envelope, the app's snapshot, the shim, Docker. */
enum key_source {
	KEY_ENVELOPE,
	KEY_APP,
	KEY_SHIM,
	KEY_DOCKER,
};

struct scrub_verdict {
	char key[SCRUB_STRING_MAX * 4 + 1];	/* the offending key, cut */
	const char *reason;	/* a stable word: "not_allowlisted", ... */
};

const char *event_name(enum event_type type);
int event_type_from_name(const char *name);

/*
 * Judge every property of an event of TYPE: each key must be on that
 * event's allowlist and match no forbidden pattern, each value must be an
 * integer, real, boolean or string, strings at most 64 characters and
 * shaped like no path, address or secret.  Returns true when the event
 * may leave; otherwise false with *V naming the first offence, and the
 * caller drops the whole event.
 */
bool scrub_event(enum event_type type, json_t *props, struct scrub_verdict *v);

/* The same judgement for the fixed resource attributes. */
bool scrub_resource(json_t *attrs, struct scrub_verdict *v);

/* Is KEY on TYPE's allowlist, and from SOURCE?  For routing snapshot keys. */
bool scrub_allows(enum event_type type, const char *key, enum key_source source);

/*
 * What a string value may never look like, whatever its key: a control
 * character, a path, an address or host name, or a credential.  The
 * reason ("looks_like_path", ...), or NULL when the value may go.
 */
const char *scrub_value_offence(const char *s);

/* Does KEY contain a forbidden pattern (case-insensitive)?  NULL if not. */
const char *scrub_forbidden_pattern(const char *key);

/* Iterate the table, for tests: the I-th key, or NULL past the end. */
const char *scrub_table_key(size_t i, unsigned *events, enum key_source *src);

/* Count UTF-8 characters of S (jansson strings are valid UTF-8). */
size_t utf8_chars(const char *s);

#endif
