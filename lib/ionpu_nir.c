// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NIR import: reads a NIR graph (through lib/ionpu_nir_h5.c) and folds it
 * into a network.
 *
 * Three passes.  The first reads every node of the root graph and of the
 * graphs nested in it into one flat list, wiring each edge that touches a
 * nested graph to that graph's Input or Output node.  The second gives every
 * node the shape of what it emits, which checks every parameter's shape and
 * finds cycles that no neuron breaks.  The third walks back from each neuron
 * node over the chain of linear nodes that feeds it to the neuron or Input
 * node the chain starts at, and turns each chain into one projection.
 *
 * What each NIR node type reads, the shape it emits and what it does to
 * the values it passes on are its entry of nir_types[].  Every failure
 * names the node.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_h5_lock.h"
#include "ionpu_internal.h"
#include "ionpu_nir_h5.h"

/* Deeper nesting than this is taken as a loop of HDF5 links. */
#define NIR_MAX_DEPTH 16
/* Largest matrix a chain of several linear nodes is multiplied out into. */
#define NIR_MAX_COMPOSED (1u << 24)

enum nir_kind {
	K_INPUT,  /* Input of the root graph: a network input */
	K_OUTPUT, /* Output of the root graph */
	K_PASS,	  /* a nested graph's Input or Output: passes on */
	K_FLATTEN,
	K_NEURON,
	K_AFFINE,
	K_LINEAR,
	K_SCALE,
	K_CONV, /* Conv1d, Conv2d, SumPool2d and AvgPool2d */
	K_DELAY,
};

enum nir_param {
	NP_TAU,
	NP_TAU_SYN,
	NP_TAU_MEM,
	NP_R,
	NP_V_LEAK,
	NP_V_THRESHOLD,
	NP_V_RESET,
	NP_W_IN,
	NP_COUNT
};

enum nir_pool {
	NIR_POOL_SUM,
	NIR_POOL_AVERAGE,
};

struct nir_type;

struct nir_node {
	char *name; /* with the names of the graphs around it: "g.lif" */
	const struct nir_type *t;
	enum nir_kind kind;
	struct nir_array weight; /* weight, scale or delay */
	struct nir_array bias;
	struct nir_array shape; /* Input and Output: the declared shape */
	struct nir_array param[NP_COUNT];
	struct ionpu_conv
		conv; /* geometry, output size and weight set in pass 2 */
	double *conv_weight; /* pools: the constant kernel */
	uint32_t conv_hw[2]; /* input_shape, 0 if not given */
	int *preds;
	size_t n_preds;
	/* Pass 2: the shape this node emits, row-major. */
	int state;
	int out_ndims;
	uint32_t out[3];
	uint32_t net_id;
};

struct nir_loader {
	const char *path;
	struct nir_node *nodes;
	size_t n_nodes;
	size_t cap_nodes;
};

/* A neuron type's model and NIR's name of each parameter (NULL: none). */
struct nir_neuron {
	enum ionpu_neuron_model model;
	const char *names[NP_COUNT];
	uint32_t optional; /* bits of parameters with a default */
};

/*
 * One NIR node type.  @read reads the node's parameters from its group;
 * @shape (pass 2) gives the shape it emits from its one input's (neurons
 * and the root graph's Input have their own); @apply (pass 3) is what the
 * node does to the values it passes on, NULL for passing them unchanged.
 */
struct nir_type {
	const char *name;
	enum nir_kind kind;
	int (*read)(struct nir_loader *L, const struct nir_place *at,
		    struct nir_node *n);
	int (*shape)(struct nir_loader *L, struct nir_node *n,
		     const struct nir_node *in);
	void (*apply)(const struct nir_node *n, size_t in_size,
		      const double *in, double *out);
	const char *values; /* Scale, Delay: the dataset of their values */
	int conv_dims;	    /* Conv1d 1, Conv2d 2 */
	enum nir_pool pool; /* SumPool2d, AvgPool2d */
	struct nir_neuron neuron;
};

/* One node as the edges of its own graph name it. */
struct nir_local {
	char *name;
	int entry; /* where edges into it go */
	int exit;  /* where edges out of it come from */
};

static void free_loader(struct nir_loader *L)
{
	for (size_t i = 0; i < L->n_nodes; i++) {
		struct nir_node *n = &L->nodes[i];

		free(n->name);
		ionpu_nir_array_free(&n->weight);
		ionpu_nir_array_free(&n->bias);
		ionpu_nir_array_free(&n->shape);
		for (int p = 0; p < NP_COUNT; p++)
			ionpu_nir_array_free(&n->param[p]);
		free(n->conv_weight);
		free(n->preds);
	}
	free(L->nodes);
}

static char *join_name(const char *prefix, const char *name)
{
	size_t lp = strlen(prefix), ln = strlen(name);
	char *s = malloc(lp + ln + 1);

	if (s) {
		memcpy(s, prefix, lp);
		memcpy(s + lp, name, ln + 1);
	}
	return s;
}

static uint64_t shape_size(const struct nir_node *n)
{
	uint64_t s = 1;

	for (int d = 0; d < n->out_ndims; d++)
		s *= n->out[d];
	return s;
}

/* --- node types: reading ------------------------------------------------ */

static int read_neuron(struct nir_loader *L, const struct nir_place *at,
		       struct nir_node *n)
{
	const struct nir_neuron *t = &n->t->neuron;
	const struct nir_array *first = NULL;
	const char *first_name = NULL;
	int err;

	for (int p = 0; p < NP_COUNT; p++) {
		struct nir_array *a = &n->param[p];
		enum nir_presence presence =
			t->optional & (1u << p) ? NIR_OPTIONAL : NIR_REQUIRED;

		if (!t->names[p])
			continue;
		err = ionpu_nir_h5_array(at, t->names[p], presence, a);
		if (err)
			return err;
		if (!a->v)
			continue;
		if (!first) {
			first = a;
			first_name = t->names[p];
			if (a->n == 0 || a->ndims > 3)
				return ionpu_nir_fail(L->path, -EPROTO, n->name,
						      "'%s' has %zu values in %d dimensions",
						      first_name, a->n,
						      a->ndims);
		} else if (a->n != first->n) {
			return ionpu_nir_fail(L->path, -EPROTO, n->name,
					      "'%s' has %zu values but '%s' has %zu",
					      t->names[p], a->n, first_name,
					      first->n);
		}
	}
	/* Every neuron type has a required parameter, so first is set. */
	n->out_ndims = first->ndims ? first->ndims : 1;
	for (int d = 0; d < n->out_ndims; d++)
		n->out[d] = first->ndims ? (uint32_t)first->dims[d] : 1;
	return 0;
}

