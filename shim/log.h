/* Structured log lines on stderr: one line per event, logfmt fields. */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

#include <stddef.h>

/*
 * Levels follow tini's verbosity scale: a line is printed when the
 * verbosity (default 1, -v adds one, TINI_VERBOSITY sets it) is at least
 * the level's threshold.  NOTICE shares WARNING's threshold: it is for
 * the few normal events an operator always wants to see, such as how the
 * child ended.
 */
enum log_level {
	LOG_ERROR,		/* shown at verbosity >= 0 */
	LOG_WARNING,		/* >= 1, the default */
	LOG_NOTICE,		/* >= 1 */
	LOG_INFO,		/* >= 2 */
	LOG_DEBUG,		/* >= 3 */
	LOG_TRACE,		/* >= 4 */
};

/* A line longer than this is cut and ends in "...". */
#define LOG_LINE_MAX 1024

/* Set the verbosity and remember the pid printed on every line. */
void log_init(int verbosity);
int log_enabled(enum log_level level);

/*
 * Print "synthorg-shim[PID]: level=L event=EVENT FIELDS\n" with a single
 * write(2), so lines from the init and the telemetry thread never mix.
 * FIELDS is a printf format for the rest of the line ("code=%d sig=%s").
 * errno is preserved.
 */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same line whatever the verbosity: the telemetry lifecycle line. */
void log_always(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A line whose last field, PAYLOAD, may be longer than LOG_LINE_MAX (a
 * dry-run record): header and payload leave in one writev(2).
 */
void log_always_payload(enum log_level level, const char *event,
			const char *fields, const char *payload);

/*
 * Quote S as a logfmt value into BUF: plain when it holds only safe
 * characters, otherwise in double quotes with \" \\ and \xNN escapes.
 * Returns BUF.  The result is cut to SIZE - 1 bytes.
 */
const char *log_quote(char *buf, size_t size, const char *s);

#endif
