// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command queues: commands reach the card and come back matched to their
 * caller, also with many in flight from many threads at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define THREADS		8
#define READS		200

FIXTURE(queue) {
	struct ionpu_test_card card;
	int fd;
};

FIXTURE_SETUP(queue)
{
	struct ionpu_info info = { 0 };

	self->fd = ionpu_test_open_first(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &info));
	if (!(info.caps & IONPU_CAP_QUEUES))
		SKIP(return, "the card has no command queues (hw %u.%u)",
		     info.hw_version >> 16, info.hw_version & 0xffff);
}

FIXTURE_TEARDOWN(queue)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * The card's counters are the whole card's since its last reset, so earlier
 * tests' runs are in them: reset it first, then nothing has run on it.
 */
TEST_F(queue, counters_are_read_from_the_card)
{
	struct ionpu_ack_reset ack = { 0 };
	struct ionpu_counters c;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->card.pci);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", self->card.pci);
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_ACK_RESET, &ack)) TH_LOG("%m");

	memset(&c, 0xff, sizeof(c));
	c.flags = 0;
	c.reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_COUNTERS, &c)) TH_LOG("%m");
	/* The card said so, not the poison. */
	EXPECT_EQ(0, c.timesteps);
	EXPECT_EQ(0, c.spikes_in);
	EXPECT_EQ(0, c.events_dropped);
	EXPECT_NE(~0ULL, c.energy_fj);
}

TEST_F(queue, dirty_counters_struct_is_refused)
{
	/* A flag this driver does not know. */
	struct ionpu_counters c = { .flags = IONPU_COUNTERS_FILE << 1 };

	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_COUNTERS, &c));
	EXPECT_EQ(EINVAL, errno);
	c.flags = 0;
	c.reserved = 2;
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_COUNTERS, &c));
	EXPECT_EQ(EINVAL, errno);
}

struct reader {
	int fd;
	int failures;
	int last_errno;
};

static void *read_counters(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < READS; i++) {
		struct ionpu_counters c = { 0 };

		if (ioctl(r->fd, IONPU_IOC_COUNTERS, &c)) {
			r->failures++;
			r->last_errno = errno;
		}
	}
	return NULL;
}

/* More threads than the driver has command slots would be fine too. */
TEST_F(queue, many_commands_in_flight_all_complete)
{
	struct reader r[THREADS];
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		r[i] = (struct reader){ .fd = self->fd };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, read_counters, &r[i]));
	}
	for (int i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, r[i].failures)
			TH_LOG("thread %d: %d failures, last %s", i,
			       r[i].failures, strerror(r[i].last_errno));
	}
}

TEST_HARNESS_MAIN
