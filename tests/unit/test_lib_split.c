// SPDX-License-Identifier: GPL-2.0-only
/*
 * A network split over several cards (ionpu_split_*(), ionpu_multi_*()) on
 * the host references of its parts: what goes where, output equal to the
 * whole network's host reference bit for bit, state carried between runs,
 * and the networks and arguments it refuses.
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

#include <ionpu/ionpu.h>

#define DT 1e-3

/* A small deterministic generator, so every run sees the same networks. */
static uint32_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static double uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (next_rand(s) / 2147483648.0);
}

static uint32_t add_lif(struct ionpu_network *net, const char *name, uint32_t size, double v_th)
{
	double *a = malloc(4 * size * sizeof(*a));
	struct ionpu_neuron_params p = { 0 };
	uint32_t id;

	assert_non_null(a);
	for (uint32_t i = 0; i < size; i++) {
		a[i] = 0.02;
		a[size + i] = 1;
		a[2 * size + i] = 0;
		a[3 * size + i] = v_th;
	}
	p.tau = a;
	p.r = a + size;
	p.v_leak = a + 2 * size;
	p.v_threshold = a + 3 * size;
	assert_int_equal(ionpu_network_add_population(net, name, IONPU_NEURON_LIF, size, &p, &id),
			 0);
	free(a);
	return id;
}

/* Dense @src -> @dst, weights uniform in [lo, hi); delays of 0..@max_delay steps. */
static void add_dense(struct ionpu_network *net, uint32_t src, uint32_t ns, uint32_t dst,
		      uint32_t nd, double lo, double hi, unsigned int max_delay, uint64_t *seed)
{
	double *w = malloc((size_t)ns * nd * sizeof(*w)), *d = malloc(ns * sizeof(*d));

	assert_non_null(w);
	assert_non_null(d);
	for (size_t k = 0; k < (size_t)ns * nd; k++)
		w[k] = uniform(seed, lo, hi);
	for (uint32_t i = 0; i < ns; i++)
		d[i] = (next_rand(seed) % (max_delay + 1)) * DT;
	assert_int_equal(ionpu_network_add_dense(net, src, dst, w, max_delay ? d : NULL, NULL), 0);
	free(w);
	free(d);
}

static float *raster(size_t steps, size_t n, unsigned int every, uint64_t *seed)
{
	float *r = malloc((steps * n + 1) * sizeof(*r));

	assert_non_null(r);
	for (size_t k = 0; k < steps * n; k++)
		r[k] = next_rand(seed) % every == 0;
	return r;
}

/*
 * in(200) -> a(512) -> b(512) -> c(256, output), each layer dense, with
 * delays into b: 2 + 4 + 4 + 2 tiles (b and c take 512 rows: two chained
 * tiles per 256 neurons).  Each population takes spikes from one other
 * only, so the order a card adds them in is the whole network's.
 */
static struct ionpu_network *chain(uint64_t *seed)
{
	struct ionpu_network *net;
	uint32_t in, a, b, c;

	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 200, &in), 0);
	a = add_lif(net, "a", 512, 1);
	b = add_lif(net, "b", 512, 1);
	c = add_lif(net, "c", 256, 1);
	add_dense(net, in, 200, a, 512, -0.3, 0.9, 0, seed);
	add_dense(net, a, 512, b, 512, -0.1, 0.25, 3, seed);
	add_dense(net, b, 512, c, 256, -0.1, 0.3, 0, seed);
	assert_int_equal(ionpu_network_mark_output(net, c), 0);
	return net;
}

/* The whole network on one big card's host reference, @piece steps per run. */
static uint8_t *whole_run(const struct ionpu_network *net, const float *in, size_t steps,
			  size_t piece)
{
	struct ionpu_card_desc big;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *h = NULL;
	uint8_t *out;
	size_t n_in, n_out;

	ionpu_card_desc_default(64, &big);
	assert_int_equal(ionpu_compile(net, &big, &plan), 0);
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);
	n_in = ionpu_host_inputs(h);
	n_out = ionpu_host_outputs(h);
	out = calloc(steps * n_out + 1, 1);
	assert_non_null(out);
	for (size_t t = 0; t < steps; t += piece)
		assert_int_equal(ionpu_host_run(h, in + t * n_in, piece, out + t * n_out), 0);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	return out;
}

