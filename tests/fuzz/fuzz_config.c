/*
 * The init's options and environment: config_parse against a second,
 * simpler reading of the same grammar, and telemetry's settings against
 * the rules of tconfig.h.  Bad values never crash, never overflow ERR, and
 * never leave a setting outside its range.
 *
 * Input: words separated by NUL bytes.  A word starting with byte K in
 * 1..NVARS sets variable vars[K - 1] to the rest of the word; one starting
 * with 0x1f is a raw environ entry; any other word is the next argv word
 * after "synthorg-shim".
 */
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "../../shim/config.h"
#include "../../shim/envparse.h"
#include "../../shim/log.h"
#include "../../shim/scrub.h"
#include "../../shim/sigtab.h"
#include "../../shim/tconfig.h"
#include "fuzz.h"

static const char *const vars[] = {
	"TINI_SUBREAPER", "TINI_KILL_PROCESS_GROUP", "TINI_VERBOSITY",
	"SYNTHORG_SHIM_GRACE_SECONDS", "SYNTHORG_TELEMETRY_ENABLED",
	"DO_NOT_TRACK", "SYNTHORG_TELEMETRY_ENV", "CI", "GITLAB_CI",
	"BUILDKITE", "JENKINS_URL", "SYNTHORG_TELEMETRY_ENV_BAKED",
	"SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS",
	"SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS", "SYNTHORG_DATA_DIR",
	"SYNTHORG_TELEMETRY_DRY_RUN", "SYNTHORG_TELEMETRY_SNAPSHOT",
	"SSL_CERT_FILE",
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))
#define RAW_ENTRY 0x1f
#define MAX_WORDS 64

/* The environment of one run: the last value given to each name. */
static const char *values[NVARS];

static const char *fuzz_getenv(const char *name)
{
	size_t i;

	for (i = 0; i < NVARS; i++)
		if (strcmp(vars[i], name) == 0)
			return values[i];
	return NULL;
}

static const char *var(const char *name)
{
	return fuzz_getenv(name);
}

/* What config_parse should decide, read apart from config.c. */
struct expect {
	enum config_result r;
	int child;		/* index of COMMAND in argv */
	int verbosity;
	bool subreaper, kill_group, warn_reap;
	int pdeath_sig;
	struct exit_remap remap;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A whole number in [LO, HI], blanks around, an optional sign. */
static bool int_in(const char *s, long lo, long hi, long *out)
{
	size_t n = strlen(s);
	long v = 0;
	int sign = 1;

	while (n && blank(s[n - 1]))
		n--;
	while (n && blank(*s)) {
		s++;
		n--;
	}
	if (n && (*s == '+' || *s == '-')) {
		sign = *s == '-' ? -1 : 1;
		s++;
		n--;
	}
	if (!n)
		return false;
	for (; n; s++, n--) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > 1000000)
			return false;
	}
	v *= sign;
	*out = v;
	return v >= lo && v <= hi;
}

static enum config_result expect_options(struct expect *e, int argc,
					 char **argv)
{
	const char *p, *val;
	long code;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break;
		if (argv[i][1] == '-')
			return CONFIG_USAGE_ERROR;
		for (p = argv[i] + 1; *p; p++) {
			if (*p == 'h')
				return CONFIG_HELP;
			if (*p == 'l')
				return CONFIG_LICENSE;
			if (*p == 's' || *p == 'g' || *p == 'w' || *p == 'v') {
				e->subreaper |= *p == 's';
				e->kill_group |= *p == 'g';
				e->warn_reap |= *p == 'w';
				e->verbosity += *p == 'v';
				continue;
			}
			if (*p != 'e' && *p != 'p')
				return CONFIG_USAGE_ERROR;
			if (p[1])
				val = p + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return CONFIG_USAGE_ERROR;
			if (*p == 'e') {
				if (!int_in(val, 0, 255, &code))
					return CONFIG_USAGE_ERROR;
				exit_remap_add(&e->remap, (int)code);
			} else {
				e->pdeath_sig = sig_parse(val);
				if (e->pdeath_sig < 0)
					return CONFIG_USAGE_ERROR;
			}
			break;
		}
	}
	if (i >= argc)
		return CONFIG_USAGE_ERROR;
	e->child = i;
	return CONFIG_RUN;
}

static void expect_config(struct expect *e, int argc, char **argv)
{
	long n;

	memset(e, 0, sizeof(*e));
	e->verbosity = 1;
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		e->r = CONFIG_VERSION;
		return;
	}
	e->subreaper = var("TINI_SUBREAPER") != NULL;
	e->kill_group = var("TINI_KILL_PROCESS_GROUP") != NULL;
	if (var("TINI_VERBOSITY") && int_in(var("TINI_VERBOSITY"), 0, 10, &n))
		e->verbosity = (int)n;
	e->r = expect_options(e, argc, argv);
}

