// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs that do not block (IONPU_RUN_NOWAIT) and IONPU_IOC_WAIT: the outcome
 * comes once, a deadline ends the wait and not the run, the run holds the
 * card's clock (runs get -EBUSY, other files' jobs wait, its own file's
 * get -EBUSY), only its own file's STOP ends it, closing the file stops
 * it, a killed RUN caller stops its run, a reset ends it with -EIO, and
 * malformed waits are refused.
 *
 * Runs on the machine's last card, as the network tests do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_net.h"

#define MS	1000000ULL

FIXTURE(wait) {
	struct ionpu_test_card card;
	unsigned int tile;	/* the tile the tests lease */
	int fd;
};

FIXTURE_SETUP(wait)
{
	NET_FIXTURE_OPEN(self);
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
}

FIXTURE_TEARDOWN(wait)
{
	if (self->fd >= 0)
		close(self->fd);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int run_nowait(int fd, unsigned int steps, struct ionpu_run *r)
{
	*r = (struct ionpu_run) {
		.flags = IONPU_RUN_NOWAIT, .timesteps = steps,
		.stopped = 7, .ran = 7,
	};
	return net_ioctl(fd, IONPU_IOC_RUN, r);
}

static int wait_run(int fd, uint64_t deadline, struct ionpu_wait *w)
{
	*w = (struct ionpu_wait) { .timeout_ns = deadline };
	return net_ioctl(fd, IONPU_IOC_WAIT, w);
}

/* Until the card's timestep counter moves: 0, or -ETIMEDOUT after 1 s. */
static int wait_for_steps(int fd)
{
	struct ionpu_counters before, now;
	int ret = net_counters(fd, &before);

	for (int i = 0; !ret && i < 1000; i++) {
		ret = net_counters(fd, &now);
		if (!ret && now.timesteps > before.timesteps)
			return 0;
		usleep(1000);
	}
	return ret ? ret : -ETIMEDOUT;
}

/*
 * STOP until it finds the run: one that reaches the card before the RUN
 * does ends nothing.  Returns the last STOP's result.
 */
static int stop_run(int fd, struct ionpu_stop *stop)
{
	int ret = 0;

	for (int i = 0; i < 1000; i++) {
		*stop = (struct ionpu_stop) { 0 };
		ret = net_ioctl(fd, IONPU_IOC_STOP, stop);
		if (ret || stop->stopped)
			break;
		usleep(1000);
	}
	return ret;
}

/* 0 when the card's clock stands still over 50 ms, else -EBUSY. */
static int clock_stands_still(int fd)
{
	struct ionpu_counters a, b;
	int ret = net_counters(fd, &a);

	usleep(50000);
	if (!ret)
		ret = net_counters(fd, &b);
	if (!ret && b.timesteps != a.timesteps)
		ret = -EBUSY;
	return ret;
}

TEST_F(wait, nowait_run_outcome_comes_once_with_its_spikes)
{
	struct ionpu_event ev[NET_EVENTS + 1];
	struct ionpu_run run;
	struct ionpu_wait w;
	ssize_t got;

	ASSERT_EQ(0, net_build(self->fd, self->tile));
	ASSERT_EQ(0, net_input(self->fd, self->tile));
	ASSERT_EQ(0, run_nowait(self->fd, NET_STEPS, &run));
	EXPECT_EQ(0, run.ran);
	EXPECT_EQ(0, run.stopped);

	ASSERT_EQ(0, wait_run(self->fd, 0, &w));
	EXPECT_EQ(NET_STEPS, w.ran);
	EXPECT_EQ(0, w.stopped);
	/* Every spike of the run is there once WAIT returned. */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	got = read(self->fd, ev, sizeof(ev));
	ASSERT_EQ(NET_EVENTS * sizeof(ev[0]), got) TH_LOG("read: %zd %m", got);
	for (int i = 0; i < NET_EVENTS; i++) {
		EXPECT_EQ(net_expected[i].neuron, ev[i].neuron);
		EXPECT_EQ(net_expected[i].step, ev[i].timestep - ev[0].timestep);
		EXPECT_EQ(self->tile, ev[i].tile);
	}
	/* The outcome was collected: there is no run left to wait for. */
	EXPECT_EQ(-ENOENT, wait_run(self->fd, 0, &w));
}

TEST_F(wait, without_a_run_there_is_nothing_to_wait_for)
{
	struct ionpu_wait w;

	EXPECT_EQ(-ENOENT, wait_run(self->fd, 0, &w));
	EXPECT_EQ(-ENOENT, wait_run(self->fd, now_ns() + 10 * MS, &w));
}

TEST_F(wait, deadline_ends_the_wait_not_the_run)
{
	struct ionpu_stop stop;
	struct ionpu_run run;
	struct ionpu_wait w;
	uint64_t t0;

	ASSERT_EQ(0, run_nowait(self->fd, 0, &run));
	/* A deadline already past only polls. */
	EXPECT_EQ(-ETIMEDOUT, wait_run(self->fd, now_ns() / 2, &w));
	EXPECT_EQ(-ETIMEDOUT, wait_run(self->fd, 1, &w));
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, wait_run(self->fd, t0 + 50 * MS, &w));
	EXPECT_LE(t0 + 50 * MS, now_ns());
	/* The run goes on after the timeouts. */
	ASSERT_EQ(0, wait_for_steps(self->fd));

	ASSERT_EQ(0, stop_run(self->fd, &stop));
	EXPECT_EQ(1, stop.stopped);
	ASSERT_EQ(0, wait_run(self->fd, now_ns() + 5000 * MS, &w));
	EXPECT_EQ(1, w.stopped);
	EXPECT_LE(1, w.ran);
	EXPECT_EQ(0, clock_stands_still(self->fd));
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(wait, signal_handler_restarts_the_wait_with_its_deadline)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	struct ionpu_stop stop;
	struct ionpu_run run;
	struct ionpu_wait w;
	uint64_t t0;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, run_nowait(self->fd, 0, &run));
	t0 = now_ns();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	/* Restarted after the handler, the wait still ends at its deadline. */
	EXPECT_EQ(-ETIMEDOUT, wait_run(self->fd, t0 + 200 * MS, &w));
	EXPECT_LE(t0 + 200 * MS, now_ns());

	/* Without SA_RESTART the caller sees the signal. */
	sa.sa_flags = 0;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	t0 = now_ns();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, wait_run(self->fd, 0, &w));
	EXPECT_GT(t0 + 5000 * MS, now_ns());

	ASSERT_EQ(0, stop_run(self->fd, &stop));
	ASSERT_EQ(0, wait_run(self->fd, 0, &w));
	EXPECT_EQ(1, w.stopped);
}