/* Input and Output: the root graph's Input must declare its shape. */
static int read_io(struct nir_loader *L, const struct nir_place *at,
		   struct nir_node *n)
{
	enum nir_presence presence = n->kind == K_INPUT ? NIR_REQUIRED :
							  NIR_OPTIONAL;
	int err;

	err = ionpu_nir_h5_array(at, "shape", presence, &n->shape);
	if (err)
		return err;
	if (n->shape.v &&
	    (n->shape.ndims > 1 || n->shape.n == 0 || n->shape.n > 3))
		return ionpu_nir_fail(L->path, -EOPNOTSUPP, n->name,
				      "shape of %zu dimensions", n->shape.n);
	for (size_t d = 0; n->shape.v && d < n->shape.n; d++)
		if (!(n->shape.v[d] >= 1 && n->shape.v[d] <= NIR_MAX_VALUES))
			return ionpu_nir_fail(L->path, -EPROTO, n->name,
					      "shape[%zu] = %g", d,
					      n->shape.v[d]);
	return 0;
}

/* Affine and Linear. */
static int read_matrix(struct nir_loader *L, const struct nir_place *at,
		       struct nir_node *n)
{
	int err;

	err = ionpu_nir_h5_array(at, "weight", NIR_REQUIRED, &n->weight);
	if (err)
		return err;
	if (n->weight.ndims != 2 || !n->weight.n)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "weight has %d dimensions, not 2",
				      n->weight.ndims);
	if (n->kind != K_AFFINE)
		return 0;
	err = ionpu_nir_h5_array(at, "bias", NIR_REQUIRED, &n->bias);
	if (err)
		return err;
	if (n->bias.n != n->weight.dims[0])
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "bias has %zu values for %llu rows",
				      n->bias.n,
				      (unsigned long long)n->weight.dims[0]);
	return 0;
}

/* Scale and Delay: one value per element. */
static int read_values(struct nir_loader *L, const struct nir_place *at,
		       struct nir_node *n)
{
	const char *what = n->t->values;
	int err;

	err = ionpu_nir_h5_array(at, what, NIR_REQUIRED, &n->weight);
	if (err)
		return err;
	if (!n->weight.n)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "'%s' is empty", what);
	return 0;
}

static int read_nothing(struct nir_loader *L, const struct nir_place *at,
			struct nir_node *n)
{
	(void)L;
	(void)at;
	(void)n;
	return 0;
}

/* Stride, padding and dilation; 1-d convolutions have a height of 1. */
static int read_conv_steps(const struct nir_place *at, struct nir_node *n,
			   int dims)
{
	bool one_d = dims == 1;
	uint32_t v[2];
	int err;

	err = ionpu_nir_h5_ints(at, "stride", dims, 1, v);
	if (err)
		return err;
	n->conv.stride_w = v[one_d ? 0 : 1];
	n->conv.stride_h = one_d ? 1 : v[0];
	err = ionpu_nir_h5_ints(at, "padding", dims, 0, v);
	if (err)
		return err;
	n->conv.pad_w = v[one_d ? 0 : 1];
	n->conv.pad_h = one_d ? 0 : v[0];
	err = ionpu_nir_h5_ints(at, "dilation", dims, 1, v);
	if (err)
		return err;
	n->conv.dilation_w = v[one_d ? 0 : 1];
	n->conv.dilation_h = one_d ? 1 : v[0];
	return 0;
}

static int read_conv(struct nir_loader *L, const struct nir_place *at,
		     struct nir_node *n)
{
	int dims = n->t->conv_dims, wdims = dims + 2, err;
	bool one_d = dims == 1;
	uint32_t groups;

	err = ionpu_nir_h5_array(at, "weight", NIR_REQUIRED, &n->weight);
	if (err)
		return err;
	if (n->weight.ndims != wdims)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "weight has %d dimensions, not %d",
				      n->weight.ndims, wdims);
	n->conv.out_channels = (uint32_t)n->weight.dims[0];
	n->conv.kernel_h = one_d ? 1 : (uint32_t)n->weight.dims[2];
	n->conv.kernel_w = (uint32_t)n->weight.dims[wdims - 1];
	err = read_conv_steps(at, n, dims);
	if (err)
		return err;
	err = ionpu_nir_h5_ints(at, "groups", 1, 1, &groups);
	if (err)
		return err;
	if (!groups)
		return ionpu_nir_fail(L->path, -EPROTO, n->name, "groups is 0");
	n->conv.groups = groups;
	n->conv.in_channels = (uint32_t)n->weight.dims[1] * groups;
	err = ionpu_nir_h5_ints(at, "input_shape", dims, 0, n->conv_hw);
	if (err)
		return err;
	if (one_d) {
		n->conv_hw[1] = n->conv_hw[0];
		n->conv_hw[0] = n->conv_hw[1] ? 1 : 0;
	}
	err = ionpu_nir_h5_array(at, "bias", NIR_OPTIONAL, &n->bias);
	if (err)
		return err;
	if (n->bias.v && n->bias.n != n->conv.out_channels)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "bias has %zu values for %u channels",
				      n->bias.n, n->conv.out_channels);
	return 0;
}

static int read_pool(struct nir_loader *L, const struct nir_place *at,
		     struct nir_node *n)
{
	uint32_t k[2], s[2], p[2];
	int err;

	err = ionpu_nir_h5_ints(at, "kernel_size", 2, 0, k);
	if (err)
		return err;
	if (!k[0] || !k[1])
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "no kernel_size");
	err = ionpu_nir_h5_ints(at, "stride", 2, 0, s);
	if (err)
		return err;
	err = ionpu_nir_h5_ints(at, "padding", 2, 0, p);
	if (err)
		return err;
	n->conv = (struct ionpu_conv){
		.kernel_h = k[0],
		.kernel_w = k[1],
		/* PyTorch's pools default the stride to the kernel. */
		.stride_h = s[0] ? s[0] : k[0],
		.stride_w = s[1] ? s[1] : k[1],
		.pad_h = p[0],
		.pad_w = p[1],
		.dilation_h = 1,
		.dilation_w = 1,
	};
	/* The kernel is filled once the channel count is known, in pass 2. */
	n->weight.v = malloc(sizeof(double));
	if (!n->weight.v)
		return ionpu_nir_fail(L->path, -ENOMEM, n->name,
				      "out of memory");
	n->weight.v[0] = n->t->pool == NIR_POOL_AVERAGE ?
				 1.0 / ((double)k[0] * k[1]) :
				 1.0;
	n->weight.n = 0;
	return 0;
}

