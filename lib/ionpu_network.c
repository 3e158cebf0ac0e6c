// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The network model: nodes (inputs, populations) and the projections between
 * them, built up by the ionpu_network_add_*() calls and read back through
 * the describe calls.  Everything given is copied and checked here, so the
 * NIR reader, the writer and the compiler can trust what they read.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_internal.h"

/*
 * Index of each member of struct ionpu_neuron_params in struct net_node.param.
 */
enum param_index {
	P_TAU,
	P_TAU_SYN,
	P_TAU_MEM,
	P_R,
	P_V_LEAK,
	P_V_THRESHOLD,
	P_V_RESET,
	P_W_IN,
	P_BIAS,
	P_COUNT
};

struct net_node {
	char *name;
	enum ionpu_node_kind kind;
	enum ionpu_neuron_model model;
	uint32_t size;
	bool output;
	double *param[P_COUNT];
};

struct net_proj {
	struct ionpu_projection_info info;
	/* What info's const pointers point to, owned here. */
	double *weight;
	uint32_t *pre;
	uint32_t *post;
	double *conv_weight;
	double *delay;
};

struct ionpu_network {
	struct net_node *nodes;
	size_t n_nodes;
	size_t cap_nodes;
	struct net_proj *projs;
	size_t n_projs;
	size_t cap_projs;
};

static const char *const param_names[P_COUNT] = {
	"tau",	       "tau_syn", "tau_mem", "r",    "v_leak",
	"v_threshold", "v_reset", "w_in",    "bias",
};

/* Which parameters each model uses, and which of those have a default. */
#define BIT(p) (1u << (p))
#define DEFAULTED (BIT(P_V_RESET) | BIT(P_W_IN) | BIT(P_BIAS))

static uint32_t model_params(enum ionpu_neuron_model model)
{
	switch (model) {
	case IONPU_NEURON_LIF:
		return BIT(P_TAU) | BIT(P_R) | BIT(P_V_LEAK) |
		       BIT(P_V_THRESHOLD) | BIT(P_V_RESET) | BIT(P_BIAS);
	case IONPU_NEURON_IF:
		return BIT(P_R) | BIT(P_V_THRESHOLD) | BIT(P_V_RESET) |
		       BIT(P_BIAS);
	case IONPU_NEURON_LI:
		return BIT(P_TAU) | BIT(P_R) | BIT(P_V_LEAK) | BIT(P_BIAS);
	case IONPU_NEURON_CUBA_LIF:
		return BIT(P_TAU_SYN) | BIT(P_TAU_MEM) | BIT(P_R) |
		       BIT(P_V_LEAK) | BIT(P_V_THRESHOLD) | BIT(P_V_RESET) |
		       BIT(P_W_IN) | BIT(P_BIAS);
	case IONPU_NEURON_THRESHOLD:
		return BIT(P_V_THRESHOLD) | BIT(P_BIAS);
	}
	return 0;
}

const char *ionpu_neuron_model_name(enum ionpu_neuron_model model)
{
	switch (model) {
	case IONPU_NEURON_LIF:
		return "LIF";
	case IONPU_NEURON_IF:
		return "IF";
	case IONPU_NEURON_LI:
		return "LI";
	case IONPU_NEURON_CUBA_LIF:
		return "CubaLIF";
	case IONPU_NEURON_THRESHOLD:
		return "Threshold";
	}
	return "?";
}

static const double **params_slot(struct ionpu_neuron_params *p,
				  enum param_index i)
{
	const double **slots[P_COUNT] = {
		&p->tau,	 &p->tau_syn, &p->tau_mem, &p->r,    &p->v_leak,
		&p->v_threshold, &p->v_reset, &p->w_in,	   &p->bias,
	};
	return slots[i];
}

IONPU_API int ionpu_network_create(struct ionpu_network **out)
{
	struct ionpu_network *net;

	if (!out)
		return ionpu_error(-EINVAL,
				   "ionpu_network_create: NULL argument");
	net = calloc(1, sizeof(*net));
	if (!net)
		return ionpu_error(-ENOMEM, "network: out of memory");
	*out = net;
	return 0;
}

static void free_node(struct net_node *node)
{
	free(node->name);
	for (int i = 0; i < P_COUNT; i++)
		free(node->param[i]);
}

