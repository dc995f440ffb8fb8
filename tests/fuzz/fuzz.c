/* Helpers shared by the fuzz targets: failing loudly, splitting input. */
#include <sanitizer/common_interface_defs.h>
#include <stdarg.h>
#include <string.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *cond,
	       const char *fmt, ...)
{
	char msg[512];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(msg, sizeof(msg), "invariant %s broken at %s:%d: ",
			     cond, file, line);
	if (n < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		va_end(ap);
	}
	/*
	 * Under -close_fd_mask=2 stderr is /dev/null; the summary goes to
	 * the descriptor libFuzzer kept for the sanitizers' reports.
	 */
	fprintf(stderr, "%s\n", msg);
	__sanitizer_report_error_summary(msg);
	abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

size_t fuzz_split(const uint8_t *data, size_t size, char **words, size_t max)
{
	const uint8_t *p = data, *end = data + size, *nul;
	size_t n = 0;

	while (n < max && p <= end) {
		nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			nul = end;
		words[n++] = fuzz_strndup(p, (size_t)(nul - p));
		p = nul + 1;
	}
	return n;
}
