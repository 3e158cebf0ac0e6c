/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 compute fabric: crossbar tiles, neurons, router, programming
 * engine and non-volatile store, in plain C with no QEMU headers.
 *
 * The model core's command layer drives it; host unit tests and benchmarks
 * link it directly.  docs/physics.md gives every model, equation and
 * constant.  Every function checks its arguments itself and returns
 * -EINVAL (malformed: bad enum, NULL, NaN, non-positive time constant) or
 * -ERANGE (well formed but out of range: index, conductance, delay, offset)
 * without changing anything, so no input can crash the card.
 *
 * Threading: one thread at a time calls into a fabric, except
 * ionpu_fabric_stop(), which any thread may call while ionpu_fabric_run()
 * is in progress.  A fabric made with several threads
 * (ionpu_fabric_config.threads) runs a timestep's tiles on them; what it
 * computes is the same, bit for bit, as on one, as long as the thread that
 * runs it keeps the floating-point environment (rounding, flush to zero)
 * of the thread that made it, which the others were started with.
 *
 * Units: conductances in microsiemens (uS), times in seconds unless the
 * name says _ns, energy in femtojoules (fJ).
 */
#ifndef IONPU_FABRIC_H
#define IONPU_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/ionpu_regs.h"

/* Geometry: IONPU_TILE_ROWS inputs by IONPU_TILE_NEURONS neurons a tile. */
#define IONPU_FAB_ROWS IONPU_TILE_ROWS
#define IONPU_FAB_NEURONS IONPU_TILE_NEURONS
#define IONPU_FAB_MAX_TILES IONPU_MAX_TILES

/*
 * Every device of a pair lies in [G_MIN, G_MAX] and, in ideal mode, on one
 * of G_LEVELS evenly spaced levels (level k: G_MIN + k * G_STEP).
 */
#define IONPU_FAB_G_MIN 1.0f   /* uS */
#define IONPU_FAB_G_MAX 101.0f /* uS */
#define IONPU_FAB_G_LEVELS 256
#define IONPU_FAB_G_STEP \
	((IONPU_FAB_G_MAX - IONPU_FAB_G_MIN) / (IONPU_FAB_G_LEVELS - 1))

/* Router: targets per neuron and the longest axonal delay, in timesteps. */
#define IONPU_FAB_MAX_FANOUT 256
#define IONPU_FAB_MAX_DELAY 255
/* ionpu_fabric_input_at() accepts timesteps now .. now + WINDOW - 1. */
#define IONPU_FAB_INPUT_WINDOW (IONPU_FAB_MAX_DELAY + 1)

/* Bytes of the calibration record kept in the non-volatile store. */
#define IONPU_FAB_CALIB_SIZE 4096

struct ionpu_fabric;

/* The most threads a fabric runs on: one per tile. */
#define IONPU_FAB_MAX_THREADS IONPU_FAB_MAX_TILES

struct ionpu_fabric_config {
	unsigned int tiles; /* 1..IONPU_FAB_MAX_TILES */
	/* Draws every device of the card: same seed, same card. */
	uint64_t seed;
	/*
	 * Threads a timestep's tiles are spread over, the caller's included:
	 * 0 or 1 for the caller alone, at most IONPU_FAB_MAX_THREADS; more
	 * than @tiles are not used.
	 */
	unsigned int threads;
};

/*
 * What a tile computes.  OFF: its neurons neither integrate nor fire (its
 * crossbar can still be programmed and read, and still feeds a chain).
 * IDEAL: every noise source off; programming lands exactly on the nearest
 * level, reads are exact, nothing drifts or sticks, neurons follow @model
 * exactly.  PHYSICAL: the crossbar shows its device non-idealities and the
 * neurons are diffusive memristors (@model is kept but not used).
 */
enum ionpu_fab_mode {
	IONPU_FAB_OFF = 0,
	IONPU_FAB_IDEAL = 1,
	IONPU_FAB_PHYSICAL = 2,
};

