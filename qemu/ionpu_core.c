// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IONPU-1 model core: the registers of docs/hardware.md revision 1.1 and
 * the card's work loop, which feeds fetched commands to the command layer
 * (ionpu_cmd.c) and publishes their completions through the rings
 * (ionpu_queue.c).
 */
#include "ionpu_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_cmd.h"
#include "ionpu_fabric.h"
#include "ionpu_queue.h"

/* The default serial shows this many low bits of the seed, so it fits. */
#define DEFAULT_SERIAL_SEED_BITS 40

#define CAPS_ALWAYS                                                 \
	(IONPU_CAP_FLR | IONPU_CAP_TEST_IRQ | IONPU_CAP_QUEUES |    \
	 IONPU_CAP_READOUT | IONPU_CAP_TILE_RESET | IONPU_CAP_SGL | \
	 IONPU_CAP_LEARN | IONPU_CAP_TILE_COUNTERS)

/* Commands one ionpu_core_work() call executes at most: bounds its time. */
#define CMDS_PER_WORK 32

/* BAR2: conductance codes count 10 nS, i.e. 100 codes per uS. */
#define READOUT_CODES_PER_US 100.0f
#define READOUT_TILE_BYTES (IONPU_TILE_ROWS * IONPU_TILE_NEURONS * 4u)

struct ionpu_core {
	const struct ionpu_host_ops *ops;
	void *opaque;

	/* Identity: fixed for the card's life, no reset touches it. */
	unsigned int tiles;
	uint64_t seed;
	uint32_t serial[IONPU_SERIAL_DWORDS];
	uint32_t caps;
	uint32_t version;
	char *nvstore;

	struct ionpu_fabric *fabric;
	struct ionpu_dma dma;
	struct ionpu_queues q;
	struct ionpu_cmd_card card;

	/* Volatile registers: what every reset returns to zero. */
	uint32_t scratch;
	uint32_t intr_cause;
	uint32_t intr_enable;
	uint32_t queue_control;
	uint32_t error_code;
	uint32_t error_info;
	uint32_t error_count;
	/* Injected faults still armed (the DMA one lives in @dma). */
	bool hung;
	bool corrupt_next;
	bool lose_next;
	/* RESET_FAIL: armed, and whether the last reset left us not ready. */
	bool reset_fails;
	bool not_ready;
	/* DUP_COMPLETION: the next completion is kept, then posted again. */
	bool dup_next;
	bool dup_held;
	struct ionpu_cqe dup;
};

static int serial_valid(const char *s)
{
	size_t n;

	/* An empty serial would read as all NULs: no serial at all. */
	for (n = 0; s[n]; n++)
		if (n == IONPU_SERIAL_MAX || s[n] < 0x20 || s[n] > 0x7e)
			return 0;
	return n > 0;
}

int ionpu_config_check(const struct ionpu_config *cfg, const char **why)
{
	const char *bad = NULL;

	if (cfg->tiles < 1 || cfg->tiles > IONPU_MAX_TILES)
		bad = "tiles must be 1..64";
	else if (cfg->serial && !serial_valid(cfg->serial))
		bad = "serial must be 1..16 printable ASCII characters";
	if (!bad)
		return 0;
	if (why)
		*why = bad;
	return -EINVAL;
}

int ionpu_config_serial(const struct ionpu_config *cfg,
			char buf[IONPU_SERIAL_MAX + 1])
{
	uint64_t shown = cfg->seed &
			 ((UINT64_C(1) << DEFAULT_SERIAL_SEED_BITS) - 1);

	if (cfg->serial) {
		if (!serial_valid(cfg->serial))
			return -EINVAL;
		strcpy(buf, cfg->serial);
		return 0;
	}
	snprintf(buf, IONPU_SERIAL_MAX + 1, "IONPU-%llX",
		 (unsigned long long)shown);
	return 0;
}

/* The card's non-volatile state from its store, when it has one. */
static int load_store(struct ionpu_core *core, const char **why)
{
	int ret;

	if (!core->nvstore)
		return 0;
	ret = ionpu_fabric_load(core->fabric, core->nvstore, why);
	/* No file yet: a fresh card, saved at its first change. */
	return ret == -ENOENT ? 0 : ret;
}

