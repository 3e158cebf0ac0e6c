// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The compiler: maps a network onto a card's tiles, offline.
 *
 * A crossbar row carries the spikes of one source neuron arriving with one
 * delay, so rows are keyed by (source node, neuron, delay in steps) and two
 * projections from the same source with the same delay share a row (their
 * weights add).  Each population is cut into groups of at most one tile's
 * neurons.  A group whose rows fit one tile shares a tile with other such
 * groups while the neurons and the union of the rows fit; a group with more
 * rows gets a chain of tiles, each holding a slice of its rows, whose columns
 * sum into the neurons of the chain's first tile.  Recurrence needs nothing
 * special: a population's neurons are just sources of rows like any other.
 *
 * A population the card is to learn gets a tile of its own, with a row for
 * every source neuron and a cell for every (row, column), zero or not: the
 * learning rule pulses the cells of the rows that spiked, so each must be
 * on the crossbar, and no other population's cells may share those rows.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hw/ionpu_regs.h>

#include "ionpu_internal.h"

_Static_assert(IONPU_CARD_MAX_TILES == IONPU_FAB_MAX_TILES,
	       "ionpu.h's tile bound is the card's");

struct row_key {
	uint32_t node;
	uint32_t neuron;
	uint32_t delay;
};

struct syn {
	struct row_key key;
	uint32_t col; /* neuron within the group */
	double w;
};

struct group {
	uint32_t pop;
	uint32_t first;
	uint32_t count;
	struct syn *syns; /* sorted by key then col, one per (key, col) */
	size_t n_syns;
	struct row_key *rows; /* distinct keys, sorted */
	size_t n_rows;
	uint32_t tile;	/* its tile, or the first of its chain */
	uint32_t chain; /* tiles in its chain; 1 if it shares a tile */
	uint32_t col0;	/* its first column */
	bool learned;
	double learn_max; /* learned: the largest |weight| of its projection */
};

enum tile_use {
	TILE_SHARED,  /* populations of one model may share its columns */
	TILE_CHAINED, /* one of a chain whose rows add into one population */
	TILE_LEARNED, /* one learned population, alone */
};

struct tile_fill {
	struct row_key *rows; /* shared and learned tiles: the union, sorted */
	size_t n_rows;
	uint32_t neurons;
	enum tile_use use;
	uint32_t owner; /* population that opened it, for the report */
};

struct compiler {
	const struct ionpu_network *net;
	const struct ionpu_card_desc *card;
	const struct ionpu_compile_opts *opts;
	struct group *groups;
	size_t n_groups;
	/* Each population's groups are consecutive from this one. */
	size_t *first_group;
	struct tile_fill *tiles;
	uint32_t n_tiles;
	/* Delay of each source neuron of the projection being collected. */
	uint32_t *delay_steps;
	struct group *cur; /* the first group of its target */
	struct ionpu_projection_info *proj;
	int err;
};

/*
 * IONPU-1's synapses and router, from the card's model (fabric/ionpu_fabric.h),
 * which the library links: the card has no register for them.
 */
IONPU_API void ionpu_card_desc_default(uint32_t tiles,
				       struct ionpu_card_desc *out)
{
	*out = (struct ionpu_card_desc){
		.tiles = tiles,
		.tile_rows = IONPU_FAB_ROWS,
		.tile_neurons = IONPU_FAB_NEURONS,
		.g_min_us = IONPU_FAB_G_MIN,
		.g_max_us = IONPU_FAB_G_MAX,
		.g_levels = IONPU_FAB_G_LEVELS,
		.max_delay_steps = IONPU_FAB_MAX_DELAY,
		.dt = 1e-3,
	};
}

IONPU_API int ionpu_card_desc_of(struct ionpu_dev *dev,
				 struct ionpu_card_desc *out)
{
	struct ionpu_dev_info info;
	int ret;

	if (!dev || !out)
		return ionpu_error(-EINVAL,
				   "ionpu_card_desc_of: NULL argument");
	ret = ionpu_info(dev, &info);
	if (ret)
		return ret;
	if (info.hw_version_major != IONPU_VERSION_MAJOR(IONPU_HW_VERSION))
		return ionpu_error(-EOPNOTSUPP,
				   "card version %u.%u; this library knows %u.x",
				   info.hw_version_major, info.hw_version_minor,
				   IONPU_VERSION_MAJOR(IONPU_HW_VERSION));
	if (!(info.caps & IONPU_DEV_CAP_QUEUES))
		return ionpu_error(-EOPNOTSUPP,
				   "the card has no command queues: it runs no networks");
	ionpu_card_desc_default(info.tiles, out);
	out->tile_rows = info.tile_rows;
	out->tile_neurons = info.tile_neurons;
	return 0;
}

static int key_cmp(const struct row_key *a, const struct row_key *b)
{
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	if (a->neuron != b->neuron)
		return a->neuron < b->neuron ? -1 : 1;
	if (a->delay != b->delay)
		return a->delay < b->delay ? -1 : 1;
	return 0;
}

