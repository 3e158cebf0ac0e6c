// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Neurons: the ideal NIR models (LIF, IF, LI, CubaLIF) in forward Euler,
 * and the physical diffusive-memristor neuron.  docs/physics.md has the
 * equations and constants.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ionpu_fabric_impl.h"

/*
 * Diffusive memristor (Ag filament), after the compact model of
 * TongWang-USC/Memristor-Model: filament f grows with the voltage across
 * the device, relaxes back, feeds a residual r, and ruptures at random.
 */
#define DM_ALPHA 0.1f	     /* keeps the growth term finite near f+r = 1 */
#define DM_LAMBDA 0.1f	     /* shape of the OFF-to-ON conductance curve */
#define DM_ROFF_RON 5.88e5f  /* 1e10 ohm / 1.7e4 ohm */
#define DM_BETA 0.2f	     /* 1/s, filament into residual */
#define DM_GAMMA 50.0f	     /* 1/s, filament relaxation */
#define DM_GAMMA2 0.42f	     /* 1/s, residual relaxation */
#define DM_SIGMA 0.2f	     /* cycle-to-cycle spread of relaxation */
#define DM_KAPPA 200.0f	     /* 1/s, rupture rate at f = 1, ~ f^2 */
#define DM_ETA 0.1f	     /* fraction of the filament a rupture removes */
#define DM_TAU_DIS 2e-4f     /* s, discharge through a fully ON device */
#define DM_X_ON 0.95f	     /* f + r that counts as switched ON: spike */
#define DM_X_OFF 0.5f	     /* f + r below which the device is OFF again */
#define DM_H_MAX 2.5e-4f     /* s, longest integration substep */
#define DM_VTH_SPREAD 0.05f  /* device-to-device spread of threshold */
#define DM_GAMMA_SPREAD 0.1f /* device-to-device spread of relaxation */

int ionpu_fab_neuron_defaults(enum ionpu_fab_model model,
			      struct ionpu_fab_neuron *p)
{
	if (!p || (unsigned int)model > IONPU_FAB_CUBA_LIF)
		return -EINVAL;
	*p = (struct ionpu_fab_neuron){
		.tau = 1e-2f,
		.tau_syn = 1e-2f,
		.r = 1.0f,
		.v_leak = 0.0f,
		.v_threshold = 1.0f,
		.v_reset = 0.0f,
		.w_in = 1.0f,
		.refractory = 0,
	};
	return 0;
}

void ionpu_neurons_reset_state(struct ionpu_neurons *n)
{
	memset(n->v, 0, sizeof(n->v));
	memset(n->i, 0, sizeof(n->i));
	memset(n->res, 0, sizeof(n->res));
	memset(n->refr, 0, sizeof(n->refr));
	memset(n->acc, 0, sizeof(n->acc));
	n->read_var = 0;
	memset(n->fired, 0, sizeof(n->fired));
}

void ionpu_neurons_derive(struct ionpu_fabric *f, unsigned int tile,
			  unsigned int neuron)
{
	struct ionpu_tile *t = &f->tile[tile];
	struct ionpu_neurons *n = &t->n;
	const struct ionpu_fab_neuron *p = &n->p[neuron];
	float dt = t->cfg.dt;
	uint64_t h1 = ionpu_hash(f->seed, IONPU_RNG_NEURON, tile, neuron, 1);
	uint64_t h2 = ionpu_hash(f->seed, IONPU_RNG_NEURON, tile, neuron, 2);
	uint64_t h3 = ionpu_hash(f->seed, IONPU_RNG_NEURON, tile, neuron, 3);
	float vth, gamma;

	n->a_mem[neuron] = t->cfg.model == IONPU_FAB_IF ? dt : dt / p->tau;
	n->a_syn[neuron] = dt / p->tau_syn;
	n->r[neuron] = p->r;
	n->v_leak[neuron] = p->v_leak;
	n->v_th[neuron] = p->v_threshold;
	n->v_reset[neuron] = p->v_reset;
	n->w_in[neuron] = p->w_in;
	n->refr_len[neuron] = p->refractory;

	/*
	 * The static threshold of the growth law is the voltage at which
	 * mu v = (gamma + beta) f (alpha + 1 - f) has no solution below
	 * f = 1: mu = (gamma + beta)(1 + alpha)^2 / (4 v_th).
	 */
	vth = fabsf(p->v_threshold) *
	      (1.0f + DM_VTH_SPREAD * ionpu_hash_normal(h1, h2));
	gamma = DM_GAMMA * (1.0f + DM_GAMMA_SPREAD * ionpu_hash_normal(h2, h3));
	if (vth < 1e-3f)
		vth = 1e-3f;
	if (gamma < 0.1f * DM_GAMMA)
		gamma = 0.1f * DM_GAMMA;
	n->gamma[neuron] = gamma;
	n->mu[neuron] = (gamma + DM_BETA) * (1.0f + DM_ALPHA) *
			(1.0f + DM_ALPHA) / (4.0f * vth);
}

