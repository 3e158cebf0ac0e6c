// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IONPU-1 command layer (docs/hardware.md "Commands").  Every field of a
 * command is checked before the fabric is touched, payloads are checked
 * whole before the first entry is applied, so a malformed command completes
 * with an error status and leaves the card as it was.
 */
#include "ionpu_cmd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* CQE result of INVALID_FIELD when the bad field is inline, not an entry. */
#define BAD_INLINE UINT32_MAX

/* The fields of a command a given opcode reads; all others must be 0. */
#define USE_TILE 0x1
#define USE_IN 0x2
#define USE_OUT 0x4

/* The two payload buffers, numbered as IONPU_SC_INVALID_SGL reports them. */
enum { BUF_IN, BUF_OUT, BUFS };

/* One segment of a payload buffer in host memory. */
struct seg {
	uint64_t addr;
	uint32_t len;
};

/*
 * Where a payload buffer lies: flat at its SQE address (seg NULL), or in
 * the n segments of the scatter-gather list, as read and checked before
 * the command runs so that a host changing the list meanwhile cannot make
 * the card stop half way.
 */
struct sgl {
	struct seg *seg;
	uint32_t n;
};

struct cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint16_t tile;
	uint16_t rsvd;
	uint64_t in_addr;
	uint32_t in_len;
	uint32_t out_len;
	uint64_t out_addr;
	uint32_t p[IONPU_SQE_PARAMS];
	struct sgl sgl[BUFS];
};

struct op {
	uint8_t opcode;
	uint8_t uses;
	uint8_t params; /* bit i: param i is read */
	void (*run)(struct ionpu_cmd_card *card, const struct cmd *c,
		    struct ionpu_cmd_outcome *out);
	uint32_t cap; /* the CAPS bit the opcode needs, 0 for none */
};

static void decode(const struct ionpu_hw_sqe *e, struct cmd *c)
{
	c->opcode = e->opcode;
	c->flags = e->flags;
	c->cid = ionpu_le16_to_cpu(e->cid);
	c->tile = ionpu_le16_to_cpu(e->tile);
	c->rsvd = ionpu_le16_to_cpu(e->rsvd);
	c->in_addr = ionpu_le64_to_cpu(e->in_addr);
	c->in_len = ionpu_le32_to_cpu(e->in_len);
	c->out_len = ionpu_le32_to_cpu(e->out_len);
	c->out_addr = ionpu_le64_to_cpu(e->out_addr);
	for (unsigned int i = 0; i < IONPU_SQE_PARAMS; i++)
		c->p[i] = ionpu_le32_to_cpu(e->param[i]);
	for (unsigned int i = 0; i < BUFS; i++)
		c->sgl[i] = (struct sgl){ .seg = NULL };
}

static void status(struct ionpu_cmd_outcome *out, uint16_t code,
		   uint64_t result)
{
	out->cqe[0].code = code;
	out->cqe[0].result = result;
}

static void dma_failed(const struct cmd *c, struct ionpu_cmd_outcome *out)
{
	status(out, IONPU_SC_DMA_ERROR, 0);
	out->error = IONPU_ERR_DMA;
	out->error_info = (uint32_t)c->opcode << 16 | c->cid;
}

static const uint8_t sgl_flag[BUFS] = {
	IONPU_SQE_FLAG_IN_SGL,
	IONPU_SQE_FLAG_OUT_SGL,
};

static uint64_t buf_addr(const struct cmd *c, unsigned int b)
{
	return b == BUF_IN ? c->in_addr : c->out_addr;
}

static uint32_t buf_len(const struct cmd *c, unsigned int b)
{
	return b == BUF_IN ? c->in_len : c->out_len;
}

/*
 * Read and check the scatter-gather list of buffer @b, if the command has
 * one: entries in order until their lengths add up to exactly the buffer's
 * length.  0, or -1 with the outcome set; the caller frees c->sgl[b].seg
 * either way.
 */
static int sgl_load(struct ionpu_cmd_card *card, struct cmd *c, unsigned int b,
		    struct ionpu_cmd_outcome *out)
{
	uint32_t len = buf_len(c, b), sum = 0;
	struct sgl *l = &c->sgl[b];

	if (!(c->flags & sgl_flag[b]))
		return 0;
	/* Every segment holds a byte at least. */
	l->seg = calloc(len < IONPU_SGL_MAX_ENTRIES ? len :
						      IONPU_SGL_MAX_ENTRIES,
			sizeof(*l->seg));
	if (!l->seg) {
		status(out, IONPU_SC_INTERNAL, 0);
		return -1;
	}
	for (l->n = 0; sum < len; l->n++) {
		struct ionpu_hw_sgl_entry e;
		struct seg *s;

		if (l->n == IONPU_SGL_MAX_ENTRIES)
			goto bad;
		s = &l->seg[l->n];
		if (ionpu_dma_read(card->dma,
				   buf_addr(c, b) + (uint64_t)l->n * sizeof(e),
				   &e, sizeof(e))) {
			dma_failed(c, out);
			return -1;
		}
		s->addr = ionpu_le64_to_cpu(e.addr);
		s->len = ionpu_le32_to_cpu(e.len);
		if (!s->len || s->len > len - sum || e.rsvd)
			goto bad;
		sum += s->len;
	}
	return 0;
bad:
	status(out, IONPU_SC_INVALID_SGL, (uint64_t)b << 32 | l->n);
	return -1;
}

