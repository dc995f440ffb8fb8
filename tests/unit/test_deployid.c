/* The deployment ID on a real file system, raced by real processes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../shim/deliver.h"
#include "../../shim/deployid.h"
#include "unit.h"

static int open_tmpdir(char *path)
{
	strcpy(path, "/tmp/unit-deployid-XXXXXX");
	if (!mkdtemp(path))
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY);
}

static void rm_tree(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	CHECK_INT(system(cmd), 0);
}

static void put(int dirfd, const char *name, const char *text, int age_s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct timespec t[2];

	CHECK(fd >= 0);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		unit_fail(__FILE__, __LINE__, "short write");
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	futimens(fd, t);
	close(fd);
}

static void slurp(int dirfd, char *out, size_t size)
{
	int fd = openat(dirfd, DEPLOYID_FILE, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, out, size - 1) : -1;

	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

TEST(created_then_loaded)
{
	char dir[64], text[128];
	struct deployid a, b;
	int d = open_tmpdir(dir);

	deployid_get(d, mono_ms() + 5000, &a);
	CHECK_INT(a.source, DEPLOYID_CREATED);
	CHECK(uuid_valid(a.id, strlen(a.id)));
	slurp(d, text, sizeof(text));
	CHECK_INT(strlen(text), 37);
	CHECK(!strncmp(text, a.id, 36) && text[36] == '\n');
	deployid_get(d, mono_ms() + 5000, &b);
	CHECK_INT(b.source, DEPLOYID_LOADED);
	CHECK_STR(b.id, a.id);
	close(d);
	rm_tree(dir);
}

TEST(stale_empty_or_garbage_file_is_repaired)
{
	static const char *const junk[] = { "", "not-a-uuid\n",
		"3a5ad78e-be37-472c-b30c-2c4ffa33f1c\n" };
	char dir[64], text[128];
	struct deployid r;
	size_t i;

	for (i = 0; i < 3; i++) {
		int d = open_tmpdir(dir);

		put(d, DEPLOYID_FILE, junk[i], 60);
		deployid_get(d, mono_ms() + 5000, &r);
		CHECK_INT(r.source, DEPLOYID_REPAIRED);
		slurp(d, text, sizeof(text));
		CHECK(!strncmp(text, r.id, 36));
		CHECK(faccessat(d, DEPLOYID_CLAIM, F_OK, 0) < 0);
		close(d);
		rm_tree(dir);
	}
}

TEST(uuid_followed_by_padding_and_junk_is_not_an_id)
{
	char dir[64], text[300];
	struct deployid r;
	int d = open_tmpdir(dir);

	/* Past the first 128 bytes lies junk: the whole file is what counts. */
	snprintf(text, sizeof(text), "%s%0100d11\n",
		 "3a5ad78e-be37-472c-b30c-2c4ffa33f1ca", 0);
	memset(text + 36, '\n', 100);
	put(d, DEPLOYID_FILE, text, 60);
	deployid_get(d, mono_ms() + 5000, &r);
	CHECK_INT(r.source, DEPLOYID_REPAIRED);
	close(d);
	rm_tree(dir);
}

TEST(fresh_empty_file_waits_for_its_writer)
{
	static const char id[] = "3a5ad78e-be37-472c-b30c-2c4ffa33f1ca";
	char dir[64], line[40];
	struct deployid r;
	int d = open_tmpdir(dir), fd;
	pid_t pid;

	/* A peer won O_EXCL and is slow to write its UUID. */
	fd = openat(d, DEPLOYID_FILE, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 400 * 1000000 };

		nanosleep(&ts, NULL);
		snprintf(line, sizeof(line), "%s\n", id);
		_exit(write(fd, line, 37) == 37 ? 0 : 1);
	}
	close(fd);
	deployid_get(d, mono_ms() + 5000, &r);
	waitpid(pid, NULL, 0);
	CHECK_INT(r.source, DEPLOYID_LOADED);
	CHECK_STR(r.id, id);
	close(d);
	rm_tree(dir);
}

TEST(symlink_and_directory_are_not_followed)
{
	char dir[64], target[128], text[64];
	struct deployid r;
	int d = open_tmpdir(dir), t;

	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	CHECK_INT(symlinkat(target, d, DEPLOYID_FILE), 0);
	deployid_get(d, mono_ms() + 5000, &r);
	CHECK_INT(r.source, DEPLOYID_GENERATED);
	CHECK_STR(r.error, "symlink_refused");
	CHECK(uuid_valid(r.id, strlen(r.id)));
	/* Nothing was created through the link. */
	CHECK(faccessat(d, "elsewhere", F_OK, 0) < 0);
	unlinkat(d, DEPLOYID_FILE, 0);
	CHECK_INT(mkdirat(d, DEPLOYID_FILE, 0755), 0);
	deployid_get(d, mono_ms() + 5000, &r);
	CHECK_INT(r.source, DEPLOYID_GENERATED);
	CHECK_STR(r.error, "not_a_regular_file");
	t = openat(d, "x", O_WRONLY | O_CREAT, 0644);
	close(t);
	(void)text;
	close(d);
	rm_tree(dir);
}

TEST(past_deadline_means_memory_only)
{
	char dir[64];
	struct deployid r;
	int d = open_tmpdir(dir);

	deployid_get(d, mono_ms() - 1, &r);
	CHECK_INT(r.source, DEPLOYID_GENERATED);
	CHECK_STR(r.error, "deadline");
	CHECK(faccessat(d, DEPLOYID_FILE, F_OK, 0) < 0);
	close(d);
	rm_tree(dir);
}

#define RACERS 24

/* RACERS processes start together on DIRFD; all must end with one ID. */
static void race(int dirfd, int *created, int *repaired)
{
	int go[2], res[2], i;
	char ids[RACERS][UUID_TEXT_LEN + 1];
	struct deployid r;
	pid_t pids[RACERS];

	CHECK_INT(pipe(go), 0);
	CHECK_INT(pipe(res), 0);
	for (i = 0; i < RACERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;

			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(2);
			deployid_get(dirfd, mono_ms() + 5000, &r);
			if (write(res[1], &r, sizeof(r)) != sizeof(r))
				_exit(3);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);		/* EOF: everyone goes at once */
	close(res[1]);
	*created = *repaired = 0;
	for (i = 0; i < RACERS; i++) {
		CHECK_INT(read(res[0], &r, sizeof(r)), sizeof(r));
		CHECK(r.source != DEPLOYID_GENERATED);
		*created += r.source == DEPLOYID_CREATED;
		*repaired += r.source == DEPLOYID_REPAIRED;
		memcpy(ids[i], r.id, sizeof(ids[i]));
	}
	for (i = 0; i < RACERS; i++) {
		waitpid(pids[i], NULL, 0);
		CHECK_STR(ids[i], ids[0]);
	}
	close(res[0]);
}

TEST(replicas_racing_converge_on_one_id)
{
	char dir[64];
	int d = open_tmpdir(dir), created, repaired;

	race(d, &created, &repaired);
	CHECK_INT(created, 1);
	CHECK_INT(repaired, 0);
	close(d);
	rm_tree(dir);
}

TEST(replicas_racing_a_repair_converge_on_one_id)
{
	char dir[64];
	int d = open_tmpdir(dir), created, repaired;

	put(d, DEPLOYID_FILE, "garbage", 60);
	race(d, &created, &repaired);
	CHECK_INT(created, 0);
	CHECK_INT(repaired, 1);
	CHECK(faccessat(d, DEPLOYID_CLAIM, F_OK, 0) < 0);
	close(d);
	rm_tree(dir);
}
