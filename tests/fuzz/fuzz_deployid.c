/*
 * The deployment ID file, as anyone with access to the data volume may
 * have left it: the result is always a UUID; a valid file is loaded as it
 * is; anything else is repaired (or, failing that, replaced in memory).
 *
 * Input: one byte of scenario flags (below), then the file's content.
 * deployid.c and deliver.c are compiled with clock_gettime and nanosleep
 * renamed to the fuzz_ versions here (see tests/fuzz/run), so the waits
 * for a peer's partial write and for a stale file or claim cost no real
 * time: each nap moves a virtual clock forward instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../shim/deliver.h"
#include "../../shim/deployid.h"
#include "../../shim/rnd.h"
#include "fuzz.h"

enum {
	SC_FRESH = 1 << 0,	/* just written (else 60 s old) */
	SC_CLAIM = 1 << 1,	/* a repairer's claim is on the volume */
	SC_CLAIM_FRESH = 1 << 2, /* ... and it was just taken */
	SC_ABSENT = 1 << 3,	/* no file: ours to create */
	SC_SYMLINK = 1 << 4,	/* the name is a symlink to the content */
	SC_DIR = 1 << 5,	/* the name is a directory */
	SC_FIFO = 1 << 6,	/* the name is a FIFO */
};

#define TARGET "symlink_target"
#define OLD_S 60

static int64_t skew_ns;
static char dir[64];
static int dir_fd = -1;

int fuzz_clock_gettime(clockid_t id, struct timespec *ts);
int fuzz_nanosleep(const struct timespec *req, struct timespec *rem);

