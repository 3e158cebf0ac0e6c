/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A learning session (lib/ionpu_learn.c) and what it needs of the target it
 * learns on: the host reference's fabric or a card behind the driver.  The
 * session's logic is one, so the two cannot learn differently.
 */
#ifndef IONPU_LEARN_H
#define IONPU_LEARN_H

#include "ionpu_internal.h"

struct ionpu_learner;

struct ionpu_learn_ops {
	/* The engine of the session's tile on with @rule, or off (NULL). */
	int (*engine)(struct ionpu_learner *l,
		      const struct ionpu_fab_learn_rule *rule);
	/* Run @in (steps x inputs) from rest, the output into l->out. */
	int (*run)(struct ionpu_learner *l, const float *in, size_t steps);
	/* Teach the neuron on @column of the session's tile. */
	int (*teach)(struct ionpu_learner *l, uint32_t column);
	/* The learning counters of the fabric or card. */
	int (*counters)(struct ionpu_learner *l, uint64_t *pulses,
			uint64_t *energy_fj);
	/*
	 * Rows 0 .. @rows - 1 by columns 0 .. @cols - 1 of the tile, as the
	 * read circuit gives them: G+ and G-, uS, row-major.
	 */
	int (*read)(struct ionpu_learner *l, uint32_t rows, uint32_t cols,
		    float *gplus, float *gminus);
};

struct ionpu_learner {
	const struct ionpu_learn_ops *ops;
	struct ionpu_host *host;     /* the host reference, or */
	struct ionpu_loaded *loaded; /* the card */
	struct ionpu_image *img;
	struct ionpu_image_learned *lt; /* the population learned */
	uint32_t tile;			/* the fabric's or card's tile */
	bool frozen;
	uint64_t examples;
	uint64_t pulses0, energy0; /* the counters at the start */
	uint8_t *out;		   /* the output raster of an example */
	size_t out_size;
};

/*
 * Start session @l (ops and host or loaded set) on learned population
 * @node of @img, whose plan tile t is tile @tile_of[t] of the target (NULL:
 * the same): check the rule, turn the engine on, read the counters.  @l is
 * freed on failure.
 */
int ionpu_learn_begin(struct ionpu_learner *l, struct ionpu_image *img,
		      const uint32_t *tile_of, const char *node,
		      const struct ionpu_learn_rule *rule,
		      struct ionpu_learner **out);

#endif /* IONPU_LEARN_H */
