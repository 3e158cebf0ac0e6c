/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 layouts in host memory: ring entries, scatter-gather lists,
 * command payloads and the calibration record's fixed parts.  The one place
 * they are spelled; the card's model core, the driver, libionpu and the
 * tests all use these structs.  docs/hardware.md gives the meaning of every
 * field, docs/calibration.md that of the record.
 *
 * Every field is little endian and naturally aligned, so the structs need
 * no packing; the asserts pin each size, and the offsets the docs give.
 * f32 fields are IEEE 754 binary32 bit patterns in a __le32.  The kernel
 * converts with cpu_to_le*() / le*_to_cpu(), userspace with hw/ionpu_le.h.
 * The register map is hw/ionpu_regs.h.
 */
#ifndef IONPU_WIRE_H
#define IONPU_WIRE_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#include <linux/stddef.h>
#else
#include <assert.h>
#include <stddef.h>
#endif

#define IONPU_SQE_PARAMS	8

/* Submission queue entry; reserved fields must be 0. */
struct ionpu_hw_sqe {
	__u8 opcode;		/* IONPU_OP_* */
	__u8 flags;		/* IONPU_SQE_FLAG_*; other bits 0 */
	__le16 cid;		/* echoed in the completion */
	__le16 tile;
	__le16 rsvd;
	__le64 in_addr;		/* payload the card reads, or its list */
	__le32 in_len;		/* bytes */
	__le32 out_len;		/* bytes */
	__le64 out_addr;	/* buffer the card writes, or its list */
	__le32 param[IONPU_SQE_PARAMS];
};

/* Rev 1.3: in_addr / out_addr point at a scatter-gather list, not the data. */
#define IONPU_SQE_FLAG_IN_SGL	0x01
#define IONPU_SQE_FLAG_OUT_SGL	0x02

static_assert(sizeof(struct ionpu_hw_sqe) == 64, "SQE size");
static_assert(offsetof(struct ionpu_hw_sqe, in_addr) == 0x08, "SQE in_addr");
static_assert(offsetof(struct ionpu_hw_sqe, out_addr) == 0x18, "SQE out_addr");
static_assert(offsetof(struct ionpu_hw_sqe, param) == 0x20, "SQE param");

/* Opcodes; their payloads follow below. */
#define IONPU_OP_IDENTIFY		0x01
#define IONPU_OP_READ_COUNTERS		0x02
#define IONPU_OP_RESET_STATE		0x03
#define IONPU_OP_READ_TILE_COUNTERS	0x04	/* rev 1.5 */
#define IONPU_OP_CONFIGURE_NEURONS	0x10
#define IONPU_OP_LOAD_ROUTES		0x11
#define IONPU_OP_PROGRAM_CELLS		0x20
#define IONPU_OP_READ_CELLS		0x21
#define IONPU_OP_RAW_PULSES		0x22
#define IONPU_OP_LEARN			0x24	/* rev 1.4 */
#define IONPU_OP_TEACH			0x25	/* rev 1.4 */
#define IONPU_OP_READ_CALIB		0x28
#define IONPU_OP_WRITE_CALIB		0x29
#define IONPU_OP_INPUT_SPIKES		0x30
#define IONPU_OP_RUN			0x31
#define IONPU_OP_STOP			0x32

/*
 * Scatter-gather list entry (rev 1.3).  A list is contiguous entries at an
 * address aligned to IONPU_SGL_ALIGN; the segments, in order, are the
 * buffer, and their lengths add up to exactly its length.
 */
struct ionpu_hw_sgl_entry {
	__le64 addr;		/* segment bus address */
	__le32 len;		/* segment bytes, > 0 */
	__le32 rsvd;
};

#define IONPU_SGL_ALIGN		16
#define IONPU_SGL_MAX_ENTRIES	4096

static_assert(sizeof(struct ionpu_hw_sgl_entry) == 16, "SGL entry size");
static_assert(offsetof(struct ionpu_hw_sgl_entry, len) == 0x08, "SGL len");

/* Completion queue entry. */
struct ionpu_hw_cqe {
	__le64 result;		/* per command */
	__le16 sq_head;		/* SQ head after the fetch */
	__le16 rsvd;
	__le16 cid;		/* IONPU_CID_UNKNOWN: a fetch that failed */
	__le16 status;		/* code << 1 | phase */
};

