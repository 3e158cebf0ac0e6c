// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Crossbar conductances and the devices' non-idealities: device-to-device
 * variation, stuck cells, drift over device time and read noise, each drawn
 * from the card's seed (docs/physics.md, "Synapses").
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ionpu_fabric_impl.h"

/* Device-to-device spreads (relative standard deviations). */
#define D2D_GMAX 0.05f
#define D2D_GMIN 0.10f
#define D2D_STEP 0.30f
/* Drift G(t) = G_min + (G0 - G_min) (1 + t/T0)^-nu. */
#define DRIFT_NU 0.01f
#define DRIFT_NU_SPREAD 0.005f
#define DRIFT_T0 1.0 /* s */
/* Stuck devices: at G_min (open) and at G_max (shorted filament). */
#define P_STUCK_OFF 0.005f
#define P_STUCK_ON 0.005f
/* Refresh drifted weights when device time moved by both of these. */
#define DRIFT_REFRESH_ABS 1e-3 /* s */
#define DRIFT_REFRESH_REL 0.01

int ionpu_xbar_alloc(struct ionpu_xbar *xb)
{
	xb->gp = malloc(IONPU_FAB_CELLS * sizeof(float));
	xb->gn = malloc(IONPU_FAB_CELLS * sizeof(float));
	xb->t_prog = calloc(IONPU_FAB_CELLS, sizeof(float));
	xb->w = calloc(IONPU_FAB_CELLS, sizeof(float));
	xb->code = calloc(IONPU_FAB_CELLS, sizeof(int16_t));
	xb->w_valid = false;
	if (!xb->gp || !xb->gn || !xb->t_prog || !xb->w || !xb->code)
		return -ENOMEM;
	return 0;
}

void ionpu_xbar_free(struct ionpu_xbar *xb)
{
	free(xb->gp);
	free(xb->gn);
	free(xb->t_prog);
	free(xb->w);
	free(xb->code);
}

void ionpu_xbar_device(const struct ionpu_fabric *f, unsigned int tile,
		       unsigned int cell, enum ionpu_fab_device dev,
		       struct ionpu_device *d)
{
	uint32_t place = cell * 2 + (uint32_t)dev;
	uint64_t h[6];
	float u;

	for (unsigned int k = 0; k < 6; k++)
		h[k] = ionpu_hash(f->seed, IONPU_RNG_CELL, tile, place, k);
	d->g_max = IONPU_FAB_G_MAX *
		   (1.0f + D2D_GMAX * ionpu_hash_normal(h[0], h[1]));
	d->g_min = IONPU_FAB_G_MIN *
		   (1.0f + D2D_GMIN * ionpu_hash_normal(h[1], h[2]));
	if (d->g_min < 0.1f * IONPU_FAB_G_MIN)
		d->g_min = 0.1f * IONPU_FAB_G_MIN;
	if (d->g_max < d->g_min + 0.5f * (IONPU_FAB_G_MAX - IONPU_FAB_G_MIN))
		d->g_max =
			d->g_min + 0.5f * (IONPU_FAB_G_MAX - IONPU_FAB_G_MIN);
	d->s_set = IONPU_STEP_NOMINAL *
		   (1.0f + D2D_STEP * ionpu_hash_normal(h[2], h[3]));
	d->s_reset = IONPU_STEP_NOMINAL *
		     (1.0f + D2D_STEP * ionpu_hash_normal(h[3], h[4]));
	if (d->s_set < 0.2f * IONPU_STEP_NOMINAL)
		d->s_set = 0.2f * IONPU_STEP_NOMINAL;
	if (d->s_reset < 0.2f * IONPU_STEP_NOMINAL)
		d->s_reset = 0.2f * IONPU_STEP_NOMINAL;
	d->nu = DRIFT_NU + DRIFT_NU_SPREAD * ionpu_hash_normal(h[4], h[5]);
	if (d->nu < 0)
		d->nu = 0;
	/* Bits of h[5] that the drift draw above does not use. */
	u = ionpu_hash_uniform(h[5] << 24);
	d->stuck = u < P_STUCK_OFF + P_STUCK_ON;
	d->g_stuck = u < P_STUCK_OFF ? d->g_min : d->g_max;
}

static float drifted(const struct ionpu_device *d, float g0, double age)
{
	if (age <= 0 || d->nu == 0)
		return g0;
	return d->g_min + (g0 - d->g_min) * (float)pow(1.0 + age / DRIFT_T0,
						       -(double)d->nu);
}

float ionpu_xbar_true_g(const struct ionpu_fabric *f, unsigned int tile,
			unsigned int cell, enum ionpu_fab_device dev)
{
	const struct ionpu_tile *t = &f->tile[tile];
	float g0 = dev == IONPU_FAB_GPLUS ? t->xb.gp[cell] : t->xb.gn[cell];
	struct ionpu_device d;

	if (t->cfg.mode != IONPU_FAB_PHYSICAL)
		return g0;
	ionpu_xbar_device(f, tile, cell, dev, &d);
	if (d.stuck)
		return d.g_stuck;
	return drifted(&d, g0, ionpu_device_time_s(f) - t->xb.t_prog[cell]);
}

