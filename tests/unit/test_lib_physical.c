// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical mode's neuron mapping (ionpu_image_physical()): a tile of
 * diffusive-memristor neurons configured through it fires at about the rate
 * of the same tile's ideal neurons, for the same input; without it, at a
 * fraction of that.  Both run on the model core, fed the same Poisson (or
 * regular) trains.  Every neuron listens to the same few rows: rows it
 * does not listen to would still reach it in physical mode, as the read
 * noise of their zero-weight cells, which is the crossbar's doing, not the
 * neuron's.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ionpu_internal.h"
#include "fabric_test.h"

#define NEURONS		16
#define ROWS		8	/* input rows, each to every neuron */
#define STEPS		300
#define DT		1e-3f
#define BIN		10	/* steps per bin of the spike-train correlation */

enum wiring { IDEAL, UNMAPPED, MAPPED };

struct trial {
	enum ionpu_fab_model model;
	float tau, tau_syn, r, v_threshold;
	int weight;		/* levels, every input cell */
	uint32_t p_in;		/* input spike probability per row and step, 1/1000 */
	uint32_t period;	/* nonzero: regular input, one spike every period steps */
};

struct trains {
	uint8_t s[NEURONS][STEPS];
};

static int on_spike(void *opaque, uint64_t t, unsigned int tile, unsigned int neuron)
{
	struct trains *tr = opaque;

	(void)tile;
	assert_true(neuron < NEURONS && t < STEPS);
	tr->s[neuron][t] = 1;
	return 0;
}

/* The same input sequence for every wiring: a generator per trial. */
static uint32_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static void run_tile(const struct trial *tr, enum wiring how, struct trains *out)
{
	struct ionpu_image_tile tile = {
		.cfg = { .mode = IONPU_FAB_IDEAL, .model = tr->model, .dt = DT,
			 .gain = 1.0f / IONPU_FAB_G_STEP },
	};
	struct ionpu_image img = { .n_tiles = 1, .tiles = &tile };
	struct ionpu_fabric *f = fabric_new(1, 1);
	uint64_t seed = 12345, done = 0;

	/* Ideal while programming: every cell exactly its level. */
	assert_int_equal(ionpu_fabric_set_tile(f, 0, &tile.cfg), 0);
	for (unsigned int k = 0; k < NEURONS; k++)
		for (unsigned int row = 0; row < ROWS; row++)
			set_weight(f, 0, row, k, tr->weight);
	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++) {
		struct ionpu_fab_neuron *p = &tile.neurons[k];

		assert_int_equal(ionpu_fab_neuron_defaults(tr->model, p), 0);
		p->tau = tr->tau;
		p->tau_syn = tr->tau_syn;
		p->r = tr->r;
		p->v_threshold = tr->v_threshold;
	}
	if (how == MAPPED)
		assert_int_equal(ionpu_image_physical(&img), 0);
	else if (how == UNMAPPED)
		tile.cfg.mode = IONPU_FAB_PHYSICAL;
	/*
	 * Physical reads reach every column; the columns not watched get no
	 * input gain, so the card skips them at rest (valgrind's run time).
	 */
	for (unsigned int k = NEURONS; k < IONPU_FAB_NEURONS; k++)
		tile.neurons[k].r = 0;
	assert_int_equal(ionpu_fabric_set_tile(f, 0, &tile.cfg), 0);
	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++)
		set_neuron(f, 0, k, &tile.neurons[k]);
	for (unsigned int k = 0; k < NEURONS; k++)
		to_host(f, 0, k);
	memset(out, 0, sizeof(*out));
	for (unsigned int t = 0; t < STEPS; t++) {
		for (unsigned int row = 0; row < ROWS; row++) {
			bool spike = tr->period ? (t + row) % tr->period == 0 :
						  lcg(&seed) % 1000 < tr->p_in;

			if (spike)
				assert_int_equal(ionpu_fabric_input(f, 0, row, 1.0f), 0);
		}
		assert_int_equal(ionpu_fabric_run(f, 1, on_spike, out, &done), 0);
		assert_int_equal(done, 1);
	}
	ionpu_fabric_free(f);
}

static double rate(const struct trains *tr)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < NEURONS; k++)
		for (unsigned int t = 0; t < STEPS; t++)
			n += tr->s[k][t];
	return (double)n / (NEURONS * STEPS);
}