/* The fabric, the transport and the command layer of a new card. */
static int card_build(struct ionpu_core *core, const struct ionpu_config *cfg,
		      const char serial[IONPU_SERIAL_MAX + 1], const char **why)
{
	const struct ionpu_fabric_config fcfg = {
		.tiles = cfg->tiles,
		.seed = cfg->seed,
	};
	int ret;

	ret = ionpu_fabric_new(&fcfg, &core->fabric);
	if (ret) {
		if (why)
			*why = "the compute fabric cannot be built";
		return ret;
	}
	if (cfg->nvstore) {
		size_t len = strlen(cfg->nvstore) + 1;

		core->nvstore = malloc(len);
		if (!core->nvstore)
			return -ENOMEM;
		memcpy(core->nvstore, cfg->nvstore, len);
		ret = load_store(core, why);
		if (ret)
			return ret;
	}
	core->dma = (struct ionpu_dma){
		.read = core->ops->dma_read,
		.write = core->ops->dma_write,
		.opaque = core->opaque,
	};
	core->card = (struct ionpu_cmd_card){
		.fabric = core->fabric,
		.dma = &core->dma,
		.q = &core->q,
		.id = { .version = core->version,
			.caps = core->caps,
			.seed = core->seed },
		.nvstore = core->nvstore,
	};
	memcpy(core->card.id.serial, serial, sizeof(core->card.id.serial));
	return 0;
}

int ionpu_core_new(const struct ionpu_config *cfg,
		   const struct ionpu_host_ops *ops, void *opaque,
		   struct ionpu_core **out, const char **why)
{
	char serial[IONPU_SERIAL_MAX + 1] = { 0 };
	struct ionpu_core *core;
	int ret;

	if (!ops || !ops->notify || !ops->dma_read || !ops->dma_write ||
	    !ops->arm_timer) {
		if (why)
			*why = "the host gave no notify, DMA or timer callback";
		return -EINVAL;
	}
	ret = ionpu_config_check(cfg, why);
	if (ret)
		return ret;
	ret = ionpu_config_serial(cfg, serial);
	if (ret)
		return ret;

	core = calloc(1, sizeof(*core));
	if (!core)
		return -ENOMEM;
	core->ops = ops;
	core->opaque = opaque;
	core->tiles = cfg->tiles;
	core->seed = cfg->seed;
	core->caps = CAPS_ALWAYS | (cfg->nvstore ? IONPU_CAP_NVSTORE : 0) |
		     (cfg->faults ? IONPU_CAP_FAULTS : 0);
	core->version = IONPU_HW_VERSION;
	if (cfg->without_learning) {
		core->caps &= ~(IONPU_CAP_LEARN | IONPU_CAP_TILE_COUNTERS);
		core->version = IONPU_HW_VERSION_1_3;
	}
	/* SERIAL0 bits 7:0 hold byte 0, whatever the host's byte order. */
	for (unsigned int i = 0; i < IONPU_SERIAL_MAX; i++)
		core->serial[i / 4] |= (uint32_t)(unsigned char)serial[i]
				       << (8 * (i % 4));

	ret = card_build(core, cfg, serial, why);
	if (ret) {
		ionpu_core_free(core);
		return ret;
	}
	ionpu_core_reset(core);
	*out = core;
	return 0;
}

void ionpu_core_free(struct ionpu_core *core)
{
	if (!core)
		return;
	if (core->fabric)
		ionpu_fabric_free(core->fabric);
	free(core->nvstore);
	free(core);
}

void ionpu_core_reset(struct ionpu_core *core)
{
	core->scratch = 0;
	core->intr_cause = 0;
	core->intr_enable = 0;
	core->queue_control = 0;
	core->error_code = 0;
	core->error_info = 0;
	core->error_count = 0;
	core->hung = false;
	core->corrupt_next = false;
	core->lose_next = false;
	core->dup_next = false;
	core->dup_held = false;
	core->dma.fail_next = false;
	/* The one fault a reset does not end: it is what the reset suffers. */
	core->not_ready = core->reset_fails;
	ionpu_queues_reset(&core->q);
	ionpu_cmd_reset(&core->card);
	ionpu_fabric_reset(core->fabric);
}

int ionpu_core_power_cycle(struct ionpu_core *core, const char **why)
{
	int ret;

	ionpu_fabric_erase(core->fabric);
	ret = load_store(core, why);
	/* Power lost ends every injected fault, RESET_FAIL included. */
	core->reset_fails = false;
	ionpu_core_reset(core);
	return ret;
}

