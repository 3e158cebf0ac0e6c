/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Jobs of the network of ionpu_net.h, for the selftests of IONPU_IOC_JOB
 * and of its io_uring submission.
 */
#ifndef IONPU_JOB_H
#define IONPU_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/ionpu.h>

#include "ionpu_net.h"

/* Room for every event of the network, and one to spare. */
#define JOB_ROOM	(NET_EVENTS + 1)

/*
 * The inputs ionpu_net.h's network knows the output of: row 0 of @tile in
 * timesteps @t and @t + 1.  Fills @in (two entries).
 */
static inline void job_net_inputs(struct ionpu_job_input *in,
				  unsigned int tile, unsigned int t)
{
	for (unsigned int i = 0; i < 2; i++)
		in[i] = (struct ionpu_job_input) {
			.timestep = t + i, .value = ionpu_f32_to_bits(1.0f),
			.row = 0, .tile = tile,
		};
}

/* A job of NET_STEPS timesteps with @in_count inputs at @in, output at @out. */
static inline struct ionpu_job job_of(struct ionpu_job_input *in,
				      unsigned int in_count,
				      struct ionpu_event *out,
				      unsigned int out_room)
{
	return (struct ionpu_job) {
		.timesteps = NET_STEPS,
		.in_count = in_count, .inputs = (uintptr_t)in,
		.out_room = out_room, .outputs = (uintptr_t)out,
	};
}

/*
 * Whether the @n events at @ev are what the network makes of
 * job_net_inputs(@t) on @tile: net_expected, @t timesteps later.
 */
static inline bool job_is_net_output(const struct ionpu_event *ev,
				     unsigned int n, unsigned int tile,
				     unsigned int t)
{
	if (n != NET_EVENTS)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if (ev[i].timestep != t + net_expected[i].step ||
		    ev[i].neuron != net_expected[i].neuron ||
		    ev[i].tile != tile || ev[i].flags)
			return false;
	return true;
}

#endif /* IONPU_JOB_H */
