// SPDX-License-Identifier: GPL-2.0-only
/*
 * IONPU_IOC_JOB: a job computes exactly what the network must and what the
 * same inputs and run give by hand, also with more commands in a window
 * than the driver posts at once; KEEP_STATE; truncated output; every
 * malformed field; two files whose jobs interleave each get their own
 * output, and neither a job nor RESET_STATE of one file touches the other
 * file's state; a tile given back keeps nothing of its last tenant (cells,
 * routes into it, also when two processes set routes at once); a killed
 * waiter leaves the card working.
 *
 * Runs on the machine's last card, like the other network tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_job.h"
#include "ionpu_net.h"

FIXTURE(job) {
	struct ionpu_test_card card;
	unsigned int tile;
	int fd;
};

FIXTURE_SETUP(job)
{
	NET_FIXTURE_BUILD(self);
}

FIXTURE_TEARDOWN(job)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(job, a_job_computes_what_the_network_must)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_counters before, after;

	/* Inputs later in the job shift the output by as much. */
	for (unsigned int t = 0; t <= 2; t += 2) {
		job_net_inputs(in, self->tile, t);
		memset(out, 0xff, sizeof(out));
		j.produced = 0;
		ASSERT_EQ(0, net_counters(self->fd, &before));
		ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
		ASSERT_EQ(0, net_counters(self->fd, &after));
		EXPECT_EQ(NET_EVENTS, j.produced);
		EXPECT_TRUE(job_is_net_output(out, j.produced, self->tile, t));
		/* The room past the output is not written. */
		EXPECT_EQ(0xffffffffu, out[NET_EVENTS].timestep);
		EXPECT_EQ(NET_STEPS, after.timesteps - before.timesteps);
		EXPECT_EQ(2, after.spikes_in - before.spikes_in);
	}
}

TEST_F(job, a_job_equals_the_same_done_by_hand)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM], hand[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_reset_state rs = { 0 };
	struct ionpu_counters c;
	struct ionpu_run run;
	ssize_t got;

	job_net_inputs(in, self->tile, 0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));
	ASSERT_EQ(0, net_counters(self->fd, &c));
	ASSERT_EQ(0, net_input(self->fd, self->tile));
	ASSERT_EQ(0, net_run(self->fd, NET_STEPS, &run));
	got = read(self->fd, hand, sizeof(hand));
	ASSERT_EQ(NET_EVENTS * sizeof(hand[0]), got);

	ASSERT_EQ(NET_EVENTS, j.produced);
	for (unsigned int i = 0; i < NET_EVENTS; i++) {
		EXPECT_EQ(hand[i].timestep - c.timesteps, out[i].timestep);
		EXPECT_EQ(hand[i].neuron, out[i].neuron);
		EXPECT_EQ(hand[i].tile, out[i].tile);
		EXPECT_EQ(hand[i].flags, out[i].flags);
	}
}

TEST_F(job, inputs_across_windows_arrive_on_time)
{
	/* Two windows of the card's input queue and more; zeros everywhere. */
	const unsigned int steps = 600, zeros = 16;
	struct ionpu_job_input *in = calloc(steps * zeros + 2, sizeof(*in));
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 0, out, JOB_ROOM);

	ASSERT_NE(NULL, in);
	/* The network's two spikes straddle the first window's end. */
	for (unsigned int t = 0; t < steps; t++) {
		if (t == 255 || t == 256)
			in[j.in_count++] = (struct ionpu_job_input) {
				.timestep = t, .value = ionpu_f32_to_bits(1.0f),
				.row = 0, .tile = self->tile,
			};
		for (unsigned int k = 0; k < zeros; k++)
			in[j.in_count++] = (struct ionpu_job_input) {
				.timestep = t, .value = ionpu_f32_to_bits(0.0f),
				.row = k % 2, .tile = self->tile,
			};
	}
	j.timesteps = steps;
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, self->tile, 255));
	free(in);
}

