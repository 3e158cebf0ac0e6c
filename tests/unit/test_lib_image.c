// SPDX-License-Identifier: GPL-2.0-only
/*
 * The card image of a plan: tile configs, neuron entries, route records,
 * cell levels, input and output maps, each checked against the plan and
 * the network it came from; and what the image refuses.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#include "ionpu_internal.h"

#define DT 1e-3

static const double tau[4] = { 0.01, 0.02, 0.03, 0.04 }, one[4] = { 1, 1, 1, 1 };
static const double zero[4] = { 0 }, th[4] = { 1, 2, 3, 4 }, bias[4] = { 0.5, 0, 0, -1 };

/*
 * in(3) -> lif(4) (with bias) -> out(2, IF) with a delay of 2 steps from
 * lif neuron 1, and lif -> lif (recurrence); both populations to the host.
 */
static void build(struct ionpu_network **netp, struct ionpu_plan **planp)
{
	const struct ionpu_neuron_params lif = {
		.tau = tau, .r = one, .v_leak = zero, .v_threshold = th, .bias = bias,
	};
	const struct ionpu_neuron_params ifp = { .r = one, .v_threshold = one };
	static const double w_in[4 * 3] = { 1, 0, -2, 0, 3, 0, 4, 0, 0, 0, 0, 0.5 };
	static const double w_out[2 * 4] = { 1, 1, 0, 0, 0, 2, 0, 0 };
	static const double w_rec[4 * 4] = { [1] = 0.25 };
	static const double d_out[4] = { 0, 2 * DT, 0, 0 };
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	uint32_t in, a, b;

	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 3, &in), 0);
	assert_int_equal(ionpu_network_add_population(net, "lif", IONPU_NEURON_LIF, 4, &lif, &a), 0);
	assert_int_equal(ionpu_network_add_population(net, "out", IONPU_NEURON_IF, 2, &ifp, &b), 0);
	assert_int_equal(ionpu_network_add_dense(net, in, a, w_in, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, a, b, w_out, d_out, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, a, a, w_rec, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, a), 0);
	assert_int_equal(ionpu_network_mark_output(net, b), 0);
	ionpu_card_desc_default(4, &card);
	assert_int_equal(ionpu_compile(net, &card, planp), 0);
	*netp = net;
}

/* Where the plan put neuron @i of population @node: tile and column. */
static bool place_of(const struct ionpu_plan *p, uint32_t node, uint32_t i, uint32_t *tile,
		     uint32_t *col)
{
	for (uint32_t t = 0; t < p->n_tiles; t++)
		for (size_t s = 0; s < p->tiles[t].n_segments; s++) {
			const struct ionpu_plan_segment *g = &p->tiles[t].segments[s];

			if (g->node == node && i >= g->first && i - g->first < g->count) {
				*tile = t;
				*col = g->first_column + i - g->first;
				return true;
			}
		}
	return false;
}

