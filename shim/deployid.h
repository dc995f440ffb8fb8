/* The deployment ID: one UUID per data volume, shared by its replicas. */
#ifndef SHIM_DEPLOYID_H
#define SHIM_DEPLOYID_H

#include <stdint.h>

#include "rnd.h"

#define DEPLOYID_FILE "telemetry_id"
#define DEPLOYID_CLAIM "telemetry_id.repair"

enum deployid_source {
	DEPLOYID_LOADED,	/* read back, ours or a peer's */
	DEPLOYID_CREATED,	/* we won the O_EXCL race */
	DEPLOYID_REPAIRED,	/* an empty or non-UUID file, replaced */
	DEPLOYID_GENERATED,	/* in memory only: see error */
};

struct deployid {
	char id[UUID_TEXT_LEN + 1];
	enum deployid_source source;
	const char *error;	/* why GENERATED: a stable word */
	int err;		/* the errno behind it, or 0 */
};

/*
 * Load or create {DIRFD}/telemetry_id by DEADLINE_MS (CLOCK_MONOTONIC).
 * Replicas racing on one volume converge on the file of the one whose
 * O_CREAT|O_EXCL won; losers re-read it over the partial-write window.
 * An empty or non-UUID file is replaced only once nobody can still be
 * writing it, by one repairer at a time.  A symlink is never followed.
 * On any failure, or past the deadline, R holds an in-memory UUID.
 */
void deployid_get(int dirfd, int64_t deadline_ms, struct deployid *r);

/* Sanity bounds, exposed for tests. */
#define DEPLOYID_PARTIAL_WINDOW_MS 250	/* retries over a peer's write */
#define DEPLOYID_STALE_MS 2000		/* no writer takes this long */

#endif
