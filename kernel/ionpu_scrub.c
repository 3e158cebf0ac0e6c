// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: what a tile's next tenant must not inherit from its last one.
 *
 * Leases isolate the files of a card only if a tile comes back clean: its
 * last tenant's chain and routes could otherwise still add column sums or
 * spikes into it, tiles the last tenant keeps could still feed it, and its
 * conductances (non-volatile) would show the last tenant's weights to the
 * next one through READ_CELLS and the readout window, and its learning
 * engine would go on changing them.  So a tile given back has learning
 * turned off, is switched off, unchained, silenced and wiped to the lowest
 * conductance, and each tile the file keeps that may feed it is unchained
 * and silenced (its network lost a part anyway); then the state of all of
 * them, with the spikes in flight towards them, is cleared.
 *
 * Which tiles feed which comes from @tile_feeds, kept by the CONFIGURE and
 * ROUTES commands (ionpu_net.c): a superset, as the card keeps no record a
 * driver could read back.  Only a tile's own tenant can make it feed
 * another, so at a release only tiles the releasing file keeps can feed
 * the released ones.
 *
 * The scrub waits for the card even in a process being killed (its files
 * are closed then).  A tile whose scrub failed all the same (no memory, the
 * card reset or failing meanwhile) goes back marked dirty, and the next
 * lease of it scrubs it again first, or fails.
 */
#include <linux/bits.h>

#include "ionpu_drv.h"

/* A tile switched off still needs a valid timestep: f32 1 ms. */
#define IONPU_SCRUB_TIMESTEP	0x3a83126f
/* Wipe target: the lowest conductance, f32 1.0 uS (docs/hardware.md). */
#define IONPU_SCRUB_G_MIN	0x3f800000
/* Rows wiped by one PROGRAM_CELLS: 32768 entries, 512 KiB of payload. */
#define IONPU_SCRUB_ROWS	64

/**
 * struct ionpu_scrub - the payloads a scrub sends, allocated once
 * @silence: one route record per neuron, each with no target and no
 *	TO_HOST flag: LOAD_ROUTES of it silences the tile
 * @cells: PROGRAM_CELLS entries for %IONPU_SCRUB_ROWS rows, both devices
 * @results: room for their results
 */
struct ionpu_scrub {
	struct ionpu_dma_buf silence;
	struct ionpu_dma_buf cells;
	struct ionpu_dma_buf results;
};

/* On failure the caller still frees @s, which starts zeroed. */
static int ionpu_scrub_alloc(struct ionpu_device *idev, struct ionpu_scrub *s)
{
	size_t entries = IONPU_SCRUB_ROWS * idev->tile_neurons * 2;
	struct ionpu_hw_route_header *route;
	u32 n;

	if (ionpu_buf_alloc(idev, &s->silence,
			    idev->tile_neurons * sizeof(*route)) ||
	    ionpu_buf_alloc(idev, &s->cells,
			    entries * sizeof(struct ionpu_hw_prog_entry)) ||
	    ionpu_buf_alloc(idev, &s->results,
			    entries * sizeof(struct ionpu_hw_prog_result)))
		return -ENOMEM;
	route = s->silence.cpu;
	for (n = 0; n < idev->tile_neurons; n++)
		route[n] = (struct ionpu_hw_route_header){
			.neuron = cpu_to_le16(n),
		};
	return 0;
}

static void ionpu_scrub_free(struct ionpu_device *idev, struct ionpu_scrub *s)
{
	ionpu_buf_free(idev, &s->results);
	ionpu_buf_free(idev, &s->cells);
	ionpu_buf_free(idev, &s->silence);
}

/* What ionpu_scrub_cut() does to a tile besides cutting it off. */
enum ionpu_cut {
	IONPU_CUT_KEEP_SETTINGS,	/* a tile its tenant keeps */
	IONPU_CUT_SWITCH_OFF,		/* a tile given back */
};

