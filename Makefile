# SPDX-License-Identifier: GPL-2.0-only
# hvmd: one plain GNU Makefile for the device model (hvmd), the toolstack (hvmctl), the tests
# and the nested-Xen test bed.
#
#   make                 build build/hvmd and build/hvmctl
#   make check           everything: unit tests (plain and ASan+UBSan), fuzz smoke runs, host
#                        tests, boot scenarios; ends with "N passed, N failed"
#   make check-unit      only the unit tests (seconds)
#   make fuzz-long       every fuzz target for HVMD_FUZZ_SECONDS (default 3600) and its
#                        per-file edge coverage (build/fuzz-long/)
#   make bed             the nested-Xen test bed under build/bed (Debian packages only)
#   make boot S="a b"    boot scenarios on the bed (default: all)
#   make demo            boot an HVM guest from an ISO on real Xen nested in QEMU, live
#   make bench           the figures (hvmd / qemu-xen ratios) into build/bench
#   make profile         round trips per port and phase of one ISO boot, hvmd and qemu-xen
#                        (BOOT=kernel: of one direct kernel boot)
#   make install         PREFIX=/usr/local DESTDIR=
# Sources are found by directory, one folder deep: dm/ devices/ firmware/ pvdrivers/ make hvmd
# (dm/main.c holds main), toolstack/ makes hvmctl (toolstack/hvmctl.c holds main); tests/lib/ is
# linked into tests only; tests/unit/test_*.c are cmocka tests, tests/fuzz/fuzz_*.c libFuzzer
# targets. Includes are path-qualified from the top ("dm/bus.h"); tests/includes checks their
# direction.

CC      ?= gcc
CLANG   ?= clang
PREFIX  ?= /usr
DESTDIR ?=
B       := build
# the test targets build with a job per core (make check on a 2-core CI machine: half the time)
NPROC   := $(shell nproc 2>/dev/null || echo 2)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wvla -Wundef -Wwrite-strings -Wimplicit-fallthrough \
        -Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif
ifdef WERROR
WARN += -Werror
endif

CFLAGS   ?= -O2 -g
# full RELRO and immediate binding for the two programs (dpkg-buildflags' hardening=+all too)
LDFLAGS  ?= -Wl,-z,relro,-z,now
# the version is debian/changelog's (the package and the binaries say the same)
VERSION  := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
CPPFLAGS += -D_GNU_SOURCE -I. $(if $(VERSION),-DHVMD_VERSION='"$(VERSION)"')
BASEFLAGS = -std=gnu11 $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2
SANFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

