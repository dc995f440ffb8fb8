/*
 * The privacy scrubber: the only way an event's properties leave.
 *
 * ALLOWLIST below is the single place that decides which property may be
 * sent with which event.  Adding a key there is a privacy decision.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rnd.h"
#include "scrub.h"

#define S (1u << EV_STARTUP)
#define H (1u << EV_HEARTBEAT)
#define U (1u << EV_SESSION_SUMMARY)
#define D (1u << EV_SHUTDOWN)
#define ALL (S | H | U | D)

static const struct allowed {
	const char *key;
	unsigned events;
	enum key_source source;
} allowlist[] = {
	/* The envelope every record carries, as the Python reporter's. */
	{ "event_timestamp", ALL, KEY_ENVELOPE },
	{ "deployment_id", ALL, KEY_ENVELOPE },
	{ "synthorg_version", ALL, KEY_ENVELOPE },
	{ "os_platform", ALL, KEY_ENVELOPE },
	{ "environment", ALL, KEY_ENVELOPE },

	/* The seed's keys: the app's figures, from its snapshot file. */
	{ "agent_count", S | H, KEY_APP },
	{ "department_count", S | H, KEY_APP },
	{ "team_count", H, KEY_APP },
	{ "template_name", S | H, KEY_APP },
	{ "persistence_backend", S | H, KEY_APP },
	{ "memory_backend", S | H, KEY_APP },
	{ "features_enabled", H, KEY_APP },
	{ "tasks_created", U, KEY_APP },
	{ "tasks_completed", U, KEY_APP },
	{ "tasks_failed", U, KEY_APP },
	{ "error_rate_limit", U, KEY_APP },
	{ "error_timeout", U, KEY_APP },
	{ "error_connection", U, KEY_APP },
	{ "error_internal", U, KEY_APP },
	{ "error_validation", U, KEY_APP },
	{ "error_other", U, KEY_APP },
	{ "provider_count", U, KEY_APP },
	{ "topology_hierarchical", U, KEY_APP },
	{ "topology_parallel", U, KEY_APP },
	{ "topology_sequential", U, KEY_APP },
	{ "topology_auto", U, KEY_APP },
	{ "delegations_executed", U, KEY_APP },

	/* Seed keys whose value the shim knows better than the app. */
	{ "uptime_hours", H | U | D, KEY_SHIM },
	{ "graceful", D, KEY_SHIM },

	/* The shim's own lifecycle figures. */
	{ "init_pid1", S, KEY_SHIM },
	{ "signals_forwarded", U | D, KEY_SHIM },
	{ "zombies_reaped", U | D, KEY_SHIM },
	{ "descendants_terminated", U | D, KEY_SHIM },
	{ "descendants_killed", U | D, KEY_SHIM },
	{ "child_exit_code", D, KEY_SHIM },
	{ "child_exit_signal", D, KEY_SHIM },
	{ "child_oom_killed", D, KEY_SHIM },
	{ "shim_exit_status", D, KEY_SHIM },

	/* The Docker daemon's view, section 5 of the spec. */
	{ "docker_info_available", S, KEY_DOCKER },
	{ "docker_info_unavailable_reason", S, KEY_DOCKER },
	{ "docker_server_version", S, KEY_DOCKER },
	{ "docker_operating_system", S, KEY_DOCKER },
	{ "docker_os_type", S, KEY_DOCKER },
	{ "docker_os_version", S, KEY_DOCKER },
	{ "docker_architecture", S, KEY_DOCKER },
	{ "docker_kernel_version", S, KEY_DOCKER },
	{ "docker_storage_driver", S, KEY_DOCKER },
	{ "docker_default_runtime", S, KEY_DOCKER },
	{ "docker_isolation", S, KEY_DOCKER },
	{ "docker_ncpu", S, KEY_DOCKER },
	{ "docker_mem_total", S, KEY_DOCKER },
	{ "docker_gpu_runtime_nvidia_available", S, KEY_DOCKER },
};

