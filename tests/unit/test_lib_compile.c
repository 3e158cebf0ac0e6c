// SPDX-License-Identifier: GPL-2.0-only
/*
 * The compiler: how networks of known shapes land on tiles, rows, columns,
 * routes and conductance levels, and the exact refusal when they do not fit.
 * Every expectation is computed from the geometry, not recorded from a run.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#include "ionpu_internal.h"

#define R 256	/* rows per tile */
#define N 256	/* neurons per tile */

/* Every population: IF, r and threshold 1; filled by main(). */
static double ones[1024];

static const struct ionpu_neuron_params if_params = { .r = ones, .v_threshold = ones };

static uint32_t add_pop(struct ionpu_network *net, const char *name, uint32_t size)
{
	uint32_t id;

	assert_true(size <= 1024);
	assert_int_equal(ionpu_network_add_population(net, name, IONPU_NEURON_IF, size,
						      &if_params, &id), 0);
	return id;
}

static uint32_t add_input(struct ionpu_network *net, const char *name, uint32_t size)
{
	uint32_t id;

	assert_int_equal(ionpu_network_add_input(net, name, size, &id), 0);
	return id;
}

/* A dense projection whose weight (post, pre) is @w(post, pre). */
static void add_dense(struct ionpu_network *net, uint32_t src, uint32_t dst, uint32_t ns,
		      uint32_t nd, double (*w)(uint32_t post, uint32_t pre), const double *delay)
{
	double *m = malloc((size_t)ns * nd * sizeof(*m));

	assert_non_null(m);
	for (uint32_t o = 0; o < nd; o++)
		for (uint32_t i = 0; i < ns; i++)
			m[(size_t)o * ns + i] = w(o, i);
	assert_int_equal(ionpu_network_add_dense(net, src, dst, m, delay, NULL), 0);
	free(m);
}

static double w_one(uint32_t post, uint32_t pre)
{
	(void)post;
	(void)pre;
	return 1.0;
}

/* Distinct, non-zero, sign alternating: post 3 pre 7 is -(3 * 1000 + 7 + 1). */
static double w_code(uint32_t post, uint32_t pre)
{
	double v = post * 1000.0 + pre + 1;

	return (post + pre) % 2 ? -v : v;
}

static struct ionpu_plan *compile_ok(const struct ionpu_network *net, uint32_t tiles)
{
	struct ionpu_card_desc card;
	struct ionpu_plan *plan = NULL;

	ionpu_card_desc_default(tiles, &card);
	if (ionpu_compile(net, &card, &plan))
		fail_msg("compile: %s", ionpu_last_error());
	return plan;
}

static const struct ionpu_plan_route *route_of(const struct ionpu_plan *p, uint32_t node,
					       uint32_t neuron, size_t *count)
{
	const struct ionpu_plan_route *first = NULL;

	*count = 0;
	for (size_t i = 0; i < p->n_routes; i++) {
		if (p->routes[i].node == node && p->routes[i].neuron == neuron) {
			if (!first)
				first = &p->routes[i];
			(*count)++;
		}
	}
	return first;
}

static const struct ionpu_plan_cell *cell_at(const struct ionpu_plan *p, uint32_t tile,
					     uint32_t row, uint32_t col)
{
	for (size_t i = 0; i < p->tiles[tile].n_cells; i++)
		if (p->tiles[tile].cells[i].row == row && p->tiles[tile].cells[i].column == col)
			return &p->tiles[tile].cells[i];
	return NULL;
}

