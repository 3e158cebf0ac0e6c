// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The card image of a plan: the tile configs, neuron entries, route
 * records, cell levels, input and output maps a plan of a network puts on a
 * card, in the card's own terms.  The host reference applies it to the
 * model core, the card path through the driver; both take it from here, so
 * they cannot disagree.
 *
 * The plan gives the mapping (cells, chains, routes, outputs); the network
 * gives the neuron parameters, which the plan does not carry.  Plan level k
 * is card level k (G = G_MIN + k G_STEP) and each tile's gain turns one level
 * back into the plan's weight per level, so the card's cell weight
 * gain (G+ - G-) is the plan's quantized weight.
 *
 * What the card has no register for is folded into what it has: a bias b
 * of LIF, LI and CubaLIF joins the leak (v_leak + r b, the same equation);
 * a Threshold neuron is an LIF with tau = dt, r = 1, v_leak = b whose v is
 * zeroed before each step (listed as stateless), so v' = b + I exactly; an
 * Integrator's infinite threshold is FLT_MAX.  An IF with a bias has no
 * such form.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_internal.h"

float ionpu_image_level_us(uint32_t level)
{
	return IONPU_FAB_G_MIN + (float)level * IONPU_FAB_G_STEP;
}

void ionpu_image_free(struct ionpu_image *img)
{
	if (!img)
		return;
	for (uint32_t t = 0; img->tiles && t < img->n_tiles; t++)
		free(img->tiles[t].routes);
	for (size_t k = 0; k < img->n_learned; k++) {
		free(img->learned[k].name);
		free(img->learned[k].row_of);
	}
	free(img->learned);
	free(img->tiles);
	free(img->in_first);
	free(img->in_targets);
	free(img->outputs);
	free(img->out_index);
	free(img->stateless);
	free(img->cell_pool);
	free(img->target_pool);
	free(img);
}

static int check_card(const struct ionpu_plan *plan)
{
	const struct ionpu_card_desc *c = &plan->card;

	if (plan->n_tiles > IONPU_FAB_MAX_TILES)
		return ionpu_error(-EOPNOTSUPP,
				   "image: the plan uses %u tiles; the card has at most %u",
				   plan->n_tiles, IONPU_FAB_MAX_TILES);
	if (c->tile_rows != IONPU_FAB_ROWS ||
	    c->tile_neurons != IONPU_FAB_NEURONS)
		return ionpu_error(-EOPNOTSUPP,
				   "image: the plan is for tiles of %u rows x %u neurons; the card's are %u x %u",
				   c->tile_rows, c->tile_neurons,
				   IONPU_FAB_ROWS, IONPU_FAB_NEURONS);
	if (c->g_levels > IONPU_FAB_G_LEVELS)
		return ionpu_error(-EOPNOTSUPP,
				   "image: the plan uses %u conductance levels; the card has %u",
				   c->g_levels, IONPU_FAB_G_LEVELS);
	if (c->max_delay_steps > IONPU_FAB_MAX_DELAY)
		return ionpu_error(-EOPNOTSUPP,
				   "image: the plan allows delays of %u steps; the router %u",
				   c->max_delay_steps, IONPU_FAB_MAX_DELAY);
	if (!((float)c->dt > 0) || !isfinite((float)c->dt))
		return ionpu_error(-EINVAL, "image: time step %g s", c->dt);
	return 0;
}

/*
 * The plan must have been compiled from @net, unchanged since, and every
 * neuron it places, routes or sends to the host within its node.
 */
