/*
 * The app's snapshot, whatever the app (or anyone who can write its file)
 * put there: snapshot_read agrees with a plain parse of the same bytes;
 * snapshot_merge never replaces a key the shim set, never routes a known
 * key to an event it does not belong to; and when the scrubber lets the
 * merged event go, every key is allowlisted for it and every value a short
 * scalar, and the OTLP body made of it is valid JSON.
 */
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "../../shim/report.h"
#include "../../shim/scrub.h"
#include "../../shim/snapshot.h"
#include "fuzz.h"

static char path[64];

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int fd;

	snprintf(path, sizeof(path), "%s/fuzz_snapshot.XXXXXX", base);
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fuzz_snapshot: scratch file");
		exit(1);
	}
	close(fd);
	atexit(remove_file);
	return 0;
}

/* The event as the telemetry thread builds it before the merge. */
static json_t *shim_props(enum event_type type)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}",
			      "event_timestamp", "2026-08-21T12:00:00.000Z",
			      "deployment_id",
			      "4b1c6a1e-52d4-4f0e-9a59-1b0b8e6c2d11",
			      "synthorg_version", "0.1.0", "os_platform",
			      "Linux", "environment", "dev");

	if (!p)
		return NULL;
	if (type == EV_STARTUP)
		json_object_set_new(p, "init_pid1", json_true());
	if (type != EV_STARTUP)
		json_object_set_new(p, "uptime_hours", json_real(1.25));
	if (type == EV_SHUTDOWN)
		json_object_set_new(p, "child_exit_code", json_integer(0));
	return p;
}

/* The key's row in the allowlist; false when it has none. */
static bool table_row(const char *key, unsigned *events, enum key_source *src)
{
	const char *k;
	size_t i;

	for (i = 0; (k = scrub_table_key(i, events, src)); i++)
		if (strcmp(k, key) == 0)
			return true;
	return false;
}

static void check_merge(enum event_type type, json_t *snap, json_t *before,
			json_t *after)
{
	enum key_source src;
	unsigned events;
	const char *key;
	json_t *v;
	bool known, wanted;

	/* What the shim set stays as it was. */
	json_object_foreach(before, key, v)
		FUZZ_CHECK(json_object_get(after, key) == v,
			   "snapshot replaced the shim's %s", key);
	json_object_foreach(snap, key, v) {
		if (json_object_get(before, key))
			continue;
		known = table_row(key, &events, &src);
		wanted = !known ||
			 (src == KEY_APP && (events & (1u << type)));
		FUZZ_CHECK(wanted == (json_object_get(after, key) != NULL),
			   "%s %s for %s", key, wanted ? "missing" : "merged",
			   event_name(type));
		if (wanted)
			FUZZ_CHECK(json_object_get(after, key) == v,
				   "%s merged with another value", key);
	}
	FUZZ_CHECK(json_object_size(after) <= json_object_size(before) +
		   json_object_size(snap), "keys from nowhere");
}

static bool allowlisted(enum event_type type, const char *key)
{
	return scrub_allows(type, key, KEY_ENVELOPE) ||
	       scrub_allows(type, key, KEY_APP) ||
	       scrub_allows(type, key, KEY_SHIM) ||
	       scrub_allows(type, key, KEY_DOCKER);
}

static void check_scrubbed(enum event_type type, json_t *props)
{
	struct scrub_verdict v;
	struct tevent ev = { type, 1787313600000000000ull, props };
	const char *key, *s;
	json_t *val, *body;
	char *text;

	tevent_assign_ids(&ev);
	if (!scrub_event(type, props, &v)) {
		FUZZ_CHECK(v.reason != NULL, "dropped without a reason");
		return;
	}
	json_object_foreach(props, key, val) {
		FUZZ_CHECK(allowlisted(type, key), "%s let through for %s",
			   key, event_name(type));
		FUZZ_CHECK(!scrub_forbidden_pattern(key), "%s forbidden", key);
		FUZZ_CHECK(json_is_integer(val) || json_is_real(val) ||
			   json_is_boolean(val) || json_is_string(val),
			   "%s is not a scalar", key);
		if (!json_is_string(val))
			continue;
		s = json_string_value(val);
		FUZZ_CHECK(strlen(s) == json_string_length(val),
			   "%s holds a NUL", key);
		FUZZ_CHECK(utf8_chars(s) <= SCRUB_STRING_MAX,
			   "%s over 64 characters", key);
		FUZZ_CHECK(s[0] != '/' && !strstr(s, "://") &&
			   !strchr(s, '@'), "%s looks like a path or address",
			   key);
	}
	text = report_encode(NULL, &ev, 1);
	if (!text)
		return;
	body = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(body != NULL, "the OTLP body is not JSON");
	json_decref(body);
	free(text);
}

/* snapshot_read on the same bytes: the same object, or a reason. */
static void check_read(const uint8_t *data, size_t size, json_t *snap)
{
	const char *why = NULL;
	json_t *got;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	FUZZ_CHECK(fd >= 0, "harness: open %s", path);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "harness: write");
	close(fd);
	got = snapshot_read(path, &why);
	if (size > SNAPSHOT_MAX_BYTES) {
		FUZZ_CHECK(!got && why && !strcmp(why, "too_large"),
			   "%zu bytes read", size);
		return;
	}
	if (json_is_object(snap)) {
		FUZZ_CHECK(got && json_equal(got, snap), "read differs");
	} else {
		FUZZ_CHECK(!got && why, "a non-object read");
		FUZZ_CHECK(!strcmp(why, snap ? "not_an_object" : "not_json"),
			   "reason %s", why);
	}
	json_decref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *snap, *before, *props;
	int type;

	snap = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
			  NULL);
	check_read(data, size, snap);
	for (type = 0; type < EV_COUNT; type++) {
		before = shim_props((enum event_type)type);
		/* Shallow: values shared, so identity can be checked. */
		props = json_copy(before);
		if (!props) {
			json_decref(before);
			continue;
		}
		snapshot_merge((enum event_type)type, snap, props);
		if (json_is_object(snap))
			check_merge((enum event_type)type, snap, before, props);
		check_scrubbed((enum event_type)type, props);
		json_decref(props);
		json_decref(before);
	}
	json_decref(snap);
	return 0;
}
