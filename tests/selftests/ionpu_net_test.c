// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network commands: each one works, refuses malformed arguments, and
 * enforces the isolation rule (only leased tiles, route targets and input
 * events included) and the privilege of the calibration commands; a small
 * network computes what it must.
 *
 * Runs on the machine's last card, so the counters of the first one stay
 * those of a card nothing ran on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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
#include "ionpu_net.h"

FIXTURE(net) {
	struct ionpu_test_card card;
	unsigned int tile;	/* the tile the tests lease */
	int fd;
};

FIXTURE_SETUP(net)
{
	NET_FIXTURE_OPEN(self);
}

FIXTURE_TEARDOWN(net)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(net, small_network_computes_what_it_must)
{
	struct ionpu_counters before, after;
	struct ionpu_run run;

	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	ASSERT_EQ(0, net_build(self->fd, self->tile));
	ASSERT_EQ(0, net_counters(self->fd, &before));
	ASSERT_EQ(0, net_input(self->fd, self->tile));
	ASSERT_EQ(0, net_run(self->fd, NET_STEPS, &run));
	EXPECT_EQ(NET_STEPS, run.ran);
	EXPECT_EQ(0, run.stopped);
	ASSERT_EQ(0, net_counters(self->fd, &after));

	EXPECT_EQ(NET_STEPS, after.timesteps - before.timesteps);
	EXPECT_EQ(2, after.spikes_in - before.spikes_in);
	/* Every spike of the network, and no other neuron's. */
	EXPECT_EQ(NET_EVENTS, after.spikes_out - before.spikes_out);
	/* Two host inputs and two routed spikes read one row each. */
	EXPECT_EQ(4 * 256, after.synaptic_events - before.synaptic_events);
}

/* @after - @before, field by field. */
static struct ionpu_counters net_delta(const struct ionpu_counters *after,
				       const struct ionpu_counters *before)
{
	return (struct ionpu_counters) {
		.timesteps = after->timesteps - before->timesteps,
		.spikes_in = after->spikes_in - before->spikes_in,
		.spikes_out = after->spikes_out - before->spikes_out,
		.synaptic_events = after->synaptic_events -
				   before->synaptic_events,
		.program_pulses = after->program_pulses - before->program_pulses,
		.busy_ns = after->busy_ns - before->busy_ns,
		.energy_fj = after->energy_fj - before->energy_fj,
	};
}

/*
 * Two tenants side by side: each file's counters hold its own tiles' work
 * and its own runs only, and the card's hold both.  A released tile's work
 * stays with the file that did it; its next tenant starts from nothing,
 * the scrub between the two included.
 */
