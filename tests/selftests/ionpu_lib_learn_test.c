// SPDX-License-Identifier: GPL-2.0-only
/*
 * Learning on the card through libionpu: a small task (four classes of
 * noisy input patterns through a fixed random hidden layer) learned from
 * zero on the card in ideal mode gives the host reference's learned weights,
 * learning pulses and energy, and afterwards its output rasters, bit for
 * bit.  Also: the refusals a session makes on a card, the learned network
 * saved as NIR from the card's read-back, and learning in physical mode
 * moving the devices.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define IN 32
#define HID 24
#define OUT 4
#define STEPS 20
#define PER_CLASS 6
#define EXAMPLES (OUT * PER_CLASS)
#define DT 1e-3

static uint32_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/* IF neurons with r = 1 / dt, so a step adds its input to v. */
static int add_if(struct ionpu_network *net, const char *name, uint32_t size, double vth,
		  uint32_t *id)
{
	double r[HID], th[HID];
	struct ionpu_neuron_params p = { .r = r, .v_threshold = th };

	for (uint32_t i = 0; i < size; i++) {
		r[i] = 1 / DT;
		th[i] = vth;
	}
	return ionpu_network_add_population(net, name, IONPU_NEURON_IF, size, &p, id);
}

/*
 * in(32) -> hid(24 IF) -> out(4 IF): hidden neuron h listens mostly to the
 * eight channels of class h % 4 (weight 2, elsewhere -1..1 at random), so
 * the classes are separable in the hidden layer; out's weights are 1 where
 * it is not learned from zero.
 */
static struct ionpu_network *network(void)
{
	static double w1[HID * IN], w2[OUT * HID];
	struct ionpu_network *net;
	uint32_t in, hid, out;
	uint64_t seed = 12;

	for (size_t k = 0; k < HID * IN; k++)
		w1[k] = (k % IN) / 8 == (k / IN) % OUT ? 2 : (double)(next_rand(&seed) % 3) - 1;
	for (size_t k = 0; k < OUT * HID; k++)
		w2[k] = 1;
	if (ionpu_network_create(&net))
		return NULL;
	if (ionpu_network_add_input(net, "in", IN, &in) || add_if(net, "hid", HID, 5.5, &hid) ||
	    add_if(net, "out", OUT, 0.5, &out) ||
	    ionpu_network_add_dense(net, in, hid, w1, NULL, NULL) ||
	    ionpu_network_add_dense(net, hid, out, w2, NULL, NULL) ||
	    ionpu_network_mark_output(net, out)) {
		ionpu_network_free(net);
		return NULL;
	}
	return net;
}

/*
 * Example @k: class k % OUT drives its own eight channels, each spiking with
 * probability 3/4 a step, plus stray spikes on the others.
 */
static void example(size_t k, uint64_t *seed, float *in)
{
	uint32_t label = (uint32_t)(k % OUT);

	for (size_t t = 0; t < STEPS; t++)
		for (uint32_t c = 0; c < IN; c++)
			in[t * IN + c] = c / 8 == label ? next_rand(seed) % 4 != 0 :
							  next_rand(seed) % 16 == 0;
}

static const struct ionpu_learn_rule rule = {
	.size = sizeof(rule),
	.amp_pot = 0.5,
	.amp_dep = 0.25,
	.pre_ref = 8,
	.post_target = 6,
	.max_pulses = 4096,
};

FIXTURE(learn) {
	struct ionpu_dev *dev;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	float ex[EXAMPLES][STEPS * IN];
};

FIXTURE_SETUP(learn)
{
	static const char *const learned[] = { "out" };
	const struct ionpu_compile_opts opts = {
		.size = sizeof(opts),
		.flags = IONPU_COMPILE_LEARN_FROM_ZERO,
		.learn = learned,
		.n_learn = 1,
	};
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	struct ionpu_card_desc card;
	uint64_t seed = 5;

	if (ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS) <= 0)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_EQ(0, ionpu_open(cards[0].node, &self->dev)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_card_desc_of(self->dev, &card)) TH_LOG("%s", ionpu_last_error());
	self->net = network();
	ASSERT_NE(NULL, self->net);
	ASSERT_EQ(0, ionpu_compile_with(self->net, &card, &opts, &self->plan))
		TH_LOG("%s", ionpu_last_error());
	for (size_t k = 0; k < EXAMPLES; k++)
		example(k, &seed, self->ex[k]);
}

FIXTURE_TEARDOWN(learn)
{
	ionpu_plan_free(self->plan);
	ionpu_network_free(self->net);
	ionpu_close(self->dev);
}

/* Every example taught on @l, twice over. */
static int teach_all(struct ionpu_learner *l, float (*ex)[STEPS * IN])
{
	for (int epoch = 0; epoch < 2; epoch++)
		for (size_t k = 0; k < EXAMPLES; k++) {
			int err = ionpu_learn_example(l, ex[k], STEPS, (uint32_t)(k % OUT));

			if (err)
				return err;
		}
	return ionpu_learn_freeze(l);
}