/*
 * Ideal neuron models, as NIR defines them (I: the tile's synaptic input
 * of the timestep, sum over input events of value * gain * (G+ - G-)):
 *   LIF      tau dv/dt = (v_leak - v) + r I;             spike when
 *            v > v_threshold, then v = v_reset
 *   IF       dv/dt = r I;                                  same spike rule
 *   LI       tau dv/dt = (v_leak - v) + r I;             never spikes
 *   CUBA_LIF tau_syn di/dt = -i + w_in I;
 *            tau dv/dt = (v_leak - v) + r i;              same spike rule
 * Forward Euler with the tile's dt, from the previous step's values, as
 * NIR's reference implementation does (docs/physics.md):
 *   v' = v + dt/tau * (v_leak - v + r I)          (CUBA_LIF: r i for r I)
 *   i' = i + dt/tau_syn * (w_in I - i)            (IF: v' = v + dt r I)
 */
enum ionpu_fab_model {
	IONPU_FAB_LIF = 0,
	IONPU_FAB_IF = 1,
	IONPU_FAB_LI = 2,
	IONPU_FAB_CUBA_LIF = 3,
};

struct ionpu_fab_tile_config {
	enum ionpu_fab_mode mode;
	enum ionpu_fab_model model;
	float dt; /* seconds per timestep, > 0 */
	/* Synaptic input per uS of G+ - G- per unit of input value; finite. */
	float gain;
};

/*
 * One neuron's parameters; which ones a model reads is in the comment of
 * enum ionpu_fab_model.  In PHYSICAL mode: tau is the membrane RC time
 * constant, r the input gain (volts per unit of input), |v_threshold| the
 * device's threshold voltage (times its device-to-device spread); the rest
 * is ignored.
 */
struct ionpu_fab_neuron {
	float tau;     /* s, > 0 (tau_mem for CUBA_LIF) */
	float tau_syn; /* s, > 0 */
	float r;
	float v_leak;
	float v_threshold;
	float v_reset;
	float w_in;
	/*
	 * Timesteps after a spike during which v stays at v_reset and input
	 * is ignored.  Not in NIR: 0 (the default) is NIR's behaviour.
	 */
	uint32_t refractory;
};

/*
 * Defaults for @model: NIR's where NIR has one (v_reset = 0, w_in = 1), the
 * card's for what NIR requires (tau = tau_syn = 10 ms, r = 1, v_leak = 0,
 * v_threshold = 1), refractory = 0.  Returns 0 or -EINVAL.
 */
int ionpu_fab_neuron_defaults(enum ionpu_fab_model model,
			      struct ionpu_fab_neuron *p);

/* A router target: input row @row of tile @tile, @delay timesteps later. */
struct ionpu_fab_target {
	uint16_t tile;
	uint16_t row;
	/*
	 * 0..IONPU_FAB_MAX_DELAY.  A spike fired in timestep t reaches its
	 * target as an input of timestep t + 1 + delay.
	 */
	uint16_t delay;
};

enum ionpu_fab_device {
	IONPU_FAB_GPLUS = 0,
	IONPU_FAB_GMINUS = 1,
};

enum ionpu_fab_pulse {
	IONPU_FAB_SET = 0,   /* raises conductance */
	IONPU_FAB_RESET = 1, /* lowers conductance */
};

enum ionpu_fab_prog_status {
	IONPU_FAB_PROG_OK = 0,	   /* within tolerance of the target */
	IONPU_FAB_PROG_BUDGET = 1, /* pulse budget used up first */
	IONPU_FAB_PROG_STUCK = 2,  /* the device does not move */
};

struct ionpu_fab_prog_result {
	float achieved;	 /* uS, as the final verify read saw it */
	uint32_t pulses; /* SET + RESET pulses applied */
	enum ionpu_fab_prog_status status;
};

struct ionpu_fab_counters {
	uint64_t timesteps;
	uint64_t spikes_in;  /* input events the host gave */
	uint64_t spikes_out; /* neuron spikes, routed or not */
	uint64_t syn_events; /* cells read: IONPU_FAB_NEURONS per input event */
	uint64_t program_pulses;
	uint64_t busy_ns;   /* modeled time the fabric was busy */
	uint64_t energy_fj; /* modeled energy, docs/physics.md */
	/* Learning pulses and their energy (also in busy_ns and energy_fj). */
	uint64_t learn_pulses;
	uint64_t learn_energy_fj;
};

/*
 * One tile's part of the counters above, so that the work of the tenants
 * of different tiles can be told apart.  Busy time is the tile's own: a
 * timestep keeps the card busy as long as its busiest tile, so the tiles'
 * busy_ns add up to more than the card's; their energy adds up to the
 * card's (up to rounding).
 */