static int check_network(const struct ionpu_network *net,
			 const struct ionpu_plan *plan)
{
	struct ionpu_node_info n;
	int err = ionpu_plan_check_network(plan, net);

	if (err)
		return err;
	/* Such a run would succeed and return nothing. */
	if (!plan->n_outputs)
		return ionpu_error(-EINVAL,
				   "image: the network has no output node: no population sends its spikes to the host");
	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *pt = &plan->tiles[t];

		if (pt->head >= plan->n_tiles ||
		    pt->rows_used > IONPU_FAB_ROWS ||
		    pt->neurons_used > IONPU_FAB_NEURONS)
			return ionpu_error(-EINVAL,
					   "image: tile %u: bad chain head or row count",
					   t);
		for (size_t k = 0; k < pt->n_segments; k++) {
			const struct ionpu_plan_segment *g = &pt->segments[k];

			if (g->node >= plan->n_nodes ||
			    ionpu_network_node(net, g->node, &n) ||
			    n.kind != IONPU_NODE_POPULATION ||
			    g->first > n.size || g->count > n.size - g->first ||
			    g->first_column + (uint64_t)g->count >
				    IONPU_FAB_NEURONS)
				return ionpu_error(-EINVAL,
						   "image: tile %u places neurons the network does not have",
						   t);
		}
		for (size_t k = 0; k < pt->n_cells; k++)
			if (pt->cells[k].row >= IONPU_FAB_ROWS ||
			    pt->cells[k].column >= IONPU_FAB_NEURONS ||
			    pt->cells[k].g_pos_level >= IONPU_FAB_G_LEVELS ||
			    pt->cells[k].g_neg_level >= IONPU_FAB_G_LEVELS)
				return ionpu_error(-EINVAL,
						   "image: tile %u: cell %zu lies outside the card",
						   t, k);
	}
	for (size_t r = 0; r < plan->n_routes; r++) {
		const struct ionpu_plan_route *rt = &plan->routes[r];

		if (rt->node >= plan->n_nodes ||
		    ionpu_network_node(net, rt->node, &n) ||
		    rt->neuron >= n.size || rt->tile >= plan->n_tiles ||
		    rt->row >= IONPU_FAB_ROWS ||
		    rt->delay_steps > IONPU_FAB_MAX_DELAY)
			return ionpu_error(-EINVAL,
					   "image: route %zu lies outside the plan",
					   r);
	}
	for (size_t j = 0; j < plan->n_outputs; j++)
		if (plan->outputs[j].tile >= plan->n_tiles ||
		    plan->outputs[j].column >= IONPU_FAB_NEURONS)
			return ionpu_error(-EINVAL,
					   "image: output %zu lies outside the plan's tiles",
					   j);
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

/*
 * The entries of neuron @i that depend on its model; *@leak and *@r get
 * the resting potential and resistance the card's entries take.
 */
static int model_params(const struct ionpu_node_info *n, uint32_t i, float dt,
			enum ionpu_fab_model *model, struct ionpu_fab_neuron *p,
			double *leak, double *r)
{
	const struct ionpu_neuron_params *np = &n->params;
	double bias = np->bias ? np->bias[i] : 0;
	int err;

	switch (n->model) {
	case IONPU_NEURON_LIF:
	case IONPU_NEURON_LI:
		*model = n->model == IONPU_NEURON_LIF ? IONPU_FAB_LIF :
							IONPU_FAB_LI;
		ionpu_fab_neuron_defaults(*model, p);
		*leak = np->v_leak[i] + *r * bias;
		return to_float(np->tau[i], &p->tau);
	case IONPU_NEURON_CUBA_LIF:
		*model = IONPU_FAB_CUBA_LIF;
		ionpu_fab_neuron_defaults(*model, p);
		*leak = np->v_leak[i] + *r * bias;
		err = to_float(np->tau_mem[i], &p->tau);
		if (err)
			return err;
		err = to_float(np->tau_syn[i], &p->tau_syn);
		if (err)
			return err;
		return to_float(np->w_in[i], &p->w_in);
	case IONPU_NEURON_IF:
		*model = IONPU_FAB_IF;
		ionpu_fab_neuron_defaults(*model, p);
		return 0;
	case IONPU_NEURON_THRESHOLD:
		*model = IONPU_FAB_LIF;
		ionpu_fab_neuron_defaults(*model, p);
		p->tau = dt;
		*r = 1;
		*leak = bias;
		return 0;
	}
	return 0;
}

/* The card's parameters for neuron @i of a population. */
static int neuron_params(const struct ionpu_node_info *n, uint32_t i, float dt,
			 enum ionpu_fab_model *model,
			 struct ionpu_fab_neuron *p)
{
	const struct ionpu_neuron_params *np = &n->params;
	double leak = 0, r = np->r ? np->r[i] : 1;
	int err;

