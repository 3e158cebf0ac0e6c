/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NIR conformance cases, shared by the host reference's unit test and the
 * card's selftest: single LIF, IF, CubaLIF and LI neurons and a two-layer
 * network with inhibition, each written to a NIR file and read back.  Their
 * output spikes are computed here, independently of the library, by a
 * direct simulation in doubles of NIR's equations as docs/physics.md
 * discretises them (forward Euler from the previous step's values, one
 * step per hop between populations).
 *
 * The library computes in float, so a membrane that ends a step within
 * rounding of its threshold could fire on one side and not the other.
 * conf_expect() reports the closest any membrane came to its threshold,
 * and the tests demand CONF_MARGIN: a case that came too close is a bad
 * case, not a pass.  Weights are whole multiples of one conductance level
 * (the largest weight of a case is the top level, whichever tile the
 * compiler puts each layer in), so quantizing them changes nothing.
 */
#ifndef IONPU_CONFORMANCE_H
#define IONPU_CONFORMANCE_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#define CONF_DT		1e-3
#define CONF_STEPS	200
#define CONF_MAX	4	/* neurons or channels in one layer */
#define CONF_MARGIN	1e-3

/* One population's parameters, per neuron. */
struct conf_layer {
	enum ionpu_neuron_model model;
	uint32_t size;
	double tau[CONF_MAX];		/* LIF, LI; CubaLIF: tau_mem */
	double tau_syn[CONF_MAX];	/* CubaLIF */
	double r[CONF_MAX];
	double v_leak[CONF_MAX];
	double v_threshold[CONF_MAX];
	double v_reset[CONF_MAX];
	double w_in[CONF_MAX];		/* CubaLIF */
	double bias[CONF_MAX];
	/* Weights onto this layer: size x (previous layer's size), row-major. */
	double weight[CONF_MAX * CONF_MAX];
};

/*
 * A case: inputs that spike with a period and a phase each, one or two
 * layers, the last one's spikes out.
 */
struct conf_case {
	const char *name;
	uint32_t inputs;
	unsigned int period[CONF_MAX];
	unsigned int phase[CONF_MAX];
	uint32_t layers;
	struct conf_layer layer[2];
	/* The output layer fires at least once (LI never does). */
	int fires;
};

static const struct conf_case conf_cases[] = {
	{
		/* Per-neuron tau, leak, threshold, reset and bias. */
		.name = "lif", .inputs = 1, .period = { 1 }, .layers = 1,
		.layer = { {
			.model = IONPU_NEURON_LIF, .size = 4,
			.tau = { 0.01, 0.02, 0.005, 0.01 },
			.r = { 1, 1, 1, 1 },
			.v_leak = { 0, 0.2, 0, -0.1 },
			.v_threshold = { 1, 1, 0.5, 1 },
			.v_reset = { 0, 0.3, 0, -0.2 },
			.bias = { 0, 0, 0, 0.3 },
			.weight = { 2.55, 1.5, 0.9, 1.2 },
		} },
		.fires = 1,
	},
	{
		/* Excitation every step and every third, inhibition. */
		.name = "if", .inputs = 2, .period = { 1, 3 }, .phase = { 0, 1 },
		.layers = 1,
		.layer = { {
			.model = IONPU_NEURON_IF, .size = 2,
			.r = { 1 / CONF_DT, 1 / CONF_DT },
			.v_threshold = { 1, 1 },
			.v_reset = { 0, 0.1 },
			.weight = { 0.35, 0.53, -0.2, 2.55 },
		} },
		.fires = 1,
	},
	{
		/* The synaptic current filters sparse input. */
		.name = "cubalif", .inputs = 1, .period = { 4 }, .layers = 1,
		.layer = { {
			.model = IONPU_NEURON_CUBA_LIF, .size = 2,
			.tau = { 0.01, 0.02 },
			.tau_syn = { 0.005, 0.004 },
			.r = { 1, 1 },
			.v_threshold = { 1, 1.5 },
			.w_in = { 1, 1.5 },
			.weight = { 30, 12 },
		} },
		.fires = 1,
	},
	{
		/* Driven far above any threshold, a leaky integrator never fires. */
		.name = "li", .inputs = 1, .period = { 1 }, .layers = 1,
		.layer = { {
			.model = IONPU_NEURON_LI, .size = 1,
			.tau = { 0.01 }, .r = { 1 }, .v_threshold = { 1 },
			.weight = { 50 },
		} },
		.fires = 0,
	},
	{
		/* in(3) -> LIF(4) -> LIF(2), both layers excite and inhibit. */
		.name = "two_layers", .inputs = 3, .period = { 1, 2, 3 },
		.phase = { 0, 1, 0 }, .layers = 2,
		.layer = { {
			.model = IONPU_NEURON_LIF, .size = 4,
			.tau = { 0.01, 0.01, 0.02, 0.005 },
			.r = { 1, 1, 1, 1 },
			.v_threshold = { 1, 1, 1, 1 },
			.weight = { 2.0, 0.4, -0.3,
				    -0.5, 2.5, 1.5,
				    0.8, 0.8, 0.8,
				    2.5, -1.1, 0 },
		}, {
			.model = IONPU_NEURON_LIF, .size = 2,
			.tau = { 0.01, 0.02 },
			.r = { 1, 1 },
			.v_threshold = { 0.5, 0.85 },
			.weight = { 25.5, -7.0, 13.0, 9.0,
				    -15.0, 20.0, 4.0, 11.0 },
		} },
		.fires = 1,
	},
};

