// SPDX-License-Identifier: GPL-2.0-only
/*
 * The card's queues against docs/hardware.md revision 1.1: bring-up,
 * submission and completion wrap-around with phase flips, flow control,
 * doorbell checks, the event ring and its overflow, interrupt coalescing,
 * DMA failures and fault injection.  Host memory is a byte array.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_host.h"

/* STOP with no run: the cheapest command, it completes with result 0. */
static struct sqe stop_cmd(uint16_t cid)
{
	return (struct sqe){ .op = IONPU_OP_STOP, .cid = cid };
}

static void test_caps_and_version(void **state)
{
	struct fake_host *h = host_new(2, true);

	(void)state;
	assert_int_equal(rd(h, IONPU_REG_VERSION), 0x00010005);
	assert_int_equal(rd(h, IONPU_REG_CAPS),
			 IONPU_CAP_FLR | IONPU_CAP_TEST_IRQ | IONPU_CAP_QUEUES |
			 IONPU_CAP_READOUT | IONPU_CAP_FAULTS |
			 IONPU_CAP_TILE_RESET | IONPU_CAP_SGL | IONPU_CAP_LEARN |
			 IONPU_CAP_TILE_COUNTERS);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_STATUS), 0);
	host_free(h);
}

static void expect_refused(struct fake_host *h, uint32_t reg, uint32_t count)
{
	wr(h, IONPU_REG_QUEUE_CONTROL, IONPU_QUEUE_ENABLE);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_STATUS), 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_QUEUE_CONFIG);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), reg);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), count);
	assert_int_equal(h->sent[IONPU_VEC_ERROR], count);
	wr(h, IONPU_REG_INTR_CAUSE, IONPU_INTR_ERROR);
	wr(h, IONPU_REG_QUEUE_CONTROL, 0);
}

static void test_enable_checks(void **state)
{
	struct fake_host *h = host_new(1, false);

	(void)state;
	wr(h, IONPU_REG_INTR_ENABLE, IONPU_INTR_ERROR);
	/* Nothing programmed: the SQ size is the first bad register. */
	expect_refused(h, IONPU_REG_SQ_SIZE, 1);
	wr(h, IONPU_REG_SQ_SIZE, 3);
	expect_refused(h, IONPU_REG_SQ_SIZE, 2);
	wr(h, IONPU_REG_SQ_SIZE, 8192);
	expect_refused(h, IONPU_REG_SQ_SIZE, 3);
	wr(h, IONPU_REG_SQ_SIZE, 8);
	wr(h, IONPU_REG_SQ_BASE_LO, 0x1020);
	expect_refused(h, IONPU_REG_SQ_BASE_LO, 4);
	wr(h, IONPU_REG_SQ_BASE_LO, 0x1000);
	expect_refused(h, IONPU_REG_CQ_SIZE, 5);
	wr(h, IONPU_REG_CQ_SIZE, 1);
	expect_refused(h, IONPU_REG_CQ_SIZE, 6);
	wr(h, IONPU_REG_CQ_SIZE, 2);
	wr(h, IONPU_REG_EQ_SIZE, 6);
	expect_refused(h, IONPU_REG_EQ_SIZE, 7);
	wr(h, IONPU_REG_EQ_SIZE, 4);
	wr(h, IONPU_REG_EQ_BASE_HI, 1);
	wr(h, IONPU_REG_EQ_BASE_LO, 8);
	expect_refused(h, IONPU_REG_EQ_BASE_LO, 8);

	/* Writing ERROR_CODE clears it and its info, not the count. */
	wr(h, IONPU_REG_ERROR_CODE, 0x1234);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 8);

	/* No event ring at all is allowed. */
	wr(h, IONPU_REG_EQ_SIZE, 0);
	wr(h, IONPU_REG_QUEUE_CONTROL, IONPU_QUEUE_ENABLE);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_STATUS), IONPU_QUEUE_ENABLED);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_CONTROL), IONPU_QUEUE_ENABLE);

	/* Configuration holds still while enabled. */
	wr(h, IONPU_REG_SQ_SIZE, 16);
	wr(h, IONPU_REG_CQ_BASE_LO, 0x4000);
	assert_int_equal(rd(h, IONPU_REG_SQ_SIZE), 8);
	assert_int_equal(rd(h, IONPU_REG_SQ_BASE_LO), 0x1000);
	assert_int_equal(rd(h, IONPU_REG_CQ_BASE_LO), 0);
	assert_int_equal(rd(h, IONPU_REG_EQ_BASE_HI), 1);
	host_free(h);
}

