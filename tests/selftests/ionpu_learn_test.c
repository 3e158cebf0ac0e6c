// SPDX-License-Identifier: GPL-2.0-only
/*
 * On-card learning (IONPU_IOC_LEARN, IONPU_IOC_TEACH, API version 4): a
 * teach after a run changes exactly the cells the rule names, by the ideal
 * step docs/physics.md gives, and the counters count its pulses; only the
 * tile's lessee may learn; a small task is learned from zero weights; a
 * run holding the clock makes learning wait (-EBUSY) but not turning it
 * off; malformed arguments are refused; a released tile comes back with
 * learning off; an old binary's shorter counters still work; a card
 * without learning refuses it.
 *
 * Runs on the machine's last card with the network of ionpu_net.h, whose
 * spikes are known: inputs on row 0 at t and t + 1 make neuron 0 fire
 * twice, neuron 1 once, and neuron 0's routed spikes reach row 1 twice,
 * where neuron 3 fires twice; neuron 2 never fires.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_net.h"

/* docs/physics.md: levels of an ideal device, the nominal step, a pulse. */
#define G_MAX		101.0f
#define G_LEVELS	256
#define STEP_NOMINAL	0.05f
#define PULSE_FJ	7500

/* Neuron 2 taught: 2 rows x (itself + neurons 0, 1, 3 that fired). */
#define TAUGHT		2
#define TEACH_PULSES	8

FIXTURE(learn) {
	struct ionpu_test_card card;
	unsigned int tile;
	int fd;
	/* The setup built the network; harnesses run a test after a SKIP. */
	bool ready;
};

FIXTURE_SETUP(learn)
{
	struct ionpu_info info = { 0 };

	NET_FIXTURE_OPEN(self);
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_INFO, &info));
	if (!(info.caps & IONPU_CAP_LEARN))
		SKIP(return, "%s is rev %u.%u, without learning",
		     self->card.name, info.hw_version >> 16,
		     info.hw_version & 0xffff);
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	ASSERT_EQ(0, net_build(self->fd, self->tile));
	self->ready = true;
}

FIXTURE_TEARDOWN(learn)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Full-strength pulses on any input; potentiate until the neuron fires. */
static struct ionpu_learn rule_on(unsigned int tile)
{
	return (struct ionpu_learn) {
		.flags = IONPU_LEARN_ENABLE, .tile = tile,
		.amp_pot = ionpu_f32_to_bits(1.0f),
		.amp_dep = ionpu_f32_to_bits(1.0f),
		.pre_ref = ionpu_f32_to_bits(1.0f),
		.post_target = 1, .max_pulses = 1000,
	};
}

static int learn(int fd, struct ionpu_learn l)
{
	return net_ioctl(fd, IONPU_IOC_LEARN, &l);
}

static int learn_off(int fd, unsigned int tile)
{
	return learn(fd, (struct ionpu_learn) { .tile = tile });
}

static int teach(int fd, unsigned int tile, unsigned int neuron,
		 unsigned int *pulses)
{
	struct ionpu_teach t = { .tile = tile, .neuron = neuron, .pulses = ~0u };
	int ret = net_ioctl(fd, IONPU_IOC_TEACH, &t);

	if (pulses)
		*pulses = t.pulses;
	return ret;
}

static int read_cell(int fd, unsigned int tile, unsigned int row,
		     unsigned int col, float *gp, float *gm)
{
	struct ionpu_cell_read c;
	struct ionpu_read_cells rc = {
		.tile = tile, .row = row, .rows = 1, .column = col,
		.columns = 1, .cells = (uintptr_t)&c,
	};
	int ret = net_ioctl(fd, IONPU_IOC_READ_CELLS, &rc);

	*gp = ionpu_bits_to_f32(c.g_plus);
	*gm = ionpu_bits_to_f32(c.g_minus);
	return ret;
}

