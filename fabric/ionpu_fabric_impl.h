/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fabric's insides, shared by its source files (ionpu_fabric.c, the
 * tile step loop; ionpu_neuron.c; ionpu_crossbar.c; ionpu_program.c;
 * ionpu_router.c; ionpu_nvstore.c).  Nothing outside the fabric includes
 * this: the API is ionpu_fabric.h.
 */
#ifndef IONPU_FABRIC_IMPL_H
#define IONPU_FABRIC_IMPL_H

#include <stdatomic.h>

#include "ionpu_fabric.h"
#include "ionpu_rng.h"

#define IONPU_FAB_CELLS (IONPU_FAB_ROWS * IONPU_FAB_NEURONS)

/* --- modeled cost of operations (docs/physics.md, "Energy and time") ---- */
#define IONPU_E_SYN_READ_FJ 5.0	 /* one cell read by an input event */
#define IONPU_E_SPIKE_FJ 1000.0	 /* one neuron spike: 1 pJ */
#define IONPU_E_PULSE_FJ 7500.0	 /* one SET/RESET pulse: 7.5 pJ */
#define IONPU_E_VERIFY_FJ 1280.0 /* one verify read of a device */
#define IONPU_T_STEP_NS 100	 /* neuron update of a timestep */
#define IONPU_T_ROW_NS 10	 /* one row read (tiles run in parallel) */
#define IONPU_T_PULSE_NS 100	 /* one programming pulse */
#define IONPU_T_VERIFY_NS 10	 /* one verify read */

/*
 * Events queued in all timesteps together, at most: 128 MiB, so a guest's
 * runaway recurrent network cannot exhaust the host.
 */
#define IONPU_FAB_MAX_IN_FLIGHT (1u << 24)

/* One input event waiting for its timestep. */
struct ionpu_event {
	uint16_t tile;
	uint16_t row;
	float value;
};

struct ionpu_event_list {
	struct ionpu_event *ev;
	uint32_t n;
	uint32_t cap;
};

struct ionpu_route {
	struct ionpu_fab_target *t;
	uint16_t n;
	bool to_host;
};

/*
 * A tile's crossbar.  Arrays are row-major, IONPU_FAB_CELLS long, so an
 * input event reads one contiguous row of @code (ideal) or @w (physical).
 */
struct ionpu_xbar {
	/* Conductance of each device as last programmed, uS. */
	float *gp;
	float *gn;
	/* Device time, s, at which each pair was last programmed. */
	float *t_prog;
	/* Physical mode: gain * (G+ - G-) as the read circuit sees it, noise aside. */
	float *w;
	/*
	 * Ideal mode: G+ - G- in whole levels (both devices sit on levels),
	 * and the weight of one level, gain * G_STEP.  Half the bytes of @w
	 * per row: reading rows is what bounds a timestep's speed.
	 */
	int16_t *code;
	float unit;
	/* Physical mode: device time, s, @w's drift was computed for. */
	double w_time;
	bool w_valid;
};

/* A tile's neurons, one array per quantity so the update vectorises. */
struct ionpu_neurons {
	struct ionpu_fab_neuron p[IONPU_FAB_NEURONS];
	/* Derived from p and the tile's dt by ionpu_neurons_derive(). */
	float a_mem[IONPU_FAB_NEURONS]; /* dt / tau (IF: dt) */
	float a_syn[IONPU_FAB_NEURONS]; /* dt / tau_syn */
	float r[IONPU_FAB_NEURONS];
	float v_leak[IONPU_FAB_NEURONS];
	float v_th[IONPU_FAB_NEURONS];
	float v_reset[IONPU_FAB_NEURONS];
	float w_in[IONPU_FAB_NEURONS];
	uint32_t refr_len[IONPU_FAB_NEURONS];
	/* Physical: per-device filament growth rate and relaxation rate. */
	float mu[IONPU_FAB_NEURONS];
	float gamma[IONPU_FAB_NEURONS];
	/* State.  Physical: i is the filament f, res the residual r. */
	float v[IONPU_FAB_NEURONS];
	float i[IONPU_FAB_NEURONS];
	float res[IONPU_FAB_NEURONS];
	/* Ideal: refractory steps left.  Physical: 1 while conducting. */
	uint32_t refr[IONPU_FAB_NEURONS];
	/* Synaptic input of the running timestep (chain members add here). */
	float acc[IONPU_FAB_NEURONS];
	/* Physical: variance of the read noise the timestep's rows add. */
	float read_var;
	uint8_t fired[IONPU_FAB_NEURONS];
};

/*
 * A tile's learning engine (ionpu_learn.c): its rule while on, and the
 * traces since the last teach: input events per crossbar row, spikes per
 * neuron of the chain head the crossbar feeds.
 */
