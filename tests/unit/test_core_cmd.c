// SPDX-License-Identifier: GPL-2.0-only
/*
 * The card's commands against docs/hardware.md revision 1.5: each
 * command's happy path, the checks every command makes (opcode, reserved
 * fields, tile, lengths, payload entries, DMA reach), scatter-gather
 * payloads, the crossbar readout and the non-volatile store.  Host memory
 * is a byte array.
 */
/* mkdtemp() */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_host.h"

#define BAD_INLINE	0xffffffffu

/* Conductances computed two ways may differ in the last bit. */
#define assert_g(a, b)	assert_true(fabsf((a) - (b)) < 1e-4f)

static int setup(void **state)
{
	struct fake_host *h = host_new(4, false);

	host_queues(h, 16, 16, 64);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	host_free(*state);
	return 0;
}

static uint8_t *in_buf(struct fake_host *h)
{
	return h->mem + IN_OFF;
}

static uint8_t *out_buf(struct fake_host *h)
{
	return h->mem + OUT_OFF;
}

static void expect(struct fake_host *h, const struct sqe *s, uint16_t code,
		   uint64_t result)
{
	struct cqe c = run_cmd(h, s);

	assert_int_equal(c.code, code);
	assert_int_equal(c.result, result);
}

static void test_identify(void **state)
{
	const struct ionpu_config cfg = {
		.tiles = 3, .seed = 0x1122334455667788ULL, .serial = "ID-1",
		.faults = true,
	};
	struct fake_host *h = host_new_cfg(&cfg);
	struct sqe s = {
		.op = IONPU_OP_IDENTIFY, .cid = 77, .out_addr = BUS(OUT_OFF),
		.out_len = 4096,
	};
	const struct ionpu_hw_identify *id =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_identify);
	const uint8_t *o = out_buf(h);

	(void)state;
	host_queues(h, 4, 4, 0);
	memset(out_buf(h), 0xee, 4096);
	expect(h, &s, IONPU_SC_SUCCESS, sizeof(*id));
	assert_int_equal(ionpu_le32_to_cpu(id->id), IONPU_ID_MAGIC);
	assert_int_equal(ionpu_le32_to_cpu(id->version), 0x00010005);
	assert_int_equal(ionpu_le32_to_cpu(id->caps), rd(h, IONPU_REG_CAPS));
	assert_int_equal(ionpu_le32_to_cpu(id->caps) & IONPU_CAP_SGL,
			 IONPU_CAP_SGL);
	assert_int_equal(ionpu_le32_to_cpu(id->tiles), 3);
	assert_int_equal(ionpu_le32_to_cpu(id->tile_rows), 256);
	assert_int_equal(ionpu_le32_to_cpu(id->tile_neurons), 256);
	assert_int_equal(ionpu_le64_to_cpu(id->seed), cfg.seed);
	assert_memory_equal(id->serial, "ID-1\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(ionpu_le32_to_cpu(id->g_levels), 256);
	assert_g(ionpu_le32_to_f32(id->g_min), 1.0f);
	assert_g(ionpu_le32_to_f32(id->g_max), 101.0f);
	assert_int_equal(ionpu_le32_to_cpu(id->calib_size), 4096);
	assert_int_equal(ionpu_le32_to_cpu(id->max_cells), 65536);
	assert_int_equal(ionpu_le32_to_cpu(id->sgl_max_entries), 4096);
	assert_int_equal(ionpu_get_le32(id->rsvd + sizeof(id->rsvd) - 4), 0);
	/* Nothing past the 128 bytes. */
	assert_int_equal(o[sizeof(*id)], 0xee);

	/* A shorter buffer gets the start of the identity only. */
	memset(out_buf(h), 0xee, 64);
	s.out_len = 6;
	expect(h, &s, IONPU_SC_SUCCESS, sizeof(*id));
	assert_int_equal(ionpu_le32_to_cpu(id->id), IONPU_ID_MAGIC);
	assert_int_equal(ionpu_get_le16(o + offsetof(struct ionpu_hw_identify,
						     version)), 0x0005);
	assert_int_equal(o[6], 0xee);
	s.out_len = 0;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, sizeof(*id));
	host_free(h);
}

/* What every command checks before it looks at its own fields. */
static void test_common_checks(void **state)
{
	struct fake_host *h = *state;
	const struct sqe ok = { .op = IONPU_OP_RESET_STATE, .cid = 5 };
	struct sqe s;

	s = ok;
	s.op = 0x7f;
	expect(h, &s, IONPU_SC_INVALID_OPCODE, 0);
	s = ok;
	s.op = 0;
	expect(h, &s, IONPU_SC_INVALID_OPCODE, 0);
	s = ok;
	s.flags = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = ok;
	s.rsvd = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	/* Fields a command does not use must be 0. */
	s = ok;
	s.tile = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = ok;
	s.in_len = 8;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = ok;
	s.out_addr = BUS(OUT_OFF);
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = ok;
	s.p[7] = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = (struct sqe){ .op = IONPU_OP_RUN, .cid = 6, .p = { 1, 1 } };
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	/* Tiles: the card has 4. */
	s = (struct sqe){
		.op = IONPU_OP_READ_CELLS, .cid = 7, .tile = 4,
		.out_addr = BUS(OUT_OFF), .out_len = 8, .p = { 0, 1, 0, 1 },
	};
	expect(h, &s, IONPU_SC_INVALID_TILE, 0);
	s.tile = 0xffff;
	expect(h, &s, IONPU_SC_INVALID_TILE, 0);
	s.tile = 3;
	expect(h, &s, IONPU_SC_SUCCESS, 1);
	/* None of that raised an error interrupt: completions say it all. */
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 0);
	expect(h, &ok, IONPU_SC_SUCCESS, 0);
}

/* Payload addresses outside host memory: DMA_ERROR and error DMA. */
static void test_payload_dma_error(void **state)
{
	struct fake_host *h = *state;
	struct sqe s = {
		.op = IONPU_OP_IDENTIFY, .cid = 0x31,
		.out_addr = BAD_BUS, .out_len = 128,
	};

	wr(h, IONPU_REG_INTR_ENABLE, IONPU_INTR_ERROR);
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_DMA);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO),
			 IONPU_OP_IDENTIFY << 16 | 0x31);
	assert_int_equal(h->sent[IONPU_VEC_ERROR], 1);

	/* A buffer that runs past the end of memory fails as a whole. */
	s = (struct sqe){
		.op = IONPU_OP_INPUT_SPIKES, .cid = 0x32,
		.in_addr = BUS(MEM_SIZE - 8), .in_len = 16,
	};
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO),
			 IONPU_OP_INPUT_SPIKES << 16 | 0x32);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 2);
}