static struct ionpu_split *split_over(const struct ionpu_network *net, uint32_t tiles,
				      size_t n_cards)
{
	struct ionpu_card_desc cards[8];
	struct ionpu_split *s = NULL;

	assert_true(n_cards <= 8);
	for (size_t k = 0; k < n_cards; k++)
		ionpu_card_desc_default(tiles, &cards[k]);
	if (ionpu_split_compile(net, cards, n_cards, 0, &s))
		fail_msg("split: %s", ionpu_last_error());
	return s;
}

static size_t spikes(const uint8_t *r, size_t n)
{
	size_t sum = 0;

	for (size_t k = 0; k < n; k++)
		sum += r[k];
	return sum;
}

/*
 * Over three cards of 6 tiles: a (2 tiles) and b (4) on the first, c (2) on
 * the second; the third is not used.  The output equals the whole
 * network's, run in one piece or a step at a time.
 */
static void test_chain_equals_whole(void **state)
{
	const size_t steps = 120;
	uint64_t seed = 3;
	struct ionpu_network *net = chain(&seed);
	struct ionpu_split *s = split_over(net, 6, 3);
	struct ionpu_multi *m = NULL;
	float *in = raster(steps, 200, 5, &seed);
	uint8_t *want = whole_run(net, in, steps, steps);
	uint8_t *step_wise = whole_run(net, in, steps, 1);
	uint8_t *got = calloc(steps * 256, 1);
	struct ionpu_plan_stats ps;
	uint32_t id;

	(void)state;
	assert_non_null(got);
	assert_int_equal(ionpu_split_parts(s), 2);
	assert_int_equal(ionpu_network_find(net, "a", &id), 0);
	assert_int_equal(ionpu_split_part_of(s, id), 0);
	assert_int_equal(ionpu_network_find(net, "b", &id), 0);
	assert_int_equal(ionpu_split_part_of(s, id), 0);
	assert_int_equal(ionpu_network_find(net, "c", &id), 0);
	assert_int_equal(ionpu_split_part_of(s, id), 1);
	assert_int_equal(ionpu_split_part_of(s, 0), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "node 0"));
	assert_null(ionpu_split_network(s, 2));
	assert_null(ionpu_split_plan(s, 2));
	ionpu_plan_stats(ionpu_split_plan(s, 0), &ps);
	assert_int_equal(ps.tiles, 6);
	/* b's spikes go to the second card, so b is an output of the first. */
	assert_int_equal(ps.outputs, 512);
	ionpu_plan_stats(ionpu_split_plan(s, 1), &ps);
	assert_int_equal(ps.tiles, 2);
	/* The second part: b as an input, c. */
	assert_int_equal(ionpu_network_node_count(ionpu_split_network(s, 1)), 2);
	assert_int_equal(ionpu_network_find(ionpu_split_network(s, 1), "b", &id), 0);

	assert_int_equal(ionpu_multi_host(s, &m), 0);
	ionpu_split_free(s);
	assert_int_equal(ionpu_multi_inputs(m), 200);
	assert_int_equal(ionpu_multi_outputs(m), 256);
	assert_int_equal(ionpu_multi_run(m, in, steps, 0, got), 0);
	assert_true(spikes(want, steps * 256) > 100);
	assert_memory_equal(want, step_wise, steps * 256);
	assert_memory_equal(want, got, steps * 256);

	/* From rest again: the same. */
	memset(got, 0, steps * 256);
	assert_int_equal(ionpu_multi_run(m, in, steps, 0, got), 0);
	assert_memory_equal(want, got, steps * 256);

	/* In two pieces, the second going on from the first, spikes in flight between the cards included. */
	memset(got, 0, steps * 256);
	assert_int_equal(ionpu_multi_run(m, in, 37, 0, got), 0);
	assert_int_equal(ionpu_multi_run(m, in + 37 * 200, steps - 37, IONPU_RUN_KEEP_STATE,
					 got + 37 * 256),
			 0);
	assert_memory_equal(want, got, steps * 256);

	ionpu_multi_free(m);
	free(in);
	free(want);
	free(step_wise);
	free(got);
	ionpu_network_free(net);
}