/* --- node types: shapes (pass 2) ---------------------------------------- */

static uint64_t declared_size(const struct nir_array *shape)
{
	uint64_t s = 1;

	for (size_t d = 0; d < shape->n; d++)
		s *= (uint64_t)shape->v[d];
	return s;
}

static void set_flat(struct nir_node *n, uint64_t size)
{
	n->out_ndims = 1;
	n->out[0] = (uint32_t)size;
}

static void same_shape(struct nir_node *n, const struct nir_node *in)
{
	n->out_ndims = in->out_ndims;
	memcpy(n->out, in->out, sizeof(n->out));
}

/* Input and Output of a nested graph, and the root's Output. */
static int shape_io(struct nir_loader *L, struct nir_node *n,
		    const struct nir_node *in)
{
	uint64_t size = shape_size(in);

	if (n->shape.v && declared_size(&n->shape) != size)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "shape holds %llu values, its input %llu",
				      (unsigned long long)declared_size(
					      &n->shape),
				      (unsigned long long)size);
	same_shape(n, in);
	return 0;
}

static int shape_flatten(struct nir_loader *L, struct nir_node *n,
			 const struct nir_node *in)
{
	(void)L;
	set_flat(n, shape_size(in));
	return 0;
}

static int shape_matrix(struct nir_loader *L, struct nir_node *n,
			const struct nir_node *in)
{
	uint64_t size = shape_size(in);

	if (n->weight.dims[1] != size)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "weight is %llux%llu but its input has %llu values",
				      (unsigned long long)n->weight.dims[0],
				      (unsigned long long)n->weight.dims[1],
				      (unsigned long long)size);
	set_flat(n, n->weight.dims[0]);
	return 0;
}

static int shape_values(struct nir_loader *L, struct nir_node *n,
			const struct nir_node *in)
{
	uint64_t size = shape_size(in);

	if (n->weight.n != size)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "%s has %zu values but its input %llu",
				      n->t->values, n->weight.n,
				      (unsigned long long)size);
	same_shape(n, in);
	return 0;
}

static int conv_shape(struct nir_loader *L, struct nir_node *n,
		      const struct nir_node *in)
{
	struct ionpu_conv *c = &n->conv;
	uint64_t size = shape_size(in);
	char what[300];
	int err;

	snprintf(what, sizeof(what), "%s: node '%s'", L->path, n->name);
	if (in->out_ndims == 3) {
		c->in_channels = c->in_channels ? c->in_channels : in->out[0];
		c->in_height = in->out[1];
		c->in_width = in->out[2];
	} else if (n->t->conv_dims == 1 && in->out_ndims == 2) {
		c->in_height = 1;
		c->in_width = in->out[1];
		if (!c->in_channels)
			c->in_channels = in->out[0];
	} else if (n->conv_hw[0] && n->conv_hw[1]) {
		c->in_height = n->conv_hw[0];
		c->in_width = n->conv_hw[1];
		if (!c->in_channels)
			c->in_channels =
				(uint32_t)(size / ((uint64_t)c->in_height *
						   c->in_width));
	} else if (n->t->conv_dims == 1 && c->in_channels) {
		c->in_height = 1;
		c->in_width = (uint32_t)(size / c->in_channels);
	} else {
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "the shape of its input (%llu values) is unknown: give input_shape",
				      (unsigned long long)size);
	}
	if (!c->groups) {
		/*
		 * A pool: one channel per group, the constant kernel per
		 * channel.
		 */
		double v = n->weight.v[0];
		double *w = malloc((size_t)c->in_channels * c->kernel_h *
				   c->kernel_w * sizeof(*w));

		if (!w)
			return ionpu_nir_fail(L->path, -ENOMEM, n->name,
					      "out of memory");
		c->groups = c->out_channels = c->in_channels;
		for (size_t i = 0;
		     i < (size_t)c->in_channels * c->kernel_h * c->kernel_w;
		     i++)
			w[i] = v;
		n->conv_weight = w;
	}
	if ((uint64_t)c->in_channels * c->in_height * c->in_width != size)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "expects %ux%ux%u inputs but gets %llu values",
				      c->in_channels, c->in_height, c->in_width,
				      (unsigned long long)size);
	err = ionpu_conv_geometry(c, what);
	if (err)
		return err;
	c->weight = n->conv_weight ? n->conv_weight : n->weight.v;
	n->out_ndims = 3;
	n->out[0] = c->out_channels;
	n->out[1] = c->out_height;
	n->out[2] = c->out_width;
	return 0;
}

/* --- node types: what they do to values (pass 3) ---------------------- */

/* Affine and Linear: out = W in (+ b). */
static void apply_matrix(const struct nir_node *n, size_t in_size,
			 const double *in, double *out)
{
	size_t out_size = shape_size(n);

	for (size_t o = 0; o < out_size; o++) {
		double s = n->kind == K_AFFINE ? n->bias.v[o] : 0;

		for (size_t i = 0; i < in_size; i++)
			s += n->weight.v[o * in_size + i] * in[i];
		out[o] = s;
	}
}

static void apply_scale(const struct nir_node *n, size_t in_size,
			const double *in, double *out)
{
	for (size_t i = 0; i < in_size; i++)
		out[i] = n->weight.v[i] * in[i];
}

struct apply_ctx {
	const double *in;
	double *out;
};

static void apply_synapse(void *ctx, uint32_t pre, uint32_t post, double w)
{
	struct apply_ctx *a = ctx;

	a->out[post] += w * a->in[pre];
}

/* Convolutions and pools, biases included. */
static void apply_conv(const struct nir_node *n, size_t in_size,
		       const double *in, double *out)
{
	struct apply_ctx a = { .in = in, .out = out };
	size_t plane = (size_t)n->conv.out_height * n->conv.out_width;
	size_t out_size = shape_size(n);

	(void)in_size;
	for (size_t o = 0; o < out_size; o++)
		out[o] = n->bias.v ? n->bias.v[o / plane] : 0;
	ionpu_conv_for_each(&n->conv, apply_synapse, &a);
}

/* --- the node types ------------------------------------------------------ */

#define NIR_NEURON(nm, mdl, opt, ...)                              \
	{                                                          \
		.name = nm, .kind = K_NEURON, .read = read_neuron, \
		.neuron = { .model = mdl,                          \
			    .optional = opt,                       \
			    .names = { __VA_ARGS__ } },            \
	}

