/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A host for the model core in unit tests: a byte array as host memory
 * behind the DMA callbacks, a record of MSI-X messages and armed timers,
 * and the driver's side of the three rings.  Included by the
 * test_core_queue and test_core_cmd programs (after <cmocka.h>).
 */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_core.h"
#include "ionpu_fabric.h"
#include "ionpu_queue.h"

/* Bus address of host memory byte 0, and the layout the tests use. */
#define MEM_BASE	0x100000000ULL
#define MEM_SIZE	(2u << 20)
#define SQ_OFF		0x000000u
#define CQ_OFF		0x040000u
#define EQ_OFF		0x050000u
#define IN_OFF		0x080000u
#define OUT_OFF		0x100000u
#define BUS(off)	(MEM_BASE + (off))
/* An address no DMA can reach. */
#define BAD_BUS		0x7000000000ULL
/* Work calls before a test decides the card has hung. */
#define MAX_WORK	100000

struct fake_host {
	struct ionpu_core *core;
	uint8_t *mem;
	unsigned int sent[IONPU_NUM_VECTORS];
	unsigned int armed[IONPU_NUM_VECTORS];
	uint64_t armed_ns[IONPU_NUM_VECTORS];
	/* The driver's view of the rings. */
	uint32_t sq_size, cq_size, eq_size;
	uint32_t sq_tail, cq_head, eq_head;
	uint8_t cq_phase, eq_phase;
};

struct sqe {
	uint8_t op, flags;
	uint16_t cid, tile, rsvd;
	uint64_t in_addr, out_addr;
	uint32_t in_len, out_len;
	uint32_t p[IONPU_SQE_PARAMS];
};

struct cqe {
	uint64_t result;
	uint16_t sq_head, cid, code;
	uint8_t phase;
};

struct eqe {
	uint32_t timestep;
	uint16_t neuron;
	uint8_t tile, flags;
};

static inline int fake_range(uint64_t addr, size_t len)
{
	return addr >= MEM_BASE && len <= MEM_SIZE &&
	       addr - MEM_BASE <= MEM_SIZE - len;
}

static inline int fake_dma_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct fake_host *h = opaque;

	if (!fake_range(addr, len))
		return -EFAULT;
	memcpy(buf, h->mem + (addr - MEM_BASE), len);
	return 0;
}

static inline int fake_dma_write(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct fake_host *h = opaque;

	if (!fake_range(addr, len))
		return -EFAULT;
	memcpy(h->mem + (addr - MEM_BASE), buf, len);
	return 0;
}

static inline void fake_notify(void *opaque, unsigned int vector)
{
	struct fake_host *h = opaque;

	assert_true(vector < IONPU_NUM_VECTORS);
	h->sent[vector]++;
}

static inline void fake_arm_timer(void *opaque, unsigned int vector,
			   uint64_t delay_ns)
{
	struct fake_host *h = opaque;

	assert_true(vector < IONPU_NUM_VECTORS);
	h->armed[vector]++;
	h->armed_ns[vector] = delay_ns;
}

static const struct ionpu_host_ops fake_ops = {
	.notify = fake_notify,
	.dma_read = fake_dma_read,
	.dma_write = fake_dma_write,
	.arm_timer = fake_arm_timer,
};

static inline struct fake_host *host_new_cfg(const struct ionpu_config *cfg)
{
	struct fake_host *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->mem = calloc(1, MEM_SIZE);
	assert_non_null(h->mem);
	assert_int_equal(ionpu_core_new(cfg, &fake_ops, h, &h->core, NULL), 0);
	return h;
}

static inline struct fake_host *host_new(unsigned int tiles, bool faults)
{
	const struct ionpu_config cfg = { .tiles = tiles, .faults = faults };

	return host_new_cfg(&cfg);
}

static inline void host_free(struct fake_host *h)
{
	ionpu_core_free(h->core);
	free(h->mem);
	free(h);
}

static inline uint32_t rd(struct fake_host *h, uint64_t off)
{
	return ionpu_core_read(h->core, off, 4);
}

static inline void wr(struct fake_host *h, uint64_t off, uint32_t val)
{
	ionpu_core_write(h->core, off, val, 4);
}

