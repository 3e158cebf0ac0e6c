// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host reference: a compiled plan run in software on the card's own
 * model core (qemu/ionpu_fabric.h) in ideal mode, so it computes what a
 * noise-free card computes, timestep for timestep.
 *
 * The plan gives the mapping (cells, chains, routes, outputs); the network
 * gives the neuron parameters, which the plan does not carry.  Plan level k
 * becomes fabric level k (G = G_MIN + k G_STEP) and each tile's gain turns
 * one level back into the plan's weight per level, so the fabric's cell
 * weight gain (G+ - G-) is the plan's quantized weight.
 *
 * What the fabric has no register for is folded into what it has: a bias
 * b of LIF, LI and CubaLIF joins the leak (v_leak + r b, the same equation);
 * a Threshold neuron is an LIF with tau = dt, r = 1, v_leak = b whose v is
 * zeroed before each step, so v' = b + I exactly; an Integrator's infinite
 * threshold is FLT_MAX.  An IF with a bias has no such form.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_fabric.h"
#include "ionpu_internal.h"

/* Where a population's neuron sits: its head tile and column. */
struct host_place {
	uint32_t tile;
	uint32_t column;
};

struct ionpu_host {
	struct ionpu_fabric *fab;
	size_t n_in;
	size_t n_out;
	/* Input channel c's routes: routes[in_first[c] .. in_first[c + 1]). */
	size_t *in_first;
	struct ionpu_plan_route *in_routes;
	/* Output index of (tile, column), or -1: n_tiles x tile_neurons. */
	int32_t *out_index;
	uint32_t tile_neurons;
	/* Neurons whose v the host zeroes before every step (Threshold). */
	struct host_place *stateless;
	size_t n_stateless;
};

struct run_ctx {
	const struct ionpu_host *h;
	uint64_t first_step;
	uint8_t *out;
};

IONPU_API void ionpu_host_free(struct ionpu_host *h)
{
	if (!h)
		return;
	ionpu_fabric_free(h->fab);
	free(h->in_first);
	free(h->in_routes);
	free(h->out_index);
	free(h->stateless);
	free(h);
}

static int check_card(const struct ionpu_plan *plan)
{
	const struct ionpu_card_desc *c = &plan->card;

	if (plan->n_tiles > IONPU_FAB_MAX_TILES)
		return ionpu_error(-EOPNOTSUPP, "host: the plan uses %u tiles; the card has at most %u",
				   plan->n_tiles, IONPU_FAB_MAX_TILES);
	if (c->tile_rows != IONPU_FAB_ROWS || c->tile_neurons != IONPU_FAB_NEURONS)
		return ionpu_error(-EOPNOTSUPP, "host: the plan is for tiles of %u rows x %u neurons; the card's are %u x %u",
				   c->tile_rows, c->tile_neurons, IONPU_FAB_ROWS, IONPU_FAB_NEURONS);
	if (c->g_levels > IONPU_FAB_G_LEVELS)
		return ionpu_error(-EOPNOTSUPP, "host: the plan uses %u conductance levels; the card has %u",
				   c->g_levels, IONPU_FAB_G_LEVELS);
	if (c->max_delay_steps > IONPU_FAB_MAX_DELAY)
		return ionpu_error(-EOPNOTSUPP, "host: the plan allows delays of %u steps; the router %u",
				   c->max_delay_steps, IONPU_FAB_MAX_DELAY);
	if (!((float)c->dt > 0) || !isfinite((float)c->dt))
		return ionpu_error(-EINVAL, "host: time step %g s", c->dt);
	return 0;
}

/*
 * The plan must have been compiled from @net: same nodes, same names, and
 * every neuron it places or sends to the host within its population.
 */
