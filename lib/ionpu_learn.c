// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Learning sessions: a learned population's tile engine turned on, labelled
 * examples run and taught, the learned weights read back and saved as NIR.
 *
 * The session's logic is written once over the operations of its target
 * (lib/ionpu_learn.h): the host reference's fabric, here, or a card
 * (lib/ionpu_learn_card.c).  Both run the example through the path an
 * ordinary run takes (ionpu_host_run(), ionpu_loaded_run()), from rest, and
 * teach the same column, so in ideal mode they pulse the same cells.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_fabric.h"
#include "ionpu_learn.h"

/* A rule of @size bytes as the caller knows it, checked into the card's. */
static int check_rule(const struct ionpu_learn_rule *r,
		      struct ionpu_fab_learn_rule *out)
{
	const struct {
		const char *name;
		double v, lo, hi;
	} amps[] = {
		{ "amp_pot", r->amp_pot, 0, 1 },
		{ "amp_dep", r->amp_dep, 0, 1 },
	};

	int err = ionpu_check_size(r, r->size, sizeof(*r), "learning rule");

	if (err)
		return err;
	for (size_t k = 0; k < sizeof(amps) / sizeof(amps[0]); k++)
		if (!(amps[k].v >= amps[k].lo && amps[k].v <= amps[k].hi))
			return ionpu_error(-EINVAL,
					   "learn: %s is %g; it must lie in %g..%g",
					   amps[k].name, amps[k].v, amps[k].lo,
					   amps[k].hi);
	if (!(r->pre_ref > 0 && r->pre_ref <= FLT_MAX))
		return ionpu_error(-EINVAL,
				   "learn: pre_ref is %g; it must be a positive number of input events",
				   r->pre_ref);
	if (!r->max_pulses)
		return ionpu_error(-EINVAL,
				   "learn: max_pulses is 0; an example needs at least 1");
	*out = (struct ionpu_fab_learn_rule){
		.amp_pot = (float)r->amp_pot,
		.amp_dep = (float)r->amp_dep,
		.pre_ref = (float)r->pre_ref,
		.post_target = r->post_target,
		.max_pulses = r->max_pulses,
	};
	return 0;
}

static struct ionpu_image_learned *find_learned(struct ionpu_image *img,
						const char *node)
{
	for (size_t k = 0; k < img->n_learned; k++)
		if (!strcmp(img->learned[k].name, node))
			return &img->learned[k];
	return NULL;
}

int ionpu_learn_begin(struct ionpu_learner *l, struct ionpu_image *img,
		      const uint32_t *tile_of, const char *node,
		      const struct ionpu_learn_rule *rule,
		      struct ionpu_learner **out)
{
	struct ionpu_fab_learn_rule fr;
	int err;

	l->img = img;
	l->lt = find_learned(img, node);
	err = check_rule(rule, &fr);
	if (err)
		goto err_free;
	if (!l->lt) {
		err = ionpu_error(-EINVAL,
				  "learn: '%s' is not a learned population of the plan (ionpu_compile_with() names them)",
				  node);
		goto err_free;
	}
	if (l->lt->busy) {
		err = ionpu_error(-EINVAL,
				  "learn: a session on '%s' is already on",
				  node);
		goto err_free;
	}
	l->tile = tile_of ? tile_of[l->lt->tile] : l->lt->tile;
	err = l->ops->counters(l, &l->pulses0, &l->energy0);
	if (err)
		goto err_free;
	err = l->ops->engine(l, &fr);
	if (err)
		goto err_free;
	l->lt->busy = true;
	*out = l;
	return 0;

err_free:
	free(l);
	return err;
}

