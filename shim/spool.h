/* A small, bounded spool of undelivered events in the data directory. */
#ifndef SHIM_SPOOL_H
#define SHIM_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define SPOOL_FILE "telemetry_spool"
#define SPOOL_MAX_EVENTS 32
#define SPOOL_MAX_BYTES (64 * 1024)
/* Logfire refuses records older than 24 h; keep a margin. */
#define SPOOL_MAX_AGE_NS (23ull * 3600 * 1000000000)

/*
 * Parse spool TEXT (LEN bytes): one JSON object per line, {"v":1,
 * "event":NAME, "time_unix_nano":"N", "trace_id":HEX, "span_id":HEX,
 * "properties":{...}}.  Events too old
 * at NOW_NS, unknown or malformed lines are skipped and counted in *BAD.
 * Fills at most MAX events into OUT (props owned by the caller) and
 * returns how many.  The properties still go through the scrubber: the
 * file lives on a volume anyone with access could have edited.
 */
size_t spool_parse(const char *text, size_t len, uint64_t now_ns,
		   struct tevent *out, size_t max, size_t *bad);

/* Format N events as spool text (free() it); NULL when out of memory. */
char *spool_format(const struct tevent *evs, size_t n, size_t *len);

/* Read the whole spool from FD (at most SPOOL_MAX_BYTES); NULL if empty. */
char *spool_read(int fd, size_t *len);

/* Replace the spool's content with TEXT (LEN bytes, 0 to empty it). */
int spool_write(int fd, const char *text, size_t len);

#endif
