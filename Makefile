# synthorg-shim: a static musl container init.
#
#   make            build build/synthorg-shim
#   make check      run every test (unit, scenario, container)
#   make demo       run the shim as PID 1 over a real workload

CC = musl-gcc
CFLAGS = -std=c11 -D_GNU_SOURCE -Os -g -Wall -Wextra -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
LDFLAGS = -static -Wl,--gc-sections
B = build

GIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
ifneq ($(GIT),)
CFLAGS += -DSHIM_GIT='"$(GIT)"'
endif

INIT_SRCS = shim/config.c shim/descendants.c shim/envparse.c \
	shim/exitcode.c shim/fds.c shim/log.c shim/oom.c shim/signals.c \
	shim/sigtab.c shim/spawn.c shim/supervise.c
SHIM_SRCS = shim/main.c $(INIT_SRCS)
SHIM_OBJS = $(SHIM_SRCS:shim/%.c=$(B)/obj/%.o)

all: $(B)/synthorg-shim

$(B)/obj/%.o: shim/%.c shim/*.h | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/synthorg-shim: $(SHIM_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(SHIM_OBJS)

$(B)/obj:
	mkdir -p $@

clean:
	rm -rf $(B)

.PHONY: all clean

# Unit tests: pure logic, linked from the same sources as the shim.
UNIT_SRCS = $(wildcard tests/unit/*.c)
UNIT_LIB_SRCS = $(filter-out shim/main.c shim/fds.c shim/spawn.c \
	shim/supervise.c shim/signals.c,$(INIT_SRCS))

$(B)/unit-tests: $(UNIT_SRCS) $(UNIT_LIB_SRCS) shim/*.h tests/unit/*.h
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ \
		$(UNIT_SRCS) $(UNIT_LIB_SRCS)

unit: $(B)/unit-tests
	$(B)/unit-tests

.PHONY: unit

# Small static programs the scenario tests run as the app.
HELPERS = probe sigprint orphans memhog
HELPER_BINS = $(HELPERS:%=$(B)/helpers/%)

$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Os -Wall -Wextra -static -o $@ $<

helpers: $(HELPER_BINS)

.PHONY: helpers
