/* A small unit test harness: TEST(name) registers, CHECK* report. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);

void unit_register(const char *name, unit_fn fn);
void unit_fail(const char *file, int line, const char *what);

extern int unit_failures;

#define TEST(name)							\
	static void name(void);						\
	__attribute__((constructor)) static void reg_##name(void)	\
	{								\
		unit_register(#name, name);				\
	}								\
	static void name(void)

#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			unit_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

#define CHECK_INT(got, want)						\
	do {								\
		long long g_ = (long long)(got), w_ = (long long)(want); \
		if (g_ != w_) {						\
			char m_[256];					\
			snprintf(m_, sizeof(m_), "%s == %lld, want %lld", \
				 #got, g_, w_);				\
			unit_fail(__FILE__, __LINE__, m_);		\
		}							\
	} while (0)

#define CHECK_STR(got, want)						\
	do {								\
		const char *g_ = (got), *w_ = (want);			\
		if (!g_ || strcmp(g_, w_) != 0) {			\
			char m_[512];					\
			snprintf(m_, sizeof(m_),			\
				 "%.100s == \"%.180s\", want \"%.180s\"",	\
				 #got, g_ ? g_ : "(null)", w_);		\
			unit_fail(__FILE__, __LINE__, m_);		\
		}							\
	} while (0)

#endif
