/* The privacy scrubber: allowlists, forbidden patterns, types, lengths. */
#include <jansson.h>

#include "../../shim/scrub.h"
#include "unit.h"

static const char *const patterns[] = {
	"key", "token", "secret", "password", "credential", "bearer", "auth",
	"content", "message", "prompt", "description",
};

#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

static json_t *envelope(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}",
			 "event_timestamp", "2026-12-04T17:21:37.097192+00:00",
			 "deployment_id", "3a5ad78e-be37-472c-b30c-2c4ffa33f1ca",
			 "synthorg_version", "0.1.0", "os_platform", "Linux",
			 "environment", "production");
}

/* Judge ENVELOPE + {KEY: VALUE} as TYPE; steals VALUE. */
static bool judge(enum event_type type, const char *key, json_t *value,
		  struct scrub_verdict *v)
{
	json_t *props = envelope();
	bool ok;

	json_object_set_new(props, key, value);
	ok = scrub_event(type, props, v);
	json_decref(props);
	return ok;
}

TEST(no_allowlisted_key_matches_a_forbidden_pattern)
{
	const char *key;
	size_t i;

	for (i = 0; (key = scrub_table_key(i, NULL, NULL)); i++) {
		if (scrub_forbidden_pattern(key))
			unit_fail(__FILE__, __LINE__, key);
	}
	CHECK(i > 40);
}

TEST(every_forbidden_pattern_drops_the_event)
{
	struct scrub_verdict v;
	char key[64];
	size_t i;

	for (i = 0; i < NPATTERNS; i++) {
		/* As a substring, in any case, on every event type. */
		snprintf(key, sizeof(key), "user_%s_x", patterns[i]);
		key[5] = (char)(key[5] - 32);	/* upper-case its first letter */
		CHECK(!judge(EV_HEARTBEAT, key, json_integer(1), &v));
		CHECK_STR(v.reason, "forbidden_pattern");
		CHECK_STR(v.key, key);
		CHECK(!judge(EV_STARTUP, patterns[i], json_true(), &v));
		CHECK_STR(v.reason, "forbidden_pattern");
	}
	CHECK_INT(scrub_forbidden_pattern("api_KEY") != NULL, 1);
	CHECK_INT(scrub_forbidden_pattern("OAuthThing") != NULL, 1);
	CHECK(scrub_forbidden_pattern("agent_count") == NULL);
}

TEST(unknown_key_drops_the_event)
{
	struct scrub_verdict v;

	CHECK(!judge(EV_HEARTBEAT, "hostname", json_string("x"), &v));
	CHECK_STR(v.reason, "not_allowlisted");
	CHECK_STR(v.key, "hostname");
	CHECK(!judge(EV_HEARTBEAT, "user_name", json_string("x"), &v));
	CHECK(!judge(EV_STARTUP, "container_id", json_string("abc"), &v));
	/* Allowlisted elsewhere is not allowlisted here. */
	CHECK(!judge(EV_STARTUP, "tasks_created", json_integer(3), &v));
	CHECK_STR(v.reason, "not_allowlisted");
	CHECK(judge(EV_SESSION_SUMMARY, "tasks_created", json_integer(3), &v));
}

TEST(the_seed_allowlist_per_event)
{
	static const struct {
		enum event_type type;
		const char *key;
	} seed[] = {
		{ EV_STARTUP, "agent_count" }, { EV_STARTUP, "template_name" },
		{ EV_STARTUP, "docker_ncpu" }, { EV_STARTUP, "memory_backend" },
		{ EV_HEARTBEAT, "team_count" }, { EV_HEARTBEAT, "features_enabled" },
		{ EV_HEARTBEAT, "uptime_hours" },
		{ EV_SESSION_SUMMARY, "error_rate_limit" },
		{ EV_SESSION_SUMMARY, "topology_auto" },
		{ EV_SESSION_SUMMARY, "delegations_executed" },
		{ EV_SHUTDOWN, "graceful" }, { EV_SHUTDOWN, "uptime_hours" },
	};
	struct scrub_verdict v;
	size_t i;

	for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
		if (!judge(seed[i].type, seed[i].key, json_integer(1), &v))
			unit_fail(__FILE__, __LINE__, seed[i].key);
	CHECK(!judge(EV_SHUTDOWN, "agent_count", json_integer(1), &v));
	CHECK(!judge(EV_HEARTBEAT, "graceful", json_true(), &v));
}

