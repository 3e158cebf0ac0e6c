// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_uring on the card's file: hundreds of jobs in flight through
 * IONPU_URING_CMD_JOB, each completed once with its own right output;
 * malformed submissions; many READs of the spike stream in flight without
 * an io-wq worker; WRITEs of inputs; a ring or a file closed, or a task
 * gone, with jobs still queued leaves the card working.
 *
 * Runs on the machine's last card, like the other network tests.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_net.h"
#include "ionpu_uring.h"

#define JOBS		300
#define RING_ENTRIES	512
#define READS		64

FIXTURE(uring) {
	struct ionpu_test_card card;
	unsigned int tile;
	int fd;
	struct io_uring ring;
	bool ring_ok;
};

FIXTURE_SETUP(uring)
{
	int ret;

	self->ring_ok = false;
	NET_FIXTURE_BUILD(self);
	ret = io_uring_queue_init(RING_ENTRIES, &self->ring, 0);
	if (ret == -ENOSYS)
		SKIP(return, "the kernel has no io_uring");
	ASSERT_EQ(0, ret);
	self->ring_ok = true;
}

FIXTURE_TEARDOWN(uring)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
}

/* Waits for one completion: its result, with its user data in *@data. */
static int reap(struct io_uring *ring, uint64_t *data)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_wait_cqe(ring, &cqe);

	if (ret)
		return ret;
	*data = cqe->user_data;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* Submits one command and waits for its result. */
static int one_cmd(struct io_uring *ring, int fd, uint32_t cmd_op,
		   const struct ionpu_uring_job *cmd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint64_t data;
	int ret;

	if (!sqe)
		return -EBUSY;
	uring_prep_cmd(sqe, fd, cmd_op, cmd, 7);
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = reap(ring, &data);
	return data == 7 ? ret : -EPROTO;
}

struct job_slot {
	struct ionpu_job job;
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
};

TEST_F(uring, hundreds_of_jobs_in_flight_complete_once_each)
{
	struct job_slot *slot = calloc(JOBS, sizeof(*slot));
	unsigned int *seen = calloc(JOBS, sizeof(*seen));
	unsigned int good = 0;

	ASSERT_NE(NULL, slot);
	ASSERT_NE(NULL, seen);
	for (unsigned int i = 0; i < JOBS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		ASSERT_NE(NULL, sqe);
		job_net_inputs(slot[i].in, self->tile, i % 3);
		slot[i].job = job_of(slot[i].in, 2, slot[i].out, JOB_ROOM);
		uring_prep_job(sqe, self->fd, &slot[i].job, i);
	}
	/* Every job is in flight before the first completion is looked at. */
	ASSERT_EQ(JOBS, io_uring_submit(&self->ring));

	for (unsigned int n = 0; n < JOBS; n++) {
		uint64_t i;
		int res = reap(&self->ring, &i);

		ASSERT_GT(JOBS, i);
		seen[i]++;
		EXPECT_EQ(NET_EVENTS, res) TH_LOG("job %llu", (unsigned long long)i);
		if (res == NET_EVENTS && slot[i].job.produced == NET_EVENTS &&
		    job_is_net_output(slot[i].out, NET_EVENTS, self->tile, i % 3))
			good++;
	}
	EXPECT_EQ(JOBS, good);
	for (unsigned int i = 0; i < JOBS; i++) {
		EXPECT_EQ(1, seen[i]) TH_LOG("job %u", i);
	}
	free(slot);
	free(seen);
}

struct thread_submit {
	struct io_uring *ring;
	int fd;
	unsigned int tile;
	struct job_slot *slot;
	unsigned int n;
	int submitted;
};

static void *submit_and_exit(void *arg)
{
	struct thread_submit *t = arg;

	for (unsigned int i = 0; i < t->n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(t->ring);

		if (!sqe)
			return NULL;
		job_net_inputs(t->slot[i].in, t->tile, i % 3);
		t->slot[i].job = job_of(t->slot[i].in, 2, t->slot[i].out, JOB_ROOM);
		/* Long enough that the thread is gone before most complete. */
		t->slot[i].job.timesteps = 20000;
		uring_prep_job(sqe, t->fd, &t->slot[i].job, i);
	}
	t->submitted = io_uring_submit(t->ring);
	return NULL;
}

