// SPDX-License-Identifier: GPL-2.0-only
/*
 * The output-spike stream: read() returns exactly the spikes the network
 * must produce, only to the file that leases their tile; poll(),
 * O_NONBLOCK, a blocked read interrupted by a signal, the LOST flag once
 * the file's buffer overflowed, and inputs given by write().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_net.h"

/* The driver buffers this many events per file. */
#define FILE_EVENTS	4096

FIXTURE(stream) {
	struct ionpu_test_card card;
	unsigned int tile;
	int fd;
};

FIXTURE_SETUP(stream)
{
	NET_FIXTURE_BUILD(self);
}

FIXTURE_TEARDOWN(stream)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) ? -errno : 0;
}

/* Reads what is there without blocking: events, or -errno. */
static ssize_t read_events(int fd, struct ionpu_event *ev, size_t max)
{
	ssize_t got;

	if (set_nonblock(fd, true))
		return -errno;
	got = read(fd, ev, max * sizeof(*ev));
	if (got < 0)
		got = -errno;
	else
		got /= sizeof(*ev);
	set_nonblock(fd, false);
	return got;
}

static int poll_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, timeout_ms);

	return ret < 0 ? -errno : (ret ? p.revents : 0);
}

/* Inputs and a run of the network; the timestep of the first input. */
static int input_and_run(int fd, unsigned int tile, unsigned int steps,
			 unsigned long long *t0)
{
	struct ionpu_counters c;
	struct ionpu_run run;
	int ret;

	ret = net_counters(fd, &c);
	if (!ret)
		ret = net_input(fd, tile);
	if (!ret)
		ret = net_run(fd, steps, &run);
	*t0 = c.timesteps;
	return ret;
}

TEST_F(stream, read_returns_the_spikes_the_network_makes)
{
	struct ionpu_event ev[NET_EVENTS + 1];
	unsigned long long t0;
	ssize_t got;

	/* Nothing has run: nothing to read. */
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, NET_EVENTS));
	EXPECT_EQ(0, poll_in(self->fd, 0));

	ASSERT_EQ(0, input_and_run(self->fd, self->tile, NET_STEPS, &t0));
	/* The run completed after its events were written and signalled. */
	EXPECT_EQ(POLLIN, poll_in(self->fd, 1000));
	got = read_events(self->fd, ev, NET_EVENTS + 1);
	ASSERT_EQ(NET_EVENTS, got);
	for (int i = 0; i < NET_EVENTS; i++) {
		EXPECT_EQ(t0 + net_expected[i].step, ev[i].timestep)
			TH_LOG("event %d", i);
		EXPECT_EQ(net_expected[i].neuron, ev[i].neuron)
			TH_LOG("event %d", i);
		EXPECT_EQ(self->tile, ev[i].tile);
		EXPECT_EQ(0, ev[i].flags);
	}
	EXPECT_EQ(0, poll_in(self->fd, 0));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 1));
}