TEST_F(learn, ideal_card_learns_what_the_host_reference_learns)
{
	struct ionpu_learn_stats card_st, host_st;
	struct ionpu_learner *card_l, *host_l;
	struct ionpu_loaded *n;
	struct ionpu_host *h;
	double card_w[OUT * HID], host_w[OUT * HID];
	uint8_t card_out[STEPS * OUT], host_out[STEPS * OUT];
	size_t nonzero = 0, spikes = 0, right = 0;

	ASSERT_EQ(0, ionpu_load(self->dev, self->net, self->plan, NULL, &n))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_host_new(self->net, self->plan, &h)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_learn_start(n, "out", &rule, &card_l)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_host_learn_start(h, "out", &rule, &host_l))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, teach_all(card_l, self->ex)) TH_LOG("card: %s", ionpu_last_error());
	ASSERT_EQ(0, teach_all(host_l, self->ex)) TH_LOG("host: %s", ionpu_last_error());

	ASSERT_EQ(0, ionpu_learn_stats(card_l, &card_st));
	ASSERT_EQ(0, ionpu_learn_stats(host_l, &host_st));
	EXPECT_EQ(2 * EXAMPLES, card_st.examples);
	EXPECT_LT(0, card_st.pulses);
	EXPECT_EQ(host_st.pulses, card_st.pulses);
	EXPECT_EQ(host_st.energy_fj, card_st.energy_fj);

	ASSERT_EQ(0, ionpu_learn_weights(card_l, card_w)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_learn_weights(host_l, host_w)) TH_LOG("%s", ionpu_last_error());
	for (size_t k = 0; k < OUT * HID; k++) {
		EXPECT_EQ(0, memcmp(&host_w[k], &card_w[k], sizeof(double)))
			TH_LOG("weight %zu: card %.17g, host %.17g", k, card_w[k], host_w[k]);
		nonzero += card_w[k] != 0;
	}
	EXPECT_LT(0, nonzero);

	/* What was learned, run afterwards: the same rasters. */
	for (size_t k = 0; k < EXAMPLES; k++) {
		uint32_t count[OUT] = { 0 }, best = 0;

		ionpu_host_reset(h);
		ASSERT_EQ(0, ionpu_host_run(h, self->ex[k], STEPS, host_out));
		ASSERT_EQ(0, ionpu_loaded_run(n, self->ex[k], STEPS, 0, card_out))
			TH_LOG("%s", ionpu_last_error());
		EXPECT_EQ(0, memcmp(host_out, card_out, sizeof(card_out))) TH_LOG("example %zu", k);
		for (size_t i = 0; i < sizeof(card_out); i++) {
			count[i % OUT] += card_out[i];
			spikes += card_out[i];
		}
		for (uint32_t j = 1; j < OUT; j++)
			if (count[j] > count[best])
				best = j;
		right += best == k % OUT;
	}
	/* From zero nothing fires: the spikes and the right answers were learned. */
	EXPECT_LT(0, spikes);
	EXPECT_LT(EXAMPLES / 2, right);
	ionpu_learn_free(card_l);
	ionpu_learn_free(host_l);
	ionpu_host_free(h);
	ionpu_unload(n);
}

TEST_F(learn, card_session_refuses_bad_input_and_saves_nir)
{
	char dir[] = "/tmp/ionpu-learn-XXXXXX", path[64];
	struct ionpu_learn_rule bad = rule;
	struct ionpu_learner *l, *second = NULL;
	struct ionpu_network *back;
	struct ionpu_loaded *n;
	double w[OUT * HID], wb[OUT * HID];

	ASSERT_EQ(0, ionpu_load(self->dev, self->net, self->plan, NULL, &n))
		TH_LOG("%s", ionpu_last_error());
	bad.pre_ref = NAN;
	EXPECT_EQ(-EINVAL, ionpu_learn_start(n, "out", &bad, &l));
	EXPECT_NE(NULL, strstr(ionpu_last_error(), "pre_ref is nan"));
	EXPECT_EQ(-EINVAL, ionpu_learn_start(n, "hid", &rule, &l));
	EXPECT_NE(NULL, strstr(ionpu_last_error(), "'hid' is not a learned population"));
	ASSERT_EQ(0, ionpu_learn_start(n, "out", &rule, &l)) TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(-EINVAL, ionpu_learn_start(n, "out", &rule, &second));
	EXPECT_EQ(-EINVAL, ionpu_learn_example(l, self->ex[0], STEPS, OUT));
	EXPECT_NE(NULL, strstr(ionpu_last_error(), "label 4 is out of range"));
	ASSERT_EQ(0, ionpu_learn_example(l, self->ex[1], STEPS, 1)) TH_LOG("%s", ionpu_last_error());

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/learned.nir", dir);
	ASSERT_EQ(0, ionpu_learn_weights(l, w));
	ASSERT_EQ(0, ionpu_learn_save_nir(l, self->net, path)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_nir_load(path, &back)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_network_projection_matrix(back, 1, wb));
	EXPECT_EQ(0, memcmp(w, wb, sizeof(w)));
	ionpu_network_free(back);
	unlink(path);
	rmdir(dir);
	ionpu_learn_free(l);
	ionpu_unload(n);
}

TEST_F(learn, physical_learning_moves_the_devices)
{
	const struct ionpu_load_opts physical = { .flags = IONPU_LOAD_PHYSICAL };
	struct ionpu_learn_stats st;
	struct ionpu_learner *l;
	struct ionpu_loaded *n;
	double before[OUT * HID], after[OUT * HID], moved = 0;

	ASSERT_EQ(0, ionpu_load(self->dev, self->net, self->plan, &physical, &n))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_learn_start(n, "out", &rule, &l)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_learn_weights(l, before));
	ASSERT_EQ(0, teach_all(l, self->ex)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_learn_weights(l, after));
	ASSERT_EQ(0, ionpu_learn_stats(l, &st));
	for (size_t k = 0; k < OUT * HID; k++)
		moved += fabs(after[k] - before[k]);
	EXPECT_LT(0, st.pulses);
	EXPECT_LT(0, st.energy_fj);
	EXPECT_LT(0, moved);
	ionpu_learn_free(l);
	ionpu_unload(n);
}

TEST_HARNESS_MAIN