static const struct nir_type nir_types[] = {
	{ .name = "Input", .kind = K_INPUT, .read = read_io, .shape = shape_io },
	{ .name = "Output",
	  .kind = K_OUTPUT,
	  .read = read_io,
	  .shape = shape_io },
	{ .name = "Flatten",
	  .kind = K_FLATTEN,
	  .read = read_nothing,
	  .shape = shape_flatten },
	{ .name = "Affine",
	  .kind = K_AFFINE,
	  .read = read_matrix,
	  .shape = shape_matrix,
	  .apply = apply_matrix },
	{ .name = "Linear",
	  .kind = K_LINEAR,
	  .read = read_matrix,
	  .shape = shape_matrix,
	  .apply = apply_matrix },
	{ .name = "Scale",
	  .kind = K_SCALE,
	  .read = read_values,
	  .shape = shape_values,
	  .apply = apply_scale,
	  .values = "scale" },
	{ .name = "Delay",
	  .kind = K_DELAY,
	  .read = read_values,
	  .shape = shape_values,
	  .values = "delay" },
	{ .name = "Conv1d",
	  .kind = K_CONV,
	  .read = read_conv,
	  .shape = conv_shape,
	  .apply = apply_conv,
	  .conv_dims = 1 },
	{ .name = "Conv2d",
	  .kind = K_CONV,
	  .read = read_conv,
	  .shape = conv_shape,
	  .apply = apply_conv,
	  .conv_dims = 2 },
	{ .name = "SumPool2d",
	  .kind = K_CONV,
	  .read = read_pool,
	  .shape = conv_shape,
	  .apply = apply_conv,
	  .pool = NIR_POOL_SUM },
	{ .name = "AvgPool2d",
	  .kind = K_CONV,
	  .read = read_pool,
	  .shape = conv_shape,
	  .apply = apply_conv,
	  .pool = NIR_POOL_AVERAGE },
	NIR_NEURON("LIF", IONPU_NEURON_LIF, 1u << NP_V_RESET, [NP_TAU] = "tau",
		   [NP_R] = "r", [NP_V_LEAK] = "v_leak",
		   [NP_V_THRESHOLD] = "v_threshold", [NP_V_RESET] = "v_reset"),
	NIR_NEURON("IF", IONPU_NEURON_IF, 1u << NP_V_RESET, [NP_R] = "r",
		   [NP_V_THRESHOLD] = "v_threshold", [NP_V_RESET] = "v_reset"),
	NIR_NEURON("LI", IONPU_NEURON_LI,
		   0, [NP_TAU] = "tau", [NP_R] = "r", [NP_V_LEAK] = "v_leak"),
	NIR_NEURON("CubaLIF", IONPU_NEURON_CUBA_LIF,
		   1u << NP_V_RESET | 1u << NP_W_IN, [NP_TAU_SYN] = "tau_syn",
		   [NP_TAU_MEM] = "tau_mem", [NP_R] = "r",
		   [NP_V_LEAK] = "v_leak", [NP_V_THRESHOLD] = "v_threshold",
		   [NP_V_RESET] = "v_reset", [NP_W_IN] = "w_in"),
	/*
	 * An Integrator is an IF that never fires: its threshold is set later.
	 */
	NIR_NEURON("Integrator", IONPU_NEURON_IF, 0, [NP_R] = "r"),
	NIR_NEURON("Threshold", IONPU_NEURON_THRESHOLD,
		   0, [NP_V_THRESHOLD] = "threshold"),
};

static const struct nir_type *find_type(const char *name)
{
	for (size_t i = 0; i < sizeof(nir_types) / sizeof(nir_types[0]); i++)
		if (!strcmp(name, nir_types[i].name))
			return &nir_types[i];
	return NULL;
}

/* --- pass 1: nodes and edges ------------------------------------------ */

/*
 * A node of type @t at nesting @depth: a nested graph's Input and Output pass
 * values on.
 */
static int new_node(struct nir_loader *L, const char *name,
		    const struct nir_type *t, int depth)
{
	bool io = t->kind == K_INPUT || t->kind == K_OUTPUT;
	struct nir_node *n;

	if (L->n_nodes == L->cap_nodes) {
		size_t cap = L->cap_nodes ? L->cap_nodes * 2 : 16;
		void *p = realloc(L->nodes, cap * sizeof(*L->nodes));

		if (!p)
			return ionpu_nir_fail(L->path, -ENOMEM, name,
					      "out of memory");
		L->nodes = p;
		L->cap_nodes = cap;
	}
	n = &L->nodes[L->n_nodes];
	*n = (struct nir_node){ .t = t,
				.kind = io && depth > 0 ? K_PASS : t->kind };
	n->name = strdup(name);
	if (!n->name)
		return ionpu_nir_fail(L->path, -ENOMEM, name, "out of memory");
	return (int)L->n_nodes++;
}

static int add_pred(struct nir_loader *L, int dst, int src)
{
	struct nir_node *n = &L->nodes[dst];
	int *p = realloc(n->preds, (n->n_preds + 1) * sizeof(*p));

	if (!p)
		return ionpu_nir_fail(L->path, -ENOMEM, n->name,
				      "out of memory");
	p[n->n_preds++] = src;
	n->preds = p;
	return 0;
}

/*
 * Finds the node an edge names: by its exact name, else the one whose name
 * begins with it (see ionpu_nir_load()).
 */
static const struct nir_local *resolve(const struct nir_local *locals, size_t n,
				       const char *name)
{
	const struct nir_local *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(locals[i].name, name))
			return &locals[i];
	for (size_t i = 0; len && i < n; i++) {
		if (!strncmp(locals[i].name, name, len)) {
			if (found)
				return NULL;
			found = &locals[i];
		}
	}
	return found;
}

static int add_edge(struct nir_loader *L, const char *gname,
		    const struct nir_local *locals, size_t n_locals, size_t e,
		    char *const *ends)
{
	const struct nir_local *a = resolve(locals, n_locals, ends[0]);
	const struct nir_local *b = resolve(locals, n_locals, ends[1]);

	if (!a || !b)
		return ionpu_nir_fail(L->path, -EPROTO, gname,
				      "edge %zu ('%s' -> '%s') names no node '%s'",
				      e, ends[0], ends[1],
				      !a ? ends[0] : ends[1]);
	if (a->exit < 0 || b->entry < 0)
		return ionpu_nir_fail(L->path, -EPROTO, gname,
				      "edge %zu ('%s' -> '%s') %s", e, ends[0],
				      ends[1],
				      a->exit < 0 ?
					      "leaves a graph with no Output" :
					      "enters a graph with no Input");
	return add_pred(L, b->entry, a->exit);
}