/* One message per vector that has at least one cause in @edges. */
static void send_vectors(struct ionpu_core *core, uint32_t edges)
{
	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		if (edges & IONPU_INTR_VEC_MASK(v))
			core->ops->notify(core->opaque, v);
}

static void raise_causes(struct ionpu_core *core, uint32_t causes)
{
	uint32_t rising = causes & ~core->intr_cause;

	core->intr_cause |= causes;
	send_vectors(core, rising & core->intr_enable);
}

static void set_enable(struct ionpu_core *core, uint32_t enable)
{
	uint32_t gained = enable & ~core->intr_enable;

	core->intr_enable = enable;
	send_vectors(core, gained & core->intr_cause);
}

static void report_error(struct ionpu_core *core, uint32_t code, uint32_t info)
{
	core->error_code = code;
	core->error_info = info;
	core->error_count++;
	raise_causes(core, IONPU_INTR_ERROR);
}

static struct ionpu_coalesce *coalesce_of(struct ionpu_core *core,
					  unsigned int vector)
{
	return vector == IONPU_VEC_CQ ? &core->q.cq_co : &core->q.eq_co;
}

static uint32_t cause_of(unsigned int vector)
{
	return vector == IONPU_VEC_CQ ? IONPU_INTR_CQ : IONPU_INTR_SPIKE;
}

/* @n entries went to the ring of queue vector @vector. */
static void posted(struct ionpu_core *core, unsigned int vector, uint32_t n)
{
	struct ionpu_coalesce *co = coalesce_of(core, vector);

	switch (ionpu_coalesce_posted(co, n)) {
	case IONPU_COALESCE_SIGNAL:
		raise_causes(core, cause_of(vector));
		break;
	case IONPU_COALESCE_ARM:
		core->ops->arm_timer(core->opaque, vector,
				     IONPU_COALESCE_TIME_US(co->setting) *
					     UINT64_C(1000));
		break;
	case IONPU_COALESCE_WAIT:
		break;
	}
}

static void flush(struct ionpu_core *core, unsigned int vector)
{
	if (ionpu_coalesce_flush(coalesce_of(core, vector)))
		raise_causes(core, cause_of(vector));
}

void ionpu_core_timer(struct ionpu_core *core, unsigned int vector)
{
	if (vector != IONPU_VEC_CQ && vector != IONPU_VEC_SPIKE)
		return;
	coalesce_of(core, vector)->timer_armed = false;
	flush(core, vector);
}

static void post_cqe(struct ionpu_core *core, const struct ionpu_cqe *cqe,
		     bool corrupt)
{
	bool lost = core->lose_next;

	core->lose_next = false;
	if (lost || ionpu_cq_post(&core->q, &core->dma, cqe, corrupt))
		/* Only the error can tell the host; its command never ends. */
		report_error(core, IONPU_ERR_COMPLETION_LOST, cqe->cid);
	else
		posted(core, IONPU_VEC_CQ, 1);
}

static void publish(struct ionpu_core *core, const struct ionpu_cmd_outcome *o)
{
	for (unsigned int i = 0; i < o->ncqe; i++) {
		bool corrupt = core->corrupt_next;

		core->corrupt_next = false;
		/* A stale copy of an earlier completion, as a buggy card's. */
		if (core->dup_held) {
			core->dup_held = false;
			post_cqe(core, &core->dup, false);
		}
		post_cqe(core, &o->cqe[i], corrupt);
		if (core->dup_next) {
			core->dup_next = false;
			core->dup_held = true;
			core->dup = o->cqe[i];
		}
	}
	if (o->error)
		report_error(core, o->error, o->error_info);
}

/* A RUN in progress keeps a CQ slot for its own completion. */
static bool cq_room(const struct ionpu_core *core)
{
	const struct ionpu_ring *cq = &core->q.cq;
	uint32_t used = (cq->tail - cq->head) & (cq->size - 1);

	return cq->size - 1 - used >= 1u + core->card.running;
}

static bool can_fetch(const struct ionpu_core *core)
{
	return !ionpu_sq_empty(&core->q) && cq_room(core);
}

