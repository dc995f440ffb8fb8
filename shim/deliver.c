/* Delivery of OTLP bodies to Logfire with libcurl: timeouts, retries. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "deliver.h"
#include "log.h"
#include "rnd.h"
#include "version.h"

/* Backoff: 1 s, 2 s, 4 s ... times a factor in [0.8, 1.2], at most 30 s. */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
/* Too little time left to be worth another attempt. */
#define ATTEMPT_MIN_MS 100
/* The longest wait a Retry-After can ask for; longer waits are this. */
#define RETRY_AFTER_MAX_S 86400

struct deliver {
	CURL *easy;
	struct curl_slist *headers;
	char url[512];
	char response[DELIVER_RESPONSE_MAX + 1];
	size_t response_len;
	bool response_cut;
	char retry_after[64];
	char warning[256];
	char last_error[32];
};

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct deliver *d = arg;
	size_t len = size * n;

	if (len > DELIVER_RESPONSE_MAX - d->response_len) {
		d->response_cut = true;
		return 0;	/* CURLE_WRITE_ERROR: stop reading */
	}
	memcpy(d->response + d->response_len, p, len);
	d->response_len += len;
	return len;
}

/* Copy the value of header NAME from LINE into OUT when it is that one. */
static void take_header(const char *line, size_t len, const char *name,
			char *out, size_t size)
{
	size_t nlen = strlen(name), vlen;

	if (len <= nlen + 1 || strncasecmp(line, name, nlen) != 0 ||
	    line[nlen] != ':')
		return;
	line += nlen + 1;
	len -= nlen + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		       line[len - 1] == ' '))
		len--;
	vlen = len < size - 1 ? len : size - 1;
	memcpy(out, line, vlen);
	out[vlen] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct deliver *d = arg;
	size_t len = size * n;

	take_header(p, len, "Retry-After", d->retry_after,
		    sizeof(d->retry_after));
	take_header(p, len, "X-Logfire-Warning", d->warning,
		    sizeof(d->warning));
	return len;
}

static const char *setup(struct deliver *d, const struct deliver_opts *o)
{
	char auth[640], ua[64];
	struct curl_blob ca = {
		.data = (void *)o->ca_blob,
		.len = o->ca_len,
		.flags = CURL_BLOB_NOCOPY,
	};
	CURL *e = d->easy;
	int n;

	n = snprintf(d->url, sizeof(d->url), "%s/v1/traces", o->base_url);
	if (n < 0 || (size_t)n >= sizeof(d->url))
		return "base_url_too_long";
	n = snprintf(auth, sizeof(auth), "Authorization: %s", o->token);
	if (n < 0 || (size_t)n >= sizeof(auth))
		return "token_too_long";
	snprintf(ua, sizeof(ua), "synthorg-shim/%s", SHIM_VERSION);
	d->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (d->headers)
		d->headers = curl_slist_append(d->headers, auth);
	/* The token sat on our stack only as long as the copy took. */
	memset(auth, 0, sizeof(auth));
	if (!d->headers)
		return "out_of_memory";
	if (curl_easy_setopt(e, CURLOPT_URL, d->url) ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http") ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers) ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, ua) ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, d) ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, d) ||
	    curl_easy_setopt(e, CURLOPT_SSLVERSION,
			     (long)CURL_SSLVERSION_TLSv1_2) ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L))
		return "curl_setopt_failed";
	if (o->ssl_cert_file) {
		if (curl_easy_setopt(e, CURLOPT_CAINFO, o->ssl_cert_file))
			return "ssl_cert_file_unusable";
	} else if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca)) {
		return "ca_bundle_unusable";
	}
	return NULL;
}

struct deliver *deliver_new(const struct deliver_opts *o, const char **why)
{
	struct deliver *d = calloc(1, sizeof(*d));

	if (!d) {
		*why = "out_of_memory";
		return NULL;
	}
	d->easy = curl_easy_init();
	if (!d->easy) {
		*why = "curl_easy_init_failed";
		free(d);
		return NULL;
	}
	*why = setup(d, o);
	if (*why) {
		deliver_free(d);
		return NULL;
	}
	return d;
}