static void check_config(int argc, char **argv)
{
	struct shim_config cfg, cfg2;
	struct expect e;
	enum config_result r, r2;
	uint64_t grace;
	size_t small = 1 + (size_t)argc % 24;
	char *err = malloc(256), *err2 = malloc(small);

	if (!err || !err2)
		abort();
	expect_config(&e, argc, argv);
	r = config_parse(&cfg, argc, argv, fuzz_getenv, err, 256);
	FUZZ_CHECK(r == e.r, "result %d, expected %d", r, e.r);
	/* Exactly sized buffers: ASan sees any write past ERRSIZE. */
	r2 = config_parse(&cfg2, argc, argv, fuzz_getenv, err2, small);
	FUZZ_CHECK(r2 == r, "result depends on the error buffer's size");
	FUZZ_CHECK(strncmp(err, err2, small - 1) == 0, "error text differs");
	if (r == CONFIG_USAGE_ERROR)
		FUZZ_CHECK(err[0] != '\0', "usage error without a message");
	else
		FUZZ_CHECK(err[0] == '\0', "message without an error: %s", err);
	if (r == CONFIG_RUN) {
		FUZZ_CHECK(cfg.child_argv == argv + e.child,
			   "COMMAND at %td, expected %d", cfg.child_argv - argv,
			   e.child);
		FUZZ_CHECK(cfg.verbosity == e.verbosity, "verbosity %d, not %d",
			   cfg.verbosity, e.verbosity);
		FUZZ_CHECK(cfg.subreaper == e.subreaper &&
			   cfg.kill_group == e.kill_group &&
			   cfg.warn_reap == e.warn_reap, "a flag differs");
		FUZZ_CHECK(cfg.pdeath_sig == e.pdeath_sig, "-p %d, not %d",
			   cfg.pdeath_sig, e.pdeath_sig);
		FUZZ_CHECK(memcmp(&cfg.remap, &e.remap, sizeof(e.remap)) == 0,
			   "-e set differs");
		if (!var("SYNTHORG_SHIM_GRACE_SECONDS") ||
		    parse_decimal(var("SYNTHORG_SHIM_GRACE_SECONDS"), 1000,
				  GRACE_MAX_MS, &grace) < 0)
			grace = GRACE_DEFAULT_MS;
		FUZZ_CHECK(cfg.grace_ms == grace, "grace %u, not %llu",
			   cfg.grace_ms, (unsigned long long)grace);
	}
	free(err);
	free(err2);
}

/* Trimmed, then cut: the cut may end on a blank, the start may not. */
static bool starts_nonblank(const char *s)
{
	return s[0] && !blank(s[0]);
}

