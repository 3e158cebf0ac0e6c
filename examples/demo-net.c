// SPDX-License-Identifier: GPL-2.0-only
/*
 * demo-net: build a small spiking network with libionpu's builder API and
 * write it as a NIR graph, with an input raster to run it on:
 *
 *   in(32) -> hidden(64 LIF, recurrent, delays 0..3 steps) -> out(10 LIF)
 *
 * Usage: demo-net GRAPH.nir INPUT.npy [STEPS]
 * The weights and the raster come from a fixed seed: the same files on
 * every machine.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include <ionpu/ionpu.h>

#define N_IN 32
#define N_HID 64
#define N_OUT 10
#define DT 1e-3

static double uniform(unsigned long long *s, double lo, double hi)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return lo + (hi - lo) * (double)(*s >> 11) / 9007199254740992.0;
}

static int add_lif(struct ionpu_network *net, const char *name, uint32_t size,
		   double tau, uint32_t *id)
{
	double p[4][N_HID];
	struct ionpu_neuron_params lif = {
		.tau = p[0],
		.r = p[1],
		.v_leak = p[2],
		.v_threshold = p[3],
	};

	for (uint32_t i = 0; i < size; i++) {
		p[0][i] = tau;
		p[1][i] = 1;
		p[2][i] = 0;
		p[3][i] = 1;
	}
	return ionpu_network_add_population(net, name, IONPU_NEURON_LIF, size,
					    &lif, id);
}

/* The weights and recurrent delays, drawn from the fixed seed. */
struct demo_weights {
	double in[N_HID * N_IN];
	double rec[N_HID * N_HID];
	double out[N_OUT * N_HID];
	double rec_delay[N_HID];
};

static void draw_weights(unsigned long long *seed, struct demo_weights *w)
{
	for (size_t k = 0; k < N_HID * N_IN; k++)
		w->in[k] = uniform(seed, -0.3, 0.9);
	for (size_t k = 0; k < N_HID * N_HID; k++)
		w->rec[k] = uniform(seed, -0.25, 0.2);
	for (size_t k = 0; k < N_OUT * N_HID; k++)
		w->out[k] = uniform(seed, -0.1, 0.8);
	for (size_t k = 0; k < N_HID; k++)
		w->rec_delay[k] = (double)(k % 4) * DT;
}

static int build(struct ionpu_network *net, const struct demo_weights *w)
{
	uint32_t in, hid, out;
	int err;

	err = ionpu_network_add_input(net, "in", N_IN, &in);
	if (err)
		return err;
	err = add_lif(net, "hidden", N_HID, 0.01, &hid);
	if (err)
		return err;
	err = add_lif(net, "out", N_OUT, 0.02, &out);
	if (err)
		return err;
	err = ionpu_network_add_dense(net, in, hid, w->in, NULL, NULL);
	if (err)
		return err;
	err = ionpu_network_add_dense(net, hid, hid, w->rec, w->rec_delay,
				      NULL);
	if (err)
		return err;
	err = ionpu_network_add_dense(net, hid, out, w->out, NULL, NULL);
	if (err)
		return err;
	return ionpu_network_mark_output(net, out);
}

int main(int argc, char **argv)
{
	static struct demo_weights w;
	unsigned long long seed = 2026;
	struct ionpu_network *net = NULL;
	size_t steps = argc > 3 ? strtoul(argv[3], NULL, 10) : 500;
	float *raster;
	int err;

	if (argc < 3 || argc > 4 || !steps) {
		fprintf(stderr, "usage: %s GRAPH.nir INPUT.npy [STEPS]\n",
			argv[0]);
		return 2;
	}
	draw_weights(&seed, &w);
	raster = malloc(steps * N_IN * sizeof(*raster));
	if (!raster)
		return 1;
	for (size_t k = 0; k < steps * N_IN; k++)
		raster[k] = uniform(&seed, 0, 1) < 0.15;

	err = ionpu_network_create(&net);
	if (err)
		goto out;
	err = build(net, &w);
	if (err)
		goto out;
	err = ionpu_nir_save(net, argv[1]);
	if (err)
		goto out;
	err = ionpu_npy_write(argv[2], IONPU_NPY_F32, raster, steps, N_IN);
out:
	if (err)
		fprintf(stderr, "demo-net: %s\n", ionpu_last_error());
	ionpu_network_free(net);
	free(raster);
	return err ? 1 : 0;
}
