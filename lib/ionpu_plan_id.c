// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a plan was compiled from, as hashes: one per node (name, kind, model,
 * size, output flag, every parameter), one per projection (its ends, kind,
 * every weight, synapse and delay), and the plan's id over those, the card
 * description and the compile options.  A plan is only ever right for the
 * network it was compiled from: the card image (lib/ionpu_image.c) checks
 * the network it is given against these, so a network whose weights or
 * parameters changed since is refused, naming what changed, instead of
 * running on the old weights.
 *
 * The hash mixes 64-bit words as MurmurHash3's 64-bit variant does: not a
 * cryptographic digest, but every bit of every value moves the result,
 * which is what telling a changed network from the same one needs.  Values
 * are hashed as their bits: a weight of -0.0 differs from 0.0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_internal.h"

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static void mix(uint64_t *h, uint64_t k)
{
	k *= 0x87c37b91114253d5ull;
	k = rotl(k, 31);
	k *= 0x4cf5ad432745937full;
	*h ^= k;
	*h = rotl(*h, 27) * 5 + 0x52dce729;
}

static void mix_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t k;

	for (; n >= sizeof(k); n -= sizeof(k), b += sizeof(k)) {
		memcpy(&k, b, sizeof(k));
		mix(h, k);
	}
	k = 0;
	memcpy(&k, b, n);
	mix(h, k ^ ((uint64_t)n << 56));
}

/* @n values, or a marker that there are none (a parameter left unset). */
static void mix_values(uint64_t *h, const double *v, size_t n)
{
	mix(h, v != NULL);
	if (v)
		mix_bytes(h, v, n * sizeof(*v));
}

static uint64_t finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint64_t node_hash(const struct ionpu_network *net, uint32_t id)
{
	struct ionpu_node_info n;
	const struct ionpu_neuron_params *p = &n.params;
	uint64_t h = 0x6e6f6465; /* "node" */

	ionpu_network_node(net, id, &n);
	mix_bytes(&h, n.name, strlen(n.name));
	mix(&h, n.kind);
	mix(&h, n.model);
	mix(&h, n.size);
	mix(&h, n.output);
	mix_values(&h, p->tau, n.size);
	mix_values(&h, p->tau_syn, n.size);
	mix_values(&h, p->tau_mem, n.size);
	mix_values(&h, p->r, n.size);
	mix_values(&h, p->v_leak, n.size);
	mix_values(&h, p->v_threshold, n.size);
	mix_values(&h, p->v_reset, n.size);
	mix_values(&h, p->w_in, n.size);
	mix_values(&h, p->bias, n.size);
	return finish(h);
}

static uint64_t projection_hash(const struct ionpu_network *net, uint32_t k)
{
	struct ionpu_projection_info p;
	struct ionpu_node_info src, dst;
	const struct ionpu_conv *c = &p.conv;
	uint64_t h = 0x70726f6a; /* "proj" */

	ionpu_network_projection(net, k, &p);
	ionpu_network_node(net, p.src, &src);
	ionpu_network_node(net, p.dst, &dst);
	mix(&h, p.kind);
	mix(&h, p.src);
	mix(&h, p.dst);
	switch (p.kind) {
	case IONPU_PROJ_DENSE:
		mix_values(&h, p.weight, (size_t)src.size * dst.size);
		break;
	case IONPU_PROJ_SPARSE:
		mix(&h, p.nnz);
		mix_bytes(&h, p.pre, p.nnz * sizeof(*p.pre));
		mix_bytes(&h, p.post, p.nnz * sizeof(*p.post));
		mix_values(&h, p.weight, p.nnz);
		break;
	case IONPU_PROJ_CONV:
		/* Member by member: the struct has padding. */
		mix(&h, c->in_channels);
		mix(&h, c->in_height);
		mix(&h, c->in_width);
		mix(&h, c->out_channels);
		mix(&h, c->kernel_h);
		mix(&h, c->kernel_w);
		mix(&h, c->stride_h);
		mix(&h, c->stride_w);
		mix(&h, c->pad_h);
		mix(&h, c->pad_w);
		mix(&h, c->dilation_h);
		mix(&h, c->dilation_w);
		mix(&h, c->groups);
		mix_values(&h, c->weight, ionpu_conv_weight_count(c));
		break;
	}
	mix_values(&h, p.delay, src.size);
	return finish(h);
}