#define IONPU_CQE_PHASE			0x0001
#define IONPU_CQE_CODE(status)		(((status) >> 1) & 0x7fff)
#define IONPU_CID_UNKNOWN		0xffff

static_assert(sizeof(struct ionpu_hw_cqe) == 16, "CQE size");
static_assert(offsetof(struct ionpu_hw_cqe, sq_head) == 0x08, "CQE sq_head");
static_assert(offsetof(struct ionpu_hw_cqe, cid) == 0x0c, "CQE cid");
static_assert(offsetof(struct ionpu_hw_cqe, status) == 0x0e, "CQE status");

/* Completion status codes. */
#define IONPU_SC_SUCCESS		0x00
#define IONPU_SC_INVALID_OPCODE		0x01
#define IONPU_SC_INVALID_FIELD		0x02	/* result: index of the bad entry */
#define IONPU_SC_INVALID_TILE		0x03
#define IONPU_SC_INVALID_LENGTH		0x04
#define IONPU_SC_DMA_ERROR		0x05
#define IONPU_SC_BUSY			0x06	/* not allowed while running */
#define IONPU_SC_ABORTED		0x07	/* RUN ended by STOP */
#define IONPU_SC_NVSTORE_ERROR		0x08	/* done, but not made durable */
#define IONPU_SC_INTERNAL		0x09	/* the fabric refused the request */
/* A malformed scatter-gather list; result: list (0 in, 1 out) << 32 | entry. */
#define IONPU_SC_INVALID_SGL		0x0a
/* The last code defined: a completion with a later one is garbled. */
#define IONPU_SC_LAST			IONPU_SC_INVALID_SGL

/* Output-spike event ring entry. */
struct ionpu_hw_eqe {
	__le32 timestep;	/* low 32 bits */
	__le16 neuron;
	__u8 tile;		/* the chain's head for a chained tile */
	__u8 flags;		/* IONPU_EQE_* */
};

#define IONPU_EQE_PHASE		0x01
#define IONPU_EQE_LOST		0x02	/* events were dropped before this one */

static_assert(sizeof(struct ionpu_hw_eqe) == 8, "EQE size");
static_assert(offsetof(struct ionpu_hw_eqe, tile) == 0x06, "EQE tile");

/* IDENTIFY: what the card writes; other bytes are 0. */
struct ionpu_hw_identify {
	__le32 id;		/* IONPU_ID_MAGIC */
	__le32 version;
	__le32 caps;
	__le32 tiles;
	__le32 tile_rows;
	__le32 tile_neurons;
	__le64 seed;
	__u8 serial[16];	/* ASCII, NUL padded */
	__le32 g_levels;	/* conductance levels of an ideal cell */
	__le32 g_min;		/* f32, uS */
	__le32 g_max;		/* f32, uS */
	__le32 max_fanout;	/* router targets per neuron */
	__le32 max_delay;	/* timesteps */
	__le32 input_window;	/* timesteps */
	__le32 calib_size;	/* bytes */
	__le32 sq_max_entries;
	__le32 cq_max_entries;
	__le32 eq_max_entries;
	__le32 max_cells;	/* per PROGRAM_CELLS / RAW_PULSES */
	__le32 max_spikes;	/* per INPUT_SPIKES */
	__le32 routes_max_bytes;
	__le32 sgl_max_entries;	/* rev 1.3; 0 without CAPS.SGL */
	__u8 rsvd[0x18];
};

static_assert(sizeof(struct ionpu_hw_identify) == 128, "IDENTIFY size");
static_assert(offsetof(struct ionpu_hw_identify, seed) == 0x18, "IDENTIFY seed");
static_assert(offsetof(struct ionpu_hw_identify, serial) == 0x20, "IDENTIFY serial");
static_assert(offsetof(struct ionpu_hw_identify, g_levels) == 0x30, "IDENTIFY levels");
static_assert(offsetof(struct ionpu_hw_identify, calib_size) == 0x48, "IDENTIFY calib");
static_assert(offsetof(struct ionpu_hw_identify, sgl_max_entries) == 0x64,
	      "IDENTIFY sgl_max_entries");

