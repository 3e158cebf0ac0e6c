// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sharing the card's one clock between files (API version 4): a RUN longer
 * than IONPU_RUN_MAX_TIMESTEPS is refused; a run until STOP lets another
 * file's job in between two of its slices; files with jobs waiting take
 * turns, so a file with a queue of long jobs does not hold back another's
 * short one; IONPU_IOC_CANCEL ends the file's run and its jobs, queued or
 * running; closing the file cancels the jobs submitted through it, also on
 * kernels whose io_uring cannot cancel commands itself.  A run or job with
 * a deadline (API version 6) ends alone when it passes: the card is not
 * reset and other files' work goes on.
 *
 * The long jobs are sized from the card's speed, measured first, to last
 * about LONG_JOB_S seconds (at most IONPU_JOB_MAX_TIMESTEPS), so that "at
 * once" and "after them" differ by far more than the VM's jitter.
 *
 * Runs on the machine's last card, like the other network tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_uring.h"

/* Long jobs a test queues, and about how long each lasts (s). */
#define LONG_JOBS	4
#define LONG_JOB_S	8.0
/* Shorter than this (s), they prove nothing. */
#define LONG_JOB_MIN_S	3.0
/*
 * Seconds a test may take, and a child's job: the VM's speed varies with
 * the host's load by several times, which only these limits need allow for.
 */
#define SCHED_TIMEOUT_S	240
#define CHILD_LIMIT_S	150
/* Timesteps run to measure the card's speed: several slices. */
#define SPEED_STEPS	(256 * IONPU_RUN_SLICE_TIMESTEPS)

FIXTURE(sched) {
	struct ionpu_test_card card;
	unsigned int tile;
	int fd;
	struct io_uring ring;
	bool ring_ok;
	unsigned int long_steps;
	double long_s;
	struct ionpu_job long_job[LONG_JOBS];
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* CLOCK_MONOTONIC nanoseconds @s seconds from now: a UAPI deadline. */
static __u64 deadline_in(double s)
{
	return (__u64)((now_s() + s) * 1e9);
}

static unsigned int card_resets(int fd)
{
	struct ionpu_info info = { 0 };

	return ioctl(fd, IONPU_IOC_INFO, &info) ? ~0U : info.resets;
}

/* Seconds the card takes for @steps timesteps, from a RUN on @fd. */
static double seconds_for(int fd, unsigned int steps)
{
	struct ionpu_run run = { .timesteps = SPEED_STEPS };
	double t0 = now_s();

	if (net_ioctl(fd, IONPU_IOC_RUN, &run) || !run.ran)
		return -1;
	return (now_s() - t0) * steps / run.ran;
}

FIXTURE_SETUP(sched)
{
	int ret;

	self->ring_ok = false;
	NET_FIXTURE_BUILD(self);
	ret = io_uring_queue_init(2 * LONG_JOBS, &self->ring, 0);
	if (ret == -ENOSYS)
		SKIP(return, "the kernel has no io_uring");
	ASSERT_EQ(0, ret);
	self->ring_ok = true;

	self->long_s = seconds_for(self->fd, IONPU_JOB_MAX_TIMESTEPS);
	ASSERT_LT(0, self->long_s);
	if (self->long_s < LONG_JOB_MIN_S)
		SKIP(return, "the card runs a job's %u timesteps in %.1f s",
		     IONPU_JOB_MAX_TIMESTEPS, self->long_s);
	self->long_steps = IONPU_JOB_MAX_TIMESTEPS;
	if (self->long_s > LONG_JOB_S) {
		self->long_steps = (unsigned int)(self->long_steps * LONG_JOB_S /
						  self->long_s);
		self->long_s = LONG_JOB_S;
	}
	TH_LOG("long jobs: %u timesteps, about %.1f s", self->long_steps,
	       self->long_s);
}

FIXTURE_TEARDOWN(sched)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
}

/* Queue LONG_JOBS jobs of self->long_steps on @fd through the ring. */
static int queue_long_jobs(FIXTURE_DATA(sched) *self, int fd)
{
	for (unsigned int i = 0; i < LONG_JOBS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		if (!sqe)
			return -EBUSY;
		self->long_job[i] = (struct ionpu_job){
			.timesteps = self->long_steps,
		};
		uring_prep_job(sqe, fd, &self->long_job[i], i);
	}
	return io_uring_submit(&self->ring) == LONG_JOBS ? 0 : -EIO;
}

/*
 * Completions of the long jobs that are there within @wait_s seconds:
 * how many; *@cancelled of them with -ECANCELED.
 */