/* in(10) -> pop(20): one tile, every cell, the right weight at each crossing. */
static void test_small_dense(void **state)
{
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;
	struct ionpu_card_desc card;
	uint32_t in, pop;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 10);
	pop = add_pop(net, "pop", 20);
	add_dense(net, in, pop, 10, 20, w_code, NULL);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	ionpu_card_desc_default(16, &card);
	p = compile_ok(net, 16);
	ionpu_plan_stats(p, &s);
	assert_int_equal(s.tiles, 1);
	assert_int_equal(s.rows, 10);
	assert_int_equal(s.neurons, 20);
	assert_int_equal(s.cells, 200);
	assert_int_equal(s.chain_groups, 0);
	assert_int_equal(s.routes, 10);
	assert_int_equal(s.outputs, 20);
	for (uint32_t i = 0; i < 10; i++) {
		size_t n;
		const struct ionpu_plan_route *r = route_of(p, in, i, &n);

		assert_int_equal(n, 1);
		assert_int_equal(r->tile, 0);
		assert_int_equal(r->delay_steps, 0);
		for (uint32_t o = 0; o < 20; o++) {
			const struct ionpu_plan_cell *c = cell_at(p, 0, r->row, o);
			/* The largest |w| is 19 * 1000 + 10: it gets the top level. */
			uint32_t level = (uint32_t)lround(fabs(w_code(o, i)) / 19010.0 *
							  (card.g_levels - 1));

			assert_non_null(c);
			assert_true(c->weight == w_code(o, i));
			assert_int_equal(c->weight > 0 ? c->g_pos_level : c->g_neg_level, level);
			assert_int_equal(c->weight > 0 ? c->g_neg_level : c->g_pos_level, 0);
		}
	}
	assert_true(p->tiles[0].scale_us_per_unit == (card.g_max_us - card.g_min_us) / 19010.0);
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/*
 * in(600) -> big(300): two groups (256 + 44 neurons), each with 600 rows:
 * chains of ceil(600 / 256) = 3 tiles, 6 tiles in all.
 */
static void build_big(struct ionpu_network **out)
{
	struct ionpu_network *net;
	uint32_t in, big;

	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 600);
	big = add_pop(net, "big", 300);
	add_dense(net, in, big, 600, 300, w_one, NULL);
	*out = net;
}

