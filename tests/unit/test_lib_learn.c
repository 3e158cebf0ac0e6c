// SPDX-License-Identifier: GPL-2.0-only
/*
 * Learning sessions on the host reference: a small task with overlapping
 * classes learned from zero through the card's own rule, the refusals of
 * bad input, naming the value, and the learned network saved as NIR and
 * read back to the weights the devices hold.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#define IN 8	    /* input channels */
#define OUT 2	    /* classes */
#define STEPS 20    /* steps of an example */
#define EPOCHS 3

/* Class 0 drives channels 0..4, class 1 channels 3..7: 3 and 4 are shared. */
static bool drives(uint32_t label, uint32_t channel)
{
	return label ? channel >= 3 : channel <= 4;
}

/* Every active channel spikes in every step. */
static void example(uint32_t label, float *in)
{
	for (size_t t = 0; t < STEPS; t++)
		for (uint32_t c = 0; c < IN; c++)
			in[t * IN + c] = drives(label, c) ? 1.0f : 0.0f;
}

static const struct ionpu_learn_rule rule = {
	.size = sizeof(rule),
	.amp_pot = 1.0,
	.amp_dep = 0.5,
	.pre_ref = STEPS,
	.post_target = 6,
	.max_pulses = 64,
};

struct fixture {
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_host *host;
};

/* in(8) -> out(2 IF, r = 1 / dt, threshold 0.5), "out" learned from zero. */
static int setup(void **state)
{
	static const char *const learn[] = { "out" };
	const struct ionpu_compile_opts opts = {
		.size = sizeof(opts),
		.flags = IONPU_COMPILE_LEARN_FROM_ZERO,
		.learn = learn,
		.n_learn = 1,
	};
	const double r[OUT] = { 1000, 1000 }, vth[OUT] = { 0.5, 0.5 };
	const struct ionpu_neuron_params p = { .r = r, .v_threshold = vth };
	struct fixture *f = calloc(1, sizeof(*f));
	struct ionpu_card_desc card;
	double w[OUT * IN];
	uint32_t in, out;

	assert_non_null(f);
	/* Weight 1 on the full conductance range; learning starts from 0. */
	for (size_t k = 0; k < OUT * IN; k++)
		w[k] = 1.0;
	assert_int_equal(ionpu_network_create(&f->net), 0);
	assert_int_equal(ionpu_network_add_input(f->net, "in", IN, &in), 0);
	assert_int_equal(ionpu_network_add_population(f->net, "out", IONPU_NEURON_IF, OUT, &p,
						      &out), 0);
	assert_int_equal(ionpu_network_add_dense(f->net, in, out, w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(f->net, out), 0);
	ionpu_card_desc_default(2, &card);
	if (ionpu_compile_with(f->net, &card, &opts, &f->plan) ||
	    ionpu_host_new(f->net, f->plan, &f->host))
		fail_msg("%s", ionpu_last_error());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ionpu_host_free(f->host);
	ionpu_plan_free(f->plan);
	ionpu_network_free(f->net);
	free(f);
	return 0;
}

/* Output spikes of each neuron for @label's example, from rest. */
static void spikes(struct ionpu_host *h, uint32_t label, uint32_t *count)
{
	float in[STEPS * IN];
	uint8_t out[STEPS * OUT];

	example(label, in);
	ionpu_host_reset(h);
	assert_int_equal(ionpu_host_run(h, in, STEPS, out), 0);
	for (uint32_t j = 0; j < OUT; j++) {
		count[j] = 0;
		for (size_t t = 0; t < STEPS; t++)
			count[j] += out[t * OUT + j];
	}
}

/*
 * Before learning nothing fires; after, each class's neuron fires more than
 * the other on its own example.  Rows only one class drives carry a positive
 * weight to their class's neuron and none to the other (or a negative one,
 * where depression hit the shared rows' partners).
 */
static void test_learns_separable(void **state)
{
	struct fixture *f = *state;
	struct ionpu_learn_stats st;
	struct ionpu_learner *l;
	uint32_t c[OUT];
	float in[STEPS * IN];
	double w[OUT * IN];

	spikes(f->host, 0, c);
	assert_int_equal(c[0] + c[1], 0);
	if (ionpu_host_learn_start(f->host, "out", &rule, &l))
		fail_msg("%s", ionpu_last_error());
	for (int e = 0; e < EPOCHS; e++)
		for (uint32_t label = 0; label < OUT; label++) {
			example(label, in);
			assert_int_equal(ionpu_learn_example(l, in, STEPS, label), 0);
		}
	assert_int_equal(ionpu_learn_freeze(l), 0);
	assert_int_equal(ionpu_learn_stats(l, &st), 0);
	assert_int_equal(st.examples, EPOCHS * OUT);
	assert_true(st.pulses > 0);
	assert_true(st.energy_fj > 0);
	assert_int_equal(ionpu_learn_weights(l, w), 0);
	for (uint32_t ch = 0; ch < IN; ch++) {
		bool only0 = drives(0, ch) && !drives(1, ch);
		bool only1 = drives(1, ch) && !drives(0, ch);

		if (only0) {
			assert_true(w[0 * IN + ch] > 0);
			assert_true(w[1 * IN + ch] <= 0);
		}
		if (only1) {
			assert_true(w[1 * IN + ch] > 0);
			assert_true(w[0 * IN + ch] <= 0);
		}
	}
	for (uint32_t label = 0; label < OUT; label++) {
		spikes(f->host, label, c);
		assert_true(c[label] > c[1 - label]);
	}
	/* Frozen: the weights no longer move, and examples are refused. */
	example(0, in);
	assert_int_equal(ionpu_learn_example(l, in, STEPS, 0), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "'out' is frozen"));
	ionpu_learn_free(l);
}