static void test_counters_and_run(void **state)
{
	struct fake_host *h = *state;
	const struct sqe counters = {
		.op = IONPU_OP_READ_COUNTERS, .cid = 1,
		.out_addr = BUS(OUT_OFF), .out_len = 256,
	};
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 2, .p = { 7 } };
	const struct ionpu_hw_counters *k =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_counters);
	const struct ionpu_hw_counters zero = { 0 };

	memset(out_buf(h), 0xee, 256);
	expect(h, &counters, IONPU_SC_SUCCESS, sizeof(*k));
	assert_memory_equal(k, &zero, sizeof(zero));
	assert_int_equal(out_buf(h)[sizeof(*k)], 0xee);

	expect(h, &run, IONPU_SC_SUCCESS, 7);
	assert_int_equal(rd(h, IONPU_REG_STATUS), IONPU_STATUS_READY);
	input_spike(h, 0, 2);
	expect(h, &run, IONPU_SC_SUCCESS, 7);
	expect(h, &counters, IONPU_SC_SUCCESS, sizeof(*k));
	assert_int_equal(ionpu_le64_to_cpu(k->timesteps), 14);
	assert_int_equal(ionpu_le64_to_cpu(k->spikes_in), 1);
	/* Every tile is off: nothing fired. */
	assert_int_equal(ionpu_le64_to_cpu(k->spikes_out), 0);
}

static uint64_t tile_counter(struct fake_host *h, unsigned int i,
			     size_t field)
{
	const uint8_t *e = out_buf(h) + i * sizeof(struct ionpu_hw_tile_counters);
	uint64_t v;

	memcpy(&v, e + field, sizeof(v));
	return ionpu_le64_to_cpu(v);
}

#define TILE_CNT(h, i, f) \
	tile_counter(h, i, offsetof(struct ionpu_hw_tile_counters, f))

/*
 * A tile's counters hold its own work only, add up with the other tiles'
 * to the card's, and start again once cleared; the card's do not.
 */
static void test_tile_counters(void **state)
{
	struct fake_host *h = *state;
	const size_t one = sizeof(struct ionpu_hw_tile_counters);
	struct sqe s = {
		.op = IONPU_OP_READ_TILE_COUNTERS, .cid = 1,
		.out_addr = BUS(OUT_OFF), .out_len = 4 * one, .p = { 0xf },
	};
	const struct sqe counters = {
		.op = IONPU_OP_READ_COUNTERS, .cid = 2,
		.out_addr = BUS(OUT_OFF), .out_len = 256,
	};
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 3, .p = { 5 } };
	uint64_t energy = 0, card_energy, pulses;

	make_spiker(h, 9, false);
	input_spike(h, 9, 1);
	expect(h, &run, IONPU_SC_SUCCESS, 5);

	memset(out_buf(h), 0xee, 5 * one);
	expect(h, &s, IONPU_SC_SUCCESS, 4);
	assert_int_equal(out_buf(h)[4 * one], 0xee);
	assert_int_equal(TILE_CNT(h, 0, spikes_in), 1);
	assert_int_equal(TILE_CNT(h, 0, spikes_out), 1);
	assert_int_equal(TILE_CNT(h, 0, syn_events), IONPU_FAB_NEURONS);
	pulses = TILE_CNT(h, 0, program_pulses);
	assert_true(pulses > 0);
	assert_true(TILE_CNT(h, 0, busy_ns) > 0);
	for (unsigned int t = 1; t < 4; t++) {
		assert_int_equal(TILE_CNT(h, t, spikes_in), 0);
		assert_int_equal(TILE_CNT(h, t, syn_events), 0);
		assert_int_equal(TILE_CNT(h, t, program_pulses), 0);
		assert_int_equal(TILE_CNT(h, t, busy_ns), 0);
	}
	for (unsigned int t = 0; t < 4; t++)
		energy += TILE_CNT(h, t, energy_fj);

	expect(h, &counters, IONPU_SC_SUCCESS, sizeof(struct ionpu_hw_counters));
	card_energy = ionpu_le64_to_cpu(
		HOST_AT(h, OUT_OFF, struct ionpu_hw_counters)->energy_fj);
	/* Each tile's energy is rounded down on its own. */
	assert_true(energy <= card_energy && card_energy - energy < 4);
	assert_int_equal(ionpu_le64_to_cpu(HOST_AT(h, OUT_OFF,
						   struct ionpu_hw_counters)
						   ->program_pulses),
			 pulses);

	/* Only the tiles of the mask, lowest first; cleared when asked. */
	s.p[0] = 0x9;
	s.p[2] = IONPU_TILE_COUNTERS_CLEAR;
	expect(h, &s, IONPU_SC_SUCCESS, 2);
	assert_int_equal(TILE_CNT(h, 0, spikes_in), 1);
	assert_int_equal(TILE_CNT(h, 1, spikes_in), 0);
	s.p[2] = 0;
	expect(h, &s, IONPU_SC_SUCCESS, 2);
	assert_int_equal(TILE_CNT(h, 0, spikes_in), 0);
	assert_int_equal(TILE_CNT(h, 0, energy_fj), 0);
	expect(h, &counters, IONPU_SC_SUCCESS, sizeof(struct ionpu_hw_counters));
	assert_int_equal(ionpu_le64_to_cpu(HOST_AT(h, OUT_OFF,
						   struct ionpu_hw_counters)
						   ->spikes_in),
			 1);

	/* No tile, a tile past the card, an unknown flag, too little room. */
	memset(out_buf(h), 0xee, one);
	s.p[0] = 0;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[0] = 0x10;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[0] = 0;
	s.p[1] = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[1] = 0;
	s.p[0] = 1;
	s.p[2] = 2;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[2] = 0;
	s.p[0] = 0x3;
	s.out_len = one;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 2 * one);
	assert_int_equal(out_buf(h)[0], 0xee);
}

/* An input spike lands in the timestep its delay names. */
static void test_input_spikes_and_events(void **state)
{
	struct fake_host *h = *state;
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 2, .p = { 10 } };
	struct ionpu_hw_spike_entry *in =
		HOST_AT(h, IN_OFF, struct ionpu_hw_spike_entry);
	struct sqe s = {
		.op = IONPU_OP_INPUT_SPIKES, .cid = 3, .in_addr = BUS(IN_OFF),
		.in_len = 3 * sizeof(*in),
	};
	struct eqe ev;

	make_spiker(h, 9, false);
	make_spiker(h, 200, false);
	in[0] = (struct ionpu_hw_spike_entry){
		.row = ionpu_cpu_to_le16(9), .delay = 3,
		.value = ionpu_f32_to_le32(1.0f),
	};
	in[1] = (struct ionpu_hw_spike_entry){
		.row = ionpu_cpu_to_le16(200), .delay = 5,
		.value = ionpu_f32_to_le32(2.0f),
	};
	in[2] = (struct ionpu_hw_spike_entry){
		.row = ionpu_cpu_to_le16(9), .delay = 7,
		.value = ionpu_f32_to_le32(1.0f),
	};
	expect(h, &s, IONPU_SC_SUCCESS, 3);
	expect(h, &run, IONPU_SC_SUCCESS, 10);
	assert_int_equal(reap_event(h, &ev), 1);
	assert_int_equal(ev.timestep, 3);
	assert_int_equal(ev.neuron, 9);
	assert_int_equal(ev.tile, 0);
	assert_int_equal(reap_event(h, &ev), 1);
	assert_int_equal(ev.timestep, 5);
	assert_int_equal(ev.neuron, 200);
	assert_int_equal(reap_event(h, &ev), 1);
	assert_int_equal(ev.timestep, 7);
	assert_int_equal(ev.neuron, 9);
	assert_int_equal(reap_event(h, &ev), 0);

	/* Bad entries: nothing of the command is queued. */
	in[2].row = ionpu_cpu_to_le16(256);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 2);
	in[2].row = ionpu_cpu_to_le16(9);
	in[1].tile = 4;
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	in[1].tile = 0;
	in[0].value = ionpu_f32_to_le32(NAN);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 0);
	in[0].value = ionpu_f32_to_le32(INFINITY);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 0);
	s.in_len = 12;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	s.in_len = 0;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	s.in_len = (IONPU_MAX_SPIKES + 1) * sizeof(*in);
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 10);
	assert_int_equal(reap_event(h, &ev), 0);
}

