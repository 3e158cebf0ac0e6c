// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu's host reference: networks whose spikes follow from a closed
 * form or from a direct simulation here, in doubles, of the discretisation
 * docs/physics.md gives (forward Euler, one step per hop between
 * populations), and the graphs real tools exported, in ../shared/nir/.
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

#include <cmocka.h>

#include <ionpu/ionpu.h>

#include "ionpu_internal.h"
#include "shared_nir.h"

#define DT 1e-3

static uint32_t add_input(struct ionpu_network *net, const char *name, uint32_t size)
{
	uint32_t id;

	assert_int_equal(ionpu_network_add_input(net, name, size, &id), 0);
	return id;
}

/* @size neurons of @model, every parameter @model reads set from @v. */
struct pop_values {
	double tau, r, v_leak, v_threshold, bias;
};

static uint32_t add_pop(struct ionpu_network *net, const char *name, enum ionpu_neuron_model model,
			uint32_t size, const struct pop_values *pv)
{
	double *a = malloc(5 * size * sizeof(*a));
	struct ionpu_neuron_params p = { 0 };
	uint32_t id;

	assert_non_null(a);
	for (uint32_t i = 0; i < size; i++) {
		a[i] = pv->tau;
		a[size + i] = pv->r;
		a[2 * size + i] = pv->v_leak;
		a[3 * size + i] = pv->v_threshold;
		a[4 * size + i] = pv->bias;
	}
	if (model != IONPU_NEURON_LI)
		p.v_threshold = a + 3 * size;
	p.bias = a + 4 * size;
	if (model != IONPU_NEURON_THRESHOLD)
		p.r = a + size;
	if (model == IONPU_NEURON_LIF || model == IONPU_NEURON_LI) {
		p.tau = a;
		p.v_leak = a + 2 * size;
	}
	assert_int_equal(ionpu_network_add_population(net, name, model, size, &p, &id), 0);
	free(a);
	return id;
}

static struct ionpu_plan *compile_at(const struct ionpu_network *net, double dt)
{
	struct ionpu_card_desc card;
	struct ionpu_plan *plan = NULL;

	ionpu_card_desc_default(16, &card);
	card.dt = dt;
	if (ionpu_compile(net, &card, &plan))
		fail_msg("compile: %s", ionpu_last_error());
	return plan;
}

static struct ionpu_plan *compile_ok(const struct ionpu_network *net)
{
	return compile_at(net, DT);
}

/* Compile, load and run @steps of @in; the output raster, malloc'ed. */
static uint8_t *run(const struct ionpu_network *net, const float *in, size_t steps,
		    size_t n_in, size_t n_out)
{
	struct ionpu_plan *plan = compile_ok(net);
	struct ionpu_host *h = NULL;
	uint8_t *out = malloc(steps * n_out);

	assert_non_null(out);
	if (ionpu_host_new(net, plan, &h))
		fail_msg("host: %s", ionpu_last_error());
	ionpu_plan_free(plan);
	assert_int_equal(ionpu_host_inputs(h), n_in);
	assert_int_equal(ionpu_host_outputs(h), n_out);
	assert_int_equal(ionpu_host_run(h, in, steps, out), 0);
	ionpu_host_free(h);
	return out;
}

#define CONST_STEPS 100

/*
 * One neuron of @model through weight @w, an input spike every step for
 * CONST_STEPS steps; checks its spikes are the steps t with (t + 1) % @n
 * == 0, none for @n 0.
 */
/* One neuron of @model behind an input of weight @w, its spikes out. */
static struct ionpu_network *one_neuron(enum ionpu_neuron_model model,
					const struct pop_values *pv, double w)
{
	struct ionpu_network *net;
	uint32_t in, pop;

	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	pop = add_pop(net, "pop", model, 1, pv);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, &w, NULL, NULL),
			 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	return net;
}

static void check_constant_input(enum ionpu_neuron_model model,
				 const struct pop_values *pv, double w,
				 unsigned int n)
{
	struct ionpu_network *net = one_neuron(model, pv, w);
	float raster[CONST_STEPS];
	uint8_t *out;

	for (size_t t = 0; t < CONST_STEPS; t++)
		raster[t] = 1;
	out = run(net, raster, CONST_STEPS, 1, 1);
	for (size_t t = 0; t < CONST_STEPS; t++)
		assert_int_equal(out[t], n && (t + 1) % n == 0);
	free(out);
	ionpu_network_free(net);
}