/*
 * Ten commands through a 4-entry SQ and a 4-entry CQ, one at a time: both
 * wrap twice, the phase flips at every wrap, sq_head follows.
 */
static void test_wrap_and_phase(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct ionpu_hw_cqe *cq = HOST_AT(h, CQ_OFF, const struct ionpu_hw_cqe);

	(void)state;
	host_queues(h, 4, 4, 0);
	for (unsigned int i = 0; i < 10; i++) {
		const struct sqe s = stop_cmd((uint16_t)(100 + i));
		unsigned int slot = i % 4;
		struct cqe c;

		submit(h, &s);
		work(h);
		assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), (i + 1) % 4);
		assert_int_equal(rd(h, IONPU_REG_CQ_TAIL), (i + 1) % 4);
		/* The entry sits where the ring says, with the pass's phase. */
		assert_int_equal(ionpu_le16_to_cpu(cq[slot].status) &
				 IONPU_CQE_PHASE, (i / 4) % 2 ? 0 : 1);
		assert_int_equal(reap(h, &c), 1);
		assert_int_equal(c.cid, 100 + i);
		assert_int_equal(c.code, IONPU_SC_SUCCESS);
		assert_int_equal(c.result, 0);
		assert_int_equal(c.sq_head, (i + 1) % 4);
		assert_int_equal(reap(h, &c), 0);
	}
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 0);
	host_free(h);
}

/* The card fetches only what the CQ has room for, and resumes after. */
static void test_cq_full_stalls(void **state)
{
	struct fake_host *h = host_new(1, false);
	struct cqe c;

	(void)state;
	host_queues(h, 8, 4, 0);
	for (unsigned int i = 0; i < 5; i++) {
		const struct sqe s = stop_cmd((uint16_t)i);

		submit(h, &s);
	}
	work(h);
	/* A 4-entry CQ holds 3. */
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 3);
	assert_int_equal(rd(h, IONPU_REG_CQ_TAIL), 3);
	assert_false(ionpu_core_work(h->core));
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 0);
	work(h);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 4);
	for (unsigned int i = 1; i < 5; i++) {
		if (!reap(h, &c)) {
			work(h);
			assert_int_equal(reap(h, &c), 1);
		}
		assert_int_equal(c.cid, i);
	}
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 5);
	host_free(h);
}

static void expect_doorbell_error(struct fake_host *h, uint32_t db,
				  uint32_t val, uint32_t count)
{
	wr(h, db, val);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_DOORBELL);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), db << 16 | val);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), count);
}

static void test_doorbell_checks(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct sqe s = stop_cmd(7);
	struct cqe c;

	(void)state;
	/* Disabled queues: every doorbell is an error. */
	expect_doorbell_error(h, IONPU_REG_SQ_TAIL_DB, 1, 1);
	host_queues(h, 4, 4, 4);
	expect_doorbell_error(h, IONPU_REG_SQ_TAIL_DB, 4, 2);
	/* The CQ head cannot pass entries the card has not written. */
	expect_doorbell_error(h, IONPU_REG_CQ_HEAD_DB, 1, 3);
	expect_doorbell_error(h, IONPU_REG_EQ_HEAD_DB, 2, 4);
	expect_doorbell_error(h, IONPU_REG_CQ_HEAD_DB, 9, 5);
	/* Ignored doorbells changed nothing: the queue still works. */
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
	assert_int_equal(reap(h, &c), 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 5);
	host_free(h);
}