/* RUN until STOP, a second RUN meanwhile, STOP with nothing to stop. */
static void test_run_stop(void **state)
{
	struct fake_host *h = *state;
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 10 };
	const struct sqe stop = { .op = IONPU_OP_STOP, .cid = 11 };
	struct cqe c;

	submit(h, &run);
	for (unsigned int i = 0; i < 6; i++)
		assert_true(ionpu_core_work(h->core));
	assert_int_equal(rd(h, IONPU_REG_STATUS),
			 IONPU_STATUS_READY | IONPU_STATUS_RUNNING);
	assert_int_equal(reap(h, &c), 0);

	submit(h, &(struct sqe){ .op = IONPU_OP_RUN, .cid = 12, .p = { 3 } });
	assert_true(ionpu_core_work(h->core));
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 12);
	assert_int_equal(c.code, IONPU_SC_BUSY);

	/* Timesteps 1..5 ran, the 6th with the BUSY fetch; STOP after one more. */
	submit(h, &stop);
	work(h);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 10);
	assert_int_equal(c.code, IONPU_SC_ABORTED);
	assert_int_equal(c.result, 7);
	assert_int_equal(reap(h, &c), 1);
	assert_int_equal(c.cid, 11);
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, 1);
	assert_int_equal(rd(h, IONPU_REG_STATUS), IONPU_STATUS_READY);
	expect(h, &stop, IONPU_SC_SUCCESS, 0);
}

static unsigned int drain_events(struct fake_host *h)
{
	struct eqe ev;
	unsigned int n = 0;

	while (reap_event(h, &ev))
		n++;
	return n;
}

/*
 * RESET_STATE drops spikes in flight: a self-exciting neuron on tile 0 goes
 * quiet, but only once the mask names tile 0 (or is 0: every tile).  A mask
 * naming a tile the card lacks (it has 4) changes nothing.
 */
static void test_reset_state(void **state)
{
	struct fake_host *h = *state;
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 1, .p = { 4 } };
	struct sqe reset = { .op = IONPU_OP_RESET_STATE, .cid = 2 };

	make_spiker(h, 1, true);
	input_spike(h, 1, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 4);
	assert_int_equal(drain_events(h), 4);

	reset.p[0] = 0x6;
	expect(h, &reset, IONPU_SC_SUCCESS, 0);
	reset.p[0] = 0x11;
	expect(h, &reset, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	reset.p[0] = 0;
	reset.p[1] = 1;
	expect(h, &reset, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	expect(h, &run, IONPU_SC_SUCCESS, 4);
	assert_int_equal(drain_events(h), 4);

	reset.p[0] = 0x1;
	reset.p[1] = 0;
	expect(h, &reset, IONPU_SC_SUCCESS, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 4);
	assert_int_equal(drain_events(h), 0);

	make_spiker(h, 1, true);
	input_spike(h, 1, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 4);
	assert_int_equal(drain_events(h), 4);
	expect(h, &(struct sqe){ .op = IONPU_OP_RESET_STATE, .cid = 2 },
	       IONPU_SC_SUCCESS, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 4);
	assert_int_equal(drain_events(h), 0);
}

static void put_neuron(struct ionpu_hw_neuron *e, float tau, float vth)
{
	*e = (struct ionpu_hw_neuron){
		.tau = ionpu_f32_to_le32(tau),
		.tau_syn = ionpu_f32_to_le32(1e-3f),
		.r = ionpu_f32_to_le32(1),
		.v_threshold = ionpu_f32_to_le32(vth),
		.w_in = ionpu_f32_to_le32(1),
	};
}

static void test_configure_neurons(void **state)
{
	struct fake_host *h = *state;
	const struct sqe run = { .op = IONPU_OP_RUN, .cid = 1, .p = { 2 } };
	struct ionpu_hw_neuron *in = HOST_AT(h, IN_OFF, struct ionpu_hw_neuron);
	struct sqe s = {
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 2, .tile = 0,
		.in_addr = BUS(IN_OFF), .in_len = 2 * sizeof(*in),
		.p = { [4] = 3 },
	};
	struct eqe ev;

	/* Neuron 3 spikes on every input; raise its threshold past 255. */
	make_spiker(h, 3, false);
	put_neuron(&in[0], 1e-3f, 1000);
	put_neuron(&in[1], 1e-3f, 1);
	expect(h, &s, IONPU_SC_SUCCESS, 2);
	input_spike(h, 3, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 2);
	assert_int_equal(reap_event(h, &ev), 0);
	/* Back to threshold 1: it fires again. */
	put_neuron(&in[0], 1e-3f, 1);
	s.in_len = sizeof(*in);
	expect(h, &s, IONPU_SC_SUCCESS, 1);
	input_spike(h, 3, 0);
	expect(h, &run, IONPU_SC_SUCCESS, 2);
	assert_int_equal(reap_event(h, &ev), 1);
	assert_int_equal(ev.neuron, 3);

	/* A refused entry: those before it stay applied, result says which. */
	put_neuron(&in[0], 1e-3f, 1);
	put_neuron(&in[1], -1, 1);
	s.in_len = 2 * sizeof(*in);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	/* Inline checks. */
	s.p[4] = 255;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	s.p[4] = 256;
	s.in_len = 0;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[4] = 0;
	s.in_len = 33;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	s.in_len = 0;
	s.p[0] = IONPU_FAB_IDEAL;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[5] = 0x1;
	s.p[2] = ionpu_f32_to_bits(-1.0f);
	s.p[3] = ionpu_f32_to_bits(1.0f);
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[2] = ionpu_f32_to_bits(1e-3f);
	s.p[0] = 7;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[0] = IONPU_FAB_IDEAL;
	s.p[5] = 0x4;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	/* A chain: tile 1 into tile 0, then undone. */
	s = (struct sqe){
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 3, .tile = 1,
		.p = { [5] = 0x2, [6] = 0 },
	};
	expect(h, &s, IONPU_SC_SUCCESS, 0);
	s.tile = 0;
	s.p[6] = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.tile = 1;
	s.p[6] = 1;
	expect(h, &s, IONPU_SC_SUCCESS, 0);
}

/* Two route records: neuron 3 with two targets, neuron 4 to the host only. */
struct two_routes {
	struct ionpu_hw_route_header n3;
	struct ionpu_hw_route_target t[2];
	struct ionpu_hw_route_header n4;
};

static void test_load_routes(void **state)
{
	struct fake_host *h = *state;
	struct two_routes *in = HOST_AT(h, IN_OFF, struct two_routes);
	struct sqe s = {
		.op = IONPU_OP_LOAD_ROUTES, .cid = 4, .tile = 0,
		.in_addr = BUS(IN_OFF), .in_len = sizeof(*in), .p = { 2 },
	};

	assert_int_equal(sizeof(*in), 8 + 16 + 8);
	*in = (struct two_routes){
		.n3 = { .neuron = ionpu_cpu_to_le16(3),
			.targets = ionpu_cpu_to_le16(2) },
		.t[0] = { .tile = ionpu_cpu_to_le16(1),
			  .row = ionpu_cpu_to_le16(17),
			  .delay = ionpu_cpu_to_le16(255) },
		.t[1] = { .tile = ionpu_cpu_to_le16(3),
			  .row = ionpu_cpu_to_le16(255) },
		.n4 = { .neuron = ionpu_cpu_to_le16(4),
			.flags = IONPU_ROUTE_FLAG_TO_HOST },
	};
	expect(h, &s, IONPU_SC_SUCCESS, 2);

	s.in_len = 40;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 2);
	s.in_len = 24;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 1);
	s.in_len = 20;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	s.in_len = 32;
	in->t[0].delay = ionpu_cpu_to_le16(256);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 0);
	in->t[0].delay = 0;
	in->t[1].tile = ionpu_cpu_to_le16(4);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 0);
	in->t[1].tile = 0;
	in->n4.neuron = ionpu_cpu_to_le16(256);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	in->n4.neuron = ionpu_cpu_to_le16(4);
	in->n4.flags = 3;
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	in->n4.flags = IONPU_ROUTE_FLAG_TO_HOST;
	in->n3.targets = ionpu_cpu_to_le16(257);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 0);
	s.p[0] = 0;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[0] = 1;
	s.in_len = IONPU_ROUTES_MAX_BYTES + 8;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
}

