// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IONPU-1 host interface transport: DMA and the submission, completion and
 * event rings (docs/hardware.md "Queues").
 */
#include "ionpu_queue.h"

#include <errno.h>
#include <string.h>

int ionpu_dma_read(struct ionpu_dma *dma, uint64_t addr, void *buf, size_t len)
{
	if (dma->fail_next) {
		dma->fail_next = false;
		return -EIO;
	}
	return dma->read(dma->opaque, addr, buf, len);
}

int ionpu_dma_write(struct ionpu_dma *dma, uint64_t addr, const void *buf,
		    size_t len)
{
	if (dma->fail_next) {
		dma->fail_next = false;
		return -EIO;
	}
	/* The callback type is shared with reads, which fill the buffer. */
	return dma->write(dma->opaque, addr, (void *)buf, len);
}

void ionpu_queues_reset(struct ionpu_queues *q)
{
	memset(q, 0, sizeof(*q));
}

static bool size_ok(uint32_t size, uint32_t max)
{
	return size >= IONPU_QUEUE_MIN_ENTRIES && size <= max &&
	       (size & (size - 1)) == 0;
}

static void ring_start(struct ionpu_ring *r)
{
	r->head = 0;
	r->tail = 0;
	r->phase = 1;
}

int ionpu_queues_enable(struct ionpu_queues *q, uint32_t *bad_reg)
{
	uint32_t bad = 0;

	if (q->sq.base % IONPU_ALIGN_QUEUE)
		bad = IONPU_REG_SQ_BASE_LO;
	else if (!size_ok(q->sq.size, IONPU_SQ_MAX_ENTRIES))
		bad = IONPU_REG_SQ_SIZE;
	else if (q->cq.base % IONPU_ALIGN_QUEUE)
		bad = IONPU_REG_CQ_BASE_LO;
	else if (!size_ok(q->cq.size, IONPU_CQ_MAX_ENTRIES))
		bad = IONPU_REG_CQ_SIZE;
	else if (q->eq.size && q->eq.base % IONPU_ALIGN_QUEUE)
		bad = IONPU_REG_EQ_BASE_LO;
	else if (q->eq.size && !size_ok(q->eq.size, IONPU_EQ_MAX_ENTRIES))
		bad = IONPU_REG_EQ_SIZE;
	if (bad) {
		*bad_reg = bad;
		return -EINVAL;
	}
	ring_start(&q->sq);
	ring_start(&q->cq);
	ring_start(&q->eq);
	q->eq_dropped = 0;
	q->eq_lost = false;
	q->cq_co.pending = 0;
	q->eq_co.pending = 0;
	q->enabled = true;
	return 0;
}

void ionpu_queues_disable(struct ionpu_queues *q)
{
	q->enabled = false;
	ring_start(&q->sq);
	ring_start(&q->cq);
	ring_start(&q->eq);
	q->cq_co.pending = 0;
	q->eq_co.pending = 0;
}

static uint32_t ring_used(const struct ionpu_ring *r)
{
	return (r->tail - r->head) & (r->size - 1);
}

int ionpu_sq_doorbell(struct ionpu_queues *q, uint32_t tail)
{
	if (!q->enabled || tail >= q->sq.size)
		return -EINVAL;
	q->sq.tail = tail;
	return 0;
}

/* The host may only hand back entries the card has written. */
static int consumer_doorbell(const struct ionpu_queues *q, struct ionpu_ring *r,
			     uint32_t head)
{
	if (!q->enabled || !r->size || head >= r->size ||
	    ((head - r->head) & (r->size - 1)) > ring_used(r))
		return -EINVAL;
	r->head = head;
	return 0;
}

int ionpu_cq_doorbell(struct ionpu_queues *q, uint32_t head)
{
	return consumer_doorbell(q, &q->cq, head);
}

int ionpu_eq_doorbell(struct ionpu_queues *q, uint32_t head)
{
	return consumer_doorbell(q, &q->eq, head);
}