static int read_edges(struct nir_loader *L, hid_t grp, const char *gname,
		      const struct nir_local *locals, size_t n_locals)
{
	const struct nir_place at = { .path = L->path,
				      .grp = grp,
				      .node = gname };
	struct nir_strings edges;
	int err;

	if (!ionpu_nir_h5_has(grp, "edges"))
		return 0;
	err = ionpu_nir_h5_strings(&at, "edges", &edges);
	if (err)
		return err;
	if (edges.n && (edges.ndims != 2 || edges.dims[1] != 2)) {
		err = ionpu_nir_fail(L->path, -EPROTO, gname,
				     "edges is not an E x 2 array");
		goto out;
	}
	for (size_t e = 0; e < edges.n / 2; e++) {
		err = add_edge(L, gname, locals, n_locals, e, &edges.s[2 * e]);
		if (err)
			break;
	}
out:
	ionpu_nir_strings_free(&edges);
	return err;
}

/* The ends of a graph: its one Input and one Output, -1 for none or several. */
struct nir_ends {
	int entry;
	int exit;
	int inputs;
	int outputs;
};

static int read_graph(struct nir_loader *L, hid_t grp, const char *gname,
		      const char *prefix, int depth, int *entry, int *exit);

/* Reads node @name of graph @nodes (a leaf or a nested graph) into @local. */
static int read_member(struct nir_loader *L, hid_t nodes, const char *name,
		       const char *prefix, int depth, struct nir_local *local,
		       struct nir_ends *ends)
{
	char *full = join_name(prefix, name), *type = NULL;
	const struct nir_type *t;
	struct nir_place at = { .path = L->path, .node = full };
	int idx, err;

	local->name = (char *)name;
	local->entry = local->exit = -1;
	if (!full)
		return ionpu_nir_fail(L->path, -ENOMEM, prefix,
				      "out of memory");
	at.grp = ionpu_nir_h5_group(nodes, name);
	if (at.grp < 0) {
		err = ionpu_nir_fail(L->path, -EPROTO, full, "not a group");
		goto out_name;
	}
	err = ionpu_nir_h5_string(&at, "type", &type);
	if (err)
		goto out_group;
	if (!strcmp(type, "NIRGraph")) {
		char *sub = join_name(full, ".");

		err = sub ? read_graph(L, at.grp, full, sub, depth + 1,
				       &local->entry, &local->exit) :
			    ionpu_nir_fail(L->path, -ENOMEM, full,
					   "out of memory");
		free(sub);
		goto out_type;
	}
	t = find_type(type);
	if (!t) {
		err = ionpu_nir_fail(L->path, -EOPNOTSUPP, full,
				     "node type '%s' is not supported", type);
		goto out_type;
	}
	idx = new_node(L, full, t, depth);
	if (idx < 0) {
		err = idx;
		goto out_type;
	}
	err = t->read(L, &at, &L->nodes[idx]);
	if (err)
		goto out_type;
	local->entry = local->exit = idx;
	if (t->kind == K_INPUT) {
		ends->inputs++;
		ends->entry = idx;
	} else if (t->kind == K_OUTPUT) {
		ends->outputs++;
		ends->exit = idx;
	}
out_type:
	free(type);
out_group:
	ionpu_nir_h5_group_close(at.grp);
out_name:
	free(full);
	return err;
}

/*
 * Reads graph @grp (its nodes named @prefix + name) and returns the nodes
 * edges into and out of it attach to: its Input and Output, -1 if it has
 * none or several.
 */
static int read_graph(struct nir_loader *L, hid_t grp, const char *gname,
		      const char *prefix, int depth, int *entry, int *exit)
{
	const struct nir_place at = { .path = L->path,
				      .grp = grp,
				      .node = gname };
	struct nir_ends ends = { .entry = -1, .exit = -1 };
	struct nir_local *locals;
	size_t n_locals = 0;
	char **names;
	hid_t nodes;
	int err = 0;

	*entry = *exit = -1;
	if (depth > NIR_MAX_DEPTH)
		return ionpu_nir_fail(L->path, -EPROTO, gname,
				      "graphs nested more than %d deep",
				      NIR_MAX_DEPTH);
	if (!ionpu_nir_h5_has(grp, "nodes"))
		return ionpu_nir_fail(L->path, -EPROTO, gname,
				      "graph has no 'nodes' group");
	nodes = ionpu_nir_h5_group(grp, "nodes");
	if (nodes < 0)
		return ionpu_nir_fail(L->path, -EPROTO, gname,
				      "cannot list the graph's nodes");
	err = ionpu_nir_h5_names(&at, nodes, &names);
	if (err)
		goto out_nodes;
	while (names[n_locals])
		n_locals++;
	locals = calloc(n_locals ? n_locals : 1, sizeof(*locals));
	if (!locals) {
		err = ionpu_nir_fail(L->path, -ENOMEM, gname, "out of memory");
		goto out_names;
	}
	for (size_t i = 0; i < n_locals; i++) {
		err = read_member(L, nodes, names[i], prefix, depth, &locals[i],
				  &ends);
		if (err)
			goto out_locals;
	}
	err = read_edges(L, grp, gname, locals, n_locals);
	if (err)
		goto out_locals;
	/*
	 * A nested graph is entered and left through exactly one Input and
	 * Output.
	 */
	if (ends.inputs == 1)
		*entry = ends.entry;
	if (ends.outputs == 1)
		*exit = ends.exit;
out_locals:
	free(locals);
out_names:
	ionpu_nir_strings_free(&(struct nir_strings){ .s = names });
out_nodes:
	ionpu_nir_h5_group_close(nodes);
	return err;
}

/* --- pass 2: shapes --------------------------------------------------- */

