// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The programming engine: raw SET/RESET pulses, per-device
 * write-and-verify and the learning engine's pulses (docs/physics.md,
 * "Programming" and "Learning").
 */
#include <errno.h>
#include <math.h>

#include "ionpu_fabric_impl.h"

/* Cycle-to-cycle spread of one pulse's step (relative). */
#define C2C_STEP 0.3f
/* Smallest pulse amplitude the engine uses, as a fraction of a full one. */
#define AMP_MIN 0.01f
/*
 * Stuck: STUCK_PULSES pulses in one direction were expected to move the
 * device by at least STUCK_EXPECT uS and it moved less than STUCK_FRACTION
 * of that.  The slowest good device (a fifth of the nominal step) moves
 * twice that, and read noise alone moves a stuck one by a fraction of it.
 */
#define STUCK_PULSES 16
#define STUCK_EXPECT 8.0f
#define STUCK_FRACTION 0.1f

static float *device_slot(struct ionpu_tile *t, unsigned int cell,
			  enum ionpu_fab_device dev)
{
	return dev == IONPU_FAB_GPLUS ? &t->xb.gp[cell] : &t->xb.gn[cell];
}

static float quantize(float g)
{
	float k = roundf((g - IONPU_FAB_G_MIN) / IONPU_FAB_G_STEP);

	if (k < 0)
		k = 0;
	if (k > IONPU_FAB_G_LEVELS - 1)
		k = IONPU_FAB_G_LEVELS - 1;
	return IONPU_FAB_G_MIN + k * IONPU_FAB_G_STEP;
}

/*
 * One pulse of amplitude @amp (0..1] on a physical device: a soft-bounds
 * step towards the bound it drives to, scaled by cycle-to-cycle noise.
 * The pair must have been settled (drift folded in) first.
 */
static void physical_pulse(struct ionpu_fabric *f, unsigned int tile,
			   unsigned int cell, enum ionpu_fab_device dev,
			   enum ionpu_fab_pulse kind, float amp)
{
	struct ionpu_tile *t = &f->tile[tile];
	float *g = device_slot(t, cell, dev);
	struct ionpu_device d;
	float noise = 1.0f + C2C_STEP * ionpu_rng_normal(&t->rng);

	ionpu_xbar_device(f, tile, cell, dev, &d);
	if (noise < 0)
		noise = 0;
	if (d.stuck)
		return;
	if (kind == IONPU_FAB_SET)
		*g += amp * d.s_set * noise * (d.g_max - *g);
	else
		*g -= amp * d.s_reset * noise * (*g - d.g_min);
}

static void ideal_pulse(struct ionpu_tile *t, unsigned int cell,
			enum ionpu_fab_device dev, enum ionpu_fab_pulse kind)
{
	float *g = device_slot(t, cell, dev);

	*g = quantize(*g + (kind == IONPU_FAB_SET ? IONPU_FAB_G_STEP :
						    -IONPU_FAB_G_STEP));
}

static void count_pulses(struct ionpu_fabric *f, unsigned int tile, uint32_t n)
{
	struct ionpu_tile *t = &f->tile[tile];

	f->cnt.program_pulses += n;
	t->cnt.program_pulses += n;
	ionpu_fabric_busy(f, t, (uint64_t)n * IONPU_T_PULSE_NS,
			  (double)n * IONPU_E_PULSE_FJ);
}

void ionpu_program_learn_pulse(struct ionpu_fabric *f, unsigned int tile,
			       unsigned int cell, enum ionpu_fab_device dev,
			       float amp)
{
	struct ionpu_tile *t = &f->tile[tile];
	float *g = device_slot(t, cell, dev);

	ionpu_xbar_settle(f, tile, cell);
	if (t->cfg.mode == IONPU_FAB_PHYSICAL)
		physical_pulse(f, tile, cell, dev, IONPU_FAB_SET, amp);
	else
		/* The nominal device, so the host reference matches it. */
		*g = quantize(*g + amp * IONPU_STEP_NOMINAL *
					   (IONPU_FAB_G_MAX - *g));
	f->cnt.learn_pulses++;
	f->learn_energy_fj += IONPU_E_PULSE_FJ;
	t->cnt.learn_pulses++;
	t->learn_energy_fj += IONPU_E_PULSE_FJ;
	ionpu_fabric_busy(f, t, IONPU_T_PULSE_NS, IONPU_E_PULSE_FJ);
	ionpu_xbar_update_cell(f, tile, cell);
}