/* One full-amplitude ideal learning pulse on a device at @g. */
static float ideal_step(float g)
{
	float level = (G_MAX - NET_G_MIN) / (G_LEVELS - 1);

	g += STEP_NOMINAL * (G_MAX - g);
	return NET_G_MIN + roundf((g - NET_G_MIN) / level) * level;
}

/* The network's example: inputs, then the run that shows it to the tile. */
static int present(int fd, unsigned int tile)
{
	struct ionpu_run run;
	int ret = net_input(fd, tile);

	return ret ? ret : net_run(fd, NET_STEPS, &run);
}

TEST_F(learn, teach_changes_the_cells_the_rule_names)
{
	struct ionpu_counters before, after;
	float gp, gm, want = ideal_step(NET_G_MIN);
	float gplus[NET_ROWS][NET_NEURONS];
	unsigned int pulses = 0;

	if (!self->ready)
		return;

	/* G+ as programmed: the level nearest the network's target. */
	for (unsigned int row = 0; row < NET_ROWS; row++)
		for (unsigned int n = 0; n < NET_NEURONS; n++)
			ASSERT_EQ(0, read_cell(self->fd, self->tile, row, n,
					       &gplus[row][n], &gm));
	ASSERT_EQ(0, learn(self->fd, rule_on(self->tile)));
	ASSERT_EQ(0, present(self->fd, self->tile));
	ASSERT_EQ(0, net_counters(self->fd, &before));
	ASSERT_EQ(0, teach(self->fd, self->tile, TAUGHT, &pulses));
	ASSERT_EQ(0, net_counters(self->fd, &after));
	EXPECT_EQ(TEACH_PULSES, pulses);
	EXPECT_EQ(TEACH_PULSES, after.learn_pulses - before.learn_pulses);
	EXPECT_EQ(TEACH_PULSES * PULSE_FJ,
		  after.learn_energy_fj - before.learn_energy_fj);
	EXPECT_LE(TEACH_PULSES * PULSE_FJ, after.energy_fj - before.energy_fj);
	EXPECT_EQ(before.program_pulses, after.program_pulses);

	for (unsigned int row = 0; row < NET_ROWS; row++) {
		/* The taught neuron gains on both rows that saw input. */
		ASSERT_EQ(0, read_cell(self->fd, self->tile, row, TAUGHT,
				       &gp, &gm));
		EXPECT_EQ(want, gp);
		EXPECT_EQ(NET_G_MIN, gm);
		/* Those that fired lose: G- rises, G+ stays. */
		for (unsigned int n = 0; n < NET_NEURONS; n++) {
			if (n == TAUGHT)
				continue;
			ASSERT_EQ(0, read_cell(self->fd, self->tile, row, n,
					       &gp, &gm));
			EXPECT_EQ(want, gm) TH_LOG("row %u neuron %u", row, n);
			EXPECT_EQ(gplus[row][n], gp);
		}
	}
	/* A row without input and a neuron that did not fire: untouched. */
	ASSERT_EQ(0, read_cell(self->fd, self->tile, NET_ROWS, TAUGHT, &gp,
			       &gm));
	EXPECT_EQ(NET_G_MIN, gp);
	ASSERT_EQ(0, read_cell(self->fd, self->tile, 0, NET_NEURONS, &gp,
			       &gm));
	EXPECT_EQ(NET_G_MIN, gm);

	/* The traces were cleared: nothing to teach without a new run. */
	ASSERT_EQ(0, teach(self->fd, self->tile, TAUGHT, &pulses));
	EXPECT_EQ(0, pulses);
}

/*
 * A small task, three classes of two input rows each, overlapping (rows
 * 8-9, 9-10, 10-11), learned from zero weights by neurons 8-10 (ideal IF,
 * threshold 5 uS of input): each example is a job of one timestep, whose
 * state reset also starts the tile's traces afresh, then a teach.
 */
#define TASK_CLASSES	3
#define TASK_ROW	8
#define TASK_NEURON	8
#define TASK_EPOCHS	6

