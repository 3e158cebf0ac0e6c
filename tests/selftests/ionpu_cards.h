/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers the ionpu selftests share: the cards the VM was booted with and
 * the cards the driver shows, their sysfs files, and the card's f32 fields.
 */
#ifndef IONPU_CARDS_H
#define IONPU_CARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hw/ionpu_le.h>
#include <linux/ionpu.h>

#define IONPU_TEST_MAX_CARDS	16

/* A card as the driver shows it in /sys/class/ionpu. */
struct ionpu_test_card {
	char name[32];			/* ionpu<N> */
	char node[48];			/* /dev/ionpu<N> */
	char pci[32];			/* PCI address */
	char serial[IONPU_SERIAL_LEN + 1];
	unsigned int tiles;
	unsigned long long seed;
};

/* A card as the VM's QEMU command line made it (IONPU_CARDS). */
struct ionpu_test_expect {
	char serial[IONPU_SERIAL_LEN + 1];
	unsigned int tiles;
	unsigned long long seed;
};

/* Cards in /sys/class/ionpu, sorted by name; returns the count or -errno. */
int ionpu_test_cards(struct ionpu_test_card *cards, int max);

/*
 * Opens the first card read-write; fills @card.  Returns the file
 * descriptor, -ENODEV when the machine has no card, or -errno.
 */
int ionpu_test_open_first(struct ionpu_test_card *card);
/* The same for the last card. */
int ionpu_test_open_last(struct ionpu_test_card *card);

/*
 * Parses IONPU_CARDS ("serial:tiles:seed,..."); returns the count, -ENOENT
 * when the variable is not set, -EINVAL when it is malformed.
 */
int ionpu_test_expected(struct ionpu_test_expect *exp, int max);

/* Where the driver's debugfs files are. */
#define IONPU_TEST_DEBUGFS	"/sys/kernel/debug/ionpu"

/*
 * Opens the first card that can inject faults (QEMU ionpu,faults=on)
 * read-write; fills @card.  Returns the file descriptor, -ENODEV when no
 * card can, or -errno.
 */
int ionpu_test_open_fault_card(struct ionpu_test_card *card);
/* Makes @card inject IONPU_FAULT_* @fault; returns 0 or -errno. */
int ionpu_test_inject(const struct ionpu_test_card *card, unsigned int fault);
/* The number on the "@name: " line of @card's debugfs @file, or -1. */
long ionpu_test_debugfs_long(const struct ionpu_test_card *card,
			     const char *file, const char *name);

/*
 * The module parameters that decide how the driver finds and handles a
 * hung card, as a test that injects hangs found them.
 */
struct ionpu_test_hang_params {
	char cmd_timeout_ms[32];
	char watchdog_ms[32];
	char max_hang_resets[32];
};

/*
 * Saves the hang parameters into @saved, then sets cmd_timeout_ms to
 * @timeout_ms and watchdog_ms to @watchdog_ms ("0": off) and lifts the
 * limit of hang resets a minute, which tests that hang the card one after
 * the other would reach.  Returns 0 or -errno.
 */
int ionpu_test_hang_params_set(struct ionpu_test_hang_params *saved,
			       const char *timeout_ms, const char *watchdog_ms);
/* Puts back what ionpu_test_hang_params_set() saved. */
void ionpu_test_hang_params_restore(const struct ionpu_test_hang_params *saved);
/* Sets module parameter @name of ionpu to @val; returns 0 or -errno. */
int ionpu_test_param_set(const char *name, const char *val);

/* Reads a sysfs file into buf without its trailing newline. */
int ionpu_test_read_file(const char *path, char *buf, size_t len);
/* The number sysfs attribute @attr of @card holds, or -1. */
long ionpu_test_card_long(const struct ionpu_test_card *card, const char *attr);
/* Writes a string to a sysfs or debugfs file; returns 0 or -errno. */
int ionpu_test_write_file(const char *path, const char *val);
/* Waits up to timeout_ms for path to exist (present) or not. */
bool ionpu_test_wait_path(const char *path, bool present, int timeout_ms);
/* The events (POLLIN, POLLPRI) @fd has now, without waiting. */
short ionpu_test_poll(int fd);
/*
 * Waits up to @seconds for child @pid to end, into *@status; one that does
 * not is stuck in the kernel: its stack is logged, then it is killed.
 * Returns whether it ended by itself.
 */
bool ionpu_test_child_ended(pid_t pid, int *status, int seconds);

#endif /* IONPU_CARDS_H */