static int syn_cmp(const void *a, const void *b)
{
	const struct syn *x = a, *y = b;
	int c = key_cmp(&x->key, &y->key);

	if (c)
		return c;
	return x->col < y->col ? -1 : x->col > y->col;
}

static void collect_syn(void *ctx, uint32_t pre, uint32_t post, double w)
{
	struct compiler *C = ctx;
	struct group *g = C->cur + post / C->card->tile_neurons;
	struct syn *p;

	if (C->err)
		return;
	if ((g->n_syns & (g->n_syns - 1)) == 0) {
		p = realloc(g->syns,
			    (g->n_syns ? g->n_syns * 2 : 1) * sizeof(*p));
		if (!p) {
			C->err = ionpu_error(-ENOMEM, "compile: out of memory");
			return;
		}
		g->syns = p;
	}
	g->syns[g->n_syns++] = (struct syn){
		.key = { C->proj->src, pre, C->delay_steps[pre] },
		.col = post - g->first,
		.w = w,
	};
}

static int delays_in_steps(struct compiler *C,
			   const struct ionpu_projection_info *p,
			   uint32_t src_size)
{
	struct ionpu_node_info s, d;

	for (uint32_t i = 0; i < src_size; i++) {
		double steps = p->delay ? p->delay[i] / C->card->dt : 0;
		double whole = nearbyint(steps);

		C->delay_steps[i] = (uint32_t)whole;
		if (fabs(steps - whole) <= 1e-6 * (whole > 1 ? whole : 1) &&
		    whole <= C->card->max_delay_steps)
			continue;
		ionpu_network_node(C->net, p->src, &s);
		ionpu_network_node(C->net, p->dst, &d);
		if (whole > C->card->max_delay_steps)
			return ionpu_error(-ERANGE,
					   "projection '%s' -> '%s': delay of neuron %u is %.0f steps of %g s; the router delays at most %u",
					   s.name, d.name, i, whole,
					   C->card->dt,
					   C->card->max_delay_steps);
		return ionpu_error(-ERANGE,
				   "projection '%s' -> '%s': delay of neuron %u (%g s) is not a whole number of %g s steps",
				   s.name, d.name, i, p->delay[i], C->card->dt);
	}
	return 0;
}

/* Adds up a group's synapses sharing a row and column, and lists its rows. */
static int list_rows(struct group *g)
{
	size_t k = 0;

	if (g->n_syns)
		qsort(g->syns, g->n_syns, sizeof(*g->syns), syn_cmp);
	for (size_t i = 0; i < g->n_syns; i++) {
		if (k && !syn_cmp(&g->syns[k - 1], &g->syns[i]))
			g->syns[k - 1].w += g->syns[i].w;
		else
			g->syns[k++] = g->syns[i];
	}
	g->n_syns = k;
	g->rows = malloc((k ? k : 1) * sizeof(*g->rows));
	if (!g->rows)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	for (size_t i = 0; i < k; i++)
		if (!g->n_rows ||
		    key_cmp(&g->rows[g->n_rows - 1], &g->syns[i].key))
			g->rows[g->n_rows++] = g->syns[i].key;
	return 0;
}

/* The one projection into learned population @dst, which must be dense. */
static int learned_projection(const struct compiler *C,
			      const struct ionpu_node_info *dst, uint32_t pop,
			      struct ionpu_projection_info *out)
{
	size_t n_projs = ionpu_network_projection_count(C->net), found = 0;
	struct ionpu_projection_info p;
	struct ionpu_node_info src;

	for (uint32_t id = 0; id < n_projs; id++) {
		ionpu_network_projection(C->net, id, &p);
		if (p.dst != pop)
			continue;
		*out = p;
		found++;
	}
	if (found != 1)
		return ionpu_error(-EINVAL,
				   "compile: learned population '%s' has %zu projections into it; learning needs exactly one, dense",
				   dst->name, found);
	ionpu_network_node(C->net, out->src, &src);
	if (out->kind != IONPU_PROJ_DENSE)
		return ionpu_error(-EINVAL,
				   "compile: learned population '%s': its projection from '%s' is %s; learning needs a dense one",
				   dst->name, src.name,
				   out->kind == IONPU_PROJ_SPARSE ?
					   "sparse" :
					   "a convolution");
	if (src.size > C->card->tile_rows)
		return ionpu_error(-EINVAL,
				   "compile: learned population '%s': its source '%s' has %u neurons; learning needs each on a row of one tile, which has %u",
				   dst->name, src.name, src.size,
				   C->card->tile_rows);
	return 0;
}

/*
 * A learned group's synapses: every (source neuron, neuron) pair of its
 * projection, zeros included; all zero when learning from zero.
 */