static void test_disable_forgets_positions(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct sqe s = stop_cmd(1);

	(void)state;
	host_queues(h, 4, 4, 0);
	run_cmd(h, &s);
	run_cmd(h, &s);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 2);
	wr(h, IONPU_REG_QUEUE_CONTROL, 0);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_STATUS), 0);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 0);
	assert_int_equal(rd(h, IONPU_REG_CQ_TAIL), 0);
	assert_false(ionpu_core_work(h->core));
	host_queues(h, 4, 4, 0);
	assert_int_equal(run_cmd(h, &s).sq_head, 1);
	host_free(h);
}

/* A SQ that DMA cannot reach: each slot completes with cid 0xffff. */
static void test_fetch_dma_error(void **state)
{
	struct fake_host *h = host_new(1, false);
	struct cqe c;

	(void)state;
	host_queues(h, 4, 4, 0);
	wr(h, IONPU_REG_INTR_ENABLE, IONPU_INTR_ERROR | IONPU_INTR_CQ);
	wr(h, IONPU_REG_QUEUE_CONTROL, 0);
	wr(h, IONPU_REG_SQ_BASE_HI, (uint32_t)(BAD_BUS >> 32));
	wr(h, IONPU_REG_QUEUE_CONTROL, IONPU_QUEUE_ENABLE);
	wr(h, IONPU_REG_SQ_TAIL_DB, 1);
	work(h);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, IONPU_CID_UNKNOWN);
	assert_int_equal(c.code, IONPU_SC_DMA_ERROR);
	assert_int_equal(c.sq_head, 1);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_DMA);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), IONPU_CID_UNKNOWN);
	assert_int_equal(h->sent[IONPU_VEC_ERROR], 1);
	assert_int_equal(h->sent[IONPU_VEC_CQ], 1);
	host_free(h);
}

/* A CQ that DMA cannot reach: the completion is lost, the error says. */
static void test_completion_dma_error(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct sqe s = stop_cmd(0x42);

	(void)state;
	wr(h, IONPU_REG_SQ_BASE_HI, (uint32_t)(BUS(SQ_OFF) >> 32));
	wr(h, IONPU_REG_SQ_SIZE, 4);
	wr(h, IONPU_REG_CQ_BASE_HI, (uint32_t)(BAD_BUS >> 32));
	wr(h, IONPU_REG_CQ_SIZE, 4);
	wr(h, IONPU_REG_QUEUE_CONTROL, IONPU_QUEUE_ENABLE);
	h->sq_size = 4;
	submit(h, &s);
	work(h);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 1);
	assert_int_equal(rd(h, IONPU_REG_CQ_TAIL), 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_COMPLETION_LOST);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), 0x42);
	assert_int_equal(rd(h, IONPU_REG_INTR_CAUSE), IONPU_INTR_ERROR);
	host_free(h);
}

/*
 * A neuron that fires every timestep into a 4-entry ring: 3 events fit,
 * the rest are dropped and counted, and the first event after room
 * returns carries LOST.
 */