void ionpu_xbar_settle(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int cell)
{
	struct ionpu_xbar *xb = &f->tile[tile].xb;

	if (f->tile[tile].cfg.mode == IONPU_FAB_PHYSICAL) {
		xb->gp[cell] =
			ionpu_xbar_true_g(f, tile, cell, IONPU_FAB_GPLUS);
		xb->gn[cell] =
			ionpu_xbar_true_g(f, tile, cell, IONPU_FAB_GMINUS);
	}
	xb->t_prog[cell] = (float)ionpu_device_time_s(f);
}

/* Ideal mode: exact, as both devices of the pair sit on levels. */
static int16_t ionpu_xbar_code(const struct ionpu_xbar *xb, unsigned int cell)
{
	return (int16_t)lroundf((xb->gp[cell] - xb->gn[cell]) /
				IONPU_FAB_G_STEP);
}

void ionpu_xbar_update_cell(struct ionpu_fabric *f, unsigned int tile,
			    unsigned int cell)
{
	struct ionpu_tile *t = &f->tile[tile];

	if (!t->xb.w_valid)
		return; /* the next refresh recomputes every cell */
	if (t->cfg.mode != IONPU_FAB_PHYSICAL) {
		t->xb.code[cell] = ionpu_xbar_code(&t->xb, cell);
		return;
	}
	t->xb.w[cell] = t->cfg.gain *
			(ionpu_xbar_true_g(f, tile, cell, IONPU_FAB_GPLUS) -
			 ionpu_xbar_true_g(f, tile, cell, IONPU_FAB_GMINUS));
}

void ionpu_xbar_invalidate(struct ionpu_fabric *f, unsigned int tile)
{
	f->tile[tile].xb.w_valid = false;
}

void ionpu_xbar_refresh(struct ionpu_fabric *f, unsigned int tile)
{
	struct ionpu_tile *t = &f->tile[tile];
	struct ionpu_xbar *xb = &t->xb;
	double now = ionpu_device_time_s(f);

	if (xb->w_valid) {
		double moved = fabs(now - xb->w_time);

		/* Drift is slow in log time: refresh on a big enough move. */
		if (t->cfg.mode != IONPU_FAB_PHYSICAL ||
		    moved < DRIFT_REFRESH_ABS ||
		    moved < DRIFT_REFRESH_REL * now)
			return;
	}
	xb->w_valid = true;
	xb->w_time = now;
	if (t->cfg.mode != IONPU_FAB_PHYSICAL) {
		xb->unit = t->cfg.gain * IONPU_FAB_G_STEP;
		for (unsigned int c = 0; c < IONPU_FAB_CELLS; c++)
			xb->code[c] = ionpu_xbar_code(xb, c);
		return;
	}
	for (unsigned int c = 0; c < IONPU_FAB_CELLS; c++)
		ionpu_xbar_update_cell(f, tile, c);
}

void ionpu_xbar_accumulate_noisy(struct ionpu_tile *t, unsigned int row,
				 float value, struct ionpu_neurons *head)
{
	const float *restrict w = t->xb.w + (size_t)row * IONPU_FAB_NEURONS;
	float *restrict acc = head->acc;
	/* Each device of the pair adds its own read noise. */
	float noise = t->cfg.gain * IONPU_READ_NOISE_US * 1.41421356f * value;

	for (unsigned int c = 0; c < IONPU_FAB_NEURONS; c++)
		acc[c] += value * w[c];
	head->read_var += noise * noise;
}

/*
 * The read noise of every row a column summed this timestep, drawn once:
 * independent normal errors add up to one normal whose variance is the
 * sum of theirs, so one draw per column and timestep instead of one per
 * row read gives the same distribution at a fraction of the cost.
 */
void ionpu_xbar_read_noise(struct ionpu_tile *head)
{
	struct ionpu_neurons *n = &head->n;
	float sd = sqrtf(n->read_var);

	if (n->read_var == 0)
		return;
	for (unsigned int c = 0; c < IONPU_FAB_NEURONS; c++)
		n->acc[c] += sd * ionpu_rng_normal(&head->rng);
	n->read_var = 0;
}

int ionpu_fabric_read(struct ionpu_fabric *f, unsigned int tile,
		      unsigned int row, unsigned int col, float *gplus,
		      float *gminus)
{
	unsigned int cell = row * IONPU_FAB_NEURONS + col;
	struct ionpu_tile *t;
	int ret = ionpu_fabric_check_cell(f, tile, row, col);

	if (ret)
		return ret;
	t = &f->tile[tile];
	for (int dev = 0; dev < 2; dev++) {
		float g = ionpu_xbar_true_g(f, tile, cell, dev);
		float *out = dev == IONPU_FAB_GPLUS ? gplus : gminus;

		if (t->cfg.mode == IONPU_FAB_PHYSICAL)
			g += IONPU_READ_NOISE_US * ionpu_rng_normal(&t->rng);
		if (out)
			*out = g;
	}
	ionpu_fabric_busy(f, t, IONPU_T_VERIFY_NS, 2 * IONPU_E_VERIFY_FJ);
	return 0;
}