/*
 * Move the first @len bytes of buffer @b (len <= its length) between host
 * memory and @data: a flat buffer in one transfer, a list one segment at a
 * time, leaving the bytes past @len untouched.  0 or -errno.
 */
static int transfer(struct ionpu_cmd_card *card, const struct cmd *c,
		    unsigned int b, uint8_t *data, uint32_t len)
{
	const struct sgl *l = &c->sgl[b];
	const struct seg flat = { .addr = buf_addr(c, b), .len = len };
	const struct seg *seg = l->seg ? l->seg : &flat;
	uint32_t n = l->seg ? l->n : 1;
	int ret = 0;

	for (uint32_t i = 0; i < n && len && !ret; i++) {
		uint32_t part = len < seg[i].len ? len : seg[i].len;

		ret = b == BUF_IN ? ionpu_dma_read(card->dma, seg[i].addr, data,
						   part) :
				    ionpu_dma_write(card->dma, seg[i].addr,
						    data, part);
		data += part;
		len -= part;
	}
	return ret;
}

/*
 * Fetch the input payload into a new buffer: NULL with the outcome set
 * when that fails.  The caller bounds c->in_len first.
 */
static void *payload_in(struct ionpu_cmd_card *card, const struct cmd *c,
			struct ionpu_cmd_outcome *out)
{
	uint8_t *buf = malloc(c->in_len);

	if (!buf) {
		status(out, IONPU_SC_INTERNAL, 0);
		return NULL;
	}
	if (transfer(card, c, BUF_IN, buf, c->in_len)) {
		dma_failed(c, out);
		free(buf);
		return NULL;
	}
	return buf;
}

static void payload_out(struct ionpu_cmd_card *card, const struct cmd *c,
			const void *buf, size_t len,
			struct ionpu_cmd_outcome *out)
{
	/* transfer() only reads @buf when it writes to the host. */
	if (transfer(card, c, BUF_OUT, (void *)buf, (uint32_t)len))
		dma_failed(c, out);
}

/* After a change to non-volatile state: make it durable. */
static void persist(struct ionpu_cmd_card *card, const struct cmd *c,
		    struct ionpu_cmd_outcome *out)
{
	if (!card->nvstore ||
	    !ionpu_fabric_save(card->fabric, card->nvstore, NULL))
		return;
	if (out->cqe[0].code == IONPU_SC_SUCCESS)
		status(out, IONPU_SC_NVSTORE_ERROR, out->cqe[0].result);
	if (!out->error) {
		out->error = IONPU_ERR_NVSTORE;
		out->error_info = (uint32_t)c->opcode << 16 | c->cid;
	}
}

/* @n entries of @size bytes in c->in_len, 1..@max of them: 0 or -1. */
static int entries_in(const struct cmd *c, uint32_t size, uint32_t max,
		      uint32_t *n, struct ionpu_cmd_outcome *out)
{
	if (!c->in_len || c->in_len % size || c->in_len / size > max) {
		status(out, IONPU_SC_INVALID_LENGTH, 0);
		return -1;
	}
	*n = c->in_len / size;
	return 0;
}

static int out_room(const struct cmd *c, uint64_t need,
		    struct ionpu_cmd_outcome *out)
{
	if (c->out_len < need) {
		status(out, IONPU_SC_INVALID_LENGTH, need);
		return -1;
	}
	return 0;
}

/* --- identity and counters ---------------------------------------------- */

static void op_identify(struct ionpu_cmd_card *card, const struct cmd *c,
			struct ionpu_cmd_outcome *out)
{
	struct ionpu_hw_identify b = {
		.id = ionpu_cpu_to_le32(IONPU_ID_MAGIC),
		.version = ionpu_cpu_to_le32(card->id.version),
		.caps = ionpu_cpu_to_le32(card->id.caps),
		.tiles = ionpu_cpu_to_le32(ionpu_fabric_tiles(card->fabric)),
		.tile_rows = ionpu_cpu_to_le32(IONPU_TILE_ROWS),
		.tile_neurons = ionpu_cpu_to_le32(IONPU_TILE_NEURONS),
		.seed = ionpu_cpu_to_le64(card->id.seed),
		.g_levels = ionpu_cpu_to_le32(IONPU_FAB_G_LEVELS),
		.g_min = ionpu_f32_to_le32(IONPU_FAB_G_MIN),
		.g_max = ionpu_f32_to_le32(IONPU_FAB_G_MAX),
		.max_fanout = ionpu_cpu_to_le32(IONPU_FAB_MAX_FANOUT),
		.max_delay = ionpu_cpu_to_le32(IONPU_FAB_MAX_DELAY),
		.input_window = ionpu_cpu_to_le32(IONPU_FAB_INPUT_WINDOW),
		.calib_size = ionpu_cpu_to_le32(IONPU_CALIB_SIZE),
		.sq_max_entries = ionpu_cpu_to_le32(IONPU_SQ_MAX_ENTRIES),
		.cq_max_entries = ionpu_cpu_to_le32(IONPU_CQ_MAX_ENTRIES),
		.eq_max_entries = ionpu_cpu_to_le32(IONPU_EQ_MAX_ENTRIES),
		.max_cells = ionpu_cpu_to_le32(IONPU_MAX_CELLS),
		.max_spikes = ionpu_cpu_to_le32(IONPU_MAX_SPIKES),
		.routes_max_bytes = ionpu_cpu_to_le32(IONPU_ROUTES_MAX_BYTES),
		.sgl_max_entries = ionpu_cpu_to_le32(IONPU_SGL_MAX_ENTRIES),
	};