static void free_proj(struct net_proj *proj)
{
	free(proj->weight);
	free(proj->pre);
	free(proj->post);
	free(proj->conv_weight);
	free(proj->delay);
}

IONPU_API void ionpu_network_free(struct ionpu_network *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->n_nodes; i++)
		free_node(&net->nodes[i]);
	for (size_t i = 0; i < net->n_projs; i++)
		free_proj(&net->projs[i]);
	free(net->nodes);
	free(net->projs);
	free(net);
}

/* Make room for one more element in a growing array. */
static int grow(void **array, size_t *cap, size_t count, size_t elem)
{
	size_t new_cap;
	void *p;

	if (count < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 8;
	p = realloc(*array, new_cap * elem);
	if (!p)
		return ionpu_error(-ENOMEM, "network: out of memory");
	*array = p;
	*cap = new_cap;
	return 0;
}

static double *copy_doubles(const double *src, size_t n)
{
	double *p = malloc(n * sizeof(*p));

	if (p)
		memcpy(p, src, n * sizeof(*p));
	return p;
}

static int check_name(const struct ionpu_network *net, const char *name)
{
	uint32_t id;

	if (!name || !name[0])
		return ionpu_error(-EINVAL, "network: a node needs a name");
	if (ionpu_network_find(net, name, &id) == 0)
		return ionpu_error(-EEXIST, "network: node '%s' exists already",
				   name);
	return 0;
}

static int add_node(struct ionpu_network *net, struct net_node *node,
		    uint32_t *id)
{
	int err = grow((void **)&net->nodes, &net->cap_nodes, net->n_nodes,
		       sizeof(*node));

	if (err)
		return err;
	net->nodes[net->n_nodes] = *node;
	if (id)
		*id = (uint32_t)net->n_nodes;
	net->n_nodes++;
	return 0;
}

IONPU_API int ionpu_network_add_input(struct ionpu_network *net,
				      const char *name, uint32_t size,
				      uint32_t *id)
{
	struct net_node node = { .kind = IONPU_NODE_INPUT, .size = size };
	int err;

	if (!net)
		return ionpu_error(-EINVAL,
				   "ionpu_network_add_input: NULL network");
	err = check_name(net, name);
	if (err)
		return err;
	if (!size)
		return ionpu_error(-EINVAL, "input '%s': size 0", name);
	node.name = strdup(name);
	if (!node.name)
		return ionpu_error(-ENOMEM, "network: out of memory");
	err = add_node(net, &node, id);
	if (err)
		free_node(&node);
	return err;
}

static int check_param(const char *name, enum param_index i, const double *v,
		       uint32_t size)
{
	bool time_constant = i == P_TAU || i == P_TAU_SYN || i == P_TAU_MEM;

	for (uint32_t n = 0; n < size; n++) {
		/* An infinite threshold is how an Integrator never fires. */
		if (isnan(v[n]) || (isinf(v[n]) && i != P_V_THRESHOLD))
			return ionpu_error(-EINVAL,
					   "population '%s': %s[%u] is not finite",
					   name, param_names[i], n);
		if (time_constant && !(v[n] > 0))
			return ionpu_error(-EINVAL,
					   "population '%s': %s[%u] = %g is not positive",
					   name, param_names[i], n, v[n]);
	}
	return 0;
}

/*
 * Each parameter @model uses given (or defaulted) with @size values, no other.
 */
static int check_params(const char *name, enum ionpu_neuron_model model,
			uint32_t used, struct ionpu_neuron_params *given,
			uint32_t size)
{
	for (int i = 0; i < P_COUNT; i++) {
		const double *v = *params_slot(given, i);
		int err;

		if (!(used & BIT(i))) {
			if (v)
				return ionpu_error(-EINVAL,
						   "population '%s': %s has no %s",
						   name,
						   ionpu_neuron_model_name(
							   model),
						   param_names[i]);
			continue;
		}
		if (!v && !(DEFAULTED & BIT(i)))
			return ionpu_error(-EINVAL,
					   "population '%s': %s needs %s", name,
					   ionpu_neuron_model_name(model),
					   param_names[i]);
		if (v) {
			err = check_param(name, i, v, size);
			if (err)
				return err;
		}
	}
	return 0;
}

IONPU_API int
ionpu_network_add_population(struct ionpu_network *net, const char *name,
			     enum ionpu_neuron_model model, uint32_t size,
			     const struct ionpu_neuron_params *params,
			     uint32_t *id)
{
	struct net_node node = { .kind = IONPU_NODE_POPULATION,
				 .model = model,
				 .size = size };
	struct ionpu_neuron_params given =
		params ? *params : (struct ionpu_neuron_params){ 0 };
	uint32_t used = model_params(model);
	int err;

	if (!net)
		return ionpu_error(-EINVAL,
				   "ionpu_network_add_population: NULL network");
	err = check_name(net, name);
	if (err)
		return err;
	if (!used)
		return ionpu_error(-EINVAL,
				   "population '%s': unknown neuron model %d",
				   name, model);
	if (!size)
		return ionpu_error(-EINVAL, "population '%s': size 0", name);
	err = check_params(name, model, used, &given, size);
	if (err)
		return err;
	node.name = strdup(name);
	if (!node.name)
		goto nomem;
	for (int i = 0; i < P_COUNT; i++) {
		const double *v = *params_slot(&given, i);

		if (!(used & BIT(i)))
			continue;
		if (v) {
			node.param[i] = copy_doubles(v, size);
		} else {
			node.param[i] = malloc(size * sizeof(double));
			/* NIR's defaults: w_in ones, v_reset and bias zeros. */
			for (uint32_t n = 0; node.param[i] && n < size; n++)
				node.param[i][n] = i == P_W_IN ? 1.0 : 0.0;
		}
		if (!node.param[i])
			goto nomem;
	}
	err = add_node(net, &node, id);
	if (err)
		free_node(&node);
	return err;

nomem:
	free_node(&node);
	return ionpu_error(-ENOMEM, "network: out of memory");
}

IONPU_API int ionpu_network_mark_output(struct ionpu_network *net, uint32_t id)
{
	if (!net || id >= net->n_nodes ||
	    net->nodes[id].kind != IONPU_NODE_POPULATION)
		return ionpu_error(-EINVAL,
				   "network: node %u is not a population", id);
	net->nodes[id].output = true;
	return 0;
}

double *ionpu_network_bias(struct ionpu_network *net, uint32_t id)
{
	if (!net || id >= net->n_nodes ||
	    net->nodes[id].kind != IONPU_NODE_POPULATION)
		return NULL;
	return net->nodes[id].param[P_BIAS];
}

static const char *node_name(const struct ionpu_network *net, uint32_t id)
{
	return id < net->n_nodes ? net->nodes[id].name : "?";
}

/* Checks common to every kind of projection; fills the sizes. */
static int check_ends(const struct ionpu_network *net, uint32_t src,
		      uint32_t dst, const double *delay, uint32_t *src_size,
		      uint32_t *dst_size)
{
	if (!net)
		return ionpu_error(-EINVAL, "network: NULL network");
	if (src >= net->n_nodes)
		return ionpu_error(-EINVAL, "projection: no source node %u",
				   src);
	if (dst >= net->n_nodes ||
	    net->nodes[dst].kind != IONPU_NODE_POPULATION)
		return ionpu_error(-EINVAL,
				   "projection from '%s': target %u is not a population",
				   node_name(net, src), dst);
	*src_size = net->nodes[src].size;
	*dst_size = net->nodes[dst].size;
	for (uint32_t i = 0; delay && i < *src_size; i++)
		if (!isfinite(delay[i]) || delay[i] < 0)
			return ionpu_error(-EINVAL,
					   "projection '%s' -> '%s': delay[%u] = %g",
					   net->nodes[src].name,
					   net->nodes[dst].name, i, delay[i]);
	return 0;
}

static int check_weights(const struct ionpu_network *net, uint32_t src,
			 uint32_t dst, const double *w, size_t n)
{
	if (!w)
		return ionpu_error(-EINVAL,
				   "projection '%s' -> '%s': no weights",
				   net->nodes[src].name, net->nodes[dst].name);
	for (size_t i = 0; i < n; i++)
		if (!isfinite(w[i]))
			return ionpu_error(-EINVAL,
					   "projection '%s' -> '%s': weight %zu is not finite",
					   net->nodes[src].name,
					   net->nodes[dst].name, i);
	return 0;
}

static int add_proj(struct ionpu_network *net, struct net_proj *proj,
		    const double *delay, uint32_t src_size, uint32_t *id)
{
	int err;

	if (delay) {
		proj->delay = copy_doubles(delay, src_size);
		if (!proj->delay) {
			free_proj(proj);
			return ionpu_error(-ENOMEM, "network: out of memory");
		}
	}
	proj->info.weight = proj->weight;
	proj->info.pre = proj->pre;
	proj->info.post = proj->post;
	proj->info.conv.weight = proj->conv_weight;
	proj->info.delay = proj->delay;
	err = grow((void **)&net->projs, &net->cap_projs, net->n_projs,
		   sizeof(*proj));
	if (err) {
		free_proj(proj);
		return err;
	}
	net->projs[net->n_projs] = *proj;
	if (id)
		*id = (uint32_t)net->n_projs;
	net->n_projs++;
	return 0;
}

IONPU_API int ionpu_network_add_dense(struct ionpu_network *net, uint32_t src,
				      uint32_t dst, const double *weight,
				      const double *delay, uint32_t *id)
{
	struct net_proj proj = {
		.info = { .kind = IONPU_PROJ_DENSE, .src = src, .dst = dst }
	};
	uint32_t ns, nd;
	int err;

	err = check_ends(net, src, dst, delay, &ns, &nd);
	if (err)
		return err;
	err = check_weights(net, src, dst, weight, (size_t)ns * nd);
	if (err)
		return err;
	proj.weight = copy_doubles(weight, (size_t)ns * nd);
	if (!proj.weight)
		return ionpu_error(-ENOMEM, "network: out of memory");
	return add_proj(net, &proj, delay, ns, id);
}

static int cmp_pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

IONPU_API int ionpu_network_add_sparse(struct ionpu_network *net, uint32_t src,
				       uint32_t dst, size_t nnz,
				       const uint32_t *pre,
				       const uint32_t *post,
				       const double *weight,
				       const double *delay, uint32_t *id)
{
	struct net_proj proj = { .info = { .kind = IONPU_PROJ_SPARSE,
					   .src = src,
					   .dst = dst,
					   .nnz = nnz } };
	uint64_t *pairs;
	uint32_t ns, nd;
	int err;

	err = check_ends(net, src, dst, delay, &ns, &nd);
	if (err)
		return err;
	err = check_weights(net, src, dst, weight, nnz);
	if (err)
		return err;
	if (!nnz || !pre || !post)
		return ionpu_error(-EINVAL,
				   "projection '%s' -> '%s': no synapses",
				   net->nodes[src].name, net->nodes[dst].name);
	pairs = malloc(nnz * sizeof(*pairs));
	if (!pairs)
		return ionpu_error(-ENOMEM, "network: out of memory");
	for (size_t i = 0; i < nnz; i++) {
		if (pre[i] >= ns || post[i] >= nd) {
			free(pairs);
			return ionpu_error(-EINVAL,
					   "projection '%s' -> '%s': synapse %zu (%u, %u) out of range",
					   net->nodes[src].name,
					   net->nodes[dst].name, i, pre[i],
					   post[i]);
		}
		pairs[i] = (uint64_t)pre[i] << 32 | post[i];
	}
	qsort(pairs, nnz, sizeof(*pairs), cmp_pair);
	for (size_t i = 1; i < nnz; i++) {
		if (pairs[i] == pairs[i - 1]) {
			uint64_t pair = pairs[i];

			free(pairs);
			return ionpu_error(-EINVAL,
					   "projection '%s' -> '%s': synapse (%u, %u) repeated",
					   net->nodes[src].name,
					   net->nodes[dst].name,
					   (uint32_t)(pair >> 32),
					   (uint32_t)pair);
		}
	}
	free(pairs);

	proj.weight = copy_doubles(weight, nnz);
	proj.pre = malloc(nnz * sizeof(*proj.pre));
	proj.post = malloc(nnz * sizeof(*proj.post));
	if (!proj.weight || !proj.pre || !proj.post) {
		free_proj(&proj);
		return ionpu_error(-ENOMEM, "network: out of memory");
	}
	memcpy(proj.pre, pre, nnz * sizeof(*pre));
	memcpy(proj.post, post, nnz * sizeof(*post));
	return add_proj(net, &proj, delay, ns, id);
}

int ionpu_conv_geometry(struct ionpu_conv *c, const char *what)
{
	uint64_t span_h, span_w, in_h, in_w;

	if (!c->in_channels || !c->in_height || !c->in_width ||
	    !c->out_channels || !c->kernel_h || !c->kernel_w || !c->stride_h ||
	    !c->stride_w || !c->dilation_h || !c->dilation_w || !c->groups)
		return ionpu_error(-EINVAL,
				   "%s: a convolution size, stride, dilation or group count is 0",
				   what);
	if (c->in_channels % c->groups || c->out_channels % c->groups)
		return ionpu_error(-EINVAL,
				   "%s: %u groups do not divide %u input and %u output channels",
				   what, c->groups, c->in_channels,
				   c->out_channels);
	span_h = (uint64_t)c->dilation_h * (c->kernel_h - 1) + 1;
	span_w = (uint64_t)c->dilation_w * (c->kernel_w - 1) + 1;
	in_h = (uint64_t)c->in_height + 2ull * c->pad_h;
	in_w = (uint64_t)c->in_width + 2ull * c->pad_w;
	if (span_h > in_h || span_w > in_w)
		return ionpu_error(-EINVAL,
				   "%s: a %ux%u kernel does not fit a %ux%u input padded by %u,%u",
				   what, c->kernel_h, c->kernel_w, c->in_height,
				   c->in_width, c->pad_h, c->pad_w);
	c->out_height = (uint32_t)((in_h - span_h) / c->stride_h + 1);
	c->out_width = (uint32_t)((in_w - span_w) / c->stride_w + 1);
	return 0;
}

size_t ionpu_conv_weight_count(const struct ionpu_conv *c)
{
	return (size_t)c->out_channels * (c->in_channels / c->groups) *
	       c->kernel_h * c->kernel_w;
}

IONPU_API int ionpu_network_add_conv(struct ionpu_network *net, uint32_t src,
				     uint32_t dst,
				     const struct ionpu_conv *conv,
				     const double *delay, uint32_t *id)
{
	struct net_proj proj = {
		.info = { .kind = IONPU_PROJ_CONV, .src = src, .dst = dst }
	};
	char what[160];
	uint32_t ns, nd;
	size_t nw;
	int err = check_ends(net, src, dst, delay, &ns, &nd);

	if (err)
		return err;
	if (!conv)
		return ionpu_error(-EINVAL,
				   "ionpu_network_add_conv: NULL convolution");
	snprintf(what, sizeof(what), "projection '%s' -> '%s'",
		 net->nodes[src].name, net->nodes[dst].name);
	proj.info.conv = *conv;
	err = ionpu_conv_geometry(&proj.info.conv, what);
	if (err)
		return err;
	if ((uint64_t)conv->in_channels * conv->in_height * conv->in_width !=
	    ns)
		return ionpu_error(-EINVAL,
				   "%s: input %ux%ux%u is not the source's %u neurons",
				   what, conv->in_channels, conv->in_height,
				   conv->in_width, ns);
	if ((uint64_t)conv->out_channels * proj.info.conv.out_height *
		    proj.info.conv.out_width !=
	    nd)
		return ionpu_error(-EINVAL,
				   "%s: output %ux%ux%u is not the target's %u neurons",
				   what, conv->out_channels,
				   proj.info.conv.out_height,
				   proj.info.conv.out_width, nd);
	nw = ionpu_conv_weight_count(&proj.info.conv);
	err = check_weights(net, src, dst, conv->weight, nw);
	if (err)
		return err;
	proj.conv_weight = copy_doubles(conv->weight, nw);
	if (!proj.conv_weight)
		return ionpu_error(-ENOMEM, "network: out of memory");
	return add_proj(net, &proj, delay, ns, id);
}

IONPU_API size_t ionpu_network_node_count(const struct ionpu_network *net)
{
	return net ? net->n_nodes : 0;
}

IONPU_API size_t ionpu_network_projection_count(const struct ionpu_network *net)
{
	return net ? net->n_projs : 0;
}

IONPU_API int ionpu_network_find(const struct ionpu_network *net,
				 const char *name, uint32_t *id)
{
	if (!net || !name || !id)
		return ionpu_error(-EINVAL,
				   "ionpu_network_find: NULL argument");
	for (size_t i = 0; i < net->n_nodes; i++) {
		if (!strcmp(net->nodes[i].name, name)) {
			*id = (uint32_t)i;
			return 0;
		}
	}
	return ionpu_error(-ENOENT, "network: no node '%s'", name);
}

IONPU_API int ionpu_network_node(const struct ionpu_network *net, uint32_t id,
				 struct ionpu_node_info *out)
{
	const struct net_node *node;

	if (!net || !out || id >= net->n_nodes)
		return ionpu_error(-EINVAL, "network: no node %u", id);
	node = &net->nodes[id];
	*out = (struct ionpu_node_info){
		.name = node->name,
		.kind = node->kind,
		.model = node->model,
		.size = node->size,
		.output = node->output,
	};
	for (int i = 0; i < P_COUNT; i++)
		*params_slot(&out->params, i) = node->param[i];
	return 0;
}

IONPU_API int ionpu_network_projection(const struct ionpu_network *net,
				       uint32_t id,
				       struct ionpu_projection_info *out)
{
	if (!net || !out || id >= net->n_projs)
		return ionpu_error(-EINVAL, "network: no projection %u", id);
	*out = net->projs[id].info;
	return 0;
}

/* One output neuron of a convolution. */
struct conv_out {
	uint32_t channel;
	uint32_t y;
	uint32_t x;
};

/*
 * The synapses into output neuron @o from kernel row @ky of input channel
 * @ic (its @k-th of the group): one per kernel column that lands inside
 * the input.
 */
static void conv_row(const struct ionpu_conv *c, const struct conv_out *o,
		     uint32_t post, uint32_t ic, uint32_t k, uint32_t ky,
		     ionpu_synapse_fn fn, void *ctx)
{
	uint32_t cin_g = c->in_channels / c->groups;
	int64_t iy = (int64_t)o->y * c->stride_h - c->pad_h +
		     (int64_t)ky * c->dilation_h;
	size_t row = (((size_t)o->channel * cin_g + k) * c->kernel_h + ky) *
		     c->kernel_w;

	if (iy < 0 || iy >= c->in_height)
		return;
	for (uint32_t kx = 0; kx < c->kernel_w; kx++) {
		int64_t ix = (int64_t)o->x * c->stride_w - c->pad_w +
			     (int64_t)kx * c->dilation_w;
		double w = c->weight[row + kx];

		if (ix < 0 || ix >= c->in_width || w == 0)
			continue;
		fn(ctx, (uint32_t)((ic * c->in_height + iy) * c->in_width + ix),
		   post, w);
	}
}

/* Every synapse into output neuron @o. */
static void conv_neuron(const struct ionpu_conv *c, const struct conv_out *o,
			ionpu_synapse_fn fn, void *ctx)
{
	uint32_t cin_g = c->in_channels / c->groups;
	uint32_t g = o->channel / (c->out_channels / c->groups);
	uint32_t post =
		(o->channel * c->out_height + o->y) * c->out_width + o->x;

	for (uint32_t k = 0; k < cin_g; k++)
		for (uint32_t ky = 0; ky < c->kernel_h; ky++)
			conv_row(c, o, post, g * cin_g + k, k, ky, fn, ctx);
}

void ionpu_conv_for_each(const struct ionpu_conv *c, ionpu_synapse_fn fn,
			 void *ctx)
{
	struct conv_out o;

	for (o.channel = 0; o.channel < c->out_channels; o.channel++)
		for (o.y = 0; o.y < c->out_height; o.y++)
			for (o.x = 0; o.x < c->out_width; o.x++)
				conv_neuron(c, &o, fn, ctx);
}

void ionpu_projection_for_each(const struct ionpu_projection_info *p,
			       uint32_t src_size, uint32_t dst_size,
			       ionpu_synapse_fn fn, void *ctx)
{
	switch (p->kind) {
	case IONPU_PROJ_DENSE:
		for (uint32_t post = 0; post < dst_size; post++)
			for (uint32_t pre = 0; pre < src_size; pre++)
				if (p->weight[(size_t)post * src_size + pre] !=
				    0)
					fn(ctx, pre, post,
					   p->weight[(size_t)post * src_size +
						     pre]);
		break;
	case IONPU_PROJ_SPARSE:
		for (size_t i = 0; i < p->nnz; i++)
			if (p->weight[i] != 0)
				fn(ctx, p->pre[i], p->post[i], p->weight[i]);
		break;
	case IONPU_PROJ_CONV:
		ionpu_conv_for_each(&p->conv, fn, ctx);
		break;
	}
}

struct matrix_ctx {
	double *m;
	uint32_t cols;
};

static void add_to_matrix(void *ctx, uint32_t pre, uint32_t post, double w)
{
	struct matrix_ctx *mc = ctx;

	mc->m[(size_t)post * mc->cols + pre] += w;
}

IONPU_API int ionpu_network_projection_matrix(const struct ionpu_network *net,
					      uint32_t id, double *out)
{
	const struct ionpu_projection_info *p;
	struct matrix_ctx mc;
	uint32_t ns, nd;

	if (!net || !out || id >= net->n_projs)
		return ionpu_error(-EINVAL, "network: no projection %u", id);
	p = &net->projs[id].info;
	ns = net->nodes[p->src].size;
	nd = net->nodes[p->dst].size;
	memset(out, 0, (size_t)ns * nd * sizeof(*out));
	mc = (struct matrix_ctx){ .m = out, .cols = ns };
	ionpu_projection_for_each(p, ns, nd, add_to_matrix, &mc);
	return 0;
}

/* One node of @net into @copy, as it was added. */
static int copy_node(struct ionpu_network *copy,
		     const struct ionpu_network *net, uint32_t id)
{
	struct ionpu_node_info n;
	int err;

	ionpu_network_node(net, id, &n);
	if (n.kind == IONPU_NODE_INPUT)
		return ionpu_network_add_input(copy, n.name, n.size, NULL);
	err = ionpu_network_add_population(copy, n.name, n.model, n.size,
					   &n.params, NULL);
	if (!err && n.output)
		err = ionpu_network_mark_output(copy, id);
	return err;
}

int ionpu_network_add_projection(struct ionpu_network *net,
				 const struct ionpu_projection_info *p,
				 uint32_t src, uint32_t dst)
{
	switch (p->kind) {
	case IONPU_PROJ_DENSE:
		return ionpu_network_add_dense(net, src, dst, p->weight,
					       p->delay, NULL);
	case IONPU_PROJ_SPARSE:
		return ionpu_network_add_sparse(net, src, dst, p->nnz, p->pre,
						p->post, p->weight, p->delay,
						NULL);
	case IONPU_PROJ_CONV:
		return ionpu_network_add_conv(net, src, dst, &p->conv, p->delay,
					      NULL);
	}
	return ionpu_error(-EINVAL, "network: projection of unknown kind %d",
			   (int)p->kind);
}

static int copy_proj(struct ionpu_network *copy,
		     const struct ionpu_network *net, uint32_t id)
{
	struct ionpu_projection_info p;

	ionpu_network_projection(net, id, &p);
	return ionpu_network_add_projection(copy, &p, p.src, p.dst);
}

int ionpu_network_copy(const struct ionpu_network *net,
		       struct ionpu_network **out)
{
	struct ionpu_network *copy = NULL;
	int err;

	err = ionpu_network_create(&copy);
	if (err)
		return err;
	for (uint32_t i = 0; i < net->n_nodes && !err; i++)
		err = copy_node(copy, net, i);
	for (uint32_t i = 0; i < net->n_projs && !err; i++)
		err = copy_proj(copy, net, i);
	if (err) {
		ionpu_network_free(copy);
		return err;
	}
	*out = copy;
	return 0;
}

int ionpu_network_set_dense(struct ionpu_network *net, uint32_t id,
			    const double *weight)
{
	struct net_proj *p;
	uint32_t ns, nd;

	if (id >= net->n_projs || net->projs[id].info.kind != IONPU_PROJ_DENSE)
		return ionpu_error(-EINVAL,
				   "network: projection %u is not dense", id);
	p = &net->projs[id];
	ns = net->nodes[p->info.src].size;
	nd = net->nodes[p->info.dst].size;
	for (size_t k = 0; k < (size_t)ns * nd; k++)
		if (!isfinite(weight[k]))
			return ionpu_error(-EINVAL,
					   "network: projection %u: weight %zu is %g",
					   id, k, weight[k]);
	memcpy(p->weight, weight, (size_t)ns * nd * sizeof(*weight));
	return 0;
}