static int reap_long_jobs(struct __test_metadata *_metadata,
			  struct io_uring *ring, double wait_s, int *cancelled)
{
	struct __kernel_timespec ts = {
		.tv_sec = (long long)wait_s,
		.tv_nsec = (long long)((wait_s - (long long)wait_s) * 1e9),
	};
	struct io_uring_cqe *cqe;
	int n = 0;

	*cancelled = 0;
	while (n < LONG_JOBS && !io_uring_wait_cqe_timeout(ring, &cqe, &ts)) {
		*cancelled += cqe->res == -ECANCELED;
		if (cqe->res != -ECANCELED)
			TH_LOG("long job %llu: %d", (unsigned long long)cqe->user_data,
			       cqe->res);
		io_uring_cqe_seen(ring, cqe);
		n++;
	}
	return n;
}

TEST_F_TIMEOUT(sched, a_run_beyond_the_limit_is_refused, SCHED_TIMEOUT_S)
{
	struct ionpu_run run = { .timesteps = IONPU_RUN_MAX_TIMESTEPS + 1 };

	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	run.flags = IONPU_RUN_NOWAIT;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	/* A run of several slices still runs every timestep asked for. */
	run = (struct ionpu_run){ .timesteps = 3 * IONPU_RUN_SLICE_TIMESTEPS + 5 };
	EXPECT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(3 * IONPU_RUN_SLICE_TIMESTEPS + 5, run.ran);
	EXPECT_EQ(0, run.stopped);
}

/*
 * The other file's job, within @limit_s: exits 0 with its network's
 * output, else with the job's errno, or 100 for a wrong output.  What it
 * waited for is told by what else completed meanwhile, not by the time.
 */
static void job_in_child(int fd, unsigned int tile, double limit_s)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	int ret;

	alarm((unsigned int)limit_s + 1);
	job_net_inputs(in, tile, 0);
	ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
	if (ret)
		_exit(-ret);
	_exit(job_is_net_output(out, j.produced, tile, 0) ? 0 : 100);
}

TEST_F_TIMEOUT(sched, an_endless_run_lets_another_files_job_in, SCHED_TIMEOUT_S)
{
	struct ionpu_run run = { .flags = IONPU_RUN_NOWAIT };
	struct ionpu_stop stop = { 0 };
	struct ionpu_wait w = { 0 };
	int other = net_other_file(self->card.node, self->tile - 1), status = -1;
	pid_t child;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		job_in_child(other, self->tile - 1, CHILD_LIMIT_S);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the job did not get in, or computed wrong (status %#x)", status);

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_STOP, &stop));
	EXPECT_EQ(1, stop.stopped);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_WAIT, &w));
	EXPECT_EQ(1, w.stopped);
	EXPECT_LT(0, w.ran);
	close(other);
}

TEST_F_TIMEOUT(sched, files_with_jobs_waiting_take_turns, SCHED_TIMEOUT_S)
{
	struct ionpu_cancel cancel = { 0 };
	struct io_uring_cqe *cqe;
	int other = net_other_file(self->card.node, self->tile - 1), status = -1;
	int done = 0, cancelled;
	pid_t child;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, queue_long_jobs(self, self->fd));
	child = fork();
	ASSERT_LE(0, child);
	/* Behind the long job that runs: not behind the queued ones. */
	if (child == 0)
		job_in_child(other, self->tile - 1, CHILD_LIMIT_S);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the short job waited for the long ones (status %#x)", status);
	/* It came in right behind the first long job, at most. */
	while (!io_uring_peek_cqe(&self->ring, &cqe)) {
		io_uring_cqe_seen(&self->ring, cqe);
		done++;
	}
	EXPECT_GE(1, done);

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_CANCEL, &cancel));
	EXPECT_EQ(LONG_JOBS - done, (int)cancel.jobs);
	EXPECT_EQ(LONG_JOBS - done, reap_long_jobs(_metadata, &self->ring, self->long_s / 2,
						   &cancelled));
	EXPECT_EQ(LONG_JOBS - done, cancelled);
	close(other);
}

TEST_F_TIMEOUT(sched, cancel_ends_the_files_run_and_its_jobs, SCHED_TIMEOUT_S)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	struct ionpu_run run = { .flags = IONPU_RUN_NOWAIT };
	struct ionpu_cancel cancel = { 0 };
	struct ionpu_wait w = { 0 };
	int cancelled;
	double t0;

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_CANCEL, &cancel));
	EXPECT_EQ(1, cancel.stopped);
	EXPECT_EQ(0, cancel.jobs);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_WAIT, &w));
	EXPECT_EQ(1, w.stopped);

	/* One running, the others queued behind it. */
	ASSERT_EQ(0, queue_long_jobs(self, self->fd));
	nanosleep(&tick, NULL);
	t0 = now_s();
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_CANCEL, &cancel));
	EXPECT_EQ(0, cancel.stopped);
	EXPECT_EQ(LONG_JOBS, cancel.jobs);
	EXPECT_EQ(LONG_JOBS, reap_long_jobs(_metadata, &self->ring, self->long_s / 2, &cancelled));
	EXPECT_EQ(LONG_JOBS, cancelled);
	EXPECT_GT(self->long_s / 2, now_s() - t0);
}

