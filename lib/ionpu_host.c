// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host reference: a compiled plan run in software on the card's own
 * fabric model (fabric/ionpu_fabric.h) in ideal mode, so it computes what a
 * noise-free card computes, timestep for timestep.
 *
 * It applies the plan's card image (lib/ionpu_image.c), the same one the
 * card path loads, to a fabric of its own, and feeds it the same timed input
 * events (lib/ionpu_raster.c) the card gets.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_fabric.h"
#include "ionpu_internal.h"

struct ionpu_host {
	struct ionpu_fabric *fab;
	struct ionpu_image *img;
	struct ionpu_feed feed;
};

struct run_ctx {
	const struct ionpu_host *h;
	uint64_t first_step;
	uint8_t *out;
};

IONPU_API void ionpu_host_free(struct ionpu_host *h)
{
	if (!h)
		return;
	ionpu_fabric_free(h->fab);
	ionpu_image_free(h->img);
	ionpu_feed_clear(&h->feed);
	free(h);
}

/* Each device of @it's cells on its level, in one pulse (ideal mode). */
static int program_cells(struct ionpu_host *h, uint32_t t,
			 const struct ionpu_image_tile *it)
{
	struct ionpu_fab_prog_result res;
	int err;

	for (size_t k = 0; k < it->n_cells; k++) {
		const struct ionpu_image_cell *cell = &it->cells[k];

		for (int d = IONPU_FAB_GPLUS; d <= IONPU_FAB_GMINUS; d++) {
			err = ionpu_fabric_program(h->fab, t, cell->row,
						   cell->column, d,
						   ionpu_image_level_us(
							   cell->level[d]),
						   IONPU_FAB_G_STEP / 4, 1,
						   &res);
			if (!err && res.status != IONPU_FAB_PROG_OK)
				err = -EIO;
			if (err)
				return ionpu_error(err,
						   "host: tile %u: cannot program cell (%u, %u)",
						   t, cell->row, cell->column);
		}
	}
	return 0;
}

static int apply_tile(struct ionpu_host *h, uint32_t t,
		      const struct ionpu_image_tile *it)
{
	int err;

	if (it->head != t) {
		err = ionpu_fabric_chain(h->fab, t, it->head);
		if (err)
			return ionpu_error(err,
					   "host: cannot chain tile %u into %u",
					   t, it->head);
	}
	err = ionpu_fabric_set_tile(h->fab, t, &it->cfg);
	if (err)
		return ionpu_error(err,
				   "host: tile %u: the card rejects its configuration",
				   t);
	for (uint32_t col = 0; col < IONPU_FAB_NEURONS; col++) {
		err = ionpu_fabric_set_neuron(h->fab, t, col,
					      &it->neurons[col]);
		if (err)
			return ionpu_error(err,
					   "host: tile %u, neuron %u: the card rejects its parameters",
					   t, col);
	}
	err = program_cells(h, t, it);
	if (err)
		return err;
	for (size_t k = 0; k < it->n_routes; k++) {
		const struct ionpu_image_route *r = &it->routes[k];

		err = ionpu_fabric_set_route(h->fab, t, r->neuron, r->to_host,
					     r->targets, r->n_targets);
		if (err)
			return ionpu_error(err,
					   "host: tile %u, neuron %u: the router rejects its route",
					   t, r->neuron);
	}
	return 0;
}

/*
 * The image on a fresh fabric, whose devices all sit at level 0: the plan's
 * cells need programming, no others (the card path clears the rest).
 */
static int apply(struct ionpu_host *h)
{
	for (uint32_t t = 0; t < h->img->n_tiles; t++) {
		int err = apply_tile(h, t, &h->img->tiles[t]);

		if (err)
			return err;
	}
	return 0;
}

IONPU_API int ionpu_host_new(const struct ionpu_network *net,
			     const struct ionpu_plan *plan,
			     struct ionpu_host **out)
{
	struct ionpu_fabric_config fc = { 0 };
	struct ionpu_host *h;
	int err;

	if (!net || !plan || !out)
		return ionpu_error(-EINVAL, "ionpu_host_new: NULL argument");
	h = calloc(1, sizeof(*h));
	if (!h)
		return ionpu_error(-ENOMEM, "host: out of memory");
	err = ionpu_image_build(net, plan, &h->img);
	if (err)
		goto err_free;
	fc.tiles = h->img->n_tiles ? h->img->n_tiles : 1;
	err = ionpu_fabric_new(&fc, &h->fab);
	if (err) {
		err = ionpu_error(err, "host: cannot make a fabric of %u tiles",
				  fc.tiles);
		goto err_free;
	}
	err = apply(h);
	if (err)
		goto err_free;
	*out = h;
	return 0;

err_free:
	ionpu_host_free(h);
	return err;
}

