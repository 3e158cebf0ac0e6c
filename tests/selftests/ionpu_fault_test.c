// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults the card injects (QEMU property faults=on): a DMA error reaches the
 * caller as EIO, a hung card or a corrupted completion makes the command
 * time out and the driver reset the card, after which the next command
 * works; the watchdog finds a card that hangs under a RUN nobody could time
 * out, or with every command slot held by callers that were killed; a
 * completion the card could not write ends its RUN through a reset; a
 * spurious interrupt changes nothing; a stale duplicate of a completion
 * does not complete the next command of its slot; a card that does not
 * come back from a reset is dead (ENODEV, sysfs state "dead") until a
 * reset succeeds; nor is one that hangs more than max_hang_resets times a
 * minute, until a reset is asked for.  And every fault again and again
 * while three processes run jobs: each job gives the network's output or
 * an error, never a wrong output; no process hangs; the card ends up
 * computing exactly, with nothing left abandoned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_job_loop.h"
#include "ionpu_net.h"

FIXTURE(fault) {
	struct ionpu_test_card card;
	struct ionpu_test_hang_params saved;
	int fd;
};

static int counters(int fd)
{
	struct ionpu_counters c = { 0 };

	return ioctl(fd, IONPU_IOC_COUNTERS, &c) ? -errno : 0;
}

/*
 * Waits up to 20 s for the driver to have reset the card @want times: a
 * reset takes well under a second, but a VM under TCG on a loaded host may
 * not run for seconds at a time.
 */
static bool recovered(const struct ionpu_test_card *card, long want)
{
	const struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };

	for (int i = 0; i < 400; i++) {
		if (ionpu_test_debugfs_long(card, "queues", "recoveries") >= want)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/*
 * A child that runs @timesteps (0: until STOP) on @fd and exits 0 when the
 * RUN fails with EIO, 1 otherwise; killed by its own alarm after 20 s.
 * Returns its pid, or -1 when it cannot be started.
 */
static pid_t run_expecting_eio(int fd, unsigned int timesteps)
{
	pid_t child = fork();

	if (child == 0) {
		struct ionpu_run run = { .timesteps = timesteps };

		alarm(20);
		_exit(ioctl(fd, IONPU_IOC_RUN, &run) == -1 && errno == EIO ? 0 : 1);
	}
	return child;
}

FIXTURE_SETUP(fault)
{
	self->fd = ionpu_test_open_fault_card(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no card has fault injection (QEMU ionpu,faults=on)");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, counters(self->fd));

	/*
	 * Hangs are found by command timeouts: keep them short here.  The
	 * watchdog is off unless a test is about it: a VM that stalls past its
	 * period lets its probe find the hang first, and the command then
	 * fails with the reset's EIO instead of its own timeout.
	 */
	ASSERT_EQ(0, ionpu_test_hang_params_set(&self->saved, "300", "0"));
}

FIXTURE_TEARDOWN(fault)
{
	if (self->fd < 0)
		return;
	close(self->fd);
	ionpu_test_hang_params_restore(&self->saved);
}

TEST_F(fault, dma_error_reaches_the_caller)
{
	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_DMA_ERROR));
	EXPECT_EQ(-EIO, counters(self->fd));
	EXPECT_EQ(0, counters(self->fd));
}

TEST_F(fault, hung_card_is_reset_and_works_again)
{
	long before = ionpu_test_debugfs_long(&self->card, "queues", "recoveries");

	ASSERT_LE(0, before);
	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_HANG));
	EXPECT_EQ(-ETIMEDOUT, counters(self->fd));
	ASSERT_TRUE(recovered(&self->card, before + 1));
	EXPECT_EQ(0, counters(self->fd));
	EXPECT_EQ(0, ionpu_test_debugfs_long(&self->card, "queues", "abandoned"));
}

/* 0 when sysfs attribute @attr of @card reads @want, else -1. */
static int card_attr_is(const struct ionpu_test_card *card, const char *attr,
			const char *want)
{
	char path[128], got[64];

	snprintf(path, sizeof(path), "/sys/class/ionpu/%s/%s", card->name, attr);
	if (ionpu_test_read_file(path, got, sizeof(got)) || strcmp(got, want))
		return -1;
	return 0;
}

/*
 * A RUN until STOP waits as long as the run: only the watchdog's probe can
 * find the hang.  The child's RUN must fail with EIO, in bounded time.
 */
