// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Splitting a network over cards (ionpu_split_compile()).
 *
 * Whole populations are dealt to the cards in node order, each card taking
 * them while the compiler still fits its part on it: the compiler is the one
 * judge of what fits (rows, chains, tiles shared by small groups), so the
 * split needs no model of its own.  Each part is an ordinary network, so the
 * compiler, the host reference and the card path take it unchanged, and its
 * nodes keep the network's order, so a part's input and output channels are
 * in the network's order too (which keeps the order in which a card adds up
 * one step's input events that of the whole network where it can).
 *
 * A population on another card that feeds a part becomes an input node of
 * that part, of the population's name and size.  On one card a spike of
 * step t is integrated in step t + 1 + delay and host input of step t in
 * step t + delay, so the runner (ionpu_multi.c) gives the spike to the
 * other card as its input of step t + 1 and the projection keeps its delay.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_internal.h"
#include "ionpu_split.h"

/* Part of a node that is on no card: an input, or a population not dealt yet. */
#define NO_PART IONPU_SPLIT_CALLER

/* What a part needs of a node of the network, besides its own populations. */
#define NEED_SOURCE (1u << 0) /* a projection into the part starts there */
#define NEED_EXPORT (1u << 1) /* the part's population feeds another part */

static void part_free(struct ionpu_split_part *p)
{
	ionpu_plan_free(p->plan);
	ionpu_network_free(p->net);
	p->plan = NULL;
	p->net = NULL;
}

static int part_needs(const struct ionpu_network *net, const uint32_t *part_of,
		      uint32_t k, uint8_t *need)
{
	size_t n_projs = ionpu_network_projection_count(net);

	for (size_t j = 0; j < n_projs; j++) {
		struct ionpu_projection_info p;
		int err = ionpu_network_projection(net, (uint32_t)j, &p);

		if (err)
			return err;
		if (part_of[p.dst] == k)
			need[p.src] |= NEED_SOURCE;
		else if (part_of[p.src] == k)
			need[p.src] |= NEED_EXPORT;
	}
	return 0;
}

/* Add node @i of @net to part @pn as part @k needs it; @id[i] its number there. */
static int part_node(struct ionpu_network *pn, const struct ionpu_network *net,
		     const uint32_t *part_of, uint32_t k, uint8_t need,
		     uint32_t i, uint32_t *id, bool *output)
{
	struct ionpu_node_info n;
	int err = ionpu_network_node(net, i, &n);

	if (err)
		return err;
	if (n.kind == IONPU_NODE_POPULATION && part_of[i] == k) {
		err = ionpu_network_add_population(pn, n.name, n.model, n.size,
						   &n.params, id);
		if (err || !(n.output || (need & NEED_EXPORT)))
			return err;
		*output = true;
		return ionpu_network_mark_output(pn, *id);
	}
	if (need & NEED_SOURCE)
		return ionpu_network_add_input(pn, n.name, n.size, id);
	return 0;
}

/*
 * Part @k's network as the populations stand dealt in @part_of; @id (one
 * per node of @net) gets each node's number in it, UINT32_MAX when absent.
 */
static int part_network(const struct ionpu_network *net,
			const uint32_t *part_of, uint32_t k, uint32_t *id,
			struct ionpu_network **out)
{
	size_t n_nodes = ionpu_network_node_count(net);
	size_t n_projs = ionpu_network_projection_count(net);
	struct ionpu_network *pn = NULL;
	uint32_t last = UINT32_MAX;
	bool output = false;
	uint8_t *need;
	int err;

	need = calloc(n_nodes ? n_nodes : 1, 1);
	if (!need)
		return ionpu_error(-ENOMEM, "split: out of memory");
	err = part_needs(net, part_of, k, need);
	if (err)
		goto out;
	err = ionpu_network_create(&pn);
	for (uint32_t i = 0; !err && i < n_nodes; i++) {
		id[i] = UINT32_MAX;
		err = part_node(pn, net, part_of, k, need[i], i, &id[i],
				&output);
		if (part_of[i] == k)
			last = id[i];
	}
	/*
	 * A part whose spikes go nowhere still computes what the network says;
	 * the card path wants an output, whose spikes the run drops.
	 */
	if (!err && !output && last != UINT32_MAX)
		err = ionpu_network_mark_output(pn, last);
	for (uint32_t j = 0; !err && j < n_projs; j++) {
		struct ionpu_projection_info p;

		err = ionpu_network_projection(net, j, &p);
		if (!err && part_of[p.dst] == k)
			err = ionpu_network_add_projection(pn, &p, id[p.src],
							   id[p.dst]);
	}
out:
	free(need);
	if (err) {
		ionpu_network_free(pn);
		return err;
	}
	*out = pn;
	return 0;
}

