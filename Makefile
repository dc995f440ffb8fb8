# synthorg-shim: a static musl container init.
#
#   make              build build/synthorg-shim (static, musl)
#   make check        every test: unit, PID namespace, container, hardening
#   make demo         run the shim as PID 1 over a real workload
#   make asan         the glibc + ASan/UBSan variant, build/asan/synthorg-shim
#   make bench        the side-by-side benchmark (bench/results.md)
#
# The static build links libraries built by scripts/build-deps from pinned
# Debian sources (scripts/deps.lock) into a cache keyed by the lock.

B = build
CA_BUNDLE_SRC ?= /etc/ssl/certs/ca-certificates.crt

all: $(B)/synthorg-shim

CC = musl-gcc
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS = -std=c11 -D_GNU_SOURCE -Os -g $(WARN) -ffunction-sections \
	-fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-merge-constants
LDFLAGS = -static -Wl,--gc-sections

# The prefix of the static dependencies, and its libs.mk (DEPS_*).  The
# include makes make run build-deps first when the cache lacks them.
DEPS_PREFIX := $(shell scripts/build-deps --print-prefix)
include $(DEPS_PREFIX)/libs.mk
# The prefix is keyed by the lock and the script, so missing is all that
# matters here.
$(DEPS_PREFIX)/libs.mk:
	scripts/build-deps >/dev/null