	if (n->model == IONPU_NEURON_IF && np->bias && np->bias[i])
		return ionpu_error(-EOPNOTSUPP,
				   "image: population '%s': an IF neuron with a bias has no form on the card",
				   n->name);
	err = model_params(n, i, dt, model, p, &leak, &r);
	if (err)
		goto err_range;
	err = to_float(r, &p->r);
	if (err)
		goto err_range;
	err = to_float(leak, &p->v_leak);
	if (err)
		goto err_range;
	if (np->v_threshold) {
		err = to_float(np->v_threshold[i], &p->v_threshold);
		if (err)
			goto err_range;
	}
	if (np->v_reset) {
		err = to_float(np->v_reset[i], &p->v_reset);
		if (err)
			goto err_range;
	}
	return 0;

err_range:
	return ionpu_error(err,
			   "image: population '%s', neuron %u: a parameter is out of the card's range",
			   n->name, i);
}

static int add_site(struct ionpu_image_site **list, size_t *n, uint32_t tile,
		    uint32_t column)
{
	struct ionpu_image_site *s;

	if ((*n & (*n - 1)) == 0) {
		s = realloc(*list, (*n ? *n * 2 : 1) * sizeof(*s));
		if (!s)
			return ionpu_error(-ENOMEM, "image: out of memory");
		*list = s;
	}
	(*list)[(*n)++] = (struct ionpu_image_site){ tile, column };
	return 0;
}

/*
 * Tile configs and cells: plan levels on card levels, each tile's gain giving
 * the plan's weights.
 */
static int build_tiles(struct ionpu_image *img, const struct ionpu_plan *plan)
{
	const struct ionpu_card_desc *c = &plan->card;
	size_t n_cells = 0, k = 0;

	for (uint32_t t = 0; t < plan->n_tiles; t++)
		n_cells += plan->tiles[t].n_cells;
	img->cell_pool =
		malloc((n_cells ? n_cells : 1) * sizeof(*img->cell_pool));
	if (!img->cell_pool)
		return ionpu_error(-ENOMEM, "image: out of memory");
	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *pt = &plan->tiles[t];
		struct ionpu_image_tile *it = &img->tiles[t];
		double per_level = pt->scale_us_per_unit > 0 ?
					   (c->g_max_us - c->g_min_us) /
						   (c->g_levels - 1) /
						   pt->scale_us_per_unit :
					   1;

		it->head = pt->head;
		it->cfg = (struct ionpu_fab_tile_config){
			.mode = IONPU_FAB_IDEAL,
			.model = IONPU_FAB_LIF,
			.dt = (float)c->dt,
			.gain = (float)(per_level / IONPU_FAB_G_STEP),
		};
		if (!isfinite(it->cfg.gain))
			return ionpu_error(-ERANGE, "image: tile %u: gain %g",
					   t, per_level / IONPU_FAB_G_STEP);
		it->weight_per_us = it->cfg.gain;
		it->rows_used = pt->rows_used;
		it->columns_used = plan->tiles[pt->head].neurons_used;
		for (uint32_t col = 0; col < IONPU_FAB_NEURONS; col++)
			ionpu_fab_neuron_defaults(IONPU_FAB_LIF,
						  &it->neurons[col]);
		it->cells = img->cell_pool + k;
		for (size_t i = 0; i < pt->n_cells; i++) {
			const struct ionpu_plan_cell *pc = &pt->cells[i];

			if (pc->row >= it->rows_used)
				it->rows_used = pc->row + 1;
			img->cell_pool[k++] = (struct ionpu_image_cell){
				.row = (uint16_t)pc->row,
				.column = (uint16_t)pc->column,
				.level = { (uint16_t)pc->g_pos_level,
					   (uint16_t)pc->g_neg_level },
			};
		}
		it->n_cells = (size_t)(img->cell_pool + k - it->cells);
	}
	return 0;
}

/* Neurons of every segment; @place gets each population neuron's site. */
static int build_neurons(struct ionpu_image *img,
			 const struct ionpu_network *net,
			 const struct ionpu_plan *plan,
			 struct ionpu_image_site **place)
{
	enum ionpu_fab_model model = IONPU_FAB_LIF;
	struct ionpu_node_info n;
	int err;

	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *pt = &plan->tiles[t];
		struct ionpu_image_tile *it = &img->tiles[t];