/* Program and enable the rings; the rings' memory is zeroed first. */
static inline void host_queues(struct fake_host *h, uint32_t sq, uint32_t cq,
			uint32_t eq)
{
	memset(h->mem + SQ_OFF, 0, IN_OFF - SQ_OFF);
	wr(h, IONPU_REG_SQ_BASE_LO, (uint32_t)BUS(SQ_OFF));
	wr(h, IONPU_REG_SQ_BASE_HI, (uint32_t)(BUS(SQ_OFF) >> 32));
	wr(h, IONPU_REG_SQ_SIZE, sq);
	wr(h, IONPU_REG_CQ_BASE_LO, (uint32_t)BUS(CQ_OFF));
	wr(h, IONPU_REG_CQ_BASE_HI, (uint32_t)(BUS(CQ_OFF) >> 32));
	wr(h, IONPU_REG_CQ_SIZE, cq);
	wr(h, IONPU_REG_EQ_BASE_LO, (uint32_t)BUS(EQ_OFF));
	wr(h, IONPU_REG_EQ_BASE_HI, (uint32_t)(BUS(EQ_OFF) >> 32));
	wr(h, IONPU_REG_EQ_SIZE, eq);
	wr(h, IONPU_REG_QUEUE_CONTROL, IONPU_QUEUE_ENABLE);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_STATUS), IONPU_QUEUE_ENABLED);
	h->sq_size = sq;
	h->cq_size = cq;
	h->eq_size = eq;
	h->sq_tail = h->cq_head = h->eq_head = 0;
	h->cq_phase = h->eq_phase = 1;
}

/* The ring entries and payloads the tests place in host memory. */
#define HOST_AT(h, off, type)	((type *)(void *)((h)->mem + (off)))

/* Write @s at the SQ tail and ring the doorbell. */
static inline void submit(struct fake_host *h, const struct sqe *s)
{
	struct ionpu_hw_sqe *e = HOST_AT(h, SQ_OFF, struct ionpu_hw_sqe) +
				 h->sq_tail;

	*e = (struct ionpu_hw_sqe){
		.opcode = s->op,
		.flags = s->flags,
		.cid = ionpu_cpu_to_le16(s->cid),
		.tile = ionpu_cpu_to_le16(s->tile),
		.rsvd = ionpu_cpu_to_le16(s->rsvd),
		.in_addr = ionpu_cpu_to_le64(s->in_addr),
		.in_len = ionpu_cpu_to_le32(s->in_len),
		.out_len = ionpu_cpu_to_le32(s->out_len),
		.out_addr = ionpu_cpu_to_le64(s->out_addr),
	};
	for (unsigned int i = 0; i < IONPU_SQE_PARAMS; i++)
		e->param[i] = ionpu_cpu_to_le32(s->p[i]);
	h->sq_tail = (h->sq_tail + 1) % h->sq_size;
	wr(h, IONPU_REG_SQ_TAIL_DB, h->sq_tail);
}

/* Let the card work until it has nothing ready; it must get there. */
static inline void work(struct fake_host *h)
{
	unsigned int n = 0;

	while (ionpu_core_work(h->core))
		assert_true(++n < MAX_WORK);
}

/* Take the next completion, if the card wrote one: 1, else 0. */
static inline int reap(struct fake_host *h, struct cqe *c)
{
	const struct ionpu_hw_cqe *e = HOST_AT(h, CQ_OFF, struct ionpu_hw_cqe) +
				       h->cq_head;
	uint16_t status = ionpu_le16_to_cpu(e->status);

	if ((status & IONPU_CQE_PHASE) != h->cq_phase)
		return 0;
	c->result = ionpu_le64_to_cpu(e->result);
	c->sq_head = ionpu_le16_to_cpu(e->sq_head);
	c->cid = ionpu_le16_to_cpu(e->cid);
	c->code = IONPU_CQE_CODE(status);
	c->phase = status & IONPU_CQE_PHASE;
	h->cq_head = (h->cq_head + 1) % h->cq_size;
	if (!h->cq_head)
		h->cq_phase ^= 1;
	wr(h, IONPU_REG_CQ_HEAD_DB, h->cq_head);
	return 1;
}