static void test_big_dense_chains(void **state)
{
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;

	(void)state;
	build_big(&net);
	p = compile_ok(net, 16);
	ionpu_plan_stats(p, &s);
	assert_int_equal(s.tiles, 6);
	assert_int_equal(s.chain_groups, 2);
	assert_int_equal(s.rows, 2 * 600);
	assert_int_equal(s.neurons, 300);
	assert_int_equal(s.cells, 600 * 300);
	assert_int_equal(s.routes, 2 * 600);
	/* Rows 0..255, 256..511, 512..599 of each group, neurons on the first tile. */
	for (uint32_t g = 0; g < 2; g++) {
		uint32_t neurons = g ? 44 : 256;

		for (uint32_t k = 0; k < 3; k++) {
			const struct ionpu_plan_tile *t = &p->tiles[3 * g + k];

			assert_int_equal(t->head, 3 * g);
			assert_int_equal(t->rows_used, k < 2 ? R : 600 - 2 * R);
			assert_int_equal(t->n_cells, (size_t)t->rows_used * neurons);
			assert_int_equal(t->neurons_used, k ? 0 : neurons);
		}
		assert_int_equal(p->tiles[3 * g].n_segments, 1);
		assert_int_equal(p->tiles[3 * g].segments[0].first, g * N);
		assert_int_equal(p->tiles[3 * g].segments[0].count, neurons);
	}
	/* Input 300 is row 300 - 256 of each group's second tile. */
	for (size_t i = 0, n = 0; i < p->n_routes; i++) {
		if (p->routes[i].node != 0 || p->routes[i].neuron != 300)
			continue;
		assert_int_equal(p->routes[i].tile, 3 * n + 1);
		assert_int_equal(p->routes[i].row, 300 - R);
		n++;
	}
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

static void test_does_not_fit(void **state)
{
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *p = NULL;

	(void)state;
	build_big(&net);
	ionpu_card_desc_default(4, &card);
	assert_int_equal(ionpu_compile(net, &card, &p), -ENOSPC);
	assert_null(p);
	assert_string_equal(ionpu_last_error(),
			    "network needs 6 tiles, card has 4: population 'big' takes 6 (300 neurons in 2 groups of up to 256, up to 600 rows each: chains of 3 tiles)");
	ionpu_network_free(net);
}

/*
 * img 1x5x5 -> conv 2x3x3, padding 1 -> 2x5x5.  Along one axis the 5 outputs
 * see 2, 3, 3, 3, 2 of the kernel's taps: 13 * 13 = 169 per channel.
 */
/*
 * More neurons than the card has tiles for: refused from the sizes alone,
 * before a synapse is collected, naming the biggest population; two
 * models cannot share a tile, so 200 + 200 neurons need two.
 */
static void test_too_many_neurons(void **state)
{
	const uint32_t huge = 200000, pre = 0, post = huge - 1;
	const double w = 1;
	double *one = malloc(huge * sizeof(*one));
	struct ionpu_neuron_params if_p = { .r = one, .v_threshold = one };
	const struct ionpu_neuron_params thr_p = { .v_threshold = ones };
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *p = NULL;
	uint32_t in, pop;

	(void)state;
	assert_non_null(one);
	for (uint32_t i = 0; i < huge; i++)
		one[i] = 1;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	assert_int_equal(ionpu_network_add_population(net, "huge", IONPU_NEURON_IF, huge, &if_p,
						      &pop), 0);
	assert_int_equal(ionpu_network_add_sparse(net, in, pop, 1, &pre, &post, &w, NULL, NULL),
			 0);
	ionpu_card_desc_default(64, &card);
	assert_int_equal(ionpu_compile(net, &card, &p), -ENOSPC);
	assert_null(p);
	assert_string_equal(ionpu_last_error(),
			    "network needs at least 782 tiles, card has 64: population 'huge' alone has 200000 neurons, at 256 per tile");
	ionpu_network_free(net);
	free(one);

	assert_int_equal(ionpu_network_create(&net), 0);
	add_pop(net, "a", 200);
	assert_int_equal(ionpu_network_add_population(net, "b", IONPU_NEURON_THRESHOLD, 200,
						      &thr_p, NULL), 0);
	ionpu_card_desc_default(1, &card);
	assert_int_equal(ionpu_compile(net, &card, &p), -ENOSPC);
	assert_string_equal(ionpu_last_error(),
			    "network needs at least 2 tiles, card has 1: population 'a' alone has 200 neurons, at 256 per tile");
	ionpu_network_free(net);
}

static void test_conv_unrolled(void **state)
{
	double kernel[18];
	struct ionpu_conv conv = {
		.in_channels = 1, .in_height = 5, .in_width = 5, .out_channels = 2,
		.kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1,
		.pad_w = 1, .dilation_h = 1, .dilation_w = 1, .groups = 1, .weight = kernel,
	};
	struct ionpu_projection_info info;
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;
	uint32_t img, fmap;
	size_t n;

	(void)state;
	for (int i = 0; i < 18; i++)
		kernel[i] = i + 1;
	assert_int_equal(ionpu_network_create(&net), 0);
	img = add_input(net, "img", 25);
	fmap = add_pop(net, "fmap", 50);
	assert_int_equal(ionpu_network_add_conv(net, img, fmap, &conv, NULL, NULL), 0);
	assert_int_equal(ionpu_network_projection(net, 0, &info), 0);
	assert_int_equal(info.conv.out_height, 5);
	assert_int_equal(info.conv.out_width, 5);
	p = compile_ok(net, 1);
	ionpu_plan_stats(p, &s);
	assert_int_equal(s.tiles, 1);
	assert_int_equal(s.rows, 25);
	assert_int_equal(s.cells, 2 * 169);
	/* Output (c=1, y=0, x=0) sees input (1, 1) through kernel tap (2, 2). */
	{
		const struct ionpu_plan_route *r = route_of(p, img, 1 * 5 + 1, &n);
		const struct ionpu_plan_cell *c = cell_at(p, 0, r->row, 25);

		assert_int_equal(n, 1);
		assert_non_null(c);
		assert_true(c->weight == kernel[9 + 2 * 3 + 2]);
	}
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/*
 * in(5) -> rnn(10) with recurrent weights: 15 rows, the population's own
 * neurons routed back into its tile.
 */
static void test_recurrence(void **state)
{
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;
	uint32_t in, rnn;
	size_t n;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 5);
	rnn = add_pop(net, "rnn", 10);
	add_dense(net, in, rnn, 5, 10, w_one, NULL);
	add_dense(net, rnn, rnn, 10, 10, w_code, NULL);
	p = compile_ok(net, 2);
	ionpu_plan_stats(p, &s);
	assert_int_equal(s.tiles, 1);
	assert_int_equal(s.rows, 15);
	assert_int_equal(s.routes, 15);
	assert_int_equal(s.cells, 5 * 10 + 10 * 10);
	for (uint32_t i = 0; i < 10; i++) {
		const struct ionpu_plan_route *r = route_of(p, rnn, i, &n);

		assert_int_equal(n, 1);
		assert_int_equal(r->tile, 0);
		for (uint32_t o = 0; o < 10; o++)
			assert_true(cell_at(p, 0, r->row, o)->weight == w_code(o, i));
	}
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/* Same source and delay share a row (weights add); another delay is another row. */
static void test_rows_and_delays(void **state)
{
	static const double d3[2] = { 0.003, 0.003 };
	static const double d_half[2] = { 0.0015, 0 };
	struct ionpu_card_desc card;
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p = NULL;
	const struct ionpu_plan_route *r;
	double d_long[2] = { 0, 0 };
	char msg[160];
	uint32_t in, pop;
	size_t n;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 2);
	pop = add_pop(net, "pop", 3);
	add_dense(net, in, pop, 2, 3, w_one, NULL);
	add_dense(net, in, pop, 2, 3, w_one, NULL);
	add_dense(net, in, pop, 2, 3, w_one, d3);
	p = compile_ok(net, 1);
	ionpu_plan_stats(p, &s);
	assert_int_equal(s.rows, 4);
	assert_int_equal(s.cells, 4 * 3);
	r = route_of(p, in, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].delay_steps, 0);
	assert_int_equal(r[1].delay_steps, 3);
	assert_true(cell_at(p, 0, r[0].row, 2)->weight == 2.0);
	assert_true(cell_at(p, 0, r[1].row, 2)->weight == 1.0);
	ionpu_plan_free(p);
	ionpu_network_free(net);

	/* One step longer than the router's longest delay. */
	ionpu_card_desc_default(1, &card);
	d_long[0] = (card.max_delay_steps + 1) * card.dt;
	snprintf(msg, sizeof(msg),
		 "projection 'in' -> 'pop': delay of neuron 0 is %u steps of 0.001 s; the router delays at most %u",
		 card.max_delay_steps + 1, card.max_delay_steps);
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 2);
	pop = add_pop(net, "pop", 3);
	add_dense(net, in, pop, 2, 3, w_one, d_long);
	p = NULL;
	assert_int_equal(ionpu_compile(net, &card, &p), -ERANGE);
	assert_null(p);
	assert_string_equal(ionpu_last_error(), msg);
	ionpu_network_free(net);

	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 2);
	pop = add_pop(net, "pop", 3);
	add_dense(net, in, pop, 2, 3, w_one, d_half);
	assert_int_equal(ionpu_compile(net, &card, &p), -ERANGE);
	assert_string_equal(ionpu_last_error(),
			    "projection 'in' -> 'pop': delay of neuron 0 (0.0015 s) is not a whole number of 0.001 s steps");
	/* With half-millisecond steps it is 3 of them. */
	card.dt = 0.5e-3;
	assert_int_equal(ionpu_compile(net, &card, &p), 0);
	r = route_of(p, in, 0, &n);
	assert_int_equal(r->delay_steps, 3);
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/*
 * Ten populations of 100 neurons: from one shared input of 50 they pack two
 * to a tile (200 neurons, 50 shared rows): 5 tiles.  From inputs of their
 * own with 200 rows each, two never fit one tile's 256 rows: 10 tiles.
 */