TEST_F(job, a_window_of_more_commands_than_a_batch_arrives_whole)
{
	/*
	 * Ten of the driver's INPUT_SPIKES chunks in one window, more than
	 * it posts before waiting: zeros after the network's two inputs.
	 */
	const unsigned int zeros = 80000;
	struct ionpu_job_input *in = calloc(zeros + 2, sizeof(*in));
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_counters before, after;

	ASSERT_NE(NULL, in);
	job_net_inputs(in, self->tile, 0);
	for (unsigned int k = 0; k < zeros; k++)
		in[j.in_count++] = (struct ionpu_job_input) {
			.timestep = 1 + k * (NET_STEPS - 1) / zeros,
			.value = ionpu_f32_to_bits(0.0f),
			.row = k % 2, .tile = self->tile,
		};
	ASSERT_EQ(0, net_counters(self->fd, &before));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	ASSERT_EQ(0, net_counters(self->fd, &after));
	EXPECT_EQ(NET_EVENTS, j.produced);
	EXPECT_TRUE(job_is_net_output(out, j.produced, self->tile, 0));
	EXPECT_EQ(zeros + 2, after.spikes_in - before.spikes_in);
	EXPECT_EQ(NET_STEPS, after.timesteps - before.timesteps);
	free(in);
}

TEST_F(job, job_events_do_not_reach_read)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_event ev;

	job_net_inputs(in, self->tile, 0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(job, output_beyond_the_room_is_counted_not_written)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, 2);

	job_net_inputs(in, self->tile, 0);
	memset(out, 0xff, sizeof(out));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_EQ(NET_EVENTS, j.produced);
	EXPECT_EQ(0, out[0].timestep);
	EXPECT_EQ(1, out[1].timestep);
	EXPECT_EQ(0xffffffffu, out[2].timestep);

	/* No room at all, and no address: only the count. */
	j = job_of(in, 2, NULL, 0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_EQ(NET_EVENTS, j.produced);

	/* A job without inputs runs and produces nothing. */
	j = job_of(NULL, 0, out, JOB_ROOM);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_EQ(0, j.produced);
}

/*
 * A one-input job leaves neuron 1 charged (one input of two it needs) and
 * neuron 3 fired; a second job with one input fires neuron 1 only when the
 * charge was kept.
 */
static int charge(int fd, unsigned int tile)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 1, out, JOB_ROOM);
	int ret;

	job_net_inputs(in, tile, 0);
	ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
	if (!ret && (j.produced != 2 || out[0].neuron != 0 ||
		     out[1].timestep != 3 || out[1].neuron != 3))
		ret = -EPROTO;
	return ret;
}

/* The second job: 1 when neuron 1 fired, 0 when not, or -errno. */
static int kept(int fd, unsigned int tile)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 1, out, JOB_ROOM);
	int ret;

	job_net_inputs(in, tile, 0);
	j.flags = IONPU_JOB_KEEP_STATE;
	ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
	if (ret)
		return ret;
	if (j.produced == 3 && out[1].timestep == 0 && out[1].neuron == 1 &&
	    out[2].timestep == 3 && out[2].neuron == 3)
		return 1;
	if (j.produced == 2 && out[1].timestep == 3 && out[1].neuron == 3)
		return 0;
	return -EPROTO;
}

TEST_F(job, keep_state_continues_where_the_last_job_stopped)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 1, out, JOB_ROOM);

	ASSERT_EQ(0, charge(self->fd, self->tile));
	EXPECT_EQ(1, kept(self->fd, self->tile));

	/* Without the flag the charge is cleared first. */
	ASSERT_EQ(0, charge(self->fd, self->tile));
	job_net_inputs(in, self->tile, 0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_EQ(2, j.produced);
	EXPECT_EQ(3, out[1].neuron);
}

TEST_F(job, reset_state_clears_only_the_callers_tiles)
{
	struct ionpu_reset_state rs = { 0 };
	int fd2 = net_other_file(self->card.node, self->tile - 1);

	ASSERT_LE(0, fd2) TH_LOG("second file: %s", strerror(-fd2));
	ASSERT_EQ(0, charge(self->fd, self->tile));
	ASSERT_EQ(0, net_ioctl(fd2, IONPU_IOC_RESET_STATE, &rs));
	EXPECT_EQ(1, kept(self->fd, self->tile));

	ASSERT_EQ(0, charge(self->fd, self->tile));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));
	EXPECT_EQ(0, kept(self->fd, self->tile));
	close(fd2);
}