static int check_network(const struct ionpu_network *net, const struct ionpu_plan *plan)
{
	uint64_t sites = (uint64_t)plan->n_tiles * plan->card.tile_neurons;
	struct ionpu_node_info n;

	if (ionpu_network_node_count(net) != plan->n_nodes)
		return ionpu_error(-EINVAL, "host: the plan has %zu nodes, the network %zu",
				   plan->n_nodes, ionpu_network_node_count(net));
	for (uint32_t i = 0; i < plan->n_nodes; i++) {
		ionpu_network_node(net, i, &n);
		if (strcmp(n.name, plan->node_names[i]))
			return ionpu_error(-EINVAL, "host: node %u is '%s' in the plan, '%s' in the network",
					   i, plan->node_names[i], n.name);
	}
	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		for (size_t k = 0; k < plan->tiles[t].n_segments; k++) {
			const struct ionpu_plan_segment *g = &plan->tiles[t].segments[k];

			if (g->node >= plan->n_nodes || ionpu_network_node(net, g->node, &n) ||
			    n.kind != IONPU_NODE_POPULATION || g->first > n.size ||
			    g->count > n.size - g->first ||
			    g->first_column + (uint64_t)g->count > plan->card.tile_neurons)
				return ionpu_error(-EINVAL, "host: tile %u places neurons the network does not have",
						   t);
		}
	}
	for (size_t j = 0; j < plan->n_outputs; j++)
		if ((uint64_t)plan->outputs[j].tile * plan->card.tile_neurons +
		    plan->outputs[j].column >= sites)
			return ionpu_error(-EINVAL, "host: output %zu lies outside the plan's tiles", j);
	return 0;
}

/* Plan levels on fabric levels, each tile's gain giving the plan's weights. */
static int program_tiles(struct ionpu_host *h, const struct ionpu_plan *plan)
{
	const struct ionpu_card_desc *c = &plan->card;
	struct ionpu_fab_prog_result res;
	int err;

	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *pt = &plan->tiles[t];
		double per_level = pt->scale_us_per_unit > 0 ?
			(c->g_max_us - c->g_min_us) / (c->g_levels - 1) / pt->scale_us_per_unit : 1;
		struct ionpu_fab_tile_config cfg = {
			.mode = IONPU_FAB_IDEAL, .model = IONPU_FAB_LIF, .dt = (float)c->dt,
			.gain = (float)(per_level / IONPU_FAB_G_STEP),
		};

		if (pt->head != t) {
			err = ionpu_fabric_chain(h->fab, t, pt->head);
			if (err)
				return ionpu_error(err, "host: cannot chain tile %u into %u", t, pt->head);
		}
		err = ionpu_fabric_set_tile(h->fab, t, &cfg);
		if (err)
			return ionpu_error(err, "host: tile %u: gain %g", t, cfg.gain);
		for (size_t k = 0; k < pt->n_cells; k++) {
			const struct ionpu_plan_cell *cell = &pt->cells[k];
			uint32_t lv[2] = { cell->g_pos_level, cell->g_neg_level };

			for (int d = 0; d < 2; d++) {
				float g = IONPU_FAB_G_MIN + (float)lv[d] * IONPU_FAB_G_STEP;

				err = ionpu_fabric_program(h->fab, t, cell->row, cell->column,
							   d ? IONPU_FAB_GMINUS : IONPU_FAB_GPLUS, g,
							   IONPU_FAB_G_STEP / 4, 1, &res);
				if (!err && res.status != IONPU_FAB_PROG_OK)
					err = -EIO;
				if (err)
					return ionpu_error(err, "host: tile %u: cannot program cell (%u, %u)",
							   t, cell->row, cell->column);
			}
		}
	}
	return 0;
}

static int to_float(double v, float *out)
{
	if (isinf(v)) {
		*out = v > 0 ? FLT_MAX : -FLT_MAX;
		return 0;
	}
	if (!isfinite(v) || fabs(v) > FLT_MAX)
		return -ERANGE;
	*out = (float)v;
	return 0;
}

/* The fabric's parameters for neuron @i of a population. */
static int neuron_params(const struct ionpu_node_info *n, uint32_t i, float dt,
			 enum ionpu_fab_model *model, struct ionpu_fab_neuron *p)
{
	const struct ionpu_neuron_params *np = &n->params;
	double bias = np->bias ? np->bias[i] : 0, leak = 0, r = np->r ? np->r[i] : 1;
	int err = 0;

