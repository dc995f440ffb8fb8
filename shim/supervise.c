/* The init loop: forward signals, reap zombies, drain leftovers. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "descendants.h"
#include "exitcode.h"
#include "log.h"
#include "oom.h"
#include "sigtab.h"
#include "supervise.h"
#include "sys.h"

/* How long to wait for SIGKILLed processes before exiting anyway. */
#define KILL_WAIT_MS 1000

void supervise_init(struct supervisor *s, const struct shim_config *cfg,
		    const struct sigconf *sigs, pid_t child)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->sigs = sigs;
	s->self = getpid();
	s->child = child;
	s->phase = PHASE_RUN;
	s->out.oom_kills = -1;
	/* Decided once: the loop does not ask the logger per event. */
	s->debug = log_enabled(LOG_DEBUG);
	s->noisy = cfg->warn_reap || s->debug;
}

static void note_reaped(const struct supervisor *s, pid_t pid, int st)
{
	char name[SIG_NAME_MAX];
	enum log_level level = s->cfg->warn_reap ? LOG_WARNING : LOG_DEBUG;

	if (WIFSIGNALED(st))
		log_event(level, "zombie.reaped", "pid=%d signal=%s", (int)pid,
			  sig_name(WTERMSIG(st), name));
	else
		log_event(level, "zombie.reaped", "pid=%d code=%d", (int)pid,
			  WEXITSTATUS(st));
}

/*
 * Collect every child that has changed state.  Returns true while some
 * child remains (running or stopped), false once there is none at all.
 * Stops and resumes are reported too, so the loop knows whether the main
 * child is stopped and a stop request must also continue it.  This runs
 * once per orphan in a container that makes many: it stays short.
 */
static bool reap(struct supervisor *s)
{
	int st;
	pid_t pid;

	for (;;) {
		pid = sys_wait4(-1, &st, WNOHANG | WUNTRACED | WCONTINUED);
		if (pid <= 0)
			return pid == 0;	/* -ECHILD: nobody left */
		if (pid != s->child) {
			/* Stopped (0x7f) or resumed (0xffff): not an end. */
			if ((st & 0xff) == 0x7f || st == 0xffff)
				continue;
			s->reaped[s->phase]++;
			if (s->noisy)
				note_reaped(s, pid, st);
			continue;
		}
		if (WIFSTOPPED(st) || WIFCONTINUED(st)) {
			s->child_stopped = WIFSTOPPED(st);
		} else if (!s->child_done) {
			s->child_done = true;
			s->out.wstatus = st;
		}
	}
}

static void forward(struct supervisor *s, int sig)
{
	pid_t target = s->cfg->kill_group ? -s->child : s->child;
	char name[SIG_NAME_MAX];
	int rc = sys_kill(target, sig);

	if (rc < 0) {
		log_event(LOG_WARNING, "signal.forward_failed",
			  "signal=%s target=%d err=\"%s\"",
			  sig_name(sig, name), (int)target, strerror(-rc));
		return;
	}
	s->out.signals_forwarded++;
	s->forwarded_mask |= 1ull << (sig & 63);
	if (s->debug)
		log_event(LOG_DEBUG, "signal.forwarded", "signal=%s target=%d",
			  sig_name(sig, name), (int)target);
	if (s->child_stopped && signal_ends_stop(sig))
		sys_kill(target, SIGCONT);
}

void supervise_run(struct supervisor *s)
{
	int sig;

	/* Signals that came before the child existed are pending: serve them. */
	while (!s->child_done) {
		sig = sys_sigtimedwait(&s->sigs->waited, NULL);
		if (sig < 0)
			continue;
		if (sig == SIGCHLD)
			reap(s);
		else
			forward(s, sig);
	}
}

/* The outcome's counters, from the per-phase tallies of reap(). */
static void tally(struct supervisor *s)
{
	s->out.descendants_terminated = s->reaped[PHASE_GRACE];
	s->out.descendants_killed = s->reaped[PHASE_KILL];
	s->out.zombies_reaped = s->reaped[PHASE_RUN] + s->reaped[PHASE_GRACE] +
				s->reaped[PHASE_KILL];
}

