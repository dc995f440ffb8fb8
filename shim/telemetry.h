/* The opt-in telemetry thread: its lifecycle, seen from the init. */
#ifndef SHIM_TELEMETRY_H
#define SHIM_TELEMETRY_H

#include <stdbool.h>

#include "supervise.h"

struct telemetry;

/*
 * Decide from the environment whether telemetry runs, print the boot's one
 * lifecycle line, and start the thread when it may.  Called once the
 * child runs, so telemetry never delays it.  NULL when off (then nothing
 * was opened, read or started).  PID1 tells the startup event whether the
 * shim is the namespace's init.
 */
struct telemetry *telemetry_start(bool pid1);

/*
 * The lifecycle line when the app could not be started: telemetry does
 * not run for a boot with no app.
 */
void telemetry_no_app(void);

/*
 * Hand the thread the outcome and start the shutdown budget: the thread
 * sends the session summary and shutdown events.  Never blocks.
 */
void telemetry_child_exited(struct telemetry *t, const struct shim_outcome *o);

/* Wait for the thread until the budget is spent, and no longer. */
void telemetry_finish(struct telemetry *t);

#endif