TEST_F(job, another_files_job_leaves_our_state_alone)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	int fd2 = net_other_file(self->card.node, self->tile - 1);

	ASSERT_LE(0, fd2) TH_LOG("second file: %s", strerror(-fd2));
	ASSERT_EQ(0, charge(self->fd, self->tile));
	job_net_inputs(in, self->tile - 1, 0);
	ASSERT_EQ(0, net_ioctl(fd2, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, self->tile - 1, 0));
	EXPECT_EQ(1, kept(self->fd, self->tile));
	close(fd2);
}

struct submitter {
	int fd;
	unsigned int tile;
	unsigned int jobs;
	unsigned int good;
	int ret;
};

static void *submit_jobs(void *arg)
{
	struct submitter *s = arg;

	for (unsigned int i = 0; i < s->jobs && !s->ret; i++) {
		struct ionpu_job_input in[2];
		struct ionpu_event out[JOB_ROOM];
		struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
		unsigned int t = i % 3;

		job_net_inputs(in, s->tile, t);
		s->ret = net_ioctl(s->fd, IONPU_IOC_JOB, &j);
		if (!s->ret && job_is_net_output(out, j.produced, s->tile, t))
			s->good++;
	}
	return NULL;
}

TEST_F(job, interleaved_jobs_of_two_files_get_their_own_output)
{
	struct submitter s[2] = {
		{ .fd = self->fd, .tile = self->tile, .jobs = 40 },
		{ .tile = self->tile - 1, .jobs = 40 },
	};
	pthread_t thread[2];

	s[1].fd = net_other_file(self->card.node, s[1].tile);
	ASSERT_LE(0, s[1].fd) TH_LOG("second file: %s", strerror(-s[1].fd));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&thread[i], NULL, submit_jobs, &s[i]));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(thread[i], NULL));
		EXPECT_EQ(0, s[i].ret) TH_LOG("file %d: %s", i, strerror(-s[i].ret));
		EXPECT_EQ(s[i].jobs, s[i].good) TH_LOG("file %d", i);
	}
	close(s[1].fd);
}

/* Whether every cell of rows 0..NET_ROWS-1 of @tile reads @g on both devices. */
static bool cells_all_at(int fd, unsigned int tile, float g)
{
	static struct ionpu_cell_read cells[NET_ROWS * 256];
	struct ionpu_read_cells r = {
		.tile = tile, .rows = NET_ROWS, .columns = 256,
		.cells = (uintptr_t)cells,
	};

	if (net_ioctl(fd, IONPU_IOC_READ_CELLS, &r))
		return false;
	for (unsigned int i = 0; i < NET_ROWS * 256; i++)
		if (ionpu_bits_to_f32(cells[i].g_plus) != g ||
		    ionpu_bits_to_f32(cells[i].g_minus) != g)
			return false;
	return true;
}

/*
 * We program the tile below ours and let our tile feed it, then give it
 * back: the driver must wipe its cells and cut that route before the next
 * tenant gets it, so the next tenant reads none of our weights, our jobs
 * can no longer reach it (our tile is silenced: its network lost a part)
 * and it hears nothing it did not ask for.
 */
