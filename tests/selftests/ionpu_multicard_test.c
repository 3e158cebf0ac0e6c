// SPDX-License-Identifier: GPL-2.0-only
/*
 * A network larger than one card, on two emulated cards: split by the
 * library (ionpu_split_compile()), each part loaded in ideal mode on its
 * card, run with the host routing spikes between the cards every step
 * (ionpu_multi_run()).  The output equals the whole network's host
 * reference bit for bit, and the same split on host references; a long
 * input goes on across runs; a reset of one card under a split makes a run
 * that goes on fail with a message naming the part, and the next run from
 * rest is right again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define DT 1e-3
#define STEPS 200
#define IN 64
/* The second population's tiles: at least 3, so the network needs more than the first card. */
#define TAIL_TILES 3

static uint32_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static double uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (next_rand(s) / 2147483648.0);
}

static int add_lif(struct ionpu_network *net, const char *name, uint32_t size, uint32_t *id)
{
	double *a = malloc(4 * size * sizeof(*a));
	struct ionpu_neuron_params p = { 0 };
	int err;

	if (!a)
		return -ENOMEM;
	for (uint32_t i = 0; i < size; i++) {
		a[i] = 0.02;
		a[size + i] = 1;
		a[2 * size + i] = 0;
		a[3 * size + i] = 1;
	}
	p.tau = a;
	p.r = a + size;
	p.v_leak = a + 2 * size;
	p.v_threshold = a + 3 * size;
	err = ionpu_network_add_population(net, name, IONPU_NEURON_LIF, size, &p, id);
	free(a);
	return err;
}

/*
 * in(64) -> head (head_tiles x 256 LIF, dense) -> tail (TAIL_TILES x 256
 * LIF, output): tail group g takes the 256 neurons of head's group g
 * (sparse, every pair), with delays of 0..2 steps.  head_tiles + TAIL_TILES
 * tiles in all.
 */
static struct ionpu_network *two_layers(uint32_t head_tiles, uint64_t *seed)
{
	uint32_t head_n = head_tiles * 256, tail_n = TAIL_TILES * 256, in, head, tail;
	size_t nnz = (size_t)tail_n * 256;
	double *w = malloc((size_t)IN * head_n * sizeof(*w));
	double *sw = malloc(nnz * sizeof(*sw)), *delay = malloc(head_n * sizeof(*delay));
	uint32_t *pre = malloc(nnz * sizeof(*pre)), *post = malloc(nnz * sizeof(*post));
	struct ionpu_network *net = NULL;
	size_t k = 0;

	if (!w || !sw || !delay || !pre || !post || ionpu_network_create(&net))
		goto out;
	for (size_t i = 0; i < (size_t)IN * head_n; i++)
		w[i] = uniform(seed, -0.3, 0.9);
	for (uint32_t j = 0; j < tail_n; j++) {
		for (uint32_t i = 0; i < 256; i++, k++) {
			pre[k] = (j / 256) * 256 + i;
			post[k] = j;
			sw[k] = uniform(seed, -0.05, 0.12);
		}
	}
	for (uint32_t i = 0; i < head_n; i++)
		delay[i] = (next_rand(seed) % 3) * DT;
	if (ionpu_network_add_input(net, "in", IN, &in) || add_lif(net, "head", head_n, &head) ||
	    add_lif(net, "tail", tail_n, &tail) ||
	    ionpu_network_add_dense(net, in, head, w, NULL, NULL) ||
	    ionpu_network_add_sparse(net, head, tail, nnz, pre, post, sw, delay, NULL) ||
	    ionpu_network_mark_output(net, tail)) {
		ionpu_network_free(net);
		net = NULL;
	}
out:
	free(w);
	free(sw);
	free(delay);
	free(pre);
	free(post);
	return net;
}

FIXTURE(multi) {
	struct ionpu_dev *dev[2];
	struct ionpu_card_desc card[2];
	char pci[2][32];
	struct ionpu_network *net;
	struct ionpu_split *split;
	float *in;
	uint8_t *want;
	size_t n_out;
};

/* The whole network on the host reference of a card with every tile it needs. */
static int whole_host(const struct ionpu_network *net, const float *in, uint8_t *out)
{
	struct ionpu_card_desc big;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *h = NULL;
	int err;

	ionpu_card_desc_default(64, &big);
	err = ionpu_compile(net, &big, &plan);
	if (!err)
		err = ionpu_host_new(net, plan, &h);
	if (!err)
		err = ionpu_host_run(h, in, STEPS, out);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	return err;
}