/*
 * One LIF neuron, weight w, a spike every step: from v = 0 the first spike
 * ends update n = ceil(ln(1 - v_th / (r w)) / ln(1 - dt / tau)), then the
 * reset to 0 repeats it: spikes in steps n - 1, 2n - 1, ...
 */
static void test_lif_closed_form(void **state)
{
	const struct pop_values pv = { .tau = 0.01, .r = 1, .v_threshold = 1 };
	const double w = 1.5;
	unsigned int n = (unsigned int)ceil(log(1 - pv.v_threshold / (pv.r * w)) /
					    log(1 - DT / pv.tau));

	(void)state;
	assert_int_equal(n, 11);
	check_constant_input(IONPU_NEURON_LIF, &pv, w, n);
}

/*
 * One IF neuron, weight w, a spike every step: v(n) = n dt r w, so the
 * first spike ends update n = floor(v_th / (dt r w)) + 1 (v_th / (dt r w)
 * not whole), and the reset to 0 repeats it.
 */
static void test_if_closed_form(void **state)
{
	const struct pop_values pv = { .r = 100, .v_threshold = 1 };
	const double w = 1.5;
	unsigned int n = (unsigned int)floor(pv.v_threshold /
					     (DT * pv.r * w)) + 1;

	(void)state;
	assert_int_equal(n, 7);
	check_constant_input(IONPU_NEURON_IF, &pv, w, n);
}

/*
 * One CubaLIF neuron (tau_syn 5 ms, tau_mem 10 ms, r = w_in = 1, threshold
 * 1) and one input spike of weight w in step 0: i(1) = (dt / tau_syn) w and
 * v(n) = (dt / tau_mem) i(1) (p^(n-1) - q^(n-1)) / (p - q), p = 0.9,
 * q = 0.8 (docs/physics.md), at most 0.0538 w (n = 7).  So w = 15 never
 * fires; w = 25 fires once, in the step of the first n with v(n) > 1 (n = 4);
 * after the reset the current left, i(1) q^3, lifts v to at most
 * 0.0538 q^3 w = 0.69, below threshold again.
 */
static void test_cuba_closed_form(void **state)
{
	static const double weights[] = { 15, 25 };
	double tau_syn = 0.005, tau_mem = 0.01, r = 1, v_leak = 0, v_th = 1;
	const struct ionpu_neuron_params p = {
		.tau_syn = &tau_syn, .tau_mem = &tau_mem, .r = &r,
		.v_leak = &v_leak, .v_threshold = &v_th,
	};
	const double a = DT / tau_mem, pm = 1 - a, q = 1 - DT / tau_syn;
	float raster[40] = { [0] = 1 };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		const double i1 = DT / tau_syn * weights[k];
		struct ionpu_network *net;
		uint32_t in, pop;
		size_t first = SIZE_MAX;
		uint8_t *out;

		for (unsigned int n = 1; n <= 40 && first == SIZE_MAX; n++) {
			double v = a * r * i1 *
				   (pow(pm, n - 1) - pow(q, n - 1)) / (pm - q);

			/* Far from threshold: float rounding cannot matter. */
			assert_true(fabs(v - v_th) > 0.05);
			if (v > v_th)
				first = n - 1;
		}
		assert_int_equal(first, k ? 3 : SIZE_MAX);
		assert_int_equal(ionpu_network_create(&net), 0);
		in = add_input(net, "in", 1);
		assert_int_equal(ionpu_network_add_population(net, "cuba",
					IONPU_NEURON_CUBA_LIF, 1, &p, &pop), 0);
		assert_int_equal(ionpu_network_add_dense(net, in, pop,
							 &weights[k], NULL,
							 NULL), 0);
		assert_int_equal(ionpu_network_mark_output(net, pop), 0);
		out = run(net, raster, 40, 1, 1);
		for (size_t t = 0; t < 40; t++)
			assert_int_equal(out[t], t == first);
		free(out);
		ionpu_network_free(net);
	}
}

/* An LI neuron never fires, however strong its input. */
static void test_li_never_fires(void **state)
{
	const struct pop_values pv = { .tau = 0.01, .r = 1 };

	(void)state;
	check_constant_input(IONPU_NEURON_LI, &pv, 100, 0);
}