/* Pearson correlation of spike counts in BIN-step bins, over all neurons. */
static double binned_corr(const struct trains *a, const struct trains *b)
{
	double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, n = 0;

	for (unsigned int k = 0; k < NEURONS; k++)
		for (unsigned int t0 = 0; t0 + BIN <= STEPS; t0 += BIN, n++) {
			double x = 0, y = 0;

			for (unsigned int t = t0; t < t0 + BIN; t++) {
				x += a->s[k][t];
				y += b->s[k][t];
			}
			sx += x;
			sy += y;
			sxx += x * x;
			syy += y * y;
			sxy += x * y;
		}
	sxx -= sx * sx / n;
	syy -= sy * sy / n;
	sxy -= sx * sy / n;
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/*
 * Drives from 1.6 to 6.4 times threshold (mean r I over v_threshold), tau of
 * 5 to 20 steps, Poisson and regular input, every spiking model.
 */
static const struct trial trials[] = {
	{ IONPU_FAB_LIF, 5e-3f, 1e-2f, 1, 1, 2, 100, 0 },
	{ IONPU_FAB_LIF, 1e-2f, 1e-2f, 1, 1, 2, 200, 0 },
	{ IONPU_FAB_LIF, 1e-2f, 1e-2f, 1, 1, 2, 400, 0 },
	{ IONPU_FAB_LIF, 2e-2f, 1e-2f, 1, 2, 2, 400, 0 },
	{ IONPU_FAB_LIF, 1e-2f, 1e-2f, 1, 2, 1, 0, 2 },
	{ IONPU_FAB_CUBA_LIF, 1e-2f, 5e-3f, 1, 1, 2, 200, 0 },
	{ IONPU_FAB_IF, 1e-2f, 1e-2f, 100, 1, 2, 200, 0 },
};

static void test_rates_match(void **state)
{
	struct trains ideal, phys, raw;

	(void)state;
	for (size_t i = 0; i < sizeof(trials) / sizeof(trials[0]); i++) {
		const struct trial *tr = &trials[i];
		double ri, rp, ru;

		run_tile(tr, IDEAL, &ideal);
		run_tile(tr, MAPPED, &phys);
		run_tile(tr, UNMAPPED, &raw);
		ri = rate(&ideal);
		rp = rate(&phys);
		ru = rate(&raw);
		print_message("model %d tau %g th %g input %s %u: spikes/step ideal %.3f mapped %.3f (x%.2f, binned corr %.2f) unmapped %.3f (x%.2f)\n",
			      tr->model, tr->tau, tr->v_threshold, tr->period ? "every" : "p/1000",
			      tr->period ? tr->period : tr->p_in, ri, rp, rp / ri,
			      binned_corr(&ideal, &phys), ru, ru / ri);
		assert_true(ri > 0.02);
		assert_true(rp >= 0.5 * ri && rp <= 2 * ri);
		/* What the card did before the mapping: far too few spikes. */
		assert_true(ru < 0.5 * ri);
	}
}

/* LI never fires; its physical membrane still follows the input. */
static void test_li_silent(void **state)
{
	const struct trial li = { IONPU_FAB_LI, 1e-2f, 1e-2f, 1, 1, 4, 400, 0 };
	struct trains phys;
	struct ionpu_image_tile tile = { .cfg = { .model = IONPU_FAB_LI, .dt = DT } };
	struct ionpu_image img = { .n_tiles = 1, .tiles = &tile };

	(void)state;
	run_tile(&li, MAPPED, &phys);
	assert_true(rate(&phys) == 0);
	/* The membrane: one exact RC step is one Euler step of the ideal one. */
	ionpu_fab_neuron_defaults(IONPU_FAB_LI, &tile.neurons[0]);
	tile.neurons[0].tau = 4e-3f;
	assert_int_equal(ionpu_image_physical(&img), 0);
	assert_int_equal(tile.cfg.mode, IONPU_FAB_PHYSICAL);
	assert_float_equal(1 - expf(-tile.cfg.dt / tile.neurons[0].tau), DT / 4e-3f, 1e-6);
	assert_true(tile.neurons[0].v_threshold == FLT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates_match),
		cmocka_unit_test(test_li_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