bool ionpu_core_work(struct ionpu_core *core)
{
	struct ionpu_cmd_outcome o;

	if (core->hung || !core->q.enabled)
		return false;
	if (core->card.running) {
		ionpu_cmd_step(&core->card, &o);
		posted(core, IONPU_VEC_SPIKE, core->card.events_posted);
		publish(core, &o);
	}
	for (unsigned int n = 0; n < CMDS_PER_WORK && can_fetch(core); n++) {
		struct ionpu_hw_sqe sqe;

		if (ionpu_sq_fetch(&core->q, &core->dma, &sqe)) {
			o = (struct ionpu_cmd_outcome){
				.cqe[0] = {
					.cid = IONPU_CID_UNKNOWN,
					.code = IONPU_SC_DMA_ERROR,
				},
				.ncqe = 1,
				.error = IONPU_ERR_DMA,
				.error_info = IONPU_CID_UNKNOWN,
			};
		} else {
			ionpu_cmd_execute(&core->card, &sqe, &o);
		}
		publish(core, &o);
	}
	/* Nothing more to fetch, or no run: the host must hear of it all. */
	if (!can_fetch(core))
		flush(core, IONPU_VEC_CQ);
	if (!core->card.running)
		flush(core, IONPU_VEC_SPIKE);
	return core->card.running || can_fetch(core);
}

static int access_ok(uint64_t offset, unsigned int size)
{
	return size == 4 && offset % 4 == 0 && offset < IONPU_BAR_REGS_SIZE;
}

static uint32_t fault_armed(const struct ionpu_core *core)
{
	if (core->hung)
		return IONPU_FAULT_HANG;
	if (core->dma.fail_next)
		return IONPU_FAULT_DMA_ERROR;
	if (core->corrupt_next)
		return IONPU_FAULT_BAD_COMPLETION;
	if (core->lose_next)
		return IONPU_FAULT_LOST_COMPLETION;
	if (core->reset_fails)
		return IONPU_FAULT_RESET_FAIL;
	if (core->dup_next || core->dup_held)
		return IONPU_FAULT_DUP_COMPLETION;
	return IONPU_FAULT_NONE;
}

static uint32_t read_queue_reg(struct ionpu_core *core, uint64_t offset)
{
	const struct ionpu_queues *q = &core->q;

	switch (offset) {
	case IONPU_REG_SQ_BASE_LO:
		return (uint32_t)q->sq.base;
	case IONPU_REG_SQ_BASE_HI:
		return (uint32_t)(q->sq.base >> 32);
	case IONPU_REG_SQ_SIZE:
		return q->sq.size;
	case IONPU_REG_CQ_BASE_LO:
		return (uint32_t)q->cq.base;
	case IONPU_REG_CQ_BASE_HI:
		return (uint32_t)(q->cq.base >> 32);
	case IONPU_REG_CQ_SIZE:
		return q->cq.size;
	case IONPU_REG_EQ_BASE_LO:
		return (uint32_t)q->eq.base;
	case IONPU_REG_EQ_BASE_HI:
		return (uint32_t)(q->eq.base >> 32);
	case IONPU_REG_EQ_SIZE:
		return q->eq.size;
	case IONPU_REG_QUEUE_CONTROL:
		return core->queue_control;
	case IONPU_REG_QUEUE_STATUS:
		return q->enabled ? IONPU_QUEUE_ENABLED : 0;
	case IONPU_REG_SQ_HEAD:
		return q->sq.head;
	case IONPU_REG_CQ_TAIL:
		return q->cq.tail;
	case IONPU_REG_EQ_TAIL:
		return q->eq.tail;
	case IONPU_REG_EQ_DROPPED:
		return q->eq_dropped;
	case IONPU_REG_COALESCE_CQ:
		return q->cq_co.setting;
	case IONPU_REG_COALESCE_EQ:
		return q->eq_co.setting;
	case IONPU_REG_ERROR_CODE:
		return core->error_code;
	case IONPU_REG_ERROR_INFO:
		return core->error_info;
	case IONPU_REG_ERROR_COUNT:
		return core->error_count;
	case IONPU_REG_FAULT_INJECT:
		return core->caps & IONPU_CAP_FAULTS ? fault_armed(core) : 0;
	default:
		/* Reserved, and the doorbells, which are write-only. */
		return 0;
	}
}

