/* Structured log lines on stderr, written whole by one write(2) each. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

static int log_verbosity = 1;
static int log_pid;

static const struct {
	const char *name;
	int threshold;
} levels[] = {
	[LOG_ERROR] = { "error", 0 },
	[LOG_WARNING] = { "warning", 1 },
	[LOG_NOTICE] = { "notice", 1 },
	[LOG_INFO] = { "info", 2 },
	[LOG_DEBUG] = { "debug", 3 },
	[LOG_TRACE] = { "trace", 4 },
};

void log_init(int verbosity)
{
	log_verbosity = verbosity;
	log_pid = getpid();
}

int log_enabled(enum log_level level)
{
	return log_verbosity >= levels[level].threshold;
}

static void log_write(enum log_level level, const char *event,
		      const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len;
	int n, saved = errno;

	n = snprintf(line, sizeof(line), "synthorg-shim[%d]: level=%s event=%s",
		     log_pid, levels[level].name, event);
	if (n < 0)
		goto out;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (fmt && *fmt && len < sizeof(line) - 1) {
		line[len++] = ' ';
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		if (n > 0)
			len += (size_t)n;
	}
	/* Keep room for the newline; mark a cut line so nobody trusts it. */
	if (len > sizeof(line) - 2) {
		len = sizeof(line) - 2;
		memcpy(line + len - 3, "...", 3);
	}
	line[len++] = '\n';
	while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
		;
out:
	errno = saved;
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_write(level, event, fmt, ap);
	va_end(ap);
}

void log_always(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(level, event, fmt, ap);
	va_end(ap);
}

void log_always_payload(enum log_level level, const char *event,
			const char *fields, const char *payload)
{
	char head[LOG_LINE_MAX];
	struct iovec iov[3];
	int n, saved = errno;

	n = snprintf(head, sizeof(head), "synthorg-shim[%d]: level=%s event=%s %s",
		     log_pid, levels[level].name, event, fields);
	if (n < 0)
		return;
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = strlen(payload);
	iov[2].iov_base = "\n";
	iov[2].iov_len = 1;
	while (writev(STDERR_FILENO, iov, 3) < 0 && errno == EINTR)
		;
	errno = saved;
}

static int plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-_./:+,@%", c) != NULL;
}

const char *log_quote(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t o = 0;
	int plain = *s != '\0';

	if (size == 0)
		return buf;
	for (p = (const unsigned char *)s; *p && plain; p++)
		plain = plain_char(*p);
	if (plain) {
		snprintf(buf, size, "%s", s);
		return buf;
	}
	/* Each input byte takes at most 4 output bytes, plus the quotes. */
	if (o + 1 < size)
		buf[o++] = '"';
	for (p = (const unsigned char *)s; *p && o + 5 < size; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		} else {
			buf[o++] = (char)*p;
		}
	}
	if (o + 1 < size)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