void ionpu_neurons_init(struct ionpu_fabric *f, unsigned int tile)
{
	struct ionpu_neurons *n = &f->tile[tile].n;

	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++) {
		ionpu_fab_neuron_defaults(IONPU_FAB_LIF, &n->p[k]);
		ionpu_neurons_derive(f, tile, k);
	}
	ionpu_neurons_reset_state(n);
}

static bool neuron_ok(const struct ionpu_fab_neuron *p)
{
	return ionpu_finite(p->tau) && p->tau > 0 && ionpu_finite(p->tau_syn) &&
	       p->tau_syn > 0 && ionpu_finite(p->r) &&
	       ionpu_finite(p->v_leak) && ionpu_finite(p->v_threshold) &&
	       ionpu_finite(p->v_reset) && ionpu_finite(p->w_in);
}

int ionpu_fabric_set_neuron(struct ionpu_fabric *f, unsigned int tile,
			    unsigned int neuron,
			    const struct ionpu_fab_neuron *p)
{
	struct ionpu_neurons *n;

	if (!f || !p || !neuron_ok(p))
		return -EINVAL;
	if (tile >= f->tiles || neuron >= IONPU_FAB_NEURONS)
		return -ERANGE;
	n = &f->tile[tile].n;
	n->p[neuron] = *p;
	ionpu_neurons_derive(f, tile, neuron);
	n->v[neuron] = 0;
	n->i[neuron] = 0;
	n->res[neuron] = 0;
	n->refr[neuron] = 0;
	return 0;
}

int ionpu_fabric_get_neuron(const struct ionpu_fabric *f, unsigned int tile,
			    unsigned int neuron, struct ionpu_fab_neuron *p)
{
	if (!f || !p)
		return -EINVAL;
	if (tile >= f->tiles || neuron >= IONPU_FAB_NEURONS)
		return -ERANGE;
	*p = f->tile[tile].n.p[neuron];
	return 0;
}

int ionpu_fabric_get_state(const struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, float *v, float *i)
{
	if (!f)
		return -EINVAL;
	if (tile >= f->tiles || neuron >= IONPU_FAB_NEURONS)
		return -ERANGE;
	if (v)
		*v = f->tile[tile].n.v[neuron];
	if (i)
		*i = f->tile[tile].n.i[neuron];
	return 0;
}

int ionpu_fabric_set_state(struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, float v, float i)
{
	if (!f || !ionpu_finite(v) || !ionpu_finite(i))
		return -EINVAL;
	if (tile >= f->tiles || neuron >= IONPU_FAB_NEURONS)
		return -ERANGE;
	/* A filament is a fraction of the gap it bridges. */
	if (f->tile[tile].cfg.mode == IONPU_FAB_PHYSICAL && (i < 0 || i > 1))
		return -ERANGE;
	f->tile[tile].n.v[neuron] = v;
	f->tile[tile].n.i[neuron] = i;
	return 0;
}

/*
 * The ideal models share one loop shape: new v from the model, then the
 * refractory hold, threshold and reset, written without branches so the
 * compiler vectorises it.
 */
static unsigned int fire_and_reset(struct ionpu_neurons *restrict n,
				   const float *restrict vn, bool spiking)
{
	unsigned int spikes = 0;

	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++) {
		uint32_t held = n->refr[k] > 0;
		float v = held ? n->v_reset[k] : vn[k];
		uint32_t s = spiking && !held && v > n->v_th[k];

		n->v[k] = s ? n->v_reset[k] : v;
		n->refr[k] = s ? n->refr_len[k] : n->refr[k] - held;
		n->fired[k] = (uint8_t)s;
		spikes += s;
	}
	return spikes;
}

static unsigned int step_leaky(struct ionpu_neurons *restrict n, bool spiking)
{
	float vn[IONPU_FAB_NEURONS];

	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++)
		vn[k] = n->v[k] + n->a_mem[k] * ((n->v_leak[k] - n->v[k]) +
						 n->r[k] * n->acc[k]);
	return fire_and_reset(n, vn, spiking);
}

static unsigned int step_if(struct ionpu_neurons *restrict n)
{
	float vn[IONPU_FAB_NEURONS];

	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++)
		vn[k] = n->v[k] + n->a_mem[k] * n->r[k] * n->acc[k];
	return fire_and_reset(n, vn, true);
}