static void test_packing(void **state)
{
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;
	char name[16];

	(void)state;
	for (int own = 0; own < 2; own++) {
		uint32_t in = 0;

		assert_int_equal(ionpu_network_create(&net), 0);
		if (!own)
			in = add_input(net, "in", 50);
		for (int i = 0; i < 10; i++) {
			uint32_t pop;

			if (own) {
				snprintf(name, sizeof(name), "in%d", i);
				in = add_input(net, name, 200);
			}
			snprintf(name, sizeof(name), "p%d", i);
			pop = add_pop(net, name, 100);
			add_dense(net, in, pop, own ? 200 : 50, 100, w_one, NULL);
		}
		p = compile_ok(net, 16);
		ionpu_plan_stats(p, &s);
		assert_int_equal(s.tiles, own ? 10 : 5);
		assert_int_equal(s.rows, own ? 10 * 200 : 5 * 50);
		assert_int_equal(s.neurons, 1000);
		assert_int_equal(s.routes, own ? 2000 : 250);
		ionpu_plan_free(p);
		ionpu_network_free(net);
	}
}

/* A tile runs one neuron model: an LI readout does not share the IF layer's tile. */
static void test_models_do_not_share_tiles(void **state)
{
	static const double tau[10] = { 2e-2, 2e-2, 2e-2, 2e-2, 2e-2,
					2e-2, 2e-2, 2e-2, 2e-2, 2e-2 };
	static const double zeros[10];
	const struct ionpu_neuron_params li = { .tau = tau, .r = ones, .v_leak = zeros };
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;
	uint32_t in, hidden, out;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 10);
	hidden = add_pop(net, "hidden", 10);
	assert_int_equal(ionpu_network_add_population(net, "readout", IONPU_NEURON_LI, 10,
						      &li, &out), 0);
	add_dense(net, in, hidden, 10, 10, w_one, NULL);
	add_dense(net, hidden, out, 10, 10, w_one, NULL);
	p = compile_ok(net, 16);
	ionpu_plan_stats(p, &s);
	/* 20 neurons and 20 rows would fit one tile; the models need two. */
	assert_int_equal(s.tiles, 2);
	assert_int_equal(s.neurons, 20);
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/* The dump names every tile; a population with no input still gets neurons. */
static void test_dump(void **state)
{
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	char want[512];
	struct ionpu_plan *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	add_pop(net, "idle", 3);
	p = compile_ok(net, 2);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(ionpu_plan_dump(p, f), 0);
	fclose(f);
	ionpu_card_desc_default(2, &card);
	snprintf(want, sizeof(want),
		 "plan: 1 of 2 tiles, 0 rows, 3 neurons, 0 cells, 0 chain groups, 0 routes, 0 outputs\n"
		 "card: 256 rows x 256 neurons per tile, %g..%g uS in %u levels, delays up to %u steps of 0.001 s\n"
		 "id: %016" PRIx64 "\n"
		 "tile 0: 0/256 rows, 0 cells, 0 uS per unit, 3/256 neurons: idle[0..2]@0\n",
		 card.g_min_us, card.g_max_us, card.g_levels, card.max_delay_steps,
		 ionpu_plan_id(p));
	assert_string_equal(text, want);
	free(text);
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

static void test_bad_card(void **state)
{
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *p = NULL;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	ionpu_card_desc_default(0, &card);
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	ionpu_card_desc_default(1, &card);
	card.g_levels = 1;
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	assert_null(p);

	/* Nothing beyond what an IONPU-1 can be. */
	ionpu_card_desc_default(IONPU_MAX_TILES + 1, &card);
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "65 tiles"));
	ionpu_card_desc_default(1, &card);
	card.tile_rows = R + 1;
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	ionpu_card_desc_default(1, &card);
	card.tile_neurons = N + 1;
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	ionpu_card_desc_default(1, &card);
	card.g_levels++;
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	ionpu_card_desc_default(1, &card);
	card.max_delay_steps++;
	assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
	assert_null(p);
	ionpu_network_free(net);
}