TEST_F(wait, nowait_run_holds_the_clock)
{
	struct ionpu_release rel = { .tiles = 1ULL << self->tile };
	struct ionpu_run run, other;
	struct ionpu_stop stop;
	struct ionpu_wait w;
	int fd2;

	ASSERT_EQ(0, run_nowait(self->fd, 0, &run));
	EXPECT_EQ(-EBUSY, run_nowait(self->fd, 1, &other));
	EXPECT_EQ(-EBUSY, net_run(self->fd, 1, &other));
	/* Another file, with a tile of its own, gets no run either. */
	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, net_lease(fd2, self->tile - 1));
	EXPECT_EQ(-EBUSY, run_nowait(fd2, 1, &other));
	EXPECT_EQ(-EBUSY, net_run(fd2, 1, &other));
	/* Another lessee's STOP leaves the run going. */
	ASSERT_EQ(0, wait_for_steps(self->fd));
	stop.stopped = 7;
	ASSERT_EQ(0, net_ioctl(fd2, IONPU_IOC_STOP, &stop));
	EXPECT_EQ(0, stop.stopped);
	EXPECT_EQ(-EBUSY, net_run(fd2, 1, &other));
	/* Only the file that started the run waits for it, lease or not. */
	EXPECT_EQ(-ENOENT, wait_run(fd2, 0, &w));
	ASSERT_EQ(0, stop_run(self->fd, &stop));
	EXPECT_EQ(1, stop.stopped);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RELEASE, &rel));
	ASSERT_EQ(0, wait_run(self->fd, 0, &w));
	EXPECT_EQ(1, w.stopped);
	/* The clock is free again. */
	ASSERT_EQ(0, net_run(fd2, 1, &other));
	EXPECT_EQ(1, other.ran);
	close(fd2);
}

/*
 * Another file's job gets in between two slices of the run, which goes on;
 * a job of the run's own file cannot (only that file can end the run, and
 * the job would hold it open): -EBUSY.
 */
