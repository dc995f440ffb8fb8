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