TEST_F(uring, jobs_of_a_thread_that_exited_reach_its_process)
{
	struct job_slot slot[32];
	struct thread_submit t = {
		.ring = &self->ring, .fd = self->fd, .tile = self->tile,
		.slot = slot, .n = 32,
	};
	unsigned int good = 0;
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, submit_and_exit, &t));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(32, t.submitted);
	for (unsigned int n = 0; n < 32; n++) {
		uint64_t i;
		int res = reap(&self->ring, &i);

		ASSERT_GT(32, i);
		EXPECT_EQ(NET_EVENTS, res) TH_LOG("job %llu", (unsigned long long)i);
		if (res == NET_EVENTS && slot[i].job.produced == NET_EVENTS &&
		    job_is_net_output(slot[i].out, NET_EVENTS, self->tile, i % 3))
			good++;
	}
	EXPECT_EQ(32, good);
}

TEST_F(uring, a_truncated_job_completes_with_the_events_written)
{
	struct job_slot s;
	struct ionpu_uring_job cmd = { .job = (uintptr_t)&s.job };

	job_net_inputs(s.in, self->tile, 0);
	s.job = job_of(s.in, 2, s.out, 3);
	EXPECT_EQ(3, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	EXPECT_EQ(NET_EVENTS, s.job.produced);
}

/*
 * @size lets the job grow as ioctl arguments do: a longer struct is taken
 * when the bytes the driver does not know are zero, else E2BIG.
 */
TEST_F(uring, a_longer_job_struct_is_taken_when_its_tail_is_zero)
{
	struct {
		struct ionpu_job job;
		uint64_t tail;	/* what a newer version would add */
	} g = { .tail = 0 };
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_uring_job cmd = {
		.job = (uintptr_t)&g.job, .size = sizeof(g),
	};

	_Static_assert(sizeof(g) == sizeof(g.job) + sizeof(g.tail), "no padding");
	job_net_inputs(in, self->tile, 0);
	g.job = job_of(in, 2, out, JOB_ROOM);
	EXPECT_EQ(NET_EVENTS, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	EXPECT_EQ(NET_EVENTS, g.job.produced);
	g.tail = 1;
	EXPECT_EQ(-E2BIG, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
}

TEST_F(uring, malformed_submissions_are_refused)
{
	struct job_slot s;
	struct ionpu_uring_job cmd = { .job = (uintptr_t)&s.job };
	int fd2;

	job_net_inputs(s.in, self->tile, 0);
	s.job = job_of(s.in, 2, s.out, JOB_ROOM);

	EXPECT_EQ(-ENOTTY, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB + 1,
				   &cmd));
	EXPECT_EQ(-ENOTTY, one_cmd(&self->ring, self->fd, IONPU_IOC_JOB, &cmd));
	cmd.flags = 1;
	EXPECT_EQ(-EINVAL, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	cmd.flags = 0;
	/* Shorter than the job's first version. */
	cmd.size = offsetof(struct ionpu_job, deadline_ns) - 8;
	EXPECT_EQ(-EINVAL, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	cmd.size = 0;
	cmd.job = 8;
	EXPECT_EQ(-EFAULT, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	cmd.job = (uintptr_t)&s.job;
	/* The job's own checks are IONPU_IOC_JOB's. */
	s.job.timesteps = 0;
	EXPECT_EQ(-EINVAL, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	s.job.timesteps = NET_STEPS;
	s.in[1].tile = self->tile - 1;
	EXPECT_EQ(-EACCES, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	s.in[1].tile = self->tile;
	/* Output room the job cannot write back to. */
	s.job.outputs = 8;
	EXPECT_EQ(-EFAULT, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB, &cmd));
	s.job.outputs = (uintptr_t)s.out;
	EXPECT_EQ(NET_EVENTS, one_cmd(&self->ring, self->fd, IONPU_URING_CMD_JOB,
				      &cmd));

	/* A file with no lease. */
	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EACCES, one_cmd(&self->ring, fd2, IONPU_URING_CMD_JOB, &cmd));
	close(fd2);
}

/* Submits @n jobs of one timestep at @job[0..n-1]; the submissions made. */
static int submit_short_jobs(struct io_uring *ring, int fd,
			     struct ionpu_job *job, unsigned int first,
			     unsigned int n)
{
	for (unsigned int i = first; i < first + n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (!sqe)
			return -EBUSY;
		job[i] = job_of(NULL, 0, NULL, 0);
		job[i].timesteps = 1;
		uring_prep_job(sqe, fd, &job[i], i);
	}
	return io_uring_submit(ring);
}

/*
 * A file's jobs run one after another: behind one of the most timesteps a
 * job may have, every job stays queued.  IONPU_IOC_CANCEL then completes
 * each one once, with -ECANCELED.
 */
TEST_F(uring, a_file_may_have_4096_jobs_in_flight)
{
	const unsigned int bound = 4096;
	struct ionpu_job *job = calloc(bound + 1, sizeof(*job));
	struct ionpu_cancel cancel = { 0 };
	unsigned int *seen = calloc(bound + 1, sizeof(*seen));
	struct io_uring_sqe *sqe;
	struct io_uring big;
	unsigned int again = 0, done = 0;

	ASSERT_NE(NULL, job);
	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, io_uring_queue_init(bound, &big, 0));
	sqe = io_uring_get_sqe(&big);
	ASSERT_NE(NULL, sqe);
	job[0] = (struct ionpu_job){ .timesteps = IONPU_JOB_MAX_TIMESTEPS };
	uring_prep_job(sqe, self->fd, &job[0], 0);
	ASSERT_EQ(1, io_uring_submit(&big));
	ASSERT_EQ(bound - 1, submit_short_jobs(&big, self->fd, job, 1, bound - 1));
	ASSERT_EQ(1, submit_short_jobs(&big, self->fd, job, bound, 1));
	/* The one beyond the bound is refused at once. */
	for (;;) {
		uint64_t i;
		int res = reap(&big, &i);

		if (i == bound) {
			EXPECT_EQ(-EAGAIN, res);
			again++;
			break;
		}
		done++;
	}
	EXPECT_EQ(0, done);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_CANCEL, &cancel));
	EXPECT_EQ(bound, cancel.jobs);
	for (; done < bound; done++) {
		uint64_t i;

		ASSERT_EQ(-ECANCELED, reap(&big, &i));
		ASSERT_GT(bound, i);
		seen[i]++;
	}
	for (unsigned int i = 0; i < bound; i++) {
		ASSERT_EQ(1, seen[i]) TH_LOG("job %u", i);
	}
	EXPECT_EQ(1, again);
	io_uring_queue_exit(&big);
	free(seen);
	free(job);
}

/* Threads of this process that io_uring started to do blocking work. */
static int io_wq_workers(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], comm[32];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if (!ionpu_test_read_file(path, comm, sizeof(comm)) &&
		    !strncmp(comm, "iou-wrk", 7))
			n++;
	}
	closedir(d);
	return n;
}