/*
 * Four cards of 2 tiles: one population each, every spike between
 * populations crosses cards.  Then an input that feeds two cards, and
 * outputs on two cards: the caller's raster keeps the network's order.
 */
static void test_every_hop_crosses_cards(void **state)
{
	const size_t steps = 100;
	uint64_t seed = 5;
	struct ionpu_network *net;
	struct ionpu_split *s;
	struct ionpu_multi *m = NULL;
	uint32_t in, in2, a, b, c, d;
	float *x;
	uint8_t *want, *got;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 100, &in), 0);
	a = add_lif(net, "a", 256, 1);
	assert_int_equal(ionpu_network_add_input(net, "in2", 50, &in2), 0);
	b = add_lif(net, "b", 256, 1);
	c = add_lif(net, "c", 200, 1);
	d = add_lif(net, "d", 100, 1);
	add_dense(net, in, 100, a, 256, -0.2, 0.9, 0, &seed);
	add_dense(net, a, 256, b, 256, -0.1, 0.3, 2, &seed);
	add_dense(net, b, 256, c, 200, -0.1, 0.3, 0, &seed);
	add_dense(net, in2, 50, d, 100, -0.2, 0.9, 1, &seed);
	assert_int_equal(ionpu_network_mark_output(net, d), 0);
	assert_int_equal(ionpu_network_mark_output(net, b), 0);
	s = split_over(net, 1, 4);
	assert_int_equal(ionpu_split_parts(s), 4);
	assert_int_equal(ionpu_split_part_of(s, a), 0);
	assert_int_equal(ionpu_split_part_of(s, b), 1);
	assert_int_equal(ionpu_split_part_of(s, c), 2);
	assert_int_equal(ionpu_split_part_of(s, d), 3);
	x = raster(steps, 150, 4, &seed);
	want = whole_run(net, x, steps, steps);
	got = calloc(steps * 356, 1);
	assert_non_null(got);
	assert_int_equal(ionpu_multi_host(s, &m), 0);
	assert_int_equal(ionpu_multi_outputs(m), 356);
	assert_int_equal(ionpu_multi_run(m, x, steps, 0, got), 0);
	assert_true(spikes(want, steps * 356) > 100);
	assert_memory_equal(want, got, steps * 356);
	ionpu_multi_free(m);
	ionpu_split_free(s);
	free(x);
	free(want);
	free(got);
	ionpu_network_free(net);
}

/* Recurrence between two cards (a <-> b): still one step per hop. */
static void test_recurrence_across_cards(void **state)
{
	const size_t steps = 150;
	uint64_t seed = 9;
	struct ionpu_network *net;
	struct ionpu_split *s;
	struct ionpu_multi *m = NULL;
	uint32_t in, a, b;
	float *x;
	uint8_t *want, *got;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 64, &in), 0);
	a = add_lif(net, "a", 200, 1);
	b = add_lif(net, "b", 150, 1);
	add_dense(net, in, 64, a, 200, 0, 0.8, 0, &seed);
	add_dense(net, a, 200, b, 150, -0.05, 0.2, 1, &seed);
	add_dense(net, b, 150, a, 200, -0.3, 0.05, 0, &seed);
	assert_int_equal(ionpu_network_mark_output(net, b), 0);
	assert_int_equal(ionpu_network_mark_output(net, a), 0);
	s = split_over(net, 1, 2);
	assert_int_equal(ionpu_split_parts(s), 2);
	x = raster(steps, 64, 3, &seed);
	want = whole_run(net, x, steps, 1);
	got = calloc(steps * 350, 1);
	assert_non_null(got);
	assert_int_equal(ionpu_multi_host(s, &m), 0);
	assert_int_equal(ionpu_multi_run(m, x, steps, 0, got), 0);
	assert_true(spikes(want, steps * 350) > 100);
	assert_memory_equal(want, got, steps * 350);
	ionpu_multi_free(m);
	ionpu_split_free(s);
	free(x);
	free(want);
	free(got);
	ionpu_network_free(net);
}