static bool ci_expected(char *const *envp)
{
	static const char *const ci[] = { "CI", "GITLAB_CI", "BUILDKITE",
					  "JENKINS_URL" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (var(ci[i]) && *var(ci[i]))
			return true;
	for (i = 0; envp[i]; i++)
		if (strncmp(envp[i], "RUNPOD_", 7) == 0)
			return true;
	return false;
}

static bool has_text(const char *v)
{
	for (; v && *v; v++)
		if (!blank(*v))
			return true;
	return false;
}

/*
 * A tag the chain takes: not blank, UTF-8 (blanks are ASCII), and once
 * trimmed and cut to 64 characters, no shape the scrubber refuses.
 */
static bool usable(const char *v)
{
	char cut[ENV_TAG_MAX * 4 + 1];
	size_t n, end, chars = 0;

	if (!has_text(v) || !utf8_valid(v, strlen(v)))
		return false;
	while (blank(*v))
		v++;
	end = strlen(v);
	while (end && blank(v[end - 1]))
		end--;
	for (n = 0; n < end; n++) {
		if (((unsigned char)v[n] & 0xc0) != 0x80 &&
		    chars++ == ENV_TAG_MAX)
			break;
	}
	if (n >= sizeof(cut))
		n = sizeof(cut) - 1;
	memcpy(cut, v, n);
	cut[n] = '\0';
	return scrub_value_offence(cut) == NULL;
}

/* The tag is the trimmed VALUE, cut at 64 characters. */
static void check_tag(const char *tag, const char *value)
{
	while (blank(*value))
		value++;
	FUZZ_CHECK(strncmp(tag, value, strlen(tag)) == 0,
		   "tag is not the trimmed value");
}

static void check_environment(const struct telemetry_config *tc,
			      char *const *envp)
{
	const char *src = tc->environment_source, *tag = tc->environment;
	json_t *j;

	FUZZ_CHECK(starts_nonblank(tag), "environment tag blank or untrimmed");
	FUZZ_CHECK(utf8_chars(tag) <= ENV_TAG_MAX, "tag over 64 characters");
	if (usable(var("SYNTHORG_TELEMETRY_ENV"))) {
		FUZZ_CHECK(strcmp(src, "override") == 0, "override ignored");
		check_tag(tag, var("SYNTHORG_TELEMETRY_ENV"));
	} else if (ci_expected(envp)) {
		FUZZ_CHECK(strcmp(src, "ci") == 0 && strcmp(tag, "ci") == 0,
			   "CI not detected");
	} else if (usable(var("SYNTHORG_TELEMETRY_ENV_BAKED"))) {
		FUZZ_CHECK(strcmp(src, "baked") == 0, "baked tag ignored");
		check_tag(tag, var("SYNTHORG_TELEMETRY_ENV_BAKED"));
	} else {
		FUZZ_CHECK(strcmp(src, "default") == 0 &&
			   strcmp(tag, "dev") == 0, "no default tag");
	}
	/*
	 * The tag goes into the resource and every event as a JSON string;
	 * jansson refuses what is not UTF-8, and the telemetry thread then
	 * has no resource and sends nothing.
	 */
	j = json_string(tag);
	FUZZ_CHECK(j != NULL, "environment tag is not UTF-8 (source %s)", src);
	json_decref(j);
}

/* A smaller buffer cuts the same tag shorter, and never overflows. */
static void check_small_tag(const struct telemetry_config *tc,
			    char *const *envp)
{
	size_t size = 1 + strlen(tc->environment) % 8;
	char *tag = malloc(size);
	const char *src, *rejected, *why;

	if (!tag)
		abort();
	src = tconfig_environment(tag, size, fuzz_getenv, envp, &rejected,
				  &why);
	FUZZ_CHECK(!strcmp(src, tc->environment_source), "source %s, not %s",
		   src, tc->environment_source);
	FUZZ_CHECK(strlen(tag) < size &&
		   !strncmp(tag, tc->environment, strlen(tag)),
		   "a %zu-byte tag is not a prefix", size);
	free(tag);
}

static void check_tconfig(char *const *envp)
{
	struct telemetry_config tc;
	enum flag dnt = parse_flag(var("DO_NOT_TRACK"));
	enum flag on = parse_flag(var("SYNTHORG_TELEMETRY_ENABLED"));
	enum telemetry_optin want;

	/* DO_NOT_TRACK fails closed: anything but a plain "no" is a "yes". */
	want = dnt == FLAG_TRUE || dnt == FLAG_INVALID ? OPTIN_DO_NOT_TRACK :
	       on == FLAG_INVALID ? OPTIN_INVALID :
	       on == FLAG_TRUE ? OPTIN_ON : OPTIN_OFF;
	FUZZ_CHECK(tconfig_optin(fuzz_getenv) == want, "opt-in differs");
	tconfig_parse(&tc, fuzz_getenv, envp);
	FUZZ_CHECK(tc.optin == want, "opt-in differs in tconfig_parse");
	check_environment(&tc, envp);
	FUZZ_CHECK(tc.heartbeat_ms >= HEARTBEAT_MIN_MS &&
		   tc.heartbeat_ms <= HEARTBEAT_MAX_MS,
		   "heartbeat %llu ms", (unsigned long long)tc.heartbeat_ms);
	FUZZ_CHECK(tc.budget_ms <= BUDGET_MAX_MS, "budget %u ms", tc.budget_ms);
	FUZZ_CHECK(tc.data_dir && tc.data_dir[0] == '/', "relative data dir");
	FUZZ_CHECK(!tc.snapshot_path || tc.snapshot_path[0] == '/',
		   "relative snapshot path");
	FUZZ_CHECK(!tc.ssl_cert_file || tc.ssl_cert_file[0],
		   "empty SSL_CERT_FILE kept");
	FUZZ_CHECK(tc.dry_run ==
		   (parse_flag(var("SYNTHORG_TELEMETRY_DRY_RUN")) == FLAG_TRUE),
		   "dry run differs");
	check_small_tag(&tc, envp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[MAX_WORDS], *argv[MAX_WORDS + 2], *env[MAX_WORDS + 1];
	char *owned[MAX_WORDS];
	size_t n, i, k, nown = 0;
	int argc = 1, nenv = 0;
	unsigned char c;

	n = fuzz_split(data, size, words, MAX_WORDS);
	memset(values, 0, sizeof(values));
	argv[0] = "synthorg-shim";
	for (i = 0; i < n; i++) {
		c = (unsigned char)words[i][0];
		if (c >= 1 && c <= NVARS) {
			k = c - 1;
			values[k] = words[i] + 1;
			/* "NAME=VALUE" in environ, for the RUNPOD scan. */
			owned[nown] = malloc(strlen(vars[k]) +
					     strlen(values[k]) + 2);
			if (!owned[nown])
				abort();
			sprintf(owned[nown], "%s=%s", vars[k], values[k]);
			env[nenv++] = owned[nown++];
		} else if (c == RAW_ENTRY) {
			env[nenv++] = words[i] + 1;
		} else {
			argv[argc++] = words[i];
		}
	}
	argv[argc] = NULL;
	env[nenv] = NULL;
	check_config(argc, argv);
	check_tconfig(env);
	for (i = 0; i < nown; i++)
		free(owned[i]);
	for (i = 0; i < n; i++)
		free(words[i]);
	return 0;
}