struct ionpu_learner {
	bool on;
	struct ionpu_fab_learn_rule rule;
	uint32_t pre[IONPU_FAB_ROWS];
	uint32_t post[IONPU_FAB_NEURONS];
};

struct ionpu_tile {
	struct ionpu_fab_tile_config cfg;
	unsigned int head;	/* the tile whose neurons this one feeds */
	unsigned int members;	/* tiles chained into this one */
	unsigned int rows_read; /* input events in the running timestep */
	unsigned int spikes;	/* its neurons' in the running timestep */
	struct ionpu_rng rng;	/* cycle-to-cycle noise of this tile */
	struct ionpu_xbar xb;
	struct ionpu_neurons n;
	struct ionpu_route route[IONPU_FAB_NEURONS];
	struct ionpu_learner learn;
	/* energy_fj and learn_energy_fj come from the doubles below. */
	struct ionpu_fab_tile_counters cnt;
	double energy_fj;
	double learn_energy_fj;
};

struct ionpu_fabric {
	unsigned int tiles;
	uint64_t seed;
	struct ionpu_tile *tile;
	/* Input events by timestep modulo the window (ionpu_router.c). */
	struct ionpu_event_list slot[IONPU_FAB_INPUT_WINDOW];
	uint64_t now;
	uint32_t in_flight; /* events in all slots together */
	/* energy_fj and learn_energy_fj come from the doubles below. */
	struct ionpu_fab_counters cnt;
	double energy_fj;
	double learn_energy_fj;
	unsigned int learners; /* tiles with learning on */
	uint64_t device_time_ns;
	atomic_bool stop;
	uint8_t calib[IONPU_FAB_CALIB_SIZE];
	/* A timestep's tiles in @parts parts, by head tile; NULL for one. */
	unsigned int parts;
	struct ionpu_workers *workers;
};

static inline bool ionpu_finite(float x)
{
	return x - x == 0.0f;
}

static inline double ionpu_device_time_s(const struct ionpu_fabric *f)
{
	return (double)f->device_time_ns * 1e-9;
}

/*
 * Busy time and device time move together; @t is the tile whose work it
 * was, or NULL for the card's timestep.
 */
void ionpu_fabric_busy(struct ionpu_fabric *f, struct ionpu_tile *t,
		       uint64_t ns, double energy_fj);
int ionpu_fabric_check_cell(const struct ionpu_fabric *f, unsigned int tile,
			    unsigned int row, unsigned int col);

/* ionpu_workers.c: the threads of a fabric of several parts. */
typedef void ionpu_part_fn(struct ionpu_fabric *f, unsigned int part);
struct ionpu_workers;
/* Threads for parts 1..@parts - 1 of each round of @fn.  0 or -errno. */
int ionpu_workers_new(struct ionpu_fabric *f, unsigned int parts,
		      ionpu_part_fn *fn, struct ionpu_workers **out);
void ionpu_workers_free(struct ionpu_workers *w);
/* @fn for every part, part 0 on the calling thread; returns when all are. */
void ionpu_workers_run(struct ionpu_workers *w);

/* ionpu_neuron.c */
void ionpu_neurons_init(struct ionpu_fabric *f, unsigned int tile);
void ionpu_neurons_derive(struct ionpu_fabric *f, unsigned int tile,
			  unsigned int neuron);
void ionpu_neurons_reset_state(struct ionpu_neurons *n);
/* One timestep of a head tile from n->acc; sets n->fired, returns spikes. */
unsigned int ionpu_neurons_step(struct ionpu_tile *t);

/* ionpu_crossbar.c */
struct ionpu_device {
	float g_min; /* soft bounds of this device, uS */
	float g_max;
	float s_set; /* fraction of the way to the bound per pulse */
	float s_reset;
	float nu; /* drift exponent */
	bool stuck;
	float g_stuck;
};

#define IONPU_READ_NOISE_US 0.1f
/* Nominal fraction of the way to its bound that one full pulse moves. */
#define IONPU_STEP_NOMINAL 0.05f
int ionpu_xbar_alloc(struct ionpu_xbar *xb);
void ionpu_xbar_free(struct ionpu_xbar *xb);
void ionpu_xbar_device(const struct ionpu_fabric *f, unsigned int tile,
		       unsigned int cell, enum ionpu_fab_device dev,
		       struct ionpu_device *d);
/* A device's conductance now, noise free (physical: drift, stuck). */
float ionpu_xbar_true_g(const struct ionpu_fabric *f, unsigned int tile,
			unsigned int cell, enum ionpu_fab_device dev);