/* The resource attributes: fixed, short, and judged like the rest. */
static const char *const resource_keys[] = {
	"service.name", "service.version", "deployment.environment.name",
	"service.instance.id", "os.type", "telemetry.sdk.name",
	"telemetry.sdk.language", "telemetry.sdk.version",
};

static const char *const forbidden[] = {
	"key", "token", "secret", "password", "credential", "bearer", "auth",
	"content", "message", "prompt", "description",
};

static const char *const names[EV_COUNT] = {
	[EV_STARTUP] = "deployment.startup",
	[EV_HEARTBEAT] = "deployment.heartbeat",
	[EV_SESSION_SUMMARY] = "deployment.session_summary",
	[EV_SHUTDOWN] = "deployment.shutdown",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *event_name(enum event_type type)
{
	return (unsigned)type < EV_COUNT ? names[type] : "unknown";
}

int event_type_from_name(const char *name)
{
	int i;

	for (i = 0; i < EV_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *scrub_table_key(size_t i, unsigned *events, enum key_source *src)
{
	if (i >= COUNT(allowlist))
		return NULL;
	if (events)
		*events = allowlist[i].events;
	if (src)
		*src = allowlist[i].source;
	return allowlist[i].key;
}

const char *scrub_forbidden_pattern(const char *key)
{
	size_t i, klen = strlen(key), plen, at;

	for (i = 0; i < COUNT(forbidden); i++) {
		plen = strlen(forbidden[i]);
		for (at = 0; at + plen <= klen; at++)
			if (strncasecmp(key + at, forbidden[i], plen) == 0)
				return forbidden[i];
	}
	return NULL;
}

static const struct allowed *find_allowed(const char *key)
{
	size_t i;

	for (i = 0; i < COUNT(allowlist); i++)
		if (strcmp(allowlist[i].key, key) == 0)
			return &allowlist[i];
	return NULL;
}

bool scrub_allows(enum event_type type, const char *key, enum key_source source)
{
	const struct allowed *a = find_allowed(key);

	return a && a->source == source && (a->events & (1u << type));
}

size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Four dot-separated runs of 1-3 digits anywhere: an IPv4 address. */
static bool has_ipv4(const char *str)
{
	const char *s, *p;
	int parts, digits;

	for (s = str; *s; s++) {
		if (!isdigit((unsigned char)*s) ||
		    (s > str && isdigit((unsigned char)s[-1])))
			continue;
		for (p = s, parts = 0;; p++) {
			for (digits = 0; isdigit((unsigned char)*p); p++)
				digits++;
			if (digits == 0 || digits > 3)
				break;
			if (++parts == 4)
				return true;
			if (*p != '.')
				break;
		}
	}
	return false;
}

/* "::", or three or more colons between hex digits: an IPv6 address. */
static bool has_ipv6(const char *s)
{
	const char *p;
	int colons = 0;

	if (strstr(s, "::"))
		return true;
	for (p = s; *p; p++) {
		if (*p == ':')
			colons++;
		else if (!isxdigit((unsigned char)*p))
			colons = 0;
		if (colons >= 3)
			return true;
	}
	return false;
}

/* The start of a credential in the formats common services issue. */
static const char *const secret_prefixes[] = {
	"pylf_", "sk-", "sk_live_", "sk_test_", "rk_live_", "pk_live_",
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
	"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "AKIA", "ASIA", "AIza",
	"eyJ", "-----BEGIN", "Bearer ", "Basic ", "npm_", "hf_",
};

static bool token_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '+' ||
	       c == '/' || c == '=' || c == '.';
}

/*
 * A long unbroken run of token characters mixing letters and digits: a
 * key or a hash, whatever its prefix.  UUIDs (the deployment ID) are not.
 */
static bool has_key_run(const char *s)
{
	const char *p = s, *start;
	bool alpha, digit;

	while (*p) {
		while (*p && !token_char(*p))
			p++;
		start = p;
		alpha = digit = false;
		for (; *p && token_char(*p); p++) {
			alpha |= isalpha((unsigned char)*p) != 0;
			digit |= isdigit((unsigned char)*p) != 0;
		}
		if (p - start >= 32 && alpha && digit &&
		    !uuid_valid(start, (size_t)(p - start)))
			return true;
	}
	return false;
}

/*
 * The whole value a host name: two or more dot-separated labels of
 * letters, digits and hyphens, the last all letters (a top-level
 * domain), or any such name followed by ":port".
 */
static bool is_host_name(const char *s)
{
	const char *label = s, *p;
	int labels = 0;
	bool tld_alpha = true;

	for (p = s;; p++) {
		if (*p == '.' || *p == ':' || *p == '\0') {
			if (p == label)
				return false;
			labels++;
			if (*p != '.')
				break;
			label = p + 1;
			tld_alpha = true;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		if (!isalpha((unsigned char)*p))
			tld_alpha = false;
	}
	if (*p == ':') {
		if (!p[1] || strspn(p + 1, "0123456789") != strlen(p + 1))
			return false;
		return true;	/* name:port, whatever the name */
	}
	return labels >= 2 && tld_alpha && p - label >= 2;
}

const char *scrub_value_offence(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "control_character";
	if (s[0] == '/' || s[0] == '~' || strchr(s, '\\'))
		return "looks_like_path";
	if (strstr(s, "://") || strchr(s, '@'))
		return "looks_like_address";
	if (has_ipv4(s) || has_ipv6(s) || is_host_name(s))
		return "looks_like_address";
	for (i = 0; i < COUNT(secret_prefixes); i++)
		if (strncmp(s, secret_prefixes[i],
			    strlen(secret_prefixes[i])) == 0)
			return "looks_like_secret";
	if (has_key_run(s))
		return "looks_like_secret";
	return NULL;
}

static bool judge_value(json_t *v, const char **reason)
{
	const char *s;

	switch (json_typeof(v)) {
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
		return true;
	case JSON_STRING:
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v)) {
			*reason = "string_with_nul";
			return false;
		}
		if (utf8_chars(s) > SCRUB_STRING_MAX) {
			*reason = "string_over_64_characters";
			return false;
		}
		*reason = scrub_value_offence(s);
		return *reason == NULL;
	default:
		*reason = "not_a_scalar";
		return false;
	}
}

static bool judge_key(const char *key, const char **reason)
{
	if (!*key || utf8_chars(key) > SCRUB_STRING_MAX) {
		*reason = "invalid_key";
		return false;
	}
	if (scrub_forbidden_pattern(key)) {
		*reason = "forbidden_pattern";
		return false;
	}
	return true;
}

bool scrub_event(enum event_type type, json_t *props, struct scrub_verdict *v)
{
	const struct allowed *a;
	const char *key;
	json_t *val;

	v->key[0] = '\0';
	v->reason = NULL;
	if ((unsigned)type >= EV_COUNT || !json_is_object(props)) {
		v->reason = "not_an_event";
		return false;
	}
	json_object_foreach(props, key, val) {
		snprintf(v->key, sizeof(v->key), "%s", key);
		if (!judge_key(key, &v->reason))
			return false;
		a = find_allowed(key);
		if (!a || !(a->events & (1u << type))) {
			v->reason = "not_allowlisted";
			return false;
		}
		if (!judge_value(val, &v->reason))
			return false;
	}
	v->key[0] = '\0';
	return true;
}

bool scrub_resource(json_t *attrs, struct scrub_verdict *v)
{
	const char *key;
	json_t *val;
	size_t i;

	v->key[0] = '\0';
	v->reason = NULL;
	if (!json_is_object(attrs)) {
		v->reason = "not_an_object";
		return false;
	}
	json_object_foreach(attrs, key, val) {
		snprintf(v->key, sizeof(v->key), "%s", key);
		if (!judge_key(key, &v->reason))
			return false;
		for (i = 0; i < COUNT(resource_keys); i++)
			if (strcmp(resource_keys[i], key) == 0)
				break;
		if (i == COUNT(resource_keys)) {
			v->reason = "not_allowlisted";
			return false;
		}
		if (!judge_value(val, &v->reason))
			return false;
	}
	v->key[0] = '\0';
	return true;
}