/* ionpu_host_learn_start() with @r on @node fails, saying @msg. */
static void refuse_start(struct fixture *f, const char *node, const struct ionpu_learn_rule *r,
			 const char *msg)
{
	struct ionpu_learner *l = NULL;

	assert_int_equal(ionpu_host_learn_start(f->host, node, r, &l), -EINVAL);
	assert_null(l);
	if (!strstr(ionpu_last_error(), msg))
		fail_msg("'%s' does not say '%s'", ionpu_last_error(), msg);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct ionpu_learn_rule r = rule;
	struct ionpu_learner *l, *again = NULL;
	float in[STEPS * IN];

	r.amp_pot = NAN;
	refuse_start(f, "out", &r, "amp_pot is nan");
	r = rule;
	r.amp_dep = 1.5;
	refuse_start(f, "out", &r, "amp_dep is 1.5; it must lie in 0..1");
	r = rule;
	r.pre_ref = 0;
	refuse_start(f, "out", &r, "pre_ref is 0");
	r = rule;
	r.max_pulses = 0;
	refuse_start(f, "out", &r, "max_pulses is 0");
	r = rule;
	r.size = sizeof(r) - 1;
	refuse_start(f, "out", &r, "learning rule of");
	refuse_start(f, "in", &rule, "'in' is not a learned population");

	assert_int_equal(ionpu_host_learn_start(f->host, "out", &rule, &l), 0);
	refuse_start(f, "out", &rule, "a session on 'out' is already on");
	example(1, in);
	assert_int_equal(ionpu_learn_example(l, in, STEPS, OUT), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "label 2 is out of range: 'out' has neurons 0..1"));
	assert_int_equal(ionpu_learn_example(l, in, 0, 0), -EINVAL);
	in[3] = NAN;
	assert_int_equal(ionpu_learn_example(l, in, STEPS, 0), -EINVAL);
	ionpu_learn_free(l);
	/* Freed: a new session may start. */
	assert_int_equal(ionpu_host_learn_start(f->host, "out", &rule, &again), 0);
	ionpu_learn_free(again);
}

/* The saved graph reads back to the network with the learned weights in it. */
static void test_save_nir(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/ionpu-learn-XXXXXX", path[64];
	struct ionpu_network *back;
	struct ionpu_learner *l;
	struct ionpu_node_info n;
	struct ionpu_projection_info p;
	double w[OUT * IN], wb[OUT * IN];
	float in[STEPS * IN];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/learned.nir", dir);
	assert_int_equal(ionpu_host_learn_start(f->host, "out", &rule, &l), 0);
	for (uint32_t label = 0; label < OUT; label++) {
		example(label, in);
		assert_int_equal(ionpu_learn_example(l, in, STEPS, label), 0);
	}
	assert_int_equal(ionpu_learn_weights(l, w), 0);
	if (ionpu_learn_save_nir(l, f->net, path))
		fail_msg("%s", ionpu_last_error());
	if (ionpu_nir_load(path, &back))
		fail_msg("%s", ionpu_last_error());
	assert_int_equal(ionpu_network_node_count(back), 2);
	assert_int_equal(ionpu_network_projection_count(back), 1);
	assert_int_equal(ionpu_network_node(back, 1, &n), 0);
	assert_string_equal(n.name, "out");
	assert_true(n.output);
	assert_true(n.params.v_threshold[0] == 0.5);
	assert_int_equal(ionpu_network_projection(back, 0, &p), 0);
	assert_int_equal(ionpu_network_projection_matrix(back, 0, wb), 0);
	assert_memory_equal(w, wb, sizeof(w));
	assert_true(w[0] > 0);

	/* A network the plan was not compiled from is refused. */
	assert_int_equal(ionpu_learn_save_nir(l, back, path), 0);
	ionpu_network_free(back);
	assert_int_equal(ionpu_network_create(&back), 0);
	assert_int_equal(ionpu_learn_save_nir(l, back, path), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "not the one whose plan learns 'out'"));
	ionpu_network_free(back);
	ionpu_learn_free(l);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_learns_separable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_nir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
