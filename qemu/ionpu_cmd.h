/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 command layer: decode, validate and execute the commands of
 * docs/hardware.md "Commands" on the compute fabric.  It owns the run in
 * progress; rings, registers and interrupts belong to its caller.
 */
#ifndef IONPU_CMD_H
#define IONPU_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "ionpu_fabric.h"
#include "ionpu_queue.h"

/* What the card tells IDENTIFY besides what the fabric knows. */
struct ionpu_cmd_identity {
	uint32_t version;
	uint32_t caps;
	uint64_t seed;
	char serial[16]; /* NUL padded, not terminated */
};

struct ionpu_cmd_card {
	struct ionpu_fabric *fabric;
	struct ionpu_dma *dma;
	struct ionpu_queues *q; /* output spikes go to its event ring */
	struct ionpu_cmd_identity id;
	/* Non-volatile store file, NULL for none. */
	const char *nvstore;

	/* The RUN in progress. */
	bool running;
	uint16_t run_cid;
	uint64_t run_left; /* UINT64_MAX: until STOP */
	uint64_t run_done;
	/* A DMA error while posting events, reported once per timestep. */
	int event_error;
	/* Events written to the ring by the last ionpu_cmd_step(). */
	uint32_t events_posted;
};

/* One command's effect, for the caller to publish. */
struct ionpu_cmd_outcome {
	/* Completions to post, in order: a stopped RUN's comes first. */
	struct ionpu_cqe cqe[2];
	unsigned int ncqe;
	/* IONPU_ERR_* to signal on the error vector, 0 for none. */
	uint32_t error;
	uint32_t error_info;
};

/* Forget the run in progress (reset, queues disabled). */
void ionpu_cmd_reset(struct ionpu_cmd_card *card);

/* Execute the fetched command @sqe; never fails, the outcome says how. */
void ionpu_cmd_execute(struct ionpu_cmd_card *card,
		       const struct ionpu_hw_sqe *sqe,
		       struct ionpu_cmd_outcome *out);

/*
 * Run one timestep of the RUN in progress, posting its output spikes.
 * When the RUN ends, @out holds its completion.
 */
void ionpu_cmd_step(struct ionpu_cmd_card *card, struct ionpu_cmd_outcome *out);

#endif /* IONPU_CMD_H */