		for (size_t s = 0; s < pt->n_segments; s++) {
			const struct ionpu_plan_segment *seg = &pt->segments[s];

			ionpu_network_node(net, seg->node, &n);
			for (uint32_t k = 0; k < seg->count; k++) {
				uint32_t col = seg->first_column + k;

				err = neuron_params(&n, seg->first + k,
						    (float)plan->card.dt,
						    &model, &it->neurons[col]);
				if (err)
					return err;
				/*
				 * A tile runs one model, set by its first
				 * neuron.
				 */
				if (s == 0 && k == 0)
					it->cfg.model = model;
				else if (it->cfg.model != model)
					return ionpu_error(-EOPNOTSUPP,
							   "image: tile %u holds neurons of two models",
							   t);
				place[seg->node][seg->first + k] =
					(struct ionpu_image_site){ t, col };
				if (n.model == IONPU_NEURON_THRESHOLD) {
					err = add_site(&img->stateless,
						       &img->n_stateless, t,
						       col);
					if (err)
						return err;
				}
			}
		}
		/* Unused columns rest at their tile model's defaults. */
		for (uint32_t col = 0; col < IONPU_FAB_NEURONS; col++) {
			bool used = false;

			for (size_t s = 0; s < pt->n_segments && !used; s++)
				used = col >= pt->segments[s].first_column &&
				       col - pt->segments[s].first_column <
					       pt->segments[s].count;
			if (!used)
				ionpu_fab_neuron_defaults(it->cfg.model,
							  &it->neurons[col]);
		}
	}
	return 0;
}

/* Routes of population neurons, in tile and neuron order; output columns. */
/*
 * The plan's routes of neuron @i of @node (routes are sorted by node and
 * neuron): from *@first, as many as it returns; *@r moves past them.
 */
static size_t next_routes(const struct ionpu_plan *plan, uint32_t node,
			  uint32_t i, size_t *r, size_t *first)
{
	const struct ionpu_plan_route *routes = plan->routes;

	while (*r < plan->n_routes &&
	       (routes[*r].node < node ||
		(routes[*r].node == node && routes[*r].neuron < i)))
		(*r)++;
	*first = *r;
	while (*r < plan->n_routes && routes[*r].node == node &&
	       routes[*r].neuron == i)
		(*r)++;
	return *r - *first;
}

static struct ionpu_fab_target fab_target(const struct ionpu_plan_route *r)
{
	return (struct ionpu_fab_target){
		.tile = (uint16_t)r->tile,
		.row = (uint16_t)r->row,
		.delay = (uint16_t)r->delay_steps,
	};
}

/* The targets of neuron @i of @node into the image's pool at *@used. */
static int collect_targets(struct ionpu_image *img,
			   const struct ionpu_plan *plan, uint32_t node,
			   uint32_t i, const char *name, size_t *r,
			   size_t *used, uint32_t *cnt)
{
	size_t first, n = next_routes(plan, node, i, r, &first);

	if (n > IONPU_FAB_MAX_FANOUT)
		return ionpu_error(-EOPNOTSUPP,
				   "image: neuron %u of '%s' feeds more than %u rows; the router takes %u",
				   i, name, IONPU_FAB_MAX_FANOUT,
				   IONPU_FAB_MAX_FANOUT);
	for (size_t j = 0; j < n; j++)
		img->target_pool[(*used)++] =
			fab_target(&plan->routes[first + j]);
	*cnt = (uint32_t)n;
	return 0;
}

static int append_route(struct ionpu_image_tile *it,
			const struct ionpu_image_route *route)
{
	if ((it->n_routes & (it->n_routes - 1)) == 0) {
		struct ionpu_image_route *rt =
			realloc(it->routes,
				(it->n_routes ? it->n_routes * 2 : 1) *
					sizeof(*rt));

		if (!rt)
			return ionpu_error(-ENOMEM, "image: out of memory");
		it->routes = rt;
	}
	it->routes[it->n_routes++] = *route;
	return 0;
}

static int build_routes(struct ionpu_image *img, const struct ionpu_plan *plan,
			const struct ionpu_network *net,
			struct ionpu_image_site **place)
{
	struct ionpu_node_info n;
	size_t r = 0, used = 0;
	int err;