static unsigned int step_cuba(struct ionpu_neurons *restrict n)
{
	float vn[IONPU_FAB_NEURONS];

	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++) {
		float i = n->i[k];

		vn[k] = n->v[k] +
			n->a_mem[k] * ((n->v_leak[k] - n->v[k]) + n->r[k] * i);
		/* Only v is held while refractory; the current goes on. */
		n->i[k] = i + n->a_syn[k] * (n->w_in[k] * n->acc[k] - i);
	}
	return fire_and_reset(n, vn, true);
}

/* R_on / R(x) for x = f + r, the compact model's conductance curve. */
static float dm_conductance(float x)
{
	static const float span = 22025.4658f; /* e^(1/lambda) - 1 */

	if (x > 1.0f)
		x = 1.0f;
	return 1.0f /
	       (x + DM_ROFF_RON * (expf((1.0f - x) / DM_LAMBDA) - 1.0f) / span);
}

/*
 * The physical neuron, a 1M1T1R cell: the membrane capacitor, charged by
 * the synaptic current through the input gain, leaks through the cell's
 * resistor with tau.  The diffusive memristor sits behind the series
 * transistor, which passes only a positive membrane voltage (so inhibition
 * cannot grow a filament) and connects the device to the membrane only
 * while the device conducts: from switching ON (x >= X_ON, the spike)
 * until it has relaxed OFF (x <= X_OFF).  Substeps of at most DM_H_MAX; v
 * is integrated exactly for the substep, f and r in forward Euler.
 */
static unsigned int step_physical(struct ionpu_tile *t)
{
	struct ionpu_neurons *n = &t->n;
	float dt = t->cfg.dt;
	unsigned int sub = (unsigned int)ceilf(dt / DM_H_MAX);
	unsigned int spikes = 0;
	float h;

	if (sub < 1)
		sub = 1;
	if (sub > 1000)
		sub = 1000;
	h = dt / (float)sub;
	for (unsigned int k = 0; k < IONPU_FAB_NEURONS; k++) {
		float v = n->v[k], fil = n->i[k], res = n->res[k];
		float tau = n->p[k].tau, drive = n->r[k] * n->acc[k];
		uint32_t on = n->refr[k];
		uint8_t fired = 0;
		float relax, decay_off;

		/* At rest with no input nothing moves: skip the substeps. */
		if (drive == 0 && v == 0 && fil == 0 && res == 0) {
			n->fired[k] = 0;
			continue;
		}
		/* Cycle-to-cycle spread of relaxation, one draw a timestep. */
		relax = n->gamma[k];
		if (fil > 0)
			relax *=
				1.0f + DM_SIGMA * fil *
					       fabsf(ionpu_rng_normal(&t->rng));
		/* Disconnected, the membrane decays alike every substep. */
		decay_off = expf(-h / tau);
		for (unsigned int s = 0; s < sub; s++) {
			float x = fil + res > 1.0f ? 1.0f : fil + res;
			float rate, v_inf, df, p;

			if (on) {
				rate = 1.0f / tau +
				       dm_conductance(x) / DM_TAU_DIS;
				v_inf = drive / tau / rate;
				v = v_inf + (v - v_inf) * expf(-rate * h);
			} else {
				v = drive + (v - drive) * decay_off;
			}
			df = n->mu[k] * fmaxf(v, 0.0f) / (DM_ALPHA + 1.0f - x) -
			     (relax + DM_BETA) * fil;
			res += h * (DM_BETA * fil - DM_GAMMA2 * res);
			fil += h * df;
			fil = fil < 0 ? 0 : (fil > 1 ? 1 : fil);
			/*
			 * Rupture with probability 1 - exp(-kappa f^2 h); p is
			 * at most 0.05, where p (1 - p/2) is exact to 2e-5.
			 */
			p = DM_KAPPA * fil * fil * h;
			if (fil > 0 &&
			    ionpu_rng_uniform(&t->rng) < p * (1.0f - 0.5f * p))
				fil -= DM_ETA * fil;
			res = res < 0 ? 0 : (res > 1 ? 1 : res);
			x = fil + res;
			if (!on && x >= DM_X_ON) {
				on = 1;
				fired = 1;
			} else if (on && x <= DM_X_OFF) {
				on = 0;
			}
		}
		n->v[k] = v;
		n->i[k] = fil;
		n->res[k] = res;
		n->refr[k] = on;
		n->fired[k] = fired;
		spikes += fired;
	}
	return spikes;
}

unsigned int ionpu_neurons_step(struct ionpu_tile *t)
{
	if (t->cfg.mode == IONPU_FAB_PHYSICAL)
		return step_physical(t);
	switch (t->cfg.model) {
	case IONPU_FAB_IF:
		return step_if(&t->n);
	case IONPU_FAB_LI:
		return step_leaky(&t->n, false);
	case IONPU_FAB_CUBA_LIF:
		return step_cuba(&t->n);
	case IONPU_FAB_LIF:
	default:
		return step_leaky(&t->n, true);
	}
}