	if (!c->out_len) {
		status(out, IONPU_SC_INVALID_LENGTH, sizeof(b));
		return;
	}
	memcpy(b.serial, card->id.serial, sizeof(b.serial));
	status(out, IONPU_SC_SUCCESS, sizeof(b));
	payload_out(card, c, &b,
		    c->out_len < sizeof(b) ? c->out_len : sizeof(b), out);
}

static void op_read_counters(struct ionpu_cmd_card *card, const struct cmd *c,
			     struct ionpu_cmd_outcome *out)
{
	struct ionpu_hw_counters b;
	struct ionpu_fab_counters k;
	/* A card without learning has the counters of rev 1.3. */
	uint32_t size = card->id.caps & IONPU_CAP_LEARN ?
				sizeof(b) :
				IONPU_HW_COUNTERS_V1_SIZE;

	if (!c->out_len) {
		status(out, IONPU_SC_INVALID_LENGTH, size);
		return;
	}
	ionpu_fabric_counters(card->fabric, &k);
	b = (struct ionpu_hw_counters){
		.timesteps = ionpu_cpu_to_le64(k.timesteps),
		.spikes_in = ionpu_cpu_to_le64(k.spikes_in),
		.spikes_out = ionpu_cpu_to_le64(k.spikes_out),
		.syn_events = ionpu_cpu_to_le64(k.syn_events),
		.program_pulses = ionpu_cpu_to_le64(k.program_pulses),
		.busy_ns = ionpu_cpu_to_le64(k.busy_ns),
		.energy_fj = ionpu_cpu_to_le64(k.energy_fj),
		.eq_dropped = ionpu_cpu_to_le64(card->q->eq_dropped),
		.learn_pulses = ionpu_cpu_to_le64(k.learn_pulses),
		.learn_energy_fj = ionpu_cpu_to_le64(k.learn_energy_fj),
	};
	status(out, IONPU_SC_SUCCESS, size);
	payload_out(card, c, &b, c->out_len < size ? c->out_len : size, out);
}

/*
 * Each tile of the mask, lowest first; checked whole (the tiles, the room)
 * before a counter is read or cleared.
 */
static void op_read_tile_counters(struct ionpu_cmd_card *card,
				  const struct cmd *c,
				  struct ionpu_cmd_outcome *out)
{
	unsigned int tiles = ionpu_fabric_tiles(card->fabric);
	uint64_t mask = (uint64_t)c->p[1] << 32 | c->p[0];
	bool clear = c->p[2] & IONPU_TILE_COUNTERS_CLEAR;
	struct ionpu_hw_tile_counters b[IONPU_MAX_TILES];
	unsigned int n = 0;

	if (!mask || (tiles < 64 && mask >> tiles) ||
	    c->p[2] & ~IONPU_TILE_COUNTERS_CLEAR) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		return;
	}
	if (out_room(c, (uint64_t)__builtin_popcountll(mask) * sizeof(b[0]),
		     out))
		return;
	for (unsigned int t = 0; t < tiles; t++) {
		struct ionpu_fab_tile_counters k;

		if (!(mask >> t & 1))
			continue;
		if (ionpu_fabric_tile_counters(card->fabric, t, &k, clear)) {
			status(out, IONPU_SC_INTERNAL, 0);
			return;
		}
		b[n++] = (struct ionpu_hw_tile_counters){
			.spikes_in = ionpu_cpu_to_le64(k.spikes_in),
			.spikes_out = ionpu_cpu_to_le64(k.spikes_out),
			.syn_events = ionpu_cpu_to_le64(k.syn_events),
			.program_pulses = ionpu_cpu_to_le64(k.program_pulses),
			.busy_ns = ionpu_cpu_to_le64(k.busy_ns),
			.energy_fj = ionpu_cpu_to_le64(k.energy_fj),
			.learn_pulses = ionpu_cpu_to_le64(k.learn_pulses),
			.learn_energy_fj = ionpu_cpu_to_le64(k.learn_energy_fj),
		};
	}
	status(out, IONPU_SC_SUCCESS, n);
	payload_out(card, c, b, n * sizeof(b[0]), out);
}

/* A tile mask of 0 means every tile, as RESET_STATE did before rev 1.2. */
static void op_reset_state(struct ionpu_cmd_card *card, const struct cmd *c,
			   struct ionpu_cmd_outcome *out)
{
	unsigned int tiles = ionpu_fabric_tiles(card->fabric);
	uint64_t all = tiles < 64 ? (1ull << tiles) - 1 : ~0ull;
	uint64_t mask = (uint64_t)c->p[1] << 32 | c->p[0];

