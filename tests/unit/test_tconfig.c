/* Telemetry's opt-in, environment chain and settings. */
#include "../../shim/envparse.h"
#include "../../shim/tconfig.h"
#include "unit.h"

static const char *const *env_now;

static const char *get(const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; env_now && env_now[i]; i++)
		if (!strncmp(env_now[i], name, n) && env_now[i][n] == '=')
			return env_now[i] + n + 1;
	return NULL;
}

static enum telemetry_optin optin(const char *const *env)
{
	env_now = env;
	return tconfig_optin(get);
}

static const char *rejected, *why;

static const char *tag(const char *const *env, char *out, size_t size)
{
	env_now = env;
	return tconfig_environment(out, size, get, (char *const *)env,
				   &rejected, &why);
}

#define ENV(...) ((const char *const[]){ __VA_ARGS__, NULL })

TEST(optin_is_off_by_default)
{
	CHECK_INT(optin(ENV("PATH=/bin")), OPTIN_OFF);
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=")), OPTIN_OFF);
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=false")), OPTIN_OFF);
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=0")), OPTIN_OFF);
}

TEST(optin_truthy_any_case)
{
	static const char *const yes[] = { "true", "1", "yes", "on", "TRUE",
					   "Yes", "ON" };
	char var[64];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(var, sizeof(var), "SYNTHORG_TELEMETRY_ENABLED=%s",
			 yes[i]);
		CHECK_INT(optin(ENV(var)), OPTIN_ON);
	}
}

TEST(optin_mistake_and_do_not_track)
{
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=maybe")), OPTIN_INVALID);
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=1", "DO_NOT_TRACK=1")),
		  OPTIN_DO_NOT_TRACK);
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=maybe",
			    "DO_NOT_TRACK=true")), OPTIN_DO_NOT_TRACK);
	CHECK_INT(optin(ENV("SYNTHORG_TELEMETRY_ENABLED=1", "DO_NOT_TRACK=0")),
		  OPTIN_ON);
}

TEST(environment_chain_first_match_wins)
{
	char out[300];

	CHECK_STR(tag(ENV("PATH=/bin"), out, sizeof(out)), "default");
	CHECK_STR(out, "dev");
	CHECK_STR(tag(ENV("SYNTHORG_TELEMETRY_ENV_BAKED=staging"), out,
		      sizeof(out)), "baked");
	CHECK_STR(out, "staging");
	CHECK_STR(tag(ENV("SYNTHORG_TELEMETRY_ENV_BAKED=staging", "CI=true"),
		      out, sizeof(out)), "ci");
	CHECK_STR(out, "ci");
	CHECK_STR(tag(ENV("SYNTHORG_TELEMETRY_ENV= prod ", "CI=true",
			  "SYNTHORG_TELEMETRY_ENV_BAKED=staging"), out,
		      sizeof(out)), "override");
	CHECK_STR(out, "prod");
}

TEST(environment_ci_detection)
{
	static const char *const ci[] = {
		"CI=1", "GITLAB_CI=true", "BUILDKITE=x", "JENKINS_URL=http://j",
		"RUNPOD_POD_ID=abc", "RUNPOD_=",
	};
	char out[300];
	size_t i;

	for (i = 0; i < sizeof(ci) / sizeof(ci[0]); i++) {
		tag(ENV(ci[i]), out, sizeof(out));
		if (strcmp(out, "ci"))
			unit_fail(__FILE__, __LINE__, ci[i]);
	}
	/* Set but empty is not a CI system. */
	tag(ENV("CI=", "GITLAB_CI="), out, sizeof(out));
	CHECK_STR(out, "dev");
	tag(ENV("XRUNPOD_ID=1"), out, sizeof(out));
	CHECK_STR(out, "dev");
}

TEST(environment_blank_skipped_and_cut_at_64)
{
	char out[300], want[65], var[200];

	tag(ENV("SYNTHORG_TELEMETRY_ENV=   ",
		"SYNTHORG_TELEMETRY_ENV_BAKED=qa"), out, sizeof(out));
	CHECK_STR(out, "qa");
	memset(want, 'x', 64);
	want[64] = '\0';
	snprintf(var, sizeof(var), "SYNTHORG_TELEMETRY_ENV=%sTAIL", want);
	tag(ENV(var), out, sizeof(out));
	CHECK_STR(out, want);
	/* 70 two-byte characters: cut at 64 characters, never mid-one. */
	strcpy(var, "SYNTHORG_TELEMETRY_ENV=");
	for (int i = 0; i < 70; i++)
		strcat(var, "\xc3\xa9");
	tag(ENV(var), out, sizeof(out));
	CHECK_INT(strlen(out), 128);
}