static void put_prog(struct ionpu_hw_prog_entry *e, unsigned int row,
		     unsigned int col, unsigned int dev, unsigned int budget,
		     float target, float tol)
{
	*e = (struct ionpu_hw_prog_entry){
		.row = ionpu_cpu_to_le16((uint16_t)row),
		.column = ionpu_cpu_to_le16((uint16_t)col),
		.device = (uint8_t)dev,
		.budget = ionpu_cpu_to_le16((uint16_t)budget),
		.target = ionpu_f32_to_le32(target),
		.tolerance = ionpu_f32_to_le32(tol),
	};
}

static struct ionpu_hw_prog_entry *in_prog(struct fake_host *h)
{
	return HOST_AT(h, IN_OFF, struct ionpu_hw_prog_entry);
}

static const struct ionpu_hw_cell_read *out_cells(struct fake_host *h)
{
	return HOST_AT(h, OUT_OFF, const struct ionpu_hw_cell_read);
}

static void read_cells(struct fake_host *h, unsigned int tile,
		       unsigned int row, unsigned int col, float *gp, float *gm)
{
	const struct sqe s = {
		.op = IONPU_OP_READ_CELLS, .cid = 8, .tile = (uint16_t)tile,
		.out_addr = BUS(OUT_OFF), .out_len = 8, .p = { row, 1, col, 1 },
	};

	expect(h, &s, IONPU_SC_SUCCESS, 1);
	*gp = ionpu_le32_to_f32(out_cells(h)->g_plus);
	*gm = ionpu_le32_to_f32(out_cells(h)->g_minus);
}

static void program_one(struct fake_host *h, unsigned int tile,
			unsigned int row, unsigned int col, unsigned int dev,
			float target)
{
	const struct sqe s = {
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 9, .tile = (uint16_t)tile,
		.in_addr = BUS(IN_OFF),
		.in_len = sizeof(struct ionpu_hw_prog_entry),
		.out_addr = BUS(OUT_OFF),
		.out_len = sizeof(struct ionpu_hw_prog_result),
	};

	put_prog(in_prog(h), row, col, dev, 10, target, 0);
	expect(h, &s, IONPU_SC_SUCCESS, 0);
}

/* Ideal mode: programming lands exactly on a level; reads are exact. */
static void test_program_and_read_cells(void **state)
{
	struct fake_host *h = *state;
	const float g1 = IONPU_FAB_G_MIN + 40 * IONPU_FAB_G_STEP;
	const float g2 = IONPU_FAB_G_MIN + 7 * IONPU_FAB_G_STEP;
	struct sqe s = {
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 1, .tile = 2,
		.p = { IONPU_FAB_IDEAL, IONPU_FAB_LIF, ionpu_f32_to_bits(1e-3f),
		       ionpu_f32_to_bits(1.0f), 0, 0x1 },
	};
	const struct ionpu_hw_prog_result *res =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_prog_result);
	const struct ionpu_hw_cell_read *cell = out_cells(h);
	float gp, gm;

	expect(h, &s, IONPU_SC_SUCCESS, 0);
	put_prog(&in_prog(h)[0], 10, 20, 0, 5, g1, 0);
	put_prog(&in_prog(h)[1], 10, 20, 1, 5, g2, 0);
	put_prog(&in_prog(h)[2], 255, 255, 0, 5, IONPU_FAB_G_MAX, 0);
	s = (struct sqe){
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 2, .tile = 2,
		.in_addr = BUS(IN_OFF), .in_len = 3 * sizeof(*in_prog(h)),
		.out_addr = BUS(OUT_OFF), .out_len = 3 * sizeof(*res),
	};
	expect(h, &s, IONPU_SC_SUCCESS, 0);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(res[i].status, IONPU_FAB_PROG_OK);
		assert_true(ionpu_le16_to_cpu(res[i].pulses) >= 1);
	}
	assert_g(ionpu_le32_to_f32(res[0].achieved), g1);
	assert_g(ionpu_le32_to_f32(res[1].achieved), g2);
	assert_g(ionpu_le32_to_f32(res[2].achieved), IONPU_FAB_G_MAX);

	read_cells(h, 2, 10, 20, &gp, &gm);
	assert_g(gp, g1);
	assert_g(gm, g2);
	read_cells(h, 2, 10, 21, &gp, &gm);
	assert_g(gp, IONPU_FAB_G_MIN);
	assert_g(gm, IONPU_FAB_G_MIN);

	/* A rectangle, row-major. */
	s = (struct sqe){
		.op = IONPU_OP_READ_CELLS, .cid = 3, .tile = 2,
		.out_addr = BUS(OUT_OFF), .out_len = 2 * 3 * 8,
		.p = { 9, 2, 19, 3 },
	};
	expect(h, &s, IONPU_SC_SUCCESS, 6);
	assert_g(ionpu_le32_to_f32(cell[1 * 3 + 1].g_plus), g1);
	assert_g(ionpu_le32_to_f32(cell[1 * 3 + 1].g_minus), g2);
	assert_g(ionpu_le32_to_f32(cell[0].g_plus), IONPU_FAB_G_MIN);
	s.out_len = 47;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 48);
	s.out_len = 48;
	s.p[1] = 0;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[0] = 255;
	s.p[1] = 2;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.p[0] = 9;
	s.p[2] = 254;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);

	/* BAR2: codes of 10 nS, G+ in the low half of a cell's dword. */
	assert_int_equal(ionpu_core_readout(h->core,
					    ((2 * 256 + 10) * 256 + 20) * 4, 4),
			 (uint32_t)lroundf(g1 * 100) |
			 (uint32_t)lroundf(g2 * 100) << 16);
	assert_int_equal(ionpu_core_readout(h->core,
					    ((2 * 256 + 10) * 256 + 20) * 4 + 2,
					    2),
			 lroundf(g2 * 100));
	assert_int_equal(ionpu_core_readout(h->core,
					    ((2 * 256 + 255) * 256 + 255) * 4,
					    2), 10100);
	assert_int_equal(ionpu_core_readout(h->core,
					    ((2 * 256 + 10) * 256 + 20) * 4, 8),
			 (uint64_t)(100 | 100 << 16) << 32 |
			 (uint32_t)lroundf(g1 * 100) |
			 (uint32_t)lroundf(g2 * 100) << 16);
	assert_int_equal(ionpu_core_readout_size(h->core), 4 * 256 * 256 * 4);
	assert_int_equal(ionpu_core_readout(h->core, 4 * 256 * 256 * 4, 4), 0);
	assert_int_equal(ionpu_core_readout(h->core, 2, 4), 0);
	assert_int_equal(ionpu_core_readout(h->core, 0, 1), 0);
	assert_int_equal(ionpu_core_readout(h->core, 0, 4), 100 | 100 << 16);

	/* A reset keeps the conductances; power lost without a store does not. */
	ionpu_core_reset(h->core);
	host_queues(h, 16, 16, 64);
	read_cells(h, 2, 10, 20, &gp, &gm);
	assert_g(gp, g1);
	assert_int_equal(ionpu_core_power_cycle(h->core, NULL), 0);
	host_queues(h, 16, 16, 64);
	read_cells(h, 2, 10, 20, &gp, &gm);
	assert_g(gp, IONPU_FAB_G_MIN);
	assert_g(gm, IONPU_FAB_G_MIN);
}