static int node_shape(struct nir_loader *L, int idx)
{
	struct nir_node *n = &L->nodes[idx];
	int err;

	if (n->state == 2)
		return 0;
	if (n->kind == K_NEURON) {
		n->state = 2;
		return 0;
	}
	if (n->kind == K_INPUT) {
		n->out_ndims = (int)n->shape.n;
		for (size_t d = 0; d < n->shape.n; d++)
			n->out[d] = (uint32_t)n->shape.v[d];
		if (shape_size(n) > NIR_MAX_VALUES)
			return ionpu_nir_fail(L->path, -EPROTO, n->name,
					      "shape too large");
		n->state = 2;
		return 0;
	}
	if (n->state == 1)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "on a cycle with no neuron node in it");
	if (!n->n_preds)
		return ionpu_nir_fail(L->path, -EPROTO, n->name,
				      "%s node with no input", n->t->name);
	if (n->n_preds > 1)
		return ionpu_nir_fail(L->path, -EOPNOTSUPP, n->name,
				      "%s node with %zu inputs: only neuron nodes sum inputs",
				      n->t->name, n->n_preds);
	n->state = 1;
	err = node_shape(L, n->preds[0]);
	if (err)
		return err;
	err = n->t->shape(L, n, &L->nodes[n->preds[0]]);
	if (err)
		return err;
	n->state = 2;
	return 0;
}

/* --- pass 3: populations and projections ------------------------------ */

static bool is_source(const struct nir_node *n)
{
	return n->kind == K_INPUT || n->kind == K_NEURON;
}

static bool is_weighted(const struct nir_node *n)
{
	return n->kind == K_AFFINE || n->kind == K_LINEAR ||
	       n->kind == K_SCALE || n->kind == K_CONV;
}

/*
 * Pushes @in (src_size values) through the chain into @out (its last node's
 * size).
 */
static int apply_chain(struct nir_loader *L, const struct nir_node *src,
		       int *chain, size_t len, const double *in, double *out)
{
	size_t size = shape_size(src);
	double *cur = malloc(size * sizeof(*cur));

	if (!cur)
		return ionpu_nir_fail(L->path, -ENOMEM, src->name,
				      "out of memory");
	memcpy(cur, in, size * sizeof(*cur));
	for (size_t k = 0; k < len; k++) {
		const struct nir_node *n = &L->nodes[chain[k]];
		size_t next_size = shape_size(n);
		double *next = malloc(next_size * sizeof(*next));

		if (!next) {
			free(cur);
			return ionpu_nir_fail(L->path, -ENOMEM, n->name,
					      "out of memory");
		}
		if (n->t->apply)
			n->t->apply(n, size, cur, next);
		else
			memcpy(next, cur, size * sizeof(*cur));
		free(cur);
		cur = next;
		size = next_size;
	}
	memcpy(out, cur, size * sizeof(*out));
	free(cur);
	return 0;
}

/*
 * The chain's matrix @m (@dst's size x @src's) and its response to silence
 * @b0 (its bias; the rest is linear), found by probing each input alone.
 */
static int probe_chain(struct nir_loader *L, const struct nir_node *src,
		       const struct nir_node *dst, int *chain, size_t len,
		       double *m, double *b0, size_t *nnz)
{
	size_t ns = shape_size(src), nd = shape_size(dst);
	double *e = calloc(ns, sizeof(*e));
	double *col = malloc(nd * sizeof(*col));
	int err;

	*nnz = 0;
	if (!e || !col) {
		err = ionpu_nir_fail(L->path, -ENOMEM, dst->name,
				     "out of memory");
		goto out;
	}
	err = apply_chain(L, src, chain, len, e, b0);
	if (err)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		e[i] = 1;
		err = apply_chain(L, src, chain, len, e, col);
		e[i] = 0;
		if (err)
			goto out;
		for (size_t o = 0; o < nd; o++) {
			m[o * ns + i] = col[o] - b0[o];
			*nnz += m[o * ns + i] != 0;
		}
	}
out:
	free(e);
	free(col);
	return err;
}

/*
 * The @nnz non-zero entries of @m (@dst's size x @src's) as a sparse
 * projection.
 */
static int add_sparse(struct nir_loader *L, struct ionpu_network *net,
		      const struct nir_node *src, const struct nir_node *dst,
		      const double *m, size_t nnz, const double *delay)
{
	size_t ns = shape_size(src), nd = shape_size(dst), k = 0;
	uint32_t *pre = malloc(nnz * sizeof(*pre));
	uint32_t *post = malloc(nnz * sizeof(*post));
	double *w = malloc(nnz * sizeof(*w));
	int err;

	if (!pre || !post || !w) {
		err = ionpu_nir_fail(L->path, -ENOMEM, dst->name,
				     "out of memory");
		goto out;
	}
	for (size_t o = 0; o < nd; o++) {
		for (size_t i = 0; i < ns; i++) {
			if (m[o * ns + i] != 0) {
				pre[k] = (uint32_t)i;
				post[k] = (uint32_t)o;
				w[k++] = m[o * ns + i];
			}
		}
	}
	err = ionpu_network_add_sparse(net, src->net_id, dst->net_id, nnz, pre,
				       post, w, delay, NULL);
out:
	free(pre);
	free(post);
	free(w);
	return err;
}

/*
 * A chain that is not one Affine, Linear or convolution: multiplied out
 * column by column, stored sparse when at most a quarter of it is used.
 */
static int compose_chain(struct nir_loader *L, const struct nir_node *src,
			 const struct nir_node *dst, int *chain, size_t len,
			 const double *delay, double *bias,
			 struct ionpu_network *net)
{
	size_t ns = shape_size(src), nd = shape_size(dst), nnz;
	double *m, *b0;
	int err;

	if ((uint64_t)ns * nd > NIR_MAX_COMPOSED)
		return ionpu_nir_fail(L->path, -EOPNOTSUPP, dst->name,
				      "the chain from '%s' is too large (%zux%zu) to multiply out",
				      src->name, nd, ns);
	m = calloc(ns * nd, sizeof(*m));
	b0 = malloc(nd * sizeof(*b0));
	if (!m || !b0) {
		err = ionpu_nir_fail(L->path, -ENOMEM, dst->name,
				     "out of memory");
		goto out;
	}
	err = probe_chain(L, src, dst, chain, len, m, b0, &nnz);
	if (err)
		goto out;
	for (size_t o = 0; o < nd; o++)
		bias[o] += b0[o];
	if (nnz && nnz * 4 <= ns * nd)
		err = add_sparse(L, net, src, dst, m, nnz, delay);
	else if (nnz)
		err = ionpu_network_add_dense(net, src->net_id, dst->net_id, m,
					      delay, NULL);
out:
	free(m);
	free(b0);
	return err;
}

/*
 * A Delay node's delays into @delay (per source neuron): before any weight
 * its elements are the source neurons; after one, only a uniform delay
 * has a source-neuron form.
 */