/* Neurons 8-10 as IF neurons to the host; the tile is ideal IF, dt 1. */
static int task_configure(int fd, unsigned int tile)
{
	struct ionpu_neuron n[TASK_CLASSES];
	struct ionpu_configure c = {
		.tile = tile, .first = TASK_NEURON, .count = TASK_CLASSES,
		.neurons = (uintptr_t)n,
	};
	struct ionpu_route rec[TASK_CLASSES];
	struct ionpu_routes r = {
		.tile = tile, .records = TASK_CLASSES, .size = sizeof(rec),
		.routes = (uintptr_t)rec,
	};
	int ret;

	for (int i = 0; i < TASK_CLASSES; i++) {
		n[i] = (struct ionpu_neuron) {
			.tau = ionpu_f32_to_bits(0.01f),
			.tau_syn = ionpu_f32_to_bits(0.01f),
			.r = ionpu_f32_to_bits(1.0f),
			.v_threshold = ionpu_f32_to_bits(NET_THRESHOLD),
			.w_in = ionpu_f32_to_bits(1.0f),
		};
		rec[i] = (struct ionpu_route) {
			.neuron = TASK_NEURON + i, .flags = IONPU_ROUTE_TO_HOST,
		};
	}
	ret = net_ioctl(fd, IONPU_IOC_CONFIGURE, &c);
	return ret ? ret : net_ioctl(fd, IONPU_IOC_ROUTES, &r);
}

/*
 * Show class @k for one timestep; *@fired gets bit i for each task neuron
 * 8 + i that fired.  0 or -errno.
 */
static int task_example(int fd, unsigned int tile, unsigned int k,
			unsigned int *fired)
{
	struct ionpu_job_input in[2];
	struct ionpu_event out[16];
	struct ionpu_job j = {
		.timesteps = 1, .in_count = 2, .inputs = (uintptr_t)in,
		.out_room = 16, .outputs = (uintptr_t)out,
	};
	int ret;

	for (unsigned int i = 0; i < 2; i++)
		in[i] = (struct ionpu_job_input) {
			.value = ionpu_f32_to_bits(1.0f),
			.row = TASK_ROW + k + i, .tile = tile,
		};
	ret = net_ioctl(fd, IONPU_IOC_JOB, &j);
	*fired = 0;
	for (unsigned int i = 0; !ret && i < j.produced && i < 16; i++)
		if (out[i].neuron >= TASK_NEURON &&
		    out[i].neuron < TASK_NEURON + TASK_CLASSES)
			*fired |= 1u << (out[i].neuron - TASK_NEURON);
	return ret;
}

TEST_F(learn, a_small_task_is_learned_on_the_card)
{
	struct ionpu_counters before, after;
	unsigned int fired, pulses, total = 0, epoch;

	if (!self->ready)
		return;

	ASSERT_EQ(0, task_configure(self->fd, self->tile));
	ASSERT_EQ(0, net_counters(self->fd, &before));
	ASSERT_EQ(0, learn(self->fd, rule_on(self->tile)));
	/* Teach every class each epoch until an epoch changes nothing. */
	for (epoch = 0; epoch < TASK_EPOCHS; epoch++) {
		unsigned int epoch_pulses = 0;

		for (unsigned int k = 0; k < TASK_CLASSES; k++) {
			ASSERT_EQ(0, task_example(self->fd, self->tile, k,
						  &fired));
			ASSERT_EQ(0, teach(self->fd, self->tile,
					   TASK_NEURON + k, &pulses));
			epoch_pulses += pulses;
		}
		TH_LOG("epoch %u: %u pulses", epoch, epoch_pulses);
		total += epoch_pulses;
		if (!epoch_pulses)
			break;
	}
	EXPECT_LT(epoch, TASK_EPOCHS);
	ASSERT_EQ(0, net_counters(self->fd, &after));
	EXPECT_EQ(total, after.learn_pulses - before.learn_pulses);

	/* Learning off: each class fires its own neuron and no other. */
	ASSERT_EQ(0, learn_off(self->fd, self->tile));
	for (unsigned int k = 0; k < TASK_CLASSES; k++) {
		ASSERT_EQ(0, task_example(self->fd, self->tile, k, &fired));
		EXPECT_EQ(1u << k, fired) TH_LOG("class %u", k);
	}
}

