/*
 * The receiver's answers: deliver_post against a loopback stand-in that
 * answers with the input's status, Retry-After and X-Logfire-Warning
 * headers and body.  This reaches what deliver.c keeps static: the header
 * callback, the partialSuccess parsing of a 2xx body, and the verdict on
 * each status.  2xx is delivered, 408/429/5xx retried until the (short)
 * deadline, any other status dropped, whatever the body's size; nothing
 * crashes, whatever the body.
 *
 * Input: 2 bytes of status (200 + n % 400), a flags byte (below), then a
 * length byte and the Retry-After value, a length byte and the warning,
 * and the rest is the body.  CR, LF and NUL in header values become
 * blanks, so the stand-in's framing stays the input's only lever.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../shim/deliver.h"
#include "../../shim/embed.h"
#include "../../shim/log.h"
#include "fuzz.h"

enum {
	FL_RETRY_AFTER = 1 << 0,
	FL_WARNING = 1 << 1,
	FL_NO_LENGTH = 1 << 2,	/* the body ends with the connection */
	FL_HUGE = 1 << 3,	/* pad the body past DELIVER_RESPONSE_MAX */
};

#define HEAD_MAX 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char head[HEAD_MAX];
static size_t head_len;
static char *body;
static size_t body_len;
static int listener = -1;
static struct deliver *d;

static void send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;	/* the client stopped reading: fine */
		p += w;
		n -= (size_t)w;
	}
}

/* Read the request: its head, then Content-Length bytes of body. */
static void read_request(int fd)
{
	char buf[8192], *end, *cl;
	size_t got = 0, want = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end || got == sizeof(buf) - 1)
			break;
	}
	if (!end)
		return;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl && cl < end)
		want = strtoul(cl + 17, NULL, 10);
	got -= (size_t)(end + 4 - buf);
	while (got < want) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
}

static void *serve(void *arg)
{
	int fd;

	for (;;) {
		fd = accept(listener, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		read_request(fd);
		pthread_mutex_lock(&lock);
		send_all(fd, head, head_len);
		send_all(fd, body, body_len);
		pthread_mutex_unlock(&lock);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct deliver_opts o = { 0 };
	char url[64];
	const char *why = NULL;
	pthread_t th;

	log_init(1);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, alen) < 0 ||
	    listen(listener, 16) < 0 ||
	    getsockname(listener, (struct sockaddr *)&a, &alen) < 0 ||
	    pthread_create(&th, NULL, serve, NULL) != 0) {
		perror("fuzz_deliver: loopback receiver");
		exit(1);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(a.sin_port));
	o.base_url = url;
	o.token = "pylf_v1_us_fuzzfuzzfuzzfuzzfuzzfuzzfuzz";
	o.ca_blob = ca_bundle;
	o.ca_len = ca_bundle_len;
	d = deliver_new(&o, &why);
	if (!d) {
		fprintf(stderr, "fuzz_deliver: deliver_new: %s\n", why);
		exit(1);
	}
	return 0;
}

/* LEN bytes of the input as a header value, framing bytes blanked. */
static size_t header_value(char *out, const uint8_t *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = in[i] == '\r' || in[i] == '\n' || in[i] == '\0' ?
			 ' ' : (char)in[i];
	return len;
}

static size_t field(const uint8_t **p, size_t *n, const uint8_t **val)
{
	size_t len = *n ? **p : 0;

	if (*n)
		(*p)++, (*n)--;
	if (len > *n)
		len = *n;
	*val = *p;
	*p += len;
	*n -= len;
	return len;
}

/* Build the answer; returns its status. */
static int answer(const uint8_t *p, size_t n)
{
	const uint8_t *ra, *warn;
	size_t ra_len, warn_len, o;
	unsigned flags;
	int status;

	status = 200 + (n >= 2 ? (p[0] << 8 | p[1]) : 0) % 400;
	flags = n >= 3 ? p[2] : 0;
	p += n >= 3 ? 3 : n;
	n -= n >= 3 ? 3 : n;
	ra_len = field(&p, &n, &ra);
	warn_len = field(&p, &n, &warn);

	pthread_mutex_lock(&lock);
	o = (size_t)snprintf(head, sizeof(head),
			     "HTTP/1.1 %d Fuzz\r\nConnection: close\r\n",
			     status);
	if (flags & FL_RETRY_AFTER) {
		o += (size_t)snprintf(head + o, sizeof(head) - o,
				      "Retry-After: ");
		o += header_value(head + o, ra, ra_len);
		o += (size_t)snprintf(head + o, sizeof(head) - o, "\r\n");
	}
	if (flags & FL_WARNING) {
		o += (size_t)snprintf(head + o, sizeof(head) - o,
				      "X-Logfire-Warning: ");
		o += header_value(head + o, warn, warn_len);
		o += (size_t)snprintf(head + o, sizeof(head) - o, "\r\n");
	}
	free(body);
	body_len = n + (flags & FL_HUGE ? DELIVER_RESPONSE_MAX + 1 : 0);
	body = malloc(body_len + 1);
	if (!body)
		abort();
	memcpy(body, p, n);
	memset(body + n, ' ', body_len - n);
	if (!(flags & FL_NO_LENGTH))
		o += (size_t)snprintf(head + o, sizeof(head) - o,
				      "Content-Length: %zu\r\n", body_len);
	o += (size_t)snprintf(head + o, sizeof(head) - o, "\r\n");
	head_len = o;
	pthread_mutex_unlock(&lock);
	return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char request[] = "{\"resourceSpans\":[]}";
	enum deliver_result r, want;
	int status = answer(data, size);
	int64_t budget = 3000;

	/*
	 * One attempt settles 2xx, 3xx and 4xx: a long deadline, so a busy
	 * machine cannot turn them into timeouts.  Retried statuses get room
	 * for one attempt, and for more only when told to come back "now".
	 */
	if (status < 300) {
		want = DELIVER_OK;
	} else if (status == 408 || status == 429 || status >= 500) {
		want = DELIVER_FAILED;
		budget = 110;
	} else {
		want = DELIVER_REJECTED;
	}
	r = deliver_post(d, request, sizeof(request) - 1, mono_ms() + budget,
			 -1, NULL);
	FUZZ_CHECK(r == want, "status %d gave %d, not %d", status, r, want);
	return 0;
}