/* A population of @model with every time constant @tau, the rest ones. */
static uint32_t add_timed_pop(struct ionpu_network *net, const char *name,
			      enum ionpu_neuron_model model, uint32_t size, double tau)
{
	double taus[4];
	struct ionpu_neuron_params p = { .r = ones, .v_threshold = ones, .v_leak = ones };
	uint32_t id;

	assert_true(size <= 4);
	for (uint32_t i = 0; i < size; i++)
		taus[i] = tau;
	if (model == IONPU_NEURON_LI)
		p.v_threshold = NULL;
	if (model == IONPU_NEURON_CUBA_LIF) {
		p.tau_mem = ones;
		p.tau_syn = taus;
	} else {
		p.tau = taus;
	}
	assert_int_equal(ionpu_network_add_population(net, name, model, size, &p, &id), 0);
	return id;
}

/*
 * Forward Euler overshoots when a time constant is shorter than the step
 * (dt / tau > 1): refused, naming the node, its tau and the dt, unless the
 * caller asks to go on; tau = dt and IF (no tau) compile.
 */
static void test_unstable_tau(void **state)
{
	static const enum ionpu_neuron_model models[] = { IONPU_NEURON_LIF, IONPU_NEURON_LI,
							  IONPU_NEURON_CUBA_LIF };
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *p = NULL;
	uint32_t in, pop;

	(void)state;
	ionpu_card_desc_default(4, &card);
	for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
		assert_int_equal(ionpu_network_create(&net), 0);
		in = add_input(net, "in", 1);
		pop = add_timed_pop(net, "fast", models[m], 2, card.dt / 10);
		add_dense(net, in, pop, 1, 2, w_one, NULL);
		assert_int_equal(ionpu_compile(net, &card, &p), -EINVAL);
		assert_null(p);
		assert_non_null(strstr(ionpu_last_error(), "'fast'"));
		assert_non_null(strstr(ionpu_last_error(), "0.0001 s"));
		assert_non_null(strstr(ionpu_last_error(), "0.001 s"));
		assert_int_equal(ionpu_compile_flags(net, &card, IONPU_COMPILE_ALLOW_UNSTABLE, &p),
				 0);
		ionpu_plan_free(p);
		p = NULL;
		assert_int_equal(ionpu_compile_flags(net, &card, 1u << 31, &p), -EINVAL);
		ionpu_network_free(net);
	}

	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	pop = add_timed_pop(net, "exact", IONPU_NEURON_LIF, 1, card.dt);
	add_dense(net, in, pop, 1, 1, w_one, NULL);
	pop = add_pop(net, "if", 1);
	add_dense(net, in, pop, 1, 1, w_one, NULL);
	ionpu_plan_free(compile_ok(net, 4));
	ionpu_network_free(net);
}

