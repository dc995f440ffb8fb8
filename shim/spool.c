/* A small, bounded spool of undelivered events in the data directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

static int parse_line(const char *line, size_t len, uint64_t now_ns,
		      struct tevent *ev)
{
	json_t *root, *props, *jtrace = NULL, *jspan = NULL;
	const char *name, *t, *trace, *span;
	char *end;
	unsigned long long ns;
	json_int_t v = 0;
	int type;

	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_unpack(root, "{s:I, s:s, s:s, s:o, s?o, s?o}", "v", &v,
			"event", &name, "time_unix_nano", &t, "properties",
			&props, "trace_id", &jtrace, "span_id", &jspan) < 0 ||
	    v != 1 || !json_is_object(props))
		goto bad;
	type = event_type_from_name(name);
	if (type < 0)
		goto bad;
	/* Digits only: strtoull alone would take blanks, signs, wraps. */
	if (!*t || strspn(t, "0123456789") != strlen(t))
		goto bad;
	errno = 0;
	ns = strtoull(t, &end, 10);
	if (errno || ns > now_ns || now_ns - ns > SPOOL_MAX_AGE_NS)
		goto bad;
	trace = json_string_value(jtrace);
	span = json_string_value(jspan);
	ev->type = (enum event_type)type;
	ev->time_ns = ns;
	/* Ids written by an older boot stand; missing or broken ones are new. */
	if (!trace || !span ||
	    hex_decode(ev->trace_id, sizeof(ev->trace_id), trace) < 0 ||
	    hex_decode(ev->span_id, sizeof(ev->span_id), span) < 0 ||
	    !memcmp(ev->span_id, "\0\0\0\0\0\0\0\0", 8) ||
	    !memcmp(ev->trace_id, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16))
		tevent_assign_ids(ev);
	ev->props = json_incref(props);
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	return -1;
}

size_t spool_parse(const char *text, size_t len, uint64_t now_ns,
		   struct tevent *out, size_t max, size_t *bad)
{
	const char *p = text, *end = text + len, *nl;
	size_t n = 0;

	*bad = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl > p) {
			if (n < max && parse_line(p, (size_t)(nl - p), now_ns,
						  &out[n]) == 0)
				n++;
			else
				(*bad)++;
		}
		p = nl + 1;
	}
	return n;
}

char *spool_format(const struct tevent *evs, size_t n, size_t *len)
{
	char *text = NULL, *line, *grown, ns[24], trace[33], span[17];
	size_t used = 0, l, i;
	json_t *o;

	*len = 0;
	for (i = 0; i < n && i < SPOOL_MAX_EVENTS; i++) {
		snprintf(ns, sizeof(ns), "%llu",
			 (unsigned long long)evs[i].time_ns);
		hex_encode(trace, evs[i].trace_id, sizeof(evs[i].trace_id));
		hex_encode(span, evs[i].span_id, sizeof(evs[i].span_id));
		o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:O}", "v", 1, "event",
			      event_name(evs[i].type), "time_unix_nano", ns,
			      "trace_id", trace, "span_id", span,
			      "properties", evs[i].props);
		line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
			   NULL;
		json_decref(o);
		if (!line)
			goto fail;
		l = strlen(line);
		/* Whole events only: the oldest ones fit, the rest wait. */
		if (used + l + 1 > SPOOL_MAX_BYTES) {
			free(line);
			break;
		}
		grown = realloc(text, used + l + 2);
		if (!grown) {
			free(line);
			goto fail;
		}
		text = grown;
		memcpy(text + used, line, l);
		used += l;
		text[used++] = '\n';
		text[used] = '\0';
		free(line);
	}
	*len = used;
	return text ? text : calloc(1, 1);
fail:
	free(text);
	return NULL;
}

char *spool_read(int fd, size_t *len)
{
	char *buf = malloc(SPOOL_MAX_BYTES + 1);
	size_t got = 0;
	ssize_t n;

	*len = 0;
	if (!buf)
		return NULL;
	while (got < SPOOL_MAX_BYTES) {
		n = pread(fd, buf + got, SPOOL_MAX_BYTES - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == 0) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

int spool_write(int fd, const char *text, size_t len)
{
	size_t done = 0;
	ssize_t n;

	if (ftruncate(fd, 0) < 0)
		return -1;
	while (done < len) {
		n = pwrite(fd, text + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return fdatasync(fd) < 0 && errno != EINVAL ? -1 : 0;
}