static int add_delay(struct nir_loader *L, const struct nir_node *n,
		     size_t weighted, size_t ns, double *delay)
{
	bool uniform = true;

	for (size_t i = 1; i < n->weight.n; i++)
		uniform &= n->weight.v[i] == n->weight.v[0];
	if (!weighted) {
		for (size_t i = 0; i < ns; i++)
			delay[i] += n->weight.v[i];
		return 0;
	}
	if (!uniform)
		return ionpu_nir_fail(L->path, -EOPNOTSUPP, n->name,
				      "different delays after a weighted node: the router delays each source neuron's spikes");
	for (size_t i = 0; i < ns; i++)
		delay[i] += n->weight.v[0];
	return 0;
}

/* One weighted node's projection, its bias added into @bias. */
static int add_single(struct ionpu_network *net, const struct nir_node *src,
		      const struct nir_node *dst, const struct nir_node *single,
		      const double *delay, double *bias)
{
	size_t nd = shape_size(dst);
	size_t plane = (size_t)single->conv.out_height * single->conv.out_width;
	int err;

	if (single->kind == K_CONV) {
		err = ionpu_network_add_conv(net, src->net_id, dst->net_id,
					     &single->conv, delay, NULL);
		if (err)
			return err;
		for (size_t o = 0; single->bias.v && o < nd; o++)
			bias[o] += single->bias.v[o / plane];
		return 0;
	}
	err = ionpu_network_add_dense(net, src->net_id, dst->net_id,
				      single->weight.v, delay, NULL);
	if (err)
		return err;
	for (size_t o = 0; single->kind == K_AFFINE && o < nd; o++)
		bias[o] += single->bias.v[o];
	return 0;
}

/*
 * Turns the chain from @src to @dst (nodes in signal order) into a projection.
 */
static int add_chain(struct nir_loader *L, struct ionpu_network *net,
		     const struct nir_node *src, const struct nir_node *dst,
		     int *chain, size_t len)
{
	size_t ns = shape_size(src), weighted = 0;
	const struct nir_node *single = NULL;
	double *bias = ionpu_network_bias(net, dst->net_id);
	double *delay = calloc(ns, sizeof(*delay));
	bool delayed = false;
	int err;

	if (!delay)
		return ionpu_nir_fail(L->path, -ENOMEM, dst->name,
				      "out of memory");
	for (size_t k = 0; k < len; k++) {
		const struct nir_node *n = &L->nodes[chain[k]];

		if (is_weighted(n)) {
			weighted++;
			single = n;
		} else if (n->kind == K_DELAY) {
			err = add_delay(L, n, weighted, ns, delay);
			if (err)
				goto out;
			delayed = true;
		}
	}
	if (weighted == 1 && single->kind != K_SCALE)
		err = add_single(net, src, dst, single, delayed ? delay : NULL,
				 bias);
	else
		err = compose_chain(L, src, dst, chain, len,
				    delayed ? delay : NULL, bias, net);
out:
	free(delay);
	return err;
}

/*
 * The chain of linear nodes from @dst's input @first back to the source
 * it starts at (*@src): chain[0 .. *@len) in signal order.
 */
static int input_chain(struct nir_loader *L, const struct nir_node *dst,
		       int first, int *chain, size_t *len, int *src)
{
	const struct nir_node *last;
	int cur = first;
	size_t n = 0;

	*len = 0;
	*src = first;
	/*
	 * Pass 2 gave every non-source node exactly one input, and no cycles.
	 */
	while (!is_source(&L->nodes[cur]) && L->nodes[cur].kind != K_OUTPUT) {
		chain[n++] = cur;
		cur = L->nodes[cur].preds[0];
	}
	if (L->nodes[cur].kind == K_OUTPUT)
		return ionpu_nir_fail(L->path, -EPROTO, L->nodes[cur].name,
				      "an Output feeds '%s'", dst->name);
	/* chain[0] is still the node next to dst. */
	last = &L->nodes[n ? chain[0] : cur];
	if (shape_size(last) != shape_size(dst))
		return ionpu_nir_fail(L->path, -EPROTO, dst->name,
				      "has %llu neurons but '%s' gives %llu values",
				      (unsigned long long)shape_size(dst),
				      last->name,
				      (unsigned long long)shape_size(last));
	for (size_t i = 0; i < n / 2; i++) {
		int t = chain[i];

		chain[i] = chain[n - 1 - i];
		chain[n - 1 - i] = t;
	}
	*len = n;
	*src = cur;
	return 0;
}

/*
 * One projection to make: the chain of linear nodes from @src to @dst.
 * Projections are made in the order the file lists the node next to their
 * target (ionpu_nir_save() writes them in the network's order), or their
 * target's for a chain with no node, and else in the order found.
 */
struct nir_proj {
	int src;
	int dst;
	int *chain; /* signal order */
	size_t len;
	int key;
	size_t found;
};

static int proj_order(const void *a, const void *b)
{
	const struct nir_proj *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->found < y->found ? -1 : x->found > y->found;
}

/* Every neuron node's input chains, into @projs (room for every pred). */
static int find_projections(struct nir_loader *L, struct nir_proj *projs,
			    size_t *count)
{
	for (size_t i = 0; i < L->n_nodes; i++) {
		const struct nir_node *dst = &L->nodes[i];

		for (size_t p = 0; dst->kind == K_NEURON && p < dst->n_preds;
		     p++) {
			struct nir_proj *pr = &projs[*count];
			int err;

			pr->chain = malloc(L->n_nodes * sizeof(*pr->chain));
			if (!pr->chain)
				return ionpu_nir_fail(L->path, -ENOMEM,
						      dst->name,
						      "out of memory");
			pr->dst = (int)i;
			pr->found = (*count)++;
			err = input_chain(L, dst, dst->preds[p], pr->chain,
					  &pr->len, &pr->src);
			if (err)
				return err;
			pr->key = pr->len ? pr->chain[pr->len - 1] : (int)i;
		}
	}
	return 0;
}

static int add_projections(struct nir_loader *L, struct ionpu_network *net)
{
	struct nir_proj *projs;
	size_t n_preds = 0, count = 0;
	int err;

	for (size_t i = 0; i < L->n_nodes; i++)
		if (L->nodes[i].kind == K_NEURON)
			n_preds += L->nodes[i].n_preds;
	projs = calloc(n_preds ? n_preds : 1, sizeof(*projs));
	if (!projs)
		return ionpu_nir_fail(L->path, -ENOMEM, NULL, "out of memory");
	err = find_projections(L, projs, &count);
	if (!err)
		qsort(projs, count, sizeof(*projs), proj_order);
	for (size_t k = 0; !err && k < count; k++)
		err = add_chain(L, net, &L->nodes[projs[k].src],
				&L->nodes[projs[k].dst], projs[k].chain,
				projs[k].len);
	for (size_t k = 0; k < count; k++)
		free(projs[k].chain);
	free(projs);
	return err;
}