/*
 * IF neurons with r = 1 / dt fire on any input of weight 2 > threshold 1,
 * so spike times show the timing alone: in -> a (step t) -> b with a delay
 * of 2 steps (step t + 1 + 2).
 */
static void test_two_layers_delay(void **state)
{
	const struct pop_values pv = { .r = 1 / DT, .v_threshold = 1 };
	const double w = 2, delay = 2 * DT;
	float raster[20] = { [0] = 1, [9] = 1 };
	struct ionpu_network *net;
	uint32_t in, a, b;
	uint8_t *out;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	a = add_pop(net, "a", IONPU_NEURON_IF, 1, &pv);
	b = add_pop(net, "b", IONPU_NEURON_IF, 1, &pv);
	assert_int_equal(ionpu_network_add_dense(net, in, a, &w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, a, b, &w, &delay, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, a), 0);
	assert_int_equal(ionpu_network_mark_output(net, b), 0);
	out = run(net, raster, 20, 1, 2);
	for (size_t t = 0; t < 20; t++) {
		assert_int_equal(out[2 * t], t == 0 || t == 9);
		assert_int_equal(out[2 * t + 1], t == 3 || t == 12);
	}
	free(out);
	ionpu_network_free(net);
}

/* A neuron exciting itself through a delay of 2: spikes every 3 steps. */
static void test_recurrence(void **state)
{
	const struct pop_values pv = { .r = 1 / DT, .v_threshold = 1 };
	const double w = 2, delay = 2 * DT;
	float raster[30] = { [0] = 1 };
	struct ionpu_network *net;
	uint32_t in, a;
	uint8_t *out;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	a = add_pop(net, "a", IONPU_NEURON_IF, 1, &pv);
	assert_int_equal(ionpu_network_add_dense(net, in, a, &w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, a, a, &w, &delay, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, a), 0);
	out = run(net, raster, 30, 1, 1);
	for (size_t t = 0; t < 30; t++)
		assert_int_equal(out[t], t % 3 == 0);
	free(out);
	ionpu_network_free(net);
}

/* A Threshold neuron with a bias: spikes where bias + input > threshold. */
static void test_threshold_graded(void **state)
{
	const struct pop_values pv = { .v_threshold = 0.5, .bias = 0.25 };
	const float raster[6] = { 0.1f, 0.3f, 0.2f, 0, 0.9f, -1 };
	const double w = 1;
	struct ionpu_network *net;
	uint32_t in, th;
	uint8_t *out;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	th = add_pop(net, "th", IONPU_NEURON_THRESHOLD, 1, &pv);
	assert_int_equal(ionpu_network_add_dense(net, in, th, &w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, th), 0);
	out = run(net, raster, 6, 1, 1);
	for (size_t t = 0; t < 6; t++)
		assert_int_equal(out[t], raster[t] + 0.25 > 0.5);
	free(out);
	ionpu_network_free(net);
}

/* A small deterministic generator, so the rasters are the same every run. */
static uint32_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

#define WIDE 300
#define WIDE_STEPS 40

/*
 * in(300) -> LIF(300), recurrent LIF(300) -> LIF(300) with a delay of 1:
 * fan-in and width over 256 make chains.  Weights are whole multiples of
 * one level (the largest is the card's top level) so quantizing them changes nothing,
 * and the spikes must match a direct simulation.
 */
