// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fabric's tiles and its timestep loop: configuration, chaining, input,
 * run, counters, device time and the calibration record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_fabric_impl.h"

/* A part's share of each timestep: what the workers run. */
static ionpu_part_fn step_part;

static void tile_defaults(struct ionpu_fabric *f, unsigned int t)
{
	struct ionpu_tile *tile = &f->tile[t];

	tile->cfg.mode = IONPU_FAB_OFF;
	tile->cfg.model = IONPU_FAB_LIF;
	tile->cfg.dt = 1e-3f;
	tile->cfg.gain = 1.0f / IONPU_FAB_G_STEP;
	tile->head = t;
	tile->members = 0;
	tile->rows_read = 0;
	memset(&tile->cnt, 0, sizeof(tile->cnt));
	tile->energy_fj = 0;
	tile->learn_energy_fj = 0;
	ionpu_rng_seed(&tile->rng,
		       ionpu_hash(f->seed, IONPU_RNG_STREAM, t, 0, 0));
	for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
		ionpu_route_free(&tile->route[n]);
	ionpu_neurons_init(f, t);
	ionpu_xbar_invalidate(f, t);
}

int ionpu_fabric_new(const struct ionpu_fabric_config *cfg,
		     struct ionpu_fabric **out)
{
	struct ionpu_fabric *f;

	if (!cfg || !out)
		return -EINVAL;
	if (cfg->tiles < 1 || cfg->tiles > IONPU_FAB_MAX_TILES ||
	    cfg->threads > IONPU_FAB_MAX_THREADS)
		return -ERANGE;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->tiles = cfg->tiles;
	f->seed = cfg->seed;
	f->tile = calloc(cfg->tiles, sizeof(*f->tile));
	if (!f->tile)
		goto nomem;
	for (unsigned int t = 0; t < f->tiles; t++) {
		struct ionpu_xbar *xb = &f->tile[t].xb;

		if (ionpu_xbar_alloc(xb))
			goto nomem;
	}
	atomic_init(&f->stop, false);
	ionpu_fabric_erase(f);
	ionpu_fabric_reset(f);
	f->parts = cfg->threads < cfg->tiles ? cfg->threads : cfg->tiles;
	if (f->parts > 1) {
		int err =
			ionpu_workers_new(f, f->parts, step_part, &f->workers);

		if (err) {
			ionpu_fabric_free(f);
			return err;
		}
	} else {
		f->parts = 1;
	}
	*out = f;
	return 0;

nomem:
	ionpu_fabric_free(f);
	return -ENOMEM;
}

void ionpu_fabric_free(struct ionpu_fabric *f)
{
	if (!f)
		return;
	ionpu_workers_free(f->workers);
	if (f->tile) {
		for (unsigned int t = 0; t < f->tiles; t++) {
			for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
				ionpu_route_free(&f->tile[t].route[n]);
			ionpu_xbar_free(&f->tile[t].xb);
		}
		free(f->tile);
	}
	ionpu_router_free(f);
	free(f);
}

unsigned int ionpu_fabric_tiles(const struct ionpu_fabric *f)
{
	return f ? f->tiles : 0;
}

/*
 * Every device of one array at G_MIN: one row stored, then copied in
 * doubling blocks.  A per-cell store loop cost a third of each fuzz input
 * (tests/fuzz/core_cmd.c erases after every one), sanitizers checking
 * each store; a copy is checked once.
 */
static void devices_at_g_min(float *g)
{
	size_t n;

	for (n = 0; n < IONPU_FAB_NEURONS; n++)
		g[n] = IONPU_FAB_G_MIN;
	for (; n < IONPU_FAB_CELLS; n *= 2)
		memcpy(g + n, g,
		       (n < IONPU_FAB_CELLS - n ? n : IONPU_FAB_CELLS - n) *
			       sizeof(*g));
}

void ionpu_fabric_erase(struct ionpu_fabric *f)
{
	if (!f)
		return;
	for (unsigned int t = 0; t < f->tiles; t++) {
		struct ionpu_xbar *xb = &f->tile[t].xb;

		devices_at_g_min(xb->gp);
		devices_at_g_min(xb->gn);
		memset(xb->t_prog, 0, IONPU_FAB_CELLS * sizeof(*xb->t_prog));
		ionpu_xbar_invalidate(f, t);
	}
	memset(f->calib, 0, sizeof(f->calib));
	f->device_time_ns = 0;
}

