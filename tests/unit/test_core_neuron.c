// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fabric's neurons: each ideal model against its closed form (LIF decay
 * and time to first spike, refractory hold, IF ramp, LI, CubaLIF's current
 * and membrane), and the physical diffusive-memristor neuron's qualitative
 * behaviour with statistics.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fabric_test.h"

#define DT 1e-3f

static void assert_close(double got, double want, double rel)
{
	double tol = rel * fabs(want) + 1e-6;

	if (fabs(got - want) > tol)
		fail_msg("got %.9g, want %.9g (tolerance %.3g)", got, want,
			 tol);
}

static struct ionpu_fab_neuron lif(float tau, float v_leak, float v_th)
{
	struct ionpu_fab_neuron p;

	assert_int_equal(ionpu_fab_neuron_defaults(IONPU_FAB_LIF, &p), 0);
	p.tau = tau;
	p.v_leak = v_leak;
	p.v_threshold = v_th;
	return p;
}

static void test_defaults(void **state)
{
	struct ionpu_fab_neuron p;

	(void)state;
	assert_int_equal(ionpu_fab_neuron_defaults(IONPU_FAB_CUBA_LIF, &p), 0);
	/* NIR's own defaults. */
	assert_true(p.v_reset == 0.0f);
	assert_true(p.w_in == 1.0f);
	assert_int_equal(p.refractory, 0);
	assert_int_equal(ionpu_fab_neuron_defaults(7, &p), -EINVAL);
	assert_int_equal(ionpu_fab_neuron_defaults(IONPU_FAB_LIF, NULL),
			 -EINVAL);
}

/* No input: v(n) = v_leak + (v0 - v_leak)(1 - dt/tau)^n. */
static void test_lif_decay(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 1);
	struct ionpu_fab_neuron p = lif(2e-2f, 0.25f, 100.0f);
	double a = (double)DT / 2e-2;
	float v;

	(void)state;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, DT);
	set_neuron(f, 0, 3, &p);
	assert_int_equal(ionpu_fabric_set_state(f, 0, 3, 2.0f, 0), 0);
	for (unsigned int n = 1; n <= 60; n++) {
		run(f, 1, NULL);
		assert_int_equal(ionpu_fabric_get_state(f, 0, 3, &v, NULL), 0);
		assert_close(v, 0.25 + (2.0 - 0.25) * pow(1 - a, n), 1e-5);
	}
	ionpu_fabric_free(f);
}

/*
 * Constant input r I = 2, threshold 1, dt/tau = 0.1: v(n) = 2(1 - 0.9^n)
 * first exceeds 1 at n = ceil(ln 0.5 / ln 0.9) = 7, so the neuron fires in
 * timesteps 6, 13, 20, ... (reset to 0 each time).
 */
static void drive_constant(struct ionpu_fabric *f, unsigned int steps,
			   float value, struct recorder *rec)
{
	for (unsigned int s = 0; s < steps; s++) {
		assert_int_equal(ionpu_fabric_input(f, 0, 0, value), 0);
		run(f, 1, rec);
	}
}

static void test_lif_first_spike(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 2);
	struct ionpu_fab_neuron p = lif(1e-2f, 0, 1.0f);
	struct recorder *rec = calloc(1, sizeof(*rec));
	unsigned int first = (unsigned int)ceil(log(0.5) / log(0.9));

	(void)state;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, DT);
	set_neuron(f, 0, 0, &p);
	set_weight(f, 0, 0, 0, 2);
	to_host(f, 0, 0);
	drive_constant(f, 30, 1.0f, rec);
	assert_int_equal(first, 7);
	assert_int_equal(rec->n, 4);
	for (unsigned int k = 0; k < rec->n; k++) {
		assert_int_equal(rec->s[k].t, first - 1 + k * first);
		assert_int_equal(rec->s[k].neuron, 0);
	}
	free(rec);
	ionpu_fabric_free(f);
}