TEST_F(learn, only_the_lessee_learns)
{
	unsigned int other = self->tile - 1;
	int fd2;

	if (!self->ready)
		return;
	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	/* Our tile, from a file that does not lease it. */
	EXPECT_EQ(-EACCES, learn(fd2, rule_on(self->tile)));
	EXPECT_EQ(-EACCES, learn_off(fd2, self->tile));
	EXPECT_EQ(-EACCES, teach(fd2, self->tile, 0, NULL));
	/* A tile we do not lease. */
	EXPECT_EQ(-EACCES, learn(self->fd, rule_on(other)));
	EXPECT_EQ(-EACCES, teach(self->fd, other, 0, NULL));
	/* A tile the card lacks, also past 16 bits. */
	EXPECT_EQ(-EINVAL, learn(self->fd, rule_on(self->tile + 1)));
	EXPECT_EQ(-EINVAL, learn(self->fd, rule_on(self->tile + 0x10000)));
	EXPECT_EQ(-EINVAL, teach(self->fd, self->tile + 0x10000, 0, NULL));
	close(fd2);
}

TEST_F(learn, a_run_makes_learning_wait_but_not_turning_it_off)
{
	struct ionpu_run run = { .flags = IONPU_RUN_NOWAIT };
	struct ionpu_wait w = { 0 };
	struct ionpu_stop stop;
	unsigned int pulses;

	if (!self->ready)
		return;

	ASSERT_EQ(0, learn(self->fd, rule_on(self->tile)));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RUN, &run));
	EXPECT_EQ(-EBUSY, learn(self->fd, rule_on(self->tile)));
	EXPECT_EQ(-EBUSY, teach(self->fd, self->tile, 0, NULL));
	EXPECT_EQ(0, learn_off(self->fd, self->tile));
	/* STOP until it finds the run, which may not have started yet. */
	for (int i = 0; i < 1000; i++) {
		stop = (struct ionpu_stop) { 0 };
		ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_STOP, &stop));
		if (stop.stopped)
			break;
		usleep(1000);
	}
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_WAIT, &w));
	EXPECT_EQ(1, w.stopped);
	/* Learning was turned off under the run. */
	EXPECT_EQ(-EINVAL, teach(self->fd, self->tile, 0, NULL));
	ASSERT_EQ(0, learn(self->fd, rule_on(self->tile)));
	ASSERT_EQ(0, teach(self->fd, self->tile, 0, &pulses));
	EXPECT_EQ(0, pulses);
}

TEST_F(learn, malformed_arguments_are_refused)
{
	struct ionpu_learn l;
	struct ionpu_teach t = { .tile = self->tile, .flags = 1 };

	if (!self->ready)
		return;

	l = rule_on(self->tile);
	l.flags = 2;
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	l = rule_on(self->tile);
	l.reserved = 1;
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	l = rule_on(self->tile);
	l.amp_pot = ionpu_f32_to_bits(NAN);
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	l = rule_on(self->tile);
	l.amp_dep = ionpu_f32_to_bits(1.5f);
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	l = rule_on(self->tile);
	l.pre_ref = ionpu_f32_to_bits(-1.0f);
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	l = rule_on(self->tile);
	l.max_pulses = 0;
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	/* "Off" with a rule's field is a mistake. */
	l = (struct ionpu_learn) { .tile = self->tile, .post_target = 3 };
	EXPECT_EQ(-EINVAL, learn(self->fd, l));
	/* None of those turned learning on. */
	EXPECT_EQ(-EINVAL, teach(self->fd, self->tile, 0, NULL));

	ASSERT_EQ(0, learn(self->fd, rule_on(self->tile)));
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd, IONPU_IOC_TEACH, &t));
	EXPECT_EQ(-EINVAL, teach(self->fd, self->tile, 256, NULL));
	/* Shorter than the struct: -EINVAL; longer with junk: -E2BIG. */
	EXPECT_EQ(-EINVAL, net_ioctl(self->fd,
				     net_resize(IONPU_IOC_LEARN, 16), &l));
	{
		struct {
			struct ionpu_teach t;
			__u64 junk;
		} big = { { .tile = self->tile }, 1 };

		EXPECT_EQ(-E2BIG,
			  net_ioctl(self->fd,
				    net_resize(IONPU_IOC_TEACH, sizeof(big)),
				    &big));
	}
}

