// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fabric's router: fan-out to several tiles with axonal delays,
 * recurrence, the longest delay, inputs for later timesteps, stopping a
 * run, and route validation.
 *
 * Neurons here are IF with dt r = 1 and threshold 1, and weights are 2
 * levels, so one input event makes a neuron fire in the timestep it lands.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fabric_test.h"

static struct ionpu_fabric *relay_fabric(unsigned int tiles)
{
	struct ionpu_fabric *f = fabric_new(tiles, 42);
	struct ionpu_fab_neuron p;

	ionpu_fab_neuron_defaults(IONPU_FAB_IF, &p);
	p.r = 1000.0f;
	for (unsigned int t = 0; t < tiles; t++) {
		tile_mode(f, t, IONPU_FAB_IDEAL, IONPU_FAB_IF, 1e-3f);
		for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
			set_neuron(f, t, n, &p);
	}
	return f;
}

static void expect(const struct recorder *rec, unsigned int k, uint64_t t,
		   unsigned int tile, unsigned int neuron)
{
	assert_true(k < rec->n);
	assert_int_equal(rec->s[k].t, t);
	assert_int_equal(rec->s[k].tile, tile);
	assert_int_equal(rec->s[k].neuron, neuron);
}

static void test_fanout_and_delay(void **state)
{
	struct ionpu_fabric *f = relay_fabric(2);
	struct recorder *rec = calloc(1, sizeof(*rec));
	const struct ionpu_fab_target tg[] = {
		{ .tile = 1, .row = 5, .delay = 0 },
		{ .tile = 1, .row = 7, .delay = 3 },
		{ .tile = 0, .row = 9, .delay = 1 },
	};
	struct ionpu_fab_target back[4];
	bool host = false;

	(void)state;
	set_weight(f, 0, 0, 0, 2);
	set_weight(f, 1, 5, 10, 2);
	set_weight(f, 1, 7, 20, 2);
	set_weight(f, 0, 9, 30, 2);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, true, tg, 3), 0);
	to_host(f, 1, 10);
	to_host(f, 1, 20);
	to_host(f, 0, 30);
	assert_int_equal(ionpu_fabric_get_route(f, 0, 0, &host, back, 4), 3);
	assert_true(host);
	assert_memory_equal(back, tg, sizeof(tg));
	assert_int_equal(ionpu_fabric_get_route(f, 0, 0, NULL, back, 1), 3);

	assert_int_equal(ionpu_fabric_input(f, 0, 0, 1.0f), 0);
	run(f, 10, rec);
	/* Fired at 0; each target fires at 0 + 1 + delay. */
	assert_int_equal(rec->n, 4);
	expect(rec, 0, 0, 0, 0);
	expect(rec, 1, 1, 1, 10);
	expect(rec, 2, 2, 0, 30);
	expect(rec, 3, 4, 1, 20);
	free(rec);
	ionpu_fabric_free(f);
}

/* A neuron feeding itself with delay 4 fires every 5 timesteps. */
static void test_recurrence(void **state)
{
	struct ionpu_fabric *f = relay_fabric(1);
	struct recorder *rec = calloc(1, sizeof(*rec));
	const struct ionpu_fab_target self = { .tile = 0, .row = 1,
					       .delay = 4 };
	struct ionpu_fab_counters c;

	(void)state;
	set_weight(f, 0, 1, 1, 2);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 1, true, &self, 1), 0);
	assert_int_equal(ionpu_fabric_input(f, 0, 1, 1.0f), 0);
	run(f, 23, rec);
	assert_int_equal(rec->n, 5);
	for (unsigned int k = 0; k < rec->n; k++)
		expect(rec, k, 5 * k, 0, 1);
	ionpu_fabric_counters(f, &c);
	assert_int_equal(c.spikes_in, 1);
	assert_int_equal(c.spikes_out, 5);
	/* 1 host input + 4 routed spikes landed (the fifth is in flight). */
	assert_int_equal(c.syn_events, 5 * IONPU_FAB_NEURONS);
	assert_int_equal(c.timesteps, 23);

	/* Resetting state drops spikes in flight: the loop dies out. */
	ionpu_fabric_reset_state(f, ~0ull);
	rec->n = 0;
	run(f, 20, rec);
	assert_int_equal(rec->n, 0);
	free(rec);
	ionpu_fabric_free(f);
}