struct ionpu_fab_tile_counters {
	uint64_t spikes_in;  /* host input events aimed at the tile's rows */
	uint64_t spikes_out; /* spikes of its neurons (for a chain, its head) */
	uint64_t syn_events; /* its cells read */
	uint64_t program_pulses;
	uint64_t busy_ns; /* timesteps it was on or read rows in, and pulses */
	uint64_t energy_fj;
	uint64_t learn_pulses;
	uint64_t learn_energy_fj;
};

/*
 * Output spike: neuron @neuron of tile @tile fired in timestep @timestep
 * and its route sends it to the host.  For a chain, @tile is the head.
 * Return 0 to go on, anything else to stop at the end of this timestep.
 */
typedef int (*ionpu_fab_spike_fn)(void *opaque, uint64_t timestep,
				  unsigned int tile, unsigned int neuron);

/* --- lifetime ------------------------------------------------------------ */

/*
 * Build a fabric: every tile OFF with dt = 1e-3 s and gain = 1 / G_STEP,
 * neurons at their LIF defaults, no routes, no chains, every device at
 * G_MIN (as a fresh crossbar), calibration record zeroed, device time 0.
 * Returns 0 and the fabric in *@out, -EINVAL or -ERANGE for a bad @cfg, or
 * -ENOMEM.
 */
int ionpu_fabric_new(const struct ionpu_fabric_config *cfg,
		     struct ionpu_fabric **out);
void ionpu_fabric_free(struct ionpu_fabric *f);
unsigned int ionpu_fabric_tiles(const struct ionpu_fabric *f);

/*
 * The non-volatile state back to ionpu_fabric_new()'s: every device at
 * G_MIN and never programmed, calibration record zeroed, device time 0.
 * Nothing volatile changes (see ionpu_fabric_reset()).
 */
void ionpu_fabric_erase(struct ionpu_fabric *f);

/*
 * Card reset: everything volatile back to its state after
 * ionpu_fabric_new() (tile configs, neurons, routes, chains, neuron state,
 * pending inputs and spikes in flight, counters).  The non-volatile state
 * (conductances, calibration record, device time) stays.
 */
void ionpu_fabric_reset(struct ionpu_fabric *f);

/*
 * Neuron state only, of the tiles in @tiles (bit N: tile N): v = i = 0
 * (NIR's initial state; physical: discharged, no filament), refractory
 * counts, and pending inputs and spikes in flight bound for those tiles
 * cleared.  Configuration, crossbar and counters stay.  Other tiles are not
 * touched, so tenants of one card can start afresh independently.
 */
void ionpu_fabric_reset_state(struct ionpu_fabric *f, uint64_t tiles);

/* --- configuration ------------------------------------------------------- */

/* Also resets the tile's neuron state (its crossbar stays). */
int ionpu_fabric_set_tile(struct ionpu_fabric *f, unsigned int tile,
			  const struct ionpu_fab_tile_config *cfg);
int ionpu_fabric_get_tile(const struct ionpu_fabric *f, unsigned int tile,
			  struct ionpu_fab_tile_config *cfg);

/* Also resets that neuron's state. */
int ionpu_fabric_set_neuron(struct ionpu_fabric *f, unsigned int tile,
			    unsigned int neuron,
			    const struct ionpu_fab_neuron *p);
int ionpu_fabric_get_neuron(const struct ionpu_fabric *f, unsigned int tile,
			    unsigned int neuron, struct ionpu_fab_neuron *p);

/*
 * Chain @tile into @head: @tile's column sums add to @head's neurons'
 * input (column k to neuron k), so a neuron of @head has up to
 * rows x (1 + members) inputs.  @head must not itself be chained, and
 * @tile must have no members; @head == @tile undoes the chain.  @tile's
 * own neurons get no input while chained.  -EINVAL breaks those rules.
 */
int ionpu_fabric_chain(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int head);
/* The head @tile feeds: @tile itself when it is not chained. */
int ionpu_fabric_chain_head(const struct ionpu_fabric *f, unsigned int tile);