uint32_t ionpu_core_read(struct ionpu_core *core, uint64_t offset,
			 unsigned int size)
{
	if (!access_ok(offset, size))
		return 0;

	switch (offset) {
	case IONPU_REG_ID:
		return IONPU_ID_MAGIC;
	case IONPU_REG_VERSION:
		return core->version;
	case IONPU_REG_CAPS:
		return core->caps;
	case IONPU_REG_TILES:
		return core->tiles;
	case IONPU_REG_TILE_ROWS:
		return IONPU_TILE_ROWS;
	case IONPU_REG_TILE_NEURONS:
		return IONPU_TILE_NEURONS;
	case IONPU_REG_SEED_LO:
		return (uint32_t)core->seed;
	case IONPU_REG_SEED_HI:
		return (uint32_t)(core->seed >> 32);
	case IONPU_REG_SERIAL(0):
	case IONPU_REG_SERIAL(1):
	case IONPU_REG_SERIAL(2):
	case IONPU_REG_SERIAL(3):
		return core->serial[(offset - IONPU_REG_SERIAL(0)) / 4];
	case IONPU_REG_STATUS:
		/* Work runs beside the registers: ready unless a fault says. */
		return (core->not_ready ? 0 : IONPU_STATUS_READY) |
		       (core->card.running ? IONPU_STATUS_RUNNING : 0);
	case IONPU_REG_SCRATCH:
		return core->scratch;
	case IONPU_REG_INTR_CAUSE:
		return core->intr_cause;
	case IONPU_REG_INTR_ENABLE:
		return core->intr_enable;
	default:
		/* CONTROL reads 0 (RESET self-clears), INTR_TEST is write-only. */
		return read_queue_reg(core, offset);
	}
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~UINT64_C(0xffffffff)) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & UINT64_C(0xffffffff)) | (uint64_t)hi << 32;
}

/* Bases and sizes hold still while the queues are enabled. */
static void write_queue_config(struct ionpu_core *core, uint64_t offset,
			       uint32_t val)
{
	struct ionpu_queues *q = &core->q;

	if (q->enabled)
		return;
	switch (offset) {
	case IONPU_REG_SQ_BASE_LO:
		set_lo(&q->sq.base, val);
		break;
	case IONPU_REG_SQ_BASE_HI:
		set_hi(&q->sq.base, val);
		break;
	case IONPU_REG_SQ_SIZE:
		q->sq.size = val;
		break;
	case IONPU_REG_CQ_BASE_LO:
		set_lo(&q->cq.base, val);
		break;
	case IONPU_REG_CQ_BASE_HI:
		set_hi(&q->cq.base, val);
		break;
	case IONPU_REG_CQ_SIZE:
		q->cq.size = val;
		break;
	case IONPU_REG_EQ_BASE_LO:
		set_lo(&q->eq.base, val);
		break;
	case IONPU_REG_EQ_BASE_HI:
		set_hi(&q->eq.base, val);
		break;
	case IONPU_REG_EQ_SIZE:
		q->eq.size = val;
		break;
	default:
		break;
	}
}

static void write_queue_control(struct ionpu_core *core, uint32_t val)
{
	uint32_t bad = 0;

	core->queue_control = val & IONPU_QUEUE_ENABLE;
	if (core->queue_control && !core->q.enabled) {
		if (ionpu_queues_enable(&core->q, &bad))
			report_error(core, IONPU_ERR_QUEUE_CONFIG, bad);
	} else if (!core->queue_control && core->q.enabled) {
		ionpu_queues_disable(&core->q);
		ionpu_cmd_reset(&core->card);
	}
}

static void write_doorbell(struct ionpu_core *core, uint64_t offset,
			   uint32_t val)
{
	int ret;

	if (offset == IONPU_REG_SQ_TAIL_DB)
		ret = ionpu_sq_doorbell(&core->q, val);
	else if (offset == IONPU_REG_CQ_HEAD_DB)
		ret = ionpu_cq_doorbell(&core->q, val);
	else
		ret = ionpu_eq_doorbell(&core->q, val);
	if (ret)
		report_error(core, IONPU_ERR_DOORBELL,
			     (uint32_t)offset << 16 | (val & 0xffff));
}