	if (mask & ~all) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		return;
	}
	ionpu_fabric_reset_state(card->fabric, mask ? mask : all);
	status(out, IONPU_SC_SUCCESS, 0);
}

/* --- network configuration ---------------------------------------------- */

static void op_configure_neurons(struct ionpu_cmd_card *card,
				 const struct cmd *c,
				 struct ionpu_cmd_outcome *out)
{
	const struct ionpu_fab_tile_config tcfg = {
		.mode = (enum ionpu_fab_mode)c->p[0],
		.model = (enum ionpu_fab_model)c->p[1],
		.dt = ionpu_bits_to_f32(c->p[2]),
		.gain = ionpu_bits_to_f32(c->p[3]),
	};
	uint32_t first = c->p[4], flags = c->p[5], n = 0;
	struct ionpu_hw_neuron *buf = NULL;

	if ((flags & ~(IONPU_NEURONS_SET_TILE | IONPU_NEURONS_SET_CHAIN)) ||
	    first >= IONPU_TILE_NEURONS ||
	    (!(flags & IONPU_NEURONS_SET_CHAIN) && c->p[6]) ||
	    (!(flags & IONPU_NEURONS_SET_TILE) &&
	     (c->p[0] | c->p[1] | c->p[2] | c->p[3]))) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		return;
	}
	if (c->in_len) {
		if (entries_in(c, sizeof(*buf), IONPU_TILE_NEURONS - first, &n,
			       out))
			return;
		buf = payload_in(card, c, out);
		if (!buf)
			return;
	}
	if (((flags & IONPU_NEURONS_SET_TILE) &&
	     ionpu_fabric_set_tile(card->fabric, c->tile, &tcfg)) ||
	    ((flags & IONPU_NEURONS_SET_CHAIN) &&
	     ionpu_fabric_chain(card->fabric, c->tile, c->p[6]))) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		goto done;
	}
	status(out, IONPU_SC_SUCCESS, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct ionpu_hw_neuron *e = &buf[i];
		const struct ionpu_fab_neuron p = {
			.tau = ionpu_le32_to_f32(e->tau),
			.tau_syn = ionpu_le32_to_f32(e->tau_syn),
			.r = ionpu_le32_to_f32(e->r),
			.v_leak = ionpu_le32_to_f32(e->v_leak),
			.v_threshold = ionpu_le32_to_f32(e->v_threshold),
			.v_reset = ionpu_le32_to_f32(e->v_reset),
			.w_in = ionpu_le32_to_f32(e->w_in),
			.refractory = ionpu_le32_to_cpu(e->refractory),
		};

		/* Entries before a refused one stay applied: the result says. */
		if (ionpu_fabric_set_neuron(card->fabric, c->tile, first + i,
					    &p)) {
			status(out, IONPU_SC_INVALID_FIELD, i);
			break;
		}
	}
done:
	free(buf);
}

/* Walk the route records of LOAD_ROUTES; @apply: set them as well. */
static int walk_routes(struct ionpu_cmd_card *card, const struct cmd *c,
		       const uint8_t *buf, bool apply,
		       struct ionpu_fab_target *t,
		       struct ionpu_cmd_outcome *out)
{
	uint32_t off = 0;

	for (uint32_t r = 0; r < c->p[0]; r++) {
		/* Records and targets are 8 bytes: each is aligned in @buf. */
		const struct ionpu_hw_route_header *h =
			(const void *)(buf + off);
		const struct ionpu_hw_route_target *e;
		uint16_t neuron, n;

		if (c->in_len - off < sizeof(*h)) {
			status(out, IONPU_SC_INVALID_LENGTH, r);
			return -1;
		}
		neuron = ionpu_le16_to_cpu(h->neuron);
		n = ionpu_le16_to_cpu(h->targets);
		off += sizeof(*h);
		if (neuron >= IONPU_TILE_NEURONS ||
		    (h->flags & ~IONPU_ROUTE_FLAG_TO_HOST) || h->rsvd ||
		    h->rsvd2 || n > IONPU_FAB_MAX_FANOUT) {
			status(out, IONPU_SC_INVALID_FIELD, r);
			return -1;
		}
		if ((c->in_len - off) / sizeof(*e) < n) {
			status(out, IONPU_SC_INVALID_LENGTH, r);
			return -1;
		}
		e = (const void *)(buf + off);
		for (uint16_t i = 0; i < n; i++) {
			t[i].tile = ionpu_le16_to_cpu(e[i].tile);
			t[i].row = ionpu_le16_to_cpu(e[i].row);
			t[i].delay = ionpu_le16_to_cpu(e[i].delay);
			if (t[i].tile >= ionpu_fabric_tiles(card->fabric) ||
			    t[i].row >= IONPU_TILE_ROWS ||
			    t[i].delay > IONPU_FAB_MAX_DELAY || e[i].rsvd) {
				status(out, IONPU_SC_INVALID_FIELD, r);
				return -1;
			}
		}
		off += (uint32_t)n * sizeof(*e);
		if (apply &&
		    ionpu_fabric_set_route(card->fabric, c->tile, neuron,
					   h->flags & IONPU_ROUTE_FLAG_TO_HOST,
					   t, n)) {
			status(out, IONPU_SC_INTERNAL, r);
			return -1;
		}
	}
	if (off != c->in_len) {
		status(out, IONPU_SC_INVALID_LENGTH, c->p[0]);
		return -1;
	}
	return 0;
}