static int add_population(struct nir_loader *L, struct ionpu_network *net,
			  struct nir_node *n)
{
	struct ionpu_neuron_params p = {
		.tau = n->param[NP_TAU].v,
		.tau_syn = n->param[NP_TAU_SYN].v,
		.tau_mem = n->param[NP_TAU_MEM].v,
		.r = n->param[NP_R].v,
		.v_leak = n->param[NP_V_LEAK].v,
		.v_threshold = n->param[NP_V_THRESHOLD].v,
		.v_reset = n->param[NP_V_RESET].v,
		.w_in = n->param[NP_W_IN].v,
	};
	uint32_t size = (uint32_t)shape_size(n);
	double *never = NULL;
	int err;

	if (!strcmp(n->t->name, "Integrator")) {
		never = malloc(size * sizeof(*never));
		if (!never)
			return ionpu_nir_fail(L->path, -ENOMEM, n->name,
					      "out of memory");
		for (uint32_t i = 0; i < size; i++)
			never[i] = INFINITY;
		p.v_threshold = never;
	}
	err = ionpu_network_add_population(net, n->name, n->t->neuron.model,
					   size, &p, &n->net_id);
	free(never);
	if (err)
		return ionpu_nir_fail(L->path, err, n->name, "%s",
				      ionpu_last_error());
	return 0;
}

static int mark_output(struct nir_loader *L, struct ionpu_network *net,
		       const struct nir_node *out)
{
	const struct nir_node *n = out;

	for (;;) {
		if (n->n_preds != 1)
			return ionpu_nir_fail(L->path, -EPROTO, out->name,
					      "Output with %zu inputs",
					      n->n_preds);
		n = &L->nodes[n->preds[0]];
		if (n->kind == K_NEURON)
			return ionpu_network_mark_output(net, n->net_id);
		if (n->kind != K_PASS && n->kind != K_FLATTEN)
			return ionpu_nir_fail(L->path, -EOPNOTSUPP, out->name,
					      "fed by '%s' (%s), not by neurons: the card sends spikes only",
					      n->name, n->t->name);
	}
}

/* A network input or population for each source node. */
static int add_source(struct nir_loader *L, struct ionpu_network *net,
		      struct nir_node *n)
{
	int err;

	if (n->kind == K_NEURON)
		return add_population(L, net, n);
	if (n->kind != K_INPUT)
		return 0;
	err = ionpu_network_add_input(net, n->name, (uint32_t)shape_size(n),
				      &n->net_id);
	if (err)
		return ionpu_nir_fail(L->path, err, n->name, "%s",
				      ionpu_last_error());
	return 0;
}

static int build(struct nir_loader *L, struct ionpu_network *net)
{
	int err;

	for (size_t i = 0; i < L->n_nodes; i++) {
		err = node_shape(L, (int)i);
		if (err)
			return err;
	}
	for (size_t i = 0; i < L->n_nodes; i++) {
		err = add_source(L, net, &L->nodes[i]);
		if (err)
			return err;
	}
	err = add_projections(L, net);
	if (err)
		return err;
	for (size_t i = 0; i < L->n_nodes; i++) {
		if (L->nodes[i].kind != K_OUTPUT)
			continue;
		err = mark_output(L, net, &L->nodes[i]);
		if (err)
			return err;
	}
	return 0;
}

static int load_file(struct nir_loader *L, struct ionpu_network *net)
{
	struct nir_place root = { .path = L->path, .node = "node" };
	struct nir_file file;
	char *type = NULL;
	int entry, exit, err;

	err = ionpu_nir_h5_open(L->path, &file);
	if (err)
		return err;
	if (!ionpu_nir_h5_has(file.id, "node")) {
		err = ionpu_nir_fail(L->path, -EPROTO, NULL,
				     "no '/node' group: not a NIR file");
		goto out_file;
	}
	root.grp = ionpu_nir_h5_group(file.id, "node");
	if (root.grp < 0) {
		err = ionpu_nir_fail(L->path, -EPROTO, NULL,
				     "'/node' is not a group");
		goto out_file;
	}
	err = ionpu_nir_h5_string(&root, "type", &type);
	if (err)
		goto out_root;
	if (strcmp(type, "NIRGraph")) {
		err = ionpu_nir_fail(L->path, -EOPNOTSUPP, NULL,
				     "the root node is a %s, not a NIRGraph",
				     type);
		goto out_type;
	}
	err = read_graph(L, root.grp, "node", "", 0, &entry, &exit);
	if (err)
		goto out_type;
	err = build(L, net);
out_type:
	free(type);
out_root:
	ionpu_nir_h5_group_close(root.grp);
out_file:
	ionpu_nir_h5_close(&file);
	return err;
}

/* The load in ionpu_nir_h5_trial()'s child: all of it, then thrown away. */
static void trial_load(void *arg)
{
	struct nir_loader L = { .path = arg };
	struct ionpu_network *net;

	if (ionpu_network_create(&net))
		return;
	load_file(&L, net);
	free_loader(&L);
	ionpu_network_free(net);
}

int ionpu_nir_read(const char *path, enum nir_trial trial,
		   struct ionpu_network **out)
{
	struct nir_loader L = { .path = path };
	struct ionpu_network *net;
	int err;

	if (!path || !out)
		return ionpu_error(-EINVAL, "ionpu_nir_load: NULL argument");
	err = ionpu_network_create(&net);
	if (err)
		return err;
	ionpu_h5_lock();
	if (trial == NIR_TRIAL) {
		err = ionpu_nir_h5_trial(path, trial_load, (void *)path);
		if (err)
			goto err_unlock;
	}
	err = load_file(&L, net);
	if (err)
		goto err_unlock;
	ionpu_h5_unlock();
	free_loader(&L);
	*out = net;
	return 0;

err_unlock:
	ionpu_h5_unlock();
	free_loader(&L);
	ionpu_network_free(net);
	return err;
}

IONPU_API int ionpu_nir_load(const char *path, struct ionpu_network **out)
{
	return ionpu_nir_read(path, NIR_TRIAL, out);
}