static void test_wide_chains(void **state)
{
	const struct pop_values pv = { .tau = 0.005, .r = 1, .v_threshold = 1, .v_leak = 0.05 };
	const double q = 0.01, delay = DT;
	struct ionpu_card_desc card;
	double *w_in = malloc(WIDE * WIDE * sizeof(double));
	double *w_rec = malloc(WIDE * WIDE * sizeof(double));
	double *v = calloc(WIDE, sizeof(double)), *acc = calloc(WIDE, sizeof(double));
	double *delays = malloc(WIDE * sizeof(double));
	float *raster = malloc(WIDE_STEPS * WIDE * sizeof(float));
	uint8_t *expect = calloc(WIDE_STEPS + 2, WIDE), *out;
	struct ionpu_plan_stats st;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	uint64_t seed = 42;
	uint32_t in, pop;
	size_t spikes = 0;

	(void)state;
	assert_true(w_in && w_rec && v && acc && delays && raster && expect);
	for (size_t k = 0; k < WIDE * WIDE; k++) {
		w_in[k] = ((int)(next_rand(&seed) % 21) - 8) * q;
		w_rec[k] = ((int)(next_rand(&seed) % 9) - 5) * q;
	}
	/* Each group of 256 neurons has a chain, a scale, and the card's levels in it. */
	ionpu_card_desc_default(16, &card);
	w_in[0] = (card.g_levels - 1) * q;
	w_in[256 * WIDE] = (card.g_levels - 1) * q;
	for (size_t k = 0; k < WIDE; k++)
		delays[k] = delay;
	for (size_t k = 0; k < WIDE_STEPS * WIDE; k++)
		raster[k] = next_rand(&seed) % 4 == 0;

	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", WIDE);
	pop = add_pop(net, "lif", IONPU_NEURON_LIF, WIDE, &pv);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, w_in, NULL, NULL), 0);
	assert_int_equal(ionpu_network_add_dense(net, pop, pop, w_rec, delays, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	plan = compile_ok(net);
	ionpu_plan_stats(plan, &st);
	assert_true(st.chain_groups >= 2);
	ionpu_plan_free(plan);

	/* Input of step t lands in t; a spike of t in t + 1 + 1. */
	for (size_t t = 0; t < WIDE_STEPS; t++) {
		for (size_t j = 0; j < WIDE; j++) {
			double I = 0;

			for (size_t i = 0; i < WIDE; i++) {
				I += raster[t * WIDE + i] * w_in[j * WIDE + i];
				if (t >= 2 && expect[(t - 2) * WIDE + i])
					I += w_rec[j * WIDE + i];
			}
			acc[j] = I;
		}
		for (size_t j = 0; j < WIDE; j++) {
			v[j] += DT / pv.tau * ((pv.v_leak - v[j]) + pv.r * acc[j]);
			if (v[j] > pv.v_threshold) {
				expect[t * WIDE + j] = 1;
				v[j] = 0;
				spikes++;
			}
		}
	}
	assert_true(spikes > 100 && spikes < WIDE_STEPS * WIDE / 2);
	out = run(net, raster, WIDE_STEPS, WIDE, WIDE);
	assert_memory_equal(out, expect, WIDE_STEPS * WIDE);
	free(out);
	ionpu_network_free(net);
	free(w_in);
	free(w_rec);
	free(v);
	free(acc);
	free(delays);
	free(raster);
	free(expect);
}

#define REAL_STEPS 200

/*
 * A real graph, in steps of @dt, on a fixed random raster: runs, and runs the
 * same twice.
 */
static void run_real(const char *name, double dt)
{
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_host *h1, *h2;
	uint8_t *o1, *o2, *o3;
	float *raster;
	uint64_t seed = 7;
	char path[4096];
	size_t n_in, n_out;

	SHARED_GRAPH(name, path);
	assert_int_equal(ionpu_nir_load(path, &net), 0);
	plan = compile_at(net, dt);
	if (ionpu_host_new(net, plan, &h1) || ionpu_host_new(net, plan, &h2))
		fail_msg("host: %s", ionpu_last_error());
	n_in = ionpu_host_inputs(h1);
	n_out = ionpu_host_outputs(h1);
	assert_true(n_in > 0 && n_out > 0);
	raster = malloc(REAL_STEPS * n_in * sizeof(*raster));
	o1 = malloc(REAL_STEPS * n_out);
	o2 = malloc(REAL_STEPS * n_out);
	o3 = malloc(REAL_STEPS * n_out);
	assert_true(raster && o1 && o2 && o3);
	for (size_t k = 0; k < REAL_STEPS * n_in; k++)
		raster[k] = next_rand(&seed) % 3 == 0;
	assert_int_equal(ionpu_host_run(h1, raster, REAL_STEPS, o1), 0);
	assert_int_equal(ionpu_host_run(h2, raster, REAL_STEPS, o2), 0);
	assert_memory_equal(o1, o2, REAL_STEPS * n_out);
	ionpu_host_reset(h1);
	assert_int_equal(ionpu_host_run(h1, raster, REAL_STEPS, o3), 0);
	assert_memory_equal(o1, o3, REAL_STEPS * n_out);
	for (size_t k = 0; k < REAL_STEPS * n_out; k++)
		assert_true(o1[k] <= 1);
	free(raster);
	free(o1);
	free(o2);
	free(o3);
	ionpu_host_free(h1);
	ionpu_host_free(h2);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

static void test_two_lif_neurons(void **state)
{
	(void)state;
	run_real("two_lif_neurons.nir", DT);
}

static void test_lif_rockpool(void **state)
{
	(void)state;
	run_real("lif_rockpool.nir", DT);
}

static void test_braille(void **state)
{
	(void)state;
	/* Its tau_syn of 0.22 ms wants steps shorter than that: 0.1 ms. */
	run_real("braille_noDelay_bias_zero_subgraph.nir", 1e-4);
}

/* What the host refuses, and that a refused run leaves nothing behind. */
static void test_errors(void **state)
{
	const struct pop_values pv = { .r = 1, .v_threshold = 1, .bias = 0.5 };
	const struct pop_values lif = { .tau = 0.01, .r = 1, .v_threshold = 1 };
	const double w = 1, w3[3] = { 1, 2, 3 };
	struct ionpu_network *net, *other;
	struct ionpu_plan_stats stats;
	struct ionpu_plan *plan;
	struct ionpu_host *h = NULL;
	float bad[2] = { 1, NAN };
	uint8_t out[2];
	uint32_t in, pop;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	pop = add_pop(net, "if", IONPU_NEURON_IF, 1, &pv);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, &w, NULL, NULL),
			 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	plan = compile_ok(net);
	assert_int_equal(ionpu_host_new(net, plan, &h), -EOPNOTSUPP);
	assert_null(h);
	assert_int_equal(ionpu_host_new(NULL, plan, &h), -EINVAL);

	assert_int_equal(ionpu_network_create(&other), 0);
	add_input(other, "x", 1);
	assert_int_equal(ionpu_host_new(other, plan, &h), -EINVAL);
	ionpu_plan_free(plan);
	ionpu_network_free(other);
	ionpu_network_free(net);

	/* An IF and an LIF population: a tile runs one model, so two tiles. */
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	pop = add_pop(net, "lif", IONPU_NEURON_LIF, 1, &lif);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, &w, NULL, NULL), 0);
	pop = add_pop(net, "if", IONPU_NEURON_IF, 1, &lif);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, &w, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	plan = compile_ok(net);
	ionpu_plan_stats(plan, &stats);
	assert_int_equal(stats.tiles, 2);
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	ionpu_network_free(net);

	/* Same names, fewer neurons than the plan places. */
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	pop = add_pop(net, "lif", IONPU_NEURON_LIF, 3, &lif);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, w3, NULL, NULL), 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	plan = compile_ok(net);
	assert_int_equal(ionpu_network_create(&other), 0);
	add_input(other, "in", 1);
	add_pop(other, "lif", IONPU_NEURON_LIF, 2, &lif);
	assert_int_equal(ionpu_host_new(other, plan, &h), -EINVAL);
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	ionpu_network_free(other);
	ionpu_network_free(net);

	net = one_neuron(IONPU_NEURON_THRESHOLD, &pv, w);
	plan = compile_ok(net);
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);
	assert_int_equal(ionpu_host_run(h, bad, 2, out), -EINVAL);
	assert_int_equal(ionpu_host_run(h, NULL, 2, out), -EINVAL);
	assert_int_equal(ionpu_host_run(h, bad, 0, NULL), 0);
	assert_int_equal(ionpu_host_run(h, bad, 1, out), 0);
	assert_int_equal(out[0], 1);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