TEST_F(learn, a_released_tile_comes_back_with_learning_off)
{
	struct ionpu_release rel = { .tiles = 1ULL << self->tile };
	int fd2;

	if (!self->ready)
		return;

	ASSERT_EQ(0, learn(self->fd, rule_on(self->tile)));
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RELEASE, &rel));
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	EXPECT_EQ(-EINVAL, teach(self->fd, self->tile, 0, NULL));

	/* Closing the file releases too. */
	ASSERT_EQ(0, net_ioctl(self->fd, IONPU_IOC_RELEASE, &rel));
	fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, net_lease(fd2, self->tile));
	ASSERT_EQ(0, learn(fd2, rule_on(self->tile)));
	close(fd2);
	ASSERT_EQ(0, net_lease(self->fd, self->tile));
	EXPECT_EQ(-EINVAL, teach(self->fd, self->tile, 0, NULL));
}

TEST_F(learn, counters_of_an_old_binary_still_work)
{
	struct ionpu_counters c;
	size_t old = offsetof(struct ionpu_counters, learn_pulses);

	if (!self->ready)
		return;

	memset(&c, 0xee, sizeof(c));
	c.flags = 0;
	c.reserved = 0;
	ASSERT_EQ(0, net_ioctl(self->fd, net_resize(IONPU_IOC_COUNTERS, old),
			       &c));
	EXPECT_NE(0xeeeeeeeeeeeeeeeeULL, c.timesteps);
	/* Not written past the caller's struct. */
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, c.learn_pulses);
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, c.learn_energy_fj);
	EXPECT_EQ(-EINVAL,
		  net_ioctl(self->fd, net_resize(IONPU_IOC_COUNTERS, old - 8),
			    &c));
}

/*
 * A card without learning (older than rev 1.4, or QEMU's learning=off):
 * the driver refuses learning with -EOPNOTSUPP before the card sees it, and
 * the learning counters read 0; a file's own counters too are refused.  Skipped where every card can learn.
 */
TEST(an_older_card_refuses_learning)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);

	for (int i = 0; i < n; i++) {
		struct ionpu_info info = { 0 };
		struct ionpu_counters c;
		struct ionpu_lease l = { .count = 1 };
		unsigned int tile;
		int fd = open(cards[i].node, O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_INFO, &info));
		if (info.caps & IONPU_CAP_LEARN || !(info.caps & IONPU_CAP_QUEUES)) {
			close(fd);
			continue;
		}
		ASSERT_EQ(0, net_ioctl(fd, IONPU_IOC_LEASE, &l));
		tile = __builtin_ctzll(l.tiles);
		EXPECT_EQ(-EOPNOTSUPP, learn(fd, rule_on(tile)));
		EXPECT_EQ(-EOPNOTSUPP, learn_off(fd, tile));
		EXPECT_EQ(-EOPNOTSUPP, teach(fd, tile, 0, NULL));
		ASSERT_EQ(0, net_counters(fd, &c));
		EXPECT_EQ(0, c.learn_pulses);
		EXPECT_EQ(0, c.learn_energy_fj);
		/* Nor does it count per tile (rev 1.5 came after learning). */
		EXPECT_EQ(-EOPNOTSUPP, net_file_counters(fd, &c));
		close(fd);
		return;
	}
	SKIP(return, "every card here can learn (QEMU ionpu,learning=off makes one that cannot)");
}

TEST_HARNESS_MAIN
