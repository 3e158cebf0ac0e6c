// SPDX-License-Identifier: GPL-2.0-only
/*
 * NIR conformance of the card: each case of tests/common/ionpu_conformance.h
 * (single LIF, IF, CubaLIF and LI neurons, a two-layer network), written to
 * NIR and read back, compiled for the card, programmed and run in ideal
 * mode, gives exactly the spikes the case's own simulation expects.  The
 * host reference passes the same cases in tests/unit/test_lib_conformance.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_conformance.h"

FIXTURE(card) {
	struct ionpu_dev *dev;
	struct ionpu_card_desc desc;
};

FIXTURE_SETUP(card)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	struct ionpu_job job = { 0 };
	int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS), fd;

	self->dev = NULL;
	if (n <= 0)
		SKIP(return, "no ionpu card in this machine");
	fd = open(cards[0].node, O_RDWR);
	ASSERT_LE(0, fd);
	/* No leased tile: -EACCES from a driver that knows the command. */
	if (ioctl(fd, IONPU_IOC_JOB, &job) && errno == ENOTTY) {
		close(fd);
		SKIP(return, "the driver does not run jobs (IONPU_IOC_JOB)");
	}
	close(fd);
	ASSERT_EQ(0, ionpu_open(cards[0].node, &self->dev))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, ionpu_card_desc_of(self->dev, &self->desc))
		TH_LOG("%s", ionpu_last_error());
}

FIXTURE_TEARDOWN(card)
{
	ionpu_close(self->dev);
}

/*
 * Case @c on the card; returns 0, or the first differing step + 1, or a
 * negative errno with the library's message logged.
 */
static long run_case(struct __test_metadata *_metadata, struct ionpu_dev *dev,
		     const struct ionpu_card_desc *desc,
		     const struct conf_case *c)
{
	uint32_t n_out = conf_outputs(c);
	float in[CONF_STEPS * CONF_MAX];
	uint8_t want[CONF_STEPS * CONF_MAX], got[CONF_STEPS * CONF_MAX];
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_loaded *n = NULL;
	size_t spikes = 0;
	double closest;
	long ret = 0;

	conf_expect(c, want, &closest);
	EXPECT_LE(CONF_MARGIN, closest);
	conf_input(c, in);
	if (conf_build_nir(c, "/tmp", &net) ||
	    ionpu_compile(net, desc, &plan) ||
	    ionpu_load(dev, net, plan, NULL, &n) ||
	    ionpu_loaded_run(n, in, CONF_STEPS, 0, got)) {
		TH_LOG("%s: %s", c->name, ionpu_last_error());
		ret = -EIO;
		goto out;
	}
	for (size_t k = 0; k < CONF_STEPS * n_out; k++) {
		spikes += want[k];
		if (!ret && got[k] != want[k]) {
			TH_LOG("%s: step %zu, neuron %zu: card %u, expected %u",
			       c->name, k / n_out, k % n_out, got[k], want[k]);
			ret = (long)(k / n_out) + 1;
		}
	}
	TH_LOG("%s: %zu spikes expected", c->name, spikes);
	EXPECT_EQ(c->fires, spikes > 0);
out:
	ionpu_unload(n);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	return ret;
}

#define CONFORMANCE(index, case_name)					\
	TEST_F(card, case_name)						\
	{								\
		ASSERT_STREQ(#case_name, conf_cases[index].name);	\
		ASSERT_EQ(0, run_case(_metadata, self->dev, &self->desc,	\
				      &conf_cases[index]));		\
	}

CONFORMANCE(0, lif)
CONFORMANCE(1, if)
CONFORMANCE(2, cubalif)
CONFORMANCE(3, li)
CONFORMANCE(4, two_layers)

TEST(every_case_has_a_test)
{
	ASSERT_EQ(5, CONF_CASES);
}

TEST_HARNESS_MAIN