static void test_program_checks(void **state)
{
	struct fake_host *h = *state;
	struct ionpu_hw_prog_entry *in = in_prog(h);
	struct sqe s = {
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 2, .tile = 0,
		.in_addr = BUS(IN_OFF), .in_len = 2 * sizeof(*in),
		.out_addr = BUS(OUT_OFF),
		.out_len = 2 * sizeof(struct ionpu_hw_prog_result),
	};
	const float g = IONPU_FAB_G_MIN + 3 * IONPU_FAB_G_STEP;
	float gp, gm;

	expect(h, &(struct sqe){
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 1,
		.p = { IONPU_FAB_IDEAL, IONPU_FAB_LIF, ionpu_f32_to_bits(1e-3f),
		       ionpu_f32_to_bits(1.0f), 0, 0x1 } }, IONPU_SC_SUCCESS, 0);
	put_prog(&in[0], 1, 1, 0, 5, g, 0);
	put_prog(&in[1], 256, 1, 0, 5, g, 0);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 256, 0, 5, g, 0);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 2, 5, g, 0);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 0, 0, g, 0);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 0, 5, 0.5f, 0);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 0, 5, 101.5f, 0);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 0, 5, g, -1);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 0, 5, g, NAN);
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	put_prog(&in[1], 1, 1, 0, 5, g, 0);
	in[1].rsvd = 1;
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	/* Nothing was programmed, not even the good first entry. */
	read_cells(h, 0, 1, 1, &gp, &gm);
	assert_g(gp, IONPU_FAB_G_MIN);

	in[1].rsvd = 0;
	s.out_len = 15;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 16);
	s.out_len = 16;
	s.in_len = 17;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	s.in_len = (IONPU_MAX_CELLS + 1) * sizeof(*in);
	s.out_len = UINT32_MAX;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 0);
	/* The results buffer out of reach: done, but the host is told. */
	s.in_len = 2 * sizeof(*in);
	s.out_addr = BAD_BUS;
	s.out_len = 16;
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_DMA);
	read_cells(h, 0, 1, 1, &gp, &gm);
	assert_g(gp, g);
}

/* Ideal mode: one level per raw pulse, either way. */
static void test_raw_pulses(void **state)
{
	struct fake_host *h = *state;
	struct ionpu_hw_pulse_entry *in =
		HOST_AT(h, IN_OFF, struct ionpu_hw_pulse_entry);
	const struct ionpu_hw_pulse_result *res =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_pulse_result);
	struct sqe s = {
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 1, .tile = 1,
		.p = { IONPU_FAB_IDEAL, IONPU_FAB_LIF, ionpu_f32_to_bits(1e-3f),
		       ionpu_f32_to_bits(1.0f), 0, 0x1 },
	};
	float gp, gm;

	expect(h, &s, IONPU_SC_SUCCESS, 0);
	/* Five SETs on G-, then two RESETs on it. */
	in[0] = (struct ionpu_hw_pulse_entry){
		.row = ionpu_cpu_to_le16(4), .column = ionpu_cpu_to_le16(5),
		.device = 1, .kind = 0, .count = ionpu_cpu_to_le16(5),
	};
	in[1] = (struct ionpu_hw_pulse_entry){
		.row = ionpu_cpu_to_le16(4), .column = ionpu_cpu_to_le16(5),
		.device = 1, .kind = 1, .count = ionpu_cpu_to_le16(2),
	};
	s = (struct sqe){
		.op = IONPU_OP_RAW_PULSES, .cid = 2, .tile = 1,
		.in_addr = BUS(IN_OFF), .in_len = 2 * sizeof(*in),
		.out_addr = BUS(OUT_OFF), .out_len = 2 * sizeof(*res),
	};
	expect(h, &s, IONPU_SC_SUCCESS, 2);
	assert_g(ionpu_le32_to_f32(res[0].g),
		 IONPU_FAB_G_MIN + 5 * IONPU_FAB_G_STEP);
	assert_g(ionpu_le32_to_f32(res[1].g),
		 IONPU_FAB_G_MIN + 3 * IONPU_FAB_G_STEP);
	read_cells(h, 1, 4, 5, &gp, &gm);
	assert_g(gp, IONPU_FAB_G_MIN);
	assert_g(gm, IONPU_FAB_G_MIN + 3 * IONPU_FAB_G_STEP);

	in[1].kind = 2;
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	in[1].kind = 1;
	in[1].count = 0;
	expect(h, &s, IONPU_SC_INVALID_FIELD, 1);
	in[1].count = ionpu_cpu_to_le16(1);
	s.out_len = 7;
	expect(h, &s, IONPU_SC_INVALID_LENGTH, 8);
	read_cells(h, 1, 4, 5, &gp, &gm);
	assert_g(gm, IONPU_FAB_G_MIN + 3 * IONPU_FAB_G_STEP);
}

