/* Telemetry's settings, read from the environment on the init thread. */
#ifndef SHIM_TCONFIG_H
#define SHIM_TCONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define ENV_TAG_MAX 64
#define HEARTBEAT_DEFAULT_MS (6ull * 3600 * 1000)
#define HEARTBEAT_MAX_MS (168ull * 3600 * 1000)
/* More often than once a second is a mistake that would flood Logfire. */
#define HEARTBEAT_MIN_MS 1000ull
#define BUDGET_DEFAULT_MS 2000u
#define BUDGET_MAX_MS 60000u
#define DATA_DIR_DEFAULT "/data"

enum telemetry_optin {
	OPTIN_OFF,		/* not asked for: the default */
	OPTIN_INVALID,		/* SYNTHORG_TELEMETRY_ENABLED is neither */
	OPTIN_DO_NOT_TRACK,	/* DO_NOT_TRACK is truthy: it wins */
	OPTIN_ON,
};

struct telemetry_config {
	enum telemetry_optin optin;
	char environment[ENV_TAG_MAX * 4 + 1];	/* 64 characters of UTF-8 */
	const char *environment_source;	/* which rule of the chain chose it */
	uint64_t heartbeat_ms;
	unsigned budget_ms;
	const char *data_dir;
	bool dry_run;
	const char *snapshot_path;	/* NULL when unset */
	const char *ssl_cert_file;	/* NULL when unset */
};

/*
 * Only the opt-in decision: cheap, so the disabled path reads two
 * variables and nothing else.
 */
enum telemetry_optin tconfig_optin(env_getter getenv_fn);

/*
 * The rest, once telemetry is on.  ENVIRON is the NULL-terminated
 * environment, scanned for RUNPOD_* variables.  Invalid values are warned
 * about once, by name, and their defaults kept.
 */
void tconfig_parse(struct telemetry_config *tc, env_getter getenv_fn,
		   char *const *environ);

/*
 * The environment tag, first match wins: SYNTHORG_TELEMETRY_ENV, then
 * "ci" when a CI system is detected, then SYNTHORG_TELEMETRY_ENV_BAKED,
 * then "dev".  Values are trimmed, blank ones skipped, cut at 64
 * characters; one that is not UTF-8, or shaped like a path, an address
 * or a secret, is skipped too and named in *REJECTED with *WHY (else
 * NULL) for a warning.  Returns the name of the rule that chose.
 */
const char *tconfig_environment(char *out, size_t size, env_getter getenv_fn,
				char *const *environ, const char **rejected,
				const char **why);

#endif