IONPU_API size_t ionpu_host_inputs(const struct ionpu_host *h)
{
	return h->img->n_in;
}

IONPU_API size_t ionpu_host_outputs(const struct ionpu_host *h)
{
	return h->img->n_out;
}

IONPU_API void ionpu_host_reset(struct ionpu_host *h)
{
	ionpu_fabric_reset_state(h->fab, ~0ull);
}

IONPU_API void ionpu_host_activity(const struct ionpu_host *h,
				   struct ionpu_activity *out)
{
	struct ionpu_fab_counters c;

	ionpu_fabric_counters(h->fab, &c);
	*out = (struct ionpu_activity){
		.timesteps = c.timesteps,
		.spikes_in = c.spikes_in,
		.spikes_out = c.spikes_out,
		.synaptic_events = c.syn_events,
		.program_pulses = c.program_pulses,
		.busy_ns = c.busy_ns,
		.energy_fj = c.energy_fj,
	};
}

static int on_spike(void *opaque, uint64_t timestep, unsigned int tile,
		    unsigned int neuron)
{
	struct run_ctx *ctx = opaque;
	const struct ionpu_image *img = ctx->h->img;
	int32_t j = img->out_index[(size_t)tile * IONPU_FAB_NEURONS + neuron];
	uint64_t step = timestep - ctx->first_step;

	if (j >= 0)
		ctx->out[step * img->n_out + (size_t)j] = 1;
	return 0;
}

/*
 * The events ev[*@k..] of the window that starts at step @t, from the run's
 * first.
 */
static int queue_window(struct ionpu_host *h,
			const struct ionpu_timed_input *ev, size_t n_ev,
			size_t *k, size_t t)
{
	for (; *k < n_ev && ev[*k].step - t < IONPU_FAB_INPUT_WINDOW; (*k)++) {
		int err = ionpu_fabric_input_at(h->fab,
						ionpu_fabric_now(h->fab) +
							ev[*k].step - t,
						ev[*k].tile, ev[*k].row,
						ev[*k].value);

		if (err)
			return ionpu_error(err,
					   "host: step %zu: cannot queue an input",
					   t);
	}
	return 0;
}

/*
 * Input events are queued one window at a time, as the card's driver feeds
 * a job's (an input's delay on the card is 0..255): when a window of
 * IONPU_FAB_INPUT_WINDOW steps from the run's start begins, every event of
 * its steps is queued, after the spikes earlier windows sent into it and
 * before the ones its own steps send.  The card adds a step's events up in
 * that order, in float, so the order is part of the result.
 */
IONPU_API int ionpu_host_run(struct ionpu_host *h, const float *in,
			     size_t steps, uint8_t *out)
{
	struct run_ctx ctx = { .h = h, .out = out };
	struct ionpu_timed_input *ev = NULL;
	size_t n_out, n_ev = 0, k = 0;
	int err;

	if (!h || (steps && ((!in && h->img->n_in) || (!out && h->img->n_out))))
		return ionpu_error(-EINVAL, "ionpu_host_run: NULL argument");
	n_out = h->img->n_out;
	if (n_out && steps > SIZE_MAX / n_out)
		return ionpu_error(-EOVERFLOW,
				   "ionpu_host_run: %zu steps overflow", steps);
	err = ionpu_feed_raster(h->img, &h->feed, in, steps, &ev, &n_ev);
	if (err)
		return err;
	if (n_out && steps)
		memset(out, 0, steps * n_out);
	ctx.first_step = ionpu_fabric_now(h->fab);
	for (size_t t = 0; t < steps; t++) {
		for (size_t s = 0; s < h->img->n_stateless; s++)
			ionpu_fabric_set_state(h->fab,
					       h->img->stateless[s].tile,
					       h->img->stateless[s].column, 0,
					       0);
		if (t % IONPU_FAB_INPUT_WINDOW == 0) {
			err = queue_window(h, ev, n_ev, &k, t);
			if (err)
				goto out;
		}
		err = ionpu_fabric_run(h->fab, 1, n_out ? on_spike : NULL, &ctx,
				       NULL);
		if (err) {
			err = ionpu_error(err, "host: step %zu: spikes lost",
					  t);
			goto out;
		}
	}
out:
	free(ev);
	return err;
}

struct ionpu_fabric *ionpu_host_fabric(struct ionpu_host *h)
{
	return h->fab;
}

struct ionpu_image *ionpu_host_image(struct ionpu_host *h)
{
	return h->img;
}