/* The braille RNN from ../shared/nir/: one tile, 12 + 38 rows. */
static void test_braille(void **state)
{
	const char *src = __FILE__, *slash = strrchr(src, '/');
	struct ionpu_card_desc card;
	struct ionpu_plan_stats s;
	struct ionpu_network *net;
	struct ionpu_plan *p;
	char path[4096];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%.*s/../../../shared/nir/braille_noDelay_bias_zero_subgraph.nir",
		 slash ? (int)(slash - src) : 1, slash ? src : ".");
	f = fopen(path, "rb");
	if (!f) {
		print_message("# SKIP: %s absent (../shared/nir/ is not beside the clone)\n", path);
		skip();
	}
	fclose(f);
	assert_int_equal(ionpu_nir_load(path, &net), 0);
	/* Its tau_syn of 0.22 ms wants steps shorter than that: 0.1 ms. */
	ionpu_card_desc_default(16, &card);
	card.dt = 1e-4;
	if (ionpu_compile(net, &card, &p))
		fail_msg("compile: %s", ionpu_last_error());
	ionpu_plan_stats(p, &s);
	assert_int_equal(s.tiles, 1);
	assert_int_equal(s.rows, 12 + 38);
	assert_int_equal(s.neurons, 38 + 7);
	assert_int_equal(s.outputs, 7);
	/* The file's weights have no zero: every synapse is a cell. */
	assert_int_equal(s.cells, 38 * 12 + 38 * 38 + 7 * 38);
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/* Every third weight zero: a learned tile must still hold those cells. */
static double w_sparse_code(uint32_t post, uint32_t pre)
{
	return (post + pre) % 3 ? w_code(post, pre) : 0;
}