TEST_F(job, a_released_tile_keeps_nothing_of_its_last_tenant)
{
	unsigned int below = self->tile - 1;
	struct {
		struct ionpu_route r;
		struct ionpu_route_target t[2];
	} rec = {
		.r = { .neuron = 0, .flags = IONPU_ROUTE_TO_HOST, .targets = 2 },
		.t = { { .tile = self->tile, .row = 1, .delay = 2 },
		       { .tile = below, .row = 0 } },
	};
	struct ionpu_routes routes = {
		.tile = self->tile, .records = 1,
		.size = sizeof(rec), .routes = (uintptr_t)&rec,
	};
	struct ionpu_release rel = { .tiles = 1ULL << below };
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	struct ionpu_event ev;
	int next;

	ASSERT_EQ(0, net_lease(self->fd, below));
	ASSERT_EQ(0, net_build(self->fd, below));
	ASSERT_FALSE(cells_all_at(self->fd, below, NET_G_MIN));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_ROUTES, &routes));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RELEASE, &rel));

	next = open(self->card.node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, next);
	ASSERT_EQ(0, net_lease(next, below));
	EXPECT_TRUE(cells_all_at(next, below, NET_G_MIN));
	ASSERT_EQ(0, net_build(next, below));

	job_net_inputs(in, self->tile, 0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_EQ(0, j.produced);
	EXPECT_EQ(-1, read(next, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);

	/* The next tenant's own network works as on a fresh tile. */
	job_net_inputs(in, below, 0);
	j.produced = 0;
	ASSERT_EQ(0, net_ioctl(next, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, below, 0));
	close(next);
}

/* Routes of @feeder's neuron 0: to the host, its own row 1 and @fed's row 0. */
static int route_into(int fd, unsigned int feeder, unsigned int fed)
{
	struct {
		struct ionpu_route r;
		struct ionpu_route_target t[2];
	} rec = {
		.r = { .neuron = 0, .flags = IONPU_ROUTE_TO_HOST, .targets = 2 },
		.t = { { .tile = feeder, .row = 1, .delay = 2 },
		       { .tile = fed, .row = 0 } },
	};
	struct ionpu_routes routes = {
		.tile = feeder, .records = 1,
		.size = sizeof(rec), .routes = (uintptr_t)&rec,
	};

	return net_ioctl(fd, IONPU_IOC_ROUTES, &routes);
}

/* Set @feeder's routes into @fed many times, then give @fed back. */
static int route_race(int fd, unsigned int feeder, unsigned int fed)
{
	struct ionpu_release rel = { .tiles = 1ULL << fed };
	int ret = 0;

	for (int i = 0; i < 200 && !ret; i++)
		ret = route_into(fd, feeder, fed);
	return ret ? ret : net_ioctl(fd, IONPU_IOC_RELEASE, &rel);
}

/*
 * A job of the network's inputs on @tile: its result, and in *@net whether
 * it gave the network's output.
 */
static int net_job(int fd, unsigned int tile, bool *net)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	int ret;

	job_net_inputs(in, tile, 0);
	ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
	*net = !ret && job_is_net_output(out, j.produced, tile, 0);
	return ret;
}

/*
 * Two processes, each letting a tile of its own feed another, set those
 * routes over and over at the same time, then give the fed tile back:
 * neither loses the driver's record of what its tile feeds, so both routes
 * are cut (the feeders are silenced, their networks having lost a part),
 * and the next tenant of the two fed tiles hears nothing of either.
 */