static void op_load_routes(struct ionpu_cmd_card *card, const struct cmd *c,
			   struct ionpu_cmd_outcome *out)
{
	struct ionpu_fab_target *t;
	uint8_t *buf;

	if (!c->p[0] || c->in_len > IONPU_ROUTES_MAX_BYTES ||
	    c->in_len < sizeof(struct ionpu_hw_route_header)) {
		status(out,
		       c->p[0] ? IONPU_SC_INVALID_LENGTH :
				 IONPU_SC_INVALID_FIELD,
		       c->p[0] ? 0 : BAD_INLINE);
		return;
	}
	t = calloc(IONPU_FAB_MAX_FANOUT, sizeof(*t));
	if (!t) {
		status(out, IONPU_SC_INTERNAL, 0);
		return;
	}
	buf = payload_in(card, c, out);
	if (buf && !walk_routes(card, c, buf, false, t, out) &&
	    !walk_routes(card, c, buf, true, t, out))
		status(out, IONPU_SC_SUCCESS, c->p[0]);
	free(buf);
	free(t);
}

/* --- crossbar ------------------------------------------------------------ */

/* A cell's row, column and device, as PROGRAM_CELLS and RAW_PULSES name it. */
static bool cell_ok(__le16 row, __le16 column, uint8_t device)
{
	return ionpu_le16_to_cpu(row) < IONPU_TILE_ROWS &&
	       ionpu_le16_to_cpu(column) < IONPU_TILE_NEURONS && device <= 1;
}

static int prog_entry_ok(const struct ionpu_hw_prog_entry *e)
{
	float target = ionpu_le32_to_f32(e->target);
	float tol = ionpu_le32_to_f32(e->tolerance);

	return cell_ok(e->row, e->column, e->device) && !e->rsvd && e->budget &&
	       target >= IONPU_FAB_G_MIN && target <= IONPU_FAB_G_MAX &&
	       isfinite(tol) && tol >= 0;
}

static void op_program_cells(struct ionpu_cmd_card *card, const struct cmd *c,
			     struct ionpu_cmd_outcome *out)
{
	struct ionpu_hw_prog_entry *buf;
	struct ionpu_hw_prog_result *res = NULL;
	uint32_t n, failed = 0;

	if (entries_in(c, sizeof(*buf), IONPU_MAX_CELLS, &n, out) ||
	    out_room(c, (uint64_t)n * sizeof(*res), out))
		return;
	buf = payload_in(card, c, out);
	if (!buf)
		return;
	for (uint32_t i = 0; i < n; i++) {
		if (!prog_entry_ok(&buf[i])) {
			status(out, IONPU_SC_INVALID_FIELD, i);
			goto done;
		}
	}
	res = calloc(n, sizeof(*res));
	if (!res) {
		status(out, IONPU_SC_INTERNAL, 0);
		goto done;
	}
	status(out, IONPU_SC_SUCCESS, 0);
	for (uint32_t i = 0; i < n; i++) {
		const struct ionpu_hw_prog_entry *e = &buf[i];
		struct ionpu_fab_prog_result pr;

		if (ionpu_fabric_program(card->fabric, c->tile,
					 ionpu_le16_to_cpu(e->row),
					 ionpu_le16_to_cpu(e->column),
					 (enum ionpu_fab_device)e->device,
					 ionpu_le32_to_f32(e->target),
					 ionpu_le32_to_f32(e->tolerance),
					 ionpu_le16_to_cpu(e->budget), &pr)) {
			status(out, IONPU_SC_INTERNAL, i);
			break;
		}
		res[i].achieved = ionpu_f32_to_le32(pr.achieved);
		res[i].pulses = ionpu_cpu_to_le16(pr.pulses > UINT16_MAX ?
							  UINT16_MAX :
							  (uint16_t)pr.pulses);
		res[i].status = (uint8_t)pr.status;
		failed += pr.status != IONPU_FAB_PROG_OK;
	}
	if (out->cqe[0].code == IONPU_SC_SUCCESS)
		out->cqe[0].result = failed;
	persist(card, c, out);
	payload_out(card, c, res, (size_t)n * sizeof(*res), out);
done:
	free(res);
	free(buf);
}

static void op_read_cells(struct ionpu_cmd_card *card, const struct cmd *c,
			  struct ionpu_cmd_outcome *out)
{
	uint32_t row0 = c->p[0], rows = c->p[1], col0 = c->p[2], cols = c->p[3];
	struct ionpu_hw_cell_read *b;