int ionpu_plan_fingerprint(struct ionpu_plan *plan,
			   const struct ionpu_network *net,
			   const struct ionpu_compile_opts *opts)
{
	const struct ionpu_card_desc *c = &plan->card;
	size_t n_nodes = ionpu_network_node_count(net);
	size_t n_projs = ionpu_network_projection_count(net);
	uint64_t h = 0x706c616e; /* "plan" */

	plan->node_hash =
		malloc((n_nodes ? n_nodes : 1) * sizeof(*plan->node_hash));
	plan->proj_hash =
		malloc((n_projs ? n_projs : 1) * sizeof(*plan->proj_hash));
	if (!plan->node_hash || !plan->proj_hash)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	plan->n_projs = n_projs;
	mix(&h, n_nodes);
	for (uint32_t i = 0; i < n_nodes; i++) {
		plan->node_hash[i] = node_hash(net, i);
		mix(&h, plan->node_hash[i]);
	}
	mix(&h, n_projs);
	for (uint32_t k = 0; k < n_projs; k++) {
		plan->proj_hash[k] = projection_hash(net, k);
		mix(&h, plan->proj_hash[k]);
	}
	mix(&h, c->tiles);
	mix(&h, c->tile_rows);
	mix(&h, c->tile_neurons);
	mix_bytes(&h, &c->g_min_us, sizeof(c->g_min_us));
	mix_bytes(&h, &c->g_max_us, sizeof(c->g_max_us));
	mix(&h, c->g_levels);
	mix(&h, c->max_delay_steps);
	mix_bytes(&h, &c->dt, sizeof(c->dt));
	mix(&h, opts->flags);
	mix(&h, opts->n_learn);
	for (size_t i = 0; i < opts->n_learn; i++)
		mix_bytes(&h, opts->learn[i], strlen(opts->learn[i]));
	plan->id = finish(h);
	return 0;
}

int ionpu_plan_check_network(const struct ionpu_plan *plan,
			     const struct ionpu_network *net)
{
	size_t n_nodes = ionpu_network_node_count(net);
	size_t n_projs = ionpu_network_projection_count(net);
	struct ionpu_projection_info p;
	struct ionpu_node_info n, src, dst;

	if (n_nodes != plan->n_nodes || n_projs != plan->n_projs)
		return ionpu_error(-EINVAL,
				   "image: the plan is of a network of %zu nodes and %zu projections, this one has %zu and %zu",
				   plan->n_nodes, plan->n_projs, n_nodes,
				   n_projs);
	for (uint32_t i = 0; i < n_nodes; i++) {
		ionpu_network_node(net, i, &n);
		if (strcmp(n.name, plan->node_names[i]))
			return ionpu_error(-EINVAL,
					   "image: node %u is '%s' in the plan, '%s' in the network",
					   i, plan->node_names[i], n.name);
		if (node_hash(net, i) != plan->node_hash[i])
			return ionpu_error(-ESTALE,
					   "image: node '%s' changed since the plan was compiled (its size, parameters or output flag): compile again",
					   n.name);
	}
	for (uint32_t k = 0; k < n_projs; k++) {
		if (projection_hash(net, k) == plan->proj_hash[k])
			continue;
		ionpu_network_projection(net, k, &p);
		ionpu_network_node(net, p.src, &src);
		ionpu_network_node(net, p.dst, &dst);
		return ionpu_error(-ESTALE,
				   "image: projection %u ('%s' to '%s') changed since the plan was compiled (its weights, synapses or delays): compile again",
				   k, src.name, dst.name);
	}
	return 0;
}

IONPU_API uint64_t ionpu_plan_id(const struct ionpu_plan *plan)
{
	return plan->id;
}