/* in(64) -> hid(20) -> out(10), out learned (from zero when @flags says). */
static struct ionpu_plan *compile_learned(struct ionpu_network **net, uint32_t flags)
{
	static const char *const learn[] = { "out" };
	struct ionpu_compile_opts opts = {
		.size = sizeof(opts), .flags = flags, .learn = learn, .n_learn = 1,
	};
	struct ionpu_card_desc card;
	struct ionpu_plan *p = NULL;
	uint32_t in, hid, out;

	assert_int_equal(ionpu_network_create(net), 0);
	in = add_input(*net, "in", 64);
	hid = add_pop(*net, "hid", 20);
	out = add_pop(*net, "out", 10);
	add_dense(*net, in, hid, 64, 20, w_one, NULL);
	add_dense(*net, hid, out, 20, 10, w_sparse_code, NULL);
	assert_int_equal(ionpu_network_mark_output(*net, out), 0);
	ionpu_card_desc_default(16, &card);
	if (ionpu_compile_with(*net, &card, &opts, &p))
		fail_msg("compile: %s", ionpu_last_error());
	return p;
}

/*
 * A learned population has a tile of its own, which an IF population of the
 * same model would otherwise share, with a row for every source neuron and
 * a cell for every crossing, zero weights included.
 */
static void test_learned_own_tile(void **state)
{
	struct ionpu_network *net;
	struct ionpu_plan *p;
	struct ionpu_card_desc card;
	/* The largest |w| of hid -> out: post 9, pre 19 (9 + 19 = 28, kept). */
	const double max = 9 * 1000.0 + 19 + 1;
	uint32_t hid;

	(void)state;
	ionpu_card_desc_default(16, &card);
	p = compile_learned(&net, 0);
	assert_int_equal(ionpu_network_find(net, "hid", &hid), 0);
	assert_int_equal(p->n_tiles, 2);
	assert_false(p->tiles[0].learned);
	assert_true(p->tiles[1].learned);
	assert_int_equal(p->tiles[1].n_segments, 1);
	assert_int_equal(p->tiles[1].segments[0].count, 10);
	assert_int_equal(p->tiles[1].rows_used, 20);
	assert_int_equal(p->tiles[1].n_cells, 200);
	for (uint32_t i = 0; i < 20; i++) {
		size_t n;
		const struct ionpu_plan_route *r = route_of(p, hid, i, &n);

		assert_int_equal(n, 1);
		assert_int_equal(r->tile, 1);
		for (uint32_t o = 0; o < 10; o++) {
			const struct ionpu_plan_cell *c = cell_at(p, 1, r->row, o);
			uint32_t level = (uint32_t)lround(fabs(w_sparse_code(o, i)) / max *
							  (card.g_levels - 1));

			assert_non_null(c);
			assert_true(c->weight == w_sparse_code(o, i));
			assert_int_equal(c->g_pos_level + c->g_neg_level, level);
		}
	}
	assert_true(p->tiles[1].scale_us_per_unit == (card.g_max_us - card.g_min_us) / max);
	ionpu_plan_free(p);
	ionpu_network_free(net);

	/* From zero: the same cells, all on level 0, and the same scale. */
	p = compile_learned(&net, IONPU_COMPILE_LEARN_FROM_ZERO);
	assert_int_equal(p->tiles[1].n_cells, 200);
	for (size_t k = 0; k < p->tiles[1].n_cells; k++) {
		assert_true(p->tiles[1].cells[k].weight == 0);
		assert_int_equal(p->tiles[1].cells[k].g_pos_level, 0);
		assert_int_equal(p->tiles[1].cells[k].g_neg_level, 0);
	}
	assert_true(p->tiles[1].scale_us_per_unit == (card.g_max_us - card.g_min_us) / max);
	ionpu_plan_free(p);
	ionpu_network_free(net);
}

/* ionpu_compile_with() learning @n names fails with @err, saying @msg. */
static void refuse_learn(const struct ionpu_network *net, const char *const *names, size_t n,
			 uint32_t flags, int err, const char *msg)
{
	struct ionpu_compile_opts opts = {
		.size = sizeof(opts), .flags = flags, .learn = names, .n_learn = n,
	};
	struct ionpu_card_desc card;
	struct ionpu_plan *p = NULL;

	ionpu_card_desc_default(16, &card);
	assert_int_equal(ionpu_compile_with(net, &card, &opts, &p), err);
	assert_null(p);
	if (!strstr(ionpu_last_error(), msg))
		fail_msg("'%s' does not say '%s'", ionpu_last_error(), msg);
}

