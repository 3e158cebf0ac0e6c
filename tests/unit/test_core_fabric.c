// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fabric as a whole: chained tiles sum their columns, the same seed
 * gives the same card and run, counters, reset, the calibration record,
 * and refusal of every malformed or out-of-range argument.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fabric_test.h"

/* LI neurons with dt/tau = 0.5: one step of input I leaves v = I / 2. */
static void li_tile(struct ionpu_fabric *f, unsigned int tile)
{
	struct ionpu_fab_neuron p;

	tile_mode(f, tile, IONPU_FAB_IDEAL, IONPU_FAB_LI, 1e-3f);
	ionpu_fab_neuron_defaults(IONPU_FAB_LI, &p);
	p.tau = 2e-3f;
	for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
		set_neuron(f, tile, n, &p);
}

static float state_v(struct ionpu_fabric *f, unsigned int tile,
		     unsigned int n)
{
	float v;

	assert_int_equal(ionpu_fabric_get_state(f, tile, n, &v, NULL), 0);
	return v;
}

static void test_chain_sums(void **state)
{
	struct ionpu_fabric *f = fabric_new(3, 5);

	(void)state;
	li_tile(f, 0);
	li_tile(f, 1);
	set_weight(f, 0, 0, 7, 1);
	set_weight(f, 1, 4, 7, 2);
	set_weight(f, 2, 9, 7, -6);
	assert_int_equal(ionpu_fabric_chain(f, 1, 0), 0);
	assert_int_equal(ionpu_fabric_chain(f, 2, 0), 0);
	assert_int_equal(ionpu_fabric_chain_head(f, 2), 0);
	/* Inputs of graded value on all three tiles reach tile 0's neuron 7. */
	assert_int_equal(ionpu_fabric_input(f, 0, 0, 1.0f), 0);
	assert_int_equal(ionpu_fabric_input(f, 1, 4, 1.5f), 0);
	assert_int_equal(ionpu_fabric_input(f, 2, 9, 0.5f), 0);
	run(f, 1, NULL);
	assert_float_equal(state_v(f, 0, 7), 0.5 * (1 + 3 - 3), 1e-5);
	assert_float_equal(state_v(f, 1, 7), 0, 0);

	/* Unchained, tile 1 drives its own neurons again. */
	assert_int_equal(ionpu_fabric_chain(f, 1, 1), 0);
	assert_int_equal(ionpu_fabric_chain_head(f, 1), 1);
	/* A reset of other tiles keeps tile 0's state; its own drops its input. */
	ionpu_fabric_reset_state(f, 1ull << 1);
	assert_float_equal(state_v(f, 0, 7), 0.5, 1e-5);
	assert_int_equal(ionpu_fabric_input(f, 0, 0, 1.0f), 0);
	ionpu_fabric_reset_state(f, 1ull << 0);
	assert_float_equal(state_v(f, 0, 7), 0, 0);
	assert_int_equal(ionpu_fabric_input(f, 1, 4, 1.0f), 0);
	run(f, 1, NULL);
	assert_float_equal(state_v(f, 0, 7), 0, 0);
	assert_float_equal(state_v(f, 1, 7), 1.0, 1e-5);
	ionpu_fabric_free(f);
}

static void test_chain_rules(void **state)
{
	struct ionpu_fabric *f = fabric_new(4, 5);

	(void)state;
	assert_int_equal(ionpu_fabric_chain(f, 1, 0), 0);
	/* No chains of chains, in either direction. */
	assert_int_equal(ionpu_fabric_chain(f, 2, 1), -EINVAL);
	assert_int_equal(ionpu_fabric_chain(f, 0, 3), -EINVAL);
	assert_int_equal(ionpu_fabric_chain(f, 4, 0), -ERANGE);
	assert_int_equal(ionpu_fabric_chain(f, 0, 4), -ERANGE);
	assert_int_equal(ionpu_fabric_chain_head(f, 4), -ERANGE);
	/* Moving a member to another head. */
	assert_int_equal(ionpu_fabric_chain(f, 1, 2), 0);
	assert_int_equal(ionpu_fabric_chain(f, 0, 3), 0);
	ionpu_fabric_reset(f);
	assert_int_equal(ionpu_fabric_chain_head(f, 1), 1);
	assert_int_equal(ionpu_fabric_chain_head(f, 0), 0);
	ionpu_fabric_free(f);
}