TEST_F(fault, watchdog_finds_a_hang_under_an_endless_run)
{
	struct ionpu_lease lease = { .count = 1 };
	long hangs = ionpu_test_card_long(&self->card, "hangs");
	long resets = ionpu_test_card_long(&self->card, "resets");
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	int status = -1, i;
	pid_t child;

	ASSERT_LE(0, hangs);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_LEASE, &lease));
	ASSERT_EQ(0, ionpu_test_param_set("watchdog_ms", "100"));
	child = run_expecting_eio(self->fd, 0);
	ASSERT_LE(0, child);
	nanosleep(&tick, NULL);
	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_HANG));

	/* Watchdog tick + probe timeout + reset: well below 10 s. */
	EXPECT_TRUE(ionpu_test_child_ended(child, &status, 10))
		TH_LOG("the RUN was not failed within 10 s");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("RUN did not fail with EIO (status %#x)", status);
	EXPECT_EQ(hangs + 1, ionpu_test_card_long(&self->card, "hangs"));
	/* The RUN fails when the reset starts; the count comes at its end. */
	for (i = 0; i < 50 && ionpu_test_card_long(&self->card, "resets") <= resets; i++)
		nanosleep(&tick, NULL);
	EXPECT_EQ(resets + 1, ionpu_test_card_long(&self->card, "resets"));
	EXPECT_EQ(0, card_attr_is(&self->card, "last_reset", "hang"));
	EXPECT_EQ(0, counters(self->fd));
}

/* More than the driver's command slots: every slot is taken, some wait. */
#define SLOT_HOGS	72

/*
 * Commands whose callers were killed on a hung card take every slot, so no
 * watchdog probe gets through and nobody waits to time them out: the
 * watchdog still resets the card once they are overdue.
 */
TEST_F(fault, watchdog_resets_a_card_whose_slots_all_wait_for_the_dead)
{
	const struct timespec poll = { .tv_nsec = 50 * 1000 * 1000 };
	long before = ionpu_test_debugfs_long(&self->card, "queues", "recoveries");
	long flight = 0;
	pid_t child[SLOT_HOGS];
	int i, steady;

	ASSERT_LE(0, before);
	/* Long enough for every child to be waiting, even on a debug kernel. */
	ASSERT_EQ(0, ionpu_test_param_set("cmd_timeout_ms", "5000"));
	ASSERT_EQ(0, ionpu_test_param_set("watchdog_ms", "100"));
	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_HANG));
	for (i = 0; i < SLOT_HOGS; i++) {
		child[i] = fork();
		ASSERT_LE(0, child[i]);
		if (child[i] == 0)
			_exit(counters(self->fd) ? 1 : 0);
	}
	/*
	 * Well inside the commands' timeout, once the commands in flight stop
	 * growing (every slot is taken, the other callers wait for one): each
	 * caller dies waiting.
	 */
	for (i = 0, steady = 0; i < 80 && steady < 5; i++) {
		long now = ionpu_test_debugfs_long(&self->card, "queues", "in_flight");

		steady = now > 0 && now == flight ? steady + 1 : 0;
		flight = now;
		nanosleep(&poll, NULL);
	}
	for (i = 0; i < SLOT_HOGS; i++) {
		kill(child[i], SIGKILL);
		waitpid(child[i], NULL, 0);
	}
	EXPECT_LT(0, ionpu_test_debugfs_long(&self->card, "queues", "abandoned"));
	/* Overdue after 5 s, found by the next tick: well within 20 s. */
	ASSERT_TRUE(recovered(&self->card, before + 1));
	EXPECT_EQ(0, counters(self->fd));
	EXPECT_EQ(0, ionpu_test_debugfs_long(&self->card, "queues", "abandoned"));
}

/*
 * The completion it stood for is lost: the driver resets the card rather
 * than let its command wait (a RUN would wait for ever), so the command
 * fails with the reset's EIO, or with its timeout when that comes first.
 */
TEST_F(fault, corrupted_completion_is_dropped_not_trusted)
{
	long bad = ionpu_test_debugfs_long(&self->card, "queues", "bad_completions");
	long before = ionpu_test_debugfs_long(&self->card, "queues", "recoveries");
	int ret;

	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_BAD_COMPLETION));
	ret = counters(self->fd);
	EXPECT_TRUE(ret == -EIO || ret == -ETIMEDOUT) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(bad + 1, ionpu_test_debugfs_long(&self->card, "queues", "bad_completions"));
	ASSERT_TRUE(recovered(&self->card, before + 1));
	EXPECT_EQ(0, counters(self->fd));
}