static int collect_learned(struct compiler *C, struct group *g)
{
	bool from_zero = C->opts->flags & IONPU_COMPILE_LEARN_FROM_ZERO;
	struct ionpu_projection_info p;
	struct ionpu_node_info src, dst;
	int err;

	ionpu_network_node(C->net, g->pop, &dst);
	err = learned_projection(C, &dst, g->pop, &p);
	if (err)
		return err;
	ionpu_network_node(C->net, p.src, &src);
	free(C->delay_steps);
	C->delay_steps = malloc(src.size * sizeof(*C->delay_steps));
	g->syns = malloc((size_t)src.size * g->count * sizeof(*g->syns));
	if (!C->delay_steps || !g->syns)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	err = delays_in_steps(C, &p, src.size);
	if (err)
		return err;
	for (uint32_t i = 0; i < src.size; i++)
		for (uint32_t j = 0; j < g->count; j++) {
			double w =
				p.weight[(size_t)(g->first + j) * src.size + i];

			g->learn_max = fmax(g->learn_max, fabs(w));
			g->syns[g->n_syns++] = (struct syn){
				.key = { p.src, i, C->delay_steps[i] },
				.col = j,
				.w = from_zero ? 0 : w,
			};
		}
	if (g->learn_max == 0)
		g->learn_max = 1;
	return list_rows(g);
}

/*
 * Every group's synapses, and its rows.  One pass over the projections: a
 * population's groups are consecutive, so a synapse's group is its target
 * neuron divided by the tile's neurons (collect_syn()), and the time is
 * linear in the synapses however many groups there are.
 */
static int collect_groups(struct compiler *C)
{
	size_t n_projs = ionpu_network_projection_count(C->net);
	struct ionpu_projection_info p;
	struct ionpu_node_info src, dst;
	int err;

	for (uint32_t id = 0; id < n_projs && !C->err; id++) {
		ionpu_network_projection(C->net, id, &p);
		C->cur = &C->groups[C->first_group[p.dst]];
		if (C->cur->learned)
			continue;
		ionpu_network_node(C->net, p.src, &src);
		ionpu_network_node(C->net, p.dst, &dst);
		free(C->delay_steps);
		C->delay_steps = malloc(src.size * sizeof(*C->delay_steps));
		if (!C->delay_steps)
			return ionpu_error(-ENOMEM, "compile: out of memory");
		err = delays_in_steps(C, &p, src.size);
		if (err)
			return err;
		C->proj = &p;
		ionpu_projection_for_each(&p, src.size, dst.size, collect_syn,
					  C);
	}
	if (C->err)
		return C->err;
	for (size_t k = 0; k < C->n_groups; k++) {
		struct group *g = &C->groups[k];

		err = g->learned ? collect_learned(C, g) : list_rows(g);
		if (err)
			return err;
	}
	return 0;
}

/* Size of the union of two sorted key lists; merged into @out if not NULL. */
static size_t merge_rows(const struct row_key *a, size_t na,
			 const struct row_key *b, size_t nb,
			 struct row_key *out)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : key_cmp(&a[i], &b[j]);
		const struct row_key *k = c <= 0 ? &a[i] : &b[j];

		if (out)
			out[n] = *k;
		n++;
		i += c <= 0;
		j += c >= 0;
	}
	return n;
}

static int new_tiles(struct compiler *C, uint32_t count, uint32_t owner,
		     enum tile_use use)
{
	struct tile_fill *t =
		realloc(C->tiles, (C->n_tiles + count) * sizeof(*t));

	if (!t)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	C->tiles = t;
	for (uint32_t i = 0; i < count; i++)
		t[C->n_tiles + i] =
			(struct tile_fill){ .use = use, .owner = owner };
	C->n_tiles += count;
	return 0;
}

static enum ionpu_neuron_model pop_model(const struct compiler *C, uint32_t pop)
{
	struct ionpu_node_info n;

	ionpu_network_node(C->net, pop, &n);
	return n.model;
}

static int place_group(struct compiler *C, struct group *g)
{
	uint32_t R = C->card->tile_rows, N = C->card->tile_neurons;
	struct row_key *merged;
	struct tile_fill *t;
	int err;

	if (g->n_rows > R) {
		g->chain = (uint32_t)((g->n_rows + R - 1) / R);
		g->tile = C->n_tiles;
		g->col0 = 0;
		return new_tiles(C, g->chain, g->pop, TILE_CHAINED);
	}
	g->chain = 1;
	/* A tile runs one neuron model: only populations of one model share. */
	for (g->tile = g->learned ? C->n_tiles : 0; g->tile < C->n_tiles;
	     g->tile++) {
		t = &C->tiles[g->tile];
		if (t->use == TILE_SHARED && t->neurons + g->count <= N &&
		    pop_model(C, t->owner) == pop_model(C, g->pop) &&
		    merge_rows(t->rows, t->n_rows, g->rows, g->n_rows, NULL) <=
			    R)
			break;
	}
	if (g->tile == C->n_tiles) {
		err = new_tiles(C, 1, g->pop,
				g->learned ? TILE_LEARNED : TILE_SHARED);
		if (err)
			return err;
	}
	t = &C->tiles[g->tile];
	merged = malloc((t->n_rows + g->n_rows + 1) * sizeof(*merged));
	if (!merged)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	t->n_rows = merge_rows(t->rows, t->n_rows, g->rows, g->n_rows, merged);
	free(t->rows);
	t->rows = merged;
	g->col0 = t->neurons;
	t->neurons += g->count;
	return 0;
}