/* READ_COUNTERS. */
struct ionpu_hw_counters {
	__le64 timesteps;
	__le64 spikes_in;
	__le64 spikes_out;
	__le64 syn_events;
	__le64 program_pulses;
	__le64 busy_ns;
	__le64 energy_fj;
	__le64 eq_dropped;
	__le64 learn_pulses;	/* rev 1.4 */
	__le64 learn_energy_fj;	/* rev 1.4 */
};

static_assert(sizeof(struct ionpu_hw_counters) == 80, "counters size");
static_assert(offsetof(struct ionpu_hw_counters, eq_dropped) == 0x38,
	      "counters eq_dropped");
static_assert(offsetof(struct ionpu_hw_counters, learn_pulses) == 0x40,
	      "counters learn_pulses");
/* What a rev 1.3 card writes, and a driver of that time asks for. */
#define IONPU_HW_COUNTERS_V1_SIZE	64

/*
 * READ_TILE_COUNTERS (rev 1.5): param[0..1] a tile mask (low, high word),
 * param[2] IONPU_TILE_COUNTERS_*; the card writes one entry per tile of the
 * mask, lowest tile first.  A tile's counters are its part of the card's
 * (docs/hardware.md): they add up to the card's, but busy_ns, which is
 * each tile's own time, tiles working side by side.
 */
struct ionpu_hw_tile_counters {
	__le64 spikes_in;
	__le64 spikes_out;
	__le64 syn_events;
	__le64 program_pulses;
	__le64 busy_ns;
	__le64 energy_fj;
	__le64 learn_pulses;
	__le64 learn_energy_fj;
};

/* The tiles' counters start again from 0 once read. */
#define IONPU_TILE_COUNTERS_CLEAR	0x1

static_assert(sizeof(struct ionpu_hw_tile_counters) == 64, "tile counters size");
static_assert(offsetof(struct ionpu_hw_tile_counters, busy_ns) == 0x20,
	      "tile counters busy_ns");

/* CONFIGURE_NEURONS entry; the f32 fields as the docs give their units. */
struct ionpu_hw_neuron {
	__le32 tau;		/* f32 */
	__le32 tau_syn;		/* f32 */
	__le32 r;		/* f32 */
	__le32 v_leak;		/* f32 */
	__le32 v_threshold;	/* f32 */
	__le32 v_reset;		/* f32 */
	__le32 w_in;		/* f32 */
	__le32 refractory;	/* timesteps */
};

/* CONFIGURE_NEURONS param[5]. */
#define IONPU_NEURONS_SET_TILE	0x1
#define IONPU_NEURONS_SET_CHAIN	0x2

static_assert(sizeof(struct ionpu_hw_neuron) == 32, "neuron entry size");

/* LOAD_ROUTES: a record is a header followed by its targets. */
struct ionpu_hw_route_header {
	__le16 neuron;
	__u8 flags;		/* IONPU_ROUTE_FLAG_* */
	__u8 rsvd;
	__le16 targets;
	__le16 rsvd2;
};

#define IONPU_ROUTE_FLAG_TO_HOST	0x1

struct ionpu_hw_route_target {
	__le16 tile;
	__le16 row;
	__le16 delay;		/* timesteps */
	__le16 rsvd;
};

static_assert(sizeof(struct ionpu_hw_route_header) == 8, "route header size");
static_assert(offsetof(struct ionpu_hw_route_header, targets) == 4,
	      "route header targets");
static_assert(sizeof(struct ionpu_hw_route_target) == 8, "route target size");

/* PROGRAM_CELLS entry and the result the card writes for it. */
struct ionpu_hw_prog_entry {
	__le16 row;
	__le16 column;
	__u8 device;		/* 0 G+, 1 G- */
	__u8 rsvd;
	__le16 budget;		/* pulses, >= 1 */
	__le32 target;		/* f32, uS */
	__le32 tolerance;	/* f32, uS */
};

struct ionpu_hw_prog_result {
	__le32 achieved;	/* f32, uS */
	__le16 pulses;		/* saturated at 65535 */
	__u8 status;
	__u8 rsvd;
};