int fuzz_clock_gettime(clockid_t id, struct timespec *ts)
{
	int64_t ns;

	if (clock_gettime(id, ts) < 0)
		return -1;
	ns = (int64_t)ts->tv_nsec + skew_ns;
	ts->tv_sec += ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int fuzz_nanosleep(const struct timespec *req, struct timespec *rem)
{
	skew_ns += (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
	return 0;
}

static void clean(void)
{
	unlinkat(dir_fd, DEPLOYID_FILE, 0);
	unlinkat(dir_fd, DEPLOYID_FILE, AT_REMOVEDIR);
	unlinkat(dir_fd, DEPLOYID_CLAIM, 0);
	unlinkat(dir_fd, TARGET, 0);
}

static void remove_dir(void)
{
	clean();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof(dir), "%s/fuzz_deployid.XXXXXX", base);
	if (!mkdtemp(dir) ||
	    (dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror("fuzz_deployid: scratch directory");
		exit(1);
	}
	atexit(remove_dir);
	return 0;
}

/* Write NAME with DATA, modified AGO_S seconds before the virtual now. */
static void put(const char *name, const uint8_t *data, size_t size, int ago_s)
{
	struct timespec t[2];
	ssize_t n;
	int fd;

	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	FUZZ_CHECK(fd >= 0, "harness: create %s: %s", name, strerror(errno));
	while (size > 0) {
		n = write(fd, data, size);
		FUZZ_CHECK(n > 0, "harness: write %s", name);
		data += n;
		size -= (size_t)n;
	}
	close(fd);
	fuzz_clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= ago_s;
	t[1] = t[0];
	FUZZ_CHECK(utimensat(dir_fd, name, t, 0) == 0, "harness: utimensat");
}

/* The file's content, NUL-terminated, in BUF; -1 when unreadable. */
static ssize_t slurp(const char *name, char *buf, size_t size)
{
	ssize_t n;
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* An 8-4-4-4-12 hex UUID, written here apart from rnd.c's. */
static bool is_uuid(const char *s, size_t len)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (len != sizeof(shape) - 1)
		return false;
	for (i = 0; i < len; i++) {
		if (shape[i] == '-' ? s[i] != '-' :
		    !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	}
	return true;
}

/*
 * A UUID and then only line ends and blanks, the whole file at most 128
 * bytes: a longer file is not an ID file, whatever it starts with.
 */
static bool valid_content(const uint8_t *data, size_t size)
{
	if (size > 128)
		return false;
	while (size && strchr("\n\r ", data[size - 1]) && data[size - 1])
		size--;
	return is_uuid((const char *)data, size);
}

/* The file holds R's id; CLAIM_GONE when no claim may remain either. */
static void check_written(const struct deployid *r, bool claim_gone)
{
	char buf[256];

	FUZZ_CHECK(slurp(DEPLOYID_FILE, buf, sizeof(buf)) == UUID_TEXT_LEN + 1,
		   "file is not one UUID line after source %d", r->source);
	FUZZ_CHECK(memcmp(buf, r->id, UUID_TEXT_LEN) == 0 &&
		   buf[UUID_TEXT_LEN] == '\n', "file differs from the id");
	FUZZ_CHECK(!claim_gone || faccessat(dir_fd, DEPLOYID_CLAIM, F_OK, 0) < 0,
		   "claim left behind");
}

static void check_regular(const struct deployid *r, const uint8_t *data,
			  size_t size)
{
	char buf[4096];
	ssize_t n;

	if (valid_content(data, size)) {
		FUZZ_CHECK(r->source == DEPLOYID_LOADED,
			   "valid file not loaded: source %d error %s",
			   r->source, r->error ? r->error : "-");
		FUZZ_CHECK(memcmp(r->id, data, UUID_TEXT_LEN) == 0,
			   "loaded id differs from the file");
		n = slurp(DEPLOYID_FILE, buf, sizeof(buf));
		FUZZ_CHECK(n == (ssize_t)size || size >= sizeof(buf) - 1,
			   "valid file rewritten");
		FUZZ_CHECK(n < 0 || memcmp(buf, data, (size_t)n) == 0,
			   "valid file rewritten");
		return;
	}
	FUZZ_CHECK(r->source == DEPLOYID_REPAIRED ||
		   r->source == DEPLOYID_GENERATED,
		   "invalid file (%zu bytes) gave source %d", size, r->source);
	if (r->source == DEPLOYID_REPAIRED)
		check_written(r, true);
	else
		FUZZ_CHECK(r->error != NULL, "generated without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deployid r;
	unsigned sc;

	/* uuid_valid against the shape above, on the raw input. */
	FUZZ_CHECK(!uuid_valid((const char *)data, size) ==
		   !is_uuid((const char *)data, size), "uuid_valid disagrees");
	if (size == 0)
		return 0;
	sc = data[0];
	data++;
	size--;
	skew_ns = 0;
	clean();
	if (sc & SC_CLAIM)
		put(DEPLOYID_CLAIM, (const uint8_t *)"", 0,
		    sc & SC_CLAIM_FRESH ? 0 : OLD_S);
	if (sc & SC_ABSENT) {
		/* nothing */
	} else if (sc & SC_SYMLINK) {
		put(TARGET, data, size, OLD_S);
		FUZZ_CHECK(symlinkat(TARGET, dir_fd, DEPLOYID_FILE) == 0,
			   "harness: symlink");
	} else if (sc & SC_DIR) {
		FUZZ_CHECK(mkdirat(dir_fd, DEPLOYID_FILE, 0755) == 0,
			   "harness: mkdir");
	} else if (sc & SC_FIFO) {
		FUZZ_CHECK(mkfifoat(dir_fd, DEPLOYID_FILE, 0644) == 0,
			   "harness: mkfifo");
	} else {
		put(DEPLOYID_FILE, data, size, sc & SC_FRESH ? 0 : OLD_S);
	}

	deployid_get(dir_fd, mono_ms() + 5000, &r);

	FUZZ_CHECK(is_uuid(r.id, strlen(r.id)), "result is not a UUID");
	if (sc & SC_ABSENT) {
		FUZZ_CHECK(r.source == DEPLOYID_CREATED,
			   "no file, yet source %d", r.source);
		/* A creator never looks at a claim: one left stays. */
		check_written(&r, !(sc & SC_CLAIM));
	} else if (sc & SC_SYMLINK) {
		FUZZ_CHECK(r.source == DEPLOYID_GENERATED && r.error &&
			   strcmp(r.error, "symlink_refused") == 0,
			   "symlink followed: source %d", r.source);
	} else if (sc & (SC_DIR | SC_FIFO)) {
		FUZZ_CHECK(r.source == DEPLOYID_GENERATED && r.error &&
			   strcmp(r.error, "not_a_regular_file") == 0,
			   "not a regular file, yet source %d", r.source);
	} else {
		check_regular(&r, data, size);
	}
	return 0;
}
