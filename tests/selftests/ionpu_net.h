/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small network whose output is known by hand, for the selftests of the
 * network commands and of the output-spike stream.
 *
 * One ideal-mode tile of IF neurons (dt 1, r 1, threshold 5, reset 0), the
 * input gain 1 so a cell's weight is G+ - G- in µS:
 *
 *   row 0 -> neuron 0: weight 10   (fires on every input)
 *   row 0 -> neuron 1: weight ~3.1 (fires on the second input)
 *   row 0 -> neuron 2: weight 0    (never fires)
 *   row 1 -> neuron 3: weight 10; neuron 0 routes to row 1 with delay 2
 *
 * Every other cell of rows 0 and 1 has weight 0.  Neurons 0..3 go to the
 * host.  Inputs on row 0 in timesteps t and t + 1 give, in timestep order:
 * (t, 0), (t + 1, 0), (t + 1, 1), (t + 3, 3), (t + 4, 3): an input of step t
 * is integrated in step t, a routed spike of step t arrives in t + 1 + delay.
 */
#ifndef IONPU_NET_H
#define IONPU_NET_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>
#include <linux/ionpu.h>

#include "ionpu_cards.h"

/*
 * Open the card the network tests use, the last one (the first one's
 * counters are tested untouched), and pick its last tile.  Returns the fd;
 * -ENODEV without a card; -EOPNOTSUPP when it has no command queues or a
 * single tile; or -errno.
 */
static inline int net_open(struct ionpu_test_card *card, unsigned int *tile)
{
	struct ionpu_info info = { 0 };
	int fd = ionpu_test_open_last(card);

	if (fd < 0)
		return fd;
	if (ioctl(fd, IONPU_IOC_INFO, &info)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!(info.caps & IONPU_CAP_QUEUES) || info.tiles < 2) {
		close(fd);
		return -EOPNOTSUPP;
	}
	*tile = info.tiles - 1;
	return fd;
}

/*
 * The fixture setup of a network test: net_open() into self->fd,
 * self->card and self->tile, or SKIP where the machine cannot run the
 * network.  Macros, as SKIP() and ASSERT_*() must act in the setup itself.
 */
#define NET_FIXTURE_OPEN(self) do {					\
	(self)->fd = net_open(&(self)->card, &(self)->tile);		\
	if ((self)->fd == -ENODEV)					\
		SKIP(return, "no ionpu card in this machine");		\
	if ((self)->fd == -EOPNOTSUPP)					\
		SKIP(return, "%s has no command queues or a single tile", \
		     (self)->card.name);				\
	ASSERT_LE(0, (self)->fd) TH_LOG("open %s: %s", (self)->card.node, \
					strerror(-(self)->fd));		\
} while (0)

/* NET_FIXTURE_OPEN(), then self->tile leased and the network built on it. */
#define NET_FIXTURE_BUILD(self) do {					\
	NET_FIXTURE_OPEN(self);						\
	ASSERT_EQ(0, net_lease((self)->fd, (self)->tile));		\
	ASSERT_EQ(0, net_build((self)->fd, (self)->tile));		\
} while (0)

#define NET_G_MIN	1.0f
#define NET_THRESHOLD	5.0f
#define NET_ROWS	2
#define NET_NEURONS	4
#define NET_CELLS	(NET_ROWS * 256 * 2)
#define NET_EVENTS	5
#define NET_STEPS	8

struct net_event {
	unsigned int step;	/* after the first input's timestep */
	unsigned int neuron;
};

static const struct net_event net_expected[NET_EVENTS] = {
	{ 0, 0 }, { 1, 0 }, { 1, 1 }, { 3, 3 }, { 4, 3 },
};

