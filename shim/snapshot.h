/* The app's own figures: a small JSON file it replaces atomically. */
#ifndef SHIM_SNAPSHOT_H
#define SHIM_SNAPSHOT_H

#include <jansson.h>

#include "scrub.h"

#define SNAPSHOT_MAX_BYTES (16 * 1024)

/*
 * Read the snapshot at PATH: a regular file of at most 16 KiB holding one
 * JSON object.  NULL with *WHY a stable word when it cannot be used.
 */
json_t *snapshot_read(const char *path, const char **why);

/*
 * Merge the snapshot's keys meant for TYPE into PROPS.  A key the shim
 * owns (envelope, lifecycle, Docker) never replaces the shim's value; a key
 * that belongs to another event waits for that one; any other key is
 * merged, for the scrubber to judge (and drop the event, naming it).
 */
void snapshot_merge(enum event_type type, json_t *snap, json_t *props);

#endif