	img->target_pool = malloc((plan->n_routes ? plan->n_routes : 1) *
				  sizeof(*img->target_pool));
	if (!img->target_pool)
		return ionpu_error(-ENOMEM, "image: out of memory");
	for (size_t j = 0; j < plan->n_outputs; j++) {
		const struct ionpu_plan_output *o = &plan->outputs[j];
		size_t site = (size_t)o->tile * IONPU_FAB_NEURONS + o->column;

		img->outputs[j] =
			(struct ionpu_image_site){ o->tile, o->column };
		img->out_index[site] = (int32_t)j;
	}
	for (uint32_t node = 0; node < plan->n_nodes; node++) {
		ionpu_network_node(net, node, &n);
		if (n.kind != IONPU_NODE_POPULATION)
			continue;
		for (uint32_t i = 0; i < n.size; i++) {
			struct ionpu_image_site at = place[node][i];
			struct ionpu_image_route route = {
				.neuron = (uint16_t)at.column,
				.targets = img->target_pool + used,
			};

			err = collect_targets(img, plan, node, i, n.name, &r,
					      &used, &route.n_targets);
			if (err)
				return err;
			if (at.tile == UINT32_MAX) {
				if (route.n_targets)
					return ionpu_error(-EINVAL,
							   "image: neuron %u of '%s' has routes but no place",
							   i, n.name);
				continue;
			}
			route.to_host =
				img->out_index[(size_t)at.tile *
						       IONPU_FAB_NEURONS +
					       at.column] >= 0;
			if (!route.n_targets && !route.to_host)
				continue;
			err = append_route(&img->tiles[at.tile], &route);
			if (err)
				return err;
		}
	}
	return 0;
}

static int route_cmp(const void *a, const void *b)
{
	const struct ionpu_image_route *x = a, *y = b;

	return (x->neuron > y->neuron) - (x->neuron < y->neuron);
}

/* Input channels in node order, each with the targets of its routes. */
static int build_inputs(struct ionpu_image *img, const struct ionpu_plan *plan,
			const struct ionpu_network *net)
{
	struct ionpu_node_info n;
	size_t c = 0, k = 0, r = 0;

	for (uint32_t node = 0; node < plan->n_nodes; node++) {
		ionpu_network_node(net, node, &n);
		if (n.kind == IONPU_NODE_INPUT)
			img->n_in += n.size;
	}
	img->in_first = calloc(img->n_in + 1, sizeof(*img->in_first));
	img->in_targets = malloc((plan->n_routes ? plan->n_routes : 1) *
				 sizeof(*img->in_targets));
	if (!img->in_first || !img->in_targets)
		return ionpu_error(-ENOMEM, "image: out of memory");
	for (uint32_t node = 0; node < plan->n_nodes; node++) {
		ionpu_network_node(net, node, &n);
		if (n.kind != IONPU_NODE_INPUT)
			continue;
		for (uint32_t i = 0; i < n.size; i++, c++) {
			size_t first,
				cnt = next_routes(plan, node, i, &r, &first);

			img->in_first[c] = k;
			for (size_t j = 0; j < cnt; j++)
				img->in_targets[k++] =
					fab_target(&plan->routes[first + j]);
		}
	}
	img->in_first[c] = k;
	return 0;
}

/* Where the learning API finds a learned population's cells. */
static int learned_rows(struct ionpu_image_learned *l,
			const struct ionpu_plan *plan, uint32_t src)
{
	l->row_of = malloc(l->src_size * sizeof(*l->row_of));
	if (!l->row_of)
		return ionpu_error(-ENOMEM, "image: out of memory");
	for (uint32_t i = 0; i < l->src_size; i++)
		l->row_of[i] = UINT16_MAX;
	for (size_t r = 0; r < plan->n_routes; r++) {
		const struct ionpu_plan_route *pr = &plan->routes[r];

		if (pr->node == src && pr->tile == l->tile &&
		    pr->neuron < l->src_size)
			l->row_of[pr->neuron] = (uint16_t)pr->row;
	}
	for (uint32_t i = 0; i < l->src_size; i++)
		if (l->row_of[i] == UINT16_MAX)
			return ionpu_error(-EINVAL,
					   "image: learned tile %u has no row for source neuron %u",
					   l->tile, i);
	return 0;
}