TEST_F(job, routes_set_by_two_processes_at_once_are_both_cut_at_release)
{
	unsigned int p_feeder = self->tile, p_fed = self->tile - 1;
	unsigned int q_feeder = self->tile - 2, q_fed = self->tile - 3;
	int ready[2], go[2], status = -1;
	struct ionpu_event ev;
	pid_t child;
	bool net;
	char c;
	int next;

	if (self->tile < 3)
		SKIP(return, "%s has fewer than 4 tiles", self->card.name);
	ASSERT_EQ(0, net_lease(self->fd, p_fed));
	ASSERT_EQ(0, net_build(self->fd, p_fed));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd = open(self->card.node, O_RDWR | O_CLOEXEC);
		bool net;

		if (fd < 0 || net_lease(fd, q_feeder) || net_lease(fd, q_fed) ||
		    net_build(fd, q_feeder) || net_build(fd, q_fed) ||
		    write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		/* Raced, released; then, once the fed tile is rebuilt, run. */
		if (route_race(fd, q_feeder, q_fed) ||
		    write(ready[1], "d", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(net_job(fd, q_feeder, &net) ? 3 : 0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, route_race(self->fd, p_feeder, p_fed));
	ASSERT_EQ(1, read(ready[0], &c, 1));

	next = open(self->card.node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, next);
	ASSERT_EQ(0, net_lease(next, p_fed));
	ASSERT_EQ(0, net_lease(next, q_fed));
	ASSERT_EQ(0, net_build(next, p_fed));
	ASSERT_EQ(0, net_build(next, q_fed));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, net_job(self->fd, p_feeder, &net));
	EXPECT_FALSE(net);
	EXPECT_EQ(-1, read(next, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	close(next);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * RELEASE waits for its file's commands that use the tiles, a job's whole
 * run among them; a fatal signal ends that wait.  The job here is another
 * process's, on the same open file, so it goes on after the releaser is
 * killed: the releaser must die at once all the same, not when the job is
 * done.  Once the job's process is gone too, the card is free.
 */
TEST_F(job, a_release_waiting_for_a_long_job_gives_way_to_sigkill)
{
	unsigned int tile = self->tile - 1;
	struct ionpu_counters c0, c1, c2;
	double t0, killed_in, rate, left;
	int ready[2], status = -1;
	pid_t child, runner;
	bool net;

	/* The job's process outlives its parent: we reap it. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, net_counters(self->fd, &c0));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct ionpu_release rel = { .tiles = 1ULL << tile };
		struct ionpu_job j = job_of(NULL, 0, NULL, 0);
		struct ionpu_counters mine;
		int fd = open(self->card.node, O_RDWR | O_CLOEXEC);

		if (fd < 0 || net_lease(fd, tile) || net_build(fd, tile))
			_exit(1);
		runner = fork();
		if (runner < 0)
			_exit(2);
		if (runner == 0) {
			j.timesteps = IONPU_JOB_MAX_TIMESTEPS;
			_exit(net_ioctl(fd, IONPU_IOC_JOB, &j) ? 1 : 0);
		}
		do {
			usleep(1000);
			if (net_file_counters(fd, &mine))
				_exit(3);
		} while (!mine.timesteps);
		if (write(ready[1], &runner, sizeof(runner)) != sizeof(runner))
			_exit(4);
		net_ioctl(fd, IONPU_IOC_RELEASE, &rel);
		_exit(5);
	}
	ASSERT_EQ(sizeof(runner), read(ready[0], &runner, sizeof(runner)));
	ASSERT_EQ(0, net_counters(self->fd, &c1));
	usleep(300 * 1000);
	ASSERT_EQ(0, net_counters(self->fd, &c2));
	t0 = now_s();
	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	killed_in = now_s() - t0;
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(0, kill(runner, SIGKILL));
	ASSERT_EQ(runner, waitpid(runner, &status, 0));

	/* What the job had left when the releaser was killed: its wait. */
	rate = (c2.timesteps - c1.timesteps) / 0.3;
	left = (IONPU_JOB_MAX_TIMESTEPS - (double)(c2.timesteps - c0.timesteps)) / rate;
	TH_LOG("killed in %.3f s; the job had %.1f s left", killed_in, left);
	if (left < 2)
		SKIP(return, "the card runs the longest job in under 2 s: too fast to tell");
	EXPECT_LT(killed_in, left / 4);
	EXPECT_EQ(0, net_job(self->fd, self->tile, &net));
	EXPECT_TRUE(net);
	close(ready[0]);
	close(ready[1]);
}

/* The same when the last tenant is killed while it holds the tile. */
TEST_F(job, a_killed_tenants_tile_comes_back_clean)
{
	unsigned int below = self->tile - 1;
	int ready[2], status = -1;
	pid_t child;
	char c;
	int next;

	ASSERT_EQ(0, pipe(ready));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd = open(self->card.node, O_RDWR | O_CLOEXEC);

		if (fd < 0 || net_lease(fd, below) || net_build(fd, below))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	next = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, next);
	ASSERT_EQ(0, net_lease(next, below));
	EXPECT_TRUE(cells_all_at(next, below, NET_G_MIN));
	close(next);
}

TEST_F(job, malformed_jobs_are_refused)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j;
	float nan = NAN;
	int fd2;

#define REFUSED(err, field, val) do {					\
		job_net_inputs(in, self->tile, 0);			\
		j = job_of(in, 2, out, JOB_ROOM);			\
		field = val;						\
		EXPECT_EQ(err, net_ioctl(self->fd, IONPU_IOC_JOB, &j))	\
			TH_LOG("%s = %s", #field, #val);		\
	} while (0)

	REFUSED(-EINVAL, j.flags, 2);
	REFUSED(-EINVAL, j.reserved, 1);
	REFUSED(-EINVAL, j.timesteps, 0);
	REFUSED(-EINVAL, j.timesteps, IONPU_JOB_MAX_TIMESTEPS + 1);
	REFUSED(-EINVAL, j.in_count, IONPU_JOB_MAX_INPUTS + 1);
	REFUSED(-EINVAL, j.out_room, IONPU_JOB_MAX_OUTPUTS + 1);
	REFUSED(-EINVAL, in[1].timestep, NET_STEPS);
	REFUSED(-EINVAL, in[0].timestep, 2);	/* out of order */
	REFUSED(-EINVAL, in[0].reserved, 1);
	REFUSED(-EINVAL, in[1].reserved2, 1);
	REFUSED(-EINVAL, in[0].row, 256);
	REFUSED(-EINVAL, in[0].value, ionpu_f32_to_bits(nan));
	REFUSED(-EINVAL, in[0].value, ionpu_f32_to_bits(INFINITY));
	REFUSED(-EINVAL, in[1].tile, 64);
	REFUSED(-EACCES, in[1].tile, self->tile - 1);
	REFUSED(-EFAULT, j.inputs, 8);
	REFUSED(-EFAULT, j.outputs, 8);
#undef REFUSED

	/* The command's own rules: size, direction, unknown trailing bytes. */
	job_net_inputs(in, self->tile, 0);
	j = job_of(in, 2, out, JOB_ROOM);
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, net_resize(IONPU_IOC_JOB, 16), &j));
	/* The first version, before @deadline_ns (API version 6), still runs. */
	EXPECT_EQ(0, net_ioctl(self->fd,
			       net_resize(IONPU_IOC_JOB,
					  offsetof(struct ionpu_job, deadline_ns)),
			       &j));
	EXPECT_EQ(NET_EVENTS, j.produced);
	EXPECT_EQ(-ENOTTY, net_ioctl(self->fd,
				     _IOW(IONPU_IOCTL_BASE, 0x1b, struct ionpu_job),
				     &j));
	{
		struct { struct ionpu_job j; uint64_t more; } big = { j, 1 };

		EXPECT_EQ(-E2BIG, net_ioctl(self->fd,
					    net_resize(IONPU_IOC_JOB, sizeof(big)),
					    &big));
		big.more = 0;
		EXPECT_EQ(0, net_ioctl(self->fd,
				       net_resize(IONPU_IOC_JOB, sizeof(big)), &big));
		EXPECT_EQ(NET_EVENTS, big.j.produced);
	}

	/* A file with no lease may not run a job. */
	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	j = job_of(NULL, 0, out, JOB_ROOM);
	EXPECT_EQ(-EACCES, net_ioctl(fd2, IONPU_IOC_JOB, &j));
	close(fd2);
}

TEST_F(job, a_killed_waiter_leaves_the_card_working)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[JOB_ROOM];
	struct ionpu_job j = job_of(in, 2, out, JOB_ROOM);
	int status;

	for (int round = 0; round < 4; round++) {
		pid_t child = fork();

		ASSERT_LE(0, child);
		if (child == 0) {
			/* Long jobs, queued behind one another. */
			struct ionpu_job lj = job_of(NULL, 0, NULL, 0);

			lj.timesteps = 200000;
			for (;;)
				net_ioctl(self->fd, IONPU_IOC_JOB, &lj);
		}
		usleep(20000 + round * 30000);
		ASSERT_EQ(0, kill(child, SIGKILL));
		ASSERT_EQ(child, waitpid(child, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status));
	}
	job_net_inputs(in, self->tile, 0);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_JOB, &j));
	EXPECT_TRUE(job_is_net_output(out, j.produced, self->tile, 0));
}

TEST_HARNESS_MAIN
