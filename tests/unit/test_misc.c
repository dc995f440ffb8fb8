/* Log quoting, the OOM counters of cgroup files, descendant marking. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../shim/descendants.h"
#include "../../shim/log.h"
#include "../../shim/oom.h"
#include "unit.h"

TEST(log_quote_plain_and_escaped)
{
	char buf[64];

	CHECK_STR(log_quote(buf, sizeof(buf), "sh"), "sh");
	CHECK_STR(log_quote(buf, sizeof(buf), "/usr/bin/app"), "/usr/bin/app");
	CHECK_STR(log_quote(buf, sizeof(buf), "a b"), "\"a b\"");
	CHECK_STR(log_quote(buf, sizeof(buf), "q\"\\"), "\"q\\\"\\\\\"");
	CHECK_STR(log_quote(buf, sizeof(buf), "x\ny"), "\"x\\x0ay\"");
	CHECK_STR(log_quote(buf, sizeof(buf), ""), "\"\"");
	/* Cut, never overflowing. */
	CHECK(strlen(log_quote(buf, 8, "a b c d e f g h")) < 8);
}

TEST(oom_count_parsing)
{
	CHECK_INT(oom_parse_count("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n"),
		  2);
	CHECK_INT(oom_parse_count("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
		  0);
	CHECK_INT(oom_parse_count("oom_kill_disable 0\nunder_oom 0\n"), -1);
	CHECK_INT(oom_parse_count(""), -1);
	CHECK_INT(oom_parse_count("oom_kill x\n"), -1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

TEST(oom_count_cgroup_layouts)
{
	char root[] = "/tmp/unit-oom-XXXXXX", p[512], cg[512];

	CHECK(mkdtemp(root) != NULL);
	snprintf(cg, sizeof(cg), "%s/cgroup", root);

	/* Nothing readable: unknown. */
	write_file(cg, "0::/\n");
	CHECK_INT(oom_kill_count_at(root, cg), -1);

	/* v1 inside a container: the mount root is our cgroup. */
	snprintf(p, sizeof(p), "%s/memory", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/memory/memory.oom_control", root);
	write_file(p, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	write_file(cg, "7:memory:/docker/abc\n0::/\n");
	CHECK_INT(oom_kill_count_at(root, cg), 1);

	/* v2 at a named path wins over the mount root. */
	snprintf(p, sizeof(p), "%s/sys.slice", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sys.slice/memory.events", root);
	write_file(p, "low 0\nhigh 0\nmax 0\noom 4\noom_kill 3\n");
	write_file(cg, "0::/sys.slice\n");
	CHECK_INT(oom_kill_count_at(root, cg), 3);

	snprintf(p, sizeof(p), "rm -rf %s", root);
	CHECK_INT(system(p), 0);
}

TEST(descendants_marked_through_generations)
{
	/* 10 -> 11 -> 12 -> 13, 10 -> 14; 20 and 21 belong elsewhere. */
	pid_t pids[] = { 13, 12, 11, 14, 20, 21, 10 };
	pid_t ppids[] = { 12, 11, 10, 10, 1, 20, 1 };
	unsigned char is[7];

	CHECK_INT(descendants_mark(pids, ppids, 7, 10, is), 4);
	CHECK(is[0] && is[1] && is[2] && is[3]);
	CHECK(!is[4] && !is[5] && !is[6]);
	CHECK_INT(descendants_mark(pids, ppids, 7, 99, is), 0);
}
