// SPDX-License-Identifier: GPL-2.0-only
/*
 * The weight programming report's arithmetic: quantized levels and their
 * conductances, error statistics per tile and in total, and the target a
 * stuck device's partner gets so that G+ - G- still gives the weight.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ionpu_internal.h"

/* Level k is G_MIN + k G_STEP, the card's own arithmetic in float. */
static void test_levels(void **state)
{
	struct ionpu_card_desc card;

	(void)state;
	ionpu_card_desc_default(1, &card);
	assert_true(ionpu_image_level_us(0) == (float)card.g_min_us);
	assert_true(fabs(ionpu_image_level_us(card.g_levels - 1) - card.g_max_us) < 1e-4);
	for (uint32_t k = 0; k + 1 < card.g_levels; k++)
		assert_true(fabs(ionpu_image_level_us(k + 1) - ionpu_image_level_us(k) -
				 (card.g_max_us - card.g_min_us) / (card.g_levels - 1)) < 1e-4);
}

static void test_stats(void **state)
{
	struct ionpu_program_stats a = { 0 }, b = { 0 }, total = { 0 };

	(void)state;
	ionpu_stats_device(&a, 0.1, 3);
	ionpu_stats_device(&a, 0.3, 5);
	ionpu_stats_cell(&a, 0.02);
	ionpu_stats_finish(&a);
	assert_int_equal(a.devices, 2);
	assert_int_equal(a.pulses, 8);
	assert_true(fabs(a.mean_error_us - 0.2) < 1e-12);
	assert_true(a.max_error_us == 0.3);
	assert_int_equal(a.cells, 1);
	assert_true(a.mean_weight_error == 0.02);

	ionpu_stats_device(&b, 0.5, 1);
	ionpu_stats_cell(&b, 0.04);
	ionpu_stats_cell(&b, 0.0);
	ionpu_stats_finish(&b);
	b.stuck = 1;
	b.remapped = 1;
	b.failed = 2;
	/* Totals weigh each tile's means by its counts. */
	ionpu_stats_merge(&total, &a);
	ionpu_stats_merge(&total, &b);
	assert_int_equal(total.devices, 3);
	assert_int_equal(total.cells, 3);
	assert_int_equal(total.pulses, 9);
	assert_true(fabs(total.mean_error_us - 0.3) < 1e-12);
	assert_true(total.max_error_us == 0.5);
	assert_true(fabs(total.mean_weight_error - 0.02) < 1e-12);
	assert_true(total.max_weight_error == 0.04);
	assert_int_equal(total.stuck, 1);
	assert_int_equal(total.remapped, 1);
	assert_int_equal(total.failed, 2);

	/* Nothing programmed: no division by zero. */
	memset(&a, 0, sizeof(a));
	ionpu_stats_finish(&a);
	assert_true(a.mean_error_us == 0 && a.mean_weight_error == 0);
}

static void test_remap(void **state)
{
	float g;

	(void)state;
	/* G+ stuck at 50: G- = 50 - w. */
	assert_true(ionpu_remap_partner(IONPU_FAB_GPLUS, 50.0f, 20.0f, &g));
	assert_true(g == 30.0f);
	/* G- stuck at 50: G+ = 50 + w (w negative here). */
	assert_true(ionpu_remap_partner(IONPU_FAB_GMINUS, 50.0f, -20.0f, &g));
	assert_true(g == 30.0f);
	/* The range's ends are reachable. */
	assert_true(ionpu_remap_partner(IONPU_FAB_GPLUS, IONPU_FAB_G_MAX,
					IONPU_FAB_G_MAX - IONPU_FAB_G_MIN, &g));
	assert_true(g == IONPU_FAB_G_MIN);
	/*
	 * Stuck with a weight the range cannot make up for: the partner takes
	 * the end of the range nearest to it.
	 */
	assert_false(ionpu_remap_partner(IONPU_FAB_GMINUS, IONPU_FAB_G_MAX, 1.0f, &g));
	assert_true(g == IONPU_FAB_G_MAX);
	assert_false(ionpu_remap_partner(IONPU_FAB_GPLUS, IONPU_FAB_G_MIN, 0.5f, &g));
	assert_true(g == IONPU_FAB_G_MIN);
	assert_false(ionpu_remap_partner(IONPU_FAB_GPLUS, 97.0f, -50.0f, &g));
	assert_true(g == IONPU_FAB_G_MAX);
	/* A zero weight: the partner follows the stuck device. */
	assert_true(ionpu_remap_partner(IONPU_FAB_GPLUS, 7.5f, 0.0f, &g));
	assert_true(g == 7.5f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_remap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
