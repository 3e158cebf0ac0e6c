// SPDX-License-Identifier: GPL-2.0-only
/*
 * NIR round trips: a network written by ionpu_nir_save() and read back by
 * ionpu_nir_load() is the same network -- the same nodes and projections in
 * the same order, every parameter bit for bit.  Tested on every graph in
 * ../shared/nir/ (read, written, read again) and on networks generated from
 * a seed, whose node names sort in another order than they were added and
 * whose projections are added in no order of their targets.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
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

#include "network_equal.h"
#include "shared_nir.h"
#include "tmp_file.h"

#define GENERATED 60
#define MAX_NODES 8
#define MAX_PROJS 10
#define MAX_SIZE 6

/* Writes @net to @path, reads it back and checks it is the same network. */
static void assert_round_trip(const struct ionpu_network *net, const char *path)
{
	struct ionpu_network *back;

	if (ionpu_nir_save(net, path))
		fail_msg("save: %s", ionpu_last_error());
	if (ionpu_nir_load(path, &back))
		fail_msg("the library cannot read what it wrote: %s", ionpu_last_error());
	assert_same_network(net, back);
	ionpu_network_free(back);
}

static void test_shared_graphs(void **state)
{
	struct tmp *t = *state;
	char dir[512], path[1024];
	struct dirent *e;
	int graphs = 0;
	DIR *d;

	SHARED_GRAPH("", dir);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct ionpu_network *net;
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".nir"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (ionpu_nir_load(path, &net))
			fail_msg("%s: %s", e->d_name, ionpu_last_error());
		print_message("# %s: %zu nodes, %zu projections\n", e->d_name,
			      ionpu_network_node_count(net), ionpu_network_projection_count(net));
		assert_round_trip(net, t->path);
		ionpu_network_free(net);
		graphs++;
	}
	closedir(d);
	assert_true(graphs > 0);
}

/* --- generated networks ------------------------------------------------ */

/* xorshift64*: the same networks on every run and machine. */
static uint32_t rnd(uint64_t *s, uint32_t n)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

/* A value in [lo, hi) with all 53 bits of a double in use. */
static double rnd_value(uint64_t *s, double lo, double hi)
{
	uint64_t bits = ((uint64_t)rnd(s, 1u << 26) << 27) | rnd(s, 1u << 27);

	return lo + (hi - lo) * ((double)bits / (double)(1ull << 53));
}

static void fill(uint64_t *s, double *v, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = rnd_value(s, lo, hi);
}

struct plan_node {
	char name[16];
	enum ionpu_neuron_model model; /* 0: an input */
	uint32_t size;
	double bias[MAX_SIZE];
};

struct plan_proj {
	enum ionpu_projection_kind kind;
	uint32_t src, dst;
	uint32_t out_channels; /* a convolution's */
	bool delayed;
};

struct plan {
	struct plan_node node[MAX_NODES];
	struct plan_proj proj[MAX_PROJS];
	uint32_t n_nodes, n_projs;
};

/*
 * A 1-D convolution from @src onto @dst, if one fits: out_channels x ow
 * neurons from a src->size wide row, kernel src->size - ow + 1.
 */
static uint32_t conv_channels(const struct plan_node *src, const struct plan_node *dst)
{
	for (uint32_t oc = 1; oc <= dst->size; oc++)
		if (dst->size % oc == 0 && dst->size / oc <= src->size)
			return oc;
	return 0;
}

static struct ionpu_conv conv_of(const struct plan *P, const struct plan_proj *p,
				 const double *weight)
{
	uint32_t in = P->node[p->src].size, ow = P->node[p->dst].size / p->out_channels;

	return (struct ionpu_conv){
		.in_channels = 1, .in_height = 1, .in_width = in,
		.out_channels = p->out_channels, .kernel_h = 1, .kernel_w = in - ow + 1,
		.stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
		.groups = 1, .weight = weight,
	};
}

/*
 * Nodes with random names, sizes and models, the first an input and one a
 * population; projections between them in random order; biases only where
 * NIR can carry them (an Affine, or a convolution's bias per channel).
 */