HVMD_PKGS   := xencontrol xendevicemodel xenevtchn xenforeignmemory xengnttab xenstore xentoolcore xentoollog yajl libpng libvncserver
HVMCTL_PKGS := xenlight xlutil xentoollog xenstore xencontrol yajl libmnl libnftables
HVMD_LIBS   = $(shell pkg-config --libs $(HVMD_PKGS) 2>/dev/null) -laio -lseccomp -lutil
HVMCTL_LIBS = $(shell pkg-config --libs $(HVMCTL_PKGS) 2>/dev/null)
PKG_CFLAGS  = $(shell pkg-config --cflags $(HVMD_PKGS) $(HVMCTL_PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

# sources one folder deeper too (devices/ide/, toolstack/xl/, ...)
srcs_under = $(sort $(foreach d,$(1),$(wildcard $(d)/*.c $(d)/*/*.c)))
DM_SRCS  := $(call srcs_under,dm devices firmware pvdrivers)
# tests/lib (the in-process fake hypervisor and guest-side helpers) is linked into tests only
TESTLIB_SRCS := $(call srcs_under,tests/lib)
LIB_SRCS := $(filter-out dm/main.c,$(DM_SRCS)) $(TESTLIB_SRCS)
TS_SRCS  := $(call srcs_under,toolstack)
TSLIB_SRCS := $(filter-out toolstack/hvmctl.c,$(TS_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# unit tests named test_ts_* exercise the toolstack, the others hvmd
unit_libsrcs = $(if $(findstring test_ts_,$(1)),$(TSLIB_SRCS),$(LIB_SRCS))
unit_libs    = $(if $(findstring test_ts_,$(1)),$(HVMCTL_LIBS),$(HVMD_LIBS))
# objects of those sources in tree $(1) (obj, asan-obj) for test $(2); a function, because a
# literal % in a pattern rule's prerequisites would be taken for the rule's stem
unit_objs    = $(patsubst %.c,$(B)/$(1)/%.o,$(call unit_libsrcs,$(2)))

BINS := $(if $(wildcard dm/main.c),$(B)/hvmd) $(if $(wildcard toolstack/hvmctl.c),$(B)/hvmctl)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
ASAN_BINS := $(patsubst tests/unit/%.c,$(B)/asan/%,$(UNIT_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))

.PHONY: fuzz-long
.PHONY: all deps deps-bed check check-unit check-fuzz check-host check-boot bed boot demo bench profile install deb clean distclean
all: $(BINS)

# ---- objects: one tree per flavour (plain, asan) ------------------------------------------
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(B)/asan-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@
-include $(shell find $(B)/obj $(B)/asan-obj -name '*.d' 2>/dev/null)

$(B)/hvmd: $(patsubst %.c,$(B)/obj/%.o,$(DM_SRCS))
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(HVMD_LIBS)
$(B)/hvmctl: $(patsubst %.c,$(B)/obj/%.o,$(TS_SRCS))
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(HVMCTL_LIBS)

.SECONDARY:
.SECONDEXPANSION:
$(B)/unit/%: $(B)/obj/tests/unit/%.o $$(call unit_objs,obj,$$*)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(CMOCKA_LIBS) $(call unit_libs,$*)
$(B)/asan/%: $(B)/asan-obj/tests/unit/%.o $$(call unit_objs,asan-obj,$$*)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $^ -o $@ $(CMOCKA_LIBS) $(call unit_libs,$*)
# libFuzzer targets: clang, ASan+UBSan, the library sources compiled once into their own object
# tree (instrumented for coverage, not linked with libFuzzer's main) and linked into each target;
# fuzz_ts_* get the toolstack's sources instead (what hvmctl reads from guests)
FUZZFLAGS = -std=gnu11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
$(B)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@
-include $(shell find $(B)/fuzz-obj -name '*.d' 2>/dev/null)
# (static pattern rules: with plain pattern rules, make fell back to the hvmd rule for fuzz_ts_run
# when a toolstack object was missing from an incremental tree, and the link failed)
FUZZ_TS_BINS := $(filter $(B)/fuzz/fuzz_ts_%,$(FUZZ_BINS))
$(FUZZ_TS_BINS): $(B)/fuzz/fuzz_ts_%: $(B)/fuzz-obj/tests/fuzz/fuzz_ts_%.o $(patsubst %.c,$(B)/fuzz-obj/%.o,$(TSLIB_SRCS))
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer $^ -o $@ $(HVMCTL_LIBS)
$(filter-out $(FUZZ_TS_BINS),$(FUZZ_BINS)): $(B)/fuzz/%: $(B)/fuzz-obj/tests/fuzz/%.o $(patsubst %.c,$(B)/fuzz-obj/%.o,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer $^ -o $@ $(HVMD_LIBS)

# ---- tests ----------------------------------------------------------------------------------
# The targets a person starts on a fresh machine install what they need first (images/deps),
# then build in a sub-make, so nothing is compiled before the compilers and libraries are there.
deps:
	@images/deps all

# make bed (and what boots only the bed: boot, demo, bench, tests/boot/guest's users) needs the
# build and bed packages, not the web console's browser or the package tools: a CI runner that
# boots its kernel (README) installs only these
deps-bed:
	@images/deps build && images/deps bed

check-unit: deps
	@$(MAKE) -s -j$(NPROC) $(UNIT_BINS) $(ASAN_BINS)
	@tests/check unit

check-fuzz: deps
	@$(MAKE) -s -j$(NPROC) $(FUZZ_BINS)
	@tests/check fuzz

fuzz-long: deps
	@$(MAKE) -s $(FUZZ_BINS)
	@tests/check fuzz-long

check-host: deps
	@$(MAKE) -s all $(B)/vncfake
	@tests/check host

# a VNC client (libvncclient) the boot scenarios type into guests with
$(B)/vnctype: tests/tools/vnctype.c
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(shell pkg-config --libs libvncclient)

# the floor ioreq server make bench measures hvmd's per-access cost against (tests/bench/floor.c)
$(B)/hvmd-floor: tests/bench/floor.c
	@mkdir -p $(B)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags xencontrol xendevicemodel xenevtchn xenforeignmemory) $< -o $@ $(shell pkg-config --libs xendevicemodel xenevtchn xenforeignmemory)

# hvmd's VNC server on a fakexen machine (the browser console test)
$(B)/vncfake: $(B)/obj/tests/tools/vncfake.o $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(HVMD_LIBS)

# the bed's overlay carries the project's binaries, installed as `make install` would
bed: deps-bed
	@$(MAKE) -s all $(B)/vnctype
	@rm -rf $(B)/stage && $(MAKE) -s install DESTDIR=$(CURDIR)/$(B)/stage PREFIX=/usr >/dev/null
	@install -D -m 755 $(B)/vnctype $(B)/stage/usr/lib/hvmd/tests/vnctype
	@$(MAKE) -s $(B)/hvmd-floor && install -D -m 755 $(B)/hvmd-floor $(B)/stage/usr/lib/hvmd/tests/hvmd-floor
	@$(if $(MAIN_HVMD),install -D -m 755 $(MAIN_HVMD) $(B)/stage/usr/lib/hvmd/tests/hvmd-main)
	@images/bed.sh $(CURDIR)/$(B)/stage

check-boot: bed
	@tests/check boot $(S)

boot: bed
	@tests/boot/run $(S)

# The bed's Debian part (downloads, dom0's base, the guest media: images/bed.sh without the
# project's binaries) is built while the project compiles; its overlay with the binaries
# (make bed, then quick) while the unit tests and fuzz targets run (tests/check all,
# HVMD_BED_BUILD). The Debian package (make deb) is built meanwhile too: hvmd-libvirt installs
# it in dom0, and make bed puts it into the libvirt extra.
check: deps
	@mkdir -p $(B); rm -f $(B)/bed-base.rc $(B)/deb.rc; \
	 { images/bed.sh > $(B)/bed-base.log 2>&1; echo $$? > $(B)/bed-base.rc; } & bp=$$!; \
	 { $(MAKE) -s deb > $(B)/deb.log 2>&1; echo $$? > $(B)/deb.rc; } & dp=$$!; \
	 $(MAKE) -s -j$(NPROC) all $(UNIT_BINS) $(ASAN_BINS) $(FUZZ_BINS) $(B)/vnctype $(B)/vncfake || \
	     { kill $$bp $$dp 2>/dev/null; wait; exit 1; }; \
	 HVMD_BED_BUILD='wait_base() { while [ ! -s $(B)/bed-base.rc ] || [ ! -s $(B)/deb.rc ]; do sleep 1; done; \
	     cat $(B)/bed-base.log $(B)/deb.log; [ "$$(cat $(B)/bed-base.rc)" = 0 ] && [ "$$(cat $(B)/deb.rc)" = 0 ]; }; \
	     wait_base && $(MAKE) -s bed' \
	     tests/check all $(S)

demo: bed
	@tests/demo

bench: bed
	@tests/bench/run $(S)

# the round trips of one ISO boot per phase, hvmd against qemu-xen (tests/bench/profile;
# BOOT=kernel: of one direct kernel boot; P=--no-run prints the last run's table again)
profile: bed
	@tests/bench/profile $(if $(BOOT),--boot $(BOOT)) $(P)

# PREFIX=/usr is the layout every document and xl.cfg snippet names (/usr/lib/hvmd/hvmd) and the
# Debian package's (make deb); UNITDIR: systemd's system units (Debian 12: /lib/systemd/system)
UNITDIR ?= /lib/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/hvmd $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1
	$(if $(wildcard $(B)/hvmd),install -m 755 $(B)/hvmd $(DESTDIR)$(PREFIX)/lib/hvmd/hvmd)
	$(if $(wildcard $(B)/hvmctl),install -m 755 $(B)/hvmctl $(DESTDIR)$(PREFIX)/sbin/hvmctl)
	$(if $(wildcard $(B)/hvmctl),ln -sf ../../sbin/hvmctl $(DESTDIR)$(PREFIX)/lib/hvmd/vif-hvmctl)
	$(foreach m,$(wildcard man/*.1 dm/*.1 toolstack/*.1),install -m 644 $(m) $(DESTDIR)$(PREFIX)/share/man/man1/;)
	install -m 755 toolstack/host/hvmctl-guests $(DESTDIR)$(PREFIX)/lib/hvmd/hvmctl-guests
	install -D -m 644 toolstack/host/hvmctl-network.service $(DESTDIR)$(UNITDIR)/hvmctl-network.service
	install -D -m 644 toolstack/host/hvmctl-guests.service $(DESTDIR)$(UNITDIR)/hvmctl-guests.service
	install -D -m 644 toolstack/host/hvmctl.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hvmctl
	install -D -m 644 toolstack/host/network.conf.example $(DESTDIR)$(PREFIX)/share/doc/hvmd/examples/network.conf
	install -D -m 644 toolstack/host/hvmd.logrotate $(DESTDIR)/etc/logrotate.d/hvmd
	install -d $(DESTDIR)/etc/hvmd/auto
	test -e $(DESTDIR)/etc/hvmd/hvmctl.conf || install -m 644 toolstack/hvmctl.conf $(DESTDIR)/etc/hvmd/hvmctl.conf

# The Debian package (debian/): built from a copy of the tracked tree in build/deb, so the
# tree stays clean and the .deb lands in build/deb; then lintian on it.
deb:
	@images/deps deb
	@rm -rf $(B)/deb && mkdir -p $(B)/deb/src
	@git ls-files -z | xargs -0 cp --parents -t $(B)/deb/src
	@cd $(B)/deb/src && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	@ls $(B)/deb/*.deb
	@lintian --fail-on error $(B)/deb/*.changes

clean:
	rm -rf $(B)/obj $(B)/asan-obj $(B)/fuzz-obj $(B)/unit $(B)/asan $(B)/fuzz $(B)/hvmd $(B)/hvmctl $(B)/stage
distclean:
	rm -rf $(B)

# tests/boot/guest's new user end to end (a kernel and initrd of its own, --login, two reboots,
# TAP results as JUnit cases): one bed boot of its own, about 80 s
.PHONY: guest-selftest
guest-selftest: bed
	@tests/boot/guest-selftest
