/* The telemetry thread's own seccomp filter. */
#ifndef SHIM_SANDBOX_H
#define SHIM_SANDBOX_H

/*
 * Load, for the calling thread alone, a filter that allows what the
 * telemetry thread needs (memory, threads for curl's resolver, sockets of
 * the inet and unix families, reading files, writing to descriptors it
 * already holds) and fails everything else with EPERM: no exec, no
 * process creation, no ptrace, mount, identity or privilege change, no
 * opening a file for writing.  Never kills: a killed thread would take
 * PID 1, and the container, with it.  Returns 0 or a negative errno.
 */
int sandbox_enter(void);

/*
 * From inside the filter, try what it must refuse (exec, fork, opening a
 * file for writing) and log one line with each outcome; for the tests
 * and for operators who want to see the filter work on their host.
 */
void sandbox_selftest(void);

#endif