static bool ended_gracefully(const struct supervisor *s)
{
	int sig;

	if (s->out.descendants_killed)
		return false;
	if (WIFEXITED(s->out.wstatus))
		return true;
	/* Death by a signal we passed on is the end that was asked for. */
	sig = WTERMSIG(s->out.wstatus);
	return s->forwarded_mask & (1ull << (sig & 63));
}

void supervise_report_exit(struct supervisor *s)
{
	char name[SIG_NAME_MAX];
	int st = s->out.wstatus, code = exit_status_of(st);

	s->out.exit_status = exit_status_remap(&s->cfg->remap, code);
	if (WIFEXITED(st)) {
		log_event(LOG_NOTICE, "child.exited",
			  "pid=%d code=%d exit_status=%d", (int)s->child,
			  WEXITSTATUS(st), s->out.exit_status);
		return;
	}
	if (WTERMSIG(st) != SIGKILL) {
		log_event(LOG_NOTICE, "child.killed",
			  "pid=%d signal=%s core_dumped=%s exit_status=%d",
			  (int)s->child, sig_name(WTERMSIG(st), name),
			  WCOREDUMP(st) ? "true" : "false", s->out.exit_status);
		return;
	}
	/* The question every operator asks about a 137. */
	s->out.oom_kills = oom_kill_count();
	log_event(LOG_NOTICE, "child.killed",
		  "pid=%d signal=SIGKILL oom_killed=%s oom_kill_count=%ld exit_status=%d",
		  (int)s->child,
		  s->out.oom_kills < 0 ? "unknown" :
		  s->out.oom_kills > 0 ? "true" : "false",
		  s->out.oom_kills, s->out.exit_status);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Reap until no child is left or MS have passed.  Returns true when none
 * is left.  Signals other than SIGCHLD have no one to go to any more.
 */
static bool wait_children(struct supervisor *s, unsigned ms)
{
	int64_t deadline = now_ms() + ms, left;
	struct timespec ts;
	char name[SIG_NAME_MAX];
	int sig;

	while (reap(s)) {
		left = deadline - now_ms();
		if (left <= 0)
			return false;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sig = sys_sigtimedwait(&s->sigs->waited, &ts);
		if (sig > 0 && sig != SIGCHLD)
			log_event(LOG_DEBUG, "signal.dropped",
				  "signal=%s reason=child_exited",
				  sig_name(sig, name));
	}
	return true;
}

void supervise_drain(struct supervisor *s)
{
	int64_t start;
	bool done;

	/* No child at all: nothing descends from us any more. */
	if (!reap(s)) {
		tally(s);
		s->out.graceful = ended_gracefully(s);
		return;
	}
	if (s->cfg->grace_ms == 0 ||
	    descendants_signal(s->self, SIGTERM) == 0) {
		done = !reap(s);
		goto kill_rest;
	}
	start = now_ms();
	s->phase = PHASE_GRACE;
	log_event(LOG_INFO, "drain.started", "signal=SIGTERM grace_ms=%u",
		  s->cfg->grace_ms);
	done = wait_children(s, s->cfg->grace_ms);
	log_event(LOG_INFO, "drain.finished", "elapsed_ms=%lld ended=%llu",
		  (long long)(now_ms() - start),
		  (unsigned long long)s->reaped[PHASE_GRACE]);
kill_rest:
	/*
	 * With no grace, or once it is over, whatever is left gets SIGKILL:
	 * what the kernel would do anyway when PID 1 exits, but counted.
	 */
	if (!done || s->cfg->grace_ms == 0) {
		s->phase = PHASE_KILL;
		if (descendants_signal(s->self, SIGKILL) > 0 || !done) {
			wait_children(s, KILL_WAIT_MS);
			if (s->reaped[PHASE_KILL])
				log_event(LOG_WARNING, "drain.killed",
					  "count=%llu grace_ms=%u",
					  (unsigned long long)s->reaped[PHASE_KILL],
					  s->cfg->grace_ms);
		}
	}
	tally(s);
	s->out.graceful = ended_gracefully(s);
}

void supervise_reap_failed_exec(pid_t child)
{
	int st;

	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
}