static_assert(sizeof(struct ionpu_hw_prog_entry) == 16, "program entry size");
static_assert(offsetof(struct ionpu_hw_prog_entry, budget) == 6,
	      "program entry budget");
static_assert(sizeof(struct ionpu_hw_prog_result) == 8, "program result size");

/* READ_CELLS: one cell, row-major. */
struct ionpu_hw_cell_read {
	__le32 g_plus;		/* f32, uS */
	__le32 g_minus;		/* f32, uS */
};

static_assert(sizeof(struct ionpu_hw_cell_read) == 8, "cell read size");

/* RAW_PULSES entry and the result the card writes for it. */
struct ionpu_hw_pulse_entry {
	__le16 row;
	__le16 column;
	__u8 device;		/* 0 G+, 1 G- */
	__u8 kind;		/* 0 SET, 1 RESET */
	__le16 count;		/* >= 1 */
};

struct ionpu_hw_pulse_result {
	__le32 g;		/* f32, uS, after the pulses */
};

static_assert(sizeof(struct ionpu_hw_pulse_entry) == 8, "pulse entry size");
static_assert(sizeof(struct ionpu_hw_pulse_result) == 4, "pulse result size");

/*
 * LEARN payload (rev 1.4): the rule of the tile's learning engine
 * (docs/physics.md, "Learning"), or flags 0 and the rest 0 to turn it off.
 */
struct ionpu_hw_learn {
	__le32 flags;		/* IONPU_LEARN_FLAG_* */
	__le32 amp_pot;		/* f32, 0..1 */
	__le32 amp_dep;		/* f32, 0..1 */
	__le32 pre_ref;		/* f32, > 0 */
	__le32 post_target;
	__le32 max_pulses;	/* >= 1 */
	__le32 rsvd[2];
};

#define IONPU_LEARN_FLAG_ENABLE	0x1

static_assert(sizeof(struct ionpu_hw_learn) == 32, "learn size");
static_assert(offsetof(struct ionpu_hw_learn, max_pulses) == 0x14,
	      "learn max_pulses");

/* INPUT_SPIKES entry. */
struct ionpu_hw_spike_entry {
	__le16 row;
	__u8 tile;
	__u8 delay;		/* timesteps after the next one to run */
	__le32 value;		/* f32, finite */
};

static_assert(sizeof(struct ionpu_hw_spike_entry) == 8, "spike entry size");
static_assert(offsetof(struct ionpu_hw_spike_entry, tile) == 2, "spike tile");

/*
 * READ_CALIB / WRITE_CALIB move bytes of the IONPU_CALIB_SIZE record the
 * card keeps and does not interpret.  libionpu writes it as this header
 * followed by tile sections, each a section header and its entries; a
 * section header follows variable-length entries, so it is copied out of
 * the record, never accessed in place.
 */
struct ionpu_hw_calib_header {
	__u8 magic[8];		/* "IONPUCAL", no NUL */
	__le32 version;
	__le32 length;		/* bytes in use, this header included */
	__le32 crc;		/* CRC-32 of the bytes in use, this field as 0 */
	__le32 flags;
	__le64 seed;
	__u8 serial[16];	/* ASCII, NUL padded */
	__le64 created;		/* seconds since the epoch */
	__le16 pulses;
	__le16 threshold;	/* 10 nS units */
	__le16 sections;
	__le16 rsvd;
};

struct ionpu_hw_calib_section {
	__u8 tile;
	__u8 flags;
	__le16 entries;
	__le32 found;
};

static_assert(sizeof(struct ionpu_hw_calib_header) == 64, "calib header size");
static_assert(offsetof(struct ionpu_hw_calib_header, crc) == 0x10, "calib crc");
static_assert(offsetof(struct ionpu_hw_calib_header, flags) == 0x14,
	      "calib flags");
static_assert(offsetof(struct ionpu_hw_calib_header, serial) == 0x20,
	      "calib serial");
static_assert(offsetof(struct ionpu_hw_calib_header, sections) == 0x3c,
	      "calib sections");
static_assert(sizeof(struct ionpu_hw_calib_section) == 8, "calib section size");

#endif /* IONPU_WIRE_H */