bool ionpu_sq_empty(const struct ionpu_queues *q)
{
	return !q->enabled || q->sq.head == q->sq.tail;
}

static bool ring_full(const struct ionpu_ring *r)
{
	return ring_used(r) == r->size - 1;
}

bool ionpu_cq_full(const struct ionpu_queues *q)
{
	return ring_full(&q->cq);
}

static void ring_advance_tail(struct ionpu_ring *r)
{
	r->tail = (r->tail + 1) & (r->size - 1);
	if (!r->tail)
		r->phase ^= 1;
}

int ionpu_sq_fetch(struct ionpu_queues *q, struct ionpu_dma *dma,
		   struct ionpu_hw_sqe *sqe)
{
	uint64_t addr = q->sq.base + (uint64_t)q->sq.head * sizeof(*sqe);

	q->sq.head = (q->sq.head + 1) & (q->sq.size - 1);
	return ionpu_dma_read(dma, addr, sqe, sizeof(*sqe));
}

int ionpu_cq_post(struct ionpu_queues *q, struct ionpu_dma *dma,
		  const struct ionpu_cqe *cqe, bool corrupt)
{
	uint16_t code = corrupt ? 0x7fff : cqe->code;
	const struct ionpu_hw_cqe e = {
		.result = ionpu_cpu_to_le64(cqe->result),
		.sq_head = ionpu_cpu_to_le16((uint16_t)q->sq.head),
		.cid = ionpu_cpu_to_le16(corrupt ? (uint16_t)~cqe->cid :
						   cqe->cid),
		.status =
			ionpu_cpu_to_le16((uint16_t)(code << 1 | q->cq.phase)),
	};
	uint64_t addr = q->cq.base + (uint64_t)q->cq.tail * sizeof(e);
	int ret;

	ret = ionpu_dma_write(dma, addr, &e, sizeof(e));
	if (ret)
		return ret;
	ring_advance_tail(&q->cq);
	return 0;
}

int ionpu_eq_post(struct ionpu_queues *q, struct ionpu_dma *dma,
		  uint32_t timestep, unsigned int tile, unsigned int neuron)
{
	struct ionpu_hw_eqe e;
	uint64_t addr = q->eq.base + (uint64_t)q->eq.tail * sizeof(e);
	int ret;

	if (!q->enabled || !q->eq.size || ring_full(&q->eq)) {
		q->eq_dropped++;
		q->eq_lost = true;
		return 0;
	}
	e = (struct ionpu_hw_eqe){
		.timestep = ionpu_cpu_to_le32(timestep),
		.neuron = ionpu_cpu_to_le16((uint16_t)neuron),
		.tile = (uint8_t)tile,
		.flags = (uint8_t)(q->eq.phase |
				   (q->eq_lost ? IONPU_EQE_LOST : 0)),
	};
	ret = ionpu_dma_write(dma, addr, &e, sizeof(e));
	if (ret)
		return ret;
	q->eq_lost = false;
	ring_advance_tail(&q->eq);
	return 1;
}

enum ionpu_coalesce_action ionpu_coalesce_posted(struct ionpu_coalesce *co,
						 uint32_t n)
{
	uint32_t count = IONPU_COALESCE_COUNT(co->setting);

	if (!n)
		return IONPU_COALESCE_WAIT;
	co->pending += n;
	if (co->pending >= count) {
		co->pending = 0;
		return IONPU_COALESCE_SIGNAL;
	}
	if (IONPU_COALESCE_TIME_US(co->setting) && !co->timer_armed) {
		co->timer_armed = true;
		return IONPU_COALESCE_ARM;
	}
	return IONPU_COALESCE_WAIT;
}

bool ionpu_coalesce_flush(struct ionpu_coalesce *co)
{
	bool any = co->pending != 0;

	co->pending = 0;
	return any;
}