/* A network that fits one card stays on it. */
static void test_fits_one_card(void **state)
{
	uint64_t seed = 3;
	struct ionpu_network *net = chain(&seed);
	struct ionpu_split *s = split_over(net, 16, 4);

	(void)state;
	assert_int_equal(ionpu_split_parts(s), 1);
	ionpu_split_free(s);
	ionpu_network_free(net);
}

static void test_refused(void **state)
{
	uint64_t seed = 3;
	struct ionpu_network *net = chain(&seed), *quiet;
	struct ionpu_card_desc cards[2];
	struct ionpu_split *s = NULL;
	struct ionpu_multi *m = NULL;
	struct ionpu_dev *devs[1] = { NULL };
	float x[200] = { 0 };
	uint8_t out[256];
	uint32_t a;

	(void)state;
	ionpu_card_desc_default(6, &cards[0]);
	ionpu_card_desc_default(6, &cards[1]);
	assert_int_equal(ionpu_split_compile(NULL, cards, 2, 0, &s), -EINVAL);
	assert_int_equal(ionpu_split_compile(net, NULL, 2, 0, &s), -EINVAL);
	assert_int_equal(ionpu_split_compile(net, cards, 0, 0, &s), -EINVAL);
	assert_int_equal(ionpu_split_compile(net, cards, 2, 0, NULL), -EINVAL);

	/* b needs 4 tiles: not on a 3-tile card of its own. */
	ionpu_card_desc_default(3, &cards[0]);
	ionpu_card_desc_default(3, &cards[1]);
	assert_int_equal(ionpu_split_compile(net, cards, 2, 0, &s), -ENOSPC);
	assert_non_null(strstr(ionpu_last_error(), "population 'b'"));
	assert_non_null(strstr(ionpu_last_error(), "card 1 alone"));

	/* 8 tiles over one 6-tile card: c is left over. */
	ionpu_card_desc_default(6, &cards[0]);
	assert_int_equal(ionpu_split_compile(net, cards, 1, 0, &s), -ENOSPC);
	assert_non_null(strstr(ionpu_last_error(), "population 'c'"));
	assert_null(s);

	/* No output population. */
	assert_int_equal(ionpu_network_create(&quiet), 0);
	a = add_lif(quiet, "a", 4, 1);
	(void)a;
	assert_int_equal(ionpu_split_compile(quiet, cards, 1, 0, &s), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "no output"));
	ionpu_network_free(quiet);

	s = split_over(net, 6, 2);
	assert_int_equal(ionpu_multi_load(s, devs, 1, NULL, &m), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "2 parts"));
	assert_int_equal(ionpu_multi_host(s, &m), 0);
	assert_int_equal(ionpu_multi_run(m, x, 0, 0, out), -EINVAL);
	assert_int_equal(ionpu_multi_run(m, x, 1, 1u << 7, out), -EINVAL);
	x[17] = NAN;
	assert_int_equal(ionpu_multi_run(m, x, 1, 0, out), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "step 0, channel 17"));
	x[17] = 0;
	assert_int_equal(ionpu_multi_run(m, x, 1, 0, out), 0);
	assert_int_equal(ionpu_multi_run(m, x, 1, IONPU_RUN_KEEP_STATE, out), 0);
	ionpu_multi_free(m);
	ionpu_split_free(s);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_equals_whole),
		cmocka_unit_test(test_every_hop_crosses_cards),
		cmocka_unit_test(test_recurrence_across_cards),
		cmocka_unit_test(test_fits_one_card),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