static inline int net_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* The command number of @cmd with another argument size. */
static inline unsigned long net_resize(unsigned long cmd, unsigned int size)
{
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

static inline int net_lease(int fd, unsigned int tile)
{
	struct ionpu_lease l = {
		.flags = IONPU_LEASE_EXACT, .tiles = 1ULL << tile,
	};

	return net_ioctl(fd, IONPU_IOC_LEASE, &l);
}

/* Ideal IF neurons 0..NET_NEURONS-1 on @tile. */
static inline int net_configure(int fd, unsigned int tile)
{
	struct ionpu_neuron n[NET_NEURONS];
	struct ionpu_configure c = {
		.flags = IONPU_CONFIGURE_SET_TILE,
		.tile = tile,
		.mode = IONPU_MODE_IDEAL,
		.model = IONPU_MODEL_IF,
		.timestep = ionpu_f32_to_bits(1.0f),
		.input_gain = ionpu_f32_to_bits(1.0f),
		.count = NET_NEURONS,
		.neurons = (uintptr_t)n,
	};

	for (int i = 0; i < NET_NEURONS; i++)
		n[i] = (struct ionpu_neuron) {
			.tau = ionpu_f32_to_bits(0.01f),
			.tau_syn = ionpu_f32_to_bits(0.01f),
			.r = ionpu_f32_to_bits(1.0f),
			.v_threshold = ionpu_f32_to_bits(NET_THRESHOLD),
			.w_in = ionpu_f32_to_bits(1.0f),
		};
	return net_ioctl(fd, IONPU_IOC_CONFIGURE, &c);
}

/* The weight the network gives cell (row, column): G+ target, G- is G_MIN. */
static inline float net_gplus(unsigned int row, unsigned int column)
{
	if (row == 0 && column == 0)
		return 11.0f;
	if (row == 0 && column == 1)
		return 4.0f;
	if (row == 1 && column == 3)
		return 11.0f;
	return NET_G_MIN;
}

/*
 * Program rows 0..NET_ROWS-1 of @tile; fills @cells (NET_CELLS entries,
 * G+ then G- of each cell) and @results.  Returns the ioctl's result.
 */
static inline int net_program(int fd, unsigned int tile,
			      struct ionpu_cell_prog *cells,
			      struct ionpu_cell_result *results,
			      unsigned int *failed)
{
	struct ionpu_program p = {
		.tile = tile, .count = NET_CELLS,
		.cells = (uintptr_t)cells, .results = (uintptr_t)results,
	};
	unsigned int i = 0;
	int ret;

	for (unsigned int row = 0; row < NET_ROWS; row++)
		for (unsigned int col = 0; col < 256; col++)
			for (unsigned int dev = 0; dev < 2; dev++)
				cells[i++] = (struct ionpu_cell_prog) {
					.row = row, .column = col, .device = dev,
					.budget = 16,
					.target = ionpu_f32_to_bits(dev ? NET_G_MIN :
							   net_gplus(row, col)),
					/* Half a level: ideal cells land on one. */
					.tolerance = ionpu_f32_to_bits(0.25f),
				};
	ret = net_ioctl(fd, IONPU_IOC_PROGRAM, &p);
	*failed = p.failed;
	return ret;
}

/* Neurons 0..3 to the host; neuron 0 also to row 1 of @tile, delay 2. */
static inline int net_routes(int fd, unsigned int tile)
{
	struct {
		struct ionpu_route r0;
		struct ionpu_route_target t0;
		struct ionpu_route r[NET_NEURONS - 1];
	} rec = {
		.r0 = { .neuron = 0, .flags = IONPU_ROUTE_TO_HOST, .targets = 1 },
		.t0 = { .tile = tile, .row = 1, .delay = 2 },
	};
	struct ionpu_routes r = {
		.tile = tile, .records = NET_NEURONS,
		.size = sizeof(rec), .routes = (uintptr_t)&rec,
	};

	for (int i = 1; i < NET_NEURONS; i++)
		rec.r[i - 1] = (struct ionpu_route) {
			.neuron = i, .flags = IONPU_ROUTE_TO_HOST,
		};
	return net_ioctl(fd, IONPU_IOC_ROUTES, &r);
}

/* Spikes on row 0 of @tile in the next timestep and the one after. */
static inline int net_input(int fd, unsigned int tile)
{
	struct ionpu_input in[2] = {
		{ .row = 0, .tile = tile, .delay = 0, .value = ionpu_f32_to_bits(1.0f) },
		{ .row = 0, .tile = tile, .delay = 1, .value = ionpu_f32_to_bits(1.0f) },
	};
	struct ionpu_spikes s = { .count = 2, .events = (uintptr_t)in };

	return net_ioctl(fd, IONPU_IOC_INPUT, &s);
}

static inline int net_run(int fd, unsigned int steps, struct ionpu_run *r)
{
	*r = (struct ionpu_run) { .timesteps = steps };
	return net_ioctl(fd, IONPU_IOC_RUN, r);
}

static inline int net_counters(int fd, struct ionpu_counters *c)
{
	*c = (struct ionpu_counters) { 0 };
	return net_ioctl(fd, IONPU_IOC_COUNTERS, c);
}

/* The calling file's own counters (IONPU_COUNTERS_FILE). */
static inline int net_file_counters(int fd, struct ionpu_counters *c)
{
	*c = (struct ionpu_counters) { .flags = IONPU_COUNTERS_FILE };
	return net_ioctl(fd, IONPU_IOC_COUNTERS, c);
}

/* Configures, programs and routes the network on @tile: 0 or -errno. */
static inline int net_build(int fd, unsigned int tile)
{
	struct ionpu_cell_prog *cells = calloc(NET_CELLS, sizeof(*cells));
	struct ionpu_cell_result *res = calloc(NET_CELLS, sizeof(*res));
	struct ionpu_reset_state rs = { 0 };
	unsigned int failed = 0;
	int ret = -ENOMEM;

	if (cells && res) {
		ret = net_configure(fd, tile);
		if (!ret)
			ret = net_program(fd, tile, cells, res, &failed);
		if (!ret && failed)
			ret = -EIO;
		if (!ret)
			ret = net_routes(fd, tile);
		/* Nothing in flight from an earlier run. */
		if (!ret)
			ret = net_ioctl(fd, IONPU_IOC_RESET_STATE, &rs);
	}
	free(cells);
	free(res);
	return ret;
}

/* A second file of the card, holding the same network on @tile. */
static inline int net_other_file(const char *node, unsigned int tile)
{
	int fd = open(node, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = net_lease(fd, tile);
	if (!ret)
		ret = net_build(fd, tile);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

#endif /* IONPU_NET_H */