static void plan_network(uint64_t *s, struct plan *P)
{
	static const enum ionpu_neuron_model models[] = {
		IONPU_NEURON_LIF, IONPU_NEURON_IF, IONPU_NEURON_LI, IONPU_NEURON_CUBA_LIF,
		IONPU_NEURON_THRESHOLD,
	};
	uint32_t pops[MAX_NODES], n_pops = 0;

	memset(P, 0, sizeof(*P));
	P->n_nodes = 2 + rnd(s, MAX_NODES - 1);
	for (uint32_t i = 0; i < P->n_nodes; i++) {
		struct plan_node *n = &P->node[i];

		snprintf(n->name, sizeof(n->name), "%c%c%u", 'a' + rnd(s, 26), 'a' + rnd(s, 26), i);
		n->size = 1 + rnd(s, MAX_SIZE);
		if (i == 0 || (i != P->n_nodes - 1 && rnd(s, 3) == 0))
			continue;
		n->model = models[rnd(s, sizeof(models) / sizeof(models[0]))];
		pops[n_pops++] = i;
	}
	P->n_projs = rnd(s, MAX_PROJS + 1);
	for (uint32_t k = 0; k < P->n_projs; k++) {
		struct plan_proj *p = &P->proj[k];

		p->src = rnd(s, P->n_nodes);
		p->dst = pops[rnd(s, n_pops)];
		p->kind = IONPU_PROJ_DENSE + rnd(s, 3);
		if (p->kind == IONPU_PROJ_CONV) {
			p->out_channels = conv_channels(&P->node[p->src], &P->node[p->dst]);
			if (!p->out_channels)
				p->kind = IONPU_PROJ_DENSE;
		}
		p->delayed = rnd(s, 3) == 0;
	}
	for (uint32_t i = 0; i < n_pops; i++) {
		struct plan_node *n = &P->node[pops[i]];
		bool matrix = false, conv = false;

		for (uint32_t k = 0; k < P->n_projs; k++) {
			matrix |= P->proj[k].dst == pops[i] && P->proj[k].kind != IONPU_PROJ_CONV;
			conv |= P->proj[k].dst == pops[i] && P->proj[k].kind == IONPU_PROJ_CONV;
		}
		if (n->model == IONPU_NEURON_THRESHOLD || rnd(s, 4) == 0)
			continue;
		if (matrix)
			fill(s, n->bias, n->size, -1, 1);
		else if (conv)
			for (uint32_t j = 0; j < n->size; j++)
				n->bias[j] = j ? n->bias[0] : rnd_value(s, -1, 1);
	}
}

static void add_population(uint64_t *s, struct ionpu_network *net, const struct plan_node *n)
{
	double tau[MAX_SIZE], tau2[MAX_SIZE], r[MAX_SIZE], leak[MAX_SIZE], thr[MAX_SIZE];
	double reset[MAX_SIZE], w_in[MAX_SIZE];
	struct ionpu_neuron_params p = { .bias = n->bias };
	bool resets = rnd(s, 2);

	fill(s, tau, n->size, 1e-3, 0.1);
	fill(s, tau2, n->size, 1e-3, 0.1);
	fill(s, r, n->size, 0.5, 2);
	fill(s, leak, n->size, -0.5, 0.5);
	fill(s, thr, n->size, 0.5, 2);
	fill(s, reset, n->size, -0.5, 0.5);
	fill(s, w_in, n->size, 0.5, 2);
	switch (n->model) {
	case IONPU_NEURON_LIF:
		p = (struct ionpu_neuron_params){ .tau = tau, .r = r, .v_leak = leak,
						  .v_threshold = thr, .bias = n->bias };
		break;
	case IONPU_NEURON_IF:
		/* Sometimes NIR's Integrator: an IF that never fires. */
		for (uint32_t i = 0; rnd(s, 3) == 0 && i < n->size; i++)
			thr[i] = INFINITY;
		p = (struct ionpu_neuron_params){ .r = r, .v_threshold = thr, .bias = n->bias };
		break;
	case IONPU_NEURON_LI:
		p = (struct ionpu_neuron_params){ .tau = tau, .r = r, .v_leak = leak,
						  .bias = n->bias };
		break;
	case IONPU_NEURON_CUBA_LIF:
		p = (struct ionpu_neuron_params){ .tau_syn = tau, .tau_mem = tau2, .r = r,
						  .v_leak = leak, .v_threshold = thr,
						  .w_in = rnd(s, 2) ? w_in : NULL,
						  .bias = n->bias };
		break;
	default:
		p = (struct ionpu_neuron_params){ .v_threshold = thr };
		break;
	}
	if (n->model != IONPU_NEURON_LI && n->model != IONPU_NEURON_THRESHOLD)
		p.v_reset = resets ? reset : NULL;
	if (ionpu_network_add_population(net, n->name, n->model, n->size, &p, NULL))
		fail_msg("population %s: %s", n->name, ionpu_last_error());
}