TEST_F(wait, another_files_job_gets_in_while_a_nowait_run_goes_on)
{
	struct ionpu_job j = { .flags = IONPU_JOB_KEEP_STATE, .timesteps = 1 };
	struct ionpu_stop stop;
	struct ionpu_run run;
	struct ionpu_wait w;
	int status = -1;
	pid_t child;
	int fd2;

	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, net_lease(fd2, self->tile - 1));
	ASSERT_EQ(0, run_nowait(self->fd, 0, &run));
	ASSERT_EQ(0, wait_for_steps(self->fd));
	EXPECT_EQ(-EBUSY, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		alarm(20);
		_exit(net_ioctl(fd2, IONPU_IOC_JOB, &j) ? 1 : 0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* A deadline already past polls: the run still goes on. */
	EXPECT_EQ(-ETIMEDOUT, wait_run(self->fd, 1, &w));

	ASSERT_EQ(0, stop_run(self->fd, &stop));
	ASSERT_EQ(0, wait_run(self->fd, 0, &w));
	EXPECT_EQ(1, w.stopped);
	close(fd2);
}

TEST_F(wait, closing_the_file_stops_its_run)
{
	struct ionpu_run run, mine;
	int fd2;

	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, net_lease(fd2, self->tile - 1));
	ASSERT_EQ(0, run_nowait(fd2, 0, &run));
	ASSERT_EQ(0, wait_for_steps(self->fd));
	EXPECT_EQ(-EBUSY, net_run(self->fd, 1, &mine));

	/* No STOP: the close ends the run before it returns. */
	ASSERT_EQ(0, close(fd2));
	EXPECT_EQ(0, clock_stands_still(self->fd));
	ASSERT_EQ(0, net_run(self->fd, 1, &mine));
	EXPECT_EQ(1, mine.ran);
	EXPECT_EQ(0, mine.stopped);
}

TEST_F(wait, killed_run_caller_stops_its_run)
{
	struct ionpu_run mine;
	int status = -1, ret = -EBUSY;
	pid_t child;

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct ionpu_run run = { .timesteps = 0 };

		alarm(20);
		/* Shares the parent's file: its exit closes nothing. */
		net_ioctl(self->fd, IONPU_IOC_RUN, &run);
		_exit(1);
	}
	ASSERT_EQ(0, wait_for_steps(self->fd));
	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	/* The STOP may still be on its way to the card: a few BUSY at most. */
	for (int i = 0; ret == -EBUSY && i < 1000; i++) {
		ret = net_run(self->fd, 1, &mine);
		if (ret == -EBUSY)
			usleep(1000);
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(1, mine.ran);
	EXPECT_EQ(0, clock_stands_still(self->fd));
}

TEST_F(wait, a_reset_ends_the_run_with_eio)
{
	struct ionpu_ack_reset ack = { 0 };
	struct ionpu_run run, mine;
	struct ionpu_wait w;
	char path[PATH_MAX];

	ASSERT_EQ(0, run_nowait(self->fd, 0, &run));
	ASSERT_EQ(0, wait_for_steps(self->fd));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset",
		 self->card.pci);
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	/*
	 * The outcome is the card's error, once; the card runs again once
	 * the file has acknowledged the reset, which cleared its tiles.
	 */
	EXPECT_EQ(-EIO, wait_run(self->fd, now_ns() + 5000 * MS, &w));
	EXPECT_EQ(-ENOENT, wait_run(self->fd, 0, &w));
	EXPECT_EQ(-ESTALE, net_run(self->fd, 1, &mine));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_ACK_RESET, &ack));
	ASSERT_EQ(0, net_run(self->fd, 1, &mine));
	EXPECT_EQ(1, mine.ran);
}

TEST_F(wait, malformed_arguments_are_refused)
{
	struct {
		struct ionpu_wait w;
		uint64_t extra;
	} big = { .extra = 1 };
	struct ionpu_run run = { .flags = IONPU_RUN_NOWAIT << 1 };
	struct ionpu_wait w = { .flags = 1 };

	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_WAIT, &w));
	w.flags = 0;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd,
				     net_resize(IONPU_IOC_WAIT, 16), &w));
	EXPECT_EQ(-E2BIG, net_ioctl(self->fd,
				    net_resize(IONPU_IOC_WAIT, sizeof(big)),
				    &big));
	EXPECT_EQ(-ENOTTY, net_ioctl(self->fd,
				     _IOW(IONPU_IOCTL_BASE, 0x1c,
					  struct ionpu_wait), &w));
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	run.flags = IONPU_RUN_NOWAIT;
	run.reserved = 1;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	/* A trailing zero is fine: the wait itself answers. */
	big.extra = 0;
	EXPECT_EQ(-ENOENT, net_ioctl(self->fd,
				     net_resize(IONPU_IOC_WAIT, sizeof(big)),
				     &big));
}

TEST_HARNESS_MAIN