TEST_F(uring, many_reads_wait_for_spikes_without_a_worker)
{
	struct ionpu_event ev[READS];
	unsigned int per_neuron[NET_NEURONS] = { 0 };
	struct ionpu_run run;
	int runs = (READS + NET_EVENTS - 1) / NET_EVENTS;

	memset(ev, 0xff, sizeof(ev));
	for (unsigned int i = 0; i < READS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		ASSERT_NE(NULL, sqe);
		io_uring_prep_read(sqe, self->fd, &ev[i], sizeof(ev[i]), 0);
		sqe->user_data = i;
	}
	ASSERT_EQ(READS, io_uring_submit(&self->ring));
	/* Nothing to read: every READ waits on the file's poll, none in a thread. */
	usleep(100000);
	EXPECT_EQ(0, io_wq_workers());

	for (int r = 0; r < runs; r++) {
		ASSERT_EQ(0, net_input(self->fd, self->tile));
		ASSERT_EQ(0, net_run(self->fd, NET_STEPS, &run));
	}
	for (unsigned int n = 0; n < READS; n++) {
		uint64_t i;

		ASSERT_EQ(sizeof(ev[0]), reap(&self->ring, &i));
		ASSERT_GT(READS, i);
	}
	/* Each event was read once: the network's mix of neurons, whole runs first. */
	for (unsigned int i = 0; i < READS; i++) {
		ASSERT_GT(NET_NEURONS, ev[i].neuron) TH_LOG("read %u", i);
		EXPECT_EQ(self->tile, ev[i].tile);
		per_neuron[ev[i].neuron]++;
	}
	EXPECT_LE(2 * (READS / NET_EVENTS), per_neuron[0]);
	EXPECT_LE(READS / NET_EVENTS, per_neuron[1]);
	EXPECT_LE(2 * (READS / NET_EVENTS), per_neuron[3]);
	EXPECT_EQ(0, per_neuron[2]);
	EXPECT_EQ(READS, per_neuron[0] + per_neuron[1] + per_neuron[3]);
}