static void add_projection(uint64_t *s, struct ionpu_network *net, const struct plan *P,
			   const struct plan_proj *p)
{
	uint32_t ns = P->node[p->src].size, nd = P->node[p->dst].size;
	double w[MAX_SIZE * MAX_SIZE], delay[MAX_SIZE];
	uint32_t pre[MAX_SIZE * MAX_SIZE], post[MAX_SIZE * MAX_SIZE];
	const double *d = p->delayed ? delay : NULL;
	struct ionpu_conv conv;
	size_t nnz = 0;
	int err;

	fill(s, w, (size_t)ns * nd, -2, 2);
	for (uint32_t i = 0; i < ns; i++)
		delay[i] = rnd(s, 2) ? rnd(s, 8) * 1e-3 : rnd_value(s, 0, 5e-3);
	switch (p->kind) {
	case IONPU_PROJ_SPARSE:
		for (uint32_t i = 0; i < ns; i++)
			for (uint32_t j = 0; j < nd; j++)
				if (nnz == 0 || rnd(s, 2)) {
					pre[nnz] = i;
					post[nnz++] = j;
				}
		err = ionpu_network_add_sparse(net, p->src, p->dst, nnz, pre, post, w, d, NULL);
		break;
	case IONPU_PROJ_CONV:
		conv = conv_of(P, p, w);
		err = ionpu_network_add_conv(net, p->src, p->dst, &conv, d, NULL);
		break;
	default:
		err = ionpu_network_add_dense(net, p->src, p->dst, w, d, NULL);
		break;
	}
	if (err)
		fail_msg("projection %s to %s: %s", P->node[p->src].name, P->node[p->dst].name,
			 ionpu_last_error());
}

static struct ionpu_network *generate(uint64_t seed)
{
	struct ionpu_network *net;
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	struct plan P;
	bool output = false;

	plan_network(&s, &P);
	assert_int_equal(ionpu_network_create(&net), 0);
	for (uint32_t i = 0; i < P.n_nodes; i++) {
		if (!P.node[i].model) {
			assert_int_equal(ionpu_network_add_input(net, P.node[i].name,
								 P.node[i].size, NULL),
					 0);
			continue;
		}
		add_population(&s, net, &P.node[i]);
	}
	for (uint32_t k = 0; k < P.n_projs; k++)
		add_projection(&s, net, &P, &P.proj[k]);
	for (uint32_t i = P.n_nodes; i-- > 0;)
		if (P.node[i].model && (!output || rnd(&s, 2))) {
			assert_int_equal(ionpu_network_mark_output(net, i), 0);
			output = true;
		}
	return net;
}

static void test_generated(void **state)
{
	struct tmp *t = *state;

	for (uint64_t seed = 1; seed <= GENERATED; seed++) {
		struct ionpu_network *net = generate(seed);

		print_message("# seed %llu: %zu nodes, %zu projections\n",
			      (unsigned long long)seed, ionpu_network_node_count(net),
			      ionpu_network_projection_count(net));
		assert_round_trip(net, t->path);
		ionpu_network_free(net);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_graphs, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_generated, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