#define CONF_CASES (sizeof(conf_cases) / sizeof(conf_cases[0]))

static inline uint32_t conf_outputs(const struct conf_case *c)
{
	return c->layer[c->layers - 1].size;
}

/* The input raster: CONF_STEPS x c->inputs, spikes as 1. */
static inline void conf_input(const struct conf_case *c, float *in)
{
	for (size_t t = 0; t < CONF_STEPS; t++)
		for (uint32_t k = 0; k < c->inputs; k++)
			in[t * c->inputs + k] =
				(t + c->phase[k]) % c->period[k] == 0;
}

/* State of one layer in the simulation. */
struct conf_state {
	double v[CONF_MAX];
	double i[CONF_MAX];
	uint8_t spike[CONF_MAX];
};

/*
 * One step of a layer given its input spikes @x (of @n_x channels): the
 * docs' update, from the previous step's v and i.  Returns the closest a
 * firing neuron's membrane came to its threshold.
 */
static inline double conf_step(const struct conf_layer *l,
			       struct conf_state *s, const uint8_t *x,
			       uint32_t n_x)
{
	double closest = INFINITY;

	for (uint32_t j = 0; j < l->size; j++) {
		double syn = 0, v = s->v[j], a;

		for (uint32_t k = 0; k < n_x; k++)
			syn += l->weight[j * n_x + k] * x[k];
		switch (l->model) {
		case IONPU_NEURON_IF:
			v += CONF_DT * l->r[j] * (syn + l->bias[j]);
			break;
		case IONPU_NEURON_CUBA_LIF:
			/* v from the current before this step's input. */
			a = CONF_DT / l->tau[j];
			v += a * ((l->v_leak[j] - v) +
				  l->r[j] * (s->i[j] + l->bias[j]));
			s->i[j] += CONF_DT / l->tau_syn[j] *
				   (l->w_in[j] * syn - s->i[j]);
			break;
		default:
			a = CONF_DT / l->tau[j];
			v += a * ((l->v_leak[j] - v) +
				  l->r[j] * (syn + l->bias[j]));
			break;
		}
		s->spike[j] = l->model != IONPU_NEURON_LI &&
			      v > l->v_threshold[j];
		if (l->model != IONPU_NEURON_LI &&
		    fabs(v - l->v_threshold[j]) < closest)
			closest = fabs(v - l->v_threshold[j]);
		s->v[j] = s->spike[j] ? l->v_reset[j] : v;
	}
	return closest;
}

