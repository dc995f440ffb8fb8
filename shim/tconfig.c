/* Telemetry's settings, read from the environment on the init thread. */
#include <string.h>

#include "envparse.h"
#include "log.h"
#include "scrub.h"
#include "tconfig.h"

enum telemetry_optin tconfig_optin(env_getter getenv_fn)
{
	enum flag on = parse_flag(getenv_fn("SYNTHORG_TELEMETRY_ENABLED"));

	/*
	 * The cross-tool convention beats everything, a mistake included;
	 * and a DO_NOT_TRACK that is set to anything but a plain "no" is
	 * read as a wish not to be tracked (the caller warns about it).
	 */
	switch (parse_flag(getenv_fn("DO_NOT_TRACK"))) {
	case FLAG_TRUE:
	case FLAG_INVALID:
		return OPTIN_DO_NOT_TRACK;
	default:
		break;
	}
	if (on == FLAG_INVALID)
		return OPTIN_INVALID;
	return on == FLAG_TRUE ? OPTIN_ON : OPTIN_OFF;
}

enum take { TAKE_BLANK, TAKE_OK, TAKE_REFUSED };

/*
 * Copy VALUE trimmed and cut to 64 characters.  Blank, it is not taken;
 * not UTF-8 (no JSON string could carry it), or shaped like what no event
 * may carry (a path, an address, a secret), it is refused, *WHY says why.
 */
static enum take take_tag(char *out, size_t size, const char *value,
			  const char **why)
{
	char tag[ENV_TAG_MAX * 4 + 1];
	const char *s, *end;
	size_t n;

	if (!value)
		return TAKE_BLANK;
	s = value;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (end == s)
		return TAKE_BLANK;
	if (!utf8_valid(s, (size_t)(end - s))) {
		*why = "not_utf8";
		return TAKE_REFUSED;
	}
	n = utf8_prefix(s, (size_t)(end - s), ENV_TAG_MAX);
	/* Judged as the tag it would be, whatever room OUT has. */
	if (n >= sizeof(tag))
		n = sizeof(tag) - 1;
	memcpy(tag, s, n);
	tag[n] = '\0';
	*why = scrub_value_offence(tag);
	if (*why)
		return TAKE_REFUSED;
	if (n >= size)
		n = size - 1;
	memcpy(out, tag, n);
	out[n] = '\0';
	return TAKE_OK;
}

static bool ci_detected(env_getter getenv_fn, char *const *environ)
{
	static const char *const vars[] = {
		"CI", "GITLAB_CI", "BUILDKITE", "JENKINS_URL",
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = getenv_fn(vars[i]);
		if (v && *v)
			return true;
	}
	for (i = 0; environ && environ[i]; i++)
		if (strncmp(environ[i], "RUNPOD_", 7) == 0)
			return true;
	return false;
}

const char *tconfig_environment(char *out, size_t size, env_getter getenv_fn,
				char *const *environ, const char **rejected,
				const char **why)
{
	const char *w = NULL;
	enum take t;

	*rejected = *why = NULL;
	t = take_tag(out, size, getenv_fn("SYNTHORG_TELEMETRY_ENV"), &w);
	if (t == TAKE_OK)
		return "override";
	if (t == TAKE_REFUSED) {
		*rejected = "SYNTHORG_TELEMETRY_ENV";
		*why = w;
	}
	if (ci_detected(getenv_fn, environ)) {
		take_tag(out, size, "ci", &w);
		return "ci";
	}
	t = take_tag(out, size, getenv_fn("SYNTHORG_TELEMETRY_ENV_BAKED"), &w);
	if (t == TAKE_OK)
		return "baked";
	if (t == TAKE_REFUSED && !*rejected) {
		*rejected = "SYNTHORG_TELEMETRY_ENV_BAKED";
		*why = w;
	}
	take_tag(out, size, "dev", &w);
	return "default";
}

static void warn_invalid(const char *var, const char *why)
{
	log_event(LOG_WARNING, "config.invalid",
		  "variable=%s reason=%s using=default", var, why);
}

void tconfig_parse(struct telemetry_config *tc, env_getter getenv_fn,
		   char *const *environ)
{
	const char *v;
	uint64_t n;

	const char *rejected, *why;

	memset(tc, 0, sizeof(*tc));
	tc->optin = tconfig_optin(getenv_fn);
	tc->environment_source = tconfig_environment(tc->environment,
						     sizeof(tc->environment),
						     getenv_fn, environ,
						     &rejected, &why);
	if (rejected)
		warn_invalid(rejected, why);
	tc->heartbeat_ms = HEARTBEAT_DEFAULT_MS;
	v = getenv_fn("SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS");
	if (v) {
		if (parse_decimal(v, 3600000, HEARTBEAT_MAX_MS, &n) == 0 &&
		    n >= HEARTBEAT_MIN_MS)
			tc->heartbeat_ms = n;
		else
			warn_invalid("SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS",
				     "not_hours_from_1_second_to_168");
	}
	tc->budget_ms = BUDGET_DEFAULT_MS;
	v = getenv_fn("SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS");
	if (v) {
		if (parse_decimal(v, 1000, BUDGET_MAX_MS, &n) == 0)
			tc->budget_ms = (unsigned)n;
		else
			warn_invalid("SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS",
				     "not_seconds_0_to_60");
	}
	tc->data_dir = DATA_DIR_DEFAULT;
	v = getenv_fn("SYNTHORG_DATA_DIR");
	if (v && *v) {
		if (v[0] == '/')
			tc->data_dir = v;
		else
			warn_invalid("SYNTHORG_DATA_DIR", "not_an_absolute_path");
	}
	switch (parse_flag(getenv_fn("SYNTHORG_TELEMETRY_DRY_RUN"))) {
	case FLAG_TRUE:
		tc->dry_run = true;
		break;
	case FLAG_INVALID:
		warn_invalid("SYNTHORG_TELEMETRY_DRY_RUN", "not_true_or_false");
		break;
	default:
		break;
	}
	v = getenv_fn("SYNTHORG_TELEMETRY_SNAPSHOT");
	if (v && *v) {
		if (v[0] == '/')
			tc->snapshot_path = v;
		else
			warn_invalid("SYNTHORG_TELEMETRY_SNAPSHOT",
				     "not_an_absolute_path");
	}
	v = getenv_fn("SSL_CERT_FILE");
	tc->ssl_cert_file = v && *v ? v : NULL;
}
