// SPDX-License-Identifier: GPL-2.0-only
/*
 * A plan's identity: ionpu_plan_id() follows everything the plan is
 * compiled from, and a plan whose network changed since it was compiled is
 * refused (-ESTALE, naming the node or projection) instead of running the
 * old weights.  The changed networks are copies edited as a learning
 * session edits them (new dense weights, a new bias).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#include "ionpu_internal.h"

#define IN 4
#define POP 3

static const double tau[POP] = { 0.02, 0.02, 0.02 }, one[POP] = { 1, 1, 1 };
static const double zero[POP] = { 0 };

/* in (4) -> pop (3 LIF), dense, pop an output. */
static struct ionpu_network *build(void)
{
	const struct ionpu_neuron_params lif = {
		.tau = tau, .r = one, .v_leak = zero, .v_threshold = one,
	};
	struct ionpu_network *net;
	double w[POP * IN];
	uint32_t in, pop;

	for (int i = 0; i < POP * IN; i++)
		w[i] = (i % 5 - 2) / 4.0;
	assert_int_equal(ionpu_network_create(&net), 0);
	assert_int_equal(ionpu_network_add_input(net, "in", IN, &in), 0);
	assert_int_equal(ionpu_network_add_population(net, "pop", IONPU_NEURON_LIF, POP, &lif,
						      &pop), 0);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	return net;
}

/* A copy of @net with weight [0][1] of projection 0 one step of 2^-20 up. */
static struct ionpu_network *reweighed(const struct ionpu_network *net)
{
	struct ionpu_projection_info p;
	struct ionpu_network *copy;
	double w[POP * IN];

	assert_int_equal(ionpu_network_copy(net, &copy), 0);
	assert_int_equal(ionpu_network_projection(net, 0, &p), 0);
	memcpy(w, p.weight, sizeof(w));
	w[1] += 0x1p-20;
	assert_int_equal(ionpu_network_set_dense(copy, 0, w), 0);
	return copy;
}

/* A copy of @net whose population has a bias on neuron 2. */
static struct ionpu_network *biased(const struct ionpu_network *net)
{
	struct ionpu_network *copy;

	assert_int_equal(ionpu_network_copy(net, &copy), 0);
	ionpu_network_bias(copy, 1)[2] = 0.25;
	return copy;
}

static uint64_t id_of(const struct ionpu_network *net, const struct ionpu_card_desc *card,
		      uint32_t flags)
{
	struct ionpu_plan *plan;
	uint64_t id;

	if (ionpu_compile_flags(net, card, flags, &plan))
		fail_msg("compile: %s", ionpu_last_error());
	id = ionpu_plan_id(plan);
	ionpu_plan_free(plan);
	return id;
}

static void test_id_follows_what_the_plan_is_of(void **state)
{
	struct ionpu_network *net = build(), *w = reweighed(net), *b = biased(net);
	struct ionpu_network *same;
	struct ionpu_card_desc card, other;
	uint64_t id;

	(void)state;
	ionpu_card_desc_default(4, &card);
	id = id_of(net, &card, 0);
	assert_int_equal(ionpu_network_copy(net, &same), 0);
	assert_true(id_of(same, &card, 0) == id);
	assert_true(id_of(w, &card, 0) != id);
	assert_true(id_of(b, &card, 0) != id);
	other = card;
	other.dt = 0.5e-3;
	assert_true(id_of(net, &other, 0) != id);
	other = card;
	other.tiles = 5;
	assert_true(id_of(net, &other, 0) != id);
	other = card;
	other.g_levels = 128;
	assert_true(id_of(net, &other, 0) != id);
	assert_true(id_of(net, &card, IONPU_COMPILE_ALLOW_UNSTABLE) != id);
	ionpu_network_free(same);
	ionpu_network_free(b);
	ionpu_network_free(w);
	ionpu_network_free(net);
}

static void test_stale_plan_refused(void **state)
{
	struct ionpu_network *net = build(), *w = reweighed(net), *b = biased(net);
	struct ionpu_card_desc card;
	struct ionpu_plan *plan;
	struct ionpu_host *h = NULL;

	(void)state;
	ionpu_card_desc_default(4, &card);
	assert_int_equal(ionpu_compile(net, &card, &plan), 0);

	assert_int_equal(ionpu_host_new(w, plan, &h), -ESTALE);
	assert_null(h);
	assert_non_null(strstr(ionpu_last_error(), "projection 0 ('in' to 'pop') changed"));

	assert_int_equal(ionpu_host_new(b, plan, &h), -ESTALE);
	assert_null(h);
	assert_non_null(strstr(ionpu_last_error(), "node 'pop' changed"));

	/* The network it was compiled from still runs. */
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	ionpu_network_free(b);
	ionpu_network_free(w);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_follows_what_the_plan_is_of),
		cmocka_unit_test(test_stale_plan_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
