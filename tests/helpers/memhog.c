/* Test helper: touch memory in 1 MiB steps until the kernel stops it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	size_t step = 1 << 20, total = 0;
	char *p;

	for (;;) {
		p = malloc(step);
		if (!p) {
			fprintf(stderr, "memhog: malloc failed at %zu MiB\n",
				total >> 20);
			return 1;
		}
		memset(p, 0xa5, step);
		total += step;
	}
}