/*
 * Route of one neuron: its spikes go to @n targets (copied; @n <=
 * IONPU_FAB_MAX_FANOUT, any tile, itself included: recurrence) and, when
 * @to_host, to the output callback.  Replaces the old route; @n = 0 and
 * !@to_host silence the neuron.  Spikes already in flight still land.
 */
int ionpu_fabric_set_route(struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, bool to_host,
			   const struct ionpu_fab_target *targets,
			   unsigned int n);
/*
 * Copies at most @max targets to @targets (may be NULL when @max is 0).
 * Returns the route's target count (which may exceed @max) or -errno.
 */
int ionpu_fabric_get_route(const struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, bool *to_host,
			   struct ionpu_fab_target *targets, unsigned int max);

/* --- crossbar ------------------------------------------------------------ */

/*
 * Write-and-verify one device: pulse it (ideal mode: set it to the nearest
 * level in one pulse) until a verify read lies within @tolerance of
 * @target, the device proves stuck, or @max_pulses are spent.  @target must
 * lie in [G_MIN, G_MAX] (-ERANGE), @tolerance >= 0, @max_pulses >= 1.
 */
int ionpu_fabric_program(struct ionpu_fabric *f, unsigned int tile,
			 unsigned int row, unsigned int col,
			 enum ionpu_fab_device dev, float target,
			 float tolerance, uint32_t max_pulses,
			 struct ionpu_fab_prog_result *res);

/*
 * @count raw pulses of one kind, no verify, for calibration.  *@g (may be
 * NULL) gets the device's conductance afterwards, read noise free.  Ideal
 * mode: one level per pulse.  @count 0 changes nothing: it only reports.
 */
int ionpu_fabric_pulse(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int row, unsigned int col,
		       enum ionpu_fab_device dev, enum ionpu_fab_pulse kind,
		       uint32_t count, float *g);

/*
 * Read a pair as the card's read circuit sees it: exact in ideal and OFF
 * mode; with drift and read noise in physical mode.
 */
int ionpu_fabric_read(struct ionpu_fabric *f, unsigned int tile,
		      unsigned int row, unsigned int col, float *gplus,
		      float *gminus);

/* --- running ------------------------------------------------------------- */

/*
 * Input event for the next timestep run: row @row of tile @tile receives
 * @value (1 for a spike, or a graded value; finite).  Several events on a
 * row in one timestep add up.  -ENOMEM when 2^24 events (host inputs and
 * spikes in flight together) are already queued.
 */
int ionpu_fabric_input(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int row, float value);
/* The same for timestep @timestep: now .. now + INPUT_WINDOW - 1. */
int ionpu_fabric_input_at(struct ionpu_fabric *f, uint64_t timestep,
			  unsigned int tile, unsigned int row, float value);

/*
 * Run up to @steps timesteps, calling @fn (may be NULL) for each spike
 * routed to the host.  Returns early, after a whole timestep, when @fn
 * returns non-zero or ionpu_fabric_stop() is called.  *@done (may be NULL)
 * gets the timesteps run.  Returns 0 or -ENOMEM (spikes in flight could not
 * be queued; the fabric stays consistent, the spikes are lost).
 */
int ionpu_fabric_run(struct ionpu_fabric *f, uint64_t steps,
		     ionpu_fab_spike_fn fn, void *opaque, uint64_t *done);
/* Ask a run in progress to return; a run clears old requests on entry. */
void ionpu_fabric_stop(struct ionpu_fabric *f);

/* The next timestep to run: timesteps run since new or the last reset. */
uint64_t ionpu_fabric_now(const struct ionpu_fabric *f);

/*
 * A neuron's state, for probes and tests.  Physical: v and the filament f,
 * which must lie in [0, 1] (-ERANGE).
 */
int ionpu_fabric_get_state(const struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, float *v, float *i);
int ionpu_fabric_set_state(struct ionpu_fabric *f, unsigned int tile,
			   unsigned int neuron, float v, float i);

/* --- learning ------------------------------------------------------------ */