	switch (n->model) {
	case IONPU_NEURON_LIF:
	case IONPU_NEURON_LI:
		*model = n->model == IONPU_NEURON_LIF ? IONPU_FAB_LIF : IONPU_FAB_LI;
		ionpu_fab_neuron_defaults(*model, p);
		err = to_float(np->tau[i], &p->tau);
		leak = np->v_leak[i] + r * bias;
		break;
	case IONPU_NEURON_CUBA_LIF:
		*model = IONPU_FAB_CUBA_LIF;
		ionpu_fab_neuron_defaults(*model, p);
		err = to_float(np->tau_mem[i], &p->tau);
		if (!err)
			err = to_float(np->tau_syn[i], &p->tau_syn);
		if (!err)
			err = to_float(np->w_in[i], &p->w_in);
		leak = np->v_leak[i] + r * bias;
		break;
	case IONPU_NEURON_IF:
		if (bias)
			return ionpu_error(-EOPNOTSUPP, "host: population '%s': an IF neuron with a bias has no form on the card",
					   n->name);
		*model = IONPU_FAB_IF;
		ionpu_fab_neuron_defaults(*model, p);
		break;
	case IONPU_NEURON_THRESHOLD:
		*model = IONPU_FAB_LIF;
		ionpu_fab_neuron_defaults(*model, p);
		p->tau = dt;
		r = 1;
		leak = bias;
		break;
	}
	if (!err)
		err = to_float(r, &p->r);
	if (!err)
		err = to_float(leak, &p->v_leak);
	if (!err && np->v_threshold)
		err = to_float(np->v_threshold[i], &p->v_threshold);
	if (!err && np->v_reset)
		err = to_float(np->v_reset[i], &p->v_reset);
	if (err)
		return ionpu_error(err, "host: population '%s', neuron %u: a parameter is out of the card's range",
				   n->name, i);
	return 0;
}

static int add_stateless(struct ionpu_host *h, uint32_t tile, uint32_t column)
{
	struct host_place *s;

	if ((h->n_stateless & (h->n_stateless - 1)) == 0) {
		s = realloc(h->stateless, (h->n_stateless ? h->n_stateless * 2 : 1) * sizeof(*s));
		if (!s)
			return ionpu_error(-ENOMEM, "host: out of memory");
		h->stateless = s;
	}
	h->stateless[h->n_stateless++] = (struct host_place){ tile, column };
	return 0;
}

/* Neurons of every segment; @place gets each population neuron's site. */
static int configure_neurons(struct ionpu_host *h, const struct ionpu_network *net,
			     const struct ionpu_plan *plan, struct host_place **place)
{
	struct ionpu_fab_neuron p;
	struct ionpu_node_info n;
	enum ionpu_fab_model model = IONPU_FAB_LIF;
	int err;

	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *pt = &plan->tiles[t];

		for (size_t s = 0; s < pt->n_segments; s++) {
			const struct ionpu_plan_segment *seg = &pt->segments[s];

			ionpu_network_node(net, seg->node, &n);
			for (uint32_t k = 0; k < seg->count; k++) {
				uint32_t col = seg->first_column + k;
				struct ionpu_fab_tile_config cfg;

				err = neuron_params(&n, seg->first + k, (float)plan->card.dt, &model, &p);
				if (err)
					return err;
				/*
				 * A tile runs one model, set by its first neuron; a
				 * tile the compiler shared between models cannot run.
				 */
				ionpu_fabric_get_tile(h->fab, t, &cfg);
				if (s == 0 && k == 0 && cfg.model != model) {
					cfg.model = model;
					ionpu_fabric_set_tile(h->fab, t, &cfg);
				} else if (cfg.model != model) {
					return ionpu_error(-EOPNOTSUPP, "host: tile %u holds neurons of two models",
							   t);
				}
				err = ionpu_fabric_set_neuron(h->fab, t, col, &p);
				if (err)
					return ionpu_error(err, "host: population '%s', neuron %u: the card rejects its parameters",
							   n.name, seg->first + k);
				place[seg->node][seg->first + k] = (struct host_place){ t, col };
				if (n.model == IONPU_NEURON_THRESHOLD) {
					err = add_stateless(h, t, col);
					if (err)
						return err;
				}
			}
		}
	}
	return 0;
}

