/* The write-only Logfire token and base URL, embedded at build time. */
#include <string.h>

#include "embed.h"

struct embed_slot {
	char magic[EMBED_MAGIC_SIZE];
	char token[EMBED_TOKEN_SIZE];
	char base_url[EMBED_URL_SIZE];
};

/*
 * volatile: the compiler must read what embed-token wrote into the file,
 * not fold the sentinel it sees here into the code.
 */
static volatile const struct embed_slot slot
	__attribute__((used, aligned(16))) = {
	.magic = EMBED_MAGIC,
	.token = EMBED_SENTINEL,
	.base_url = "",
};

static void copy_field(char *out, const volatile char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size - 1 && in[i]; i++)
		out[i] = in[i];
	out[i] = '\0';
}

bool embed_token(char out[EMBED_TOKEN_SIZE])
{
	copy_field(out, slot.token, EMBED_TOKEN_SIZE);
	return out[0] != '\0' && strcmp(out, EMBED_SENTINEL) != 0;
}

const char *logfire_region_url(const char *token)
{
	static const struct {
		const char *prefix;
		const char *url;
	} regions[] = {
		{ "us_", "https://logfire-us.pydantic.dev" },
		{ "eu_", "https://logfire-eu.pydantic.dev" },
	};
	const char *p;
	size_t i;

	/* pylf_v<digits>_<region>_... */
	if (strncmp(token, "pylf_v", 6) != 0)
		return regions[0].url;
	p = token + 6;
	if (*p < '0' || *p > '9')
		return regions[0].url;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '_')
		return regions[0].url;
	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		if (strncmp(p, regions[i].prefix, 3) == 0)
			return regions[i].url;
	return regions[0].url;
}

void embed_base_url(const char *token, char out[EMBED_URL_SIZE])
{
	size_t n;

	copy_field(out, slot.base_url, EMBED_URL_SIZE);
	if (!out[0])
		copy_field(out, logfire_region_url(token), EMBED_URL_SIZE);
	/* "https://host/" and "https://host" name the same base. */
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}