static inline int reap_event(struct fake_host *h, struct eqe *ev)
{
	const struct ionpu_hw_eqe *e = HOST_AT(h, EQ_OFF, struct ionpu_hw_eqe) +
				       h->eq_head;

	if ((e->flags & IONPU_EQE_PHASE) != h->eq_phase)
		return 0;
	ev->timestep = ionpu_le32_to_cpu(e->timestep);
	ev->neuron = ionpu_le16_to_cpu(e->neuron);
	ev->tile = e->tile;
	ev->flags = e->flags;
	h->eq_head = (h->eq_head + 1) % h->eq_size;
	if (!h->eq_head)
		h->eq_phase ^= 1;
	wr(h, IONPU_REG_EQ_HEAD_DB, h->eq_head);
	return 1;
}

/* Submit @s, let the card work, return its completion (the only one). */
static inline struct cqe run_cmd(struct fake_host *h, const struct sqe *s)
{
	struct cqe c;

	submit(h, s);
	work(h);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, s->cid);
	return c;
}

/*
 * Make neuron @n of tile 0 an ideal IF neuron (dt 1, threshold 1) whose
 * spikes go to the host, and, with @self, back to its own row @n so that
 * one input keeps it firing every timestep.  Row @n feeds it through a
 * G+ at G_MAX: an input of 1 gives it 100 levels of current.
 */
static inline void make_spiker(struct fake_host *h, unsigned int n, bool self)
{
	struct ionpu_hw_route_header *route;
	struct sqe s = {
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 1,
		.in_addr = BUS(IN_OFF), .in_len = sizeof(struct ionpu_hw_neuron),
		.p = { IONPU_FAB_IDEAL, IONPU_FAB_IF, ionpu_f32_to_bits(1.0f),
		       ionpu_f32_to_bits(1.0f / IONPU_FAB_G_STEP), n, 0x1 },
	};

	*HOST_AT(h, IN_OFF, struct ionpu_hw_neuron) = (struct ionpu_hw_neuron){
		.tau = ionpu_f32_to_le32(1e-3f),
		.tau_syn = ionpu_f32_to_le32(1e-3f),
		.r = ionpu_f32_to_le32(1),
		.v_threshold = ionpu_f32_to_le32(1),
		.w_in = ionpu_f32_to_le32(1),
	};
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);

	*HOST_AT(h, IN_OFF, struct ionpu_hw_prog_entry) =
		(struct ionpu_hw_prog_entry){
			.row = ionpu_cpu_to_le16((uint16_t)n),
			.column = ionpu_cpu_to_le16((uint16_t)n),
			.budget = ionpu_cpu_to_le16(1),
			.target = ionpu_f32_to_le32(IONPU_FAB_G_MAX),
		};
	s = (struct sqe){
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 2,
		.in_addr = BUS(IN_OFF),
		.in_len = sizeof(struct ionpu_hw_prog_entry),
		.out_addr = BUS(OUT_OFF),
		.out_len = sizeof(struct ionpu_hw_prog_result),
	};
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);

	route = HOST_AT(h, IN_OFF, struct ionpu_hw_route_header);
	*route = (struct ionpu_hw_route_header){
		.neuron = ionpu_cpu_to_le16((uint16_t)n),
		.flags = IONPU_ROUTE_FLAG_TO_HOST,
		.targets = ionpu_cpu_to_le16(self ? 1 : 0),
	};
	*(struct ionpu_hw_route_target *)(void *)(route + 1) =
		(struct ionpu_hw_route_target){
			.row = ionpu_cpu_to_le16((uint16_t)n),
		};
	s = (struct sqe){
		.op = IONPU_OP_LOAD_ROUTES, .cid = 3, .in_addr = BUS(IN_OFF),
		.in_len = sizeof(*route) +
			  (self ? sizeof(struct ionpu_hw_route_target) : 0),
		.p = { 1 },
	};
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
}

/* Queue one input of value 1 on row @row of tile 0, @delay steps ahead. */
static inline void input_spike(struct fake_host *h, unsigned int row,
			unsigned int delay)
{
	const struct sqe s = {
		.op = IONPU_OP_INPUT_SPIKES, .cid = 4, .in_addr = BUS(IN_OFF),
		.in_len = sizeof(struct ionpu_hw_spike_entry),
	};

	*HOST_AT(h, IN_OFF, struct ionpu_hw_spike_entry) =
		(struct ionpu_hw_spike_entry){
			.row = ionpu_cpu_to_le16((uint16_t)row),
			.delay = (uint8_t)delay,
			.value = ionpu_f32_to_le32(1.0f),
		};
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
}

#endif /* FAKE_HOST_H */