static void test_calibration_record(void **state)
{
	struct fake_host *h = *state;
	struct sqe w = {
		.op = IONPU_OP_WRITE_CALIB, .cid = 1, .in_addr = BUS(IN_OFF),
		.in_len = 100, .p = { 4000 },
	};
	struct sqe r = {
		.op = IONPU_OP_READ_CALIB, .cid = 2, .out_addr = BUS(OUT_OFF),
		.out_len = 4096,
	};

	for (unsigned int i = 0; i < 100; i++)
		in_buf(h)[i] = (uint8_t)(i * 7 + 1);
	expect(h, &w, IONPU_SC_INVALID_LENGTH, 0);
	w.p[0] = 3996;
	expect(h, &w, IONPU_SC_SUCCESS, 100);
	expect(h, &r, IONPU_SC_SUCCESS, 4096);
	assert_memory_equal(out_buf(h) + 3996, in_buf(h), 100);
	assert_int_equal(out_buf(h)[0], 0);
	r.p[0] = 4000;
	r.out_len = 96;
	expect(h, &r, IONPU_SC_SUCCESS, 96);
	assert_memory_equal(out_buf(h), in_buf(h) + 4, 96);
	r.out_len = 97;
	expect(h, &r, IONPU_SC_INVALID_LENGTH, 0);
	r.out_len = 0;
	expect(h, &r, IONPU_SC_INVALID_LENGTH, 0);
	r.p[0] = 4096;
	r.out_len = 1;
	expect(h, &r, IONPU_SC_INVALID_FIELD, BAD_INLINE);

	/* A reset keeps the record: it is non-volatile. */
	ionpu_core_reset(h->core);
	host_queues(h, 16, 16, 64);
	r.p[0] = 3996;
	r.out_len = 100;
	expect(h, &r, IONPU_SC_SUCCESS, 100);
	assert_memory_equal(out_buf(h), in_buf(h), 100);

	/* Power lost on a card without a store: the record is gone. */
	assert_int_equal(ionpu_core_power_cycle(h->core, NULL), 0);
	host_queues(h, 16, 16, 64);
	expect(h, &r, IONPU_SC_SUCCESS, 100);
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(out_buf(h)[i], 0);
}

/* The store survives the card: a new card on the same file sees it. */
static void test_nvstore(void **state)
{
	char dir[] = "/tmp/ionpu-nvstore-XXXXXX";
	char path[64];
	struct ionpu_config cfg = { .tiles = 2, .seed = 5, .nvstore = path };
	struct fake_host *h;
	const float g = IONPU_FAB_G_MIN + 77 * IONPU_FAB_G_STEP;
	struct ionpu_core *core = NULL;
	float gp, gm;
	struct cqe c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/card.nv", dir);
	h = host_new_cfg(&cfg);
	assert_int_equal(rd(h, IONPU_REG_CAPS) & IONPU_CAP_NVSTORE,
			 IONPU_CAP_NVSTORE);
	host_queues(h, 4, 4, 0);
	expect(h, &(struct sqe){
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 1, .tile = 1,
		.p = { IONPU_FAB_IDEAL, IONPU_FAB_LIF, ionpu_f32_to_bits(1e-3f),
		       ionpu_f32_to_bits(1.0f), 0, 0x1 } }, IONPU_SC_SUCCESS, 0);
	program_one(h, 1, 2, 3, 1, g);
	assert_int_equal(access(path, F_OK), 0);
	host_free(h);

	h = host_new_cfg(&cfg);
	host_queues(h, 4, 4, 0);
	read_cells(h, 1, 2, 3, &gp, &gm);
	assert_g(gm, g);
	assert_g(gp, IONPU_FAB_G_MIN);
	/* Power lost and back: the store is read again. */
	assert_int_equal(ionpu_core_power_cycle(h->core, NULL), 0);
	host_queues(h, 4, 4, 0);
	read_cells(h, 1, 2, 3, &gp, &gm);
	assert_g(gm, g);
	host_free(h);

	/* A file for another number of tiles is refused. */
	cfg.tiles = 3;
	assert_int_equal(ionpu_core_new(&cfg, &fake_ops, NULL, &core, NULL),
			 -EINVAL);
	assert_int_equal(unlink(path), 0);

	/* A store that cannot be saved: the change is made, the host told. */
	snprintf(path, sizeof(path), "%s/no/such/dir", dir);
	cfg.tiles = 1;
	h = host_new_cfg(&cfg);
	host_queues(h, 4, 4, 0);
	put_prog(in_prog(h), 0, 0, 0, 5, g, 0);
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 0x55,
		.in_addr = BUS(IN_OFF),
		.in_len = sizeof(struct ionpu_hw_prog_entry),
		.out_addr = BUS(OUT_OFF),
		.out_len = sizeof(struct ionpu_hw_prog_result) });
	assert_int_equal(c.code, IONPU_SC_NVSTORE_ERROR);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_NVSTORE);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO),
			 IONPU_OP_PROGRAM_CELLS << 16 | 0x55);
	host_free(h);
	assert_int_equal(rmdir(dir), 0);
}

/* --- scatter-gather payloads (rev 1.3) ----------------------------------- */

/* The lists, between the rings and the payloads; output segments apart. */
#define IN_LIST_OFF	0x058000u
#define OUT_LIST_OFF	0x070000u
#define OUT_SEG_OFF	(OUT_OFF + 0x10000u)
#define SGL(list, entry)	((uint64_t)(list) << 32 | (entry))
#define SGL_FIELD(f)		offsetof(struct ionpu_hw_sgl_entry, f)

/* One segment of a test's list: where in host memory, how long. */
struct tseg {
	uint32_t off;
	uint32_t len;
};

static void put_list(struct fake_host *h, uint32_t list,
		     const struct tseg *seg, unsigned int n)
{
	struct ionpu_hw_sgl_entry *e = HOST_AT(h, list, struct ionpu_hw_sgl_entry);

	for (unsigned int i = 0; i < n; i++)
		e[i] = (struct ionpu_hw_sgl_entry){
			.addr = ionpu_cpu_to_le64(BUS(seg[i].off)),
			.len = ionpu_cpu_to_le32(seg[i].len),
		};
}

/* Copy between @flat and the segments in order; @to_segs picks the way. */
static void seg_copy(struct fake_host *h, const struct tseg *seg,
		     unsigned int n, void *buf, bool to_segs)
{
	uint8_t *flat = buf;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t *m = h->mem + seg[i].off;

		memmove(to_segs ? m : flat, to_segs ? flat : m, seg[i].len);
		flat += seg[i].len;
	}
}

/*
 * Cut @len bytes into segments of 1, 3, .., 17 bytes at odd offsets from
 * @base, laid out backwards with gaps between them: no two adjacent, no
 * segment aligned.  Returns how many.
 */
static unsigned int cut(uint32_t base, uint32_t len, struct tseg *seg,
			unsigned int max)
{
	unsigned int n = 0;

	for (uint32_t done = 0; done < len; n++) {
		uint32_t l = 2 * (n % 9) + 1;

		assert_true(n < max);
		seg[n].len = l < len - done ? l : len - done;
		done += seg[n].len;
	}
	for (unsigned int i = 0; i < n; i++)
		seg[i].off = base + 1 + (n - 1 - i) * 32;
	return n;
}

/* The bytes around each segment are still @fill. */
static void assert_gaps(struct fake_host *h, const struct tseg *seg,
			unsigned int n, uint8_t fill)
{
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(h->mem[seg[i].off - 1], fill);
		assert_int_equal(h->mem[seg[i].off + seg[i].len], fill);
	}
}

static void set_mode(struct fake_host *h, unsigned int tile,
		     enum ionpu_fab_mode mode)
{
	expect(h, &(struct sqe){
		.op = IONPU_OP_CONFIGURE_NEURONS, .cid = 1,
		.tile = (uint16_t)tile,
		.p = { mode, IONPU_FAB_LIF, ionpu_f32_to_bits(1e-3f),
		       ionpu_f32_to_bits(1.0f), 0, 0x1 } }, IONPU_SC_SUCCESS, 0);
}