static void test_event_overflow(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 9, .p = { 10 } };
	const struct sqe count = {
		.op = IONPU_OP_READ_COUNTERS, .cid = 10,
		.out_addr = BUS(OUT_OFF),
		.out_len = sizeof(struct ionpu_hw_counters),
	};
	const struct ionpu_hw_counters *k =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_counters);
	struct cqe c;
	struct eqe ev;

	(void)state;
	host_queues(h, 8, 8, 4);
	make_spiker(h, 5, true);
	input_spike(h, 5, 0);
	c = run_cmd(h, &run);
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, 10);
	for (unsigned int t = 0; t < 3; t++) {
		assert_int_equal(reap_event(h, &ev), 1);
		assert_int_equal(ev.timestep, t);
		assert_int_equal(ev.tile, 0);
		assert_int_equal(ev.neuron, 5);
		assert_int_equal(ev.flags, IONPU_EQE_PHASE);
	}
	assert_int_equal(reap_event(h, &ev), 0);
	assert_int_equal(rd(h, IONPU_REG_EQ_DROPPED), 7);
	assert_int_equal(run_cmd(h, &count).code, IONPU_SC_SUCCESS);
	assert_int_equal(ionpu_le64_to_cpu(k->eq_dropped), 7);
	assert_int_equal(ionpu_le64_to_cpu(k->timesteps), 10);

	/* Room again: timestep 10's event says events were lost before it. */
	c = run_cmd(h, &(struct sqe){ .op = IONPU_OP_RUN, .cid = 11,
				      .p = { 2 } });
	assert_int_equal(c.result, 2);
	assert_int_equal(reap_event(h, &ev), 1);
	assert_int_equal(ev.timestep, 10);
	assert_int_equal(ev.flags, IONPU_EQE_PHASE | IONPU_EQE_LOST);
	/* Then the ring wraps: phase 0 from position 0 on, nothing lost. */
	assert_int_equal(reap_event(h, &ev), 1);
	assert_int_equal(ev.timestep, 11);
	assert_int_equal(ev.flags, 0);
	assert_int_equal(rd(h, IONPU_REG_EQ_DROPPED), 7);
	host_free(h);
}

/* The transport's counting rule on its own. */
static void test_coalesce_rule(void **state)
{
	struct ionpu_coalesce co = { .setting = IONPU_COALESCE(3, 0) };

	(void)state;
	assert_int_equal(ionpu_coalesce_posted(&co, 0), IONPU_COALESCE_WAIT);
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_WAIT);
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_WAIT);
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_SIGNAL);
	assert_false(ionpu_coalesce_flush(&co));
	assert_int_equal(ionpu_coalesce_posted(&co, 2), IONPU_COALESCE_WAIT);
	assert_true(ionpu_coalesce_flush(&co));
	assert_false(ionpu_coalesce_flush(&co));

	co = (struct ionpu_coalesce){ .setting = IONPU_COALESCE(0, 0) };
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_SIGNAL);
	co = (struct ionpu_coalesce){ .setting = IONPU_COALESCE(1, 7) };
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_SIGNAL);

	co = (struct ionpu_coalesce){ .setting = IONPU_COALESCE(4, 20) };
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_ARM);
	assert_true(co.timer_armed);
	assert_int_equal(ionpu_coalesce_posted(&co, 1), IONPU_COALESCE_WAIT);
	assert_int_equal(ionpu_coalesce_posted(&co, 2), IONPU_COALESCE_SIGNAL);
}

/* Output spikes: COUNT events per interrupt, or TIME after the first. */
/* Commands before the run raised CQ: look at the spike cause alone. */
static uint32_t spike_cause(struct fake_host *h)
{
	return rd(h, IONPU_REG_INTR_CAUSE) & IONPU_INTR_SPIKE;
}

