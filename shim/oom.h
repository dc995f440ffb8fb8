/* Whether the container's memory cgroup counted an OOM kill. */
#ifndef SHIM_OOM_H
#define SHIM_OOM_H

/*
 * The oom_kill count of the memory cgroup the shim runs in (cgroup v2
 * memory.events or v1 memory.oom_control), or -1 when none can be read.
 */
long oom_kill_count(void);

/*
 * The same, from a cgroup file system mounted at ROOT with /proc/self/cgroup
 * content CGROUP_FILE; split out so tests can point it at fixtures.
 */
long oom_kill_count_at(const char *root, const char *cgroup_file);

/* Find "oom_kill N" in the text of a memory.events or memory.oom_control. */
long oom_parse_count(const char *text);

#endif