void ionpu_fabric_reset(struct ionpu_fabric *f)
{
	if (!f)
		return;
	for (unsigned int t = 0; t < f->tiles; t++)
		tile_defaults(f, t);
	ionpu_router_clear(f);
	ionpu_learn_reset(f, UINT64_MAX);
	memset(&f->cnt, 0, sizeof(f->cnt));
	f->energy_fj = 0;
	f->learn_energy_fj = 0;
	f->now = 0;
	atomic_store(&f->stop, false);
}

void ionpu_fabric_reset_state(struct ionpu_fabric *f, uint64_t tiles)
{
	if (!f)
		return;
	for (unsigned int t = 0; t < f->tiles; t++)
		if (tiles & (1ull << t))
			ionpu_neurons_reset_state(&f->tile[t].n);
	ionpu_learn_clear_traces(f, tiles);
	ionpu_router_drop(f, tiles);
}

int ionpu_fabric_check_cell(const struct ionpu_fabric *f, unsigned int tile,
			    unsigned int row, unsigned int col)
{
	if (!f)
		return -EINVAL;
	if (tile >= f->tiles || row >= IONPU_FAB_ROWS ||
	    col >= IONPU_FAB_NEURONS)
		return -ERANGE;
	return 0;
}

int ionpu_fabric_set_tile(struct ionpu_fabric *f, unsigned int tile,
			  const struct ionpu_fab_tile_config *cfg)
{
	struct ionpu_tile *t;

	if (!f || !cfg)
		return -EINVAL;
	if (tile >= f->tiles)
		return -ERANGE;
	if ((unsigned int)cfg->mode > IONPU_FAB_PHYSICAL ||
	    (unsigned int)cfg->model > IONPU_FAB_CUBA_LIF ||
	    !ionpu_finite(cfg->dt) || !(cfg->dt > 0) ||
	    !ionpu_finite(cfg->gain))
		return -EINVAL;
	t = &f->tile[tile];
	t->cfg = *cfg;
	for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++)
		ionpu_neurons_derive(f, tile, n);
	ionpu_neurons_reset_state(&t->n);
	ionpu_xbar_invalidate(f, tile);
	return 0;
}

int ionpu_fabric_get_tile(const struct ionpu_fabric *f, unsigned int tile,
			  struct ionpu_fab_tile_config *cfg)
{
	if (!f || !cfg)
		return -EINVAL;
	if (tile >= f->tiles)
		return -ERANGE;
	*cfg = f->tile[tile].cfg;
	return 0;
}

int ionpu_fabric_chain(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int head)
{
	struct ionpu_tile *t;

	if (!f)
		return -EINVAL;
	if (tile >= f->tiles || head >= f->tiles)
		return -ERANGE;
	t = &f->tile[tile];
	if (head == tile) {
		if (t->head != tile)
			f->tile[t->head].members--;
		t->head = tile;
		return 0;
	}
	if (f->tile[head].head != head || t->members)
		return -EINVAL;
	if (t->head != tile)
		f->tile[t->head].members--;
	t->head = head;
	f->tile[head].members++;
	return 0;
}

int ionpu_fabric_chain_head(const struct ionpu_fabric *f, unsigned int tile)
{
	if (!f)
		return -EINVAL;
	if (tile >= f->tiles)
		return -ERANGE;
	return (int)f->tile[tile].head;
}

int ionpu_fabric_input_at(struct ionpu_fabric *f, uint64_t timestep,
			  unsigned int tile, unsigned int row, float value)
{
	int ret;

	if (!f || !ionpu_finite(value))
		return -EINVAL;
	if (tile >= f->tiles || row >= IONPU_FAB_ROWS || timestep < f->now ||
	    timestep - f->now >= IONPU_FAB_INPUT_WINDOW)
		return -ERANGE;
	ret = ionpu_router_push(f, timestep, tile, row, value);
	if (!ret) {
		f->cnt.spikes_in++;
		f->tile[tile].cnt.spikes_in++;
	}
	return ret;
}

int ionpu_fabric_input(struct ionpu_fabric *f, unsigned int tile,
		       unsigned int row, float value)
{
	if (!f)
		return -EINVAL;
	return ionpu_fabric_input_at(f, f->now, tile, row, value);
}

void ionpu_fabric_busy(struct ionpu_fabric *f, struct ionpu_tile *t,
		       uint64_t ns, double energy_fj)
{
	f->cnt.busy_ns += ns;
	f->device_time_ns += ns;
	f->energy_fj += energy_fj;
	if (t) {
		t->cnt.busy_ns += ns;
		t->energy_fj += energy_fj;
	}
}