/* Refractory 3: held at v_reset for 3 steps, then 7 steps to fire again. */
static void test_lif_refractory(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 3);
	struct ionpu_fab_neuron p = lif(1e-2f, 0, 1.0f);
	struct recorder *rec = calloc(1, sizeof(*rec));
	float v;

	(void)state;
	p.refractory = 3;
	p.v_reset = -0.5f;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, DT);
	set_neuron(f, 0, 0, &p);
	set_weight(f, 0, 0, 0, 2);
	to_host(f, 0, 0);
	/* From v = 0 the first spike is at 6, as above. */
	drive_constant(f, 7, 1.0f, rec);
	assert_int_equal(rec->n, 1);
	assert_int_equal(rec->s[0].t, 6);
	drive_constant(f, 3, 1.0f, rec);
	assert_int_equal(ionpu_fabric_get_state(f, 0, 0, &v, NULL), 0);
	assert_true(v == -0.5f);
	/* From -0.5: v(n) = 2 - 2.5 * 0.9^n > 1 first at n = 9. */
	drive_constant(f, 20, 1.0f, rec);
	assert_int_equal(rec->n, 2);
	assert_int_equal(rec->s[1].t,
			 10 + (unsigned int)ceil(log(0.4) / log(0.9)) - 1);
	free(rec);
	ionpu_fabric_free(f);
}

/* IF: v(n) = n dt r I; r I dt = 0.2 per step, threshold 0.9: fires at n=5. */
static void test_if_ramp(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 4);
	struct ionpu_fab_neuron p;
	struct recorder *rec = calloc(1, sizeof(*rec));

	(void)state;
	ionpu_fab_neuron_defaults(IONPU_FAB_IF, &p);
	p.r = 100.0f;
	p.v_threshold = 0.9f;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_IF, DT);
	set_neuron(f, 0, 0, &p);
	set_weight(f, 0, 0, 0, 2);
	to_host(f, 0, 0);
	drive_constant(f, 4, 1.0f, rec);
	assert_int_equal(rec->n, 0);
	drive_constant(f, 6, 1.0f, rec);
	assert_int_equal(rec->n, 2);
	assert_int_equal(rec->s[0].t, 4);
	assert_int_equal(rec->s[1].t, 9);
	free(rec);
	ionpu_fabric_free(f);
}

/* LI: v(n) = r I (1 - (1 - dt/tau)^n), past any threshold, never fires. */
static void test_li_never_fires(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 5);
	struct ionpu_fab_neuron p;
	struct recorder *rec = calloc(1, sizeof(*rec));
	float v;

	(void)state;
	ionpu_fab_neuron_defaults(IONPU_FAB_LI, &p);
	p.tau = 5e-3f;
	p.v_threshold = 0.1f;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LI, DT);
	set_neuron(f, 0, 0, &p);
	set_weight(f, 0, 0, 0, 3);
	to_host(f, 0, 0);
	drive_constant(f, 25, 1.0f, rec);
	assert_int_equal(rec->n, 0);
	assert_int_equal(ionpu_fabric_get_state(f, 0, 0, &v, NULL), 0);
	assert_close(v, 3.0 * (1 - pow(1 - 0.2, 25)), 1e-5);
	free(rec);
	ionpu_fabric_free(f);
}

/*
 * CubaLIF, one input of weight 1 at t = 0, then nothing.  With
 * p = 1 - dt/tau_mem, q = 1 - dt/tau_syn:
 *   i(n) = (dt/tau_syn) w_in q^(n-1)
 *   v(n) = (dt/tau_mem) r i(1) (p^(n-1) - q^(n-1)) / (p - q)
 */
