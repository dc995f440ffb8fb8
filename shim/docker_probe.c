/* A privacy-filtered view of the Docker daemon: GET /info, and nothing else. */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver.h"
#include "docker_probe.h"
#include "envparse.h"
#include "scrub.h"

/* /info's fields, and the names they are exported under. */
static const struct {
	const char *field;
	const char *key;
	json_type type;
} fields[] = {
	{ "ServerVersion", "docker_server_version", JSON_STRING },
	{ "OperatingSystem", "docker_operating_system", JSON_STRING },
	{ "OSType", "docker_os_type", JSON_STRING },
	{ "OSVersion", "docker_os_version", JSON_STRING },
	{ "Architecture", "docker_architecture", JSON_STRING },
	{ "KernelVersion", "docker_kernel_version", JSON_STRING },
	{ "Driver", "docker_storage_driver", JSON_STRING },
	{ "DefaultRuntime", "docker_default_runtime", JSON_STRING },
	{ "Isolation", "docker_isolation", JSON_STRING },
	{ "NCPU", "docker_ncpu", JSON_INTEGER },
	{ "MemTotal", "docker_mem_total", JSON_INTEGER },
};

struct body {
	char *data;
	size_t len;
	bool too_large;
};

static json_t *unavailable(const char *reason)
{
	return json_pack("{s:b, s:s}", "docker_info_available", 0,
			 "docker_info_unavailable_reason", reason);
}

/* Cut S to 64 characters without splitting one. */
static json_t *cut_string(const char *s)
{
	return json_stringn(s, utf8_prefix(s, strlen(s), SCRUB_STRING_MAX));
}

json_t *docker_info_map(const char *body, size_t len)
{
	json_t *root, *out, *v, *runtimes;
	size_t i;

	root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return unavailable("body_not_json_object");
	}
	out = json_pack("{s:b}", "docker_info_available", 1);
	for (i = 0; out && i < sizeof(fields) / sizeof(fields[0]); i++) {
		v = json_object_get(root, fields[i].field);
		/* A field of the wrong type is left out, never guessed at. */
		if (!v || json_typeof(v) != fields[i].type)
			continue;
		if (fields[i].type == JSON_STRING) {
			json_t *cut = cut_string(json_string_value(v));

			/*
			 * A value shaped like a path, an address or a secret
			 * would make the scrubber drop the whole startup
			 * event: this one field is left out instead.
			 */
			if (cut && scrub_value_offence(json_string_value(cut)))
				json_decref(cut);
			else
				json_object_set_new(out, fields[i].key, cut);
		} else
			json_object_set(out, fields[i].key, v);
	}
	runtimes = json_object_get(root, "Runtimes");
	if (out && json_is_object(runtimes))
		json_object_set_new(out, "docker_gpu_runtime_nvidia_available",
				    json_boolean(json_object_get(runtimes,
								 "nvidia")));
	json_decref(root);
	return out;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	char *grown;

	if (len > DOCKER_BODY_MAX - b->len) {
		b->too_large = true;
		return 0;
	}
	grown = realloc(b->data, b->len + len + 1);
	if (!grown)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static const char *connect_reason(long os_errno)
{
	switch (os_errno) {
	case ENOENT:
		return "socket_not_mounted";
	case EACCES:
	case EPERM:
		return "permission_denied";
	case ECONNREFUSED:
		return "daemon_not_listening";
	case ENOTSOCK:
		return "not_a_socket";
	default:
		return "connect_failed";
	}
}

static json_t *fetch(const char *sock, long timeout_ms, int wake_fd,
		     const atomic_llong *linger_until)
{
	struct body b = { 0 };
	CURL *e = curl_easy_init();
	long status = 0, os_errno = 0;
	json_t *out;
	int rc;

	if (!e)
		return unavailable("probe_setup_failed");
	if (curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, sock) ||
	    curl_easy_setopt(e, CURLOPT_URL, "http://localhost/info") ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") ||
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b)) {
		curl_easy_cleanup(e);
		return unavailable("probe_setup_failed");
	}
	rc = deliver_run(e, wake_fd, linger_until);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_cleanup(e);
	if (rc == -1)
		out = unavailable("probe_interrupted");
	else if (b.too_large)
		out = unavailable("body_too_large");
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		out = unavailable("daemon_hung");
	else if (rc == CURLE_COULDNT_CONNECT)
		out = unavailable(connect_reason(os_errno));
	else if (rc != CURLE_OK)
		out = unavailable("bad_response");
	else if (status < 200 || status > 299)
		out = unavailable("error_status");
	else
		out = docker_info_map(b.data ? b.data : "", b.len);
	free(b.data);
	return out;
}

json_t *docker_probe(const char *sock, long timeout_ms, int wake_fd,
		     const atomic_llong *linger_until)
{
	struct stat st;

	/* Decide the plain cases without a connection attempt. */
	if (stat(sock, &st) < 0)
		return unavailable(errno == ENOENT ? "socket_not_mounted" :
				   errno == EACCES ? "permission_denied" :
				   "socket_unreadable");
	if (!S_ISSOCK(st.st_mode))
		return unavailable("not_a_socket");
	return fetch(sock, timeout_ms, wake_fd, linger_until);
}