/*
 * A tile's share of the timestep that ended: the rows it read (counted
 * card-wide as the events were delivered) and, when it was on or read
 * any, its own time.
 */
static void tile_step_done(struct ionpu_tile *t)
{
	uint64_t cells = (uint64_t)t->rows_read * IONPU_FAB_NEURONS;

	t->cnt.syn_events += cells;
	t->energy_fj += (double)cells * IONPU_E_SYN_READ_FJ;
	if (t->cfg.mode != IONPU_FAB_OFF || t->rows_read)
		t->cnt.busy_ns += IONPU_T_STEP_NS +
				  (uint64_t)t->rows_read * IONPU_T_ROW_NS;
	t->rows_read = 0;
}

/* How many events ahead the crossbar rows are prefetched. */
#define PREFETCH_AHEAD 4

/*
 * The part a tile's work is done in: its chain head's, as every tile of a
 * chain adds into the head's neurons.  Parts are runs of head tiles.
 */
static unsigned int part_of(const struct ionpu_fabric *f, unsigned int tile)
{
	return f->tile[tile].head * f->parts / f->tiles;
}

/*
 * Read one crossbar row per input event of @part's tiles into its chain
 * head's input.  Each head's input adds up in the order of the events,
 * whatever the parts, so the sums are the same bit for bit.
 */
static void deliver_inputs(struct ionpu_fabric *f, unsigned int part,
			   const struct ionpu_event_list *slot)
{
	bool all = f->parts == 1;

	for (uint32_t k = 0; k < slot->n; k++) {
		const struct ionpu_event *e = &slot->ev[k];
		struct ionpu_tile *t = &f->tile[e->tile];

		if (k + PREFETCH_AHEAD < slot->n &&
		    (all || part_of(f, e[PREFETCH_AHEAD].tile) == part))
			ionpu_xbar_prefetch(&f->tile[e[PREFETCH_AHEAD].tile],
					    e[PREFETCH_AHEAD].row);
		if (!all && part_of(f, e->tile) != part)
			continue;
		t->rows_read++;
		ionpu_learn_pre(t, e->row, e->value);
		ionpu_xbar_accumulate(t, e->row, e->value, &f->tile[t->head].n);
	}
}

/* Step tile @h's neurons if it is a head that computes: t->spikes fired. */
static void update_neurons(struct ionpu_tile *t, unsigned int h)
{
	t->spikes = 0;
	if (t->head == h && t->cfg.mode != IONPU_FAB_OFF) {
		if (t->cfg.mode == IONPU_FAB_PHYSICAL)
			ionpu_xbar_read_noise(t);
		t->spikes = ionpu_neurons_step(t);
	}
	memset(t->n.acc, 0, sizeof(t->n.acc));
	t->n.read_var = 0;
}

/*
 * @part's share of a timestep: everything that touches only its own
 * tiles, on any thread.
 */
static void step_part(struct ionpu_fabric *f, unsigned int part)
{
	deliver_inputs(f, part, &f->slot[f->now % IONPU_FAB_INPUT_WINDOW]);
	for (unsigned int h = 0; h < f->tiles; h++)
		if (h * f->parts / f->tiles == part)
			update_neurons(&f->tile[h], h);
}

/*
 * After every part: count the timestep's events and spikes, learn, route
 * the spikes, in tile order.  Returns 0, or -ENOMEM when a spike could not
 * be queued; *stop goes true when the host callback asks to stop.
 */
static int route_spikes(struct ionpu_fabric *f, ionpu_fab_spike_fn fn,
			void *opaque, bool *stop)
{
	struct ionpu_event_list *slot =
		&f->slot[f->now % IONPU_FAB_INPUT_WINDOW];
	int ret = 0;

	f->cnt.syn_events += (uint64_t)slot->n * IONPU_FAB_NEURONS;
	f->energy_fj +=
		(double)slot->n * IONPU_FAB_NEURONS * IONPU_E_SYN_READ_FJ;
	f->in_flight -= slot->n;
	slot->n = 0;
	for (unsigned int h = 0; h < f->tiles; h++) {
		struct ionpu_tile *t = &f->tile[h];
		unsigned int spikes = t->spikes;

		if (!spikes)
			continue;
		f->cnt.spikes_out += spikes;
		f->energy_fj += spikes * IONPU_E_SPIKE_FJ;
		t->cnt.spikes_out += spikes;
		t->energy_fj += spikes * IONPU_E_SPIKE_FJ;
		ionpu_learn_post(f, h);
		for (unsigned int n = 0; n < IONPU_FAB_NEURONS; n++) {
			if (!t->n.fired[n])
				continue;
			if (ionpu_router_fire(f, h, n))
				ret = -ENOMEM;
			if (t->route[n].to_host && fn &&
			    fn(opaque, f->now, h, n))
				*stop = true;
		}
	}
	return ret;
}

