// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocations that fail, one after the other: on a kernel with fault
 * injection (make check-debug's), /proc/thread-self/fail-nth makes the
 * n-th slab allocation of this task from now on fail, GFP_KERNEL included
 * (page allocations are left alone: the kernel reports each failed one with
 * a trace, which the VM's log check would take for a bug).  For n = 1, 2,
 * ... until the work no longer reaches an n-th allocation, a tenant's
 * ioctls (lease, configure, program, routes, a job) meet the failure at a
 * different point each time: the work must fail with an error or succeed
 * with the exact output, and the card must then compute exactly for a new
 * tenant.  kmemleak, at the end of the VM's run, finds what an error path
 * forgot to free.
 *
 * A failure can strike the kernel's own bookkeeping too: DMA-API debugging
 * turns itself off when it cannot allocate, so make check-debug runs this
 * test in a VM of its own, after the suite.  The driver's probe is not
 * tried so: the kernel's interrupt code (register_irq_proc()) does not
 * survive a failed allocation, and warns when the vectors are freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_net.h"

#define FAILSLAB	"/sys/kernel/debug/failslab/"
/* Past the allocations any of the work below makes. */
#define MAX_NTH		400

FIXTURE(failslab) {
	struct ionpu_test_card card;
	int nth;		/* /proc/thread-self/fail-nth */
	const char *skip;	/* why there is nothing to do, or NULL */
};

/* Only fail-nth fails: no random failures, none for other tasks, quiet. */
static int failslab_quiet(const char *dir)
{
	static const char *const set[][2] = {
		{ "probability", "0" }, { "verbose", "0" },
		{ "task-filter", "N" }, { "ignore-gfp-wait", "N" },
	};
	char path[PATH_MAX];

	for (unsigned int i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		int ret;

		snprintf(path, sizeof(path), "%s%s", dir, set[i][0]);
		ret = ionpu_test_write_file(path, set[i][1]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The setup says why there is nothing to do in @self->skip: a SKIP() in
 * the setup itself does not keep 6.1's harness from running the test.
 */
FIXTURE_SETUP(failslab)
{
	int fd;

	self->nth = -1;
	self->skip = NULL;
	if (access(FAILSLAB, F_OK)) {
		self->skip = "the kernel has no failslab (make check-debug's has)";
		return;
	}
	fd = ionpu_test_open_last(&self->card);
	if (fd == -ENODEV) {
		self->skip = "no ionpu card in this machine";
		return;
	}
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, failslab_quiet(FAILSLAB));
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
}

FIXTURE_TEARDOWN(failslab)
{
	if (self->nth >= 0)
		close(self->nth);
}

/* Arm the @n-th allocation from now on to fail. */
static int fail_nth(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth, buf, len, 0) == len ? 0 : -errno;
}

/* Disarm; true when the armed failure struck (nothing was left to count). */
static bool struck(int nth)
{
	char buf[16] = "";
	bool hit;

	if (pread(nth, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	hit = atoi(buf) == 0;
	fail_nth(nth, 0);
	return hit;
}

/* The card computes exactly on a fresh file: its network, a job. */
static bool card_computes(const struct ionpu_test_card *card)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_test_card again;
	unsigned int tile = 0;
	bool ok;
	int fd;

	fd = net_open(&again, &tile);
	if (fd < 0 || strcmp(again.pci, card->pci))
		return false;
	job_net_inputs(in, tile, 0);
	ok = !net_lease(fd, tile) && !net_build(fd, tile) &&
	     !net_ioctl(fd, IONPU_IOC_JOB, &j) &&
	     job_is_net_output(out, j.produced, tile, 0);
	close(fd);
	return ok;
}

TEST_F_TIMEOUT(failslab, ioctls_fail_cleanly_at_every_allocation, 600)
{
	unsigned int n, failed = 0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	for (n = 1; n <= MAX_NTH; n++) {
		struct ionpu_job_input in[2];
		struct ionpu_event out[JOB_ROOM];
		struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
		struct ionpu_test_card card;
		unsigned int tile = 0;
		int fd, ret;

		fd = net_open(&card, &tile);
		ASSERT_LE(0, fd);
		job_net_inputs(in, tile, 0);
		ASSERT_EQ(0, fail_nth(self->nth, n));
		ret = net_lease(fd, tile);
		if (!ret)
			ret = net_build(fd, tile);
		if (!ret)
			ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
		if (!struck(self->nth)) {
			ASSERT_EQ(0, ret);
			EXPECT_TRUE(job_is_net_output(out, j.produced, tile, 0));
			close(fd);
			break;
		}
		/* Failed or survived: never a wrong output. */
		if (ret)
			failed++;
		else
			EXPECT_TRUE(job_is_net_output(out, j.produced, tile, 0))
				TH_LOG("allocation %u failed: the job's output is wrong", n);
		close(fd);
	}
	ASSERT_GE(MAX_NTH, n) TH_LOG("the work still allocates after %u", MAX_NTH);
	TH_LOG("%u allocations of a tenant's lease, programming and job failed in turn: %u failed the work cleanly",
	       n - 1, failed);
	EXPECT_TRUE(card_computes(&self->card));
}

TEST_HARNESS_MAIN