IONPU_API int ionpu_learn_example(struct ionpu_learner *l, const float *in,
				  size_t steps, uint32_t label)
{
	size_t n_out;
	int err;

	if (!l || !in || !steps)
		return ionpu_error(-EINVAL,
				   "ionpu_learn_example: NULL argument or no steps");
	if (l->frozen)
		return ionpu_error(-EINVAL, "learn: learning on '%s' is frozen",
				   l->lt->name);
	if (label >= l->lt->neurons)
		return ionpu_error(-EINVAL,
				   "learn: label %u is out of range: '%s' has neurons 0..%u",
				   label, l->lt->name, l->lt->neurons - 1);
	n_out = l->img->n_out;
	if (n_out && steps > SIZE_MAX / n_out)
		return ionpu_error(-EOVERFLOW, "learn: %zu steps overflow",
				   steps);
	if (steps * n_out > l->out_size) {
		uint8_t *p = realloc(l->out, steps * n_out);

		if (!p)
			return ionpu_error(-ENOMEM, "learn: out of memory");
		l->out = p;
		l->out_size = steps * n_out;
	}
	err = l->ops->run(l, in, steps);
	if (err)
		return err;
	err = l->ops->teach(l, l->lt->first_column + label);
	if (err)
		return err;
	l->examples++;
	return 0;
}

IONPU_API int ionpu_learn_freeze(struct ionpu_learner *l)
{
	int err;

	if (!l)
		return ionpu_error(-EINVAL, "ionpu_learn_freeze: NULL session");
	if (l->frozen)
		return 0;
	err = l->ops->engine(l, NULL);
	if (err)
		return err;
	l->frozen = true;
	return 0;
}

IONPU_API int ionpu_learn_stats(struct ionpu_learner *l,
				struct ionpu_learn_stats *out)
{
	uint64_t pulses, energy;
	int err;

	if (!l || !out)
		return ionpu_error(-EINVAL, "ionpu_learn_stats: NULL argument");
	err = l->ops->counters(l, &pulses, &energy);
	if (err)
		return err;
	*out = (struct ionpu_learn_stats){
		.examples = l->examples,
		.pulses = pulses - l->pulses0,
		.energy_fj = energy - l->energy0,
	};
	return 0;
}

IONPU_API int ionpu_learn_weights(struct ionpu_learner *l, double *out)
{
	const struct ionpu_image_learned *lt;
	uint32_t rows = 0, cols;
	float *gp, *gm;
	double per_us;
	int err;

	if (!l || !out)
		return ionpu_error(-EINVAL,
				   "ionpu_learn_weights: NULL argument");
	lt = l->lt;
	for (uint32_t i = 0; i < lt->src_size; i++)
		if (lt->row_of[i] >= rows)
			rows = lt->row_of[i] + 1u;
	cols = lt->first_column + lt->neurons;
	gp = malloc((size_t)rows * cols * sizeof(*gp));
	gm = malloc((size_t)rows * cols * sizeof(*gm));
	if (!gp || !gm) {
		err = ionpu_error(-ENOMEM, "learn: out of memory");
		goto out;
	}
	err = l->ops->read(l, rows, cols, gp, gm);
	if (err)
		goto out;
	per_us = l->img->tiles[lt->tile].weight_per_us;
	for (uint32_t k = 0; k < lt->neurons; k++)
		for (uint32_t i = 0; i < lt->src_size; i++) {
			size_t c = (size_t)lt->row_of[i] * cols +
				   lt->first_column + k;

			out[(size_t)k * lt->src_size + i] =
				((double)gp[c] - gm[c]) * per_us;
		}
out:
	free(gp);
	free(gm);
	return err;
}