static void test_cuba_lif(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 6);
	struct ionpu_fab_neuron p;
	double am = DT / 1e-2, as = DT / 4e-3, pp = 1 - am, qq = 1 - as;
	double i1;
	float v, i;

	(void)state;
	ionpu_fab_neuron_defaults(IONPU_FAB_CUBA_LIF, &p);
	p.tau = 1e-2f;
	p.tau_syn = 4e-3f;
	p.r = 3.0f;
	p.w_in = 2.0f;
	p.v_threshold = 100.0f;
	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_CUBA_LIF, DT);
	set_neuron(f, 0, 0, &p);
	set_weight(f, 0, 0, 0, 1);
	i1 = as * 2.0;
	assert_int_equal(ionpu_fabric_input(f, 0, 0, 1.0f), 0);
	for (unsigned int n = 1; n <= 40; n++) {
		run(f, 1, NULL);
		assert_int_equal(ionpu_fabric_get_state(f, 0, 0, &v, &i), 0);
		assert_close(i, i1 * pow(qq, n - 1), 1e-4);
		assert_close(v, am * 3.0 * i1 *
				(pow(pp, n - 1) - pow(qq, n - 1)) / (pp - qq),
			     1e-4);
	}
	ionpu_fabric_free(f);
}

static void test_bad_neuron(void **state)
{
	struct ionpu_fabric *f = fabric_new(1, 7);
	struct ionpu_fab_neuron p = lif(1e-2f, 0, 1);

	(void)state;
	p.tau = 0;
	assert_int_equal(ionpu_fabric_set_neuron(f, 0, 0, &p), -EINVAL);
	p.tau = NAN;
	assert_int_equal(ionpu_fabric_set_neuron(f, 0, 0, &p), -EINVAL);
	p = lif(1e-2f, 0, INFINITY);
	assert_int_equal(ionpu_fabric_set_neuron(f, 0, 0, &p), -EINVAL);
	p = lif(1e-2f, 0, 1);
	assert_int_equal(ionpu_fabric_set_neuron(f, 0, 256, &p), -ERANGE);
	assert_int_equal(ionpu_fabric_set_neuron(f, 1, 0, &p), -ERANGE);
	assert_int_equal(ionpu_fabric_set_neuron(f, 0, 0, NULL), -EINVAL);
	assert_int_equal(ionpu_fabric_get_neuron(f, 0, 0, &p), 0);
	assert_true(p.tau == 1e-2f);
	assert_int_equal(ionpu_fabric_set_state(f, 0, 0, NAN, 0), -EINVAL);
	ionpu_fabric_free(f);
}

/* --- physical neurons ---------------------------------------------------- */

/*
 * The physical neuron at the time scale it is built for (docs/physics.md):
 * a membrane of tau = PHYS_TAU, steps of PHYS_DT, so one step leaks
 * 1 - e^(-PHYS_DT / PHYS_TAU) = 0.1 of v, as an ideal LIF of tau = 10 steps.
 */
#define PHYS_NEURONS	16
#define PHYS_STEPS	200
#define PHYS_DT		0.1f
#define PHYS_TAU	0.949122f	/* -PHYS_DT / ln(0.9) */

struct phys_run {
	unsigned int spikes;
	unsigned int min_gap;
	uint64_t trace_hash;
};

/*
 * PHYS_NEURONS physical neurons (threshold 1), each driven through its
 * own cell of row 0 with weight 1 by a graded input @drive every timestep
 * of @dt: r I = @drive.  The cells are checked: a stuck device would give
 * its neuron another drive.
 */
static struct ionpu_fabric *phys_fabric(uint64_t seed, float dt)
{
	struct ionpu_fabric *f = fabric_new(1, seed);
	struct ionpu_fab_neuron p = lif(PHYS_TAU, 0, 1);

	tile_mode(f, 0, IONPU_FAB_IDEAL, IONPU_FAB_LIF, dt);
	for (unsigned int n = 0; n < PHYS_NEURONS; n++) {
		set_weight(f, 0, 0, n, 1);
		to_host(f, 0, n);
	}
	tile_mode(f, 0, IONPU_FAB_PHYSICAL, IONPU_FAB_LIF, dt);
	/*
	 * Physical reads reach every column as read noise; the columns not
	 * watched get no input gain, so the card skips them at rest.
	 */
	p.r = 0;
	for (unsigned int n = PHYS_NEURONS; n < IONPU_FAB_NEURONS; n++)
		set_neuron(f, 0, n, &p);
	p.r = 1;
	for (unsigned int n = 0; n < PHYS_NEURONS; n++) {
		float g[2];

		set_neuron(f, 0, n, &p);
		for (int d = IONPU_FAB_GPLUS; d <= IONPU_FAB_GMINUS; d++)
			assert_int_equal(ionpu_fabric_pulse(f, 0, 0, n, d,
							    IONPU_FAB_SET, 0,
							    &g[d]), 0);
		assert_close(g[IONPU_FAB_GPLUS] - g[IONPU_FAB_GMINUS],
			     IONPU_FAB_G_STEP, 0.5);
	}
	return f;
}

