# SPDX-License-Identifier: GPL-2.0-only
#
# ionpu top-level build.  `make` builds libionpu and the tools; see README.md
# for the rest.  Everything goes to $(BUILD); downloads and the QEMU build go
# to $(IONPU_CACHE), outside the clone, and are reused.

BUILD ?= build
IONPU_CACHE ?= /var/cache/ionpu
export IONPU_CACHE

CC ?= cc
comma := ,
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CPPFLAGS_IONPU := -Iinclude -Iinclude/uapi

# --- the layers ------------------------------------------------------------
# fabric/: the card's compute model (neurons, crossbars, programming, router,
# non-volatile store), plain C.  QEMU's card runs it; libionpu's host
# reference, the benchmark and the tests link it as a static library.
FABRIC_SRCS := $(sort $(wildcard fabric/*.c))
# qemu/: the emulated card over the fabric.  Its registers, queues and
# commands are plain C too, so tests that stand in for the card link them;
# only ionpu_pci.c needs QEMU's headers.
CARD_SRCS := $(filter-out qemu/ionpu_pci.c,$(sort $(wildcard qemu/*.c)))
# Every layer includes the shared wire layouts (include/) and the fabric's
# header; only the card and its tests see qemu/.
FABRIC_CPPFLAGS := $(CPPFLAGS_IONPU) -Ifabric
CARD_CPPFLAGS := $(FABRIC_CPPFLAGS) -Iqemu

# --- libionpu --------------------------------------------------------------
LIB_SONAME := libionpu.so.0
LIB_VERSION := 0.5.0
LIB_SRCS := $(sort $(wildcard lib/*.c))
# libionpu.a carries the fabric's objects, which its host reference needs;
# libionpu.so takes from the fabric's archive only what it uses.  Both are
# built with hidden visibility: libionpu.map names what is exported.
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(FABRIC_SRCS:%.c=$(BUILD)/%.o)
LIB_PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
FABRIC_PIC_OBJS := $(FABRIC_SRCS:%.c=$(BUILD)/pic/%.o)
FABRIC_A := $(BUILD)/fabric/libionpu_fabric.a
LIB_A := $(BUILD)/lib/libionpu.a
LIB_SO := $(BUILD)/lib/libionpu.so.$(LIB_VERSION)
# The libraries libionpu links, by pkg-config name: Debian's serial libhdf5
# for NIR files, liburing for the asynchronous queue, libpci (GPL-2.0-or-later)
# for card discovery.  A library added here is one word.
LIB_PKGS := hdf5-serial liburing libpci
LIB_DEP_CFLAGS := $(shell pkg-config --cflags $(LIB_PKGS) 2>/dev/null)
LIB_LDLIBS := $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null) -lm
LIB_CFLAGS = -std=c11 $(WARN) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden $(FABRIC_CPPFLAGS) -Ilib \
	$(LIB_DEP_CFLAGS)

# --- tools -----------------------------------------------------------------
TOOLS := ionpu-smi
# Tools that read NIR files need libhdf5; their static builds, for the
# busybox VM (the demo runs ionpu-run there), link its static archives.
SHARED_TOOLS := ionpu-run ionpu-bench
TOOL_BINS := $(TOOLS:%=$(BUILD)/tools/%) $(SHARED_TOOLS:%=$(BUILD)/tools/%)
STATIC_TOOL_BINS := $(TOOLS:%=$(BUILD)/tools-static/%) $(SHARED_TOOLS:%=$(BUILD)/tools-static/%)
STATIC_LDLIBS_ionpu-run = $(LIB_STATIC_LDLIBS)
STATIC_LDLIBS_ionpu-bench = $(LIB_STATIC_LDLIBS)
# Example programs, built like the tools.
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))

# --- Python binding ----------------------------------------------------------
# python/: the `ionpu` extension module over libionpu.so, against Debian's
# python3-dev and python3-numpy, built into $(BUILD)/python so that tests
# import it from there (its rpath finds $(BUILD)/lib); the typed stub
# ionpu.pyi goes beside it.
PYTHON := /usr/bin/python3
py_config = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.$(1))' 2>/dev/null)
PY_INCLUDE := $(call py_config,get_paths()["include"])
PY_EXT_SUFFIX := $(call py_config,get_config_var("EXT_SUFFIX"))
PY_VERSION := $(call py_config,get_python_version())
PY_NUMPY_INCLUDE := $(shell $(PYTHON) -c 'import numpy; print(numpy.get_include())' 2>/dev/null)
PY_SRCS := $(sort $(wildcard python/*.c))
PY_OBJS := $(PY_SRCS:%.c=$(BUILD)/pic/%.o)
PY_MODULE := $(BUILD)/python/ionpu$(PY_EXT_SUFFIX)
PY_STUB := $(BUILD)/python/ionpu.pyi
PY_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden $(CPPFLAGS_IONPU) \
	-isystem $(PY_INCLUDE) -isystem $(PY_NUMPY_INCLUDE)
# $(call py_link,OUTPUT,RPATH): the module, finding libionpu.so in RPATH.
py_link = $(CC) -shared -o $(1) $(PY_OBJS) -L$(BUILD)/lib -lionpu -Wl,-rpath,'$(2)'

all: $(LIB_A) $(LIB_SO) $(TOOL_BINS) $(EXAMPLE_BINS) $(PY_MODULE) $(PY_STUB)

LIB_HDRS := $(wildcard lib/*.h include/ionpu/*.h fabric/*.h include/hw/*.h)

$(BUILD)/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -fPIC -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(FABRIC_A): $(FABRIC_PIC_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_PIC_OBJS) $(FABRIC_A) lib/libionpu.map
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script=lib/libionpu.map \
		-Wl,-z,defs -o $@ $(LIB_PIC_OBJS) $(FABRIC_A) $(LIB_LDLIBS)
	ln -sf $(notdir $@) $(BUILD)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILD)/lib/libionpu.so

TOOL_HDRS := $(wildcard tools/*.h)
# A tool's sources beyond tools/<tool>.c, as prerequisites of its builds.
$(BUILD)/tools/ionpu-smi $(BUILD)/tools-static/ionpu-smi: tools/ionpu_cdi.c tools/ionpu_health.c
$(BUILD)/tools/ionpu-run $(BUILD)/tools-static/ionpu-run: tools/ionpu_progress.c
$(BUILD)/tools/ionpu-bench $(BUILD)/tools-static/ionpu-bench: tools/ionpu_bench_stream.c
# ionpu-bench drives the driver's event stream through io_uring itself.
TOOL_LDLIBS_ionpu-bench := -luring

# The tools find the library beside them, ../lib, so that a build or a
# DESTDIR tree runs where it lies; a distribution's package, whose library
# is where the loader looks, builds them with TOOL_RPATH empty.
TOOL_RPATH ?= $$ORIGIN/../lib

$(BUILD)/tools/%: tools/%.c $(TOOL_HDRS) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CPPFLAGS) $(CFLAGS) $(CPPFLAGS_IONPU) $(LDFLAGS) -o $@ $(filter %.c,$^) \
		-L$(BUILD)/lib -lionpu $(TOOL_LDLIBS_$*) \
		$(if $(TOOL_RPATH),-Wl$(comma)-rpath$(comma)'$(TOOL_RPATH)')

$(BUILD)/examples/%: examples/%.c $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(CPPFLAGS_IONPU) -o $@ $< \
		-L$(BUILD)/lib -lionpu -Wl,-rpath,'$$ORIGIN/../lib'

$(BUILD)/pic/python/%.o: python/%.c python/ionpu_py.h include/ionpu/ionpu.h
	@mkdir -p $(@D)
	$(CC) $(PY_CFLAGS) -c -o $@ $<

$(PY_MODULE): $(PY_OBJS) $(LIB_SO)
	@mkdir -p $(@D)
	$(call py_link,$@,$$ORIGIN/../lib)

$(PY_STUB): python/ionpu.pyi
	@mkdir -p $(@D)
	cp $< $@

python: $(PY_MODULE) $(PY_STUB)

tools-static: $(STATIC_TOOL_BINS)

# Debian ships no libpci.a: static links take the one scripts/build-libpci
# builds into $(IONPU_CACHE), copied so that its time is the copy's.
LIBPCI_A := $(BUILD)/libpci/libpci.a
$(LIBPCI_A): scripts/build-libpci
	@mkdir -p $(@D)
	archive=$$(scripts/build-libpci) && cp "$$archive" $@.tmp && mv $@.tmp $@

# Static builds run in the test VM's busybox initramfs, which has no libc.
# libm: ionpu-smi's calibration codes conductances on a log scale.
$(BUILD)/tools-static/%: tools/%.c $(TOOL_HDRS) $(LIB_A) $(LIBPCI_A)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(CPPFLAGS_IONPU) -static -o $@ $(filter %.c,$^) $(LIB_A) \
		$(LIBPCI_A) -lm \
		$(STATIC_LDLIBS_$*)

# --- manual pages ------------------------------------------------------------
# The tools' pages are written in scdoc (docs/man/); libionpu(3) and a page
# per function group are made from the header's kernel-doc comments, so the
# library has one description.  SOURCE_DATE_EPOCH: the pages' date is the
# last commit's, not the build's.
MAN_TOOL_SRCS := $(wildcard docs/man/*.scd)
MAN_LIB_GROUPS := $(shell /usr/bin/python3 scripts/man-pages --groups)
MAN_LIB_PAGES := $(BUILD)/man/libionpu.3 $(MAN_LIB_GROUPS:%=$(BUILD)/man/libionpu-%.3)
MAN_PAGES := $(MAN_TOOL_SRCS:docs/man/%.scd=$(BUILD)/man/%) $(MAN_LIB_PAGES)
MAN_DATE := $(or $(shell git log -1 --format=%ct 2>/dev/null),$(SOURCE_DATE_EPOCH))

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(@D)
	SOURCE_DATE_EPOCH=$(MAN_DATE) scdoc <$< >$@.tmp && mv $@.tmp $@

$(BUILD)/man/src/stamp: include/ionpu/ionpu.h scripts/man-pages
	@mkdir -p $(@D)
	/usr/bin/python3 scripts/man-pages $< $(@D) $(LIB_VERSION)
	touch $@

$(MAN_LIB_PAGES): $(BUILD)/man/src/stamp
	SOURCE_DATE_EPOCH=$(MAN_DATE) scdoc <$(BUILD)/man/src/$(@F).scd >$@.tmp && mv $@.tmp $@

man: $(MAN_PAGES)

# --- install ---------------------------------------------------------------
# `make install [PREFIX=/usr/local] [DESTDIR=stage]`: the library (shared
# with its SONAME links, and static), its header, the driver's UAPI header
# for programs that use the ioctls directly, ionpu.pc, the tools, the udev
# rule, the manual pages, the tools' bash completion and the library's
# manual.  udev reads rules only from /lib and /etc, so UDEVRULESDIR does not
# follow PREFIX.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DOCDIR ?= $(PREFIX)/share/doc/ionpu
# Where Debian's python3 looks under PREFIX: /usr/lib/python3/dist-packages
# for the system's packages, lib/python3.X/dist-packages under any other.
# The module is linked again there, finding libionpu.so relative to itself
# as the tools do, so that a DESTDIR tree can move.
PYTHONDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(PY_VERSION)/dist-packages)
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BASH_COMPLETIONS := $(wildcard tools/bash-completion/*)
UDEVRULESDIR ?= /lib/udev/rules.d
UDEV_RULES := $(wildcard udev/*.rules)
INSTALL ?= install
# Directories under PREFIX are written relative to it, so that
# `pkg-config --define-prefix` can relocate the tree.
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
# ionpu.pc names its private libraries by their link flags, not by their
# pkg-config modules: a Requires.private is resolved for --cflags and --libs
# too, so it would make every user install libhdf5's, liburing's and
# libpci's -dev packages (and Debian's own hdf5-serial.pc) just to link the
# shared library, whose header includes none of theirs.
LIB_PC_LIBS_PRIVATE := $(strip $(shell pkg-config --static --libs $(LIB_PKGS) 2>/dev/null) -lm)

$(BUILD)/ionpu.pc: ionpu.pc.in FORCE
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|' -e 's|@VERSION@|$(LIB_VERSION)|' \
		-e 's|@LIBS_PRIVATE@|$(LIB_PC_LIBS_PRIVATE)|' -e '/^#/d' $< >$@.tmp
	mv $@.tmp $@

install: all man $(BUILD)/ionpu.pc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/ionpu $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libionpu.so
	$(INSTALL) -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0644 $(BUILD)/ionpu.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(INSTALL) -m 0644 include/ionpu/ionpu.h $(DESTDIR)$(INCLUDEDIR)/ionpu/
	$(INSTALL) -m 0644 include/uapi/linux/ionpu.h $(DESTDIR)$(INCLUDEDIR)/linux/
	$(INSTALL) -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 docs/libionpu.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -d $(DESTDIR)$(PYTHONDIR)
	$(call py_link,$(DESTDIR)$(PYTHONDIR)/$(notdir $(PY_MODULE)),$$ORIGIN/$(shell realpath -m --relative-to=$(PYTHONDIR) $(LIBDIR)))
	$(INSTALL) -m 0644 python/ionpu.pyi $(DESTDIR)$(PYTHONDIR)/
	$(INSTALL) -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(filter %.3,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 0644 $(BASH_COMPLETIONS) $(DESTDIR)$(BASHCOMPDIR)/
	$(if $(UDEV_RULES),$(INSTALL) -d $(DESTDIR)$(UDEVRULESDIR))
	$(if $(UDEV_RULES),$(INSTALL) -m 0644 $(UDEV_RULES) $(DESTDIR)$(UDEVRULESDIR)/)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,$(notdir $(LIB_SO) $(LIB_A)) $(LIB_SONAME) libionpu.so) \
		$(DESTDIR)$(PKGCONFIGDIR)/ionpu.pc $(DESTDIR)$(INCLUDEDIR)/ionpu/ionpu.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/ionpu.h $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOL_BINS))) \
		$(DESTDIR)$(DOCDIR)/libionpu.md $(addprefix $(DESTDIR)$(UDEVRULESDIR)/,$(notdir $(UDEV_RULES))) \
		$(DESTDIR)$(PYTHONDIR)/$(notdir $(PY_MODULE)) $(DESTDIR)$(PYTHONDIR)/ionpu.pyi \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(filter %.3,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(notdir $(BASH_COMPLETIONS)))
	rmdir $(DESTDIR)$(INCLUDEDIR)/ionpu $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# `make install-dkms [DESTDIR=stage]`: the driver's sources and dkms.conf in
# DKMS_SRCDIR, where `dkms install ionpu/$(LIB_VERSION)` builds ionpu.ko for
# the running kernel and rebuilds it on every kernel upgrade.  The module
# needs only kernel/, the wire layouts and the UAPI header.
DKMS_SRCDIR ?= /usr/src/ionpu-$(LIB_VERSION)
DKMS_SRCS := Kbuild $(wildcard kernel/*.c kernel/*.h include/hw/*.h) include/uapi/linux/ionpu.h

$(BUILD)/dkms.conf: dkms.conf.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@VERSION@|$(LIB_VERSION)|' -e '/^#/d' $< >$@.tmp
	mv $@.tmp $@

install-dkms: $(BUILD)/dkms.conf
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRCDIR)
	for f in $(DKMS_SRCS); do \
		$(INSTALL) -D -m 0644 $$f $(DESTDIR)$(DKMS_SRCDIR)/$$f || exit 1; \
	done
	$(INSTALL) -m 0644 $(BUILD)/dkms.conf $(DESTDIR)$(DKMS_SRCDIR)/dkms.conf

uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMS_SRCDIR)

# --- Debian packages ----------------------------------------------------------
# `make deb`: libionpu0, libionpu-dev, ionpu-tools and ionpu-dkms, built by
# debhelper (debian/) from a copy of the tracked files, then checked by
# lintian; the .deb files land in $(DEB_DIR).  debian/changelog's version
# must be the library's.
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/ionpu-$(LIB_VERSION)

deb:
	test "$$(dpkg-parsechangelog -S Version)" = $(LIB_VERSION) || \
		{ echo "debian/changelog is not at version $(LIB_VERSION)" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	git ls-files -z | xargs -0 cp -P --parents -t $(DEB_SRC)
	cd $(DEB_SRC) && SOURCE_DATE_EPOCH=$(MAN_DATE) dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning \
		$(DEB_DIR)/ionpu_$(LIB_VERSION)_*.changes

FORCE:

.PHONY: install uninstall install-dkms uninstall-dkms deb FORCE

# --- kernel module ---------------------------------------------------------
# Built in $(BUILD)/module/<release>/ from a tree of symlinks, so builds for
# several kernels coexist and the source tree stays free of kbuild output.
KDIR ?= /lib/modules/$(shell uname -r)/build
# The release: a kbuild tree's own record of it, or the name of the
# /lib/modules/<release>/build it is reached by.
KREL ?= $(or $(shell sed -n 's/^override KERNELRELEASE = //p' $(KDIR)/.kernelvariables 2>/dev/null),\
	$(notdir $(patsubst %/,%,$(dir $(abspath $(KDIR))))))
MODDIR = $(BUILD)/module/$(KREL)
KSERIES := 6.1 6.12

module:
	@mkdir -p $(MODDIR)
	cp -rsf $(CURDIR)/Kbuild $(CURDIR)/kernel $(CURDIR)/include $(MODDIR)/
	$(MAKE) -C $(KDIR) M=$(abspath $(MODDIR)) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

# Debian's headers for each series, unpacked into the cache by
# scripts/kernel-headers (never installed on the host).
modules-all:
	@set -e; for s in $(KSERIES); do \
		kdir=$$(scripts/kernel-headers $$s); \
		$(MAKE) --no-print-directory module KDIR=$$kdir W=1; \
	done

sparse:
	@set -e; for s in $(KSERIES); do \
		kdir=$$(scripts/kernel-headers $$s); \
		$(MAKE) --no-print-directory module KDIR=$$kdir W=1 C=2; \
	done

KERNEL_STYLE_FILES := $(wildcard kernel/*.c kernel/*.h) include/uapi/linux/ionpu.h include/hw/ionpu_regs.h \
	include/hw/ionpu_wire.h

# The module builds for two kernels: kernel/ionpu_compat.h tests
# LINUX_VERSION_CODE where their APIs differ, which checkpatch would flag in
# an in-tree driver.  No other file may.
KERNEL_COMPAT := kernel/ionpu_compat.h
CHECKPATCH = perl $$(scripts/linux-source)/scripts/checkpatch.pl --strict --no-tree --quiet
checkpatch:
	$(CHECKPATCH) -f $(filter-out $(KERNEL_COMPAT),$(KERNEL_STYLE_FILES))
	$(CHECKPATCH) --ignore LINUX_VERSION_CODE -f $(KERNEL_COMPAT)
	perl $$(scripts/linux-source)/scripts/kernel-doc -none -Werror include/uapi/linux/ionpu.h

# --- QEMU with the card ----------------------------------------------------
qemu:
	scripts/build-qemu

# --- tests -----------------------------------------------------------------
# Tests, fuzzers and the benchmark link the layers as archives built with
# their own flags, each once: $(BUILD)/<flavour>/libionpu.a (lib/),
# libcard.a (qemu/'s plain-C card) and libfabric.a (fabric/).
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TEST_CPPFLAGS := $(CARD_CPPFLAGS) -Ilib -Itests/unit -Itests/common
UNIT_CFLAGS := -std=c11 -g -O1 $(WARN) $(SAN) $(TEST_CPPFLAGS)
# The same tests built plainly, for valgrind (which cannot run ASan builds).
VG_CFLAGS := $(filter-out $(SAN),$(UNIT_CFLAGS))
# The tests of code that runs threads of its own, with ThreadSanitizer.
TSAN_CFLAGS := $(VG_CFLAGS) -fsanitize=thread
UNIT_HDRS := $(wildcard include/*/*.h fabric/*.h qemu/*.h lib/*.h tests/unit/*.h tests/common/*.h)

# $(call flavour,NAME,COMPILER AND FLAGS,HEADERS): NAME's objects and archives.
define flavour
$(BUILD)/$(1)/obj/%.o: %.c $(3)
	@mkdir -p $$(@D)
	$(2) $(LIB_DEP_CFLAGS) -c -o $$@ $$<
$(BUILD)/$(1)/libionpu.a: $(LIB_SRCS:%.c=$(BUILD)/$(1)/obj/%.o)
$(BUILD)/$(1)/libcard.a: $(CARD_SRCS:%.c=$(BUILD)/$(1)/obj/%.o)
$(BUILD)/$(1)/libfabric.a: $(FABRIC_SRCS:%.c=$(BUILD)/$(1)/obj/%.o)
.PRECIOUS: $(BUILD)/$(1)/obj/%.o
endef
$(BUILD)/%.a:
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(eval $(call flavour,san,$(CC) $(UNIT_CFLAGS),$(UNIT_HDRS)))
$(eval $(call flavour,vg,$(CC) $(VG_CFLAGS),$(UNIT_HDRS)))
$(eval $(call flavour,tsan,$(CC) $(TSAN_CFLAGS),$(UNIT_HDRS)))

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
VG_TESTS := $(patsubst $(BUILD)/unit/%,$(BUILD)/unit-vg/%,$(UNIT_TESTS))
# The fabric's timestep spread over threads (fabric/ionpu_workers.c).
TSAN_TESTS := $(BUILD)/unit-tsan/test_core_fabric
# What a test links besides itself, in $(BUILD)/<flavour>/: test_core_* the
# card and its fabric, test_lib_* the library and the fabric under it.
unit_archives = $(addprefix $(BUILD)/$(2)/lib,$(addsuffix .a,\
	$(if $(filter core_% test_core_%,$(1)),card fabric,ionpu fabric)))
UNIT_LIBS = $(if $(filter test_core_%,$(1)),-lm,$(LIB_LDLIBS))
# test_lib_device stands in for the driver by wrapping ioctl().
UNIT_LDFLAGS_test_lib_device := -Wl,--wrap=ioctl
# test_lib_load stands in for the driver with the card's model core.
UNIT_LDFLAGS_test_lib_load := -Wl,--wrap=ioctl
# test_lib_calib scans a fake card behind a wrapped ioctl().
UNIT_LDFLAGS_test_lib_calib := -Wl,--wrap=ioctl
# Children forked without exec are not checked: ionpu_nir_load()'s trial
# child of a threaded test would count the other threads' memory as lost.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_archives,$$*,san) $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(LIB_DEP_CFLAGS) -o $@ $< $(call unit_archives,$*,san) \
		$(call UNIT_LIBS,$*) $(UNIT_LDFLAGS_$*) -lcmocka

$(BUILD)/unit-vg/%: tests/unit/%.c $$(call unit_archives,$$*,vg) $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(VG_CFLAGS) $(LIB_DEP_CFLAGS) -o $@ $< $(call unit_archives,$*,vg) \
		$(call UNIT_LIBS,$*) $(UNIT_LDFLAGS_$*) -lcmocka

$(BUILD)/unit-tsan/%: tests/unit/%.c $$(call unit_archives,$$*,tsan) $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TSAN_CFLAGS) $(LIB_DEP_CFLAGS) -o $@ $< $(call unit_archives,$*,tsan) \
		$(call UNIT_LIBS,$*) $(UNIT_LDFLAGS_$*) -lcmocka

unit-build: $(UNIT_TESTS)

unit: unit-build
	@rc=0; for t in $(UNIT_TESTS); do CMOCKA_MESSAGE_OUTPUT=TAP $$t || rc=1; done; exit $$rc

unit-valgrind-build: $(VG_TESTS)

# Exit status 99: valgrind found an error or a leak.
unit-valgrind: unit-valgrind-build
	@rc=0; for t in $(VG_TESTS); do CMOCKA_MESSAGE_OUTPUT=TAP $(VALGRIND) $$t || rc=1; done; exit $$rc

# Exit status 66: ThreadSanitizer found a race.
unit-tsan: $(TSAN_TESTS)
	@rc=0; for t in $(TSAN_TESTS); do CMOCKA_MESSAGE_OUTPUT=TAP \
		TSAN_OPTIONS=halt_on_error=1:exitcode=66 $$t || rc=1; done; exit $$rc

# The ioctl fuzzer runs in the VM like a test (it passes when nothing broke).
SELFTESTS := $(patsubst tests/selftests/%.c,%,$(wildcard tests/selftests/*_test.c)) \
	ionpu_ioctl_fuzz
# What a selftest links besides the library: SELFTEST_LDLIBS_<test>.
SELFTEST_LDLIBS_ionpu_uring_test := -luring
SELFTEST_LDLIBS_ionpu_sched_test := -luring
SELFTEST_LDLIBS_ionpu_ioctl_fuzz := -luring
# libionpu.a's libraries, static: libhdf5.a needs libsz, libaec, libz, libdl;
# libpci is $(LIBPCI_A), which every static link takes.
LIB_STATIC_LDLIBS = $(filter-out -lpci,$(LIB_LDLIBS)) -lsz -laec -lz -ldl
SELFTEST_LDLIBS_ionpu_lib_run_test = $(LIB_STATIC_LDLIBS)
SELFTEST_LDLIBS_ionpu_conformance_test = $(LIB_STATIC_LDLIBS)
SELFTEST_LDLIBS_ionpu_digits_test = $(LIB_STATIC_LDLIBS)
SELFTEST_LDLIBS_ionpu_multicard_test = $(LIB_STATIC_LDLIBS)
SELFTEST_LDLIBS_ionpu_lib_learn_test = $(LIB_STATIC_LDLIBS) -lm
SELFTEST_LDLIBS_ionpu_lib_test := -lm
SELFTEST_LDLIBS_ionpu_calib_test := -lm
SELFTEST_BINS := $(SELFTESTS:%=$(BUILD)/selftests/%)
SELFTEST_LIB := tests/selftests/ionpu_cards.c

# Static: the VM's initramfs has no libc.  Every selftest may use libionpu.
# tests/common/ holds what a selftest shares with the unit tests.
$(BUILD)/selftests/%: tests/selftests/%.c $(SELFTEST_LIB) $(wildcard tests/selftests/*.h) \
		$(wildcard tests/common/*.h) include/uapi/linux/ionpu.h $(LIB_A) $(LIBPCI_A)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g $(WARN) -static -isystem $$(scripts/linux-source)/kselftest \
		$(CPPFLAGS_IONPU) -Itests/common -o $@ $< $(SELFTEST_LIB) $(LIB_A) $(LIBPCI_A) \
		$(SELFTEST_LDLIBS_$*)

# The digit classifier and a slice of its test split, for ionpu_digits_test:
# files, not programs, so the VM's /init does not run them.
DIGITS_SLICE := 60
SELFTEST_DIGITS := $(BUILD)/selftests/digits
$(SELFTEST_DIGITS)/digits.nir: examples/digits/digits.nir $(wildcard examples/digits/*.py) \
		examples/digits/digits.json examples/digits/test-split.txt
	@mkdir -p $(@D)
	PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 examples/digits/evaluate.py \
		--limit $(DIGITS_SLICE) --export $(@D)
	cp $< $@

selftests: $(SELFTEST_BINS) $(SELFTEST_DIGITS)/digits.nir

# --- fuzzers -----------------------------------------------------------------
# libFuzzer targets in tests/fuzz/ on the library's file readers and on the
# card's command layer, run FUZZ_SECONDS each from seeds $(BUILD)/fuzz/seeds
# makes; the corpus grows in $(BUILD)/fuzz/corpus/, a crash's reproducer is
# kept in $(BUILD)/fuzz/crashes/.  Named like the unit tests (core_* links
# the card, lib_* the library), so unit_archives picks what they link.
FUZZ_CC := clang
FUZZ_SECONDS ?= 20
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) $(TEST_CPPFLAGS) -Itests/fuzz $(LIB_DEP_CFLAGS)
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(filter-out tests/fuzz/seeds.c,$(wildcard tests/fuzz/*.c)))
# What `make fuzz` runs: all of them (lib_nir's damaged files crash
# libhdf5 only in the NIR reader's trial child, lib/ionpu_nir_h5.c).
FUZZ_TARGETS ?= $(FUZZERS)
FUZZ_HDRS := $(UNIT_HDRS) $(wildcard tests/fuzz/*.h) tests/fuzz/coverage.ignore

# The layers instrumented once, shared by the targets.
$(eval $(call flavour,fuzz,$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	-fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore,$(FUZZ_HDRS)))

$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c $(FUZZ_HDRS) $(LIB_A) $(BUILD)/vg/libcard.a
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(TEST_CPPFLAGS) -Itests/fuzz -o $@ $< \
		$(BUILD)/vg/libcard.a $(LIB_A) $(LIB_LDLIBS)

$(BUILD)/fuzz/bin/%: tests/fuzz/%.c $$(call unit_archives,$$*,fuzz)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ \
		$(call UNIT_LIBS,test_$*)

fuzz-build: $(FUZZERS:%=$(BUILD)/fuzz/bin/%) $(BUILD)/fuzz/seeds

# TAP, one result per target; fails on a crash, leak, timeout or sanitizer report.
fuzz: fuzz-build
	tests/fuzz/run --build $(BUILD) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# What the fuzzers found that reaches new code, into the corpus kept in
# tests/fuzz/corpus (to commit; `make fuzz` starts from it).
fuzz-corpus: fuzz-build
	tests/fuzz/run --build $(BUILD) --merge $(FUZZ_TARGETS)

# The in-VM ioctl and io_uring fuzzer at length: FUZZ_LONG_CALLS calls from
# FUZZ_LONG_PROCS processes on each of FUZZ_LONG_KERNELS (make check:
# 1,000,000 from 2); "debug" is the debug kernel, with KCOV's coverage.
FUZZ_LONG_CALLS ?= 20000000
FUZZ_LONG_PROCS ?= 4
FUZZ_LONG_KERNELS ?= 6.1 6.12
fuzz-long: deps modules-all selftests
	scripts/fuzz-long --build $(BUILD) --calls $(FUZZ_LONG_CALLS) --procs $(FUZZ_LONG_PROCS) \
		$(FUZZ_LONG_KERNELS)

.PHONY: fuzz-build fuzz fuzz-corpus fuzz-long

# --- benchmark ---------------------------------------------------------------
# bench-core: the card's model core against Brian2 on the same network, in
# one run, so the ratio holds on a shared, noisy machine.
BENCH_ARCH := $(shell grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && echo -march=x86-64-v3)
BENCH_CFLAGS := -std=c11 -O3 $(BENCH_ARCH) $(WARN) $(FABRIC_CPPFLAGS)
$(eval $(call flavour,bench,$(CC) $(BENCH_CFLAGS),$(wildcard fabric/*.h include/hw/*.h)))
$(BUILD)/bench/bench_core: bench/bench_core.c $(BUILD)/bench/libfabric.a
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $^ -lm

# Debian's interpreter: python3-brian lives there, whatever else is on PATH.
BENCH_PYTHON := /usr/bin/python3
bench-core: $(BUILD)/bench/bench_core
	scripts/install-deps --bench
	PYTHONWARNINGS=ignore::FutureWarning $(BENCH_PYTHON) bench/brian2_bench.py \
		--fabric $(BUILD)/bench/bench_core --build $(BUILD)/bench

# bench-compile: ionpu_compile()'s CPU time on a network that fills a
# 64-tile card and on a 200k-neuron one it refuses; prints {"figures": ...}.
$(BUILD)/bench/bench_compile: bench/bench_compile.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(CPPFLAGS_IONPU) -o $@ $< $(LIB_A) $(LIB_LDLIBS)

bench-compile: $(BUILD)/bench/bench_compile
	$(BUILD)/bench/bench_compile

# bench: every benchmark, host and VM, into $(BUILD)/bench/bench.json and a
# table (docs/bench.md); BENCH_RUNS runs of each; make bench-readme also
# writes the table into README.md.
BENCH_RUNS ?= 5
bench: deps modules-all selftests tools-static $(BUILD)/bench/bench_core $(BUILD)/bench/bench_compile
	scripts/install-deps --bench
	scripts/bench --build $(BUILD) --runs $(BENCH_RUNS)

bench-readme: deps modules-all selftests tools-static $(BUILD)/bench/bench_core \
		$(BUILD)/bench/bench_compile
	scripts/install-deps --bench
	scripts/bench --build $(BUILD) --runs $(BENCH_RUNS) --update

# --- examples/digits ----------------------------------------------------------
# digits: retrain the classifier into $(BUILD)/digits, check that it gives the
# committed files byte for byte, and score the committed graph over the whole
# test split on the host reference (examples/digits/README.md).
DIGITS_PYTHON := /usr/bin/python3
DIGITS_FILES := digits.nir float-model.npy digits.json test-split.txt
digits: all
	PYTHONDONTWRITEBYTECODE=1 $(DIGITS_PYTHON) examples/digits/train.py --dir $(BUILD)/digits
	for f in $(DIGITS_FILES); do cmp examples/digits/$$f $(BUILD)/digits/$$f || exit 1; done
	PYTHONDONTWRITEBYTECODE=1 $(DIGITS_PYTHON) examples/digits/evaluate.py \
		--ionpu-run $(BUILD)/tools/ionpu-run --json $(BUILD)/digits/host.json

deps:
	scripts/install-deps

check: deps
	scripts/check

# The debug kernel (KASAN, lockdep, kmemleak, DMA-API debugging, KCOV), built
# once into the cache; check-debug runs the VM suite on it behind an IOMMU.
debug-kernel: deps
	scripts/debug-kernel

check-debug: deps
	scripts/check-debug

demo: deps
	scripts/demo

# Few-shot learning on the card: a VM of its own, some minutes of physical mode.
demo-learn: deps
	scripts/demo-learn

clean:
	rm -rf $(BUILD)

.PHONY: all man python tools-static module modules-all sparse checkpatch qemu unit-build unit \
	unit-valgrind-build unit-valgrind unit-tsan selftests \
	bench-core bench-compile bench bench-readme digits deps check debug-kernel check-debug demo demo-learn clean