/* Fold drift into both devices of a pair and restart its drift clock. */
void ionpu_xbar_settle(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int cell);
/* Recompute the weight cache (@w or @code) of one cell. */
void ionpu_xbar_update_cell(struct ionpu_fabric *f, unsigned int tile,
			    unsigned int cell);
void ionpu_xbar_invalidate(struct ionpu_fabric *f, unsigned int tile);
void ionpu_xbar_refresh(struct ionpu_fabric *f, unsigned int tile);
/*
 * Physical mode's row read into @head (the chain head's neurons): the
 * weights now, the variance of the read noise each device adds to
 * head->read_var; ionpu_xbar_read_noise() draws it once a timestep.
 */
void ionpu_xbar_accumulate_noisy(struct ionpu_tile *t, unsigned int row,
				 float value, struct ionpu_neurons *head);
void ionpu_xbar_read_noise(struct ionpu_tile *head);

/*
 * Start loading a row that an event will read soon: rows are picked at
 * random, so the hardware prefetcher cannot guess them.  Inline, as this
 * and ionpu_xbar_accumulate() are the inner loop of every timestep.
 */
static inline void ionpu_xbar_prefetch(const struct ionpu_tile *t,
				       unsigned int row)
{
#if defined(__GNUC__)
	bool ideal = t->cfg.mode != IONPU_FAB_PHYSICAL;
	size_t bytes = IONPU_FAB_NEURONS *
		       (ideal ? sizeof(*t->xb.code) : sizeof(*t->xb.w));
	const char *p =
		ideal ? (const char *)(t->xb.code +
				       (size_t)row * IONPU_FAB_NEURONS) :
			(const char *)(t->xb.w +
				       (size_t)row * IONPU_FAB_NEURONS);

	for (size_t off = 0; off < bytes; off += 64)
		__builtin_prefetch(p + off);
#else
	(void)t;
	(void)row;
#endif
}

/* head->acc += value * one crossbar row, as the tile's read circuit sees it. */
static inline void ionpu_xbar_accumulate(struct ionpu_tile *t, unsigned int row,
					 float value,
					 struct ionpu_neurons *head)
{
	const int16_t *restrict code =
		t->xb.code + (size_t)row * IONPU_FAB_NEURONS;
	float *restrict acc = head->acc;
	float v = value * t->xb.unit;

	if (t->cfg.mode == IONPU_FAB_PHYSICAL) {
		ionpu_xbar_accumulate_noisy(t, row, value, head);
		return;
	}
	for (unsigned int c = 0; c < IONPU_FAB_NEURONS; c++)
		acc[c] += v * (float)code[c];
}

/* ionpu_program.c */
/*
 * One learning pulse of amplitude @amp (0..1]: a SET on @dev of @cell, with
 * the device physics of programming (ideal mode: the nominal soft-bound
 * step rounded to the nearest level).  Counted in time, energy and the
 * learning counters.
 */
void ionpu_program_learn_pulse(struct ionpu_fabric *f, unsigned int tile,
			       unsigned int cell, enum ionpu_fab_device dev,
			       float amp);

/* ionpu_learn.c */
/* Learning off and traces cleared on the tiles in @tiles (bit N: tile N). */
void ionpu_learn_reset(struct ionpu_fabric *f, uint64_t tiles);
/* Traces cleared on the tiles in @tiles; learning stays as it is. */
void ionpu_learn_clear_traces(struct ionpu_fabric *f, uint64_t tiles);
/* The spikes head tile @head fired this timestep, into its learners' post. */
void ionpu_learn_post(struct ionpu_fabric *f, unsigned int head);

/* An input event read row @row of tile @t. */
static inline void ionpu_learn_pre(struct ionpu_tile *t, unsigned int row,
				   float value)
{
	if (t->learn.on && value != 0 && t->learn.pre[row] < UINT32_MAX)
		t->learn.pre[row]++;
}

/* ionpu_router.c */
int ionpu_router_push(struct ionpu_fabric *f, uint64_t timestep,
		      unsigned int tile, unsigned int row, float value);
void ionpu_router_clear(struct ionpu_fabric *f);
/* Drops the events bound for the tiles in @tiles (bit N: tile N). */
void ionpu_router_drop(struct ionpu_fabric *f, uint64_t tiles);
void ionpu_router_free(struct ionpu_fabric *f);
void ionpu_route_free(struct ionpu_route *r);
/* Queue a spike of (tile, neuron) fired in timestep now; -ENOMEM lost. */
int ionpu_router_fire(struct ionpu_fabric *f, unsigned int tile,
		      unsigned int neuron);

#endif /* IONPU_FABRIC_IMPL_H */
