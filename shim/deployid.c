/* The deployment ID: one UUID per data volume, shared by its replicas. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "deployid.h"

/* "uuid\n" and room to see that a file holds more than that. */
#define READ_MAX 128

enum peek {
	PEEK_VALID,
	PEEK_INVALID,	/* exists, regular, not a UUID (yet) */
	PEEK_MISSING,
	PEEK_ERROR,
};

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t age_ms(const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return ((int64_t)now.tv_sec - st->st_mtim.tv_sec) * 1000 +
	       (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
}

/* Read NAME: a UUID into ID, or why not; *AGE is its age in ms. */
static enum peek peek(int dirfd, const char *name, char *id, int64_t *age,
		      int *err)
{
	char buf[READ_MAX + 2];
	struct stat st = { .st_mode = S_IFREG };
	ssize_t n;
	size_t len;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK);
	if (fd < 0) {
		*err = errno;
		return errno == ENOENT ? PEEK_MISSING : PEEK_ERROR;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*err = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return PEEK_ERROR;
	}
	*age = age_ms(&st);
	/* One byte past the limit: a longer file is not an ID file. */
	do
		n = read(fd, buf, READ_MAX + 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0) {
		*err = errno;
		return PEEK_ERROR;
	}
	if (n > READ_MAX)
		return PEEK_INVALID;
	len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' ||
		       buf[len - 1] == '\r'))
		len--;
	if (!uuid_valid(buf, len))
		return PEEK_INVALID;
	memcpy(id, buf, UUID_TEXT_LEN);
	id[UUID_TEXT_LEN] = '\0';
	return PEEK_VALID;
}

/* Write "ID\n" into FD in one write and flush it to the volume. */
static int write_id(int fd, const char *id)
{
	char line[UUID_TEXT_LEN + 1];
	ssize_t n;

	memcpy(line, id, UUID_TEXT_LEN);
	line[UUID_TEXT_LEN] = '\n';
	do
		n = write(fd, line, sizeof(line));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(line))
		return -1;
	return fsync(fd);
}

/* Try to be the creator.  1: created; 0: someone else was; -1: error. */
static int try_create(int dirfd, struct deployid *r)
{
	int fd;

	fd = openat(dirfd, DEPLOYID_FILE,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r->err = errno;
		return errno == EEXIST ? 0 : -1;
	}
	if (rnd_uuid(r->id) < 0 || write_id(fd, r->id) < 0) {
		r->err = errno;
		close(fd);
		/* Left empty or partial: a peer repairs it once it is stale. */
		return -1;
	}
	close(fd);
	r->source = DEPLOYID_CREATED;
	return 1;
}

/*
 * Replace an invalid telemetry_id.  The claim file, created O_EXCL, makes
 * one repairer at a time; the claim is renamed over the invalid file,
 * which releases it.  1: repaired or a peer's repair adopted; 0: try
 * again later; -1: error.
 */
static int try_repair(int dirfd, struct deployid *r)
{
	char other[UUID_TEXT_LEN + 1];
	int64_t age = 0;
	int fd, err = 0;

	fd = openat(dirfd, DEPLOYID_CLAIM,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno != EEXIST) {
			r->err = errno;
			return -1;
		}
		/* A claim no live repairer would leave this long: clear it. */
		/* XXX: a repairer stalled over 2 s could rename a peer's fresh
		 * claim; the peers then wait out the stale age once more. */
		if (peek(dirfd, DEPLOYID_CLAIM, other, &age, &err) !=
		    PEEK_ERROR && age > DEPLOYID_STALE_MS)
			unlinkat(dirfd, DEPLOYID_CLAIM, 0);
		return 0;
	}
	/* Holding the claim: a repair that finished meanwhile stands. */
	if (peek(dirfd, DEPLOYID_FILE, r->id, &age, &err) == PEEK_VALID) {
		close(fd);
		unlinkat(dirfd, DEPLOYID_CLAIM, 0);
		r->source = DEPLOYID_LOADED;
		return 1;
	}
	if (rnd_uuid(r->id) < 0 || write_id(fd, r->id) < 0) {
		r->err = errno;
		close(fd);
		unlinkat(dirfd, DEPLOYID_CLAIM, 0);
		return -1;
	}
	if (renameat(dirfd, DEPLOYID_CLAIM, dirfd, DEPLOYID_FILE) < 0) {
		/* Our claim was taken for stale: read what the peer made. */
		close(fd);
		return 0;
	}
	close(fd);
	r->source = DEPLOYID_REPAIRED;
	return 1;
}

static void generated(struct deployid *r, const char *why)
{
	r->source = DEPLOYID_GENERATED;
	r->error = why;
	if (rnd_uuid(r->id) < 0)
		memcpy(r->id, "00000000-0000-4000-8000-000000000000",
		       UUID_TEXT_LEN + 1);
}

void deployid_get(int dirfd, int64_t deadline_ms, struct deployid *r)
{
	int64_t invalid_since = -1, age = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	while (mono_ms() < deadline_ms) {
		switch (peek(dirfd, DEPLOYID_FILE, r->id, &age, &r->err)) {
		case PEEK_VALID:
			r->source = DEPLOYID_LOADED;
			r->err = 0;
			return;
		case PEEK_MISSING:
			rc = try_create(dirfd, r);
			if (rc > 0)
				return;
			if (rc < 0) {
				generated(r, "create_failed");
				return;
			}
			continue;	/* a peer created it: read theirs */
		case PEEK_ERROR:
			generated(r, r->err == ELOOP ? "symlink_refused" :
				  r->err == EINVAL ? "not_a_regular_file" :
				  "read_failed");
			return;
		case PEEK_INVALID:
			break;
		}
		/* Empty or not a UUID: maybe a peer between create and write. */
		if (invalid_since < 0)
			invalid_since = mono_ms();
		if (mono_ms() - invalid_since < DEPLOYID_PARTIAL_WINDOW_MS ||
		    age < DEPLOYID_STALE_MS) {
			nap_ms(10);
			continue;
		}
		rc = try_repair(dirfd, r);
		if (rc > 0)
			return;
		if (rc < 0) {
			generated(r, "repair_failed");
			return;
		}
		nap_ms(10);
	}
	generated(r, "deadline");
}