TEST_F(net, each_file_counts_its_own_work)
{
	struct ionpu_counters a0, a1, a2, b0, b1, b2, card0, card1, d, bd, cd;
	struct ionpu_info info = { 0 };
	struct ionpu_release rel = { .tiles = 1ULL << self->tile };
	unsigned int other = self->tile - 1;
	struct ionpu_run run;
	int b;

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_INFO, &info));
	if (!(info.caps & IONPU_CAP_TILE_COUNTERS))
		SKIP(return, "%s has no per-tile counters (rev %u.%u)",
		     self->card.name, info.hw_version >> 16,
		     info.hw_version & 0xffff);
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	ASSERT_EQ(0, net_build(self->fd, self->tile));
	b = net_other_file(self->card.node, other);
	ASSERT_LE(0, b) TH_LOG("second file: %s", strerror(-b));

	ASSERT_EQ(0, net_file_counters(self->fd, &a0));
	EXPECT_EQ(IONPU_COUNTERS_FILE, a0.flags);
	/* Programming the network was this file's work. */
	EXPECT_LT(0, a0.program_pulses);
	ASSERT_EQ(0, net_file_counters(b, &b0));
	ASSERT_EQ(0, net_counters(self->fd, &card0));
	ASSERT_EQ(0, net_input(self->fd, self->tile));
	ASSERT_EQ(0, net_run(self->fd, NET_STEPS, &run));
	ASSERT_EQ(0, net_file_counters(self->fd, &a1));
	ASSERT_EQ(0, net_file_counters(b, &b1));
	ASSERT_EQ(0, net_counters(self->fd, &card1));

	d = net_delta(&a1, &a0);
	EXPECT_EQ(NET_STEPS, d.timesteps);
	EXPECT_EQ(2, d.spikes_in);
	EXPECT_EQ(NET_EVENTS, d.spikes_out);
	EXPECT_EQ(4 * 256, d.synaptic_events);
	EXPECT_EQ(0, d.program_pulses);
	EXPECT_LT(0, d.energy_fj);
	EXPECT_LT(0, d.busy_ns);
	/* B's tile was stepped by A's run, but nothing reached it. */
	bd = net_delta(&b1, &b0);
	EXPECT_EQ(0, bd.timesteps);
	EXPECT_EQ(0, bd.spikes_in);
	EXPECT_EQ(0, bd.spikes_out);
	EXPECT_EQ(0, bd.synaptic_events);
	EXPECT_EQ(0, bd.energy_fj);
	cd = net_delta(&card1, &card0);
	EXPECT_EQ(d.timesteps, cd.timesteps);
	EXPECT_EQ(d.spikes_in, cd.spikes_in);
	EXPECT_EQ(d.synaptic_events, cd.synaptic_events);
	/* Whole fJ, each rounded down on its own. */
	EXPECT_GE(cd.energy_fj + 1, d.energy_fj);
	EXPECT_LE(cd.energy_fj, d.energy_fj + 2);

	/* Released: the work stays A's; B, leasing the tile next, has none of it. */
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RELEASE, &rel));
	ASSERT_EQ(0, net_file_counters(self->fd, &a2));
	EXPECT_EQ(0, memcmp(&a1, &a2, sizeof(a1)));
	ASSERT_EQ(0, net_lease(b, self->tile));
	ASSERT_EQ(0, net_file_counters(b, &b2));
	bd = net_delta(&b2, &b1);
	EXPECT_EQ(0, bd.program_pulses);
	EXPECT_EQ(0, bd.spikes_in);
	EXPECT_EQ(0, bd.synaptic_events);
	EXPECT_EQ(0, bd.energy_fj);
	close(b);

	a0 = (struct ionpu_counters) { .flags = IONPU_COUNTERS_FILE << 1 };
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_COUNTERS, &a0));
	a0 = (struct ionpu_counters) { .flags = IONPU_COUNTERS_FILE,
				       .reserved = 1 };
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_COUNTERS, &a0));
}

/*
 * The card's counters say what every tenant does: CAP_PERFMON's business.
 * A file's own need no privilege.
 */
TEST_F(net, the_cards_counters_need_cap_perfmon)
{
	struct ionpu_info info = { 0 };
	int status;
	pid_t child;

	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_INFO, &info));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct ionpu_counters c;
		int bad = 0;

		/* Root that becomes nobody loses every capability. */
		if (setgid(65534) || setuid(65534))
			_exit(2);
		bad |= net_counters(self->fd, &c) != -EPERM;
		if (info.caps & IONPU_CAP_TILE_COUNTERS)
			bad |= net_file_counters(self->fd, &c) != 0;
		_exit(bad);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(net, program_reports_each_cell_and_read_cells_agrees)
{
	struct ionpu_cell_prog *cells = calloc(NET_CELLS, sizeof(*cells));
	struct ionpu_cell_result *res = calloc(NET_CELLS, sizeof(*res));
	struct ionpu_cell_read got[NET_ROWS * 256];
	struct ionpu_read_cells rc = {
		.tile = self->tile, .row = 0, .rows = NET_ROWS,
		.column = 0, .columns = 256, .cells = (uintptr_t)got,
	};
	unsigned int failed = ~0u;

	ASSERT_NE(NULL, cells);
	ASSERT_NE(NULL, res);
	memset(res, 0xff, NET_CELLS * sizeof(*res));
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	ASSERT_EQ(0, net_configure(self->fd, self->tile));
	ASSERT_EQ(0, net_program(self->fd, self->tile, cells, res, &failed));
	EXPECT_EQ(0, failed);
	for (unsigned int i = 0; i < NET_CELLS; i++) {
		float target = ionpu_bits_to_f32(cells[i].target);
		float g = ionpu_bits_to_f32(res[i].conductance);

		ASSERT_EQ(IONPU_CELL_OK, res[i].status) TH_LOG("cell %u", i);
		ASSERT_GE(0.25f, fabsf(g - target)) TH_LOG("cell %u: %f", i, g);
		ASSERT_GE(1, res[i].pulses);
	}

	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));
	/* Ideal reads are exact: what programming reported, cell by cell. */
	for (unsigned int i = 0; i < NET_ROWS * 256; i++) {
		EXPECT_EQ(res[2 * i].conductance, got[i].g_plus);
		EXPECT_EQ(res[2 * i + 1].conductance, got[i].g_minus);
	}
	free(cells);
	free(res);
}