	if (!rows || !cols || row0 >= IONPU_TILE_ROWS ||
	    rows > IONPU_TILE_ROWS - row0 || col0 >= IONPU_TILE_NEURONS ||
	    cols > IONPU_TILE_NEURONS - col0) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		return;
	}
	if (out_room(c, (uint64_t)rows * cols * sizeof(*b), out))
		return;
	b = malloc((size_t)rows * cols * sizeof(*b));
	if (!b) {
		status(out, IONPU_SC_INTERNAL, 0);
		return;
	}
	status(out, IONPU_SC_SUCCESS, (uint64_t)rows * cols);
	for (uint32_t r = 0; r < rows; r++) {
		for (uint32_t k = 0; k < cols; k++) {
			struct ionpu_hw_cell_read *e = &b[(size_t)r * cols + k];
			float gp = 0, gm = 0;

			if (ionpu_fabric_read(card->fabric, c->tile, row0 + r,
					      col0 + k, &gp, &gm)) {
				status(out, IONPU_SC_INTERNAL, 0);
				goto done;
			}
			e->g_plus = ionpu_f32_to_le32(gp);
			e->g_minus = ionpu_f32_to_le32(gm);
		}
	}
	payload_out(card, c, b, (size_t)rows * cols * sizeof(*b), out);
done:
	free(b);
}

static void op_raw_pulses(struct ionpu_cmd_card *card, const struct cmd *c,
			  struct ionpu_cmd_outcome *out)
{
	struct ionpu_hw_pulse_entry *buf;
	struct ionpu_hw_pulse_result *res = NULL;
	uint32_t n;

	if (entries_in(c, sizeof(*buf), IONPU_MAX_CELLS, &n, out) ||
	    out_room(c, (uint64_t)n * sizeof(*res), out))
		return;
	buf = payload_in(card, c, out);
	if (!buf)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const struct ionpu_hw_pulse_entry *e = &buf[i];

		if (!cell_ok(e->row, e->column, e->device) || e->kind > 1 ||
		    !e->count) {
			status(out, IONPU_SC_INVALID_FIELD, i);
			goto done;
		}
	}
	res = calloc(n, sizeof(*res));
	if (!res) {
		status(out, IONPU_SC_INTERNAL, 0);
		goto done;
	}
	status(out, IONPU_SC_SUCCESS, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct ionpu_hw_pulse_entry *e = &buf[i];
		float g = 0;

		if (ionpu_fabric_pulse(card->fabric, c->tile,
				       ionpu_le16_to_cpu(e->row),
				       ionpu_le16_to_cpu(e->column),
				       (enum ionpu_fab_device)e->device,
				       (enum ionpu_fab_pulse)e->kind,
				       ionpu_le16_to_cpu(e->count), &g)) {
			status(out, IONPU_SC_INTERNAL, i);
			break;
		}
		res[i].g = ionpu_f32_to_le32(g);
	}
	persist(card, c, out);
	payload_out(card, c, res, (size_t)n * sizeof(*res), out);
done:
	free(res);
	free(buf);
}

/* --- learning ------------------------------------------------------------ */

/* 0 and the rule in *@r, NULL for off; -1 for a payload it refuses. */
static int learn_rule(const struct ionpu_hw_learn *b,
		      struct ionpu_fab_learn_rule *r,
		      const struct ionpu_fab_learn_rule **rule)
{
	uint32_t flags = ionpu_le32_to_cpu(b->flags);

	if ((flags & ~IONPU_LEARN_FLAG_ENABLE) || b->rsvd[0] || b->rsvd[1])
		return -1;
	if (!(flags & IONPU_LEARN_FLAG_ENABLE)) {
		*rule = NULL;
		/* Off carries no rule: a stray field is a mistake. */
		return b->amp_pot || b->amp_dep || b->pre_ref ||
				       b->post_target || b->max_pulses ?
			       -1 :
			       0;
	}
	*r = (struct ionpu_fab_learn_rule){
		.amp_pot = ionpu_le32_to_f32(b->amp_pot),
		.amp_dep = ionpu_le32_to_f32(b->amp_dep),
		.pre_ref = ionpu_le32_to_f32(b->pre_ref),
		.post_target = ionpu_le32_to_cpu(b->post_target),
		.max_pulses = ionpu_le32_to_cpu(b->max_pulses),
	};
	*rule = r;
	return 0;
}

static void op_learn(struct ionpu_cmd_card *card, const struct cmd *c,
		     struct ionpu_cmd_outcome *out)
{
	const struct ionpu_fab_learn_rule *rule;
	struct ionpu_fab_learn_rule r;
	struct ionpu_hw_learn *b;
	uint32_t n;

	if (entries_in(c, sizeof(*b), 1, &n, out))
		return;
	b = payload_in(card, c, out);
	if (!b)
		return;
	/* The fabric checks the rule's values (NaN, ranges). */
	if (learn_rule(b, &r, &rule) ||
	    ionpu_fabric_learn(card->fabric, c->tile, rule))
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	else
		status(out, IONPU_SC_SUCCESS, 0);
	free(b);
}

/* Refused (INVALID_FIELD) for a neuron past the tile or learning off. */
static void op_teach(struct ionpu_cmd_card *card, const struct cmd *c,
		     struct ionpu_cmd_outcome *out)
{
	int pulses = ionpu_fabric_teach(card->fabric, c->tile, c->p[0]);

	if (pulses < 0) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		return;
	}
	status(out, IONPU_SC_SUCCESS, (uint64_t)pulses);
	persist(card, c, out);
}

/* --- calibration record -------------------------------------------------- */

