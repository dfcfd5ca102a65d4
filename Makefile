# rp — one GNU make file for the library, the tools, the tests and the docs.
#
#   make                      build librp.a and every cmd/<tool> into build/
#   make check                build, then run unit tests, fuzz replays, bats
#   make SAN=address,undefined check
#                             the same under sanitizers, in build-san/
#   make WERROR=1 ...         warnings are errors (CI)
#   make bench | fuzz | install | uninstall | clean | deps | demo | test
#   make windows              cross-build for Windows with MinGW-w64, in
#                             build-win/ (see "Windows" below)
#   make test-windows         run the Windows tests under Wine
#
# Every cmd/<dir> but cmd/common/ (shared by all of them) becomes a binary
# named <dir>; every tests/unit/test_*.c a unit test; every
# tests/fuzz/fuzz_*.c a fuzz target.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
# Objects are never intermediate files: keep them for incremental builds.
.SECONDARY:

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
MANDIR    ?= $(PREFIX)/share/man
PCDIR     ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC        ?= cc
AR        ?= ar
PROTOC_C  ?= protoc-c
SCDOC     ?= scdoc
SAN       ?=
WERROR    ?= 0
# posix, or win (set by `make windows`): which lib/<platform>/ and
# tests/unit/<platform>/ are built, and with which compiler and flags.
PLATFORM  ?= posix

comma := ,
ifeq ($(PLATFORM),win)
B ?= build-win
else ifeq ($(SAN),)
B ?= build
else
B ?= build-san
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wold-style-definition -Wformat=2 \
	-Wformat-security -Wvla -Wimplicit-fallthrough -Wpointer-arith \
	-Wwrite-strings -Wundef -Wcast-align -Wnull-dereference \
	-Wredundant-decls -Wnested-externs -Wstrict-overflow=2
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT       ?= -O2 -g
HARDEN    := -fstack-protector-strong -fPIE -fstack-clash-protection
CPPFLAGS  += -D_GNU_SOURCE -DRP_VERSION='"$(VERSION)"' -Ilib -I$(B)/gen
BASEFLAGS := -std=c17 -pipe $(OPT) $(HARDEN)
LDHARDEN  := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

ifeq ($(SAN),)
CPPFLAGS  += -D_FORTIFY_SOURCE=2
else
# _FORTIFY_SOURCE and the sanitizers instrument the same calls; pick one.
BASEFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDHARDEN  += -fsanitize=$(SAN)
endif

CFLAGS    ?=
LDFLAGS   ?=
LIBS      := -lprotobuf-c -lsodium
ALL_CFLAGS  = $(BASEFLAGS) $(WARN) $(CFLAGS)
# Generated protobuf-c code is not ours to warn about beyond the basics.
GEN_CFLAGS  = $(BASEFLAGS) -Wall $(CFLAGS)
ALL_LDFLAGS = $(LDHARDEN) $(LDFLAGS)

# ---------------------------------------------------------------- sources