static void test_event_coalescing(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 20 };

	(void)state;
	host_queues(h, 8, 8, 64);
	make_spiker(h, 0, true);
	input_spike(h, 0, 0);
	wr(h, IONPU_REG_COALESCE_EQ, IONPU_COALESCE(3, 50));
	assert_int_equal(rd(h, IONPU_REG_COALESCE_EQ), 50u << 16 | 3);
	wr(h, IONPU_REG_INTR_ENABLE, IONPU_INTR_SPIKE);
	submit(h, &run);
	/* The first slice fetches the RUN; each later one is a timestep. */
	assert_true(ionpu_core_work(h->core));
	for (unsigned int t = 1; t <= 2; t++) {
		assert_true(ionpu_core_work(h->core));
		assert_int_equal(rd(h, IONPU_REG_EQ_TAIL), t);
		assert_int_equal(spike_cause(h), 0);
	}
	/* The first event armed the timer, once. */
	assert_int_equal(h->armed[IONPU_VEC_SPIKE], 1);
	assert_int_equal(h->armed_ns[IONPU_VEC_SPIKE], 50000);
	assert_true(ionpu_core_work(h->core));
	assert_int_equal(spike_cause(h), IONPU_INTR_SPIKE);
	assert_int_equal(h->sent[IONPU_VEC_SPIKE], 1);

	/* One more event, then the timer: it is signalled without COUNT. */
	wr(h, IONPU_REG_INTR_CAUSE, IONPU_INTR_SPIKE);
	assert_true(ionpu_core_work(h->core));
	assert_int_equal(spike_cause(h), 0);
	ionpu_core_timer(h->core, IONPU_VEC_SPIKE);
	assert_int_equal(spike_cause(h), IONPU_INTR_SPIKE);
	assert_int_equal(h->sent[IONPU_VEC_SPIKE], 2);
	/* An expiry with nothing pending signals nothing. */
	wr(h, IONPU_REG_INTR_CAUSE, IONPU_INTR_SPIKE);
	ionpu_core_timer(h->core, IONPU_VEC_SPIKE);
	assert_int_equal(spike_cause(h), 0);
	assert_int_equal(h->armed[IONPU_VEC_SPIKE], 1);

	/* A run's end, by STOP too, flushes what is pending. */
	assert_true(ionpu_core_work(h->core));
	assert_int_equal(h->armed[IONPU_VEC_SPIKE], 2);
	assert_int_equal(spike_cause(h), 0);
	submit(h, &(struct sqe){ .op = IONPU_OP_STOP, .cid = 21 });
	work(h);
	assert_int_equal(spike_cause(h), IONPU_INTR_SPIKE);
	host_free(h);
}

/*
 * Completions: COUNT holds the interrupt back while the card still has
 * commands to fetch, and an idle card flushes.
 */
static void test_completion_coalescing(void **state)
{
	struct fake_host *h = host_new(1, false);
	uint32_t head;

	(void)state;
	host_queues(h, 64, 64, 0);
	wr(h, IONPU_REG_COALESCE_CQ, IONPU_COALESCE(60, 100));
	wr(h, IONPU_REG_INTR_ENABLE, IONPU_INTR_CQ);
	for (unsigned int i = 0; i < 40; i++) {
		const struct sqe s = stop_cmd((uint16_t)i);

		submit(h, &s);
	}
	/* The card works in bounded slices: the first leaves some over. */
	assert_true(ionpu_core_work(h->core));
	head = rd(h, IONPU_REG_SQ_HEAD);
	assert_true(head > 0 && head < 40);
	assert_int_equal(rd(h, IONPU_REG_INTR_CAUSE), 0);
	assert_int_equal(h->armed[IONPU_VEC_CQ], 1);
	assert_int_equal(h->armed_ns[IONPU_VEC_CQ], 100000);
	work(h);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 40);
	assert_int_equal(rd(h, IONPU_REG_INTR_CAUSE), IONPU_INTR_CQ);
	assert_int_equal(h->sent[IONPU_VEC_CQ], 1);

	/* COUNT 2 over 40 fetches: the cause rises while the card works. */
	for (unsigned int i = 0; i < 40; i++) {
		struct cqe c;

		assert_int_equal(reap(h, &c), 1);
	}
	wr(h, IONPU_REG_INTR_CAUSE, IONPU_INTR_CQ);
	wr(h, IONPU_REG_COALESCE_CQ, IONPU_COALESCE(2, 0));
	for (unsigned int i = 0; i < 40; i++) {
		const struct sqe s = stop_cmd((uint16_t)i);

		submit(h, &s);
	}
	assert_true(ionpu_core_work(h->core));
	assert_int_equal(rd(h, IONPU_REG_INTR_CAUSE), IONPU_INTR_CQ);
	assert_int_equal(h->armed[IONPU_VEC_CQ], 1);
	host_free(h);
}