static int compile_part(const struct ionpu_network *net,
			const uint32_t *part_of, uint32_t k,
			const struct ionpu_card_desc *card, uint32_t flags,
			uint32_t *id, struct ionpu_split_part *out)
{
	int err = part_network(net, part_of, k, id, &out->net);

	if (err)
		return err;
	err = ionpu_compile_flags(out->net, card, flags, &out->plan);
	if (err)
		part_free(out);
	return err;
}

/*
 * Deal the populations to the cards: @part_of filled, *@n_parts the cards
 * used.  @id is scratch, one per node.
 */
static int deal(const struct ionpu_network *net,
		const struct ionpu_card_desc *cards, size_t n_cards,
		uint32_t flags, uint32_t *part_of, uint32_t *id,
		size_t *n_parts)
{
	size_t n_nodes = ionpu_network_node_count(net);
	bool empty = true;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n_nodes; i++) {
		struct ionpu_split_part trial = { 0 };
		struct ionpu_node_info n;
		char why[256];
		int err;

		ionpu_network_node(net, i, &n);
		if (n.kind != IONPU_NODE_POPULATION)
			continue;
		for (;;) {
			part_of[i] = k;
			err = compile_part(net, part_of, k, &cards[k], flags,
					   id, &trial);
			if (!err)
				break;
			if (err != -ENOSPC)
				return err;
			if (empty) {
				snprintf(why, sizeof(why), "%s",
					 ionpu_last_error());
				return ionpu_error(-ENOSPC,
						   "split: population '%s' does not fit on card %u alone, and a population is not split over cards (%s)",
						   n.name, k, why);
			}
			part_of[i] = NO_PART;
			if (++k == n_cards)
				return ionpu_error(-ENOSPC,
						   "split: the network needs more than the %zu cards given: population '%s' and those after it do not fit",
						   n_cards, n.name);
			empty = true;
		}
		part_free(&trial);
		empty = false;
	}
	*n_parts = k + 1;
	return 0;
}

static struct ionpu_split_span *add_span(struct ionpu_split *s,
					 enum ionpu_split_span_kind kind)
{
	return &s->span[kind][s->n_span[kind]++];
}

/*
 * Where each step's values go (&struct ionpu_split_span), from the parts'
 * node numbers @ids (one row of n_nodes per part).
 */
static int make_spans(struct ionpu_split *s, const struct ionpu_network *net,
		      const uint32_t *ids)
{
	size_t *user_at, *out_at, in_at = 0, res_at = 0;
	int err = 0;

	user_at = calloc(s->n_nodes + 1, sizeof(*user_at));
	out_at = calloc(s->n_nodes + 1, sizeof(*out_at));
	for (int kind = 0; kind < IONPU_SPAN_KINDS; kind++)
		s->span[kind] = calloc(s->n_nodes * s->n_parts + 1,
				       sizeof(*s->span[kind]));
	if (!user_at || !out_at || !s->span[IONPU_SPAN_FEED] ||
	    !s->span[IONPU_SPAN_IMPORT] || !s->span[IONPU_SPAN_RESULT]) {
		err = ionpu_error(-ENOMEM, "split: out of memory");
		goto out;
	}
	/* The caller's channels: every input node's, every output population's. */
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct ionpu_node_info n;

		ionpu_network_node(net, i, &n);
		if (n.kind == IONPU_NODE_INPUT) {
			user_at[i] = in_at;
			in_at += n.size;
		} else if (n.output) {
			user_at[i] = res_at;
			res_at += n.size;
		}
	}
	s->inputs = in_at;
	s->outputs = res_at;
	/* Each population's place in its part's output. */
	for (size_t k = 0; k < s->n_parts; k++) {
		const uint32_t *id = ids + k * s->n_nodes;
		size_t at = 0;

		for (uint32_t i = 0; i < s->n_nodes; i++) {
			struct ionpu_node_info n;

			if (s->part_of[i] != k)
				continue;
			ionpu_network_node(s->part[k].net, id[i], &n);
			if (!n.output)
				continue;
			out_at[i] = at;
			at += n.size;
		}
	}
	for (uint32_t k = 0; k < s->n_parts; k++) {
		const uint32_t *id = ids + (size_t)k * s->n_nodes;
		uint32_t at = 0;

		for (uint32_t i = 0; i < s->n_nodes; i++) {
			struct ionpu_node_info whole, n;
			struct ionpu_split_span *sp;

			if (id[i] == UINT32_MAX)
				continue;
			ionpu_network_node(net, i, &whole);
			ionpu_network_node(s->part[k].net, id[i], &n);
			if (n.kind == IONPU_NODE_POPULATION) {
				if (!whole.output)
					continue;
				sp = add_span(s, IONPU_SPAN_RESULT);
				*sp = (struct ionpu_split_span){
					k, (uint32_t)out_at[i],
					IONPU_SPLIT_CALLER,
					(uint32_t)user_at[i], n.size
				};
				continue;
			}
			if (whole.kind == IONPU_NODE_INPUT) {
				sp = add_span(s, IONPU_SPAN_FEED);
				*sp = (struct ionpu_split_span){
					IONPU_SPLIT_CALLER,
					(uint32_t)user_at[i], k, at, n.size
				};
			} else {
				sp = add_span(s, IONPU_SPAN_IMPORT);
				*sp = (struct ionpu_split_span){
					s->part_of[i], (uint32_t)out_at[i], k,
					at, n.size
				};
			}
			at += n.size;
		}
	}