TEST_F(net, malformed_arguments_are_refused)
{
	struct ionpu_neuron n = { 0 };
	struct ionpu_configure c = { .tile = self->tile };
	struct ionpu_program p = { .tile = self->tile, .count = 1 };
	struct ionpu_read_cells rc = { .tile = self->tile, .rows = 1, .columns = 1 };
	struct ionpu_spikes s = { .count = 1 };
	struct ionpu_routes r = { .tile = self->tile, .records = 1, .size = 8 };
	struct ionpu_run run = { .flags = 2 };
	struct ionpu_stop stop = { .flags = 1 };
	struct ionpu_reset_state rs = { .reserved = 1 };
	struct ionpu_calib cal = { .length = 1 };
	struct ionpu_route rec = { .neuron = 0, .targets = 1 };

	ASSERT_EQ(0, net_lease(self->fd, self->tile));

	/* Unknown flags and parameters without their flag. */
	c.flags = 4;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	c.flags = 0;
	c.mode = IONPU_MODE_IDEAL;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	c.mode = 0;
	c.chain_head = self->tile;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	c.chain_head = 0;
	/* Neurons past the tile's last. */
	c.first = 250;
	c.count = 7;
	c.neurons = (uintptr_t)&n;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	/* A value the card refuses: mode 7. */
	c = (struct ionpu_configure) {
		.flags = IONPU_CONFIGURE_SET_TILE, .tile = self->tile, .mode = 7,
		.timestep = ionpu_f32_to_bits(1.0f), .input_gain = ionpu_f32_to_bits(1.0f),
	};
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	/* A neuron entry the driver cannot read. */
	c = (struct ionpu_configure) {
		.tile = self->tile, .count = 1, .neurons = 8,
	};
	EXPECT_EQ(-EFAULT, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	/* A struct shorter than the first version. */
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd,
				     net_resize(IONPU_IOC_CONFIGURE, 16), &c));
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, net_resize(IONPU_IOC_RUN, 8), &run));
	/* The first version, before @deadline_ns (API version 6), still runs. */
	{
		struct ionpu_run first = { .timesteps = 3 };

		EXPECT_EQ(0, net_ioctl(self->fd,
				       net_resize(IONPU_IOC_RUN,
						  offsetof(struct ionpu_run, deadline_ns)),
				       &first));
		EXPECT_EQ(3, first.ran);
	}

	p.flags = 1;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));
	p.flags = 0;
	p.count = 0;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));
	p.count = IONPU_MAX_CELLS + 1;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));
	p.count = 1;
	EXPECT_EQ(-EFAULT, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));

	rc.row = 255;
	rc.rows = 2;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));
	rc.row = 0;
	rc.rows = 1;
	rc.columns = 0;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));
	rc.columns = 1;
	EXPECT_EQ(-EFAULT, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));

	s.count = 0;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_INPUT, &s));
	s.count = IONPU_MAX_SPIKES + 1;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_INPUT, &s));

	/* A record that announces a target it does not carry. */
	r.routes = (uintptr_t)&rec;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_ROUTES, &r));
	r.records = 0;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_ROUTES, &r));
	r.records = 1;
	r.size = IONPU_ROUTES_MAX_BYTES + 8;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_ROUTES, &r));

	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_STOP, &stop));
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));

	cal.offset = IONPU_CALIB_LEN;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_READ_CALIB, &cal));
	cal.offset = IONPU_CALIB_LEN - 1;
	cal.length = 2;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_READ_CALIB, &cal));
	cal.length = 0;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_WRITE_CALIB, &cal));
}