static void test_tiles_and_neurons(void **state)
{
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_image *img;
	uint32_t t, col;

	(void)state;
	build(&net, &plan);
	assert_int_equal(ionpu_image_build(net, plan, &img), 0);
	assert_int_equal(img->n_tiles, plan->n_tiles);
	/* Two models: two tiles, each configured for its own. */
	assert_int_equal(img->n_tiles, 2);
	for (uint32_t k = 0; k < img->n_tiles; k++) {
		const struct ionpu_image_tile *it = &img->tiles[k];
		const struct ionpu_plan_tile *pt = &plan->tiles[k];
		double per_level = (plan->card.g_max_us - plan->card.g_min_us) /
				   (plan->card.g_levels - 1) / pt->scale_us_per_unit;

		assert_int_equal(it->head, pt->head);
		assert_int_equal(it->cfg.mode, IONPU_FAB_IDEAL);
		assert_true(it->cfg.dt == (float)DT);
		/* One level of G+ - G- is one level of the plan's weights. */
		assert_true(it->cfg.gain == (float)(per_level / IONPU_FAB_G_STEP));
		assert_int_equal(it->n_cells, pt->n_cells);
		assert_int_equal(it->rows_used, pt->rows_used);
		assert_int_equal(it->columns_used, pt->neurons_used);
		for (size_t c = 0; c < it->n_cells; c++) {
			assert_int_equal(it->cells[c].row, pt->cells[c].row);
			assert_int_equal(it->cells[c].column, pt->cells[c].column);
			assert_int_equal(it->cells[c].level[IONPU_FAB_GPLUS], pt->cells[c].g_pos_level);
			assert_int_equal(it->cells[c].level[IONPU_FAB_GMINUS], pt->cells[c].g_neg_level);
		}
	}
	/* LIF neuron i: its tau and threshold, the bias folded into the leak. */
	for (uint32_t i = 0; i < 4; i++) {
		const struct ionpu_fab_neuron *p;

		assert_true(place_of(plan, 1, i, &t, &col));
		assert_int_equal(img->tiles[t].cfg.model, IONPU_FAB_LIF);
		p = &img->tiles[t].neurons[col];
		assert_true(p->tau == (float)tau[i]);
		assert_true(p->v_threshold == (float)th[i]);
		assert_true(p->v_leak == (float)(0 + 1 * bias[i]));
		assert_true(p->r == 1.0f);
	}
	assert_true(place_of(plan, 2, 1, &t, &col));
	assert_int_equal(img->tiles[t].cfg.model, IONPU_FAB_IF);
	assert_true(img->tiles[t].neurons[col].v_threshold == 1.0f);
	/* A column no neuron uses rests at its tile model's defaults. */
	{
		struct ionpu_fab_neuron d;

		ionpu_fab_neuron_defaults(IONPU_FAB_IF, &d);
		assert_memory_equal(&img->tiles[t].neurons[255], &d, sizeof(d));
	}
	assert_int_equal(img->n_stateless, 0);
	ionpu_image_free(img);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

/* Each routed neuron's record has the plan's targets; outputs to the host. */
static void test_routes_and_maps(void **state)
{
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_image *img;
	size_t records = 0, targets = 0;

	(void)state;
	build(&net, &plan);
	assert_int_equal(ionpu_image_build(net, plan, &img), 0);
	/* Inputs: channel c's targets are the plan's routes of (in, c), in order. */
	assert_int_equal(img->n_in, 3);
	for (size_t r = 0, c = 0; c < 3; c++) {
		for (size_t k = img->in_first[c]; k < img->in_first[c + 1]; k++, r++) {
			while (plan->routes[r].node != 0 || plan->routes[r].neuron != c)
				r++;
			assert_int_equal(img->in_targets[k].tile, plan->routes[r].tile);
			assert_int_equal(img->in_targets[k].row, plan->routes[r].row);
			assert_int_equal(img->in_targets[k].delay, plan->routes[r].delay_steps);
		}
	}
	/* Outputs: lif's 4 then out's 2, each where the plan put it. */
	assert_int_equal(img->n_out, 6);
	for (uint32_t j = 0; j < 6; j++) {
		uint32_t t, col;

		assert_true(place_of(plan, j < 4 ? 1 : 2, j < 4 ? j : j - 4, &t, &col));
		assert_int_equal(img->outputs[j].tile, t);
		assert_int_equal(img->outputs[j].column, col);
		assert_int_equal(img->out_index[t * IONPU_FAB_NEURONS + col], j);
	}
	/* Population routes: every plan route of a population is in one record. */
	for (uint32_t t = 0; t < img->n_tiles; t++) {
		for (size_t k = 0; k < img->tiles[t].n_routes; k++) {
			const struct ionpu_image_route *r = &img->tiles[t].routes[k];

			if (k)
				assert_true(r->neuron > img->tiles[t].routes[k - 1].neuron);
			/* Everything routed here is an output of this network. */
			assert_true(r->to_host);
			assert_true(img->out_index[t * IONPU_FAB_NEURONS + r->neuron] >= 0);
			records++;
			targets += r->n_targets;
			for (uint32_t i = 0; i < r->n_targets; i++) {
				assert_true(r->targets[i].tile < img->n_tiles);
				assert_true(r->targets[i].delay == 0 || r->targets[i].delay == 2);
			}
		}
	}
	assert_int_equal(records, 6);
	assert_int_equal(targets + img->in_first[3], plan->n_routes);
	ionpu_image_free(img);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

static void test_refusals(void **state)
{
	const struct ionpu_neuron_params ifb = { .r = one, .v_threshold = one, .bias = bias };
	struct ionpu_card_desc card;
	struct ionpu_network *net, *other;
	struct ionpu_plan *plan;
	struct ionpu_image *img = NULL;
	uint32_t in, pop;
	double w = 1;

	(void)state;
	build(&net, &plan);
	assert_int_equal(ionpu_image_build(NULL, plan, &img), -EINVAL);
	assert_int_equal(ionpu_network_create(&other), 0);
	assert_int_equal(ionpu_image_build(other, plan, &img), -EINVAL);
	assert_null(img);
	/* A plan for more levels than the card has. */
	plan->card.g_levels = IONPU_FAB_G_LEVELS + 1;
	assert_int_equal(ionpu_image_build(net, plan, &img), -EOPNOTSUPP);
	plan->card.g_levels = IONPU_FAB_G_LEVELS;
	/* A cell off the crossbar. */
	plan->tiles[0].cells[0].row = IONPU_FAB_ROWS;
	assert_int_equal(ionpu_image_build(net, plan, &img), -EINVAL);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	ionpu_network_free(other);

	/* An IF neuron with a bias has no form on the card. */
	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", 1, &in), 0);
	assert_int_equal(ionpu_network_add_population(net, "if", IONPU_NEURON_IF, 1, &ifb, &pop), 0);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, &w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	ionpu_card_desc_default(1, &card);
	assert_int_equal(ionpu_compile(net, &card, &plan), 0);
	assert_int_equal(ionpu_image_build(net, plan, &img), -EOPNOTSUPP);
	assert_null(img);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiles_and_neurons),
		cmocka_unit_test(test_routes_and_maps),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