FIXTURE_SETUP(multi)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS], tmp;
	int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);
	uint64_t seed = 17;

	memset(self, 0, sizeof(*self));
	if (n < 2)
		SKIP(return, "%d ionpu cards in this machine: a split needs two", n < 0 ? 0 : n);
	/* The two cards with the most tiles, the bigger first. */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (cards[j].tiles > cards[i].tiles) {
				tmp = cards[i];
				cards[i] = cards[j];
				cards[j] = tmp;
			}
	if (cards[1].tiles < TAIL_TILES || cards[0].tiles < 3)
		SKIP(return, "cards of %u and %u tiles: the test needs 3 or more on each",
		     cards[0].tiles, cards[1].tiles);
	for (int k = 0; k < 2; k++) {
		snprintf(self->pci[k], sizeof(self->pci[k]), "%s", cards[k].pci);
		ASSERT_EQ(0, ionpu_open(cards[k].node, &self->dev[k]))
			TH_LOG("%s", ionpu_last_error());
		ASSERT_EQ(0, ionpu_card_desc_of(self->dev[k], &self->card[k]))
			TH_LOG("%s", ionpu_last_error());
	}
	/* One tile short of the first card for head: with tail, more than it has. */
	self->net = two_layers(self->card[0].tiles - 1, &seed);
	ASSERT_NE(NULL, self->net);
	ASSERT_EQ(0, ionpu_split_compile(self->net, self->card, 2, 0, &self->split))
		TH_LOG("%s", ionpu_last_error());
	self->n_out = TAIL_TILES * 256;
	self->in = malloc(STEPS * IN * sizeof(*self->in));
	self->want = calloc(STEPS, self->n_out);
	ASSERT_TRUE(self->in && self->want);
	for (size_t k = 0; k < STEPS * IN; k++)
		self->in[k] = next_rand(&seed) % 4 == 0;
	ASSERT_EQ(0, whole_host(self->net, self->in, self->want)) TH_LOG("%s", ionpu_last_error());
}

FIXTURE_TEARDOWN(multi)
{
	ionpu_split_free(self->split);
	ionpu_network_free(self->net);
	free(self->in);
	free(self->want);
	for (int k = 0; k < 2; k++)
		ionpu_close(self->dev[k]);
}

static size_t count(const uint8_t *r, size_t n)
{
	size_t sum = 0;

	for (size_t k = 0; k < n; k++)
		sum += r[k];
	return sum;
}

/* 6.1's harness runs the test after a SKIP() in the fixture's setup. */
#define NEED_SPLIT() do {							\
	if (!self->split)							\
		SKIP(return, "no split: see the fixture's setup");		\
} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F(multi, larger_than_one_card_equals_host)
{
	struct ionpu_multi *m = NULL, *h = NULL;
	uint8_t *got = calloc(STEPS, self->n_out), *ref = calloc(STEPS, self->n_out);
	struct ionpu_plan_stats ps[2];
	double t0;

	NEED_SPLIT();
	ASSERT_TRUE(got && ref);
	ASSERT_EQ(2, ionpu_split_parts(self->split));
	ionpu_plan_stats(ionpu_split_plan(self->split, 0), &ps[0]);
	ionpu_plan_stats(ionpu_split_plan(self->split, 1), &ps[1]);
	EXPECT_GT(ps[0].tiles + ps[1].tiles, self->card[0].tiles);
	ASSERT_EQ(0, ionpu_multi_load(self->split, self->dev, 2, NULL, &m))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_multi_host(self->split, &h)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(IN, ionpu_multi_inputs(m));
	ASSERT_EQ(self->n_out, ionpu_multi_outputs(m));
	t0 = now_s();
	ASSERT_EQ(0, ionpu_multi_run(m, self->in, STEPS, 0, got)) TH_LOG("%s", ionpu_last_error());
	TH_LOG("%u + %u tiles on cards of %u and %u: %d steps in %.2f s, %zu output spikes",
	       ps[0].tiles, ps[1].tiles, self->card[0].tiles, self->card[1].tiles, STEPS,
	       now_s() - t0, count(self->want, STEPS * self->n_out));
	EXPECT_LT(100, count(self->want, STEPS * self->n_out));
	EXPECT_EQ(0, memcmp(self->want, got, STEPS * self->n_out));
	ASSERT_EQ(0, ionpu_multi_run(h, self->in, STEPS, 0, ref));
	EXPECT_EQ(0, memcmp(ref, got, STEPS * self->n_out));

	/* In two pieces: spikes between the cards carry over. */
	memset(got, 0, STEPS * self->n_out);
	ASSERT_EQ(0, ionpu_multi_run(m, self->in, 77, 0, got)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_multi_run(m, self->in + 77 * IN, STEPS - 77, IONPU_RUN_KEEP_STATE,
				     got + 77 * self->n_out))
		TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(0, memcmp(self->want, got, STEPS * self->n_out));
	ionpu_multi_free(h);
	ionpu_multi_free(m);
	free(got);
	free(ref);
}

/*
 * A reset of the second card between two runs loses its part's state:
 * going on is refused (-ESTALE, naming the part) rather than computed from
 * cleared neurons, and the next run from rest equals the host again.
 */
TEST_F(multi, a_card_reset_under_a_split)
{
	struct ionpu_multi *m = NULL;
	uint8_t *got = calloc(STEPS, self->n_out);
	char path[PATH_MAX];
	int err;

	NEED_SPLIT();
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->pci[1]);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", self->pci[1]);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, ionpu_multi_load(self->split, self->dev, 2, NULL, &m))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_multi_run(m, self->in, 50, 0, got)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	err = ionpu_multi_run(m, self->in + 50 * IN, 10, IONPU_RUN_KEEP_STATE, got);
	EXPECT_EQ(-ESTALE, err);
	EXPECT_NE(NULL, strstr(ionpu_last_error(), "part 1")) TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(-ESTALE, ionpu_multi_run(m, self->in, 10, IONPU_RUN_KEEP_STATE, got));
	memset(got, 0, STEPS * self->n_out);
	ASSERT_EQ(0, ionpu_multi_run(m, self->in, STEPS, 0, got)) TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(0, memcmp(self->want, got, STEPS * self->n_out));
	ionpu_multi_free(m);
	free(got);
}

TEST_HARNESS_MAIN
