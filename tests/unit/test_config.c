/* Option and environment parsing, as tini users write them. */
#include <signal.h>
#include <stdlib.h>

#include "../../shim/config.h"
#include "unit.h"

/* A fake environment: NAME=VALUE strings, NULL-terminated. */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; fake_env && fake_env[i]; i++)
		if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
			return fake_env[i] + n + 1;
	return NULL;
}

static enum config_result parse(struct shim_config *cfg, char **argv,
				const char *const *env, char *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	fake_env = env;
	return config_parse(cfg, argc, argv, fake_getenv, err, 256);
}

#define ARGV(...) ((char *[]){ "synthorg-shim", __VA_ARGS__, NULL })

TEST(command_without_double_dash)
{
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("sh", "-c", "echo -v; exit 3"), NULL, err),
		  CONFIG_RUN);
	CHECK_STR(c.child_argv[0], "sh");
	CHECK_STR(c.child_argv[1], "-c");
	CHECK_STR(c.child_argv[2], "echo -v; exit 3");
	CHECK(c.child_argv[3] == NULL);
	CHECK_INT(c.verbosity, 1);
	CHECK_INT(c.grace_ms, 3000);
}

TEST(options_stop_at_first_word)
{
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("-s", "app", "-g", "-e", "5"), NULL, err),
		  CONFIG_RUN);
	CHECK(c.subreaper);
	CHECK(!c.kill_group);
	CHECK(!exit_remap_has(&c.remap, 5));
	CHECK_STR(c.child_argv[0], "app");
	CHECK_STR(c.child_argv[1], "-g");
}

TEST(double_dash_ends_options)
{
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("-v", "--", "-weird-name", "x"), NULL, err),
		  CONFIG_RUN);
	CHECK_STR(c.child_argv[0], "-weird-name");
	CHECK_INT(c.verbosity, 2);
}

TEST(bundled_and_attached_values)
{
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("-vvsgw", "-e2", "-e", "143", "-pSIGKILL",
				 "app"), NULL, err), CONFIG_RUN);
	CHECK_INT(c.verbosity, 3);
	CHECK(c.subreaper && c.kill_group && c.warn_reap);
	CHECK(exit_remap_has(&c.remap, 2));
	CHECK(exit_remap_has(&c.remap, 143));
	CHECK(!exit_remap_has(&c.remap, 0));
	CHECK_INT(c.pdeath_sig, SIGKILL);
	CHECK_STR(c.child_argv[0], "app");

	CHECK_INT(parse(&c, ARGV("-ve", "7", "app"), NULL, err), CONFIG_RUN);
	CHECK(exit_remap_has(&c.remap, 7));
	CHECK_INT(c.verbosity, 2);
	CHECK_INT(parse(&c, ARGV("-p", "TERM", "app"), NULL, err), CONFIG_RUN);
	CHECK_INT(c.pdeath_sig, SIGTERM);
}

TEST(help_license_version)
{
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("-h"), NULL, err), CONFIG_HELP);
	CHECK_INT(parse(&c, ARGV("-l"), NULL, err), CONFIG_LICENSE);
	CHECK_INT(parse(&c, ARGV("--version"), NULL, err), CONFIG_VERSION);
	/* --version only alone, as Docker calls it. */
	CHECK_INT(parse(&c, ARGV("--version", "app"), NULL, err),
		  CONFIG_USAGE_ERROR);
	/* -h wins even when a command follows. */
	CHECK_INT(parse(&c, ARGV("-h", "app"), NULL, err), CONFIG_HELP);
	/* After the command, -h is the command's. */
	CHECK_INT(parse(&c, ARGV("app", "-h"), NULL, err), CONFIG_RUN);
}

TEST(usage_errors_say_what_is_wrong)
{
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, (char *[]){ "synthorg-shim", NULL }, NULL, err),
		  CONFIG_USAGE_ERROR);
	CHECK(strstr(err, "no command") != NULL);
	CHECK_INT(parse(&c, ARGV("-x", "app"), NULL, err), CONFIG_USAGE_ERROR);
	CHECK(strstr(err, "-x") != NULL);
	CHECK_INT(parse(&c, ARGV("--bogus", "app"), NULL, err),
		  CONFIG_USAGE_ERROR);
	CHECK(strstr(err, "--bogus") != NULL);
	CHECK_INT(parse(&c, ARGV("-e", "256", "app"), NULL, err),
		  CONFIG_USAGE_ERROR);
	CHECK(strstr(err, "256") != NULL);
	CHECK_INT(parse(&c, ARGV("-e", "x", "app"), NULL, err),
		  CONFIG_USAGE_ERROR);
	CHECK_INT(parse(&c, ARGV("-e"), NULL, err), CONFIG_USAGE_ERROR);
	CHECK(strstr(err, "missing value") != NULL);
	CHECK_INT(parse(&c, ARGV("-p", "SIGNOPE", "app"), NULL, err),
		  CONFIG_USAGE_ERROR);
	CHECK(strstr(err, "SIGNOPE") != NULL);
	CHECK_INT(parse(&c, ARGV("-v"), NULL, err), CONFIG_USAGE_ERROR);
	CHECK_INT(parse(&c, ARGV("--"), NULL, err), CONFIG_USAGE_ERROR);
	/* One line: no newline inside the message. */
	CHECK(strchr(err, '\n') == NULL);
}

TEST(tini_environment)
{
	static const char *const env[] = {
		"TINI_SUBREAPER=", "TINI_KILL_PROCESS_GROUP=1",
		"TINI_VERBOSITY=3", NULL,
	};
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("app"), env, err), CONFIG_RUN);
	CHECK(c.subreaper);
	CHECK(c.kill_group);
	CHECK_INT(c.verbosity, 3);
	/* -v counts up from the environment's verbosity. */
	CHECK_INT(parse(&c, ARGV("-v", "app"), env, err), CONFIG_RUN);
	CHECK_INT(c.verbosity, 4);
}

TEST(invalid_environment_keeps_defaults)
{
	static const char *const env[] = {
		"TINI_VERBOSITY=loud", "SYNTHORG_SHIM_GRACE_SECONDS=-1", NULL,
	};
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("app"), env, err), CONFIG_RUN);
	CHECK_INT(c.verbosity, 1);
	CHECK_INT(c.grace_ms, 3000);
}

TEST(grace_from_environment)
{
	static const char *const zero[] = { "SYNTHORG_SHIM_GRACE_SECONDS=0",
					    NULL };
	static const char *const half[] = { "SYNTHORG_SHIM_GRACE_SECONDS=0.5",
					    NULL };
	struct shim_config c;
	char err[256];

	CHECK_INT(parse(&c, ARGV("app"), zero, err), CONFIG_RUN);
	CHECK_INT(c.grace_ms, 0);
	CHECK_INT(parse(&c, ARGV("app"), half, err), CONFIG_RUN);
	CHECK_INT(c.grace_ms, 500);
}