int ionpu_fabric_pulse(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int row, unsigned int col,
		       enum ionpu_fab_device dev, enum ionpu_fab_pulse kind,
		       uint32_t count, float *g)
{
	unsigned int cell = row * IONPU_FAB_NEURONS + col;
	struct ionpu_tile *t;
	int ret = ionpu_fabric_check_cell(f, tile, row, col);

	if (ret)
		return ret;
	if ((unsigned int)dev > IONPU_FAB_GMINUS ||
	    (unsigned int)kind > IONPU_FAB_RESET)
		return -EINVAL;
	t = &f->tile[tile];
	/* No pulse, no programming: the drift clock runs on. */
	if (count)
		ionpu_xbar_settle(f, tile, cell);
	for (uint32_t k = 0; k < count; k++) {
		if (t->cfg.mode == IONPU_FAB_PHYSICAL)
			physical_pulse(f, tile, cell, dev, kind, 1.0f);
		else
			ideal_pulse(t, cell, dev, kind);
	}
	count_pulses(f, tile, count);
	ionpu_xbar_update_cell(f, tile, cell);
	if (g)
		*g = ionpu_xbar_true_g(f, tile, cell, dev);
	return 0;
}

static float verify_read(struct ionpu_fabric *f, unsigned int tile,
			 unsigned int cell, enum ionpu_fab_device dev)
{
	float g = ionpu_xbar_true_g(f, tile, cell, dev);

	ionpu_fabric_busy(f, &f->tile[tile], IONPU_T_VERIFY_NS,
			  IONPU_E_VERIFY_FJ);
	return g + IONPU_READ_NOISE_US * ionpu_rng_normal(&f->tile[tile].rng);
}

/*
 * Write-and-verify on a physical device.  The engine knows only nominal
 * device behaviour: it sizes each pulse so that a nominal device would
 * land on the target, which converges geometrically on a real one.
 */
static void physical_program(struct ionpu_fabric *f, unsigned int tile,
			     unsigned int cell, enum ionpu_fab_device dev,
			     float target, float tolerance, uint32_t max_pulses,
			     struct ionpu_fab_prog_result *res)
{
	float g = verify_read(f, tile, cell, dev);
	float run_start = g, expected = 0;
	uint32_t run = 0;
	int last_dir = 0;

	res->pulses = 0;
	for (;;) {
		float err = target - g, full, amp;
		int dir = err > 0 ? 1 : -1;

		if (fabsf(err) <= tolerance) {
			res->status = IONPU_FAB_PROG_OK;
			break;
		}
		if (res->pulses >= max_pulses) {
			res->status = IONPU_FAB_PROG_BUDGET;
			break;
		}
		full = IONPU_STEP_NOMINAL *
		       (dir > 0 ? IONPU_FAB_G_MAX - g : g - IONPU_FAB_G_MIN);
		amp = full > 0 ? fabsf(err) / full : 1.0f;
		amp = amp < AMP_MIN ? AMP_MIN : (amp > 1 ? 1 : amp);
		if (dir != last_dir) {
			run = 0;
			expected = 0;
			run_start = g;
			last_dir = dir;
		}
		physical_pulse(f, tile, cell, dev,
			       dir > 0 ? IONPU_FAB_SET : IONPU_FAB_RESET, amp);
		res->pulses++;
		count_pulses(f, tile, 1);
		g = verify_read(f, tile, cell, dev);
		run++;
		expected += amp * (full > 0 ? full : 0);
		if (run >= STUCK_PULSES && expected >= STUCK_EXPECT &&
		    fabsf(g - run_start) < STUCK_FRACTION * expected) {
			res->status = IONPU_FAB_PROG_STUCK;
			break;
		}
	}
	res->achieved = g;
}

int ionpu_fabric_program(struct ionpu_fabric *f, unsigned int tile,
			 unsigned int row, unsigned int col,
			 enum ionpu_fab_device dev, float target,
			 float tolerance, uint32_t max_pulses,
			 struct ionpu_fab_prog_result *res)
{
	unsigned int cell = row * IONPU_FAB_NEURONS + col;
	struct ionpu_tile *t;
	int ret = ionpu_fabric_check_cell(f, tile, row, col);

	if (ret)
		return ret;
	if (!res || (unsigned int)dev > IONPU_FAB_GMINUS ||
	    !ionpu_finite(target) || !ionpu_finite(tolerance) ||
	    !(tolerance >= 0) || max_pulses < 1)
		return -EINVAL;
	if (target < IONPU_FAB_G_MIN || target > IONPU_FAB_G_MAX)
		return -ERANGE;
	t = &f->tile[tile];
	ionpu_xbar_settle(f, tile, cell);
	if (t->cfg.mode == IONPU_FAB_PHYSICAL) {
		physical_program(f, tile, cell, dev, target, tolerance,
				 max_pulses, res);
	} else {
		*device_slot(t, cell, dev) = quantize(target);
		count_pulses(f, tile, 1);
		res->pulses = 1;
		res->achieved = *device_slot(t, cell, dev);
		res->status = fabsf(res->achieved - target) <= tolerance ?
				      IONPU_FAB_PROG_OK :
				      IONPU_FAB_PROG_BUDGET;
	}
	ionpu_xbar_update_cell(f, tile, cell);
	return 0;
}
