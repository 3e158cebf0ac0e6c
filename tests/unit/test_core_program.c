// SPDX-License-Identifier: GPL-2.0-only
/*
 * The programming engine and the synapse device model: write-and-verify
 * converges on good devices and reports stuck ones, the pulse budget,
 * ideal mode's exact levels, soft-bounded raw pulses, read noise and drift.
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

#define READ_SIGMA 0.1	/* uS, docs/physics.md */

static float true_g(struct ionpu_fabric *f, unsigned int row,
		    unsigned int col)
{
	float g;

	assert_int_equal(ionpu_fabric_pulse(f, 0, row, col, IONPU_FAB_GPLUS,
					    IONPU_FAB_SET, 0, &g), 0);
	return g;
}

/* A device that no pulse moves. */
static bool really_stuck(struct ionpu_fabric *f, unsigned int row,
			 unsigned int col)
{
	float g0 = true_g(f, row, col), g1, g2;

	ionpu_fabric_pulse(f, 0, row, col, IONPU_FAB_GPLUS, IONPU_FAB_SET, 5,
			   &g1);
	ionpu_fabric_pulse(f, 0, row, col, IONPU_FAB_GPLUS, IONPU_FAB_RESET,
			   5, &g2);
	return g0 == g1 && g1 == g2;
}

static void test_write_verify(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 2024);
	unsigned int ok = 0, stuck = 0, truly_stuck = 0, total = 0;
	uint64_t pulses = 0;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	for (unsigned int row = 0; row < 4; row++) {
		for (unsigned int col = 0; col < IONPU_FAB_NEURONS; col++) {
			struct ionpu_fab_prog_result r;
			float target = 10.0f + (float)((row * 256 + col) * 37 %
						       70);

			assert_int_equal(ionpu_fabric_program(f, 0, row, col,
							      IONPU_FAB_GPLUS,
							      target, 0.5f,
							      200, &r), 0);
			total++;
			pulses += r.pulses;
			if (r.status == IONPU_FAB_PROG_OK) {
				ok++;
				assert_true(fabsf(r.achieved - target) <=
					    0.5f);
				assert_true(fabs(true_g(f, row, col) - target) <=
					    0.5 + 5 * READ_SIGMA);
			} else {
				/* Only devices that do not move fail. */
				assert_int_equal(r.status,
						 IONPU_FAB_PROG_STUCK);
				assert_true(really_stuck(f, row, col));
				stuck++;
			}
			if (really_stuck(f, row, col))
				truly_stuck++;
		}
	}
	print_message("write-verify: %u ok, %u stuck of %u, %.1f pulses "
		      "per device\n", ok, stuck, total,
		      (double)pulses / total);
	/* About 1% of devices are stuck; a stuck one may sit on target. */
	assert_true(stuck >= 2 && stuck <= 30);
	assert_true(truly_stuck >= stuck);
	assert_true(truly_stuck - stuck <= 2);
	assert_true(ok + stuck == total);
	ionpu_fabric_free(f);
}

static void test_budget(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 5);
	struct ionpu_fab_prog_result r;
	unsigned int col = 0;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	while (really_stuck(f, 0, col))
		col++;
	assert_int_equal(ionpu_fabric_program(f, 0, 0, col, IONPU_FAB_GPLUS,
					      90.0f, 0.1f, 3, &r), 0);
	assert_int_equal(r.status, IONPU_FAB_PROG_BUDGET);
	assert_int_equal(r.pulses, 3);
	assert_true(r.achieved > 2.0f && r.achieved < 90.0f);
	ionpu_fabric_free(f);
}

