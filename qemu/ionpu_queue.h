/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 host interface transport: DMA to host memory and the three rings
 * in it (submission, completion, output-spike events), as
 * docs/hardware.md "Queues" specifies them.  No command semantics here.
 */
#ifndef IONPU_QUEUE_H
#define IONPU_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/ionpu_le.h"
#include "hw/ionpu_regs.h"
#include "hw/ionpu_wire.h"

/* Moves bytes between the card and host memory; 0 or a negative errno. */
typedef int (*ionpu_dma_fn)(void *opaque, uint64_t addr, void *buf, size_t len);

struct ionpu_dma {
	ionpu_dma_fn read;  /* host memory -> card */
	ionpu_dma_fn write; /* card -> host memory */
	void *opaque;
	/* Fault injection: the next transfer fails without touching memory. */
	bool fail_next;
};

int ionpu_dma_read(struct ionpu_dma *dma, uint64_t addr, void *buf, size_t len);
int ionpu_dma_write(struct ionpu_dma *dma, uint64_t addr, const void *buf,
		    size_t len);

/*
 * One ring.  The card consumes the submission ring (host moves tail) and
 * produces the other two (host moves head); a ring of size N holds N - 1
 * entries so that full and empty differ.
 */
struct ionpu_ring {
	uint64_t base;
	uint32_t size; /* entries, as programmed; 0: absent */
	uint32_t head;
	uint32_t tail;
	uint8_t phase; /* producer rings: phase of the next entry */
};

/* Interrupt coalescing of one queue vector (CQ or EQ). */
struct ionpu_coalesce {
	uint32_t setting; /* the COALESCE_* register */
	uint32_t pending; /* entries posted and not signalled yet */
	bool timer_armed;
};

/* What ionpu_coalesce_posted() asks of the caller. */
enum ionpu_coalesce_action {
	IONPU_COALESCE_WAIT,   /* nothing yet */
	IONPU_COALESCE_ARM,    /* start the timer: TIME_US of the setting */
	IONPU_COALESCE_SIGNAL, /* raise the cause now */
};

struct ionpu_queues {
	bool enabled;
	struct ionpu_ring sq, cq, eq;
	uint32_t eq_dropped; /* EQ_DROPPED register */
	bool eq_lost;	     /* the next event carries IONPU_EQE_LOST */
	struct ionpu_coalesce cq_co, eq_co;
};

/* A completion before it is written. */
struct ionpu_cqe {
	uint64_t result;
	uint16_t cid;
	uint16_t code; /* IONPU_SC_* */
};

/* Back to the reset state: disabled, nothing programmed. */
void ionpu_queues_reset(struct ionpu_queues *q);

/*
 * QUEUE_CONTROL.ENABLE written as 1: check the programmed bases and sizes
 * and start at position 0, phase 1.  Returns 0, or -EINVAL with *@bad_reg
 * the offset of the first register that holds a bad value.
 */
int ionpu_queues_enable(struct ionpu_queues *q, uint32_t *bad_reg);
/* QUEUE_CONTROL.ENABLE written as 0: forget ring positions. */
void ionpu_queues_disable(struct ionpu_queues *q);

/* Doorbells: 0, or -EINVAL when the value is out of range (ignored). */
int ionpu_sq_doorbell(struct ionpu_queues *q, uint32_t tail);
int ionpu_cq_doorbell(struct ionpu_queues *q, uint32_t head);
int ionpu_eq_doorbell(struct ionpu_queues *q, uint32_t head);

bool ionpu_sq_empty(const struct ionpu_queues *q);
bool ionpu_cq_full(const struct ionpu_queues *q);

/*
 * Take the command at the SQ head into @sqe and advance the head.  The
 * caller checks that the SQ is not empty.  Returns 0, or the DMA error: the
 * slot is consumed either way.
 */
int ionpu_sq_fetch(struct ionpu_queues *q, struct ionpu_dma *dma,
		   struct ionpu_hw_sqe *sqe);

/*
 * Write @cqe at the CQ tail with the current phase and advance.  The caller
 * checks that the CQ is not full.  @corrupt: fault injection, the entry
 * carries ~cid and status code 0x7fff.  Returns 0 or the DMA error (the
 * tail does not move then).
 */
int ionpu_cq_post(struct ionpu_queues *q, struct ionpu_dma *dma,
		  const struct ionpu_cqe *cqe, bool corrupt);

/*
 * Write one output-spike event.  Returns 1 when it was written, 0 when
 * the ring is absent or full (the event is dropped and counted), or the DMA
 * error.
 */
int ionpu_eq_post(struct ionpu_queues *q, struct ionpu_dma *dma,
		  uint32_t timestep, unsigned int tile, unsigned int neuron);

/* @n entries were posted: what the interrupt logic does now. */
enum ionpu_coalesce_action ionpu_coalesce_posted(struct ionpu_coalesce *co,
						 uint32_t n);
/*
 * Signal whatever is pending (idle, run end, timer expiry).  Returns
 * whether there was anything, i.e. whether the cause is raised.
 */
bool ionpu_coalesce_flush(struct ionpu_coalesce *co);

#endif /* IONPU_QUEUE_H */