static void refuse_one(const struct ionpu_network *net, const char *name, const char *msg)
{
	refuse_learn(net, &name, 1, 0, -EINVAL, msg);
}

/* What cannot be learned on one tile is refused, naming it and why. */
static void test_learned_refused(void **state)
{
	static const char *const twice[] = { "out", "out" };
	struct ionpu_network *net;
	uint32_t in, wide, out, two, sp, big;
	const uint32_t pre = 0, post = 0;
	const double w = 1;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 300);
	out = add_pop(net, "out", 10);
	add_dense(net, in, out, 300, 10, w_one, NULL);
	wide = add_input(net, "wide", 8);
	big = add_pop(net, "big", 257);
	add_dense(net, wide, big, 8, 257, w_one, NULL);
	two = add_pop(net, "two", 4);
	add_dense(net, wide, two, 8, 4, w_one, NULL);
	add_dense(net, out, two, 10, 4, w_one, NULL);
	sp = add_pop(net, "sp", 4);
	assert_int_equal(ionpu_network_add_sparse(net, wide, sp, 1, &pre, &post, &w, NULL, NULL), 0);
	add_pop(net, "none", 4);
	refuse_one(net, "out", "source 'in' has 300 neurons");
	refuse_one(net, "big", "'big' has 257 neurons");
	refuse_one(net, "two", "'two' has 2 projections");
	refuse_one(net, "none", "'none' has 0 projections");
	refuse_one(net, "sp", "from 'wide' is sparse");
	refuse_one(net, "in", "'in' is an input");
	refuse_one(net, "nope", "'nope': the network has no such node");
	refuse_learn(net, twice, 2, 0, -EINVAL, "'out' is named twice");
	refuse_learn(net, NULL, 0, IONPU_COMPILE_LEARN_FROM_ZERO, -EINVAL,
		     "names no learned population");
	refuse_learn(net, NULL, 0, 1u << 7, -EINVAL, "unknown flags 0x80");
	ionpu_network_free(net);
}

/* The options' size: older than the first version is refused, newer if set. */
static void test_compile_opts_size(void **state)
{
	struct {
		struct ionpu_compile_opts o;
		unsigned char later[8];
	} big = { .o = { .size = sizeof(big) } };
	struct ionpu_compile_opts small = { .size = sizeof(small) - 1 };
	struct ionpu_network *net;
	struct ionpu_card_desc card;
	struct ionpu_plan *p = NULL;
	uint32_t in, pop;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 4);
	pop = add_pop(net, "pop", 4);
	add_dense(net, in, pop, 4, 4, w_one, NULL);
	ionpu_card_desc_default(1, &card);
	assert_int_equal(ionpu_compile_with(net, &card, &small, &p), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "the smallest version has"));
	assert_int_equal(ionpu_compile_with(net, &card, &big.o, &p), 0);
	ionpu_plan_free(p);
	p = NULL;
	big.later[3] = 1;
	assert_int_equal(ionpu_compile_with(net, &card, &big.o, &p), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "ionpu_compile_with() options is set"));
	assert_null(p);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_dense),
		cmocka_unit_test(test_big_dense_chains),
		cmocka_unit_test(test_does_not_fit),
		cmocka_unit_test(test_too_many_neurons),
		cmocka_unit_test(test_conv_unrolled),
		cmocka_unit_test(test_recurrence),
		cmocka_unit_test(test_rows_and_delays),
		cmocka_unit_test(test_packing),
		cmocka_unit_test(test_models_do_not_share_tiles),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_bad_card),
		cmocka_unit_test(test_unstable_tau),
		cmocka_unit_test(test_braille),
		cmocka_unit_test(test_learned_own_tile),
		cmocka_unit_test(test_learned_refused),
		cmocka_unit_test(test_compile_opts_size),
	};

	for (size_t i = 0; i < sizeof(ones) / sizeof(ones[0]); i++)
		ones[i] = 1.0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
