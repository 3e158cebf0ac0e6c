// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rasters as card events: input rasters into timed input events (the order
 * the card adds them up in, delays, events carried past a run's end) and a
 * job's output events back into an output raster.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ionpu_job.h"

/*
 * Two channels: channel 0 drives (tile 0, row 0) now and (tile 1, row 5)
 * three steps later; channel 1 drives (tile 0, row 1) one step later.
 */
static const size_t in_first[3] = { 0, 2, 3 };
static struct ionpu_fab_target in_targets[3] = {
	{ .tile = 0, .row = 0, .delay = 0 },
	{ .tile = 1, .row = 5, .delay = 3 },
	{ .tile = 0, .row = 1, .delay = 1 },
};

static struct ionpu_image image(void)
{
	return (struct ionpu_image){
		.n_in = 2, .in_first = (size_t *)in_first, .in_targets = in_targets,
	};
}

static void expect_event(const struct ionpu_timed_input *e, uint32_t step, float value,
			 uint16_t tile, uint16_t row)
{
	assert_int_equal(e->step, step);
	assert_true(e->value == value);
	assert_int_equal(e->tile, tile);
	assert_int_equal(e->row, row);
}

/* In step order; within a step, earlier steps' events first, then channel order. */
static void test_order_and_delays(void **state)
{
	const struct ionpu_image img = image();
	const float in[4 * 2] = { 1, 0, 0.5f, 2, 0, 1, 1, 0 };
	struct ionpu_feed feed = { 0 };
	struct ionpu_timed_input *ev;
	size_t n;

	(void)state;
	assert_int_equal(ionpu_feed_raster(&img, &feed, in, 4, &ev, &n), 0);
	/* Step 3's: ch 0 of step 0 (delay 3), ch 1 of step 2 (delay 1), ch 0 of step 3. */
	assert_int_equal(n, 6);
	expect_event(&ev[0], 0, 1, 0, 0);
	expect_event(&ev[1], 1, 0.5f, 0, 0);
	expect_event(&ev[2], 2, 2, 0, 1);
	expect_event(&ev[3], 3, 1, 1, 5);
	expect_event(&ev[4], 3, 1, 0, 1);
	expect_event(&ev[5], 3, 1, 0, 0);
	/* Steps 4 and 6 are the next run's 0 and 2. */
	assert_int_equal(feed.n_pending, 2);
	expect_event(&feed.pending[0], 0, 0.5f, 1, 5);
	expect_event(&feed.pending[1], 2, 1, 1, 5);
	free(ev);
	ionpu_feed_clear(&feed);
}

/* What lands past the run's end starts the next run, before its own. */
static void test_carry_over(void **state)
{
	const struct ionpu_image img = image();
	const float a[2 * 2] = { 0, 0, 1, 0 }, b[1 * 2] = { 1, 1 };
	struct ionpu_feed feed = { 0 };
	struct ionpu_timed_input *ev;
	size_t n;

	(void)state;
	assert_int_equal(ionpu_feed_raster(&img, &feed, a, 2, &ev, &n), 0);
	assert_int_equal(n, 1);
	expect_event(&ev[0], 1, 1, 0, 0);
	free(ev);
	/* (tile 1, row 5) of step 1 + 3 = step 2 of the next run. */
	assert_int_equal(feed.n_pending, 1);
	expect_event(&feed.pending[0], 2, 1, 1, 5);
	assert_int_equal(ionpu_feed_raster(&img, &feed, b, 1, &ev, &n), 0);
	assert_int_equal(n, 1);
	expect_event(&ev[0], 0, 1, 0, 0);
	free(ev);
	assert_int_equal(feed.n_pending, 3);
	expect_event(&feed.pending[0], 0, 1, 0, 1);
	expect_event(&feed.pending[1], 1, 1, 1, 5);
	expect_event(&feed.pending[2], 2, 1, 1, 5);
	ionpu_feed_clear(&feed);
	assert_int_equal(feed.n_pending, 0);
	assert_null(feed.pending);
}

static void test_bad_values(void **state)
{
	const struct ionpu_image img = image();
	const float in[2] = { 1, NAN };
	struct ionpu_feed feed = { 0 };
	struct ionpu_timed_input *ev = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(ionpu_feed_raster(&img, &feed, in, 1, &ev, &n), -EINVAL);
	assert_null(ev);
	assert_int_equal(n, 7);
	assert_int_equal(ionpu_feed_raster(&img, &feed, in, SIZE_MAX / 2 + 1, &ev, &n),
			 -EOVERFLOW);
	/* Nothing to feed: no events, no allocation. */
	assert_int_equal(ionpu_feed_raster(&img, &feed, in, 0, &ev, &n), 0);
	assert_null(ev);
	assert_int_equal(n, 0);
}

/* Plan tiles 0 and 1 on card tiles 5 and 9; outputs (0, 3), (1, 0), (0, 7). */
static void test_events_to_raster(void **state)
{
	struct ionpu_image_site outputs[3] = { { 0, 3 }, { 1, 0 }, { 0, 7 } };
	int32_t *out_index = malloc(2 * IONPU_FAB_NEURONS * sizeof(*out_index));
	struct ionpu_image img = { .n_tiles = 2, .n_out = 3, .outputs = outputs };
	struct ionpu_loaded n = { .img = &img };
	struct ionpu_event ev[4] = {
		{ .timestep = 0, .neuron = 3, .tile = 5 },
		{ .timestep = 2, .neuron = 0, .tile = 9 },
		{ .timestep = 2, .neuron = 7, .tile = 5 },
		{ .timestep = 1, .neuron = 3, .tile = 5 },
	};
	const uint8_t want[3 * 3] = { 1, 0, 0, 1, 0, 0, 0, 1, 1 };
	uint8_t out[3 * 3];

	(void)state;
	assert_non_null(out_index);
	for (size_t k = 0; k < 2 * IONPU_FAB_NEURONS; k++)
		out_index[k] = -1;
	for (int32_t j = 0; j < 3; j++)
		out_index[outputs[j].tile * IONPU_FAB_NEURONS + outputs[j].column] = j;
	img.out_index = out_index;
	for (uint32_t t = 0; t < IONPU_FAB_MAX_TILES; t++)
		n.plan_tile[t] = -1;
	n.card_tile[0] = 5;
	n.card_tile[1] = 9;
	n.plan_tile[5] = 0;
	n.plan_tile[9] = 1;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(ionpu_loaded_events_to_raster(&n, ev, 4, 3, out), 0);
	assert_memory_equal(out, want, sizeof(want));
	/* A spike past the steps, of a tile or neuron not the network's. */
	ev[0].timestep = 3;
	assert_int_equal(ionpu_loaded_events_to_raster(&n, ev, 4, 3, out), -EPROTO);
	ev[0] = (struct ionpu_event){ .timestep = 0, .neuron = 3, .tile = 6 };
	assert_int_equal(ionpu_loaded_events_to_raster(&n, ev, 4, 3, out), -EPROTO);
	ev[0] = (struct ionpu_event){ .timestep = 0, .neuron = 4, .tile = 5 };
	assert_int_equal(ionpu_loaded_events_to_raster(&n, ev, 4, 3, out), -EPROTO);
	/* Lost events are not a raster. */
	ev[0] = (struct ionpu_event){ .timestep = 0, .neuron = 3, .tile = 5,
				      .flags = IONPU_EVENT_LOST };
	assert_int_equal(ionpu_loaded_events_to_raster(&n, ev, 4, 3, out), -ENOBUFS);
	free(out_index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_delays),
		cmocka_unit_test(test_carry_over),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_events_to_raster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