#define SGL_CELLS	40
#define SGL_EXTRA	5

/*
 * PROGRAM_CELLS with its cells in 1..17-byte pieces and its results spread
 * over odd pieces, then READ_CELLS into pieces: the same bytes as the same
 * commands on a twin card (same seed) with flat buffers, and nothing
 * written past the results or between the pieces.
 */
static void test_sgl_program_and_read(void **state)
{
	struct fake_host *flat = *state, *h = host_new(4, false);
	struct ionpu_hw_prog_entry cells[SGL_CELLS];
	struct tseg in[sizeof(cells)], out[4096];
	const uint32_t in_len = sizeof(cells);
	const uint32_t res_len = SGL_CELLS * sizeof(struct ionpu_hw_prog_result);
	const uint32_t rect_len = 8 * 64 * sizeof(struct ionpu_hw_cell_read);
	uint8_t got[4096];
	struct sqe s = {
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 2,
		.in_addr = BUS(IN_OFF), .in_len = in_len,
		.out_addr = BUS(OUT_OFF), .out_len = res_len,
	};
	unsigned int nin, nout;
	struct cqe want;

	host_queues(h, 16, 16, 64);
	/* Physical devices: every result differs, the same on both cards. */
	set_mode(flat, 0, IONPU_FAB_PHYSICAL);
	set_mode(h, 0, IONPU_FAB_PHYSICAL);
	for (unsigned int i = 0; i < SGL_CELLS; i++)
		put_prog(&cells[i], i, i * 7 % 64,
			 i % 2, 1 + i % 5,
			 IONPU_FAB_G_MIN + (i * 13 % 100) * IONPU_FAB_G_STEP,
			 0.5f);
	memcpy(in_buf(flat), cells, in_len);
	want = run_cmd(flat, &s);
	assert_int_equal(want.code, IONPU_SC_SUCCESS);
	/* Some cells ran out of pulses: the results differ from entry to entry. */
	assert_true(want.result > 0 && want.result < SGL_CELLS);

	nin = cut(IN_OFF, in_len, in, sizeof(in) / sizeof(in[0]));
	assert_true(nin > 50);
	seg_copy(h, in, nin, cells, true);
	put_list(h, IN_LIST_OFF, in, nin);
	nout = cut(OUT_SEG_OFF, res_len + SGL_EXTRA, out, 4096);
	put_list(h, OUT_LIST_OFF, out, nout);
	memset(h->mem + OUT_SEG_OFF, 0xee, nout * 32 + 32);
	s.flags = IONPU_SQE_FLAG_IN_SGL | IONPU_SQE_FLAG_OUT_SGL;
	s.in_addr = BUS(IN_LIST_OFF);
	s.out_addr = BUS(OUT_LIST_OFF);
	s.out_len = res_len + SGL_EXTRA;
	expect(h, &s, want.code, want.result);
	seg_copy(h, out, nout, got, false);
	assert_memory_equal(got, out_buf(flat), res_len);
	for (unsigned int i = 0; i < SGL_EXTRA; i++)
		assert_int_equal(got[res_len + i], 0xee);
	assert_gaps(h, out, nout, 0xee);

	/* READ_CELLS of the rectangle the cells are in, both ways. */
	s = (struct sqe){
		.op = IONPU_OP_READ_CELLS, .cid = 3, .out_addr = BUS(OUT_OFF),
		.out_len = rect_len, .p = { 0, 8, 0, 64 },
	};
	expect(flat, &s, IONPU_SC_SUCCESS, 8 * 64);
	nout = cut(OUT_SEG_OFF, rect_len, out, 4096);
	put_list(h, OUT_LIST_OFF, out, nout);
	memset(h->mem + OUT_SEG_OFF, 0xee, nout * 32 + 32);
	s.flags = IONPU_SQE_FLAG_OUT_SGL;
	s.out_addr = BUS(OUT_LIST_OFF);
	expect(h, &s, IONPU_SC_SUCCESS, 8 * 64);
	seg_copy(h, out, nout, got, false);
	assert_memory_equal(got, out_buf(flat), rect_len);
	assert_gaps(h, out, nout, 0xee);
	host_free(h);
}

/* Two cells, in three pieces; their results in two. */
static const struct tseg bad_in[] = {
	{ IN_OFF + 3, 10 }, { IN_OFF + 40, 6 }, { IN_OFF + 61, 16 },
};
static const struct tseg bad_out[] = {
	{ OUT_SEG_OFF + 1, 5 }, { OUT_SEG_OFF + 20, 11 },
};

static struct sqe sgl_program(struct fake_host *h, float g)
{
	struct ionpu_hw_prog_entry cells[2];

	put_prog(&cells[0], 1, 1, 0, 5, g, 0);
	put_prog(&cells[1], 2, 2, 1, 5, g, 0);
	seg_copy(h, bad_in, 3, cells, true);
	put_list(h, IN_LIST_OFF, bad_in, 3);
	put_list(h, OUT_LIST_OFF, bad_out, 2);
	memset(h->mem + OUT_SEG_OFF, 0xee, 64);
	return (struct sqe){
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 0x41,
		.flags = IONPU_SQE_FLAG_IN_SGL | IONPU_SQE_FLAG_OUT_SGL,
		.in_addr = BUS(IN_LIST_OFF), .in_len = sizeof(cells),
		.out_addr = BUS(OUT_LIST_OFF),
		.out_len = 2 * sizeof(struct ionpu_hw_prog_result),
	};
}

/* Cell (1, 1) was not programmed and no result was written. */
static void assert_nothing_done(struct fake_host *h)
{
	float gp, gm;

	read_cells(h, 0, 1, 1, &gp, &gm);
	assert_g(gp, IONPU_FAB_G_MIN);
	for (unsigned int i = 0; i < 64; i++)
		assert_int_equal(h->mem[OUT_SEG_OFF + i], 0xee);
}

/*
 * Malformed lists and list fields: each fails before the command has any
 * effect, with the status and result docs/hardware.md gives.
 */