/*
 * The supervised rule of a tile's learning engine (docs/physics.md,
 * "Learning").  While learning is on, a run counts pre[row], the input
 * events (non-zero values) each crossbar row received, and post[n], the
 * spikes neuron n of the chain head fired, since the last teach.  A teach
 * naming neuron k then pulses, for every row with pre > 0 and a strength
 * s = min(1, pre / pre_ref):
 *   - if post[k] < post_target: a SET of amplitude amp_pot * s on the G+
 *     device of (row, k), raising the weight towards k;
 *   - for every other neuron j with post[j] > 0: a SET of amplitude
 *     amp_dep * s on the G- device of (row, j), lowering that weight;
 * teacher first, then j in ascending order, rows ascending, until
 * max_pulses pulses are spent; then clears the traces.
 */
struct ionpu_fab_learn_rule {
	float amp_pot;	      /* 0..1, a fraction of a full pulse */
	float amp_dep;	      /* 0..1 */
	float pre_ref;	      /* > 0: events for a full-strength pulse */
	uint32_t post_target; /* teacher spikes that make potentiation stop */
	uint32_t max_pulses;  /* >= 1: pulses one teach may apply */
};

/*
 * Learning on @tile with @rule (copied), or off when @rule is NULL.  Either
 * way the tile's traces are cleared.  -EINVAL for a malformed rule (NaN,
 * amplitude outside [0, 1], pre_ref <= 0, max_pulses 0), -ERANGE for @tile.
 * Reset turns learning off; ionpu_fabric_reset_state() clears the traces.
 */
int ionpu_fabric_learn(struct ionpu_fabric *f, unsigned int tile,
		       const struct ionpu_fab_learn_rule *rule);
/* 1 and *@rule (may be NULL) when learning is on, 0 when off, or -errno. */
int ionpu_fabric_get_learn(const struct ionpu_fabric *f, unsigned int tile,
			   struct ionpu_fab_learn_rule *rule);
/*
 * The traces since the last teach: IONPU_FAB_ROWS counts into @pre and
 * IONPU_FAB_NEURONS into @post (either may be NULL).
 */
int ionpu_fabric_learn_traces(const struct ionpu_fabric *f, unsigned int tile,
			      uint32_t *pre, uint32_t *post);
/*
 * Apply the rule with @neuron as the teacher and clear the traces.  Returns
 * the pulses applied (>= 0), -EINVAL when learning is off on @tile, or
 * -ERANGE for @tile or @neuron.
 */
int ionpu_fabric_teach(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int neuron);

/* --- counters, device time, calibration record --------------------------- */

void ionpu_fabric_counters(const struct ionpu_fabric *f,
			   struct ionpu_fab_counters *c);
/*
 * Tile @tile's counters since the fabric was made or reset, or since they
 * were last cleared: with @clear they start again from 0 (the card-wide
 * counters are not touched).  0, or -ERANGE for a tile past the fabric.
 */
int ionpu_fabric_tile_counters(struct ionpu_fabric *f, unsigned int tile,
			       struct ionpu_fab_tile_counters *c, bool clear);

/*
 * Device time: how long the devices have existed, in ns; drift follows it.
 * Running advances it by the modeled busy time; the host adds idle time
 * (e.g. the virtual clock) here.  It is non-volatile.
 */
uint64_t ionpu_fabric_device_time(const struct ionpu_fabric *f);
void ionpu_fabric_advance_time(struct ionpu_fabric *f, uint64_t ns);

/* Bytes [@off, @off + @len) of the calibration record; -ERANGE past it. */
int ionpu_fabric_calib_read(const struct ionpu_fabric *f, size_t off, void *buf,
			    size_t len);
int ionpu_fabric_calib_write(struct ionpu_fabric *f, size_t off,
			     const void *buf, size_t len);

/* --- non-volatile store -------------------------------------------------- */

/*
 * Save the non-volatile state (every device's conductance, the calibration
 * record, device time) to @path atomically: a temporary file beside it,
 * fsync, rename, so a crash leaves the old file or the new one.  Returns 0
 * or -errno, and then *@why (when not NULL) a sentence saying what failed.
 */
int ionpu_fabric_save(const struct ionpu_fabric *f, const char *path,
		      const char **why);
/*
 * Load it back.  The file must be intact (magic, version, sizes, checksum)
 * and hold as many tiles as @f; otherwise -EINVAL (-ENOENT etc. when it
 * cannot be read), *@why says why and @f is left as it was.
 */
int ionpu_fabric_load(struct ionpu_fabric *f, const char *path,
		      const char **why);

#endif /* IONPU_FABRIC_H */