TEST(environment_not_utf8_is_skipped_and_named)
{
	char out[300];

	CHECK_STR(tag(ENV("SYNTHORG_TELEMETRY_ENV=prod-\xe9",
			  "SYNTHORG_TELEMETRY_ENV_BAKED=qa"), out, sizeof(out)),
		  "baked");
	CHECK_STR(out, "qa");
	CHECK_STR(rejected, "SYNTHORG_TELEMETRY_ENV");
	CHECK_STR(why, "not_utf8");
	tag(ENV("SYNTHORG_TELEMETRY_ENV=/etc/passwd",
		"SYNTHORG_TELEMETRY_ENV_BAKED=10.1.2.3"), out, sizeof(out));
	CHECK_STR(out, "dev");
	CHECK_STR(rejected, "SYNTHORG_TELEMETRY_ENV");
	CHECK_STR(why, "looks_like_path");
	tag(ENV("SYNTHORG_TELEMETRY_ENV=prod\nx"), out, sizeof(out));
	CHECK_STR(why, "control_character");
	tag(ENV("SYNTHORG_TELEMETRY_ENV_BAKED=\xc0\xaf"), out, sizeof(out));
	CHECK_STR(out, "dev");
	CHECK_STR(rejected, "SYNTHORG_TELEMETRY_ENV_BAKED");
	tag(ENV("SYNTHORG_TELEMETRY_ENV=caf\xc3\xa9"), out, sizeof(out));
	CHECK_STR(out, "caf\xc3\xa9");
	CHECK(rejected == NULL);
}

TEST(utf8_validity)
{
	CHECK(utf8_valid("plain", 5));
	CHECK(utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	CHECK(!utf8_valid("\xe9", 1));			/* Latin-1 */
	CHECK(!utf8_valid("\xc0\xaf", 2));		/* overlong '/' */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	CHECK(!utf8_valid("\xe2\x82", 2));		/* cut short */
}

TEST(settings_and_their_defaults)
{
	struct telemetry_config tc;

	env_now = ENV("SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0.5",
		      "SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS=1.5",
		      "SYNTHORG_DATA_DIR=/var/lib/x",
		      "SYNTHORG_TELEMETRY_DRY_RUN=yes",
		      "SYNTHORG_TELEMETRY_SNAPSHOT=/run/app/snap.json",
		      "SSL_CERT_FILE=/etc/x.pem");
	tconfig_parse(&tc, get, (char *const *)env_now);
	CHECK_INT(tc.heartbeat_ms, 1800000);
	CHECK_INT(tc.budget_ms, 1500);
	CHECK_STR(tc.data_dir, "/var/lib/x");
	CHECK(tc.dry_run);
	CHECK_STR(tc.snapshot_path, "/run/app/snap.json");
	CHECK_STR(tc.ssl_cert_file, "/etc/x.pem");

	env_now = ENV("SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0",
		      "SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS=-2",
		      "SYNTHORG_DATA_DIR=relative/dir",
		      "SYNTHORG_TELEMETRY_DRY_RUN=perhaps",
		      "SYNTHORG_TELEMETRY_SNAPSHOT=snap.json");
	tconfig_parse(&tc, get, (char *const *)env_now);
	CHECK_INT(tc.heartbeat_ms, HEARTBEAT_DEFAULT_MS);
	CHECK_INT(tc.budget_ms, BUDGET_DEFAULT_MS);
	CHECK_STR(tc.data_dir, "/data");
	CHECK(!tc.dry_run);
	CHECK(tc.snapshot_path == NULL);
	CHECK(tc.ssl_cert_file == NULL);

	env_now = ENV("SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=169");
	tconfig_parse(&tc, get, (char *const *)env_now);
	CHECK_INT(tc.heartbeat_ms, HEARTBEAT_DEFAULT_MS);
	env_now = ENV("SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=168");
	tconfig_parse(&tc, get, (char *const *)env_now);
	CHECK_INT(tc.heartbeat_ms, HEARTBEAT_MAX_MS);
}
