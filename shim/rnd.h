/* Random bytes and UUIDs from the kernel's getrandom(2). */
#ifndef SHIM_RND_H
#define SHIM_RND_H

#include <stddef.h>

#define UUID_TEXT_LEN 36

/* Fill BUF with N random bytes; 0 on success, -1 with errno. */
int rnd_bytes(void *buf, size_t n);

/* A random (version 4) UUID as 36 lowercase characters and a NUL. */
int rnd_uuid(char out[UUID_TEXT_LEN + 1]);

/* Is S exactly a UUID in 8-4-4-4-12 hex form (either case)? */
int uuid_valid(const char *s, size_t len);

#endif