static void write_fault(struct ionpu_core *core, uint32_t val)
{
	unsigned int vector = (val >> 8) & 0xff;

	if (!(core->caps & IONPU_CAP_FAULTS))
		return;
	/* A new fault replaces an armed one; only a reset ends a hang. */
	core->dma.fail_next = false;
	core->corrupt_next = false;
	core->lose_next = false;
	core->reset_fails = false;
	core->dup_next = false;
	core->dup_held = false;
	switch (val & 0xff) {
	case IONPU_FAULT_HANG:
		core->hung = true;
		break;
	case IONPU_FAULT_DMA_ERROR:
		core->dma.fail_next = true;
		break;
	case IONPU_FAULT_BAD_COMPLETION:
		core->corrupt_next = true;
		break;
	case IONPU_FAULT_SPURIOUS_IRQ:
		if (vector < IONPU_NUM_VECTORS)
			core->ops->notify(core->opaque, vector);
		break;
	case IONPU_FAULT_RESET_FAIL:
		core->reset_fails = true;
		break;
	case IONPU_FAULT_DUP_COMPLETION:
		core->dup_next = true;
		break;
	case IONPU_FAULT_LOST_COMPLETION:
		core->lose_next = true;
		break;
	default:
		break;
	}
}

void ionpu_core_write(struct ionpu_core *core, uint64_t offset, uint64_t value,
		      unsigned int size)
{
	uint32_t val = (uint32_t)value;

	if (!access_ok(offset, size))
		return;

	switch (offset) {
	case IONPU_REG_CONTROL:
		if (val & IONPU_CONTROL_RESET)
			ionpu_core_reset(core);
		break;
	case IONPU_REG_SCRATCH:
		core->scratch = val;
		break;
	case IONPU_REG_INTR_CAUSE:
		core->intr_cause &= ~val;
		break;
	case IONPU_REG_INTR_ENABLE:
		/* Bits of causes that do not exist stay 0. */
		set_enable(core, val & IONPU_INTR_ALL);
		break;
	case IONPU_REG_INTR_TEST:
		if (val < IONPU_NUM_VECTORS)
			raise_causes(core, IONPU_INTR_TEST(val));
		break;
	case IONPU_REG_QUEUE_CONTROL:
		write_queue_control(core, val);
		break;
	case IONPU_REG_COALESCE_CQ:
		core->q.cq_co.setting = val;
		break;
	case IONPU_REG_COALESCE_EQ:
		core->q.eq_co.setting = val;
		break;
	case IONPU_REG_ERROR_CODE:
		core->error_code = 0;
		core->error_info = 0;
		break;
	case IONPU_REG_FAULT_INJECT:
		write_fault(core, val);
		break;
	case IONPU_REG_SQ_TAIL_DB:
	case IONPU_REG_CQ_HEAD_DB:
	case IONPU_REG_EQ_HEAD_DB:
		write_doorbell(core, offset, val);
		break;
	default:
		if (offset >= IONPU_REG_SQ_BASE_LO &&
		    offset <= IONPU_REG_EQ_SIZE)
			write_queue_config(core, offset, val);
		break;
	}
}

uint64_t ionpu_core_readout_size(const struct ionpu_core *core)
{
	return (uint64_t)core->tiles * READOUT_TILE_BYTES;
}

static uint16_t readout_code(float g)
{
	float code = g * READOUT_CODES_PER_US + 0.5f;

	if (!(code > 0))
		return 0;
	return code >= UINT16_MAX ? UINT16_MAX : (uint16_t)code;
}

/* The 4 bytes of one cell's pair: G+ code in 15:0, G- code in 31:16. */
static uint32_t readout_pair(struct ionpu_core *core, uint64_t offset)
{
	unsigned int tile = (unsigned int)(offset / READOUT_TILE_BYTES);
	unsigned int cell = (unsigned int)(offset % READOUT_TILE_BYTES) / 4;
	float gp = 0, gm = 0;

	if (ionpu_fabric_read(core->fabric, tile, cell / IONPU_TILE_NEURONS,
			      cell % IONPU_TILE_NEURONS, &gp, &gm))
		return 0;
	return readout_code(gp) | (uint32_t)readout_code(gm) << 16;
}

uint64_t ionpu_core_readout(struct ionpu_core *core, uint64_t offset,
			    unsigned int size)
{
	uint64_t end = ionpu_core_readout_size(core);

	if ((size != 2 && size != 4 && size != 8) || offset % size ||
	    offset >= end)
		return 0;
	if (size == 2)
		return (readout_pair(core, offset & ~UINT64_C(3)) >>
			(8 * (offset & 2))) &
		       0xffff;
	if (size == 4)
		return readout_pair(core, offset);
	return readout_pair(core, offset) |
	       (uint64_t)readout_pair(core, offset + 4) << 32;
}