static void test_ideal_levels(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 5);
	struct ionpu_fab_prog_result r;
	float want = IONPU_FAB_G_MIN + 128 * IONPU_FAB_G_STEP, g, gn;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, 1e-3f);
	assert_int_equal(ionpu_fabric_program(f, 0, 7, 7, IONPU_FAB_GPLUS,
					      want + 0.3f * IONPU_FAB_G_STEP,
					      0.5f, 10, &r), 0);
	assert_int_equal(r.status, IONPU_FAB_PROG_OK);
	assert_int_equal(r.pulses, 1);
	assert_true(r.achieved == want);
	/* Tolerance tighter than the distance to the nearest level. */
	assert_int_equal(ionpu_fabric_program(f, 0, 7, 7, IONPU_FAB_GPLUS,
					      want + 0.3f * IONPU_FAB_G_STEP,
					      0.01f, 10, &r), 0);
	assert_int_equal(r.status, IONPU_FAB_PROG_BUDGET);
	/* One level per raw pulse, clamped at the ends. */
	assert_int_equal(ionpu_fabric_pulse(f, 0, 7, 7, IONPU_FAB_GPLUS,
					    IONPU_FAB_SET, 3, &g), 0);
	assert_float_equal(g, want + 3 * IONPU_FAB_G_STEP, 1e-4);
	assert_int_equal(ionpu_fabric_pulse(f, 0, 7, 7, IONPU_FAB_GPLUS,
					    IONPU_FAB_SET, 1000, &g), 0);
	assert_true(g == IONPU_FAB_G_MAX);
	/* Reads are exact, every time. */
	for (unsigned int k = 0; k < 10; k++) {
		assert_int_equal(ionpu_fabric_read(f, 0, 7, 7, &g, &gn), 0);
		assert_true(g == IONPU_FAB_G_MAX);
		assert_true(gn == IONPU_FAB_G_MIN);
	}
	ionpu_fabric_free(f);
}

/* Soft bounds: each SET pulse moves less as the device nears its top. */
static void test_soft_bounds(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 6);
	double early = 0, late = 0;
	unsigned int devices = 0;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	for (unsigned int col = 0; col < 32; col++) {
		float g[101];

		if (really_stuck(f, 0, col))
			continue;
		g[0] = true_g(f, 0, col);
		for (unsigned int k = 1; k <= 100; k++)
			ionpu_fabric_pulse(f, 0, 0, col, IONPU_FAB_GPLUS,
					   IONPU_FAB_SET, 1, &g[k]);
		early += g[10] - g[0];
		late += g[100] - g[90];
		assert_true(g[100] > 0.8f * IONPU_FAB_G_MAX);
		assert_true(g[100] < 1.3f * IONPU_FAB_G_MAX);
		devices++;
	}
	assert_true(devices >= 28);
	assert_true(early > 5 * late);
	ionpu_fabric_free(f);
}

static void test_read_noise(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 8);
	double sum = 0, sum2 = 0, g0;
	const unsigned int n = 4000;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	g0 = true_g(f, 1, 1);
	for (unsigned int k = 0; k < n; k++) {
		float gp;

		assert_int_equal(ionpu_fabric_read(f, 0, 1, 1, &gp, NULL), 0);
		sum += gp;
		sum2 += (gp - g0) * (gp - g0);
	}
	assert_float_equal(sum / n, g0, 0.01);
	assert_float_equal(sqrt(sum2 / n), READ_SIGMA, 0.01);
	ionpu_fabric_free(f);
}

/* Conductance relaxes towards G_min, slower and slower, never past it. */
static void test_drift(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 10);
	struct ionpu_fab_prog_result r;
	double loss_hour, loss_year;
	float g0, g1, g2;
	unsigned int col = 0;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, 1e-3f);
	while (really_stuck(f, 3, col))
		col++;
	assert_int_equal(ionpu_fabric_program(f, 0, 3, col, IONPU_FAB_GPLUS,
					      60.0f, 0.3f, 200, &r), 0);
	assert_int_equal(r.status, IONPU_FAB_PROG_OK);
	g0 = true_g(f, 3, col);
	ionpu_fabric_advance_time(f, 3600ULL * 1000000000ULL);
	g1 = true_g(f, 3, col);
	ionpu_fabric_advance_time(f, 365ULL * 86400ULL * 1000000000ULL);
	g2 = true_g(f, 3, col);
	loss_hour = g0 - g1;
	loss_year = g1 - g2;
	assert_true(loss_hour > 0);
	assert_true(loss_year > 0);
	/* Power law in time: the year loses less per decade than the hour. */
	assert_true(loss_year / log10(365.0 * 24) < loss_hour / log10(3600.0));
	assert_true(g2 > 0.5f * g0);
	ionpu_fabric_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_verify),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_ideal_levels),
		cmocka_unit_test(test_soft_bounds),
		cmocka_unit_test(test_read_noise),
		cmocka_unit_test(test_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