IONPU_API int ionpu_learn_save_nir(struct ionpu_learner *l,
				   const struct ionpu_network *net,
				   const char *path)
{
	struct ionpu_projection_info p;
	struct ionpu_node_info dst;
	struct ionpu_network *copy = NULL;
	double *w = NULL;
	int err;

	if (!l || !net || !path)
		return ionpu_error(-EINVAL,
				   "ionpu_learn_save_nir: NULL argument");
	if (ionpu_network_projection(net, l->lt->proj, &p) ||
	    p.kind != IONPU_PROJ_DENSE || p.dst != l->lt->node ||
	    ionpu_network_node(net, p.dst, &dst) ||
	    strcmp(dst.name, l->lt->name) || dst.size != l->lt->neurons)
		return ionpu_error(-EINVAL,
				   "learn: %s: the network is not the one whose plan learns '%s'",
				   path, l->lt->name);
	w = malloc((size_t)l->lt->neurons * l->lt->src_size * sizeof(*w));
	if (!w)
		return ionpu_error(-ENOMEM, "learn: out of memory");
	err = ionpu_learn_weights(l, w);
	if (!err)
		err = ionpu_network_copy(net, &copy);
	if (!err)
		err = ionpu_network_set_dense(copy, l->lt->proj, w);
	if (!err)
		err = ionpu_nir_save(copy, path);
	ionpu_network_free(copy);
	free(w);
	return err;
}

IONPU_API void ionpu_learn_free(struct ionpu_learner *l)
{
	if (!l)
		return;
	if (!l->frozen)
		l->ops->engine(l, NULL);
	l->lt->busy = false;
	free(l->out);
	free(l);
}

/* --- the host reference ------------------------------------------------- */

static int host_engine(struct ionpu_learner *l,
		       const struct ionpu_fab_learn_rule *rule)
{
	int err = ionpu_fabric_learn(ionpu_host_fabric(l->host), l->tile, rule);

	if (err)
		return ionpu_error(err,
				   "host: tile %u: cannot turn learning %s",
				   l->tile, rule ? "on" : "off");
	return 0;
}

static int host_run(struct ionpu_learner *l, const float *in, size_t steps)
{
	ionpu_host_reset(l->host);
	return ionpu_host_run(l->host, in, steps, l->out);
}

static int host_teach(struct ionpu_learner *l, uint32_t column)
{
	int ret =
		ionpu_fabric_teach(ionpu_host_fabric(l->host), l->tile, column);

	if (ret < 0)
		return ionpu_error(ret, "host: tile %u: cannot teach neuron %u",
				   l->tile, column);
	return 0;
}

static int host_counters(struct ionpu_learner *l, uint64_t *pulses,
			 uint64_t *energy_fj)
{
	struct ionpu_fab_counters c;

	ionpu_fabric_counters(ionpu_host_fabric(l->host), &c);
	*pulses = c.learn_pulses;
	*energy_fj = c.learn_energy_fj;
	return 0;
}

static int host_read(struct ionpu_learner *l, uint32_t rows, uint32_t cols,
		     float *gplus, float *gminus)
{
	for (uint32_t r = 0; r < rows; r++)
		for (uint32_t c = 0; c < cols; c++) {
			size_t k = (size_t)r * cols + c;
			int err = ionpu_fabric_read(ionpu_host_fabric(l->host),
						    l->tile, r, c, &gplus[k],
						    &gminus[k]);

			if (err)
				return ionpu_error(err,
						   "host: tile %u: cannot read cell (%u, %u)",
						   l->tile, r, c);
		}
	return 0;
}

static const struct ionpu_learn_ops host_ops = {
	.engine = host_engine,
	.run = host_run,
	.teach = host_teach,
	.counters = host_counters,
	.read = host_read,
};

IONPU_API int ionpu_host_learn_start(struct ionpu_host *h, const char *node,
				     const struct ionpu_learn_rule *rule,
				     struct ionpu_learner **out)
{
	struct ionpu_learner *l;

	if (!h || !node || !rule || !out)
		return ionpu_error(-EINVAL,
				   "ionpu_host_learn_start: NULL argument");
	l = calloc(1, sizeof(*l));
	if (!l)
		return ionpu_error(-ENOMEM, "learn: out of memory");
	l->ops = &host_ops;
	l->host = h;
	return ionpu_learn_begin(l, ionpu_host_image(h), NULL, node, rule, out);
}