void deliver_free(struct deliver *d)
{
	if (!d)
		return;
	curl_easy_cleanup(d->easy);
	curl_slist_free_all(d->headers);
	free(d);
}

int deliver_run(void *easy, int wake_fd, const atomic_llong *linger_until)
{
	struct curl_waitfd wake = { .fd = wake_fd, .events = CURL_WAIT_POLLIN };
	CURLM *multi = curl_multi_init();
	CURLcode result = CURLE_OUT_OF_MEMORY;
	int64_t cutoff = -1;
	struct CURLMsg *msg;
	int running = 1, left, watch = wake_fd >= 0;

	if (!multi)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_add_handle(multi, easy) != CURLM_OK)
		goto out;
	while (running) {
		if (curl_multi_perform(multi, &running) != CURLM_OK || !running)
			break;
		if (cutoff >= 0 && mono_ms() >= cutoff) {
			result = (CURLcode)-1;
			goto remove;
		}
		wake.revents = 0;
		/* Sleeps in poll(2) until a socket, curl's timer or WAKE_FD. */
		if (curl_multi_wait(multi, watch ? &wake : NULL, watch ? 1 : 0,
				    1000, NULL) != CURLM_OK)
			break;
		if (watch && (wake.revents & CURL_WAIT_POLLIN)) {
			/*
			 * The child has exited: this transfer may finish if it
			 * does so soon, which spares a resend of what it carries.
			 */
			watch = 0;
			cutoff = linger_until ? atomic_load(linger_until) : 0;
		}
	}
	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
			result = msg->data.result;
remove:
	curl_multi_remove_handle(multi, easy);
out:
	curl_multi_cleanup(multi);
	return (int)result;
}

int64_t deliver_retry_after_ms(const char *value, int64_t now_s)
{
	char *end;
	long long secs;
	time_t when;

	if (!value || !*value)
		return -1;
	if (*value >= '0' && *value <= '9') {
		errno = 0;
		secs = strtoll(value, &end, 10);
		if (*end != '\0')
			return -1;
		/* Past a day it only means "not within any budget". */
		if (secs > RETRY_AFTER_MAX_S || errno == ERANGE)
			secs = RETRY_AFTER_MAX_S;
		return (int64_t)secs * 1000;
	}
	when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	if (when <= now_s)
		return 0;
	if ((int64_t)when - now_s > RETRY_AFTER_MAX_S)
		return (int64_t)RETRY_AFTER_MAX_S * 1000;
	return ((int64_t)when - now_s) * 1000;
}

/* Sleep MS, or less when WAKE_FD becomes readable: returns true then. */
static bool nap(int64_t ms, int wake_fd)
{
	struct pollfd p = { .fd = wake_fd, .events = POLLIN };
	int r;

	if (ms <= 0)
		return false;
	r = poll(wake_fd >= 0 ? &p : NULL, wake_fd >= 0 ? 1 : 0,
		 ms > 60000 ? 60000 : (int)ms);
	return r > 0 && (p.revents & POLLIN);
}

static int64_t backoff_ms(int attempt)
{
	int64_t base = BACKOFF_FIRST_MS;
	uint16_t r = 0;

	while (attempt-- > 0 && base < BACKOFF_MAX_MS)
		base *= 2;
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	rnd_bytes(&r, sizeof(r));
	/* A factor in [0.8, 1.2], so replicas that failed together spread. */
	return base * (800 + (int64_t)(r % 401)) / 1000;
}

/* Log a partialSuccess: accepted, but Logfire dropped or warns about some. */
static void note_partial_success(const struct deliver *d)
{
	json_t *root, *ps, *rs;
	char msg[160];
	const char *text;
	long long rejected;

	if (!d->response_len)
		return;
	root = json_loadb(d->response, d->response_len, JSON_REJECT_DUPLICATES,
			  NULL);
	ps = json_object_get(root, "partialSuccess");
	if (json_is_object(ps)) {
		text = json_string_value(json_object_get(ps, "errorMessage"));
		/* An int64 in OTLP JSON: a string, though numbers are allowed. */
		rs = json_object_get(ps, "rejectedSpans");
		rejected = json_is_integer(rs) ? json_integer_value(rs) :
			   json_is_string(rs) ?
			   strtoll(json_string_value(rs), NULL, 10) : 0;
		log_event(LOG_WARNING, "telemetry.partial_success",
			  "rejected_spans=%lld error=%s", rejected,
			  log_quote(msg, sizeof(msg), text ? text : ""));
	}
	json_decref(root);
}