static struct phys_run run_physical_at(uint64_t seed, float drive, float dt,
				       unsigned int steps)
{
	struct ionpu_fabric *f = phys_fabric(seed, dt);
	struct recorder *rec = calloc(1, sizeof(*rec));
	uint64_t last[PHYS_NEURONS];
	struct phys_run out = { .min_gap = UINT32_MAX,
				.trace_hash = 1469598103934665603ULL };

	for (unsigned int n = 0; n < PHYS_NEURONS; n++)
		last[n] = UINT64_MAX;
	for (unsigned int s = 0; s < steps; s++) {
		rec->n = 0;
		assert_int_equal(ionpu_fabric_input(f, 0, 0, drive), 0);
		run(f, 1, rec);
		for (unsigned int k = 0; k < rec->n; k++) {
			unsigned int n = rec->s[k].neuron;

			out.spikes++;
			out.trace_hash = (out.trace_hash ^ (s * 256 + n)) *
					 1099511628211ULL;
			if (last[n] != UINT64_MAX && s - last[n] < out.min_gap)
				out.min_gap = (unsigned int)(s - last[n]);
			last[n] = s;
		}
	}
	free(rec);
	ionpu_fabric_free(f);
	return out;
}

static struct phys_run run_physical(uint64_t seed, float drive)
{
	return run_physical_at(seed, drive, PHYS_DT, PHYS_STEPS);
}

static void test_physical_threshold(void **state)
{
	(void)state;
	/* Well below the device threshold: the filament never forms. */
	assert_int_equal(run_physical(11, 0.5f).spikes, 0);
	/*
	 * Closer, the residual of the filament's sub-threshold growth lowers
	 * the threshold over seconds: a few spikes (24 of 6400 neuron steps).
	 */
	assert_true(run_physical(12, 0.7f).spikes < PHYS_NEURONS * PHYS_STEPS /
						    100);
}

/*
 * Inhibition never switches the device: the series transistor passes no
 * negative voltage, so whatever the magnitude the filament stays empty.
 */
static void test_physical_inhibited(void **state)
{
	static const float drives[] = { -0.5f, -1.5f, -5.0f, -1e4f };

	(void)state;
	for (unsigned int k = 0; k < 4; k++) {
		struct ionpu_fabric *f = phys_fabric(51, PHYS_DT);
		float v, fil;

		for (unsigned int s = 0; s < 50; s++) {
			assert_int_equal(ionpu_fabric_input(f, 0, 0,
							    drives[k]), 0);
			run(f, 1, NULL);
		}
		for (unsigned int n = 0; n < PHYS_NEURONS; n++) {
			assert_int_equal(ionpu_fabric_get_state(f, 0, n, &v,
								&fil), 0);
			assert_true(fil == 0.0f);
			/*
			 * The membrane still follows: 1 - 0.9^50 of the drive,
			 * give or take the read noise of the cell (36 % of a
			 * weight of 1 a read, 8 % of it in v).
			 */
			assert_close(v, drives[k] * (1 - pow(0.9, 50)), 0.5);
		}
		ionpu_fabric_free(f);
		assert_int_equal(run_physical(34 + k, drives[k]).spikes, 0);
	}
}

static void test_physical_rate_grows(void **state)
{
	struct phys_run lo = run_physical(13, 1.2f);
	struct phys_run mid = run_physical(13, 2.0f);
	struct phys_run hi = run_physical(13, 3.0f);

	(void)state;
	assert_true(lo.spikes > 0);
	assert_true(mid.spikes > lo.spikes + lo.spikes / 10);
	assert_true(hi.spikes > mid.spikes + mid.spikes / 10);
}