SRCS = $(sort $(wildcard shim/*.c))
OBJS = $(SRCS:shim/%.c=$(B)/obj/%.o)

# Link order is memory: the kernel maps 64 KiB around each page the init
# touches, so what runs at every start (the init, and the libc it uses,
# pulled in by the -lc that follows it) goes first, and what only runs
# with telemetry on (its modules, the CA bundle, the libraries) after.
INIT_MODS = main config descendants envparse exitcode fds log oom signals \
	sigtab spawn supervise tconfig telemetry embed
INIT_OBJS = $(INIT_MODS:%=$(B)/obj/%.o)
REST_OBJS = $(filter-out $(INIT_OBJS) $(B)/obj/cabundle.o,$(OBJS)) \
	$(B)/obj/cabundle.o
HDRS = $(wildcard shim/*.h)

# Sources with no system effect, shared by the unit tests and fuzzers.
PURE_SRCS = shim/config.c shim/descendants.c shim/envparse.c \
	shim/exitcode.c shim/log.c shim/oom.c shim/sigtab.c shim/tconfig.c \
	shim/scrub.c shim/report.c shim/rnd.c shim/spool.c shim/snapshot.c \
	shim/deployid.c shim/deliver.c shim/docker_probe.c shim/embed.c \
	shim/cabundle.c

# The version line names the commit when there is one; a stamp file makes
# the object that prints it follow HEAD.
GIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
$(B)/git-stamp: FORCE | $(B)/obj
	@echo '$(GIT)' | cmp -s - $@ || echo '$(GIT)' > $@
$(B)/obj/main.o: $(B)/git-stamp
$(B)/obj/main.o: CFLAGS += $(if $(GIT),-DSHIM_GIT='"$(GIT)"')

# The CA bundle is copied first, so the binary embeds a stable input.
$(B)/ca-bundle.crt: $(CA_BUNDLE_SRC) | $(B)/obj
	cp $< $@
$(B)/obj/cabundle.o: $(B)/ca-bundle.crt
$(B)/obj/cabundle.o: CFLAGS += -DCA_BUNDLE_PATH='"$(abspath $(B)/ca-bundle.crt)"'

$(B)/obj/%.o: shim/%.c $(HDRS) $(DEPS_PREFIX)/libs.mk | $(B)/obj
	$(CC) $(CFLAGS) $(DEPS_CFLAGS) -c -o $@ $<

# OpenSSL registers a constructor (its CPU feature probe) in .init, which
# would run, and page in OpenSSL's code, at every start of every shim,
# telemetry or not.  OPENSSL_init_crypto runs the same probe itself when
# telemetry starts, so the copy linked here goes without the constructor.
$(B)/deps/libcrypto.a: $(DEPS_PREFIX)/lib/libcrypto.a
	@mkdir -p $(@D)
	objcopy --remove-section=.init $< $@

$(B)/synthorg-shim: $(OBJS) $(B)/deps/libcrypto.a
	$(CC) $(LDFLAGS) -L$(B)/deps $(DEPS_LDFLAGS) -o $@ $(INIT_OBJS) -lc \
		$(REST_OBJS) $(DEPS_LIBS)
	@file $@ | grep -q 'statically linked' || \
		{ echo "$@ is not statically linked" >&2; rm -f $@; exit 1; }

$(B)/obj:
	mkdir -p $@

# Unit tests: pure logic, from the same sources, with the same compiler.
UNIT_SRCS = $(sort $(wildcard tests/unit/*.c))

$(B)/unit-tests: $(UNIT_SRCS) $(PURE_SRCS) $(HDRS) tests/unit/unit.h \
		$(B)/ca-bundle.crt
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(DEPS_CFLAGS) \
		-DCA_BUNDLE_PATH='"$(abspath $(B)/ca-bundle.crt)"' \
		$(LDFLAGS) $(DEPS_LDFLAGS) -o $@ $(UNIT_SRCS) $(PURE_SRCS) \
		$(DEPS_LIBS)

# Small static programs the scenario tests run as the app.
HELPERS = probe sigprint orphans memhog
HELPER_BINS = $(HELPERS:%=$(B)/helpers/%)

$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Os -Wall -Wextra -static -o $@ $<

helpers: $(HELPER_BINS)

unit: $(B)/unit-tests
	$(B)/unit-tests

# --- Tests --------------------------------------------------------------
#
# check is the one test command (README, .ci/run): unit tests, the receiver
# that stands in for Logfire, the scenarios as PID 1 (PID namespace and
# real containers), the image build, then the hardening runs.

PYTEST = /usr/bin/python3 -m pytest -q -p no:cacheprovider
FUZZ_SECONDS ?= 30

check: all helpers $(B)/unit-tests
	$(B)/unit-tests
	$(PYTEST) tests/receiver tests/scenario
	$(MAKE) hardening

# The whole scenario suite again against the sanitizer build; what only
# the static release binary can do (the image build) is left out by marker.
check-asan: asan helpers
	$(B)/asan/unit-tests
	SHIM=$(abspath $(B)/asan/synthorg-shim) $(PYTEST) -m "not static_build" \
		tests/scenario

check-valgrind: dyn helpers
	$(PYTEST) tests/hardening/test_valgrind.py

check-fuzz:
	tests/fuzz/run --regress
	tests/fuzz/run $(FUZZ_SECONDS)

check-stress: all helpers
	$(PYTEST) tests/hardening/test_stress.py

hardening: check-asan check-valgrind check-fuzz check-stress

# --- The demo: a real workload as PID 1, telemetry on, events printed ---

demo: all
	scripts/demo

bench:
	bench/run

# The hardening variant: glibc, Debian's -dev libraries, clang's
# AddressSanitizer and UndefinedBehaviorSanitizer (neither supports musl
# or static linking).  Same sources, same tests.
ASAN_CC = clang
ASAN_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all $(WARN) \
	-DCA_BUNDLE_PATH='"$(abspath $(B)/ca-bundle.crt)"'
ASAN_LIBS = -lcurl -lssl -lcrypto -ljansson -lseccomp -lpthread

$(B)/asan/synthorg-shim: $(SRCS) $(HDRS) $(B)/ca-bundle.crt
	@mkdir -p $(@D)
	$(ASAN_CC) $(ASAN_CFLAGS) $(if $(GIT),-DSHIM_GIT='"$(GIT)"') -o $@ \
		$(SRCS) $(ASAN_LIBS)

$(B)/asan/unit-tests: $(UNIT_SRCS) $(PURE_SRCS) $(HDRS) tests/unit/unit.h \
		$(B)/ca-bundle.crt
	@mkdir -p $(@D)
	$(ASAN_CC) $(ASAN_CFLAGS) -Wno-missing-prototypes -o $@ $(UNIT_SRCS) \
		$(PURE_SRCS) $(ASAN_LIBS)

asan: $(B)/asan/synthorg-shim $(B)/asan/unit-tests

# A plain glibc build for valgrind, which cannot see malloc in a static
# binary.
$(B)/dyn/synthorg-shim: $(SRCS) $(HDRS) $(B)/ca-bundle.crt
	@mkdir -p $(@D)
	gcc -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) \
		-DCA_BUNDLE_PATH='"$(abspath $(B)/ca-bundle.crt)"' -o $@ \
		$(SRCS) $(ASAN_LIBS)

dyn: $(B)/dyn/synthorg-shim

clean:
	rm -rf $(B)

FORCE:

.PHONY: all asan bench check check-asan check-fuzz check-stress \
	check-valgrind clean demo dyn hardening helpers unit FORCE
