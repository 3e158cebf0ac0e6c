/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One run of a loaded network as a card job (lib/ionpu_run.c): shared by
 * the synchronous run and the io_uring queue, and by their unit tests.
 */
#ifndef IONPU_JOB_H
#define IONPU_JOB_H

#include <linux/ionpu.h>

#include "ionpu_internal.h"

/* A job and the buffers its addresses point at. */
struct ionpu_job_buf {
	struct ionpu_job job;
	struct ionpu_job_input *inputs;
	struct ionpu_event *outputs;
	size_t steps;
};

/*
 * The job of a run of @steps steps of raster @in with ionpu_loaded_run()'s
 * @flags: the input events through the network's input map onto its card
 * tiles, room for every spike it can make (up to the job's limit).  It
 * takes the feed's pending events (and leaves the ones past its end).
 */
int ionpu_job_prepare(struct ionpu_loaded *n, const float *in, size_t steps,
		      uint32_t flags, struct ionpu_job_buf *b);
/* The finished job's output events as an output raster. */
int ionpu_job_finish(const struct ionpu_loaded *n,
		     const struct ionpu_job_buf *b, uint8_t *out);
void ionpu_job_free(struct ionpu_job_buf *b);

/*
 * Output events (tiles the card's) into an output raster of @steps rows;
 * -EPROTO for an event that is not the network's or out of the steps,
 * -ENOBUFS for a lost one.
 */
int ionpu_loaded_events_to_raster(const struct ionpu_loaded *n,
				  const struct ionpu_event *ev, size_t count,
				  size_t steps, uint8_t *out);

#endif /* IONPU_JOB_H */