/* A network whose spikes reach no one would run and return nothing: refused. */
static void test_no_output(void **state)
{
	const struct pop_values pv = { .r = 1, .v_threshold = 1 };
	const double w = 1;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_host *h = NULL;
	uint32_t in, pop;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	in = add_input(net, "in", 1);
	pop = add_pop(net, "hidden", IONPU_NEURON_IF, 1, &pv);
	assert_int_equal(ionpu_network_add_dense(net, in, pop, &w, NULL, NULL), 0);
	plan = compile_ok(net);
	assert_int_equal(ionpu_host_new(net, plan, &h), -EINVAL);
	assert_null(h);
	assert_non_null(strstr(ionpu_last_error(), "no output"));
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

/*
 * The card adds an input's value to a row in float, where beyond 2^24 a
 * spike on the same row is lost: a larger magnitude is refused, naming the
 * step, the channel and, in a batch, the sample; the bounds themselves run.
 */
static void test_input_range(void **state)
{
	const struct pop_values pv = { .r = 1, .v_threshold = 1 };
	const double w = 1;
	float in[2 * 2] = { 1, 0, 0, -3e38f };
	uint8_t out[3 * 2];
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_host *h;
	uint32_t src, pop;

	(void)state;
	assert_int_equal(ionpu_network_create(&net), 0);
	src = add_input(net, "in", 2);
	pop = add_pop(net, "out", IONPU_NEURON_IF, 1, &pv);
	assert_int_equal(ionpu_network_add_dense(net, src, pop, (const double[]){ w, w }, NULL,
						 NULL),
			 0);
	assert_int_equal(ionpu_network_mark_output(net, pop), 0);
	plan = compile_ok(net);
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);

	assert_int_equal(ionpu_host_run(h, in, 2, out), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "step 1"));
	assert_non_null(strstr(ionpu_last_error(), "channel 1"));
	assert_non_null(strstr(ionpu_last_error(), "-3e+38"));
	in[3] = nextafterf(IONPU_INPUT_MAX, INFINITY);
	assert_int_equal(ionpu_host_run(h, in, 2, out), -EINVAL);
	assert_int_equal(ionpu_host_run_batch(h, in, 2, 1, out), -EINVAL);
	assert_non_null(strstr(ionpu_last_error(), "sample 1"));

	in[3] = -IONPU_INPUT_MAX;
	assert_int_equal(ionpu_host_run(h, in, 2, out), 0);
	in[3] = IONPU_INPUT_MAX;
	assert_int_equal(ionpu_host_run(h, in, 2, out), 0);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