/* The -ENOSPC message: the total, then the three biggest consumers. */
static int too_big(struct compiler *C)
{
	size_t n_nodes = ionpu_network_node_count(C->net);
	uint32_t *used = calloc(n_nodes, sizeof(*used));
	char msg[448], chains[32];
	int len;

	if (!used)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	for (uint32_t t = 0; t < C->n_tiles; t++)
		used[C->tiles[t].owner]++;
	len = snprintf(msg, sizeof(msg),
		       "network needs %u tiles, card has %u:", C->n_tiles,
		       C->card->tiles);
	for (int rank = 0; rank < 3; rank++) {
		uint32_t best = 0, groups = 0, chain = 0;
		size_t rows = 0;
		struct ionpu_node_info n;

		for (uint32_t i = 1; i < n_nodes; i++)
			if (used[i] > used[best])
				best = i;
		if (!used[best])
			break;
		for (size_t k = 0; k < C->n_groups; k++) {
			if (C->groups[k].pop != best)
				continue;
			groups++;
			rows = C->groups[k].n_rows > rows ?
				       C->groups[k].n_rows :
				       rows;
			chain = C->groups[k].chain > chain ?
					C->groups[k].chain :
					chain;
		}
		ionpu_network_node(C->net, best, &n);
		chains[0] = '\0';
		if (chain > 1)
			snprintf(chains, sizeof(chains), ": chains of %u tiles",
				 chain);
		if (len > 0 && (size_t)len < sizeof(msg))
			len += snprintf(msg + len, sizeof(msg) - len,
					"%s population '%s' takes %u (%u neurons in %u groups of up to %u, up to %zu rows each%s)",
					rank ? ";" : "", n.name, used[best],
					n.size, groups, C->card->tile_neurons,
					rows, chains);
		used[best] = 0;
	}
	free(used);
	return ionpu_error(-ENOSPC, "%s", msg);
}

static int check_card(const struct ionpu_card_desc *c)
{
	if (!c->tiles || !c->tile_rows || !c->tile_neurons)
		return ionpu_error(-EINVAL,
				   "compile: card with %u tiles of %u rows x %u neurons",
				   c->tiles, c->tile_rows, c->tile_neurons);
	/* A plan for a card bigger than any IONPU-1 would load nowhere. */
	if (c->tiles > IONPU_FAB_MAX_TILES || c->tile_rows > IONPU_FAB_ROWS ||
	    c->tile_neurons > IONPU_FAB_NEURONS)
		return ionpu_error(-EINVAL,
				   "compile: card with %u tiles of %u rows x %u neurons; an IONPU-1 has at most %u tiles of %u x %u",
				   c->tiles, c->tile_rows, c->tile_neurons,
				   IONPU_FAB_MAX_TILES, IONPU_FAB_ROWS,
				   IONPU_FAB_NEURONS);
	if (c->g_levels > IONPU_FAB_G_LEVELS ||
	    c->max_delay_steps > IONPU_FAB_MAX_DELAY)
		return ionpu_error(-EINVAL,
				   "compile: card with %u conductance levels and delays up to %u steps; an IONPU-1 has at most %u and %u",
				   c->g_levels, c->max_delay_steps,
				   IONPU_FAB_G_LEVELS, IONPU_FAB_MAX_DELAY);
	if (!(c->g_min_us >= 0 && c->g_max_us > c->g_min_us &&
	      isfinite(c->g_max_us)) ||
	    c->g_levels < 2)
		return ionpu_error(-EINVAL,
				   "compile: conductance range %g..%g uS in %u levels",
				   c->g_min_us, c->g_max_us, c->g_levels);
	if (!(c->dt > 0 && isfinite(c->dt)))
		return ionpu_error(-EINVAL, "compile: time step %g s", c->dt);
	return 0;
}

/*
 * Forward Euler (docs/physics.md) moves v by a = dt / tau of the way to where
 * it relaxes; a > 1 overshoots it, a > 2 diverges: the spikes are not the
 * model's.  a = 1 lands on it, as a Threshold neuron does; graphs exported
 * with tau = dt in float have a a hair above 1, hence the tolerance.
 */
#define UNSTABLE_A (1 + 1e-6)

static int check_time_constant(const struct ionpu_node_info *n,
			       const char *what, const double *tau, double dt)
{
	for (uint32_t i = 0; tau && i < n->size; i++)
		if (!(dt / tau[i] <= UNSTABLE_A))
			return ionpu_error(-EINVAL,
					   "compile: population '%s', neuron %u: %s %g s is shorter than the time step %g s (dt / %s = %g > 1: forward Euler overshoots); IONPU_COMPILE_ALLOW_UNSTABLE compiles it anyway",
					   n->name, i, what, tau[i], dt, what,
					   dt / tau[i]);
	return 0;
}

