/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the fabric's unit tests: a fabric with ideal tiles,
 * weights as whole conductance levels, and a spike recorder.
 */
#ifndef FABRIC_TEST_H
#define FABRIC_TEST_H

#include <stdlib.h>

#include "ionpu_fabric.h"

#define MAX_RECORDED 4096

struct spike {
	uint64_t t;
	unsigned int tile;
	unsigned int neuron;
};

struct recorder {
	struct spike s[MAX_RECORDED];
	unsigned int n;
	unsigned int stop_after;	/* 0: never ask to stop */
};

static inline int record_spike(void *opaque, uint64_t t, unsigned int tile,
			       unsigned int neuron)
{
	struct recorder *r = opaque;

	assert_true(r->n < MAX_RECORDED);
	r->s[r->n++] = (struct spike){ t, tile, neuron };
	return r->stop_after && r->n >= r->stop_after;
}

static inline struct ionpu_fabric *fabric_new(unsigned int tiles,
					      uint64_t seed)
{
	struct ionpu_fabric_config cfg = { .tiles = tiles, .seed = seed };
	struct ionpu_fabric *f = NULL;

	assert_int_equal(ionpu_fabric_new(&cfg, &f), 0);
	assert_non_null(f);
	return f;
}

static inline void tile_mode(struct ionpu_fabric *f, unsigned int tile,
			     enum ionpu_fab_mode mode,
			     enum ionpu_fab_model model, float dt)
{
	struct ionpu_fab_tile_config c = {
		.mode = mode, .model = model, .dt = dt,
		.gain = 1.0f / IONPU_FAB_G_STEP,
	};

	assert_int_equal(ionpu_fabric_set_tile(f, tile, &c), 0);
}

/*
 * Weight @levels (may be negative) on cell (row, col) of an ideal tile: a
 * pair @levels conductance levels apart, so with the default gain the
 * weight is @levels up to float rounding.
 */
static inline void set_weight(struct ionpu_fabric *f, unsigned int tile,
			      unsigned int row, unsigned int col, int levels)
{
	struct ionpu_fab_prog_result r;
	float gp = IONPU_FAB_G_MIN + (levels > 0 ? levels : 0) *
		   IONPU_FAB_G_STEP;
	float gn = IONPU_FAB_G_MIN + (levels < 0 ? -levels : 0) *
		   IONPU_FAB_G_STEP;

	assert_int_equal(ionpu_fabric_program(f, tile, row, col,
					      IONPU_FAB_GPLUS, gp, 1e-3f, 1,
					      &r), 0);
	assert_int_equal(r.status, IONPU_FAB_PROG_OK);
	assert_int_equal(ionpu_fabric_program(f, tile, row, col,
					      IONPU_FAB_GMINUS, gn, 1e-3f, 1,
					      &r), 0);
	assert_int_equal(r.status, IONPU_FAB_PROG_OK);
}

static inline void set_neuron(struct ionpu_fabric *f, unsigned int tile,
			      unsigned int neuron,
			      const struct ionpu_fab_neuron *p)
{
	assert_int_equal(ionpu_fabric_set_neuron(f, tile, neuron, p), 0);
}

static inline void to_host(struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron)
{
	assert_int_equal(ionpu_fabric_set_route(f, tile, neuron, true, NULL,
						0), 0);
}

static inline void run(struct ionpu_fabric *f, uint64_t steps,
		       struct recorder *rec)
{
	uint64_t done = 0;

	assert_int_equal(ionpu_fabric_run(f, steps, rec ? record_spike : NULL,
					  rec, &done), 0);
	assert_int_equal(done, steps);
}

#endif /* FABRIC_TEST_H */