static int calib_range(const struct cmd *c, uint32_t len,
		       struct ionpu_cmd_outcome *out)
{
	if (c->p[0] >= IONPU_CALIB_SIZE) {
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
		return -1;
	}
	if (!len || len > IONPU_CALIB_SIZE - c->p[0]) {
		status(out, IONPU_SC_INVALID_LENGTH, 0);
		return -1;
	}
	return 0;
}

static void op_read_calib(struct ionpu_cmd_card *card, const struct cmd *c,
			  struct ionpu_cmd_outcome *out)
{
	uint8_t b[IONPU_CALIB_SIZE];

	if (calib_range(c, c->out_len, out))
		return;
	if (ionpu_fabric_calib_read(card->fabric, c->p[0], b, c->out_len)) {
		status(out, IONPU_SC_INTERNAL, 0);
		return;
	}
	status(out, IONPU_SC_SUCCESS, c->out_len);
	payload_out(card, c, b, c->out_len, out);
}

static void op_write_calib(struct ionpu_cmd_card *card, const struct cmd *c,
			   struct ionpu_cmd_outcome *out)
{
	uint8_t *buf;

	if (calib_range(c, c->in_len, out))
		return;
	buf = payload_in(card, c, out);
	if (!buf)
		return;
	if (ionpu_fabric_calib_write(card->fabric, c->p[0], buf, c->in_len)) {
		status(out, IONPU_SC_INTERNAL, 0);
	} else {
		status(out, IONPU_SC_SUCCESS, c->in_len);
		persist(card, c, out);
	}
	free(buf);
}

/* --- running ------------------------------------------------------------- */

static void op_input_spikes(struct ionpu_cmd_card *card, const struct cmd *c,
			    struct ionpu_cmd_outcome *out)
{
	uint64_t now = ionpu_fabric_now(card->fabric);
	struct ionpu_hw_spike_entry *buf;
	uint32_t n;

	if (entries_in(c, sizeof(*buf), IONPU_MAX_SPIKES, &n, out))
		return;
	buf = payload_in(card, c, out);
	if (!buf)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const struct ionpu_hw_spike_entry *e = &buf[i];

		if (ionpu_le16_to_cpu(e->row) >= IONPU_TILE_ROWS ||
		    e->tile >= ionpu_fabric_tiles(card->fabric) ||
		    !isfinite(ionpu_le32_to_f32(e->value))) {
			status(out, IONPU_SC_INVALID_FIELD, i);
			goto done;
		}
	}
	status(out, IONPU_SC_SUCCESS, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct ionpu_hw_spike_entry *e = &buf[i];

		if (ionpu_fabric_input_at(card->fabric, now + e->delay, e->tile,
					  ionpu_le16_to_cpu(e->row),
					  ionpu_le32_to_f32(e->value))) {
			status(out, IONPU_SC_INTERNAL, i);
			break;
		}
	}
done:
	free(buf);
}

static void op_run(struct ionpu_cmd_card *card, const struct cmd *c,
		   struct ionpu_cmd_outcome *out)
{
	if (card->running) {
		status(out, IONPU_SC_BUSY, 0);
		return;
	}
	card->running = true;
	card->run_cid = c->cid;
	card->run_left = c->p[0] ? c->p[0] : UINT64_MAX;
	card->run_done = 0;
	/* It completes when its timesteps are done or a STOP ends it. */
	out->ncqe = 0;
}

static void op_stop(struct ionpu_cmd_card *card, const struct cmd *c,
		    struct ionpu_cmd_outcome *out)
{
	if (!card->running) {
		status(out, IONPU_SC_SUCCESS, 0);
		return;
	}
	card->running = false;
	out->cqe[0] = (struct ionpu_cqe){
		.cid = card->run_cid,
		.code = IONPU_SC_ABORTED,
		.result = card->run_done,
	};
	out->cqe[1] = (struct ionpu_cqe){
		.cid = c->cid,
		.code = IONPU_SC_SUCCESS,
		.result = 1,
	};
	out->ncqe = 2;
}

static const struct op ops[] = {
	{ IONPU_OP_IDENTIFY, USE_OUT, 0, op_identify, 0 },
	{ IONPU_OP_READ_COUNTERS, USE_OUT, 0, op_read_counters, 0 },
	{ IONPU_OP_RESET_STATE, 0, 0x03, op_reset_state, 0 },
	{ IONPU_OP_READ_TILE_COUNTERS, USE_OUT, 0x07, op_read_tile_counters,
	  IONPU_CAP_TILE_COUNTERS },
	{ IONPU_OP_CONFIGURE_NEURONS, USE_TILE | USE_IN, 0x7f,
	  op_configure_neurons, 0 },
	{ IONPU_OP_LOAD_ROUTES, USE_TILE | USE_IN, 0x01, op_load_routes, 0 },
	{ IONPU_OP_PROGRAM_CELLS, USE_TILE | USE_IN | USE_OUT, 0,
	  op_program_cells, 0 },
	{ IONPU_OP_READ_CELLS, USE_TILE | USE_OUT, 0x0f, op_read_cells, 0 },
	{ IONPU_OP_RAW_PULSES, USE_TILE | USE_IN | USE_OUT, 0, op_raw_pulses,
	  0 },
	{ IONPU_OP_LEARN, USE_TILE | USE_IN, 0, op_learn, IONPU_CAP_LEARN },
	{ IONPU_OP_TEACH, USE_TILE, 0x01, op_teach, IONPU_CAP_LEARN },
	{ IONPU_OP_READ_CALIB, USE_OUT, 0x01, op_read_calib, 0 },
	{ IONPU_OP_WRITE_CALIB, USE_IN, 0x01, op_write_calib, 0 },
	{ IONPU_OP_INPUT_SPIKES, USE_IN, 0, op_input_spikes, 0 },
	{ IONPU_OP_RUN, 0, 0x01, op_run, 0 },
	{ IONPU_OP_STOP, 0, 0, op_stop, 0 },
};

