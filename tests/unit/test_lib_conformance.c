// SPDX-License-Identifier: GPL-2.0-only
/*
 * NIR conformance of the host reference: each case of
 * tests/common/ionpu_conformance.h, written to NIR, read back, compiled and
 * run in ideal mode, gives exactly the spikes the case's own simulation
 * expects.  The card's selftest (ionpu_conformance_test) runs the same
 * cases on the emulated card.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ionpu_conformance.h"

static void run_case(void **state)
{
	const struct conf_case *c = *state;
	uint32_t n_out = conf_outputs(c);
	float in[CONF_STEPS * CONF_MAX];
	uint8_t want[CONF_STEPS * CONF_MAX], got[CONF_STEPS * CONF_MAX];
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_card_desc card;
	size_t spikes = 0;
	double closest;

	conf_expect(c, want, &closest);
	if (closest < CONF_MARGIN)
		fail_msg("%s: a membrane ends %g from its threshold: the case is too close to call",
			 c->name, closest);
	conf_input(c, in);
	if (conf_build_nir(c, "/tmp", &net))
		fail_msg("%s: %s", c->name, ionpu_last_error());
	ionpu_card_desc_default(16, &card);
	if (ionpu_compile(net, &card, &plan) || ionpu_host_new(net, plan, &host))
		fail_msg("%s: %s", c->name, ionpu_last_error());
	assert_int_equal(ionpu_host_inputs(host), c->inputs);
	assert_int_equal(ionpu_host_outputs(host), n_out);
	assert_int_equal(ionpu_host_run(host, in, CONF_STEPS, got), 0);
	for (size_t k = 0; k < CONF_STEPS * n_out; k++) {
		if (got[k] != want[k])
			fail_msg("%s: step %zu, neuron %zu: host %u, expected %u", c->name,
				 k / n_out, k % n_out, got[k], want[k]);
		spikes += want[k];
	}
	print_message("# %s: %zu spikes, closest to threshold %g\n", c->name, spikes, closest);
	if (c->fires)
		assert_true(spikes > 0);
	else
		assert_int_equal(spikes, 0);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

int main(void)
{
	struct CMUnitTest tests[CONF_CASES];

	for (size_t k = 0; k < CONF_CASES; k++)
		tests[k] = (struct CMUnitTest){
			.name = conf_cases[k].name,
			.test_func = run_case,
			.initial_state = (void *)&conf_cases[k],
		};
	return _cmocka_run_group_tests("conformance", tests, CONF_CASES, NULL, NULL);
}