struct trace {
	uint64_t hash;
	unsigned int n;
};

static int hash_spike(void *opaque, uint64_t t, unsigned int tile,
		      unsigned int neuron)
{
	struct trace *tr = opaque;

	tr->hash = (tr->hash ^ (t << 20 ^ tile << 8 ^ neuron)) *
		   1099511628211ULL;
	tr->n++;
	return 0;
}

/*
 * A small random network on two physical tiles (write-verify programming,
 * read noise, physical neurons), recurrent through the router.
 */
static struct trace random_run(uint64_t seed, struct ionpu_fab_counters *c)
{
	struct ionpu_fabric *f = fabric_new(2, seed);
	struct trace tr = { 1469598103934665603ULL, 0 };
	struct ionpu_fab_prog_result r;

	for (unsigned int t = 0; t < 2; t++) {
		tile_mode(f, t, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
		for (unsigned int row = 0; row < 8; row++)
			for (unsigned int col = 0; col < 32; col++)
				assert_int_equal(ionpu_fabric_program(
					f, t, row, col, IONPU_FAB_GPLUS,
					IONPU_FAB_G_MIN + 2 + (row + col) % 5,
					0.3f, 100, &r), 0);
		for (unsigned int n = 0; n < 32; n++) {
			struct ionpu_fab_target tg = {
				.tile = (uint16_t)(1 - t),
				.row = (uint16_t)(n % 8), .delay = 2,
			};

			assert_int_equal(ionpu_fabric_set_route(f, t, n, true,
								&tg, 1), 0);
		}
	}
	for (unsigned int s = 0; s < 400; s++) {
		assert_int_equal(ionpu_fabric_input(f, 0, s % 8, 1.0f), 0);
		assert_int_equal(ionpu_fabric_run(f, 1, hash_spike, &tr,
						  NULL), 0);
	}
	ionpu_fabric_counters(f, c);
	ionpu_fabric_free(f);
	return tr;
}

static void test_determinism(void **state)
{
	struct ionpu_fab_counters c1, c2, c3;
	struct trace a = random_run(77, &c1);
	struct trace b = random_run(77, &c2);
	struct trace d = random_run(78, &c3);

	(void)state;
	assert_true(a.n > 0);
	assert_int_equal(a.n, b.n);
	assert_true(a.hash == b.hash);
	assert_memory_equal(&c1, &c2, sizeof(c1));
	assert_true(a.hash != d.hash || c1.program_pulses != c3.program_pulses);
}

#define SPREAD_TILES 6

/* What a run on several threads must give exactly as on one. */
struct spread {
	struct trace tr;
	struct ionpu_fab_counters c;
	float v[SPREAD_TILES][IONPU_FAB_NEURONS];
};

/*
 * Six tiles on @threads threads: tiles 0 and 1 physical, 1 chained into
 * 0; 2 and 3 physical; 4 and 5 ideal; a ring of routes through them all
 * and to the host; inputs on every tile each step.
 */
static void spread_run(unsigned int threads, struct spread *out)
{
	struct ionpu_fabric_config cfg = {
		.tiles = SPREAD_TILES, .seed = 5, .threads = threads,
	};
	struct ionpu_fab_prog_result r;
	struct ionpu_fabric *f;

	memset(out, 0, sizeof(*out));
	out->tr.hash = 1469598103934665603ULL;
	assert_int_equal(ionpu_fabric_new(&cfg, &f), 0);
	for (unsigned int t = 0; t < SPREAD_TILES; t++) {
		tile_mode(f, t, t < 4 ? IONPU_FAB_PHYSICAL : IONPU_FAB_IDEAL,
			  IONPU_FAB_LIF, 1e-3f);
		for (unsigned int row = 0; row < 8; row++)
			for (unsigned int col = 0; col < 32; col++)
				assert_int_equal(ionpu_fabric_program(
					f, t, row, col, IONPU_FAB_GPLUS,
					IONPU_FAB_G_MIN + 2 + (row + col + t) % 5,
					0.3f, 100, &r), 0);
		for (unsigned int n = 0; n < 32; n++) {
			struct ionpu_fab_target tg = {
				.tile = (uint16_t)((t + 1) % SPREAD_TILES),
				.row = (uint16_t)(n % 8), .delay = 1,
			};

			assert_int_equal(ionpu_fabric_set_route(f, t, n, true,
								&tg, 1), 0);
		}
	}
	assert_int_equal(ionpu_fabric_chain(f, 1, 0), 0);
	for (unsigned int s = 0; s < 300; s++) {
		for (unsigned int t = 0; t < SPREAD_TILES; t++)
			assert_int_equal(ionpu_fabric_input(f, t, (s + t) % 8,
							    0.5f + t * 0.25f),
					 0);
		assert_int_equal(ionpu_fabric_run(f, 1, hash_spike, &out->tr,
						  NULL), 0);
	}
	ionpu_fabric_counters(f, &out->c);
	for (unsigned int t = 0; t < SPREAD_TILES; t++)
		for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
			assert_int_equal(ionpu_fabric_get_state(f, t, n,
								&out->v[t][n],
								NULL), 0);
	ionpu_fabric_free(f);
}

/* Spread over 2, 3, all six and more threads: the same spikes and state. */
static void test_threads_same_result(void **state)
{
	static const unsigned int threads[] = { 2, 3, SPREAD_TILES, 64 };
	struct spread one, many;

	(void)state;
	spread_run(1, &one);
	assert_true(one.tr.n > 0);
	for (size_t k = 0; k < sizeof(threads) / sizeof(threads[0]); k++) {
		spread_run(threads[k], &many);
		assert_int_equal(one.tr.n, many.tr.n);
		assert_true(one.tr.hash == many.tr.hash);
		assert_memory_equal(&one.c, &many.c, sizeof(one.c));
		assert_memory_equal(one.v, many.v, sizeof(one.v));
	}
}

/*
 * Device draws depend on (seed, place) only, never on call order: a cell's
 * drifted conductance is the same whatever else was done first.
 */
static float settled_g(struct ionpu_fabric *f, unsigned int row,
		       unsigned int col)
{
	float g;

	/* Zero pulses: the noise-free conductance, nothing changed. */
	assert_int_equal(ionpu_fabric_pulse(f, 0, row, col, IONPU_FAB_GPLUS,
					    IONPU_FAB_SET, 0, &g), 0);
	return g;
}

static void test_order_independent(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 9);
	struct ionpu_fabric *g = fabric_new(1, 9);
	unsigned int moved = 0;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	tile_mode(g, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	for (unsigned int k = 0; k < 20; k++)
		assert_int_equal(ionpu_fabric_pulse(f, 0, 100 + k, k,
						    IONPU_FAB_GPLUS,
						    IONPU_FAB_SET, 3, NULL), 0);
	/* A day later, with both cards at the same device time. */
	ionpu_fabric_advance_time(f, 86400ULL * 1000000000ULL);
	ionpu_fabric_advance_time(g, ionpu_fabric_device_time(f) -
				     ionpu_fabric_device_time(g));
	for (unsigned int k = 0; k < 20; k++) {
		float a = settled_g(f, 2, k), b = settled_g(g, 2, k);

		assert_true(a == b);
		moved += a != IONPU_FAB_G_MIN;
	}
	/* Drift (or a stuck device) moved them off the programmed value. */
	assert_true(moved >= 18);
	ionpu_fabric_free(f);
	ionpu_fabric_free(g);
}

static void test_counters(void **state)
{
	struct ionpu_fabric *f = fabric_new(2, 1);
	struct ionpu_fab_counters c;
	uint64_t t0;

	(void)state;
	li_tile(f, 0);
	set_weight(f, 0, 0, 0, 1);	/* 2 program pulses */
	ionpu_fabric_counters(f, &c);
	assert_int_equal(c.program_pulses, 2);
	t0 = ionpu_fabric_device_time(f);
	for (unsigned int k = 0; k < 3; k++)
		assert_int_equal(ionpu_fabric_input(f, 0, k, 1.0f), 0);
	assert_int_equal(ionpu_fabric_input(f, 1, 0, 1.0f), 0);
	run(f, 2, NULL);
	ionpu_fabric_counters(f, &c);
	assert_int_equal(c.timesteps, 2);
	assert_int_equal(c.spikes_in, 4);
	assert_int_equal(c.spikes_out, 0);
	assert_int_equal(c.syn_events, 4 * IONPU_FAB_NEURONS);
	/* Tiles read rows in parallel: 3 rows on the busiest tile. */
	assert_int_equal(ionpu_fabric_device_time(f) - t0,
			 2 * 100 + 3 * 10);
	assert_true(c.energy_fj >= 4 * IONPU_FAB_NEURONS * 5);
	ionpu_fabric_advance_time(f, 1000);
	assert_int_equal(ionpu_fabric_device_time(f) - t0, 1230);
	ionpu_fabric_reset(f);
	ionpu_fabric_counters(f, &c);
	assert_int_equal(c.timesteps, 0);
	assert_int_equal(c.syn_events, 0);
	assert_int_equal(ionpu_fabric_device_time(f) - t0, 1230);
	ionpu_fabric_free(f);
}

/* A card reset forgets configuration but keeps the crossbar. */
static void test_reset_keeps_crossbar(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 1);
	struct ionpu_fab_tile_config c;
	float gp, gn;