/*
 * The card could not write a RUN's completion: the RUN has no timeout and
 * the card still answers the watchdog, so only the card's error report can
 * end it.  The driver resets the card on it, and the RUN fails with EIO in
 * bounded time rather than wait for ever.
 */
TEST_F(fault, lost_completion_ends_its_run_with_a_reset)
{
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_info info = { 0 };
	long before = ionpu_test_debugfs_long(&self->card, "queues", "recoveries");
	int status = -1;
	pid_t child;

	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &info));
	if (info.hw_version < 0x00010005)
		SKIP(return, "card revision %#x has no LOST_COMPLETION fault (1.5)",
		     info.hw_version);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_LEASE, &lease));
	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_LOST_COMPLETION));
	child = run_expecting_eio(self->fd, 4);
	ASSERT_LE(0, child);
	EXPECT_TRUE(ionpu_test_child_ended(child, &status, 10))
		TH_LOG("the RUN whose completion was lost still waits after 10 s");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("RUN did not fail with EIO (status %#x)", status);
	ASSERT_TRUE(recovered(&self->card, before + 1));
	EXPECT_EQ(0, counters(self->fd));
	EXPECT_EQ(0, ionpu_test_debugfs_long(&self->card, "queues", "abandoned"));
}

TEST_F(fault, spurious_interrupt_changes_nothing)
{
	for (unsigned int vec = 0; vec < IONPU_NUM_VECTORS; vec++) {
		ASSERT_EQ(0, ionpu_test_inject(&self->card,
				    IONPU_FAULT_SPURIOUS_IRQ | vec << 8));
		EXPECT_EQ(0, counters(self->fd));
	}
	EXPECT_EQ(0, ionpu_test_debugfs_long(&self->card, "queues", "in_flight"));
}

/* The sysfs state of @card: "ok", "dead", ... */
static void card_state(const struct ionpu_test_card *card, char *buf,
		       size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/ionpu/%s/state", card->name);
	if (ionpu_test_read_file(path, buf, len))
		snprintf(buf, len, "unreadable");
}

/*
 * The copy of RUN 7's completion arrives while RUN 3 holds the same
 * command slot: it must be dropped as stale, so RUN 3 reports its own 3
 * timesteps, not 7.
 */
TEST_F(fault, stale_duplicate_completion_does_not_complete_the_next_command)
{
	long bad = ionpu_test_debugfs_long(&self->card, "queues", "bad_completions");
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_run first = { .timesteps = 7 }, second = { .timesteps = 3 };

	ASSERT_LE(0, bad);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_LEASE, &lease));
	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_DUP_COMPLETION));
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_RUN, &first));
	EXPECT_EQ(7, first.ran);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_RUN, &second));
	EXPECT_EQ(3, second.ran);
	EXPECT_EQ(bad + 1, ionpu_test_debugfs_long(&self->card, "queues", "bad_completions"));
	EXPECT_EQ(0, counters(self->fd));
	EXPECT_EQ(0, ionpu_test_debugfs_long(&self->card, "queues", "in_flight"));
}

/*
 * A reset the card does not come back from leaves it dead: calls fail
 * with ENODEV at once, files close, sysfs says so; the next reset that
 * succeeds revives it.
 */
TEST_F(fault, card_that_fails_its_reset_is_dead_until_a_reset_succeeds)
{
	struct ionpu_lease lease = { .count = 1 };
	char path[PATH_MAX], state[32];
	int other;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->card.pci);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", self->card.pci);
	other = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioctl(other, IONPU_IOC_LEASE, &lease));

	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_RESET_FAIL));
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	card_state(&self->card, state, sizeof(state));
	EXPECT_STREQ("dead", state);
	EXPECT_EQ(-ENODEV, counters(self->fd));
	EXPECT_EQ(-ENODEV, counters(other));
	/* A file that leased tiles closes; its tiles come back dirty. */
	EXPECT_EQ(0, close(other));

	ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_NONE));
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	card_state(&self->card, state, sizeof(state));
	EXPECT_STREQ("ok", state);
	EXPECT_EQ(0, counters(self->fd));
	/* The tile the dead card could not clean is cleaned at its lease. */
	lease = (struct ionpu_lease){ .flags = IONPU_LEASE_EXACT, .tiles = lease.tiles };
	EXPECT_EQ(0, ioctl(self->fd, IONPU_IOC_LEASE, &lease));
}

