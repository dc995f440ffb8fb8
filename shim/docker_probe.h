/* A privacy-filtered view of the Docker daemon: GET /info, and nothing else. */
#ifndef SHIM_DOCKER_PROBE_H
#define SHIM_DOCKER_PROBE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DOCKER_SOCKET "/var/run/docker.sock"
#define DOCKER_PROBE_MS 5000
#define DOCKER_BODY_MAX (512 * 1024)

/*
 * Ask the daemon behind SOCK for GET /info, within TIMEOUT_MS and
 * DOCKER_BODY_MAX bytes, never following a redirect; once WAKE_FD (>= 0)
 * becomes readable it may go on until *LINGER_UNTIL (see deliver_run).
 * Returns a new object with
 * docker_info_available and either the twelve allowlisted fields or
 * docker_info_unavailable_reason, a category, never an error text.
 */
json_t *docker_probe(const char *sock, long timeout_ms, int wake_fd,
		     const atomic_llong *linger_until);

/* The mapping of a /info body alone (for tests and the fuzzer). */
json_t *docker_info_map(const char *body, size_t len);

#endif