/*
 * Fields the opcode does not read must be 0: they are reserved for it.  So
 * is a buffer's SGL flag unless the opcode uses that buffer and it is not
 * empty; its list then starts on an IONPU_SGL_ALIGN boundary.
 */
static bool unused_zero(const struct op *op, const struct cmd *c)
{
	static const uint8_t use[BUFS] = { USE_IN, USE_OUT };

	for (unsigned int i = 0; i < IONPU_SQE_PARAMS; i++)
		if (!(op->params & (1u << i)) && c->p[i])
			return false;
	for (unsigned int b = 0; b < BUFS; b++)
		if ((c->flags & sgl_flag[b]) &&
		    (!(op->uses & use[b]) || !buf_len(c, b) ||
		     buf_addr(c, b) % IONPU_SGL_ALIGN))
			return false;
	return !(c->flags & ~(sgl_flag[BUF_IN] | sgl_flag[BUF_OUT])) &&
	       !c->rsvd && ((op->uses & USE_TILE) || !c->tile) &&
	       ((op->uses & USE_IN) || (!c->in_addr && !c->in_len)) &&
	       ((op->uses & USE_OUT) || (!c->out_addr && !c->out_len));
}

void ionpu_cmd_reset(struct ionpu_cmd_card *card)
{
	card->running = false;
	card->run_left = 0;
	card->run_done = 0;
	card->event_error = 0;
	card->events_posted = 0;
}

void ionpu_cmd_execute(struct ionpu_cmd_card *card,
		       const struct ionpu_hw_sqe *sqe,
		       struct ionpu_cmd_outcome *out)
{
	const struct op *op = NULL;
	struct cmd c;

	decode(sqe, &c);
	*out = (struct ionpu_cmd_outcome){
		.cqe[0] = { .cid = c.cid, .code = IONPU_SC_SUCCESS },
		.ncqe = 1,
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].opcode == c.opcode &&
		    (card->id.caps & ops[i].cap) == ops[i].cap)
			op = &ops[i];
	if (!op)
		status(out, IONPU_SC_INVALID_OPCODE, 0);
	else if (!unused_zero(op, &c))
		status(out, IONPU_SC_INVALID_FIELD, BAD_INLINE);
	else if ((op->uses & USE_TILE) &&
		 c.tile >= ionpu_fabric_tiles(card->fabric))
		status(out, IONPU_SC_INVALID_TILE, 0);
	/* Both lists before the command: a bad one leaves nothing half done. */
	else if (!sgl_load(card, &c, BUF_IN, out) &&
		 !sgl_load(card, &c, BUF_OUT, out))
		op->run(card, &c, out);
	for (unsigned int b = 0; b < BUFS; b++)
		free(c.sgl[b].seg);
}

static int post_spike(void *opaque, uint64_t timestep, unsigned int tile,
		      unsigned int neuron)
{
	struct ionpu_cmd_card *card = opaque;
	int ret;

	/* After a failed write the ring position is unknown: post no more. */
	if (card->event_error)
		return 0;
	ret = ionpu_eq_post(card->q, card->dma, (uint32_t)timestep, tile,
			    neuron);
	if (ret < 0)
		card->event_error = ret;
	else
		card->events_posted += (uint32_t)ret;
	return 0;
}

static void run_ends(struct ionpu_cmd_card *card, uint16_t code,
		     struct ionpu_cmd_outcome *out)
{
	card->running = false;
	out->cqe[0] = (struct ionpu_cqe){
		.cid = card->run_cid,
		.code = code,
		.result = card->run_done,
	};
	out->ncqe = 1;
}

void ionpu_cmd_step(struct ionpu_cmd_card *card, struct ionpu_cmd_outcome *out)
{
	uint64_t done = 0;
	int ret;

	*out = (struct ionpu_cmd_outcome){ .ncqe = 0 };
	card->events_posted = 0;
	card->event_error = 0;
	ret = ionpu_fabric_run(card->fabric, 1, post_spike, card, &done);
	card->run_done += done;
	if (card->run_left != UINT64_MAX)
		card->run_left -= done;
	if (card->event_error) {
		run_ends(card, IONPU_SC_DMA_ERROR, out);
		out->error = IONPU_ERR_DMA;
		out->error_info = (uint32_t)IONPU_OP_RUN << 16 | card->run_cid;
	} else if (ret) {
		run_ends(card, IONPU_SC_INTERNAL, out);
	} else if (!card->run_left) {
		run_ends(card, IONPU_SC_SUCCESS, out);
	}
}