TEST_F(net, tiles_not_leased_are_refused)
{
	unsigned int other = self->tile - 1;
	struct ionpu_neuron n = { 0 };
	struct ionpu_configure c = { .tile = other, .count = 1,
				     .neurons = (uintptr_t)&n };
	struct ionpu_cell_prog cell = {
		.budget = 1, .target = ionpu_f32_to_bits(2.0f),
	};
	struct ionpu_cell_result res;
	struct ionpu_program p = { .tile = other, .count = 1,
				   .cells = (uintptr_t)&cell,
				   .results = (uintptr_t)&res };
	struct ionpu_cell_read got;
	struct ionpu_read_cells rc = { .tile = other, .rows = 1, .columns = 1,
				       .cells = (uintptr_t)&got };
	struct ionpu_input in[2] = {
		{ .tile = self->tile, .value = ionpu_f32_to_bits(1.0f) },
		{ .tile = other, .value = ionpu_f32_to_bits(1.0f) },
	};
	struct ionpu_spikes s = { .count = 2, .events = (uintptr_t)in };
	struct {
		struct ionpu_route r;
		struct ionpu_route_target t;
	} rec = {
		.r = { .neuron = 0, .targets = 1 },
		.t = { .tile = other, .row = 0 },
	};
	struct ionpu_routes r = { .tile = self->tile, .records = 1,
				  .size = sizeof(rec), .routes = (uintptr_t)&rec };
	struct ionpu_run run = { .timesteps = 1 };
	struct ionpu_stop stop = { 0 };
	struct ionpu_reset_state rs = { 0 };

	/* With no lease at all, even the card-wide commands are refused. */
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));
	/* But STOP, which acts on the file's own run only: there is none. */
	stop.stopped = 7;
	EXPECT_EQ(0, net_ioctl(self->fd, IONPU_IOC_STOP, &stop));
	EXPECT_EQ(0, stop.stopped);

	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));
	/* One event on a tile not ours refuses the whole batch. */
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_INPUT, &s));
	/* Our tile's neuron may not drive another tile. */
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_ROUTES, &r));
	/* Nor may our tile chain into one that is not ours. */
	c = (struct ionpu_configure) {
		.flags = IONPU_CONFIGURE_SET_CHAIN, .tile = self->tile,
		.chain_head = other,
	};
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_CONFIGURE, &c));

	/* A tile the card does not have is another error. */
	rc.tile = 64;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));
	rec.t.tile = 64;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_ROUTES, &r));
	/* So is one that names our tile in its low 16 bits only. */
	rc.tile = self->tile + 0x10000;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc));
	p.tile = self->tile + 0x10000;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));

	/* The refused batch queued nothing; ours alone is accepted. */
	s.count = 1;
	EXPECT_EQ(0, net_ioctl(self->fd, IONPU_IOC_INPUT, &s));
	EXPECT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));
}

TEST_F(net, another_process_is_denied_our_tiles)
{
	int status;
	pid_t child;

	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd = open(self->card.node, O_RDWR | O_CLOEXEC);
		struct ionpu_cell_read got;
		struct ionpu_read_cells rc = {
			.tile = self->tile, .rows = 1, .columns = 1,
			.cells = (uintptr_t)&got,
		};
		struct {
			struct ionpu_route r;
			struct ionpu_route_target t;
		} rec = {
			.r = { .neuron = 0, .targets = 1 },
			.t = { .tile = self->tile, .row = 0 },
		};
		struct ionpu_routes r = {
			.tile = self->tile - 1, .records = 1,
			.size = sizeof(rec), .routes = (uintptr_t)&rec,
		};
		int bad = fd < 0;

		/* Its own file has no lease; the parent's tile stays the parent's. */
		bad |= net_ioctl(fd, IONPU_IOC_READ_CELLS, &rc) != -EACCES;
		bad |= net_configure(fd, self->tile) != -EACCES;
		/* From a tile of its own, no route into the parent's. */
		bad |= net_lease(fd, self->tile - 1) != 0;
		bad |= net_ioctl(fd, IONPU_IOC_ROUTES, &r) != -EACCES;
		bad |= net_input(fd, self->tile) != -EACCES;
		_exit(bad);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(net, calibration_record_reads_back_what_was_written)
{
	unsigned char old[64], val[64], got[64];
	struct ionpu_calib c = { .offset = 1000, .length = sizeof(val) };

	for (unsigned int i = 0; i < sizeof(val); i++)
		val[i] = 0x5a ^ i;
	c.data = (uintptr_t)old;
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_READ_CALIB, &c));
	c.data = (uintptr_t)val;
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_WRITE_CALIB, &c));
	c.data = (uintptr_t)got;
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_READ_CALIB, &c));
	EXPECT_EQ(0, memcmp(val, got, sizeof(val)));
	/* The record is the card's, not this test's: put it back. */
	c.data = (uintptr_t)old;
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_WRITE_CALIB, &c));
}