/* Routes of population neurons into the router; output columns to the host. */
static int configure_routes(struct ionpu_host *h, const struct ionpu_plan *plan,
			    const struct ionpu_network *net, struct host_place **place)
{
	struct ionpu_fab_target targets[IONPU_FAB_MAX_FANOUT];
	struct ionpu_node_info n;
	size_t r = 0;
	int err;

	for (size_t j = 0; j < plan->n_outputs; j++) {
		const struct ionpu_plan_output *o = &plan->outputs[j];

		h->out_index[(size_t)o->tile * h->tile_neurons + o->column] = (int32_t)j;
	}
	for (uint32_t node = 0; node < plan->n_nodes; node++) {
		ionpu_network_node(net, node, &n);
		if (n.kind != IONPU_NODE_POPULATION)
			continue;
		for (uint32_t i = 0; i < n.size; i++) {
			unsigned int cnt = 0;
			size_t site = (size_t)place[node][i].tile * h->tile_neurons +
				      place[node][i].column;
			bool to_host = h->out_index[site] >= 0;

			while (r < plan->n_routes && (plan->routes[r].node < node ||
						      (plan->routes[r].node == node &&
						       plan->routes[r].neuron < i)))
				r++;
			for (; r < plan->n_routes && plan->routes[r].node == node &&
			       plan->routes[r].neuron == i; r++) {
				if (cnt == IONPU_FAB_MAX_FANOUT)
					return ionpu_error(-EOPNOTSUPP, "host: neuron %u of '%s' feeds more than %u rows; the router takes %u",
							   i, n.name, IONPU_FAB_MAX_FANOUT,
							   IONPU_FAB_MAX_FANOUT);
				targets[cnt++] = (struct ionpu_fab_target){
					.tile = (uint16_t)plan->routes[r].tile,
					.row = (uint16_t)plan->routes[r].row,
					.delay = (uint16_t)plan->routes[r].delay_steps,
				};
			}
			if (!cnt && !to_host)
				continue;
			err = ionpu_fabric_set_route(h->fab, place[node][i].tile,
						     place[node][i].column, to_host, targets, cnt);
			if (err)
				return ionpu_error(err, "host: neuron %u of '%s': the router rejects its route",
						   i, n.name);
		}
	}
	return 0;
}

/* Input channels in node order, each with the routes of its neuron. */
static int index_inputs(struct ionpu_host *h, const struct ionpu_plan *plan,
			const struct ionpu_network *net)
{
	struct ionpu_node_info n;
	size_t c = 0, k = 0, r = 0;

	for (uint32_t node = 0; node < plan->n_nodes; node++) {
		ionpu_network_node(net, node, &n);
		if (n.kind == IONPU_NODE_INPUT)
			h->n_in += n.size;
	}
	h->in_first = calloc(h->n_in + 1, sizeof(*h->in_first));
	h->in_routes = malloc((plan->n_routes ? plan->n_routes : 1) * sizeof(*h->in_routes));
	if (!h->in_first || !h->in_routes)
		return ionpu_error(-ENOMEM, "host: out of memory");
	for (uint32_t node = 0; node < plan->n_nodes; node++) {
		ionpu_network_node(net, node, &n);
		if (n.kind != IONPU_NODE_INPUT)
			continue;
		for (uint32_t i = 0; i < n.size; i++, c++) {
			h->in_first[c] = k;
			/* The routes are sorted by node and neuron. */
			while (r < plan->n_routes && (plan->routes[r].node < node ||
						      (plan->routes[r].node == node &&
						       plan->routes[r].neuron < i)))
				r++;
			for (; r < plan->n_routes && plan->routes[r].node == node &&
			       plan->routes[r].neuron == i; r++)
				h->in_routes[k++] = plan->routes[r];
		}
	}
	h->in_first[c] = k;
	return 0;
}

static int build(struct ionpu_host *h, const struct ionpu_network *net,
		 const struct ionpu_plan *plan)
{
	struct ionpu_fabric_config fc = { .tiles = plan->n_tiles ? plan->n_tiles : 1 };
	struct host_place **place;
	struct ionpu_node_info n;
	size_t cells;
	int err;

	err = ionpu_fabric_new(&fc, &h->fab);
	if (err)
		return ionpu_error(err, "host: cannot make a fabric of %u tiles", fc.tiles);
	h->tile_neurons = plan->card.tile_neurons;
	h->n_out = plan->n_outputs;
	cells = (size_t)fc.tiles * h->tile_neurons;
	h->out_index = malloc(cells * sizeof(*h->out_index));
	place = calloc(plan->n_nodes ? plan->n_nodes : 1, sizeof(*place));
	if (!h->out_index || !place) {
		free(place);
		return ionpu_error(-ENOMEM, "host: out of memory");
	}
	for (size_t k = 0; k < cells; k++)
		h->out_index[k] = -1;
	for (uint32_t i = 0; i < plan->n_nodes && !err; i++) {
		ionpu_network_node(net, i, &n);
		place[i] = calloc(n.size, sizeof(**place));
		if (!place[i])
			err = ionpu_error(-ENOMEM, "host: out of memory");
	}
	if (!err)
		err = program_tiles(h, plan);
	if (!err)
		err = configure_neurons(h, net, plan, place);
	if (!err)
		err = configure_routes(h, plan, net, place);
	if (!err)
		err = index_inputs(h, plan, net);
	for (uint32_t i = 0; i < plan->n_nodes; i++)
		free(place[i]);
	free(place);
	return err;
}

