/* The app's own figures: a small JSON file it replaces atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"

json_t *snapshot_read(const char *path, const char **why)
{
	char *buf;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	json_t *root;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*why = errno == ENOENT ? "missing" : "unreadable";
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = "not_a_regular_file";
		close(fd);
		return NULL;
	}
	if (st.st_size > SNAPSHOT_MAX_BYTES) {
		*why = "too_large";
		close(fd);
		return NULL;
	}
	buf = malloc(SNAPSHOT_MAX_BYTES + 1);
	if (!buf) {
		*why = "out_of_memory";
		close(fd);
		return NULL;
	}
	/* The size may change under us: the bound is on what is read. */
	while (got <= SNAPSHOT_MAX_BYTES) {
		n = read(fd, buf + got, SNAPSHOT_MAX_BYTES + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > SNAPSHOT_MAX_BYTES) {
		*why = "too_large";
		free(buf);
		return NULL;
	}
	root = json_loadb(buf, got, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (!json_is_object(root)) {
		*why = root ? "not_an_object" : "not_json";
		json_decref(root);
		return NULL;
	}
	return root;
}

void snapshot_merge(enum event_type type, json_t *snap, json_t *props)
{
	enum key_source src;
	unsigned events;
	const char *key, *k;
	json_t *v;
	size_t i;
	int known;

	json_object_foreach(snap, key, v) {
		if (json_object_get(props, key))
			continue;
		known = 0;
		for (i = 0; (k = scrub_table_key(i, &events, &src)); i++) {
			if (strcmp(k, key) == 0) {
				known = 1;
				break;
			}
		}
		if (!known) {
			/* Unknown: the scrubber will name it and drop. */
			json_object_set(props, key, v);
			continue;
		}
		if (src == KEY_APP && (events & (1u << type)))
			json_object_set(props, key, v);
	}
}
