// SPDX-License-Identifier: GPL-2.0-only
/*
 * The main job's network on the card: the digit classifier
 * (examples/digits/digits.nir) over a slice of its test split, as one batch
 * in ideal mode, gives the host reference's output spikes exactly, and so
 * its predictions, which score as the classifier should.  The build stages
 * the graph and the slice in /selftests/digits/ (evaluate.py --export).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define DIGITS_DIR	"/selftests/digits"
/* Of the slice, at least this many in a hundred are classified right. */
#define MIN_PERCENT	90

/* The output neuron that fired most; ties to the first to fire (snn.py). */
static uint32_t predict(const uint8_t *out, size_t steps, size_t n_out)
{
	size_t best = 0, count[16] = { 0 }, first[16];

	for (size_t j = 0; j < n_out; j++)
		first[j] = steps;
	for (size_t k = 0; k < steps * n_out; k++) {
		count[k % n_out] += out[k];
		if (out[k] && first[k % n_out] == steps)
			first[k % n_out] = k / n_out;
	}
	for (size_t j = 1; j < n_out; j++)
		if (count[j] > count[best] ||
		    (count[j] == count[best] && first[j] < first[best]))
			best = j;
	return (uint32_t)best;
}

TEST(slice_on_card_equals_host)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_loaded *n = NULL;
	struct ionpu_dev *dev = NULL;
	struct ionpu_card_desc desc;
	size_t samples, steps, cols, rows, one, n_out, correct = 0;
	float *in = NULL, *labels = NULL;
	uint8_t *want = NULL, *got = NULL;
	int ncards = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);

	if (ncards <= 0)
		SKIP(return, "no ionpu card in this machine");
	if (access(DIGITS_DIR "/digits.nir", R_OK))
		SKIP(return, DIGITS_DIR "/digits.nir is not staged");
	ASSERT_EQ(0, ionpu_npy_read_batch(DIGITS_DIR "/test-inputs.npy", &in,
					  &samples, &steps, &cols, NULL))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_npy_read(DIGITS_DIR "/test-labels.npy", &labels,
				    &rows, &one))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(samples, rows);
	ASSERT_EQ(0, ionpu_nir_load(DIGITS_DIR "/digits.nir", &net))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_open(cards[0].node, &dev))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_card_desc_of(dev, &desc));
	ASSERT_EQ(0, ionpu_compile(net, &desc, &plan))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_host_new(net, plan, &host))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_load(dev, net, plan, NULL, &n))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(cols, ionpu_loaded_inputs(n));
	n_out = ionpu_loaded_outputs(n);
	ASSERT_GE(16, n_out);
	want = calloc(samples * steps * n_out, 1);
	got = calloc(samples * steps * n_out, 1);
	ASSERT_TRUE(want && got);
	ASSERT_EQ(0, ionpu_host_run_batch(host, in, samples, steps, want))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_loaded_run_batch(n, in, samples, steps, got))
		TH_LOG("%s", ionpu_last_error());
	for (size_t s = 0; s < samples; s++) {
		size_t off = s * steps * n_out;
		uint32_t p = predict(got + off, steps, n_out);

		EXPECT_EQ(0, memcmp(want + off, got + off, steps * n_out))
			TH_LOG("sample %zu: the card's spikes differ from the host's", s);
		EXPECT_EQ(predict(want + off, steps, n_out), p);
		correct += p == (uint32_t)labels[s];
	}
	TH_LOG("%zu of %zu test images classified right on the card", correct,
	       samples);
	EXPECT_LE(MIN_PERCENT * samples, 100 * correct);
	free(want);
	free(got);
	free(in);
	free(labels);
	ionpu_unload(n);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	ionpu_close(dev);
}

TEST_HARNESS_MAIN