enum attempt_verdict { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_REJECTED };

/* A category for a transport failure, never curl's text. */
static const char *transport_error(int rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "resolve";
	case CURLE_COULDNT_CONNECT:
		return "connect";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return "tls";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return "connection_lost";
	default:
		return "transport";
	}
}

const char *deliver_last_error(const struct deliver *d)
{
	return d && d->last_error[0] ? d->last_error : "none";
}

static enum attempt_verdict judge(struct deliver *d, int rc, long status,
				  int64_t *wait_ms)
{
	char q[300];

	*wait_ms = -1;
	if (d->warning[0])
		log_event(LOG_WARNING, "telemetry.logfire_warning", "text=%s",
			  log_quote(q, sizeof(q), d->warning));
	/* A body cut at our limit still came with its status: judge that. */
	if (rc == CURLE_WRITE_ERROR && d->response_cut && status != 0)
		rc = CURLE_OK;
	if (status >= 200 && status < 300 && rc == CURLE_OK) {
		if (!d->response_cut)
			note_partial_success(d);
		return ATTEMPT_OK;
	}
	if (rc != CURLE_OK || status == 0) {
		snprintf(d->last_error, sizeof(d->last_error), "%s",
			 transport_error(rc));
		log_event(LOG_DEBUG, "telemetry.attempt_failed",
			  "error_type=%s curl_code=%d", d->last_error, rc);
		return ATTEMPT_RETRY;
	}
	snprintf(d->last_error, sizeof(d->last_error), "http_%ld", status);
	if (status == 408 || status == 429 || status >= 500) {
		*wait_ms = deliver_retry_after_ms(d->retry_after,
						  (int64_t)time(NULL));
		log_event(LOG_DEBUG, "telemetry.attempt_failed",
			  "error_type=http_status status=%ld retry_after_ms=%lld",
			  status, (long long)*wait_ms);
		return ATTEMPT_RETRY;
	}
	/* A 4xx will not heal: say what it most likely means, once. */
	log_event(LOG_WARNING, "telemetry.delivery.rejected",
		  "status=%ld error_type=%s", status,
		  status == 401 || status == 403 ? "token_refused" :
		  status == 413 ? "body_too_large" :
		  status == 400 || status == 415 ? "body_refused" : "http_status");
	return ATTEMPT_REJECTED;
}

enum deliver_result deliver_post(struct deliver *d, const char *body,
				 size_t len, int64_t deadline_ms, int wake_fd,
				 const atomic_llong *linger_until)
{
	enum attempt_verdict v;
	int64_t left, wait;
	long status;
	int attempt, rc;

	for (attempt = 0;; attempt++) {
		left = deadline_ms - mono_ms();
		if (left < ATTEMPT_MIN_MS)
			return DELIVER_FAILED;
		d->response_len = 0;
		d->response_cut = false;
		d->retry_after[0] = d->warning[0] = '\0';
		curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
		curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS,
				 (long)(left < DELIVER_ATTEMPT_MS ? left :
					DELIVER_ATTEMPT_MS));
		curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)(left < DELIVER_CONNECT_MS ? left :
					DELIVER_CONNECT_MS));
		rc = deliver_run(d->easy, wake_fd, linger_until);
		if (rc == -1)
			return DELIVER_ABORTED;
		status = 0;
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
		v = judge(d, rc, status, &wait);
		if (v == ATTEMPT_OK)
			return DELIVER_OK;
		if (v == ATTEMPT_REJECTED)
			return DELIVER_REJECTED;
		if (wait < 0)
			wait = backoff_ms(attempt);
		if (mono_ms() + wait + ATTEMPT_MIN_MS > deadline_ms)
			return DELIVER_FAILED;
		if (nap(wait, wake_fd))
			return DELIVER_ABORTED;
	}
}
