/* The init loop: forward signals, reap zombies, drain leftovers. */
#ifndef SHIM_SUPERVISE_H
#define SHIM_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "signals.h"

/* What the shim did and how the child ended: the figures telemetry reports. */
struct shim_outcome {
	int wstatus;			/* the child's wait status */
	int exit_status;		/* what the shim exits with */
	long oom_kills;			/* -1 unknown; read only after SIGKILL */
	uint64_t signals_forwarded;
	uint64_t zombies_reaped;	/* processes reaped other than the child */
	uint64_t descendants_terminated;	/* ended within the grace */
	uint64_t descendants_killed;	/* needed SIGKILL */
	bool graceful;
};

struct supervisor {
	const struct shim_config *cfg;
	const struct sigconf *sigs;
	pid_t self;
	pid_t child;
	bool child_stopped;
	bool child_done;
	bool debug;			/* log_enabled(LOG_DEBUG), asked once */
	bool noisy;			/* a line per reaped zombie */
	uint64_t forwarded_mask;	/* bit N % 64: signal N was forwarded */
	enum { PHASE_RUN, PHASE_GRACE, PHASE_KILL } phase;
	uint64_t reaped[3];		/* processes reaped, by phase */
	struct shim_outcome out;
};

void supervise_init(struct supervisor *s, const struct shim_config *cfg,
		    const struct sigconf *sigs, pid_t child);

/* Serve signals and reap until the child has ended. */
void supervise_run(struct supervisor *s);

/* Report how the child ended, with the OOM verdict after a SIGKILL. */
void supervise_report_exit(struct supervisor *s);

/*
 * Give the child's leftover descendants SIGTERM and the grace period,
 * then SIGKILL; costs nothing when none is left.
 */
void supervise_drain(struct supervisor *s);

/* Reap a child known to have exited at once (its exec failed). */
void supervise_reap_failed_exec(pid_t child);

#endif