static void test_longest_delay(void **state)
{
	struct ionpu_fabric *f = relay_fabric(1);
	struct recorder *rec = calloc(1, sizeof(*rec));
	const struct ionpu_fab_target far = { .tile = 0, .row = 2,
					      .delay = IONPU_FAB_MAX_DELAY };

	(void)state;
	set_weight(f, 0, 0, 0, 2);
	set_weight(f, 0, 2, 2, 2);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, &far, 1), 0);
	to_host(f, 0, 2);
	run(f, 3, NULL);
	assert_int_equal(ionpu_fabric_input(f, 0, 0, 1.0f), 0);
	run(f, 300, rec);
	assert_int_equal(rec->n, 1);
	expect(rec, 0, 3 + 1 + IONPU_FAB_MAX_DELAY, 0, 2);
	free(rec);
	ionpu_fabric_free(f);
}

static void test_input_at(void **state)
{
	struct ionpu_fabric *f = relay_fabric(1);
	struct recorder *rec = calloc(1, sizeof(*rec));

	(void)state;
	set_weight(f, 0, 3, 4, 2);
	to_host(f, 0, 4);
	run(f, 2, NULL);
	assert_int_equal(ionpu_fabric_now(f), 2);
	assert_int_equal(ionpu_fabric_input_at(f, 1, 0, 3, 1.0f), -ERANGE);
	assert_int_equal(ionpu_fabric_input_at(f, 2 + IONPU_FAB_INPUT_WINDOW,
					       0, 3, 1.0f), -ERANGE);
	assert_int_equal(ionpu_fabric_input_at(f, 9, 0, 3, 1.0f), 0);
	assert_int_equal(ionpu_fabric_input_at(f, 2 + IONPU_FAB_INPUT_WINDOW -
					       1, 0, 3, 1.0f), 0);
	run(f, IONPU_FAB_INPUT_WINDOW, rec);
	assert_int_equal(rec->n, 2);
	expect(rec, 0, 9, 0, 4);
	expect(rec, 1, 1 + IONPU_FAB_INPUT_WINDOW, 0, 4);
	free(rec);
	ionpu_fabric_free(f);
}

static int stop_now(void *opaque, uint64_t t, unsigned int tile,
		    unsigned int neuron)
{
	(void)t;
	(void)tile;
	(void)neuron;
	ionpu_fabric_stop(opaque);
	return 0;
}

/* The callback's return value and ionpu_fabric_stop() both end a run. */
static void test_stop(void **state)
{
	struct ionpu_fabric *f = relay_fabric(1);
	struct recorder *rec = calloc(1, sizeof(*rec));
	const struct ionpu_fab_target self = { .tile = 0, .row = 1 };
	uint64_t done = 0;

	(void)state;
	set_weight(f, 0, 1, 1, 2);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 1, true, &self, 1), 0);
	assert_int_equal(ionpu_fabric_input(f, 0, 1, 1.0f), 0);
	rec->stop_after = 3;
	assert_int_equal(ionpu_fabric_run(f, 100, record_spike, rec, &done),
			 0);
	assert_int_equal(done, 3);
	assert_int_equal(ionpu_fabric_run(f, 100, stop_now, f, &done), 0);
	assert_int_equal(done, 1);
	/* A new run clears the old request. */
	assert_int_equal(ionpu_fabric_run(f, 4, NULL, NULL, &done), 0);
	assert_int_equal(done, 4);
	free(rec);
	ionpu_fabric_free(f);
}

static void test_bad_routes(void **state)
{
	struct ionpu_fabric *f = relay_fabric(2);
	struct ionpu_fab_target t = { .tile = 1, .row = 0, .delay = 0 };
	struct ionpu_fab_target many[IONPU_FAB_MAX_FANOUT + 1];

	(void)state;
	memset(many, 0, sizeof(many));
	t.tile = 2;
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, &t, 1),
			 -ERANGE);
	t.tile = 1;
	t.row = IONPU_FAB_ROWS;
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, &t, 1),
			 -ERANGE);
	t.row = 0;
	t.delay = IONPU_FAB_MAX_DELAY + 1;
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, &t, 1),
			 -ERANGE);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, many,
						IONPU_FAB_MAX_FANOUT + 1),
			 -ERANGE);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, many,
						IONPU_FAB_MAX_FANOUT), 0);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 0, false, NULL, 1),
			 -EINVAL);
	assert_int_equal(ionpu_fabric_set_route(f, 2, 0, false, NULL, 0),
			 -ERANGE);
	assert_int_equal(ionpu_fabric_set_route(f, 0, 256, false, NULL, 0),
			 -ERANGE);
	/* A refused route leaves the old one. */
	assert_int_equal(ionpu_fabric_get_route(f, 0, 0, NULL, NULL, 0),
			 IONPU_FAB_MAX_FANOUT);
	assert_int_equal(ionpu_fabric_get_route(f, 0, 0, NULL, NULL, 1),
			 -EINVAL);
	ionpu_fabric_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout_and_delay),
		cmocka_unit_test(test_recurrence),
		cmocka_unit_test(test_longest_delay),
		cmocka_unit_test(test_input_at),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_bad_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