TEST_F_TIMEOUT(sched, closing_the_file_cancels_the_jobs_it_submitted, SCHED_TIMEOUT_S)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	int other = net_other_file(self->card.node, self->tile - 1), cancelled;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, queue_long_jobs(self, other));
	nanosleep(&tick, NULL);
	/* The ring still holds the file: only the close tells the driver. */
	ASSERT_EQ(0, close(other));
	EXPECT_EQ(LONG_JOBS, reap_long_jobs(_metadata, &self->ring, self->long_s / 2, &cancelled));
	EXPECT_EQ(LONG_JOBS, cancelled);
}

TEST_F_TIMEOUT(sched, a_run_ends_at_its_deadline_and_alone, SCHED_TIMEOUT_S)
{
	const double budget = self->long_s / 4, t0 = now_s();
	struct ionpu_run run = { .deadline_ns = deadline_in(budget) };
	unsigned int resets = card_resets(self->fd);
	struct ionpu_wait w = { 0 };
	int other = net_other_file(self->card.node, self->tile - 1), status = -1;
	pid_t child;

	ASSERT_LE(0, other);
	/* Until stopped: only the deadline ends it. */
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(IONPU_RUN_ENDED_DEADLINE, run.stopped);
	EXPECT_LT(0, run.ran);
	EXPECT_LE(budget, now_s() - t0);

	/* A NOWAIT run's deadline reaches WAIT. */
	run = (struct ionpu_run){ .flags = IONPU_RUN_NOWAIT,
				  .deadline_ns = deadline_in(budget) };
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_WAIT, &w));
	EXPECT_EQ(IONPU_RUN_ENDED_DEADLINE, w.stopped);
	EXPECT_LT(0, w.ran);

	/* A deadline already past: not a timestep. */
	run = (struct ionpu_run){ .timesteps = 100, .deadline_ns = 1 };
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(IONPU_RUN_ENDED_DEADLINE, run.stopped);
	EXPECT_EQ(0, run.ran);

	/* A run that ends first is not touched by its deadline. */
	run = (struct ionpu_run){ .timesteps = 100, .deadline_ns = deadline_in(60) };
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(0, run.stopped);
	EXPECT_EQ(100, run.ran);

	/* No reset: the other file's network still computes. */
	EXPECT_EQ(resets, card_resets(self->fd));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		job_in_child(other, self->tile - 1, CHILD_LIMIT_S);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the other file's job failed (status %#x)", status);
	close(other);
}

TEST_F_TIMEOUT(sched, a_job_past_its_deadline_fails_alone, SCHED_TIMEOUT_S)
{
	const double budget = self->long_s / 4;
	unsigned int resets = card_resets(self->fd);
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_cancel cancel = { 0 };
	int other = net_other_file(self->card.node, self->tile - 1), cancelled;
	struct io_uring_cqe *cqe;
	double t0;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, queue_long_jobs(self, self->fd));
	t0 = now_s();
	j.deadline_ns = deadline_in(budget);
	job_net_inputs(in, self->tile - 1, 0);
	/* Waiting for the clock behind them, it gives up at its deadline. */
	EXPECT_EQ(-ETIMEDOUT, net_ioctl(other, IONPU_IOC_JOB, &j));
	EXPECT_LE(budget, now_s() - t0);
	EXPECT_GT(self->long_s, now_s() - t0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_CANCEL, &cancel));
	EXPECT_EQ(LONG_JOBS, reap_long_jobs(_metadata, &self->ring, self->long_s / 2,
					    &cancelled));
	EXPECT_EQ(LONG_JOBS, cancelled);

	/* Running, through the ring: it ends at its next slice. */
	t0 = now_s();
	self->long_job[0] = (struct ionpu_job){
		.timesteps = self->long_steps,
		.deadline_ns = deadline_in(budget),
	};
	uring_prep_job(io_uring_get_sqe(&self->ring), self->fd, &self->long_job[0], 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(-ETIMEDOUT, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_LE(budget, now_s() - t0);
	EXPECT_GT(self->long_s / 2 + budget, now_s() - t0);

	/* No reset, and a job in time computes. */
	EXPECT_EQ(resets, card_resets(self->fd));
	j.deadline_ns = deadline_in(CHILD_LIMIT_S);
	ASSERT_EQ(0, net_ioctl(other, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, self->tile - 1, 0));
	close(other);
}

TEST_HARNESS_MAIN