TEST_F(uring, writes_of_inputs_drive_the_network)
{
	struct ionpu_input in[8][2];
	struct ionpu_event ev[8 * NET_EVENTS + 1];
	struct ionpu_run run;
	ssize_t got;

	for (unsigned int i = 0; i < 8; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		/* Eight writes of two inputs each, all on the same two timesteps. */
		for (unsigned int k = 0; k < 2; k++)
			in[i][k] = (struct ionpu_input) {
				.row = 0, .tile = self->tile, .delay = k,
				.value = ionpu_f32_to_bits(1.0f / 8),
			};
		ASSERT_NE(NULL, sqe);
		io_uring_prep_write(sqe, self->fd, in[i], sizeof(in[i]), 0);
		sqe->user_data = i;
	}
	ASSERT_EQ(8, io_uring_submit(&self->ring));
	for (unsigned int n = 0; n < 8; n++) {
		uint64_t i;

		EXPECT_EQ(sizeof(in[0]), reap(&self->ring, &i));
	}
	/* Eight eighths on a row add up to one spike in each timestep. */
	ASSERT_EQ(0, net_run(self->fd, NET_STEPS, &run));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	got = read(self->fd, ev, sizeof(ev));
	ASSERT_EQ(NET_EVENTS * sizeof(ev[0]), got);
	for (unsigned int i = 0; i < NET_EVENTS; i++) {
		EXPECT_EQ(net_expected[i].neuron, ev[i].neuron);
	}
}

/*
 * Lease @tile on @fd, waiting up to 10 s for the file that had it to be
 * released: io_uring drops its files after the ring is gone, a job after
 * it ran.
 */
static int lease_when_free(int fd, unsigned int tile)
{
	int ret = -EBUSY;

	for (int i = 0; i < 1000 && ret == -EBUSY; i++) {
		ret = net_lease(fd, tile);
		if (ret == -EBUSY)
			usleep(10000);
	}
	return ret;
}

/*
 * In a child: open the card, lease @tile, queue long jobs, then leave in
 * one of three ways.  The card must then run the parent's job as ever.
 */
enum leave { LEAVE_EXIT, LEAVE_RING_EXIT, LEAVE_CLOSE_FILE_FIRST };

static int queue_and_leave(const char *node, unsigned int tile,
			   enum leave how)
{
	struct ionpu_job *job = calloc(64, sizeof(*job));
	int fd = open(node, O_RDWR | O_CLOEXEC);
	struct io_uring ring;

	if (!job || fd < 0 || lease_when_free(fd, tile) ||
	    io_uring_queue_init(64, &ring, 0))
		return 2;
	for (unsigned int i = 0; i < 64; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (!sqe)
			return 3;
		job[i] = job_of(NULL, 0, NULL, 0);
		job[i].timesteps = 20000;
		uring_prep_job(sqe, fd, &job[i], i);
	}
	if (io_uring_submit(&ring) != 64)
		return 3;
	if (how == LEAVE_CLOSE_FILE_FIRST)
		close(fd);
	if (how != LEAVE_EXIT)
		io_uring_queue_exit(&ring);
	/* The jobs' memory goes with the process. */
	return 0;
}

