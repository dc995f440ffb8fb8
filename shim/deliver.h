/* Delivery of OTLP bodies to Logfire with libcurl: timeouts, retries. */
#ifndef SHIM_DELIVER_H
#define SHIM_DELIVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct deliver;

struct deliver_opts {
	const char *base_url;		/* "https://logfire-us.pydantic.dev" */
	const char *token;		/* the raw write token */
	const char *ssl_cert_file;	/* a PEM bundle, or NULL: the embedded */
	const void *ca_blob;		/* the embedded CA bundle */
	size_t ca_len;
};

enum deliver_result {
	DELIVER_OK,		/* a 2xx: done, never to be sent again */
	DELIVER_REJECTED,	/* a 4xx that retrying cannot mend: dropped */
	DELIVER_FAILED,		/* transient failures until the deadline */
	DELIVER_ABORTED,	/* WAKE_FD became readable first */
};

/* Connect and per-attempt limits, whatever the deadline. */
#define DELIVER_CONNECT_MS 3000
#define DELIVER_ATTEMPT_MS 10000
/* The most of a response that is read; more is an error. */
#define DELIVER_RESPONSE_MAX (64 * 1024)

/*
 * Set up a handle: the URL, headers, TLS verification against the
 * embedded bundle (or SSL_CERT_FILE), no redirects, no signals.  NULL on
 * failure with *WHY naming the cause for the report.failed line.
 */
struct deliver *deliver_new(const struct deliver_opts *o, const char **why);
void deliver_free(struct deliver *d);

/*
 * POST BODY to {base}/v1/traces, retrying 408, 429 (after its
 * Retry-After), 5xx and transport errors with jittered backoff until
 * DEADLINE_MS (CLOCK_MONOTONIC, ms).  When WAKE_FD >= 0 becomes readable
 * a wait between attempts ends at once, and a transfer under way may go
 * on until *LINGER_UNTIL (CLOCK_MONOTONIC ms, read then); either way
 * DELIVER_ABORTED is returned when it did not finish.
 */
enum deliver_result deliver_post(struct deliver *d, const char *body,
				 size_t len, int64_t deadline_ms, int wake_fd,
				 const atomic_llong *linger_until);

/*
 * Why the last attempt of deliver_post failed, as a stable word: "tls",
 * "connect", "resolve", "timeout", "http_500", ... ("none" before any).
 */
const char *deliver_last_error(const struct deliver *d);

/*
 * How long a Retry-After value asks to wait, in ms from NOW_S (Unix
 * seconds): delta-seconds or an HTTP-date.  -1 when unusable.
 */
int64_t deliver_retry_after_ms(const char *value, int64_t now_s);

/* Monotonic milliseconds, the clock of every deadline here. */
int64_t mono_ms(void);

/*
 * Run one transfer on EASY with the multi interface, watching WAKE_FD
 * (>= 0) too; shared with the Docker probe.  Once WAKE_FD is readable the
 * transfer may go on until *LINGER_UNTIL (NULL: not at all).  Returns the
 * transfer's CURLcode, or -1 when it was cut short.
 */
int deliver_run(void *easy, int wake_fd, const atomic_llong *linger_until);

#endif