static void test_faults_absent(void **state)
{
	struct fake_host *h = host_new(1, false);
	const struct sqe s = stop_cmd(3);

	(void)state;
	host_queues(h, 4, 4, 0);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_HANG);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_SPURIOUS_IRQ);
	assert_int_equal(h->sent[0] + h->sent[1] + h->sent[2], 0);
	host_free(h);
}

static void test_fault_hang(void **state)
{
	struct fake_host *h = host_new(1, true);
	const struct sqe s = stop_cmd(3);
	struct cqe c;

	(void)state;
	host_queues(h, 4, 4, 0);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_HANG);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), IONPU_FAULT_HANG);
	/* Disarming does not end a hang. */
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_NONE);
	submit(h, &s);
	assert_false(ionpu_core_work(h->core));
	assert_int_equal(reap(h, &c), 0);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 0);
	/* Registers still answer, and report nothing. */
	assert_int_equal(rd(h, IONPU_REG_STATUS), IONPU_STATUS_READY);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), 0);

	wr(h, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	assert_int_equal(rd(h, IONPU_REG_QUEUE_STATUS), 0);
	host_queues(h, 4, 4, 0);
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
	host_free(h);
}

static void test_fault_dma_error(void **state)
{
	struct fake_host *h = host_new(1, true);
	const struct sqe s = stop_cmd(3);
	struct cqe c;

	(void)state;
	host_queues(h, 4, 4, 0);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_DMA_ERROR);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), IONPU_FAULT_DMA_ERROR);
	submit(h, &s);
	work(h);
	/* The next transfer was the fetch. */
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, IONPU_CID_UNKNOWN);
	assert_int_equal(c.code, IONPU_SC_DMA_ERROR);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_DMA);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
	host_free(h);
}

/* The completion of 5 is not written; the error names it; 6 completes. */
static void test_fault_lost_completion(void **state)
{
	struct fake_host *h = host_new(1, true);
	const struct sqe lost = stop_cmd(5), next = stop_cmd(6);
	struct cqe c;

	(void)state;
	host_queues(h, 4, 4, 0);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_LOST_COMPLETION);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT),
			 IONPU_FAULT_LOST_COMPLETION);
	submit(h, &lost);
	work(h);
	assert_int_equal(rd(h, IONPU_REG_SQ_HEAD), 1);
	assert_int_equal(reap(h, &c), 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_COMPLETION_LOST);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), 5);
	assert_int_equal(rd(h, IONPU_REG_INTR_CAUSE), IONPU_INTR_ERROR);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	assert_int_equal(run_cmd(h, &next).cid, 6);
	host_free(h);
}

static void test_fault_bad_completion(void **state)
{
	struct fake_host *h = host_new(1, true);
	const struct sqe s = stop_cmd(0x1234);
	struct cqe c;

	(void)state;
	host_queues(h, 4, 4, 0);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_BAD_COMPLETION);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT),
			 IONPU_FAULT_BAD_COMPLETION);
	submit(h, &s);
	work(h);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 0xedcb);
	assert_int_equal(c.code, 0x7fff);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	assert_int_equal(run_cmd(h, &s).code, IONPU_SC_SUCCESS);
	host_free(h);
}

static void test_fault_spurious_irq(void **state)
{
	struct fake_host *h = host_new(1, true);

	(void)state;
	wr(h, IONPU_REG_INTR_ENABLE, IONPU_INTR_ALL);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_SPURIOUS_IRQ | 1u << 8);
	assert_int_equal(h->sent[IONPU_VEC_SPIKE], 1);
	assert_int_equal(h->sent[IONPU_VEC_CQ] + h->sent[IONPU_VEC_ERROR], 0);
	assert_int_equal(rd(h, IONPU_REG_INTR_CAUSE), 0);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	/* Vectors the card does not have send nothing. */
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_SPURIOUS_IRQ | 3u << 8);
	assert_int_equal(h->sent[0] + h->sent[1] + h->sent[2], 1);
	host_free(h);
}