	(void)state;
	li_tile(f, 0);
	set_weight(f, 0, 3, 4, -5);
	to_host(f, 0, 1);
	ionpu_fabric_reset(f);
	assert_int_equal(ionpu_fabric_get_tile(f, 0, &c), 0);
	assert_int_equal(c.mode, IONPU_FAB_OFF);
	assert_int_equal(ionpu_fabric_get_route(f, 0, 1, NULL, NULL, 0), 0);
	assert_int_equal(ionpu_fabric_read(f, 0, 3, 4, &gp, &gn), 0);
	assert_float_equal(gn - gp, 5 * IONPU_FAB_G_STEP, 1e-4);
	ionpu_fabric_free(f);
}

static void test_calib(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 1);
	uint8_t buf[16], zero[16] = { 0 };

	(void)state;
	assert_int_equal(ionpu_fabric_calib_read(f, 0, buf, 16), 0);
	assert_memory_equal(buf, zero, 16);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(ionpu_fabric_calib_write(f, IONPU_FAB_CALIB_SIZE - 16,
						  buf, 16), 0);
	assert_int_equal(ionpu_fabric_calib_write(f, IONPU_FAB_CALIB_SIZE - 15,
						  buf, 16), -ERANGE);
	assert_int_equal(ionpu_fabric_calib_write(f, SIZE_MAX, buf, 2),
			 -ERANGE);
	assert_int_equal(ionpu_fabric_calib_read(f, 1, buf, SIZE_MAX),
			 -ERANGE);
	assert_int_equal(ionpu_fabric_calib_read(f, 0, NULL, 1), -EINVAL);
	memset(buf, 0, sizeof(buf));
	ionpu_fabric_reset(f);
	assert_int_equal(ionpu_fabric_calib_read(f, IONPU_FAB_CALIB_SIZE - 16,
						 buf, 16), 0);
	assert_int_equal(buf[15], 0xa5);
	ionpu_fabric_free(f);
}