PROTO      := proto/rp_v1.proto
GEN_C      := $(B)/gen/rp_v1.pb-c.c
GEN_H      := $(B)/gen/rp_v1.pb-c.h
LIB_SRC    := $(sort $(wildcard lib/*.c lib/$(PLATFORM)/*.c))
# Public headers: every lib/*.h but the internal *_impl.h ones.
LIB_HDR    := $(filter-out %_impl.h,$(sort $(wildcard lib/*.h)))
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/rp_v1.pb-c.o
LIBRP      := $(B)/librp.a

# cmd/common/ is not a program: what every program's command line shares,
# linked into each of them.
TOOLS      := $(filter-out common,$(sort $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))))
CLI_OBJ    := $(patsubst %.c,$(B)/obj/%.o,$(wildcard cmd/common/*.c))
# (Recursive, as UNIT_BINS: the Windows section below narrows the lists
# and sets EXE.)
EXE        :=
TOOL_BINS   = $(TOOLS:%=$(B)/bin/%$(EXE))

# Example programs in C (examples/*.c): built on the public library
# interface alone, into $(B)/bin beside the tools (not installed).
EXAMPLE_BINS = $(patsubst examples/%.c,$(B)/bin/%$(EXE),$(wildcard examples/*.c))

UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
# Tests of one platform's layer alone: tests/unit/<platform>/test_*.c.
PLAT_UNIT_SRC := $(sort $(wildcard tests/unit/$(PLATFORM)/test_*.c))
UNIT_BINS   = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%$(EXE)) \
	$(PLAT_UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%$(EXE))
# The harness: tests/unit/t.c and the platform's runner.
UNIT_SUPPORT := $(filter-out tests/unit/test_% tests/unit/$(PLATFORM)/test_%, \
	$(wildcard tests/unit/*.c tests/unit/$(PLATFORM)/*.c))
UNIT_SUPPORT_OBJ := $(UNIT_SUPPORT:%.c=$(B)/obj/%.o)

# Helper programs for the bats suites: tests/helpers/<name>.c becomes
# $(B)/tests/helpers/<name>.
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS := $(HELPER_SRC:tests/helpers/%.c=$(B)/tests/helpers/%)

# LD_PRELOAD libraries for the bats suites: tests/preload/<name>.c becomes
# $(B)/tests/preload/<name>.so, built without the sanitizers (it is loaded
# in front of them).
PRELOAD_SRC := $(sort $(wildcard tests/preload/*.c))
PRELOAD_SOS := $(PRELOAD_SRC:tests/preload/%.c=$(B)/tests/preload/%.so)

FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(B)/tests/fuzz/%)

BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
# Code the bench programs share (bench/support/*.c): linked into each of
# them, never a benchmark of its own.
BENCH_SUPPORT_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard bench/support/*.c))

MAN_SRC    := $(sort $(wildcard doc/*.scd))
MAN_OUT    := $(MAN_SRC:doc/%.scd=$(B)/doc/%)

# ---------------------------------------------------------------- Windows
#
# `make windows` cross-builds for Windows with MinGW-w64 into build-win/:
# this Makefile again with PLATFORM=win, which builds every lib/*.c (so a
# POSIX call creeping into the portable library fails the build), then
# lib/win/*.c, the programs, examples/*.c, the unit tests
# in WIN_UNIT and tests/unit/win/, and the test programs of
# tests/win/helpers, as static .exe files that need no DLL beyond the
# system's.  libsodium and the protobuf-c runtime for Windows come from
# scripts/win-deps: Debian's source packages, built once into
# build-win/deps/.  `make test-windows` runs the tests under Wine
# (tests/run-windows).

WIN_B     ?= build-win
WIN_HOST  := x86_64-w64-mingw32
WIN_CC    ?= $(WIN_HOST)-gcc
WIN_AR    ?= $(WIN_HOST)-ar
# The portable unit tests that run as they are on Windows (the others
# use POSIX directly: fork, socketpair, /proc, modes); lib/win's own are
# tests/unit/win/test_*.c.
WIN_UNIT  := test_base test_blake3 test_broker_bout test_parse test_wire \
	test_wire_budget

windows:
	scripts/win-deps $(WIN_B)/deps
	$(MAKE) PLATFORM=win B=$(WIN_B) all tests

test-windows: windows
	B=$(WIN_B) tests/run-windows

ifeq ($(PLATFORM),win)
ifneq ($(SAN),)
$(error SAN= is for the POSIX build; the Windows build has no sanitizers)
endif
override CC := $(WIN_CC)
override AR := $(WIN_AR)
WIN_DEPS  ?= $(B)/deps/$(WIN_HOST)
# PE knows no PIE, relro or stack-clash probing: ASLR with high entropy,
# DEP, and the stack protector, whose runtime (-lssp) is linked in
# statically like everything else (a libssp-0.dll would be needed
# otherwise).
BASEFLAGS := -std=c17 -pipe $(OPT) -fstack-protector-strong
LDHARDEN  := -static -Wl,--dynamicbase,--high-entropy-va,--nxcompat
# The wide entry point of lib/win/main.c: arguments as UTF-8 for main().
LDHARDEN  += -municode
# MinGW's own stdio, for C99 formats (%zu) whatever msvcrt.dll knows; the
# static libsodium (its header would import from a DLL otherwise).
# lib/ by -iquote: its io.h must not hide the C runtime's <io.h>, which
# <unistd.h> includes there.
CPPFLAGS  := $(subst -Ilib ,-iquote lib ,$(CPPFLAGS))
CPPFLAGS  += -D__USE_MINGW_ANSI_STDIO=1 -DSODIUM_STATIC -I$(WIN_DEPS)/include \
	-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00
LIBS      := -L$(WIN_DEPS)/lib -lprotobuf-c -lsodium -lssp
EXE       := .exe
# Programs of the Windows end-to-end tests (tests/win/helpers/*.c): plain
# Win32, not built on librp, so the tools meet peers that are not ours.
HELPER_BINS := $(patsubst tests/win/helpers/%.c,$(B)/tests/win/%.exe, \
	$(wildcard tests/win/helpers/*.c))
UNIT_SRC  := $(WIN_UNIT:%=tests/unit/%.c)
FUZZ_REPLAY :=
PRELOAD_SOS :=
# The manual pages are the same for every platform: see $(B) = build/.
MAN_OUT   :=
endif

# ------------------------------------------------------------------ build

all: $(LIBRP) $(TOOL_BINS) $(EXAMPLE_BINS) $(MAN_OUT)

$(GEN_C) $(GEN_H) &: $(PROTO)
	@mkdir -p $(B)/gen
	$(PROTOC_C) -Iproto -I/usr/include --c_out=$(B)/gen $(PROTO)

$(B)/obj/gen/%.o: $(B)/gen/%.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/cmd/%.o: CPPFLAGS += -Icmd/common

$(B)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBRP): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# One rule per tool: every .c in cmd/<tool>/ links with cmd/common/ and
# librp.a.
define tool_rule
$(B)/bin/$(1)$(EXE): $(patsubst %.c,$(B)/obj/%.o,$(wildcard cmd/$(1)/*.c)) $(CLI_OBJ) $(LIBRP)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(B)/bin/%$(EXE): $(B)/obj/examples/%.o $(LIBRP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/unit/%$(EXE): $(B)/obj/tests/unit/%.o $(UNIT_SUPPORT_OBJ) $(LIBRP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter-out %.a,$^) \
	  $(filter %.a,$^) $(LIBS) -lpthread

# A program's leaf modules have unit tests too: tests/unit/test_<prog>_*.c
# sees cmd/rp-<prog>/'s headers, and UNIT_LINK_<test> names the objects
# it links besides librp.a (leaf modules link alone: no struct broker).
UNIT_LINK_test_broker_window    := cmd/rp-broker/window
UNIT_LINK_test_broker_ratelimit := cmd/rp-broker/ratelimit cmd/rp-broker/window
UNIT_LINK_test_broker_connq     := cmd/rp-broker/connq
UNIT_LINK_test_broker_hring     := cmd/rp-broker/hring
UNIT_LINK_test_broker_events    := cmd/rp-broker/events
UNIT_LINK_test_broker_metrics   := cmd/rp-broker/metrics
UNIT_LINK_test_broker_logq      := cmd/rp-broker/logq
UNIT_LINK_test_broker_bout      := cmd/rp-broker/bout
UNIT_LINK_test_broker_burst     := cmd/rp-broker/burst
UNIT_LINK_test_broker_refusal   := cmd/rp-broker/refusal

$(B)/obj/tests/unit/test_broker_%.o: CPPFLAGS += -Icmd/rp-broker -Icmd/common
$(foreach t,$(UNIT_SRC:tests/unit/%.c=%),$(if $(UNIT_LINK_$(t)),$(eval \
  $(B)/tests/unit/$(t)$(EXE): $(UNIT_LINK_$(t):%=$(B)/obj/%.o))))

$(B)/tests/helpers/%: $(B)/obj/tests/helpers/%.o $(LIBRP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/win/%.exe: tests/win/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -O2 $(WARN) $(CFLAGS) $(LDHARDEN) -o $@ $<

$(B)/tests/preload/%.so: tests/preload/%.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -D_GNU_SOURCE -pipe $(OPT) -fPIC -shared $(WARN) $(CFLAGS) \
	  -o $@ $<

# Under gcc each fuzz target links a replay main that runs saved inputs.
$(B)/tests/fuzz/%: $(B)/obj/tests/fuzz/%.o $(B)/obj/tests/fuzz/replay.o $(LIBRP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(BENCH_SUPPORT_OBJ) $(LIBRP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lpthread -lm

$(B)/doc/%: doc/%.scd
	@mkdir -p $(@D)
	$(SCDOC) < $< > $@

tests: $(UNIT_BINS) $(FUZZ_REPLAY) $(HELPER_BINS) $(PRELOAD_SOS)

# ------------------------------------------------------------------ check

check: all tests
	B=$(B) SAN=$(SAN) tests/run

check-unit: all tests
	B=$(B) SAN=$(SAN) tests/run unit

check-bats: all tests
	B=$(B) SAN=$(SAN) tests/run bats

bench: all $(BENCH_BINS)
	B=$(B) bench/run

# libFuzzer builds live in their own directory; FUZZ_SECONDS per target,
# FUZZ_TARGETS to run only some, FUZZ_FLAGS for libFuzzer options (e.g.
# -max_len=70000 to reach the 64 KiB Hello cap).  New inputs go to
# $(FUZZ_B)/corpus/<name>, crashes to $(FUZZ_B)/artifacts/<name>/ (copy the
# ones worth keeping into tests/fuzz/corpus/<name>/ once fixed).  UBSan
# must not recover, or libFuzzer would never see undefined behaviour.
FUZZ_B       ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_FLAGS   ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
fuzz:
	$(MAKE) B=$(FUZZ_B) CC=clang SAN= OPT='-O1 -g' \
	  CFLAGS='-fsanitize=fuzzer-no-link $(FUZZ_SAN)' $(FUZZ_B)/librp.a
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t"; \
	  clang -std=c17 -O1 -g -D_GNU_SOURCE -Ilib -I$(FUZZ_B)/gen \
	    -fsanitize=fuzzer $(FUZZ_SAN) -o $(FUZZ_B)/$$t \
	    tests/fuzz/$$t.c $(FUZZ_B)/librp.a $(LIBS); \
	  mkdir -p $(FUZZ_B)/corpus/$$t $(FUZZ_B)/artifacts/$$t; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  $(FUZZ_B)/$$t $$dict -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	    -artifact_prefix=$(FUZZ_B)/artifacts/$$t/ \
	    $(FUZZ_B)/corpus/$$t tests/fuzz/corpus/$$t; \
	done

# ---------------------------------------------------- the README commands

deps:
	scripts/deps

demo: deps
	$(MAKE) all
	B=$(B) examples/demo

test: deps
	$(MAKE) check

# ---------------------------------------------------------------- install
#
# make install puts the programs, librp.a, its public headers (in
# INCDIR/rp/), the man pages, rp.pc (pkg-config; librp is a static
# library, so a program links it with `pkg-config --static --libs rp`) and
# the bash completion (one file, under each program's name) under
# DESTDIR/PREFIX; make uninstall removes exactly those files, and
# INCDIR/rp/ when that leaves it empty.

# rp.pc for this PREFIX: protobuf-c is public (the headers use its
# types); libsodium is needed only to link the static library.
define RP_PC
prefix=$(PREFIX)
libdir=$(LIBDIR)
includedir=$(INCDIR)

Name: rp
Description: running-process broker v1 protocol: clients, backends, fd handoff
Version: $(VERSION)
Requires: libprotobuf-c
Requires.private: libsodium
Libs: -L$${libdir} -lrp
Cflags: -I$${includedir}
endef
export RP_PC

INSTALLED_BINS = $(TOOLS:%=$(BINDIR)/%)
INSTALLED_HDRS = $(notdir $(LIB_HDR) $(GEN_H))
INSTALLED_MANS = $(notdir $(filter %.1,$(MAN_OUT)))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(INCDIR)/rp $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(PCDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(LIBRP) $(DESTDIR)$(LIBDIR)
	install -m 0644 $(LIB_HDR) $(GEN_H) $(DESTDIR)$(INCDIR)/rp
	$(if $(MAN_OUT),install -m 0644 $(filter %.1,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man1)
	printf '%s\n' "$$RP_PC" > $(B)/rp.pc
	install -m 0644 $(B)/rp.pc $(DESTDIR)$(PCDIR)/rp.pc
	for t in $(TOOLS); do \
	  install -m 0644 completions/rp.bash $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_BINS)) \
	  $(DESTDIR)$(LIBDIR)/$(notdir $(LIBRP)) \
	  $(addprefix $(DESTDIR)$(INCDIR)/rp/,$(INSTALLED_HDRS)) \
	  $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(INSTALLED_MANS)) \
	  $(DESTDIR)$(PCDIR)/rp.pc \
	  $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(TOOLS))
	-rmdir $(DESTDIR)$(INCDIR)/rp 2>/dev/null

# $(WIN_B)/deps and $(WIN_B)/wine hold what came from outside (libraries
# built from Debian's sources, the Wine prefix): `rm -rf $(WIN_B)` drops
# them too.
clean:
	rm -rf build build-san build-clang $(FUZZ_B)
	rm -rf $(addprefix $(WIN_B)/,bin obj gen tests librp.a)

fmt:
	clang-format -i $(LIB_SRC) $(LIB_HDR) $(wildcard cmd/*/*.c cmd/*/*.h \
	  tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h bench/*.c \
	  bench/support/*.c bench/support/*.h)

lint: $(GEN_H)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE \
	  -DPROTOBUF_C_VERSION_NUMBER=1004001 \
	  -DPROTOBUF_C_MIN_COMPILER_VERSION=1000000 \
	  -Ilib -Icmd/common -I$(B)/gen lib cmd
	shellcheck -x scripts/* tests/run tests/run-windows bench/run .ci/run \
	  $(wildcard examples/demo bench/*.sh bench/support/*.sh)
	shellcheck -s bash completions/rp.bash

.PHONY: all tests check check-unit check-bats bench fuzz deps demo test \
	install uninstall clean fmt lint windows test-windows

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