static void test_sgl_malformed(void **state)
{
	static const struct {
		uint32_t list, entry, field, value;
	} bad[] = {
		{ IN_LIST_OFF, 1, SGL_FIELD(len), 0 },
		{ IN_LIST_OFF, 2, SGL_FIELD(rsvd), 1 },
		/* 10 + 6 + 17 is past the 32 bytes. */
		{ IN_LIST_OFF, 2, SGL_FIELD(len), 17 },
		{ IN_LIST_OFF, 0, SGL_FIELD(len), UINT32_MAX },
		{ OUT_LIST_OFF, 0, SGL_FIELD(len), 0 },
		{ OUT_LIST_OFF, 1, SGL_FIELD(rsvd), 0x80000000u },
		{ OUT_LIST_OFF, 1, SGL_FIELD(len), 12 },
	};
	struct fake_host *h = *state;
	const float g = IONPU_FAB_G_MIN + 9 * IONPU_FAB_G_STEP;
	struct ionpu_hw_prog_result res;
	struct sqe s;
	float gp, gm;

	set_mode(h, 0, IONPU_FAB_IDEAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = sgl_program(h, g);
		ionpu_put_le32(h->mem + bad[i].list +
			       bad[i].entry * sizeof(struct ionpu_hw_sgl_entry) +
			       bad[i].field, bad[i].value);
		expect(h, &s, IONPU_SC_INVALID_SGL,
		       SGL(bad[i].list == OUT_LIST_OFF, bad[i].entry));
		assert_nothing_done(h);
	}

	/* Fields of the command: the list's alignment, the flags. */
	s = sgl_program(h, g);
	s.in_addr += 8;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = sgl_program(h, g);
	s.out_addr += 4;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s = sgl_program(h, g);
	s.flags |= 0x04;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	s.flags = 0x80;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	/* Without its flag an empty output would be INVALID_LENGTH. */
	s = sgl_program(h, g);
	s.out_len = 0;
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	assert_nothing_done(h);
	/* READ_CELLS has no input, RUN no buffer at all. */
	s = (struct sqe){
		.op = IONPU_OP_READ_CELLS, .cid = 3,
		.flags = IONPU_SQE_FLAG_IN_SGL, .out_addr = BUS(OUT_SEG_OFF),
		.out_len = 8, .p = { 0, 1, 0, 1 },
	};
	expect(h, &s, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	expect(h, &(struct sqe){ .op = IONPU_OP_RUN, .cid = 4, .p = { 1 },
				 .flags = IONPU_SQE_FLAG_OUT_SGL },
	       IONPU_SC_INVALID_FIELD, BAD_INLINE);
	/* An empty neuron payload is fine, an empty listed one is not. */
	expect(h, &(struct sqe){ .op = IONPU_OP_CONFIGURE_NEURONS, .cid = 5,
				 .flags = IONPU_SQE_FLAG_IN_SGL,
				 .in_addr = BUS(IN_LIST_OFF) },
	       IONPU_SC_INVALID_FIELD, BAD_INLINE);
	assert_nothing_done(h);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 0);
	/* The good command does it all. */
	s = sgl_program(h, g);
	expect(h, &s, IONPU_SC_SUCCESS, 0);
	read_cells(h, 0, 1, 1, &gp, &gm);
	assert_g(gp, g);
	/* The first output segment is unaligned: copy its field out. */
	memcpy(&res.achieved, h->mem + OUT_SEG_OFF + 1, sizeof(res.achieved));
	assert_g(ionpu_le32_to_f32(res.achieved), g);
}

/* Lists or segments out of reach: DMA_ERROR and error DMA. */
static void test_sgl_dma_error(void **state)
{
	struct fake_host *h = *state;
	const float g = IONPU_FAB_G_MIN + 9 * IONPU_FAB_G_STEP;
	const uint32_t info = IONPU_OP_PROGRAM_CELLS << 16 | 0x41;
	struct sqe s;
	float gp, gm;

	set_mode(h, 0, IONPU_FAB_IDEAL);
	s = sgl_program(h, g);
	s.in_addr = BAD_BUS;
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_CODE), IONPU_ERR_DMA);
	assert_int_equal(rd(h, IONPU_REG_ERROR_INFO), info);
	assert_nothing_done(h);
	/* The output list is read before the command runs. */
	s = sgl_program(h, g);
	s.out_addr = BAD_BUS;
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_nothing_done(h);
	/* A list whose second entry is past the end of memory. */
	s = sgl_program(h, g);
	put_list(h, MEM_SIZE - sizeof(struct ionpu_hw_sgl_entry), bad_in, 1);
	s.in_addr = BUS(MEM_SIZE - sizeof(struct ionpu_hw_sgl_entry));
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_nothing_done(h);
	/* An input segment out of reach. */
	s = sgl_program(h, g);
	HOST_AT(h, IN_LIST_OFF, struct ionpu_hw_sgl_entry)[1].addr =
		ionpu_cpu_to_le64(BAD_BUS);
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_nothing_done(h);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 4);
	/*
	 * An output segment out of reach: as with a flat buffer, the cells
	 * are programmed and the host told; the first segment has its bytes.
	 */
	s = sgl_program(h, g);
	HOST_AT(h, OUT_LIST_OFF, struct ionpu_hw_sgl_entry)[1].addr =
		ionpu_cpu_to_le64(BAD_BUS);
	expect(h, &s, IONPU_SC_DMA_ERROR, 0);
	assert_int_equal(rd(h, IONPU_REG_ERROR_COUNT), 5);
	read_cells(h, 0, 1, 1, &gp, &gm);
	assert_g(gp, g);
	assert_int_equal(h->mem[OUT_SEG_OFF], 0xee);
	assert_true(h->mem[OUT_SEG_OFF + 1] != 0xee);
	assert_int_equal(h->mem[OUT_SEG_OFF + 6], 0xee);
}

/* A list may have 4096 entries, not one more. */
static void test_sgl_entry_limit(void **state)
{
	struct fake_host *h = *state;
	const float g = IONPU_FAB_G_MIN + 20 * IONPU_FAB_G_STEP;
	const struct tseg one = { IN_OFF, sizeof(struct ionpu_hw_prog_entry) };
	struct sqe s = {
		.op = IONPU_OP_PROGRAM_CELLS, .cid = 6,
		.flags = IONPU_SQE_FLAG_IN_SGL, .in_addr = BUS(IN_LIST_OFF),
		.in_len = (IONPU_SGL_MAX_ENTRIES + 1) *
			  sizeof(struct ionpu_hw_prog_entry),
		.out_addr = BUS(OUT_SEG_OFF),
		.out_len = (IONPU_SGL_MAX_ENTRIES + 1) *
			   sizeof(struct ionpu_hw_prog_result),
	};
	float gp, gm;

	set_mode(h, 0, IONPU_FAB_IDEAL);
	/* Every entry names the same cell; the list has room for 4097. */
	put_prog(in_prog(h), 1, 1, 0, 5, g, 0);
	for (unsigned int i = 0; i <= IONPU_SGL_MAX_ENTRIES; i++)
		put_list(h, IN_LIST_OFF + i * sizeof(struct ionpu_hw_sgl_entry),
			 &one, 1);
	memset(h->mem + OUT_SEG_OFF, 0xee, 64);
	expect(h, &s, IONPU_SC_INVALID_SGL, SGL(0, IONPU_SGL_MAX_ENTRIES));
	assert_nothing_done(h);
	s.in_len -= sizeof(struct ionpu_hw_prog_entry);
	s.out_len -= sizeof(struct ionpu_hw_prog_result);
	expect(h, &s, IONPU_SC_SUCCESS, 0);
	read_cells(h, 0, 1, 1, &gp, &gm);
	assert_g(gp, g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identify),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_common_checks),
		T(test_payload_dma_error),
		T(test_counters_and_run),
		T(test_tile_counters),
		T(test_input_spikes_and_events),
		T(test_run_stop),
		T(test_reset_state),
		T(test_configure_neurons),
		T(test_load_routes),
		T(test_program_and_read_cells),
		T(test_program_checks),
		T(test_raw_pulses),
		T(test_calibration_record),
		T(test_sgl_program_and_read),
		T(test_sgl_malformed),
		T(test_sgl_dma_error),
		T(test_sgl_entry_limit),
#undef T
		cmocka_unit_test(test_nvstore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
