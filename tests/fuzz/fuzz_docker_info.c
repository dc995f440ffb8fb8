/*
 * The Docker /info body: whatever the daemon (or whoever answers on its
 * socket) sends, the mapping yields only allowlisted, scalar, short values,
 * each taken unchanged (or cut) from a field of the right type.
 */
#include <jansson.h>
#include <string.h>

#include "../../shim/docker_probe.h"
#include "../../shim/scrub.h"
#include "fuzz.h"

/* The daemon's field behind each exported key; NULL for the GPU flag. */
static const struct {
	const char *key;
	const char *field;
	json_type type;
} mapping[] = {
	{ "docker_server_version", "ServerVersion", JSON_STRING },
	{ "docker_operating_system", "OperatingSystem", JSON_STRING },
	{ "docker_os_type", "OSType", JSON_STRING },
	{ "docker_os_version", "OSVersion", JSON_STRING },
	{ "docker_architecture", "Architecture", JSON_STRING },
	{ "docker_kernel_version", "KernelVersion", JSON_STRING },
	{ "docker_storage_driver", "Driver", JSON_STRING },
	{ "docker_default_runtime", "DefaultRuntime", JSON_STRING },
	{ "docker_isolation", "Isolation", JSON_STRING },
	{ "docker_ncpu", "NCPU", JSON_INTEGER },
	{ "docker_mem_total", "MemTotal", JSON_INTEGER },
	{ "docker_gpu_runtime_nvidia_available", NULL, JSON_TRUE },
};

#define NMAPPING (sizeof(mapping) / sizeof(mapping[0]))

static size_t find_key(const char *key)
{
	size_t i;

	for (i = 0; i < NMAPPING; i++)
		if (strcmp(mapping[i].key, key) == 0)
			return i;
	return NMAPPING;
}

/* A cut string: a prefix of the original, whole characters, 64 at most. */
static void check_cut(const char *key, const char *out, json_t *in)
{
	const char *orig = json_string_value(in);
	size_t olen = strlen(out), ochars = utf8_chars(out);

	FUZZ_CHECK(orig != NULL, "%s has no source string", key);
	FUZZ_CHECK(strncmp(out, orig, olen) == 0, "%s is not a prefix", key);
	FUZZ_CHECK(ochars <= SCRUB_STRING_MAX, "%s has %zu characters", key,
		   ochars);
	/* Cut only when needed, and never inside a character. */
	FUZZ_CHECK(orig[olen] == '\0' || ochars == SCRUB_STRING_MAX,
		   "%s cut at %zu characters", key, ochars);
	FUZZ_CHECK(((unsigned char)orig[olen] & 0xc0) != 0x80,
		   "%s cut inside a character", key);
}

static void check_available(json_t *out, json_t *root)
{
	const char *key;
	json_t *v, *src;
	size_t i;

	json_object_foreach(out, key, v) {
		if (strcmp(key, "docker_info_available") == 0)
			continue;
		i = find_key(key);
		FUZZ_CHECK(i < NMAPPING, "unexpected key %s", key);
		FUZZ_CHECK(scrub_allows(EV_STARTUP, key, KEY_DOCKER),
			   "%s is not a startup Docker key", key);
		if (!mapping[i].field) {
			FUZZ_CHECK(json_is_boolean(v), "%s not a boolean", key);
			src = json_object_get(root, "Runtimes");
			FUZZ_CHECK(json_is_object(src), "%s without Runtimes",
				   key);
			FUZZ_CHECK(json_is_true(v) ==
				   (json_object_get(src, "nvidia") != NULL),
				   "%s disagrees with Runtimes", key);
			continue;
		}
		src = json_object_get(root, mapping[i].field);
		FUZZ_CHECK(src && json_typeof(src) == mapping[i].type,
			   "%s from a %s of the wrong type", key,
			   mapping[i].field);
		if (mapping[i].type == JSON_STRING)
			check_cut(key, json_string_value(v), src);
		else
			FUZZ_CHECK(json_equal(v, src), "%s changed", key);
	}
	/*
	 * Every well-typed field present in the body is carried over, but a
	 * string the scrubber would refuse (a path, an address, a secret).
	 */
	for (i = 0; i < NMAPPING; i++) {
		if (!mapping[i].field)
			continue;
		src = json_object_get(root, mapping[i].field);
		if (!src || json_typeof(src) != mapping[i].type)
			continue;
		if (json_object_get(out, mapping[i].key))
			continue;
		FUZZ_CHECK(json_is_string(src), "%s dropped", mapping[i].key);
	}
}

/*
 * Merged into a startup event, as the telemetry thread does: the scrubber
 * passes it, since the probe left out what it would refuse.
 */
static void check_scrubbed(json_t *out)
{
	struct scrub_verdict v;
	json_t *props = json_pack("{s:s, s:b}", "environment", "dev",
				  "init_pid1", 1);

	if (!props)
		return;
	json_object_update(props, out);
	FUZZ_CHECK(scrub_event(EV_STARTUP, props, &v),
		   "startup event dropped: key=%s reason=%s", v.key, v.reason);
	json_decref(props);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *out, *root, *avail;

	out = docker_info_map((const char *)data, size);
	if (!out)
		return 0;	/* out of memory */
	root = json_loadb((const char *)data, size, 0, NULL);
	avail = json_object_get(out, "docker_info_available");
	FUZZ_CHECK(json_is_boolean(avail), "no docker_info_available");
	if (json_is_true(avail)) {
		FUZZ_CHECK(json_is_object(root), "available without an object");
		check_available(out, root);
	} else {
		FUZZ_CHECK(!json_is_object(root), "unavailable for an object");
		FUZZ_CHECK(json_object_size(out) == 2, "extra keys");
		FUZZ_CHECK(json_is_string(json_object_get(out,
				"docker_info_unavailable_reason")),
			   "no reason");
	}
	check_scrubbed(out);
	json_decref(root);
	json_decref(out);
	return 0;
}