TEST_F(stream, reads_are_whole_events_and_block_until_one_is_there)
{
	struct ionpu_event ev[NET_EVENTS];
	unsigned long long t0;
	char small[sizeof(ev[0]) - 1];

	EXPECT_EQ(-1, read(self->fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, input_and_run(self->fd, self->tile, NET_STEPS, &t0));
	/* A blocking read of two and a half events returns two. */
	EXPECT_EQ(2 * sizeof(ev[0]),
		  read(self->fd, ev, 2 * sizeof(ev[0]) + sizeof(ev[0]) / 2));
	EXPECT_EQ(t0, ev[0].timestep);
	EXPECT_EQ(3 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(3, ev[2].neuron);
}

TEST_F(stream, nowait_reads_never_block)
{
	struct ionpu_event ev;
	struct iovec iov = { .iov_base = &ev, .iov_len = sizeof(ev) };

	/* RWF_NOWAIT is refused outright on a file without FMODE_NOWAIT. */
	EXPECT_EQ(-1, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

struct runner {
	int fd;
	unsigned int tile;
	unsigned long long t0;
	int ret;
};

static void *input_and_run_later(void *arg)
{
	struct runner *r = arg;
	struct ionpu_counters c;
	struct ionpu_run run;

	usleep(100000);
	r->ret = net_counters(r->fd, &c);
	r->t0 = c.timesteps;
	if (!r->ret)
		r->ret = net_input(r->fd, r->tile);
	if (!r->ret)
		r->ret = net_run(r->fd, NET_STEPS, &run);
	return NULL;
}

TEST_F(stream, a_blocked_read_is_woken_by_spikes)
{
	struct runner r = { .fd = self->fd, .tile = self->tile };
	struct ionpu_event ev;
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, input_and_run_later, &r));
	/* Blocks until the run's first spike arrives. */
	EXPECT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, r.ret);
	EXPECT_EQ(r.t0, ev.timestep);
	EXPECT_EQ(0, ev.neuron);
}

TEST_F(stream, written_inputs_drive_the_network)
{
	struct ionpu_input in[2] = {
		{ .row = 0, .tile = self->tile, .delay = 0, .value = ionpu_f32_to_bits(1.0f) },
		{ .row = 0, .tile = self->tile, .delay = 1, .value = ionpu_f32_to_bits(1.0f) },
	};
	struct iovec iov = { .iov_base = in, .iov_len = sizeof(in) };
	struct ionpu_event ev[NET_EVENTS + 1];
	struct ionpu_counters c;
	struct ionpu_run run;

	/* Not whole events, a tile not ours, a write that may not wait. */
	EXPECT_EQ(-1, write(self->fd, in, sizeof(in) - 1));
	EXPECT_EQ(EINVAL, errno);
	in[1].tile = self->tile - 1;
	EXPECT_EQ(-1, write(self->fd, in, sizeof(in)));
	EXPECT_EQ(EACCES, errno);
	in[1].tile = self->tile;
	EXPECT_EQ(-1, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, net_counters(self->fd, &c));
	ASSERT_EQ(sizeof(in), write(self->fd, in, sizeof(in)));
	ASSERT_EQ(0, net_run(self->fd, NET_STEPS, &run));
	ASSERT_EQ(NET_EVENTS, read_events(self->fd, ev, NET_EVENTS + 1));
	for (int i = 0; i < NET_EVENTS; i++) {
		EXPECT_EQ(c.timesteps + net_expected[i].step, ev[i].timestep);
		EXPECT_EQ(net_expected[i].neuron, ev[i].neuron);
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(stream, a_blocked_read_is_woken_by_a_signal)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	struct ionpu_event ev;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EINTR, errno);
}

TEST_F(stream, another_file_does_not_see_our_spikes)
{
	struct ionpu_event ev[NET_EVENTS];
	unsigned long long t0;
	int fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, net_lease(fd2, self->tile - 1));
	ASSERT_EQ(0, input_and_run(self->fd, self->tile, NET_STEPS, &t0));
	EXPECT_EQ(POLLIN, poll_in(self->fd, 1000));
	EXPECT_EQ(0, poll_in(fd2, 0));
	EXPECT_EQ(-EAGAIN, read_events(fd2, ev, NET_EVENTS));
	EXPECT_EQ(NET_EVENTS, read_events(self->fd, ev, NET_EVENTS));
	close(fd2);
}

TEST_F(stream, an_overflowing_reader_is_told_it_lost_events)
{
	struct {
		struct ionpu_route r;
		struct ionpu_route_target t;
	} loop = {
		.r = { .neuron = 0, .flags = IONPU_ROUTE_TO_HOST, .targets = 1 },
		.t = { .tile = self->tile, .row = 0, .delay = 0 },
	};
	struct ionpu_routes r = { .tile = self->tile, .records = 1,
				  .size = sizeof(loop), .routes = (uintptr_t)&loop };
	struct ionpu_event *ev = calloc(FILE_EVENTS + 1, sizeof(*ev));
	struct ionpu_reset_state rs = { 0 };
	unsigned long long t0;
	ssize_t got;

	ASSERT_NE(NULL, ev);
	/* Neuron 0 drives itself: one spike every timestep from the input on. */
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_ROUTES, &r));
	/*
	 * Neurons 0 and 1 make 1.5 events a timestep: each run fits the card's
	 * ring, the two together overflow the file's buffer.
	 */
	ASSERT_EQ(0, input_and_run(self->fd, self->tile, FILE_EVENTS / 2, &t0));
	ASSERT_EQ(0, net_run(self->fd, FILE_EVENTS / 2, &(struct ionpu_run){ 0 }));
	got = read_events(self->fd, ev, FILE_EVENTS + 1);
	ASSERT_EQ(FILE_EVENTS, got);
	for (int i = 0; i < FILE_EVENTS; i++) {
		ASSERT_EQ(0, ev[i].flags) TH_LOG("event %d", i);
	}
	EXPECT_EQ(t0, ev[0].timestep);

	/* The first event after the gap says events were lost. */
	ASSERT_EQ(0, net_run(self->fd, 1, &(struct ionpu_run){ 0 }));
	EXPECT_EQ(POLLIN, poll_in(self->fd, 1000));
	got = read_events(self->fd, ev, 4);
	ASSERT_LE(1, got);
	EXPECT_EQ(IONPU_EVENT_LOST, ev[0].flags);
	EXPECT_EQ(0, ev[0].neuron);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));
	free(ev);
}

TEST_HARNESS_MAIN