/* Resets leave READY 0 while armed; the first reset after disarming heals. */
static void test_fault_reset_fail(void **state)
{
	struct fake_host *h = host_new(1, true);

	(void)state;
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_RESET_FAIL);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), IONPU_FAULT_RESET_FAIL);
	/* Armed, it strikes only at a reset. */
	assert_int_equal(rd(h, IONPU_REG_STATUS), IONPU_STATUS_READY);
	wr(h, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	assert_int_equal(rd(h, IONPU_REG_STATUS), 0);
	wr(h, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	assert_int_equal(rd(h, IONPU_REG_STATUS), 0);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), IONPU_FAULT_RESET_FAIL);

	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_NONE);
	assert_int_equal(rd(h, IONPU_REG_STATUS), 0);
	wr(h, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	assert_int_equal(rd(h, IONPU_REG_STATUS), IONPU_STATUS_READY);
	host_queues(h, 4, 4, 0);
	assert_int_equal(run_cmd(h, &(struct sqe){ .op = IONPU_OP_STOP }).code,
			 IONPU_SC_SUCCESS);
	host_free(h);
}

/* The completion of 1 comes again just before that of 2, unchanged. */
static void test_fault_dup_completion(void **state)
{
	struct fake_host *h = host_new(1, true);
	const struct sqe first = stop_cmd(1), second = stop_cmd(2);
	struct cqe c;

	(void)state;
	host_queues(h, 8, 8, 0);
	wr(h, IONPU_REG_FAULT_INJECT, IONPU_FAULT_DUP_COMPLETION);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT),
			 IONPU_FAULT_DUP_COMPLETION);
	submit(h, &first);
	work(h);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 1);
	assert_int_equal(reap(h, &c), 0);
	/* Still armed: the copy waits for the next completion. */
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT),
			 IONPU_FAULT_DUP_COMPLETION);

	submit(h, &second);
	work(h);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 1);
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 2);
	assert_int_equal(rd(h, IONPU_REG_FAULT_INJECT), 0);
	assert_int_equal(run_cmd(h, &first).cid, 1);
	assert_int_equal(reap(h, &c), 0);
	host_free(h);
}

/* A reset ends a run without a completion and disables the queues. */
static void test_reset_ends_run(void **state)
{
	struct fake_host *h = host_new(1, false);
	struct cqe c;

	(void)state;
	host_queues(h, 4, 4, 0);
	submit(h, &(struct sqe){ .op = IONPU_OP_RUN, .cid = 1 });
	assert_true(ionpu_core_work(h->core));
	assert_int_equal(rd(h, IONPU_REG_STATUS),
			 IONPU_STATUS_READY | IONPU_STATUS_RUNNING);
	ionpu_core_reset(h->core);
	assert_int_equal(rd(h, IONPU_REG_STATUS), IONPU_STATUS_READY);
	assert_false(ionpu_core_work(h->core));
	assert_int_equal(reap(h, &c), 0);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_and_version),
		cmocka_unit_test(test_enable_checks),
		cmocka_unit_test(test_wrap_and_phase),
		cmocka_unit_test(test_cq_full_stalls),
		cmocka_unit_test(test_doorbell_checks),
		cmocka_unit_test(test_disable_forgets_positions),
		cmocka_unit_test(test_fetch_dma_error),
		cmocka_unit_test(test_completion_dma_error),
		cmocka_unit_test(test_event_overflow),
		cmocka_unit_test(test_coalesce_rule),
		cmocka_unit_test(test_event_coalescing),
		cmocka_unit_test(test_completion_coalescing),
		cmocka_unit_test(test_faults_absent),
		cmocka_unit_test(test_fault_hang),
		cmocka_unit_test(test_fault_dma_error),
		cmocka_unit_test(test_fault_lost_completion),
		cmocka_unit_test(test_fault_bad_completion),
		cmocka_unit_test(test_fault_spurious_irq),
		cmocka_unit_test(test_fault_reset_fail),
		cmocka_unit_test(test_fault_dup_completion),
		cmocka_unit_test(test_reset_ends_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