TEST(value_types)
{
	struct scrub_verdict v;

	CHECK(judge(EV_HEARTBEAT, "agent_count", json_integer(-5), &v));
	CHECK(judge(EV_HEARTBEAT, "uptime_hours", json_real(1.5), &v));
	CHECK(judge(EV_HEARTBEAT, "features_enabled", json_false(), &v));
	CHECK(judge(EV_HEARTBEAT, "template_name", json_string(""), &v));
	CHECK(!judge(EV_HEARTBEAT, "agent_count", json_null(), &v));
	CHECK_STR(v.reason, "not_a_scalar");
	CHECK(!judge(EV_HEARTBEAT, "agent_count", json_pack("[i]", 1), &v));
	CHECK_STR(v.reason, "not_a_scalar");
	CHECK(!judge(EV_HEARTBEAT, "agent_count", json_pack("{s:i}", "a", 1),
		     &v));
	CHECK(!judge(EV_HEARTBEAT, "template_name",
		     json_stringn("a\0b", 3), &v));
}

TEST(strings_cap_at_64_characters)
{
	struct scrub_verdict v;
	char s[300];

	memset(s, 'a', 64);
	s[64] = '\0';
	CHECK(judge(EV_HEARTBEAT, "template_name", json_string(s), &v));
	s[64] = 'a';
	s[65] = '\0';
	CHECK(!judge(EV_HEARTBEAT, "template_name", json_string(s), &v));
	CHECK_STR(v.reason, "string_over_64_characters");
	/* Characters, not bytes: 64 two-byte letters pass. */
	s[0] = '\0';
	for (int i = 0; i < 64; i++)
		strcat(s, "\xc3\xa9");
	CHECK(judge(EV_HEARTBEAT, "template_name", json_string(s), &v));
}

TEST(values_shaped_like_paths_addresses_or_secrets)
{
	static const char *const bad[] = {
		"/home/alice", "~/work", "C:\\Users\\bob", "https://x.example",
		"alice@example.com", "10.0.0.12", "host 192.168.1.1 up",
		"fe80::1", "2001:db8:0:0:1:0:0:1", "pylf_v1_us_abcdef",
		"Bearer abc", "sk-abc123", "ghp_0123456789abcdef", "AKIAIOSFODNN7",
		"xoxb-123-456", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
		"db.internal.corp:5432", "example.com", "api.example.org",
		"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8", "line\nbreak",
		"tab\there",
	};
	static const char *const good[] = {
		"Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64",
		"20.10.24+dfsg1", "2026-12-04T17:21:37.097192+00:00",
		"3a5ad78e-be37-472c-b30c-2c4ffa33f1ca", "0.1.0", "overlay2",
		"x86_64", "1.2.3", "5.15.0-1034-azure", "research team",
		"Ubuntu 22.04.3 LTS", "runc", "12 (bookworm)", "sqlite",
		"hierarchical",
	};
	struct scrub_verdict v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (judge(EV_HEARTBEAT, "template_name", json_string(bad[i]),
			  &v))
			unit_fail(__FILE__, __LINE__, bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!judge(EV_HEARTBEAT, "template_name", json_string(good[i]),
			   &v))
			unit_fail(__FILE__, __LINE__, good[i]);
}

TEST(resource_is_fixed_and_scrubbed)
{
	struct scrub_verdict v;
	json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			      "service.name", "synthorg-shim",
			      "service.version", "0.1.0",
			      "deployment.environment.name", "dev",
			      "service.instance.id",
			      "3a5ad78e-be37-472c-b30c-2c4ffa33f1ca",
			      "os.type", "linux",
			      "telemetry.sdk.name", "synthorg-shim",
			      "telemetry.sdk.language", "c",
			      "telemetry.sdk.version", "0.1.0");

	CHECK(scrub_resource(r, &v));
	json_object_set_new(r, "host.name", json_string("box"));
	CHECK(!scrub_resource(r, &v));
	CHECK_STR(v.key, "host.name");
	json_object_del(r, "host.name");
	json_object_set_new(r, "deployment.environment.name",
			    json_string("/srv/prod"));
	CHECK(!scrub_resource(r, &v));
	json_decref(r);
}

TEST(event_names)
{
	CHECK_STR(event_name(EV_STARTUP), "deployment.startup");
	CHECK_STR(event_name(EV_SHUTDOWN), "deployment.shutdown");
	CHECK_INT(event_type_from_name("deployment.heartbeat"), EV_HEARTBEAT);
	CHECK_INT(event_type_from_name("deployment.session_summary"),
		  EV_SESSION_SUMMARY);
	CHECK_INT(event_type_from_name("deployment.other"), -1);
}
