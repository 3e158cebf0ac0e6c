// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The learning engine of each tile: pre/post spike traces gathered during
 * runs and the supervised rule a teach turns into pulses on the tile's own
 * crossbar devices (docs/physics.md, "Learning").
 */
#include <errno.h>
#include <string.h>

#include "ionpu_fabric_impl.h"

static bool rule_ok(const struct ionpu_fab_learn_rule *r)
{
	/* Written so that NaN fails every comparison. */
	return r->amp_pot >= 0 && r->amp_pot <= 1 && r->amp_dep >= 0 &&
	       r->amp_dep <= 1 && ionpu_finite(r->pre_ref) && r->pre_ref > 0 &&
	       r->max_pulses >= 1;
}

void ionpu_learn_clear_traces(struct ionpu_fabric *f, uint64_t tiles)
{
	for (unsigned int t = 0; t < f->tiles; t++) {
		struct ionpu_learner *l = &f->tile[t].learn;

		if (!(tiles & (1ull << t)))
			continue;
		memset(l->pre, 0, sizeof(l->pre));
		memset(l->post, 0, sizeof(l->post));
	}
}

void ionpu_learn_reset(struct ionpu_fabric *f, uint64_t tiles)
{
	for (unsigned int t = 0; t < f->tiles; t++) {
		struct ionpu_learner *l = &f->tile[t].learn;

		if (!(tiles & (1ull << t)) || !l->on)
			continue;
		l->on = false;
		f->learners--;
	}
	ionpu_learn_clear_traces(f, tiles);
}

void ionpu_learn_post(struct ionpu_fabric *f, unsigned int head)
{
	const uint8_t *fired = f->tile[head].n.fired;

	if (!f->learners)
		return;
	for (unsigned int t = 0; t < f->tiles; t++) {
		struct ionpu_learner *l = &f->tile[t].learn;

		if (!l->on || f->tile[t].head != head)
			continue;
		for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
			if (fired[n] && l->post[n] < UINT32_MAX)
				l->post[n]++;
	}
}

int ionpu_fabric_learn(struct ionpu_fabric *f, unsigned int tile,
		       const struct ionpu_fab_learn_rule *rule)
{
	struct ionpu_learner *l;
	int ret = ionpu_fabric_check_cell(f, tile, 0, 0);

	if (ret)
		return ret;
	if (rule && !rule_ok(rule))
		return -EINVAL;
	l = &f->tile[tile].learn;
	if (!rule) {
		ionpu_learn_reset(f, 1ull << tile);
		return 0;
	}
	if (!l->on)
		f->learners++;
	l->on = true;
	l->rule = *rule;
	ionpu_learn_clear_traces(f, 1ull << tile);
	return 0;
}

int ionpu_fabric_get_learn(const struct ionpu_fabric *f, unsigned int tile,
			   struct ionpu_fab_learn_rule *rule)
{
	const struct ionpu_learner *l;
	int ret = ionpu_fabric_check_cell(f, tile, 0, 0);

	if (ret)
		return ret;
	l = &f->tile[tile].learn;
	if (l->on && rule)
		*rule = l->rule;
	return l->on;
}

int ionpu_fabric_learn_traces(const struct ionpu_fabric *f, unsigned int tile,
			      uint32_t *pre, uint32_t *post)
{
	const struct ionpu_learner *l;
	int ret = ionpu_fabric_check_cell(f, tile, 0, 0);

	if (ret)
		return ret;
	l = &f->tile[tile].learn;
	if (pre)
		memcpy(pre, l->pre, sizeof(l->pre));
	if (post)
		memcpy(post, l->post, sizeof(l->post));
	return 0;
}

/*
 * Pulse @dev of column @col on every row that received input, scaled by
 * how much it received.  Returns the pulses applied, at most @budget.
 */
static uint32_t pulse_column(struct ionpu_fabric *f, unsigned int tile,
			     unsigned int col, enum ionpu_fab_device dev,
			     float amp, uint32_t budget)
{
	const struct ionpu_learner *l = &f->tile[tile].learn;
	uint32_t used = 0;

	if (amp == 0)
		return 0;
	for (unsigned int row = 0; row < IONPU_FAB_ROWS && used < budget;
	     row++) {
		float s;

		if (!l->pre[row])
			continue;
		s = (float)l->pre[row] / l->rule.pre_ref;
		ionpu_program_learn_pulse(f, tile,
					  row * IONPU_FAB_NEURONS + col, dev,
					  amp * (s < 1 ? s : 1));
		used++;
	}
	return used;
}

int ionpu_fabric_teach(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int neuron)
{
	struct ionpu_learner *l;
	uint32_t used = 0;
	int ret = ionpu_fabric_check_cell(f, tile, 0, neuron);

	if (ret)
		return ret;
	l = &f->tile[tile].learn;
	if (!l->on)
		return -EINVAL;
	if (l->post[neuron] < l->rule.post_target)
		used = pulse_column(f, tile, neuron, IONPU_FAB_GPLUS,
				    l->rule.amp_pot, l->rule.max_pulses);
	for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++) {
		if (n == neuron || !l->post[n])
			continue;
		used += pulse_column(f, tile, n, IONPU_FAB_GMINUS,
				     l->rule.amp_dep,
				     l->rule.max_pulses - used);
	}
	ionpu_learn_clear_traces(f, 1ull << tile);
	return (int)used;
}