int ionpu_fabric_run(struct ionpu_fabric *f, uint64_t steps,
		     ionpu_fab_spike_fn fn, void *opaque, uint64_t *done)
{
	uint64_t s;
	int ret = 0;
	bool stop = false;

	if (done)
		*done = 0;
	if (!f)
		return -EINVAL;
	atomic_store(&f->stop, false);
	for (unsigned int t = 0; t < f->tiles; t++)
		ionpu_xbar_refresh(f, t);
	for (s = 0; s < steps && !stop; s++) {
		unsigned int rows = 0;

		if (atomic_load_explicit(&f->stop, memory_order_relaxed))
			break;
		if (f->workers)
			ionpu_workers_run(f->workers);
		else
			step_part(f, 0);
		if (route_spikes(f, fn, opaque, &stop))
			ret = -ENOMEM;
		for (unsigned int t = 0; t < f->tiles; t++) {
			if (f->tile[t].rows_read > rows)
				rows = f->tile[t].rows_read;
			tile_step_done(&f->tile[t]);
		}
		ionpu_fabric_busy(f, NULL,
				  IONPU_T_STEP_NS +
					  (uint64_t)rows * IONPU_T_ROW_NS,
				  0);
		f->now++;
		f->cnt.timesteps++;
	}
	if (done)
		*done = s;
	return ret;
}

void ionpu_fabric_stop(struct ionpu_fabric *f)
{
	if (f)
		atomic_store(&f->stop, true);
}

uint64_t ionpu_fabric_now(const struct ionpu_fabric *f)
{
	return f ? f->now : 0;
}

void ionpu_fabric_counters(const struct ionpu_fabric *f,
			   struct ionpu_fab_counters *c)
{
	if (!f || !c)
		return;
	*c = f->cnt;
	c->energy_fj = (uint64_t)f->energy_fj;
	c->learn_energy_fj = (uint64_t)f->learn_energy_fj;
}

int ionpu_fabric_tile_counters(struct ionpu_fabric *f, unsigned int tile,
			       struct ionpu_fab_tile_counters *c, bool clear)
{
	struct ionpu_tile *t;

	if (!f || !c)
		return -EINVAL;
	if (tile >= f->tiles)
		return -ERANGE;
	t = &f->tile[tile];
	*c = t->cnt;
	c->energy_fj = (uint64_t)t->energy_fj;
	c->learn_energy_fj = (uint64_t)t->learn_energy_fj;
	if (clear) {
		/* The fractions of a fJ not reported yet stay. */
		memset(&t->cnt, 0, sizeof(t->cnt));
		t->energy_fj -= (double)c->energy_fj;
		t->learn_energy_fj -= (double)c->learn_energy_fj;
	}
	return 0;
}

uint64_t ionpu_fabric_device_time(const struct ionpu_fabric *f)
{
	return f ? f->device_time_ns : 0;
}

void ionpu_fabric_advance_time(struct ionpu_fabric *f, uint64_t ns)
{
	if (!f)
		return;
	f->device_time_ns = ns > UINT64_MAX - f->device_time_ns ?
				    UINT64_MAX :
				    f->device_time_ns + ns;
}

int ionpu_fabric_calib_read(const struct ionpu_fabric *f, size_t off, void *buf,
			    size_t len)
{
	if (!f || (!buf && len))
		return -EINVAL;
	if (off > IONPU_FAB_CALIB_SIZE || len > IONPU_FAB_CALIB_SIZE - off)
		return -ERANGE;
	if (len)
		memcpy(buf, f->calib + off, len);
	return 0;
}

int ionpu_fabric_calib_write(struct ionpu_fabric *f, size_t off,
			     const void *buf, size_t len)
{
	if (!f || (!buf && len))
		return -EINVAL;
	if (off > IONPU_FAB_CALIB_SIZE || len > IONPU_FAB_CALIB_SIZE - off)
		return -ERANGE;
	if (len)
		memcpy(f->calib + off, buf, len);
	return 0;
}