/*
 * A batch runs each sample from rest: the same outputs as a fresh session
 * per sample, though LIF state would otherwise carry over; the activity
 * counters count what ran.
 */
static void test_batch(void **state)
{
	const struct pop_values pv = { .tau = 0.01, .r = 1, .v_threshold = 1 };
	const double w = 2.55;
	enum { SAMPLES = 3, STEPS = 8 };
	float in[SAMPLES * STEPS];
	uint8_t got[SAMPLES * STEPS], want[SAMPLES * STEPS];
	struct ionpu_activity before, after;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_host *h = NULL;
	size_t events = 0;

	(void)state;
	for (size_t k = 0; k < SAMPLES * STEPS; k++) {
		in[k] = k % STEPS < 6 + k / STEPS;
		events += in[k] != 0;
	}
	net = one_neuron(IONPU_NEURON_LIF, &pv, w);
	plan = compile_ok(net);
	for (size_t s = 0; s < SAMPLES; s++) {
		assert_int_equal(ionpu_host_new(net, plan, &h), 0);
		assert_int_equal(ionpu_host_run(h, in + s * STEPS, STEPS, want + s * STEPS), 0);
		ionpu_host_free(h);
	}
	assert_int_equal(ionpu_host_new(net, plan, &h), 0);
	/* State left by a run must not reach the batch's first sample. */
	assert_int_equal(ionpu_host_run(h, in, STEPS, got), 0);
	ionpu_host_activity(h, &before);
	assert_int_equal(ionpu_host_run_batch(h, in, SAMPLES, STEPS, got), 0);
	ionpu_host_activity(h, &after);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(want[4] + want[STEPS + 4] + want[2 * STEPS + 4], 3);
	assert_int_equal(after.timesteps - before.timesteps, SAMPLES * STEPS);
	assert_int_equal(after.spikes_in - before.spikes_in, events);
	assert_true(after.energy_fj > before.energy_fj);
	assert_int_equal(ionpu_host_run_batch(h, NULL, SAMPLES, STEPS, got), -EINVAL);
	assert_int_equal(ionpu_host_run_batch(h, in, SIZE_MAX / 2, STEPS, got), -EOVERFLOW);
	assert_int_equal(ionpu_host_run_batch(h, in, 0, STEPS, got), 0);
	ionpu_host_free(h);
	ionpu_plan_free(plan);
	ionpu_network_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lif_closed_form),
		cmocka_unit_test(test_if_closed_form),
		cmocka_unit_test(test_cuba_closed_form),
		cmocka_unit_test(test_li_never_fires),
		cmocka_unit_test(test_two_layers_delay),
		cmocka_unit_test(test_recurrence),
		cmocka_unit_test(test_threshold_graded),
		cmocka_unit_test(test_wide_chains),
		cmocka_unit_test(test_two_lif_neurons),
		cmocka_unit_test(test_lif_rockpool),
		cmocka_unit_test(test_braille),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_no_output),
		cmocka_unit_test(test_input_range),
		cmocka_unit_test(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
