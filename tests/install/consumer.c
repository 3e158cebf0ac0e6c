// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program built against an installed libionpu with nothing but
 * `pkg-config ionpu`: it touches every part the static archive pulls in
 * (NIR through libhdf5, the compiler, the host reference on the model
 * core) so that a dependency missing from ionpu.pc fails its link.
 *
 * Usage: consumer SCRATCH.nir; prints the library version, exits 0 when an
 * input spike through a saved and reloaded network comes out on time.
 */
#include <stdio.h>
#include <string.h>

#include <ionpu/ionpu.h>
#include <linux/ionpu.h>

#define DT	1e-3
#define STEPS	4

static int fail(const char *what, int ret)
{
	fprintf(stderr, "consumer: %s: %d (%s)\n", what, ret, ionpu_last_error());
	return 1;
}

/* in -> one IF neuron that fires on every input spike (weight 2 > threshold 1). */
static int build(const char *path)
{
	const double r = 1 / DT, threshold = 1, w = 2;
	const struct ionpu_neuron_params p = { .r = &r, .v_threshold = &threshold };
	struct ionpu_network *net;
	uint32_t in, pop;
	int ret;

	ret = ionpu_network_create(&net);
	if (ret)
		return fail("network", ret);
	ret = ionpu_network_add_input(net, "in", 1, &in);
	if (!ret)
		ret = ionpu_network_add_population(net, "if", IONPU_NEURON_IF, 1, &p, &pop);
	if (!ret)
		ret = ionpu_network_add_dense(net, in, pop, &w, NULL, NULL);
	if (!ret)
		ret = ionpu_network_mark_output(net, pop);
	if (!ret)
		ret = ionpu_nir_save(net, path);
	ionpu_network_free(net);
	return ret ? fail("build and save", ret) : 0;
}

static int run(const char *path)
{
	const float in[STEPS] = { 1, 0, 0, 1 };
	struct ionpu_network *net = NULL;
	struct ionpu_plan *plan = NULL;
	struct ionpu_host *host = NULL;
	struct ionpu_card_desc card;
	uint8_t out[STEPS];
	int ret;

	ret = ionpu_nir_load(path, &net);
	if (ret)
		return fail("load", ret);
	ionpu_card_desc_default(1, &card);
	ret = ionpu_compile(net, &card, &plan);
	if (!ret)
		ret = ionpu_host_new(net, plan, &host);
	if (!ret)
		ret = ionpu_host_run(host, in, STEPS, out);
	ionpu_host_free(host);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
	if (ret)
		return fail("compile and run", ret);
	for (size_t t = 0; t < STEPS; t++) {
		if (out[t] != (in[t] != 0)) {
			fprintf(stderr, "consumer: step %zu: spike %u, expected %u\n", t,
				out[t], in[t] != 0);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: consumer SCRATCH.nir\n");
		return 2;
	}
	/* The UAPI header installed beside it is usable too. */
	printf("%s uapi %lu\n", ionpu_version(), (unsigned long)IONPU_IOC_INFO);
	return build(argv[1]) || run(argv[1]);
}