/* Each time constant a population's model has. */
static int check_node_stability(const struct ionpu_node_info *n, double dt)
{
	static const char *const names[] = { "tau", "tau_mem", "tau_syn" };
	const double *taus[] = { n->params.tau, n->params.tau_mem,
				 n->params.tau_syn };
	int err;

	for (size_t k = 0; k < sizeof(taus) / sizeof(taus[0]); k++) {
		err = check_time_constant(n, names[k], taus[k], dt);
		if (err)
			return err;
	}
	return 0;
}

static int check_stability(const struct compiler *C)
{
	size_t n_nodes = ionpu_network_node_count(C->net);
	struct ionpu_node_info n;
	int err;

	for (uint32_t i = 0; i < n_nodes; i++) {
		ionpu_network_node(C->net, i, &n);
		err = check_node_stability(&n, C->card->dt);
		if (err)
			return err;
	}
	return 0;
}

static bool is_learned(const struct compiler *C, const char *name)
{
	for (size_t k = 0; k < C->opts->n_learn; k++)
		if (!strcmp(C->opts->learn[k], name))
			return true;
	return false;
}

/*
 * Each learned name a population that fits one tile, named once; a flag to
 * learn from zero only with something to learn.
 */
static int check_learned(const struct compiler *C)
{
	const struct ionpu_compile_opts *o = C->opts;
	struct ionpu_node_info n;
	uint32_t id;

	if ((o->flags & IONPU_COMPILE_LEARN_FROM_ZERO) && !o->n_learn)
		return ionpu_error(-EINVAL,
				   "compile: IONPU_COMPILE_LEARN_FROM_ZERO names no learned population");
	if (o->n_learn && !o->learn)
		return ionpu_error(-EINVAL,
				   "compile: %zu learned populations but no names",
				   o->n_learn);
	for (size_t k = 0; k < o->n_learn; k++) {
		if (!o->learn[k])
			return ionpu_error(-EINVAL,
					   "compile: learned population %zu has no name",
					   k);
		if (ionpu_network_find(C->net, o->learn[k], &id))
			return ionpu_error(-EINVAL,
					   "compile: learned population '%s': the network has no such node",
					   o->learn[k]);
		ionpu_network_node(C->net, id, &n);
		if (n.kind != IONPU_NODE_POPULATION)
			return ionpu_error(-EINVAL,
					   "compile: learned node '%s' is an input; only a population's synapses can be learned",
					   n.name);
		if (n.size > C->card->tile_neurons)
			return ionpu_error(-EINVAL,
					   "compile: learned population '%s' has %u neurons; learning needs them on one tile, which has %u",
					   n.name, n.size,
					   C->card->tile_neurons);
		for (size_t j = 0; j < k; j++)
			if (!strcmp(o->learn[j], o->learn[k]))
				return ionpu_error(-EINVAL,
						   "compile: learned population '%s' is named twice",
						   n.name);
	}
	return 0;
}

/*
 * The fewest tiles the network can take, from its sizes alone, in time
 * linear in its nodes: a tile runs one neuron model, holds at most
 * tile_neurons neurons, and a learned population takes tiles of its own.
 * A network beyond the card is refused here, before any synapse is
 * collected, naming the population that takes the most.
 */
static int check_fit(const struct compiler *C)
{
	size_t n_nodes = ionpu_network_node_count(C->net);
	uint64_t N = C->card->tile_neurons, need = 0, biggest_tiles = 0;
	uint64_t by_model[IONPU_NEURON_THRESHOLD + 1] = { 0 };
	struct ionpu_node_info n, biggest = { 0 };

	for (uint32_t i = 0; i < n_nodes; i++) {
		uint64_t tiles;

		ionpu_network_node(C->net, i, &n);
		if (n.kind != IONPU_NODE_POPULATION)
			continue;
		tiles = (n.size + N - 1) / N;
		if (is_learned(C, n.name))
			need += tiles;
		else
			by_model[n.model] += n.size;
		if (tiles > biggest_tiles) {
			biggest_tiles = tiles;
			biggest = n;
		}
	}
	for (size_t m = 0; m < sizeof(by_model) / sizeof(by_model[0]); m++)
		need += (by_model[m] + N - 1) / N;
	if (need <= C->card->tiles)
		return 0;
	return ionpu_error(-ENOSPC,
			   "network needs at least %" PRIu64
			   " tiles, card has %u: population '%s' alone has %u neurons, at %u per tile",
			   need, C->card->tiles, biggest.name, biggest.size,
			   C->card->tile_neurons);
}

static int make_groups(struct compiler *C)
{
	size_t n_nodes = ionpu_network_node_count(C->net);
	uint32_t N = C->card->tile_neurons;
	struct ionpu_node_info n;
	size_t total = 0;

	for (uint32_t i = 0; i < n_nodes; i++) {
		ionpu_network_node(C->net, i, &n);
		if (n.kind == IONPU_NODE_POPULATION)
			total += (n.size + N - 1) / N;
	}
	C->groups = calloc(total ? total : 1, sizeof(*C->groups));
	C->first_group = calloc(n_nodes ? n_nodes : 1, sizeof(*C->first_group));
	if (!C->groups || !C->first_group)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	for (uint32_t i = 0; i < n_nodes; i++) {
		ionpu_network_node(C->net, i, &n);
		C->first_group[i] = C->n_groups;
		for (uint32_t first = 0;
		     n.kind == IONPU_NODE_POPULATION && first < n.size;
		     first += N) {
			struct group *g = &C->groups[C->n_groups++];

			g->pop = i;
			g->first = first;
			g->count = n.size - first < N ? n.size - first : N;
			g->learned = is_learned(C, n.name);
		}
	}
	return 0;
}