/* resets_by_cause/@cause of @card, or -1. */
static long resets_by(const struct ionpu_test_card *card, const char *cause)
{
	char attr[64];

	snprintf(attr, sizeof(attr), "resets_by_cause/%s", cause);
	return ionpu_test_card_long(card, attr);
}

/*
 * With max_hang_resets 1, the hang after one that was reset leaves the
 * card dead rather than reset again (or the first, if the minute already
 * saw one): calls fail with ENODEV; a reset asked for revives it.  Each
 * reset is counted by its cause.
 */
TEST_F(fault, card_that_keeps_hanging_is_left_dead)
{
	long hang = resets_by(&self->card, "hang");
	long requested = resets_by(&self->card, "requested");
	char path[PATH_MAX], state[32] = "ok";
	int hangs = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->card.pci);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", self->card.pci);
	ASSERT_LE(0, hang);
	ASSERT_LE(0, requested);
	ASSERT_EQ(0, ionpu_test_param_set("max_hang_resets", "1"));

	while (hangs < 2 && !strcmp(state, "ok")) {
		long before = ionpu_test_debugfs_long(&self->card, "queues",
						      "recoveries");

		ASSERT_EQ(0, ionpu_test_inject(&self->card, IONPU_FAULT_HANG));
		EXPECT_EQ(-ETIMEDOUT, counters(self->fd));
		hangs++;
		/* Until the reset is over: recovered, or dead. */
		for (int i = 0; i < 400; i++) {
			card_state(&self->card, state, sizeof(state));
			if (!strcmp(state, "dead") ||
			    ionpu_test_debugfs_long(&self->card, "queues",
						    "recoveries") > before)
				break;
			usleep(50 * 1000);
		}
	}
	EXPECT_STREQ("dead", state);
	EXPECT_EQ(-ENODEV, counters(self->fd));
	EXPECT_EQ(hang + hangs, resets_by(&self->card, "hang"));

	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	card_state(&self->card, state, sizeof(state));
	EXPECT_STREQ("ok", state);
	EXPECT_EQ(0, counters(self->fd));
	EXPECT_EQ(requested + 1, resets_by(&self->card, "requested"));
}

#define LOOP_ROUNDS	4

TEST_F_TIMEOUT(fault, every_fault_again_and_again_under_load, 300)
{
	/* The last one from card revision 1.5 on. */
	static const unsigned int faults[] = {
		IONPU_FAULT_HANG, IONPU_FAULT_DMA_ERROR, IONPU_FAULT_BAD_COMPLETION,
		IONPU_FAULT_DUP_COMPLETION, IONPU_FAULT_SPURIOUS_IRQ,
		IONPU_FAULT_LOST_COMPLETION,
	};
	unsigned int nfaults = sizeof(faults) / sizeof(faults[0]);
	struct ionpu_info info = { 0 };
	unsigned int injected = 0;
	struct job_loop *loop;

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_INFO, &info));
	if (info.hw_version < 0x00010005)
		nfaults--;
	/* A job's run waits as long as the run: the watchdog finds its hang. */
	ASSERT_EQ(0, ionpu_test_param_set("watchdog_ms", "100"));
	loop = job_loop_start(_metadata, &self->card, info.tiles);
	for (int r = 0; r < LOOP_ROUNDS; r++) {
		for (unsigned int f = 0; f < nfaults; f++) {
			long before = ionpu_test_debugfs_long(&self->card, "queues",
							      "recoveries");

			ASSERT_EQ(0, ionpu_test_inject(&self->card, faults[f]));
			injected++;
			/* The workers' commands meet it; a hang is reset. */
			usleep(200 * 1000);
			if (faults[f] == IONPU_FAULT_HANG ||
			    faults[f] == IONPU_FAULT_BAD_COMPLETION ||
			    faults[f] == IONPU_FAULT_LOST_COMPLETION)
				EXPECT_TRUE(recovered(&self->card, before + 1))
					TH_LOG("fault %u of round %d: no reset", faults[f], r);
		}
	}
	job_loop_end(_metadata, loop, "faults injected", injected);
	job_loop_fresh_tenant(_metadata, &self->card, info.tiles - 1);
}

TEST_HARNESS_MAIN