/* Unchained and every neuron's route silenced, and maybe switched off. */
static int ionpu_scrub_cut(struct ionpu_device *idev, struct ionpu_scrub *s,
			   u32 tile, enum ionpu_cut how)
{
	struct ionpu_cmd cfg = {
		.opcode = IONPU_OP_CONFIGURE_NEURONS,
		.tile = tile,
		.param = { IONPU_MODE_OFF, 0, IONPU_SCRUB_TIMESTEP, 0, 0,
			   IONPU_CONFIGURE_SET_TILE | IONPU_CONFIGURE_SET_CHAIN,
			   tile },
		.flags = IONPU_CMD_UNKILLABLE,
	};
	struct ionpu_cmd routes = {
		.opcode = IONPU_OP_LOAD_ROUTES,
		.tile = tile,
		.param = { idev->tile_neurons },
		.flags = IONPU_CMD_UNKILLABLE,
	};
	struct ionpu_dma_buf none = { };
	int ret;

	if (how == IONPU_CUT_KEEP_SETTINGS) {
		/* Only undo its chain. */
		cfg.param[0] = 0;
		cfg.param[2] = 0;
		cfg.param[5] = IONPU_CONFIGURE_SET_CHAIN;
	}
	ret = ionpu_cmd_submit(idev, &cfg, &none, &none, NULL);
	if (ret)
		return ret;
	ret = ionpu_cmd_submit(idev, &routes, &s->silence, &none, NULL);
	if (ret)
		return ret;
	atomic64_set(&idev->tile_feeds[tile], 0);
	return 0;
}

/*
 * Every device of a tile, switched off, to the lowest conductance: an off
 * tile programs exactly, one pulse a device.
 */
static int ionpu_scrub_wipe(struct ionpu_device *idev, struct ionpu_scrub *s,
			    u32 tile)
{
	struct ionpu_cmd prog = {
		.opcode = IONPU_OP_PROGRAM_CELLS,
		.tile = tile,
		.flags = IONPU_CMD_UNKILLABLE,
	};
	u32 per_row = idev->tile_neurons * 2;
	struct ionpu_hw_prog_entry *cell = s->cells.cpu;
	u64 missed = 0;
	u32 first, i;
	int ret;

	/* The payload holds whole chunks of rows, within the card's limit. */
	if (idev->tile_rows % IONPU_SCRUB_ROWS ||
	    IONPU_SCRUB_ROWS * per_row > IONPU_MAX_CELLS)
		return -EOPNOTSUPP;

	for (first = 0; first < idev->tile_rows; first += IONPU_SCRUB_ROWS) {
		for (i = 0; i < IONPU_SCRUB_ROWS * per_row; i++)
			cell[i] = (struct ionpu_hw_prog_entry){
				.row = cpu_to_le16(first + i / per_row),
				.column = cpu_to_le16(i % per_row / 2),
				.device = i & 1,
				.budget = cpu_to_le16(1),
				.target = cpu_to_le32(IONPU_SCRUB_G_MIN),
			};
		ret = ionpu_cmd_submit(idev, &prog, &s->cells, &s->results,
				       &missed);
		if (ret)
			return ret;
		/* An off tile lands on every target: a miss is a failure. */
		if (missed)
			return -EIO;
	}
	return 0;
}

/**
 * ionpu_scrub_tiles() - leave nothing of a tenant's network that reaches @tiles
 * @idev: the card, with @idev->lock held for read, and its lease_lock
 * @tiles: the tiles, leased by nobody else
 *
 * Return: 0 when every tile is clean, else the error that stopped the scrub
 * (the tiles must then be treated as dirty).
 */
int ionpu_scrub_tiles(struct ionpu_device *idev, u64 tiles)
{
	struct ionpu_scrub s = { };
	u64 cut = tiles;
	u32 tile;
	int ret;

	lockdep_assert_held(&idev->lease_lock);
	if (idev->gone)
		return -ENODEV;
	if (!(idev->caps & IONPU_CAP_QUEUES))
		return 0;
	ret = ionpu_scrub_alloc(idev, &s);
	if (ret)
		goto free;
	for (tile = 0; tile < idev->tiles; tile++) {
		if (tiles & BIT_ULL(tile)) {
			ret = ionpu_learn_off(idev, tile);
			if (ret)
				goto free;
			ret = ionpu_scrub_cut(idev, &s, tile,
					      IONPU_CUT_SWITCH_OFF);
			if (ret)
				goto free;
			ret = ionpu_scrub_wipe(idev, &s, tile);
		} else if (atomic64_read(&idev->tile_feeds[tile]) & tiles) {
			ret = ionpu_scrub_cut(idev, &s, tile,
					      IONPU_CUT_KEEP_SETTINGS);
			cut |= BIT_ULL(tile);
		}
		if (ret)
			goto free;
	}
	if (idev->caps & IONPU_CAP_TILE_RESET)
		ret = ionpu_reset_tiles(idev, cut, IONPU_CMD_UNKILLABLE);
free:
	ionpu_scrub_free(idev, &s);
	return ret;
}