IONPU_API int ionpu_host_new(const struct ionpu_network *net, const struct ionpu_plan *plan,
			     struct ionpu_host **out)
{
	struct ionpu_host *h;
	int err;

	if (!net || !plan || !out)
		return ionpu_error(-EINVAL, "ionpu_host_new: NULL argument");
	err = check_card(plan);
	if (!err)
		err = check_network(net, plan);
	if (err)
		return err;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ionpu_error(-ENOMEM, "host: out of memory");
	err = build(h, net, plan);
	if (err) {
		ionpu_host_free(h);
		return err;
	}
	*out = h;
	return 0;
}

IONPU_API size_t ionpu_host_inputs(const struct ionpu_host *h)
{
	return h->n_in;
}

IONPU_API size_t ionpu_host_outputs(const struct ionpu_host *h)
{
	return h->n_out;
}

IONPU_API void ionpu_host_reset(struct ionpu_host *h)
{
	ionpu_fabric_reset_state(h->fab, ~0ull);
}

static int on_spike(void *opaque, uint64_t timestep, unsigned int tile, unsigned int neuron)
{
	struct run_ctx *ctx = opaque;
	int32_t j = ctx->h->out_index[(size_t)tile * ctx->h->tile_neurons + neuron];

	if (j >= 0)
		ctx->out[(timestep - ctx->first_step) * ctx->h->n_out + (size_t)j] = 1;
	return 0;
}

IONPU_API int ionpu_host_run(struct ionpu_host *h, const float *in, size_t steps, uint8_t *out)
{
	struct run_ctx ctx = { .h = h, .out = out };
	int err;

	if (!h || (steps && ((!in && h->n_in) || (!out && h->n_out))))
		return ionpu_error(-EINVAL, "ionpu_host_run: NULL argument");
	if ((h->n_in && steps > SIZE_MAX / h->n_in) || (h->n_out && steps > SIZE_MAX / h->n_out))
		return ionpu_error(-EOVERFLOW, "ionpu_host_run: %zu steps overflow", steps);
	for (size_t k = 0; k < steps * h->n_in; k++)
		if (!isfinite(in[k]))
			return ionpu_error(-EINVAL, "ionpu_host_run: input %zu of step %zu is not finite",
					   k % h->n_in, k / h->n_in);
	if (h->n_out && steps)
		memset(out, 0, steps * h->n_out);
	ctx.first_step = ionpu_fabric_now(h->fab);
	for (size_t t = 0; t < steps; t++) {
		uint64_t now = ionpu_fabric_now(h->fab);

		for (size_t s = 0; s < h->n_stateless; s++)
			ionpu_fabric_set_state(h->fab, h->stateless[s].tile, h->stateless[s].column,
					       0, 0);
		for (size_t c = 0; c < h->n_in; c++) {
			float v = in[t * h->n_in + c];

			for (size_t r = h->in_first[c]; v != 0 && r < h->in_first[c + 1]; r++) {
				const struct ionpu_plan_route *rt = &h->in_routes[r];

				err = ionpu_fabric_input_at(h->fab, now + rt->delay_steps, rt->tile,
							    rt->row, v);
				if (err)
					return ionpu_error(err, "host: step %zu: cannot queue input %zu",
							   t, c);
			}
		}
		err = ionpu_fabric_run(h->fab, 1, h->n_out ? on_spike : NULL, &ctx, NULL);
		if (err)
			return ionpu_error(err, "host: step %zu: spikes lost", t);
	}
	return 0;
}