static int build_learned(struct ionpu_image *img, const struct ionpu_plan *plan,
			 const struct ionpu_network *net)
{
	size_t n_projs = ionpu_network_projection_count(net);
	struct ionpu_projection_info p;
	struct ionpu_node_info src, dst;

	for (uint32_t t = 0; t < plan->n_tiles; t++)
		img->n_learned += plan->tiles[t].learned;
	if (!img->n_learned)
		return 0;
	img->learned = calloc(img->n_learned, sizeof(*img->learned));
	if (!img->learned)
		return ionpu_error(-ENOMEM, "image: out of memory");
	img->n_learned = 0;
	for (uint32_t t = 0; t < plan->n_tiles; t++) {
		const struct ionpu_plan_tile *pt = &plan->tiles[t];
		struct ionpu_image_learned *l = &img->learned[img->n_learned];
		int err;

		if (!pt->learned)
			continue;
		img->n_learned++;
		*l = (struct ionpu_image_learned){
			.node = pt->segments[0].node,
			.tile = t,
			.first_column = pt->segments[0].first_column,
			.neurons = pt->segments[0].count,
		};
		/* The compiler let exactly one projection into it. */
		for (l->proj = 0; l->proj < n_projs; l->proj++) {
			ionpu_network_projection(net, l->proj, &p);
			if (p.dst == l->node)
				break;
		}
		ionpu_network_node(net, p.src, &src);
		ionpu_network_node(net, l->node, &dst);
		l->src_size = src.size;
		l->name = strdup(dst.name);
		if (!l->name)
			return ionpu_error(-ENOMEM, "image: out of memory");
		err = learned_rows(l, plan, p.src);
		if (err)
			return err;
	}
	return 0;
}

static int build(struct ionpu_image *img, const struct ionpu_network *net,
		 const struct ionpu_plan *plan)
{
	size_t sites = (size_t)plan->n_tiles * IONPU_FAB_NEURONS;
	struct ionpu_image_site **place;
	struct ionpu_node_info n;
	int err = 0;

	img->n_tiles = plan->n_tiles;
	img->n_out = plan->n_outputs;
	img->tiles =
		calloc(plan->n_tiles ? plan->n_tiles : 1, sizeof(*img->tiles));
	img->outputs =
		malloc((img->n_out ? img->n_out : 1) * sizeof(*img->outputs));
	img->out_index = malloc((sites ? sites : 1) * sizeof(*img->out_index));
	place = calloc(plan->n_nodes ? plan->n_nodes : 1, sizeof(*place));
	if (!img->tiles || !img->outputs || !img->out_index || !place) {
		free(place);
		return ionpu_error(-ENOMEM, "image: out of memory");
	}
	for (size_t k = 0; k < sites; k++)
		img->out_index[k] = -1;
	for (uint32_t i = 0; i < plan->n_nodes; i++) {
		ionpu_network_node(net, i, &n);
		place[i] = malloc(n.size * sizeof(**place));
		if (!place[i]) {
			err = ionpu_error(-ENOMEM, "image: out of memory");
			goto out;
		}
		for (uint32_t k = 0; k < n.size; k++)
			place[i][k] = (struct ionpu_image_site){ UINT32_MAX,
								 UINT32_MAX };
	}
	err = build_tiles(img, plan);
	if (err)
		goto out;
	err = build_neurons(img, net, plan, place);
	if (err)
		goto out;
	err = build_routes(img, plan, net, place);
	if (err)
		goto out;
	for (uint32_t t = 0; t < img->n_tiles; t++)
		if (img->tiles[t].n_routes)
			qsort(img->tiles[t].routes, img->tiles[t].n_routes,
			      sizeof(*img->tiles[t].routes), route_cmp);
	err = build_inputs(img, plan, net);
	if (err)
		goto out;
	err = build_learned(img, plan, net);
out:
	for (uint32_t i = 0; i < plan->n_nodes; i++)
		free(place[i]);
	free(place);
	return err;
}

