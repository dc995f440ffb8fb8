/* What every fuzz target shares: the entry point and a loud invariant. */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * An invariant the product broke: say which, then abort() so libFuzzer
 * keeps the input as a crash artifact.  stderr may be /dev/null under
 * -close_fd_mask=2, so the line also goes where the sanitizers report.
 */
#define FUZZ_CHECK(cond, ...)                                              \
	do {                                                               \
		if (!(cond)) {                                             \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
		}                                                          \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond,
	       const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* A NUL-terminated copy of SIZE bytes (free() it); aborts out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Split DATA at NUL bytes into at most MAX words (copies; free each). */
size_t fuzz_split(const uint8_t *data, size_t size, char **words, size_t max);

#endif