TEST_F(uring, leaving_with_jobs_queued_is_safe)
{
	struct job_slot s;
	struct ionpu_uring_job cmd = { .job = (uintptr_t)&s.job };

	for (enum leave how = LEAVE_EXIT; how <= LEAVE_CLOSE_FILE_FIRST; how++) {
		int status;
		pid_t child = fork();

		ASSERT_LE(0, child);
		if (child == 0)
			_exit(queue_and_leave(self->card.node, self->tile - 1,
					      how));
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("way %d", how);

		job_net_inputs(s.in, self->tile, 0);
		s.job = job_of(s.in, 2, s.out, JOB_ROOM);
		EXPECT_EQ(NET_EVENTS, one_cmd(&self->ring, self->fd,
					      IONPU_URING_CMD_JOB, &cmd));
		EXPECT_TRUE(job_is_net_output(s.out, s.job.produced, self->tile, 0));
	}
	/* Every job let go of its file: the children's lease is free again. */
	EXPECT_EQ(0, lease_when_free(self->fd, self->tile - 1));
}

#define HANG_JOBS	16

TEST(a_hung_card_fails_the_jobs_submitted_before_its_reset)
{
	struct ionpu_job *job = calloc(HANG_JOBS, sizeof(*job));
	int res[HANG_JOBS], seen[HANG_JOBS] = { 0 };
	struct ionpu_test_hang_params saved;
	struct ionpu_ack_reset ack = { 0 };
	struct ionpu_lease lease = { .count = 1 };
	struct ionpu_test_card card;
	struct io_uring ring;
	struct ionpu_job after;
	bool failed = false;
	long resets;
	int fd;

	ASSERT_NE(NULL, job);
	fd = ionpu_test_open_fault_card(&card);
	if (fd == -ENODEV)
		SKIP(return, "no card has fault injection (QEMU ionpu,faults=on)");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_LEASE, &lease));
	ASSERT_EQ(0, io_uring_queue_init(HANG_JOBS * 2, &ring, 0));
	/* Hangs are found by command timeouts and the watchdog: keep them short. */
	ASSERT_EQ(0, ionpu_test_hang_params_set(&saved, "300", "100"));

	for (unsigned int i = 0; i < HANG_JOBS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		ASSERT_NE(NULL, sqe);
		job[i] = job_of(NULL, 0, NULL, 0);
		job[i].timesteps = 50000;
		uring_prep_job(sqe, fd, &job[i], i);
	}
	resets = ionpu_test_card_long(&card, "resets");
	ASSERT_LE(0, resets);
	ASSERT_EQ(HANG_JOBS, io_uring_submit(&ring));
	ASSERT_EQ(0, ionpu_test_inject(&card, IONPU_FAULT_HANG));

	for (unsigned int n = 0; n < HANG_JOBS; n++) {
		uint64_t i;
		int r = reap(&ring, &i);

		ASSERT_GT(HANG_JOBS, i);
		seen[i]++;
		res[i] = r;
	}
	/* In submission order: jobs done before the hang, then none. */
	for (unsigned int i = 0; i < HANG_JOBS; i++) {
		EXPECT_EQ(1, seen[i]) TH_LOG("job %u", i);
		if (res[i] == -ETIMEDOUT || res[i] == -EIO)
			failed = true;
		else
			EXPECT_TRUE(!failed && res[i] == 0)
				TH_LOG("job %u: %d after a failed one", i, res[i]);
	}
	EXPECT_TRUE(failed);
	EXPECT_EQ(-EIO, res[HANG_JOBS - 1]);

	/* Once the reset is over, the lease is still ours and jobs run again. */
	for (int i = 0; i < 500 && ionpu_test_card_long(&card, "resets") <= resets; i++)
		usleep(10000);
	EXPECT_LT(resets, ionpu_test_card_long(&card, "resets"));
	/* Not before the file acknowledged the reset, which cleared its tiles. */
	after = job_of(NULL, 0, NULL, 0);
	EXPECT_EQ(-ESTALE, net_ioctl(fd, IONPU_IOC_JOB, &after));
	ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_ACK_RESET, &ack));
	after = job_of(NULL, 0, NULL, 0);
	EXPECT_EQ(0, net_ioctl(fd, IONPU_IOC_JOB, &after));

	ionpu_test_hang_params_restore(&saved);
	io_uring_queue_exit(&ring);
	close(fd);
	free(job);
}

TEST_HARNESS_MAIN