/*
 * Physical mode: what entries make a diffusive-memristor neuron fire like
 * the ideal one, step for step (docs/libionpu.md, "Physical mode").
 *
 * The card's physical neuron (docs/physics.md) is an RC membrane, v -> r I
 * with time constant tau, integrated exactly over a step, with a diffusive
 * memristor behind a series transistor: the filament grows while v is
 * above the device's threshold (|v_threshold|) and never for v <= 0; once
 * it has switched the device dumps v to about 0 (the spike) and holds it
 * there until the filament relaxes.  v_leak, v_reset, w_in, tau_syn and
 * refractory are not read.  Matching it to the ideal neuron, whose time is
 * counted in steps:
 *
 * - The membrane: exact integration over the physical step gives
 *   v' = v + (1 - e^(-dt/tau)) (r I - v), Euler over the ideal one
 *   v' = v + a (v_leak + r I - v) with a = dt / tau; they are one update
 *   (about v_leak) when e^(-dt_p / tau_p) = 1 - a.  IF has no leak: a
 *   leak of PHYS_IF_LEAK per step stands in, with r raised so one step of
 *   input still adds dt r I.  CubaLIF's synaptic filter has no device; its
 *   steady current w_in I is folded into r (same mean drive, earlier and
 *   less smoothed).
 * - The step: the device's own times are fixed in seconds (switching and
 *   recovery take some 50 ms together), which the ideal neuron does not
 *   have; the ideal one instead loses half a step on average to spiking
 *   only at whole steps.  PHYS_DT makes the two dead times about equal.
 *   Much longer steps let the slow residual (1 / gamma2 = 2.4 s) build up
 *   over fewer steps and lower the device's threshold.
 * - The threshold: the residual of earlier switching lowers the device's
 *   threshold under sustained drive, so its trim sits a little above the
 *   ideal threshold.  Measured from v_leak, since the membrane rests at 0.
 *
 * PHYS_DT and PHYS_TRIM are the best of a sweep (50..100 ms, 1.0..1.3) on
 * the model core: one LIF at constant drive, tau = 10 steps, fires within
 * 0.87..1.14x the ideal rate from 1.1 to 5 times threshold
 * (tests/unit/test_lib_physical.c pins it).
 *
 * What cannot carry over: a bias or v_leak above threshold (the membrane
 * has no drive without input), v_reset other than v_leak (the device
 * always dumps to 0), refractory counts, rates near one spike a step, and
 * drives just below threshold, where the residual and the device spread
 * make a few spikes.  LI must never fire, so its device gets the largest
 * threshold.
 */
#define PHYS_DT 0.1f	/* s of device time per timestep */
#define PHYS_TRIM 1.05f /* device threshold / (v_threshold - v_leak) */
#define PHYS_IF_LEAK (1.0f / 1024) /* membrane leak per step for IF */
#define PHYS_A_MIN 1e-6f	   /* keeps tau finite */
#define PHYS_A_MAX 0.95f	   /* Euler's a >= 1 has no RC equivalent */
#define PHYS_VTH_MIN 1e-3f	   /* the card's own floor */

int ionpu_image_physical(struct ionpu_image *img)
{
	for (uint32_t t = 0; t < img->n_tiles; t++) {
		struct ionpu_image_tile *it = &img->tiles[t];
		enum ionpu_fab_model model = it->cfg.model;

		for (uint32_t k = 0; k < IONPU_FAB_NEURONS; k++) {
			struct ionpu_fab_neuron *p = &it->neurons[k];
			double a = model == IONPU_FAB_IF ? PHYS_IF_LEAK :
							   it->cfg.dt / p->tau;
			double r = p->r,
			       vth = (double)p->v_threshold - p->v_leak;

			if (model == IONPU_FAB_IF)
				r *= it->cfg.dt / PHYS_IF_LEAK;
			else if (model == IONPU_FAB_CUBA_LIF)
				r *= p->w_in;
			a = fmin(fmax(a, PHYS_A_MIN), PHYS_A_MAX);
			vth = model == IONPU_FAB_LI ?
				      FLT_MAX :
				      fmax(PHYS_TRIM * vth, PHYS_VTH_MIN);
			p->tau = (float)(-PHYS_DT / log1p(-a));
			if (to_float(r, &p->r) ||
			    to_float(vth, &p->v_threshold))
				return ionpu_error(-ERANGE,
						   "image: tile %u, neuron %u: no physical form in float",
						   t, k);
		}
		it->cfg.mode = IONPU_FAB_PHYSICAL;
		it->cfg.dt = PHYS_DT;
	}
	return 0;
}

int ionpu_image_build(const struct ionpu_network *net,
		      const struct ionpu_plan *plan, struct ionpu_image **out)
{
	struct ionpu_image *img;
	int err;

	if (!net || !plan || !out)
		return ionpu_error(-EINVAL, "image: NULL argument");
	err = check_card(plan);
	if (err)
		return err;
	err = check_network(net, plan);
	if (err)
		return err;
	img = calloc(1, sizeof(*img));
	if (!img)
		return ionpu_error(-ENOMEM, "image: out of memory");
	err = build(img, net, plan);
	if (err) {
		ionpu_image_free(img);
		return err;
	}
	*out = img;
	return 0;
}
