// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Learning sessions on a card: the operations of lib/ionpu_learn.h through
 * the driver (IONPU_IOC_LEARN, IONPU_IOC_TEACH, IONPU_IOC_COUNTERS,
 * IONPU_IOC_READ_CELLS) on the loaded network's own file, which holds the
 * tiles' lease.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>

#include <linux/ionpu.h>

#include "ionpu_learn.h"

static int card_engine(struct ionpu_learner *l,
		       const struct ionpu_fab_learn_rule *rule)
{
	struct ionpu_learn req = { .tile = l->tile };
	int err;

	if (rule)
		req = (struct ionpu_learn){
			.flags = IONPU_LEARN_ENABLE,
			.tile = l->tile,
			.amp_pot = ionpu_f32_bits(rule->amp_pot),
			.amp_dep = ionpu_f32_bits(rule->amp_dep),
			.pre_ref = ionpu_f32_bits(rule->pre_ref),
			.post_target = rule->post_target,
			.max_pulses = rule->max_pulses,
		};
	err = ionpu_ioctl(l->loaded->fd, IONPU_IOC_LEARN, &req);
	if (err == -EOPNOTSUPP || err == -ENOTTY)
		return ionpu_error(-EOPNOTSUPP,
				   "learn: the card or its driver has no learning engine (card version 1.4, API 4)");
	if (err)
		return ionpu_error_errno(err,
					 "learn: card tile %u: IONPU_IOC_LEARN %s",
					 l->tile, rule ? "on" : "off");
	return 0;
}

static int card_run(struct ionpu_learner *l, const float *in, size_t steps)
{
	return ionpu_loaded_run(l->loaded, in, steps, 0, l->out);
}

static int card_teach(struct ionpu_learner *l, uint32_t column)
{
	struct ionpu_teach req = { .tile = l->tile, .neuron = column };
	int err = ionpu_ioctl(l->loaded->fd, IONPU_IOC_TEACH, &req);

	if (err)
		return ionpu_error_errno(err,
					 "learn: card tile %u: IONPU_IOC_TEACH neuron %u",
					 l->tile, column);
	return 0;
}

static int card_counters(struct ionpu_learner *l, uint64_t *pulses,
			 uint64_t *energy_fj)
{
	/* Other tenants may learn on the card at the same time. */
	struct ionpu_counters c = { .flags = IONPU_COUNTERS_FILE };
	int err = ionpu_ioctl(l->loaded->fd, IONPU_IOC_COUNTERS, &c);

	if (err)
		return ionpu_error_errno(err, "learn: IONPU_IOC_COUNTERS");
	*pulses = c.learn_pulses;
	*energy_fj = c.learn_energy_fj;
	return 0;
}

static int card_read(struct ionpu_learner *l, uint32_t rows, uint32_t cols,
		     float *gplus, float *gminus)
{
	size_t n = (size_t)rows * cols;
	struct ionpu_cell_read *cells = malloc((n ? n : 1) * sizeof(*cells));
	struct ionpu_read_cells req = {
		.tile = l->tile,
		.rows = rows,
		.columns = cols,
		.cells = (uintptr_t)cells,
	};
	int err;

	if (!cells)
		return ionpu_error(-ENOMEM, "learn: out of memory");
	err = ionpu_ioctl(l->loaded->fd, IONPU_IOC_READ_CELLS, &req);
	if (err) {
		free(cells);
		return ionpu_error_errno(err,
					 "learn: card tile %u: IONPU_IOC_READ_CELLS",
					 l->tile);
	}
	for (size_t k = 0; k < n; k++) {
		gplus[k] = ionpu_f32_value(cells[k].g_plus);
		gminus[k] = ionpu_f32_value(cells[k].g_minus);
	}
	free(cells);
	return 0;
}

static const struct ionpu_learn_ops card_ops = {
	.engine = card_engine,
	.run = card_run,
	.teach = card_teach,
	.counters = card_counters,
	.read = card_read,
};

IONPU_API int ionpu_learn_start(struct ionpu_loaded *n, const char *node,
				const struct ionpu_learn_rule *rule,
				struct ionpu_learner **out)
{
	struct ionpu_learner *l;

	if (!n || !node || !rule || !out)
		return ionpu_error(-EINVAL, "ionpu_learn_start: NULL argument");
	l = calloc(1, sizeof(*l));
	if (!l)
		return ionpu_error(-ENOMEM, "learn: out of memory");
	l->ops = &card_ops;
	l->loaded = n;
	return ionpu_learn_begin(l, n->img, n->card_tile, node, rule, out);
}