static void test_bad_input(void **state)
{
	struct ionpu_fabric_config cfg = { .tiles = 0, .seed = 1 };
	struct ionpu_fab_tile_config tc = {
		.mode = IONPU_FAB_IDEAL, .model = IONPU_FAB_LIF, .dt = 1e-3f,
		.gain = 1,
	};
	struct ionpu_fab_prog_result r;
	struct ionpu_fabric *f = NULL;
	float g;

	(void)state;
	assert_int_equal(ionpu_fabric_new(&cfg, &f), -ERANGE);
	cfg.tiles = IONPU_FAB_MAX_TILES + 1;
	assert_int_equal(ionpu_fabric_new(&cfg, &f), -ERANGE);
	cfg.tiles = 1;
	cfg.threads = IONPU_FAB_MAX_THREADS + 1;
	assert_int_equal(ionpu_fabric_new(&cfg, &f), -ERANGE);
	assert_int_equal(ionpu_fabric_new(NULL, &f), -EINVAL);
	assert_null(f);
	f = fabric_new(2, 1);
	assert_int_equal(ionpu_fabric_tiles(f), 2);

	assert_int_equal(ionpu_fabric_input(f, 2, 0, 1), -ERANGE);
	assert_int_equal(ionpu_fabric_input(f, 0, 256, 1), -ERANGE);
	assert_int_equal(ionpu_fabric_input(f, 0, 0, NAN), -EINVAL);
	assert_int_equal(ionpu_fabric_input(f, 0, 0, INFINITY), -EINVAL);
	assert_int_equal(ionpu_fabric_input(NULL, 0, 0, 1), -EINVAL);

	assert_int_equal(ionpu_fabric_set_tile(f, 2, &tc), -ERANGE);
	tc.dt = 0;
	assert_int_equal(ionpu_fabric_set_tile(f, 0, &tc), -EINVAL);
	tc.dt = 1e-3f;
	tc.mode = 3;
	assert_int_equal(ionpu_fabric_set_tile(f, 0, &tc), -EINVAL);
	tc.mode = IONPU_FAB_IDEAL;
	tc.model = 4;
	assert_int_equal(ionpu_fabric_set_tile(f, 0, &tc), -EINVAL);
	tc.model = IONPU_FAB_LIF;
	tc.gain = NAN;
	assert_int_equal(ionpu_fabric_set_tile(f, 0, &tc), -EINVAL);
	assert_int_equal(ionpu_fabric_set_tile(f, 0, NULL), -EINVAL);

	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, IONPU_FAB_GPLUS,
					      IONPU_FAB_G_MAX + 1, 0.1f, 10,
					      &r), -ERANGE);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, IONPU_FAB_GPLUS,
					      IONPU_FAB_G_MIN - 0.5f, 0.1f,
					      10, &r), -ERANGE);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, IONPU_FAB_GPLUS,
					      50, -1, 10, &r), -EINVAL);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, IONPU_FAB_GPLUS,
					      50, 0.1f, 0, &r), -EINVAL);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, 2, 50, 0.1f, 10,
					      &r), -EINVAL);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 256, IONPU_FAB_GPLUS,
					      50, 0.1f, 10, &r), -ERANGE);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, IONPU_FAB_GPLUS,
					      NAN, 0.1f, 10, &r), -EINVAL);
	assert_int_equal(ionpu_fabric_program(f, 0, 0, 0, IONPU_FAB_GPLUS,
					      50, 0.1f, 10, NULL), -EINVAL);
	assert_int_equal(ionpu_fabric_pulse(f, 0, 0, 0, IONPU_FAB_GPLUS, 2, 1,
					    &g), -EINVAL);
	assert_int_equal(ionpu_fabric_pulse(f, 0, 256, 0, IONPU_FAB_GPLUS,
					    IONPU_FAB_SET, 1, &g), -ERANGE);
	assert_int_equal(ionpu_fabric_read(f, 2, 0, 0, &g, &g), -ERANGE);
	assert_int_equal(ionpu_fabric_get_state(f, 0, 256, &g, &g), -ERANGE);
	assert_int_equal(ionpu_fabric_run(NULL, 1, NULL, NULL, NULL), -EINVAL);
	/* Nothing refused above changed a counter. */
	{
		struct ionpu_fab_counters c;

		ionpu_fabric_counters(f, &c);
		assert_int_equal(c.spikes_in, 0);
		assert_int_equal(c.program_pulses, 0);
	}
	ionpu_fabric_free(f);
	ionpu_fabric_free(NULL);
}

/* The largest card allocates, runs and frees. */
static void test_full_card(void **state)
{
	struct ionpu_fabric *f = fabric_new(IONPU_FAB_MAX_TILES, 3);

	(void)state;
	for (unsigned int t = 0; t < IONPU_FAB_MAX_TILES; t++) {
		li_tile(f, t);
		assert_int_equal(ionpu_fabric_input(f, t, t, 1.0f), 0);
	}
	run(f, 3, NULL);
	ionpu_fabric_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_sums),
		cmocka_unit_test(test_chain_rules),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_threads_same_result),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_reset_keeps_crossbar),
		cmocka_unit_test(test_calib),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_full_card),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