out:
	free(user_at);
	free(out_at);
	return err;
}

static bool has_output(const struct ionpu_network *net)
{
	size_t n_nodes = ionpu_network_node_count(net);

	for (uint32_t i = 0; i < n_nodes; i++) {
		struct ionpu_node_info n;

		ionpu_network_node(net, i, &n);
		if (n.kind == IONPU_NODE_POPULATION && n.output)
			return true;
	}
	return false;
}

IONPU_API int ionpu_split_compile(const struct ionpu_network *net,
				  const struct ionpu_card_desc *cards,
				  size_t n_cards, uint32_t flags,
				  struct ionpu_split **out)
{
	struct ionpu_split *s;
	uint32_t *ids = NULL;
	int err;

	if (!net || !cards || !out)
		return ionpu_error(-EINVAL, "split: NULL argument");
	if (!n_cards || n_cards >= NO_PART)
		return ionpu_error(-EINVAL, "split: %zu cards: give 1 to %u",
				   n_cards, NO_PART - 1);
	if (!has_output(net))
		return ionpu_error(-EINVAL,
				   "split: the network has no output population: a run would return nothing");
	s = calloc(1, sizeof(*s));
	if (!s)
		return ionpu_error(-ENOMEM, "split: out of memory");
	s->n_nodes = ionpu_network_node_count(net);
	s->part_of = malloc((s->n_nodes + 1) * sizeof(*s->part_of));
	ids = malloc((s->n_nodes * n_cards + 1) * sizeof(*ids));
	s->part = calloc(n_cards, sizeof(*s->part));
	if (!s->part_of || !ids || !s->part) {
		err = ionpu_error(-ENOMEM, "split: out of memory");
		goto err_free;
	}
	for (size_t i = 0; i < s->n_nodes; i++)
		s->part_of[i] = NO_PART;
	err = deal(net, cards, n_cards, flags, s->part_of, ids, &s->n_parts);
	if (err)
		goto err_free;
	/* Again with every population dealt: a part's imports and exports are final now. */
	for (uint32_t k = 0; k < s->n_parts; k++) {
		err = compile_part(net, s->part_of, k, &cards[k], flags,
				   ids + (size_t)k * s->n_nodes, &s->part[k]);
		if (err)
			goto err_free;
	}
	err = make_spans(s, net, ids);
	if (err)
		goto err_free;
	free(ids);
	*out = s;
	return 0;

err_free:
	free(ids);
	ionpu_split_free(s);
	return err;
}

IONPU_API void ionpu_split_free(struct ionpu_split *s)
{
	if (!s)
		return;
	for (size_t k = 0; s->part && k < s->n_parts; k++)
		part_free(&s->part[k]);
	for (int kind = 0; kind < IONPU_SPAN_KINDS; kind++)
		free(s->span[kind]);
	free(s->part);
	free(s->part_of);
	free(s);
}

IONPU_API size_t ionpu_split_parts(const struct ionpu_split *s)
{
	return s->n_parts;
}

IONPU_API const struct ionpu_network *
ionpu_split_network(const struct ionpu_split *s, size_t part)
{
	return part < s->n_parts ? s->part[part].net : NULL;
}

IONPU_API const struct ionpu_plan *ionpu_split_plan(const struct ionpu_split *s,
						    size_t part)
{
	return part < s->n_parts ? s->part[part].plan : NULL;
}

IONPU_API int ionpu_split_part_of(const struct ionpu_split *s, uint32_t node)
{
	if (node >= s->n_nodes || s->part_of[node] == NO_PART)
		return ionpu_error(-EINVAL,
				   "split: node %u is no population of the network",
				   node);
	return (int)s->part_of[node];
}