/*
 * The expected output raster (CONF_STEPS x conf_outputs(c)), and in
 * *@closest how near any membrane came to its threshold.  A layer's
 * spikes reach the next layer one step later.
 */
static inline void conf_expect(const struct conf_case *c, uint8_t *out,
			       double *closest)
{
	struct conf_state s[2];
	uint8_t x[CONF_MAX], hidden[CONF_MAX] = { 0 };
	uint32_t n_out = conf_outputs(c);

	memset(s, 0, sizeof(s));
	*closest = INFINITY;
	for (size_t t = 0; t < CONF_STEPS; t++) {
		double d;

		for (uint32_t k = 0; k < c->inputs; k++)
			x[k] = (t + c->phase[k]) % c->period[k] == 0;
		d = conf_step(&c->layer[0], &s[0], x, c->inputs);
		*closest = fmin(*closest, d);
		if (c->layers == 2) {
			d = conf_step(&c->layer[1], &s[1], hidden,
				      c->layer[0].size);
			*closest = fmin(*closest, d);
			memcpy(hidden, s[0].spike, c->layer[0].size);
		}
		memcpy(out + t * n_out, s[c->layers - 1].spike, n_out);
	}
}

/* A layer's population, with only the parameters its model reads. */
static inline int conf_add_layer(struct ionpu_network *net, const char *name,
				 const struct conf_layer *l, uint32_t *id)
{
	struct ionpu_neuron_params p = {
		.r = l->r, .v_threshold = l->v_threshold,
		.v_reset = l->v_reset, .bias = l->bias,
	};

	switch (l->model) {
	case IONPU_NEURON_CUBA_LIF:
		p.tau_mem = l->tau;
		p.tau_syn = l->tau_syn;
		p.w_in = l->w_in;
		p.v_leak = l->v_leak;
		break;
	case IONPU_NEURON_LIF:
		p.tau = l->tau;
		p.v_leak = l->v_leak;
		break;
	case IONPU_NEURON_LI:
		p.tau = l->tau;
		p.v_leak = l->v_leak;
		p.v_threshold = NULL;
		p.v_reset = NULL;
		break;
	default:
		break;
	}
	return ionpu_network_add_population(net, name, l->model, l->size, &p,
					    id);
}

/* The case as a network built with the library's builder. */
static inline int conf_build(const struct conf_case *c,
			     struct ionpu_network **out)
{
	static const char *const names[] = { "hidden", "output" };
	struct ionpu_network *net = NULL;
	uint32_t prev, id;
	int err;

	err = ionpu_network_create(&net);
	if (err)
		return err;
	err = ionpu_network_add_input(net, "input", c->inputs, &prev);
	for (uint32_t k = 0; !err && k < c->layers; k++) {
		const char *name = c->layers == 1 ? "output" : names[k];

		err = conf_add_layer(net, name, &c->layer[k], &id);
		if (!err)
			err = ionpu_network_add_dense(net, prev, id,
						      c->layer[k].weight,
						      NULL, NULL);
		prev = id;
	}
	if (!err)
		err = ionpu_network_mark_output(net, prev);
	if (err) {
		ionpu_network_free(net);
		return err;
	}
	*out = net;
	return 0;
}

/*
 * The case written to a NIR file in @dir and read back: what the card and
 * the host run is what a NIR reader made of it.
 */
static inline int conf_build_nir(const struct conf_case *c, const char *dir,
				 struct ionpu_network **out)
{
	struct ionpu_network *net = NULL;
	char path[256];
	int err;

	snprintf(path, sizeof(path), "%s/ionpu-conformance-%s-%ld.nir", dir,
		 c->name, (long)getpid());
	err = conf_build(c, &net);
	if (err)
		return err;
	err = ionpu_nir_save(net, path);
	ionpu_network_free(net);
	if (!err)
		err = ionpu_nir_load(path, out);
	unlink(path);
	return err;
}

#endif /* IONPU_CONFORMANCE_H */
