/* synthorg-shim: a container init.  main() reads as the table of contents. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "fds.h"
#include "log.h"
#include "signals.h"
#include "spawn.h"
#include "supervise.h"
#include "telemetry.h"
#include "version.h"

#ifndef SHIM_GIT
#define SHIM_GIT ""
#endif

static const char *env_get(const char *name)
{
	return getenv(name);
}

/* Returns -1 to run on, or the status to exit with at once. */
static int handle_config(enum config_result r, const char *err)
{
	switch (r) {
	case CONFIG_RUN:
		return -1;
	case CONFIG_HELP:
		fputs(config_usage, stdout);
		return 0;
	case CONFIG_LICENSE:
		fputs(config_license, stdout);
		return 0;
	case CONFIG_VERSION:
		/* Docker's init-path check reads "tini version X[ - git.Y]". */
		if (SHIM_GIT[0])
			printf("tini version %s - git.%s\n", SHIM_VERSION,
			       SHIM_GIT);
		else
			printf("tini version %s\n", SHIM_VERSION);
		return 0;
	case CONFIG_USAGE_ERROR:
		break;
	}
	log_event(LOG_ERROR, "usage.invalid", "reason=\"%s\"", err);
	return EXIT_SHIM_USAGE;
}

static void setup_reaper(const struct shim_config *cfg, pid_t self)
{
	if (cfg->pdeath_sig > 0 &&
	    prctl(PR_SET_PDEATHSIG, cfg->pdeath_sig, 0, 0, 0) < 0)
		log_event(LOG_WARNING, "pdeathsig.failed", "err=\"%s\"", strerror(errno));
	if (self == 1)
		return;
	if (cfg->subreaper) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
			return;
		log_event(LOG_WARNING, "subreaper.failed", "err=\"%s\"", strerror(errno));
	}
	log_event(LOG_WARNING, "reaper.inactive",
		  "pid=%d hint=\"not PID 1 and not a subreaper: orphans of the child will not be reaped; use -s or TINI_SUBREAPER\"",
		  (int)self);
}

static int start_child(const struct shim_config *cfg,
		       const struct sigconf *sigs, pid_t *child)
{
	char cmd[256];
	int err, status;

	if (spawn_child(cfg->child_argv, sigs, child, &err) == 0) {
		log_event(LOG_INFO, "child.started", "pid=%d command=%s",
			  (int)*child,
			  log_quote(cmd, sizeof(cmd), cfg->child_argv[0]));
		return -1;
	}
	status = *child ? exit_status_exec(err) : EXIT_SHIM_FAILURE;
	log_event(LOG_ERROR, *child ? "exec.failed" : "spawn.failed",
		  "command=%s err=\"%s\" exit_status=%d",
		  log_quote(cmd, sizeof(cmd), cfg->child_argv[0]),
		  strerror(err), status);
	if (*child)
		supervise_reap_failed_exec(*child);
	return status;
}

int main(int argc, char **argv)
{
	struct shim_config cfg;
	struct sigconf sigs;
	struct supervisor sup;
	struct telemetry *tel;
	char err[256];
	pid_t self, child;
	int status;

	log_init(1);
	/* First of all, so no signal slips past before the loop serves it. */
	if (signals_setup(&sigs) < 0) {
		log_event(LOG_ERROR, "signals.setup_failed", "err=\"%s\"", strerror(errno));
		return EXIT_SHIM_FAILURE;
	}
	status = handle_config(config_parse(&cfg, argc, argv, env_get, err,
					    sizeof(err)), err);
	if (status >= 0)
		return status;
	log_init(cfg.verbosity);
	self = getpid();
	setup_reaper(&cfg, self);

	status = start_child(&cfg, &sigs, &child);
	if (status >= 0) {
		telemetry_no_app();
		return exit_status_remap(&cfg.remap, status);
	}
	fds_release_inherited();
	tel = telemetry_start(self == 1);

	supervise_init(&sup, &cfg, &sigs, child);
	supervise_run(&sup);
	supervise_report_exit(&sup);
	supervise_drain(&sup);
	telemetry_child_exited(tel, &sup.out);
	telemetry_finish(tel);
	/*
	 * _exit, not exit: nothing is buffered in stdio by now, and no
	 * library's atexit handler may run while another thread still uses it.
	 */
	_exit(sup.out.exit_status);
}