/* --- the plan ---------------------------------------------------------- */

static size_t find_row(const struct row_key *rows, size_t n,
		       const struct row_key *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(&rows[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int route_cmp(const void *a, const void *b)
{
	const struct ionpu_plan_route *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->neuron != y->neuron)
		return x->neuron < y->neuron ? -1 : 1;
	if (x->tile != y->tile)
		return x->tile < y->tile ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int add_cell(struct ionpu_plan_tile *t, uint32_t row, uint32_t col,
		    double w)
{
	struct ionpu_plan_cell *c;

	if ((t->n_cells & (t->n_cells - 1)) == 0) {
		c = realloc(t->cells,
			    (t->n_cells ? t->n_cells * 2 : 1) * sizeof(*c));
		if (!c)
			return ionpu_error(-ENOMEM, "compile: out of memory");
		t->cells = c;
	}
	t->cells[t->n_cells++] = (struct ionpu_plan_cell){ .row = row,
							   .column = col,
							   .weight = w };
	return 0;
}

static int add_route(struct ionpu_plan *P, const struct row_key *k,
		     uint32_t tile, uint32_t row)
{
	struct ionpu_plan_route *r;

	if ((P->n_routes & (P->n_routes - 1)) == 0) {
		r = realloc(P->routes,
			    (P->n_routes ? P->n_routes * 2 : 1) * sizeof(*r));
		if (!r)
			return ionpu_error(-ENOMEM, "compile: out of memory");
		P->routes = r;
	}
	P->routes[P->n_routes++] = (struct ionpu_plan_route){
		.node = k->node,
		.neuron = k->neuron,
		.tile = tile,
		.row = row,
		.delay_steps = k->delay,
	};
	return 0;
}

/* Cells, columns and rows of one group on its tile or chain. */
static int lay_out_group(struct compiler *C, struct ionpu_plan *P,
			 const struct group *g)
{
	uint32_t R = C->card->tile_rows;
	struct ionpu_plan_tile *head = &P->tiles[g->tile];
	struct ionpu_plan_segment *s;
	int err;

	for (uint32_t i = 0; i < g->chain; i++)
		P->tiles[g->tile + i].head = g->tile;
	head->learned = g->learned;
	head->learn_max = g->learn_max;
	s = realloc(head->segments, (head->n_segments + 1) * sizeof(*s));
	if (!s)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	head->segments = s;
	s[head->n_segments++] = (struct ionpu_plan_segment){
		.node = g->pop,
		.first = g->first,
		.count = g->count,
		.first_column = g->col0,
	};
	head->neurons_used += g->count;

	for (size_t i = 0; i < g->n_syns; i++) {
		uint32_t tile, row;

		if (g->chain > 1) {
			size_t r =
				find_row(g->rows, g->n_rows, &g->syns[i].key);

			tile = g->tile + (uint32_t)(r / R);
			row = (uint32_t)(r % R);
		} else {
			const struct tile_fill *t = &C->tiles[g->tile];

			tile = g->tile;
			row = (uint32_t)find_row(t->rows, t->n_rows,
						 &g->syns[i].key);
		}
		err = add_cell(&P->tiles[tile], row, g->col0 + g->syns[i].col,
			       g->syns[i].w);
		if (err)
			return err;
	}
	for (size_t r = 0; g->chain > 1 && r < g->n_rows; r++) {
		err = add_route(P, &g->rows[r], g->tile + (uint32_t)(r / R),
				(uint32_t)(r % R));
		if (err)
			return err;
		P->tiles[g->tile + r / R].rows_used++;
	}
	return 0;
}

/* One scale per chain (its columns add up), quantized levels per cell. */
static void set_conductances(const struct ionpu_card_desc *card,
			     struct ionpu_plan *P)
{
	for (uint32_t h = 0; h < P->n_tiles; h++) {
		double max = 0, scale;

		if (P->tiles[h].head != h)
			continue;
		for (uint32_t t = h; t < P->n_tiles && P->tiles[t].head == h;
		     t++)
			for (size_t c = 0; c < P->tiles[t].n_cells; c++)
				max = fmax(max,
					   fabs(P->tiles[t].cells[c].weight));
		/* Learning from zero leaves no weight to take the scale from. */
		if (P->tiles[h].learned)
			max = fmax(max, P->tiles[h].learn_max);
		scale = max > 0 ? (card->g_max_us - card->g_min_us) / max : 0;
		for (uint32_t t = h; t < P->n_tiles && P->tiles[t].head == h;
		     t++) {
			P->tiles[t].scale_us_per_unit = scale;
			for (size_t c = 0; c < P->tiles[t].n_cells; c++) {
				struct ionpu_plan_cell *cell =
					&P->tiles[t].cells[c];
				uint32_t level = (uint32_t)lround(
					fabs(cell->weight) / max *
					(card->g_levels - 1));

				cell->g_pos_level = cell->weight > 0 ? level :
								       0;
				cell->g_neg_level = cell->weight < 0 ? level :
								       0;
			}
		}
	}
}

/* Every group's cells and segments, then one route per row of each tile. */
static int lay_out(struct compiler *C, struct ionpu_plan *P)
{
	int err;

	for (size_t k = 0; k < C->n_groups; k++) {
		err = lay_out_group(C, P, &C->groups[k]);
		if (err)
			return err;
	}
	/* Shared and learned tiles: each row of the union is one route. */
	for (uint32_t t = 0; t < C->n_tiles; t++) {
		if (C->tiles[t].use == TILE_CHAINED)
			continue;
		P->tiles[t].rows_used = (uint32_t)C->tiles[t].n_rows;
		for (size_t r = 0; r < C->tiles[t].n_rows; r++) {
			err = add_route(P, &C->tiles[t].rows[r], t,
					(uint32_t)r);
			if (err)
				return err;
		}
	}
	if (P->n_routes)
		qsort(P->routes, P->n_routes, sizeof(*P->routes), route_cmp);
	return 0;
}

/* The output neurons, in node order; P->n_outputs holds how many. */
static int list_outputs(struct compiler *C, struct ionpu_plan *P)
{
	struct ionpu_node_info n;

	P->outputs =
		calloc(P->n_outputs ? P->n_outputs : 1, sizeof(*P->outputs));
	if (!P->outputs)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	P->n_outputs = 0;
	for (size_t k = 0; k < C->n_groups; k++) {
		const struct group *g = &C->groups[k];

		ionpu_network_node(C->net, g->pop, &n);
		for (uint32_t i = 0; n.output && i < g->count; i++)
			P->outputs[P->n_outputs++] = (struct ionpu_plan_output){
				.node = g->pop,
				.neuron = g->first + i,
				.tile = g->tile,
				.column = g->col0 + i,
			};
	}
	return 0;
}

static void count_stats(const struct compiler *C, struct ionpu_plan *P)
{
	P->stats.tiles = P->n_tiles;
	P->stats.routes = P->n_routes;
	P->stats.outputs = P->n_outputs;
	for (uint32_t t = 0; t < P->n_tiles; t++) {
		P->stats.rows += P->tiles[t].rows_used;
		P->stats.neurons += P->tiles[t].neurons_used;
		P->stats.cells += P->tiles[t].n_cells;
	}
	for (size_t k = 0; k < C->n_groups; k++)
		P->stats.chain_groups += C->groups[k].chain > 1;
}

static int build_plan(struct compiler *C, struct ionpu_plan *P)
{
	size_t n_nodes = ionpu_network_node_count(C->net);
	struct ionpu_node_info n;
	int err;

	P->card = *C->card;
	P->n_tiles = C->n_tiles;
	P->tiles = calloc(C->n_tiles ? C->n_tiles : 1, sizeof(*P->tiles));
	P->node_names = calloc(n_nodes ? n_nodes : 1, sizeof(*P->node_names));
	if (!P->tiles || !P->node_names)
		return ionpu_error(-ENOMEM, "compile: out of memory");
	P->n_nodes = n_nodes;
	for (uint32_t i = 0; i < n_nodes; i++) {
		ionpu_network_node(C->net, i, &n);
		P->node_names[i] = strdup(n.name);
		if (!P->node_names[i])
			return ionpu_error(-ENOMEM, "compile: out of memory");
		if (n.output)
			P->n_outputs += n.size;
	}
	err = lay_out(C, P);
	if (err)
		return err;
	err = list_outputs(C, P);
	if (err)
		return err;
	set_conductances(C->card, P);
	count_stats(C, P);
	return ionpu_plan_fingerprint(P, C->net, C->opts);
}

static void free_compiler(struct compiler *C)
{
	for (size_t k = 0; k < C->n_groups; k++) {
		free(C->groups[k].syns);
		free(C->groups[k].rows);
	}
	for (uint32_t t = 0; t < C->n_tiles; t++)
		free(C->tiles[t].rows);
	free(C->groups);
	free(C->first_group);
	free(C->tiles);
	free(C->delay_steps);
}

IONPU_API void ionpu_plan_free(struct ionpu_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; plan->node_names && i < plan->n_nodes; i++)
		free(plan->node_names[i]);
	for (uint32_t t = 0; plan->tiles && t < plan->n_tiles; t++) {
		free(plan->tiles[t].cells);
		free(plan->tiles[t].segments);
	}
	free(plan->node_names);
	free(plan->node_hash);
	free(plan->proj_hash);
	free(plan->tiles);
	free(plan->routes);
	free(plan->outputs);
	free(plan);
}

/*
 * Options of @size bytes as a caller knows them: at least this version's,
 * and whatever a later version added left zero.
 */
static int check_opts(const struct ionpu_compile_opts *opts)
{
	const uint32_t known = IONPU_COMPILE_ALLOW_UNSTABLE |
			       IONPU_COMPILE_LEARN_FROM_ZERO;
	int err = ionpu_check_size(opts, opts->size, sizeof(*opts),
				   "ionpu_compile_with() options");

	if (err)
		return err;
	if (opts->flags & ~known)
		return ionpu_error(-EINVAL, "ionpu_compile: unknown flags 0x%x",
				   opts->flags & ~known);
	return 0;
}

IONPU_API int ionpu_compile_with(const struct ionpu_network *net,
				 const struct ionpu_card_desc *card,
				 const struct ionpu_compile_opts *opts,
				 struct ionpu_plan **out)
{
	const struct ionpu_compile_opts none = { .size = sizeof(none) };
	struct compiler C = { .net = net, .card = card, .opts = &none };
	struct ionpu_plan *plan = NULL;
	int err;

	if (!net || !card || !out)
		return ionpu_error(-EINVAL, "ionpu_compile: NULL argument");
	if (opts) {
		err = check_opts(opts);
		if (err)
			return err;
		C.opts = opts;
	}
	err = check_card(card);
	if (err)
		return err;
	err = check_learned(&C);
	if (err)
		return err;
	if (!(C.opts->flags & IONPU_COMPILE_ALLOW_UNSTABLE)) {
		err = check_stability(&C);
		if (err)
			return err;
	}
	err = check_fit(&C);
	if (err)
		return err;
	err = make_groups(&C);
	if (err)
		goto err_compiler;
	err = collect_groups(&C);
	if (err)
		goto err_compiler;
	for (size_t k = 0; k < C.n_groups; k++) {
		err = place_group(&C, &C.groups[k]);
		if (err)
			goto err_compiler;
	}
	if (C.n_tiles > card->tiles) {
		err = too_big(&C);
		goto err_compiler;
	}
	plan = calloc(1, sizeof(*plan));
	if (!plan) {
		err = ionpu_error(-ENOMEM, "compile: out of memory");
		goto err_compiler;
	}
	err = build_plan(&C, plan);
	if (err)
		goto err_plan;
	free_compiler(&C);
	*out = plan;
	return 0;

err_plan:
	ionpu_plan_free(plan);
err_compiler:
	free_compiler(&C);
	return err;
}

IONPU_API int ionpu_compile_flags(const struct ionpu_network *net,
				  const struct ionpu_card_desc *card,
				  uint32_t flags, struct ionpu_plan **out)
{
	const struct ionpu_compile_opts opts = { .size = sizeof(opts),
						 .flags = flags };

	return ionpu_compile_with(net, card, &opts, out);
}

IONPU_API int ionpu_compile(const struct ionpu_network *net,
			    const struct ionpu_card_desc *card,
			    struct ionpu_plan **out)
{
	return ionpu_compile_with(net, card, NULL, out);
}

IONPU_API void ionpu_plan_stats(const struct ionpu_plan *plan,
				struct ionpu_plan_stats *out)
{
	*out = plan->stats;
}

IONPU_API int ionpu_plan_dump(const struct ionpu_plan *plan, FILE *out)
{
	const struct ionpu_card_desc *c = &plan->card;
	const struct ionpu_plan_stats *s = &plan->stats;

	fprintf(out,
		"plan: %u of %u tiles, %" PRIu64 " rows, %" PRIu64
		" neurons, %" PRIu64 " cells, %u chain groups, %" PRIu64
		" routes, %" PRIu64 " outputs\n",
		s->tiles, c->tiles, s->rows, s->neurons, s->cells,
		s->chain_groups, s->routes, s->outputs);
	fprintf(out,
		"card: %u rows x %u neurons per tile, %g..%g uS in %u levels, delays up to %u steps of %g s\n",
		c->tile_rows, c->tile_neurons, c->g_min_us, c->g_max_us,
		c->g_levels, c->max_delay_steps, c->dt);
	fprintf(out, "id: %016" PRIx64 "\n", plan->id);
	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *tile = &plan->tiles[t];

		fprintf(out, "tile %u: %u/%u rows, %zu cells, %.6g uS per unit",
			t, tile->rows_used, c->tile_rows, tile->n_cells,
			tile->scale_us_per_unit);
		if (tile->head != t) {
			fprintf(out, ", columns summed into tile %u\n",
				tile->head);
			continue;
		}
		fprintf(out, ", %u/%u neurons%s:", tile->neurons_used,
			c->tile_neurons, tile->learned ? " (learned)" : "");
		for (size_t i = 0; i < tile->n_segments; i++) {
			const struct ionpu_plan_segment *g = &tile->segments[i];

			fprintf(out, " %s[%u..%u]@%u",
				plan->node_names[g->node], g->first,
				g->first + g->count - 1, g->first_column);
		}
		fputc('\n', out);
	}
	return ferror(out) ? ionpu_error(-EIO, "plan dump: write error") : 0;
}