TEST_F(net, raw_pulses_move_an_ideal_cell_one_level)
{
	struct ionpu_cell_prog cell = {
		.row = 5, .column = 9, .device = IONPU_DEVICE_GPLUS, .budget = 16,
		.target = ionpu_f32_to_bits(50.0f), .tolerance = ionpu_f32_to_bits(0.25f),
	};
	struct ionpu_cell_result res;
	struct ionpu_program p = { .tile = self->tile, .count = 1,
				   .cells = (uintptr_t)&cell,
				   .results = (uintptr_t)&res };
	struct ionpu_pulse pulse[2] = {
		{ .row = 5, .column = 9, .kind = IONPU_PULSE_SET, .count = 3 },
		{ .row = 5, .column = 9, .kind = IONPU_PULSE_RESET, .count = 1 },
	};
	uint32_t after[2];
	struct ionpu_pulses rp = { .tile = self->tile, .count = 2,
				   .pulses = (uintptr_t)pulse,
				   .results = (uintptr_t)after };
	const float step = 100.0f / 255;
	float g;

	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	ASSERT_EQ(0, net_configure(self->fd, self->tile));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_PROGRAM, &p));
	g = ionpu_bits_to_f32(res.conductance);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RAW_PULSES, &rp));
	EXPECT_GE(1e-3f, fabsf(ionpu_bits_to_f32(after[0]) - (g + 3 * step)));
	EXPECT_GE(1e-3f, fabsf(ionpu_bits_to_f32(after[1]) - (g + 2 * step)));

	/* Pulses need the lease too, of the tile named in all 32 bits. */
	rp.tile = self->tile - 1;
	EXPECT_EQ(-EACCES, net_ioctl(self->fd, IONPU_IOC_RAW_PULSES, &rp));
	rp.tile = self->tile + 0x10000;
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_RAW_PULSES, &rp));
}

TEST_F(net, calibration_writes_and_pulses_need_cap_sys_admin)
{
	int status;
	pid_t child;

	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		unsigned char buf[4];
		struct ionpu_calib c = { .length = sizeof(buf),
					 .data = (uintptr_t)buf };
		struct ionpu_pulse pulse = { .kind = IONPU_PULSE_SET, .count = 1 };
		uint32_t after;
		struct ionpu_pulses rp = { .tile = self->tile, .count = 1,
					   .pulses = (uintptr_t)&pulse,
					   .results = (uintptr_t)&after };
		int bad = 0;

		/* Root that becomes nobody loses every capability. */
		if (setgid(65534) || setuid(65534))
			_exit(2);
		/* The inherited file holds the lease: only the privilege is missing. */
		bad |= net_ioctl(self->fd, IONPU_IOC_READ_CALIB, &c) != 0;
		bad |= net_ioctl(self->fd, IONPU_IOC_WRITE_CALIB, &c) != -EPERM;
		bad |= net_ioctl(self->fd, IONPU_IOC_RAW_PULSES, &rp) != -EPERM;
		_exit(bad);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* The main thread's probing RUNs may hold the clock: wait for our turn. */
static void *run_until_stopped(void *arg)
{
	struct ionpu_run *run = arg;
	int fd = (int)run->ran;
	int ret;

	do {
		run->ran = 0;
		ret = net_ioctl(fd, IONPU_IOC_RUN, run);
	} while (ret == -EBUSY);
	return (void *)(intptr_t)ret;
}

TEST_F(net, run_until_stop_is_stopped)
{
	struct ionpu_run run = { 0 };
	struct ionpu_run second;
	struct ionpu_stop stop = { .stopped = 7 };
	struct ionpu_reset_state rs = { 0 };
	struct ionpu_counters before, now;
	pthread_t thread;
	void *ret;

	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	/* Nothing runs: nothing to stop. */
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_STOP, &stop));
	EXPECT_EQ(0, stop.stopped);

	/* The thread's argument carries the fd in, the timesteps run out. */
	run.ran = self->fd;
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_until_stopped, &run));
	/* Until the run starts, a second one is not refused: wait for BUSY. */
	for (int i = 0; i < 1000; i++) {
		if (net_run(self->fd, 1, &second) == -EBUSY)
			break;
		usleep(1000);
	}
	EXPECT_EQ(-EBUSY, net_run(self->fd, 1, &second));
	/*
	 * BUSY comes once the thread owns the card's clock, which may be just
	 * before its RUN reaches the card: stop it once it has run a timestep.
	 */
	ASSERT_EQ(0, net_counters(self->fd, &before));
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, net_counters(self->fd, &now));
		if (now.timesteps > before.timesteps)
			break;
		usleep(1000);
	}
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_STOP, &stop));
		if (stop.stopped)
			break;
		usleep(1000);
	}
	EXPECT_EQ(1, stop.stopped);
	ASSERT_EQ(0, pthread_join(thread, &ret));
	EXPECT_EQ(0, (intptr_t)ret);
	EXPECT_EQ(1, run.stopped);
	EXPECT_LE(1, run.ran);
	EXPECT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RESET_STATE, &rs));
}

TEST_HARNESS_MAIN
