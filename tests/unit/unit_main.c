/* Runs every registered unit test; exits 1 when any check failed. */
#include <stdlib.h>

#include "unit.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	unit_fn fn;
} tests[MAX_TESTS];
static int ntests;
static const char *current;
int unit_failures;

void unit_register(const char *name, unit_fn fn)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "unit: more than %d tests\n", MAX_TESTS);
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void unit_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "FAIL %s (%s:%d): %s\n", current, file, line, what);
	unit_failures++;
}

int main(int argc, char **argv)
{
	int i, before, failed_tests = 0, ran = 0;

	for (i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		current = tests[i].name;
		before = unit_failures;
		tests[i].fn();
		ran++;
		if (unit_failures != before)
			failed_tests++;
	}
	printf("unit: %d tests, %d failed, %d failed checks\n", ran,
	       failed_tests, unit_failures);
	return unit_failures || ran == 0 ? 1 : 0;
}
