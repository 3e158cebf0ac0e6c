// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Running a loaded network: an input raster becomes one job's input events
 * (lib/ionpu_raster.c, in the order the host reference feeds them), the
 * job's output events become the output raster.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ionpu.h>

#include "ionpu_job.h"

/* The output an event of the card's is a spike of; -1 for none. */
static int32_t output_of(const struct ionpu_loaded *n,
			 const struct ionpu_event *e)
{
	int32_t t;

	if (e->tile >= IONPU_FAB_MAX_TILES || e->neuron >= IONPU_FAB_NEURONS)
		return -1;
	t = n->plan_tile[e->tile];
	if (t < 0)
		return -1;
	return n->img->out_index[(size_t)t * IONPU_FAB_NEURONS + e->neuron];
}

int ionpu_loaded_events_to_raster(const struct ionpu_loaded *n,
				  const struct ionpu_event *ev, size_t count,
				  size_t steps, uint8_t *out)
{
	size_t n_out = n->img->n_out;

	if (n_out && steps)
		memset(out, 0, steps * n_out);
	for (size_t k = 0; k < count; k++) {
		int32_t j = output_of(n, &ev[k]);

		if (ev[k].flags & IONPU_EVENT_LOST)
			return ionpu_error(-ENOBUFS,
					   "run: the card lost output spikes");
		if (j < 0 || ev[k].timestep >= steps)
			return ionpu_error(-EPROTO,
					   "run: the card reports a spike of neuron %u of tile %u in step %u, not one of the network's",
					   ev[k].neuron, ev[k].tile,
					   ev[k].timestep);
		out[(size_t)ev[k].timestep * n_out + (size_t)j] = 1;
	}
	return 0;
}

void ionpu_job_free(struct ionpu_job_buf *b)
{
	free(b->inputs);
	free(b->outputs);
	b->inputs = NULL;
	b->outputs = NULL;
}

int ionpu_job_prepare(struct ionpu_loaded *n, const float *in, size_t steps,
		      uint32_t flags, struct ionpu_job_buf *b)
{
	struct ionpu_timed_input *ev = NULL;
	size_t n_ev = 0, room;
	int err;

	memset(b, 0, sizeof(*b));
	if (flags & ~IONPU_RUN_KEEP_STATE)
		return ionpu_error(-EINVAL, "run: unknown flags 0x%x", flags);
	if (!steps || steps > IONPU_JOB_MAX_TIMESTEPS)
		return ionpu_error(-EINVAL,
				   "run: %zu steps; a job runs 1 to %u", steps,
				   IONPU_JOB_MAX_TIMESTEPS);
	if (!in && n->img->n_in)
		return ionpu_error(-EINVAL, "run: NULL raster");
	if (!(flags & IONPU_RUN_KEEP_STATE))
		ionpu_feed_clear(&n->feed);
	err = ionpu_feed_raster(n->img, &n->feed, in, steps, &ev, &n_ev);
	if (err)
		return err;
	if (n_ev > IONPU_JOB_MAX_INPUTS) {
		free(ev);
		return ionpu_error(-E2BIG,
				   "run: %zu input events; a job takes %u: run it in pieces",
				   n_ev, IONPU_JOB_MAX_INPUTS);
	}
	room = n->img->n_out && steps > IONPU_JOB_MAX_OUTPUTS / n->img->n_out ?
		       IONPU_JOB_MAX_OUTPUTS :
		       steps * n->img->n_out;
	b->inputs = malloc((n_ev ? n_ev : 1) * sizeof(*b->inputs));
	b->outputs = malloc((room ? room : 1) * sizeof(*b->outputs));
	if (!b->inputs || !b->outputs) {
		free(ev);
		ionpu_job_free(b);
		return ionpu_error(-ENOMEM, "run: out of memory");
	}
	for (size_t k = 0; k < n_ev; k++)
		b->inputs[k] = (struct ionpu_job_input){
			.timestep = ev[k].step,
			.value = ionpu_f32_bits(ev[k].value),
			.row = ev[k].row,
			.tile = (uint8_t)n->card_tile[ev[k].tile],
		};
	free(ev);
	b->steps = steps;
	b->job = (struct ionpu_job){
		.flags = flags & IONPU_RUN_KEEP_STATE ? IONPU_JOB_KEEP_STATE :
							0,
		.timesteps = (uint32_t)steps,
		.in_count = (uint32_t)n_ev,
		.out_room = (uint32_t)room,
		.inputs = (uintptr_t)b->inputs,
		.outputs = (uintptr_t)b->outputs,
	};
	return 0;
}

int ionpu_job_finish(const struct ionpu_loaded *n,
		     const struct ionpu_job_buf *b, uint8_t *out)
{
	if (b->job.produced > b->job.out_room)
		return ionpu_error(-ENOBUFS,
				   "run: %u output spikes; a job keeps %u: run it in pieces",
				   b->job.produced, b->job.out_room);
	return ionpu_loaded_events_to_raster(n, b->outputs, b->job.produced,
					     b->steps, out);
}

IONPU_API int ionpu_loaded_run(struct ionpu_loaded *n, const float *in,
			       size_t steps, uint32_t flags, uint8_t *out)
{
	struct ionpu_job_buf b;
	int err;

	if (!n || (!out && n->img->n_out))
		return ionpu_error(-EINVAL, "ionpu_loaded_run: NULL argument");
	err = ionpu_job_prepare(n, in, steps, flags, &b);
	if (err)
		return err;
	err = ionpu_ioctl(n->fd, IONPU_IOC_JOB, &b.job);
	/*
	 * A reset of the card, caused by anyone, cleared the tiles: set them
	 * up again and run once more, unless the run was to go on from a
	 * state the reset lost.
	 */
	if (err && !(flags & IONPU_RUN_KEEP_STATE) &&
	    ionpu_loaded_was_reset(n, err)) {
		err = ionpu_loaded_restore(n);
		if (err) {
			ionpu_job_free(&b);
			return err;
		}
		b.job.produced = 0;
		err = ionpu_ioctl(n->fd, IONPU_IOC_JOB, &b.job);
	}
	if (err)
		err = ionpu_error_errno(err, "run: IONPU_IOC_JOB");
	else
		err = ionpu_job_finish(n, &b, out);
	ionpu_job_free(&b);
	return err;
}