/*
 * The switched device dumps the membrane: v set to 3 with no input fires
 * each neuron once, and leaves v far below the 3 e^(-t/tau) an undischarged
 * membrane would keep; then the neuron rests.  The filament is a fraction
 * of the gap: set_state refuses anything outside [0, 1]; a reset empties
 * the membrane and the filament.
 */
static void test_physical_reset(void **state)
{
	struct ionpu_fabric *f = phys_fabric(41, PHYS_DT);
	struct recorder *rec = calloc(1, sizeof(*rec));
	unsigned int per[PHYS_NEURONS] = { 0 };
	float v, fil;

	(void)state;
	for (unsigned int n = 0; n < PHYS_NEURONS; n++)
		assert_int_equal(ionpu_fabric_set_state(f, 0, n, 3.0f, 0), 0);
	run(f, 5, rec);
	for (unsigned int k = 0; k < rec->n; k++)
		per[rec->s[k].neuron]++;
	for (unsigned int n = 0; n < PHYS_NEURONS; n++) {
		assert_int_equal(per[n], 1);
		assert_int_equal(ionpu_fabric_get_state(f, 0, n, &v, &fil), 0);
		assert_true(v >= 0.0f && fil >= 0.0f && fil <= 1.0f);
		assert_true(v < 0.2 * 3.0 * exp(-5 * PHYS_DT / PHYS_TAU));
	}
	rec->n = 0;
	run(f, 50, rec);
	assert_int_equal(rec->n, 0);

	assert_int_equal(ionpu_fabric_set_state(f, 0, 0, 0.5f, 1.5f), -ERANGE);
	assert_int_equal(ionpu_fabric_set_state(f, 0, 0, 0.5f, -0.1f),
			 -ERANGE);
	assert_int_equal(ionpu_fabric_set_state(f, 0, 0, 0.5f, 0.4f), 0);
	ionpu_fabric_reset_state(f, 1);
	assert_int_equal(ionpu_fabric_get_state(f, 0, 0, &v, &fil), 0);
	assert_true(v == 0.0f && fil == 0.0f);
	free(rec);
	ionpu_fabric_free(f);
}

/*
 * While the device conducts the neuron cannot fire again: with 5 ms steps
 * the filament needs more than 10 ms to relax from X_ON = 0.95 to X_OFF
 * = 0.5 (ln(1.9) / (gamma + beta) with gamma at most 1.3 times 50/s, and
 * ruptures of 10 %), so spikes of a neuron are at least 2 steps apart.
 */
static void test_physical_refractory(void **state)
{
	static const float drives[] = { 1.5f, 3.0f, 6.0f };

	(void)state;
	for (unsigned int k = 0; k < 3; k++) {
		struct phys_run r = run_physical_at(14 + k, drives[k], 5e-3f,
						    2000);

		assert_true(r.spikes > 10);
		assert_true(r.min_gap >= 2);
	}
}

static void test_physical_seeds(void **state)
{
	struct phys_run a = run_physical(21, 2.0f);
	struct phys_run b = run_physical(21, 2.0f);
	struct phys_run c = run_physical(22, 2.0f);

	(void)state;
	assert_true(a.spikes > 0);
	assert_int_equal(a.spikes, b.spikes);
	assert_true(a.trace_hash == b.trace_hash);
	assert_true(a.trace_hash != c.trace_hash);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lif_decay),
		cmocka_unit_test(test_lif_first_spike),
		cmocka_unit_test(test_lif_refractory),
		cmocka_unit_test(test_if_ramp),
		cmocka_unit_test(test_li_never_fires),
		cmocka_unit_test(test_cuba_lif),
		cmocka_unit_test(test_bad_neuron),
		cmocka_unit_test(test_physical_threshold),
		cmocka_unit_test(test_physical_inhibited),
		cmocka_unit_test(test_physical_rate_grows),
		cmocka_unit_test(test_physical_reset),
		cmocka_unit_test(test_physical_refractory),
		cmocka_unit_test(test_physical_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
