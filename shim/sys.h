/*
 * The few system calls of the signal and reap loop, made directly.
 *
 * libc's wrappers for these are cancellation points that go through
 * several layers per call; the init loop makes one or two of them per
 * signal and per orphan, so they are inlined here.  Each returns the
 * kernel's answer: a value, or -errno.  Other architectures fall back to
 * syscall(2), with errno turned back into -errno.
 */
#ifndef SHIM_SYS_H
#define SHIM_SYS_H

#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The kernel's sigset_t is 64 bits, not libc's 1024. */
#define KERNEL_SIGSET_BYTES 8

#if defined(__x86_64__)
static inline long sys4(long n, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}
#else
static inline long sys4(long n, long a, long b, long c, long d)
{
	long r = syscall(n, a, b, c, d);

	return r < 0 ? -errno : r;
}
#endif

static inline int sys_sigtimedwait(const uint64_t *set,
				   const struct timespec *timeout)
{
	return (int)sys4(SYS_rt_sigtimedwait, (long)set, 0, (long)timeout,
			 KERNEL_SIGSET_BYTES);
}

static inline pid_t sys_wait4(pid_t pid, int *status, int options)
{
	return (pid_t)sys4(SYS_wait4, pid, (long)status, options, 0);
}

static inline int sys_kill(pid_t pid, int sig)
{
	return (int)sys4(SYS_kill, pid, sig, 0, 0);
}

#endif
