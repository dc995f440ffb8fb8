/* The write-only Logfire token and base URL, embedded at build time. */
#ifndef SHIM_EMBED_H
#define SHIM_EMBED_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The slot scripts/embed-token finds by its magic and fills in a copy of
 * the built binary.  Sizes and magic are part of that script's contract.
 */
#define EMBED_MAGIC "SYNTHORG-SHIM-EMBED-SLOT-v1"
#define EMBED_MAGIC_SIZE 32
#define EMBED_TOKEN_SIZE 512
#define EMBED_URL_SIZE 256
#define EMBED_SENTINEL "SYNTHORG-SHIM-NO-TOKEN-EMBEDDED"

/* The embedded CA bundle (PEM), from the build machine's ca-certificates. */
extern const char ca_bundle[];
extern const size_t ca_bundle_len;

/* Copy the token out; false when the build carries the sentinel. */
bool embed_token(char out[EMBED_TOKEN_SIZE]);

/*
 * The base URL: the embedded one, or else the Logfire region the token
 * names (pylf_v<N>_<region>_...), US when it names none, as the Logfire
 * SDK picks it.
 */
void embed_base_url(const char *token, char out[EMBED_URL_SIZE]);

/* The region rule alone, shared with tests. */
const char *logfire_region_url(const char *token);

#endif
