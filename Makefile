# SPDX-License-Identifier: GPL-2.0-only
#
# ionpu top-level build.  `make` builds libionpu and the tools; see README.md
# for the rest.  Everything goes to $(BUILD); downloads and the QEMU build go
# to $(IONPU_CACHE), outside the clone, and are reused.

BUILD ?= build
IONPU_CACHE ?= /var/cache/ionpu
export IONPU_CACHE

CC ?= cc
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CPPFLAGS_IONPU := -Iinclude -Iinclude/uapi

# --- libionpu --------------------------------------------------------------
LIB_SONAME := libionpu.so.0
LIB_VERSION := 0.1.0
# The card's model core: everything in qemu/ but the QEMU glue.  libionpu
# links it as its host reference; built hidden, it exports nothing.
CORE_SRCS := $(filter-out qemu/ionpu_pci.c,$(wildcard qemu/*.c))
LIB_SRCS := $(sort $(wildcard lib/*.c)) $(CORE_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
LIB_A := $(BUILD)/lib/libionpu.a
LIB_SO := $(BUILD)/lib/libionpu.so.$(LIB_VERSION)
# The libraries libionpu links: Debian's serial libhdf5 for NIR files.
LIB_DEP_CFLAGS := $(shell pkg-config --cflags hdf5-serial 2>/dev/null)
LIB_LDLIBS := $(shell pkg-config --libs hdf5-serial 2>/dev/null) -lm
LIB_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -fvisibility=hidden $(CPPFLAGS_IONPU) -Ilib -Iqemu \
	$(LIB_DEP_CFLAGS)

# --- tools -----------------------------------------------------------------
TOOLS := ionpu-smi
# Tools that read NIR files need libhdf5, so they are not built static: the
# static set is for the busybox test VM, which has no NIR files.
SHARED_TOOLS := ionpu-run
TOOL_BINS := $(TOOLS:%=$(BUILD)/tools/%) $(SHARED_TOOLS:%=$(BUILD)/tools/%)
STATIC_TOOL_BINS := $(TOOLS:%=$(BUILD)/tools-static/%)

all: $(LIB_A) $(LIB_SO) $(TOOL_BINS)

LIB_HDRS := $(wildcard lib/*.h include/ionpu/*.h qemu/*.h include/hw/*.h)

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

$(LIB_SO): $(LIB_PIC_OBJS) lib/libionpu.map
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script=lib/libionpu.map \
		-Wl,-z,defs -o $@ $(LIB_PIC_OBJS) $(LIB_LDLIBS)
	ln -sf $(notdir $@) $(BUILD)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILD)/lib/libionpu.so

$(BUILD)/tools/%: tools/%.c $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(CPPFLAGS_IONPU) -o $@ $< \
		-L$(BUILD)/lib -lionpu -Wl,-rpath,'$$ORIGIN/../lib'

tools-static: $(STATIC_TOOL_BINS)

# Static builds run in the test VM's busybox initramfs, which has no libc.
$(BUILD)/tools-static/%: tools/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(CPPFLAGS_IONPU) -static -o $@ $< $(LIB_A)

# --- kernel module ---------------------------------------------------------
# Built in $(BUILD)/module/<release>/ from a tree of symlinks, so builds for
# several kernels coexist and the source tree stays free of kbuild output.
KDIR ?= /lib/modules/$(shell uname -r)/build
KREL ?= $(notdir $(patsubst %/,%,$(dir $(abspath $(KDIR)))))
MODDIR = $(BUILD)/module/$(KREL)
KSERIES := 6.1 6.12

module:
	@mkdir -p $(MODDIR)
	cp -rsf $(CURDIR)/Kbuild $(CURDIR)/kernel $(CURDIR)/include $(MODDIR)/
	$(MAKE) -C $(KDIR) M=$(abspath $(MODDIR)) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

modules-all:
	@set -e; for s in $(KSERIES); do \
		krel=$$(scripts/kernel-release $$s); \
		$(MAKE) --no-print-directory module KDIR=/lib/modules/$$krel/build W=1; \
	done

sparse:
	@set -e; for s in $(KSERIES); do \
		krel=$$(scripts/kernel-release $$s); \
		$(MAKE) --no-print-directory module KDIR=/lib/modules/$$krel/build W=1 C=2; \
	done

KERNEL_STYLE_FILES := $(wildcard kernel/*.c kernel/*.h) include/uapi/linux/ionpu.h include/hw/ionpu_regs.h

checkpatch:
	perl $$(scripts/linux-source)/scripts/checkpatch.pl --strict --no-tree --quiet -f $(KERNEL_STYLE_FILES)
	perl $$(scripts/linux-source)/scripts/kernel-doc -none -Werror include/uapi/linux/ionpu.h

# --- QEMU with the card ----------------------------------------------------
qemu:
	scripts/build-qemu

# --- tests -----------------------------------------------------------------
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_CFLAGS := -std=c11 -g -O1 $(WARN) $(SAN) $(CPPFLAGS_IONPU) -Iqemu -Ilib
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
# What a unit test links besides itself: test_core_* the model core,
# test_lib_* the library; UNIT_LDFLAGS_<test> adds link flags of its own.
UNIT_SRCS = $(if $(filter test_core_%,$(1)),$(CORE_SRCS),$(LIB_SRCS))
UNIT_LIBS = $(if $(filter test_core_%,$(1)),-lm,$(LIB_DEP_CFLAGS) $(LIB_LDLIBS))
# test_lib_device stands in for the driver by wrapping ioctl().
UNIT_LDFLAGS_test_lib_device := -Wl,--wrap=ioctl

UNIT_HDRS := $(wildcard include/*/*.h qemu/*.h lib/*.h tests/unit/*.h)
# The same tests built plainly, for valgrind (which cannot run ASan builds).
VG_TESTS := $(patsubst $(BUILD)/unit/%,$(BUILD)/unit-vg/%,$(UNIT_TESTS))
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call UNIT_SRCS,$$*) $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(call UNIT_SRCS,$*) $(call UNIT_LIBS,$*) $(UNIT_LDFLAGS_$*) -lcmocka

$(BUILD)/unit-vg/%: tests/unit/%.c $$(call UNIT_SRCS,$$*) $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SAN),$(UNIT_CFLAGS)) -o $@ $< $(call UNIT_SRCS,$*) \
		$(call UNIT_LIBS,$*) $(UNIT_LDFLAGS_$*) -lcmocka

unit-build: $(UNIT_TESTS)

unit: unit-build
	@rc=0; for t in $(UNIT_TESTS); do CMOCKA_MESSAGE_OUTPUT=TAP $$t || rc=1; done; exit $$rc

unit-valgrind-build: $(VG_TESTS)

# Exit status 99: valgrind found an error or a leak.
unit-valgrind: unit-valgrind-build
	@rc=0; for t in $(VG_TESTS); do CMOCKA_MESSAGE_OUTPUT=TAP $(VALGRIND) $$t || rc=1; done; exit $$rc

SELFTESTS := $(patsubst tests/selftests/%.c,%,$(wildcard tests/selftests/*_test.c))
SELFTEST_BINS := $(SELFTESTS:%=$(BUILD)/selftests/%)
SELFTEST_LIB := tests/selftests/ionpu_cards.c

# Static: the VM's initramfs has no libc.  Every selftest may use libionpu.
$(BUILD)/selftests/%: tests/selftests/%.c $(SELFTEST_LIB) $(wildcard tests/selftests/*.h) \
		include/uapi/linux/ionpu.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g $(WARN) -static -isystem $$(scripts/linux-source)/kselftest \
		$(CPPFLAGS_IONPU) -o $@ $< $(SELFTEST_LIB) $(LIB_A)

selftests: $(SELFTEST_BINS)

# --- benchmark ---------------------------------------------------------------
# bench-core: the card's model core against Brian2 on the same network, in
# one run, so the ratio holds on a shared, noisy machine.
BENCH_ARCH := $(shell grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && echo -march=x86-64-v3)
BENCH_CFLAGS := -std=c11 -O3 $(BENCH_ARCH) $(WARN) $(CPPFLAGS_IONPU) -Iqemu
$(BUILD)/bench/bench_core: bench/bench_core.c $(CORE_SRCS) $(wildcard qemu/*.h include/hw/*.h)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/bench_core.c $(CORE_SRCS) -lm

# Debian's interpreter: python3-brian lives there, whatever else is on PATH.
BENCH_PYTHON := /usr/bin/python3
bench-core: $(BUILD)/bench/bench_core
	scripts/install-deps --bench
	PYTHONWARNINGS=ignore::FutureWarning $(BENCH_PYTHON) bench/brian2_bench.py \
		--fabric $(BUILD)/bench/bench_core --build $(BUILD)/bench

deps:
	scripts/install-deps

check: deps
	scripts/check

demo: deps
	scripts/demo

clean:
	rm -rf $(BUILD)

.PHONY: all tools-static module modules-all sparse checkpatch qemu unit-build unit \
	unit-valgrind-build unit-valgrind selftests \
	bench-core deps check demo clean
