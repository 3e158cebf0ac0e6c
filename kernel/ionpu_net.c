// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the network and programming commands (docs/hardware.md,
 * "Commands"): configure neurons, load routes, program and read cells,
 * calibration.
 *
 * The card checks every field itself, but it knows nothing of leases: the
 * isolation rule (a file touches only the tiles it leased) is enforced here,
 * on the kernel's copy of the payload, before the command is submitted;
 * that copy is the one checked and sent, so the user cannot change it after.
 * Large payloads the driver does not look at (cells, pulses, their results,
 * readback) stay in the user's pinned pages instead (ionpu_ubuf.c).
 */
#include <linux/bits.h>
#include <linux/overflow.h>

#include "ionpu_drv.h"

/*
 * The UAPI entries are the card's payload layouts (hw/ionpu_wire.h), copied
 * unchanged; the driver reads the fields it checks through the wire structs.
 */
static_assert(sizeof(struct ionpu_neuron) == sizeof(struct ionpu_hw_neuron));
static_assert(sizeof(struct ionpu_route) == sizeof(struct ionpu_hw_route_header));
static_assert(offsetof(struct ionpu_route, targets) ==
	      offsetof(struct ionpu_hw_route_header, targets));
static_assert(sizeof(struct ionpu_route_target) ==
	      sizeof(struct ionpu_hw_route_target));
static_assert(offsetof(struct ionpu_route_target, tile) ==
	      offsetof(struct ionpu_hw_route_target, tile));
static_assert(sizeof(struct ionpu_cell_prog) == sizeof(struct ionpu_hw_prog_entry));
static_assert(sizeof(struct ionpu_cell_result) ==
	      sizeof(struct ionpu_hw_prog_result));
static_assert(sizeof(struct ionpu_cell_read) == sizeof(struct ionpu_hw_cell_read));
static_assert(sizeof(struct ionpu_pulse) == sizeof(struct ionpu_hw_pulse_entry));
static_assert(IONPU_CALIB_LEN == IONPU_CALIB_SIZE);

/* CONFIGURE_NEURONS param[5]: the UAPI flags are the card's. */
static_assert(IONPU_NEURONS_SET_TILE == IONPU_CONFIGURE_SET_TILE);
static_assert(IONPU_NEURONS_SET_CHAIN == IONPU_CONFIGURE_SET_CHAIN);

/* The tiles a CONFIGURE_NEURONS names are in @tiles. */
static int ionpu_configure_tiles(struct ionpu_device *idev, u64 tiles,
				 const struct ionpu_configure *c)
{
	int ret = ionpu_tile_check(idev, tiles, c->tile);

	if (ret || !(c->flags & IONPU_CONFIGURE_SET_CHAIN))
		return ret;
	return ionpu_tile_check(idev, tiles, c->chain_head);
}

/* Also records, before the card acts, what a chain lets the tile reach. */
static int ionpu_configure_check(struct ionpu_device *idev, u64 tiles,
				 const struct ionpu_ubuf *in, const void *arg)
{
	const struct ionpu_configure *c = arg;
	int ret = ionpu_configure_tiles(idev, tiles, c);

	if (ret)
		return ret;
	/* Before the card acts: a failed command may have half acted. */
	if ((c->flags & IONPU_CONFIGURE_SET_CHAIN) && c->chain_head != c->tile)
		atomic64_or(BIT_ULL(c->chain_head), &idev->tile_feeds[c->tile]);
	return 0;
}

int ionpu_ioctl_configure(struct ionpu_file *f, void *arg)
{
	const u32 known = IONPU_CONFIGURE_SET_TILE | IONPU_CONFIGURE_SET_CHAIN;
	struct ionpu_device *idev = f->idev;
	struct ionpu_configure *c = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_CONFIGURE_NEURONS,
		.tile = c->tile,
		.param = { c->mode, c->model, c->timestep, c->input_gain,
			   c->first, c->flags, c->chain_head },
	};
	struct ionpu_ubuf in, none = { };
	int ret;

	if (c->flags & ~known || c->reserved)
		return -EINVAL;
	if (!(c->flags & IONPU_CONFIGURE_SET_TILE) &&
	    (c->mode || c->model || c->timestep || c->input_gain))
		return -EINVAL;
	if (!(c->flags & IONPU_CONFIGURE_SET_CHAIN) && c->chain_head)
		return -EINVAL;
	if (c->first >= idev->tile_neurons ||
	    c->count > idev->tile_neurons - c->first)
		return -EINVAL;

	/* Lease errors before a copy's; checked again under the lock. */
	ret = ionpu_configure_tiles(idev, READ_ONCE(f->tiles), c);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &in, c->neurons, c->count,
			     sizeof(struct ionpu_neuron), DMA_TO_DEVICE,
			     IONPU_UBUF_BOUNCE);
	if (ret)
		return ret;
	return ionpu_ubuf_submit(f, &cmd, &in, &none, ionpu_configure_check,
				 c, NULL);
}

/*
 * Walk @records route records in @buf: they must fill it exactly, and
 * every target must be a tile in @tiles.  *@feeds gets the target tiles.
 */
static int ionpu_routes_walk(struct ionpu_device *idev, u64 tiles,
			     const u8 *buf, size_t len, u32 records, u64 *feeds)
{
	size_t off = 0;
	u32 i, t;
	int ret;

	for (i = 0; i < records; i++) {
		/* Records and targets are 8 bytes: each is aligned in @buf. */
		const struct ionpu_hw_route_header *h = (const void *)(buf + off);
		const struct ionpu_hw_route_target *target;
		u16 targets;

		if (len - off < sizeof(*h))
			return -EINVAL;
		targets = le16_to_cpu(h->targets);
		off += sizeof(*h);
		if ((len - off) / sizeof(*target) < targets)
			return -EINVAL;
		target = (const void *)(buf + off);
		for (t = 0; t < targets; t++) {
			u16 tile = le16_to_cpu(target[t].tile);

			ret = ionpu_tile_check(idev, tiles, tile);
			if (ret)
				return ret;
			*feeds |= BIT_ULL(tile);
		}
		off += targets * sizeof(*target);
	}
	return off == len ? 0 : -EINVAL;
}

/* Also records, before the card acts, the tiles the routes reach. */
static int ionpu_routes_check(struct ionpu_device *idev, u64 tiles,
			      const struct ionpu_ubuf *in, const void *arg)
{
	const struct ionpu_routes *r = arg;
	u64 feeds = 0;
	int ret;

	ret = ionpu_tile_check(idev, tiles, r->tile);
	if (ret)
		return ret;
	ret = ionpu_routes_walk(idev, tiles, in->kbuf, in->len, r->records,
				&feeds);
	if (ret)
		return ret;
	atomic64_or(feeds & ~BIT_ULL(r->tile), &idev->tile_feeds[r->tile]);
	return 0;
}

int ionpu_ioctl_routes(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_routes *r = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_LOAD_ROUTES,
		.tile = r->tile,
		.param = { r->records },
	};
	struct ionpu_ubuf in, none = { };
	int ret;

	if (r->flags || !r->records || r->size < sizeof(struct ionpu_route) ||
	    r->size > IONPU_ROUTES_MAX_BYTES)
		return -EINVAL;

	ret = ionpu_tile_check(idev, READ_ONCE(f->tiles), r->tile);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &in, r->routes, r->size, 1, DMA_TO_DEVICE,
			     IONPU_UBUF_BOUNCE);
	if (ret)
		return ret;
	return ionpu_ubuf_submit(f, &cmd, &in, &none, ionpu_routes_check, r,
				 NULL);
}

/*
 * @arg: the caller's 32-bit tile, checked as named: struct ionpu_cmd holds
 * it in 16 bits, where tile 0x10000 would pass for tile 0.
 */
static int ionpu_cells_check(struct ionpu_device *idev, u64 tiles,
			     const struct ionpu_ubuf *in, const void *arg)
{
	const u32 *tile = arg;

	return ionpu_tile_check(idev, tiles, *tile);
}

/*
 * A command on leased tile *@tile that sends @count entries of @in_size
 * bytes from @uin and answers as many of @out_size bytes to @uout.  The
 * driver looks at neither: both may stay in pinned user memory.
 */
static int ionpu_net_cells(struct ionpu_file *f, struct ionpu_cmd *cmd,
			   const u32 *tile, u32 count, u64 uin, size_t in_size,
			   u64 uout, size_t out_size, u64 *result)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_ubuf in, out;
	int ret;

	ret = ionpu_cells_check(idev, READ_ONCE(f->tiles), NULL, tile);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &in, uin, count, in_size, DMA_TO_DEVICE,
			     IONPU_UBUF_MAY_PIN);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &out, uout, count, out_size, DMA_FROM_DEVICE,
			     IONPU_UBUF_MAY_PIN);
	if (ret) {
		ionpu_ubuf_put(idev, &in);
		return ret;
	}
	return ionpu_ubuf_submit(f, cmd, &in, &out, ionpu_cells_check, tile,
				 result);
}

int ionpu_ioctl_program(struct ionpu_file *f, void *arg)
{
	struct ionpu_program *p = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_PROGRAM_CELLS,
		.tile = p->tile,
	};
	u64 failed = 0;
	int ret;

	if (p->flags || !p->count || p->count > IONPU_MAX_CELLS)
		return -EINVAL;

	ret = ionpu_net_cells(f, &cmd, &p->tile, p->count, p->cells,
			      sizeof(struct ionpu_cell_prog), p->results,
			      sizeof(struct ionpu_cell_result), &failed);
	p->failed = min_t(u64, failed, p->count);
	return ret;
}

int ionpu_ioctl_read_cells(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_read_cells *r = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_READ_CELLS,
		.tile = r->tile,
		.param = { r->row, r->rows, r->column, r->columns },
	};
	struct ionpu_ubuf none = { }, out;
	int ret;

	if (r->flags || !r->rows || !r->columns ||
	    r->row >= idev->tile_rows || r->rows > idev->tile_rows - r->row ||
	    r->column >= idev->tile_neurons ||
	    r->columns > idev->tile_neurons - r->column)
		return -EINVAL;

	ret = ionpu_cells_check(idev, READ_ONCE(f->tiles), NULL, &r->tile);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &out, r->cells, array_size(r->rows, r->columns),
			     sizeof(struct ionpu_cell_read), DMA_FROM_DEVICE,
			     IONPU_UBUF_MAY_PIN);
	if (ret)
		return ret;
	return ionpu_ubuf_submit(f, &cmd, &none, &out, ionpu_cells_check,
				 &r->tile, NULL);
}

int ionpu_ioctl_raw_pulses(struct ionpu_file *f, void *arg)
{
	struct ionpu_pulses *p = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_RAW_PULSES,
		.tile = p->tile,
	};

	if (p->flags || p->reserved || !p->count || p->count > IONPU_MAX_CELLS)
		return -EINVAL;

	return ionpu_net_cells(f, &cmd, &p->tile, p->count, p->pulses,
			       sizeof(struct ionpu_pulse), p->results,
			       sizeof(struct ionpu_hw_pulse_result), NULL);
}

static int ionpu_calib_check(const struct ionpu_calib *c)
{
	if (c->flags || c->reserved || !c->length ||
	    c->offset >= IONPU_CALIB_SIZE ||
	    c->length > IONPU_CALIB_SIZE - c->offset)
		return -EINVAL;
	return 0;
}

int ionpu_ioctl_read_calib(struct ionpu_file *f, void *arg)
{
	struct ionpu_calib *c = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_READ_CALIB,
		.param = { c->offset },
	};
	struct ionpu_ubuf none = { }, out;
	int ret;

	ret = ionpu_calib_check(c);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(f->idev, &out, c->data, c->length, 1,
			     DMA_FROM_DEVICE, IONPU_UBUF_BOUNCE);
	if (ret)
		return ret;
	return ionpu_ubuf_submit(f, &cmd, &none, &out, NULL, NULL, NULL);
}

int ionpu_ioctl_write_calib(struct ionpu_file *f, void *arg)
{
	struct ionpu_calib *c = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_WRITE_CALIB,
		.param = { c->offset },
	};
	struct ionpu_ubuf in, none = { };
	int ret;

	ret = ionpu_calib_check(c);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(f->idev, &in, c->data, c->length, 1,
			     DMA_TO_DEVICE, IONPU_UBUF_BOUNCE);
	if (ret)
		return ret;
	return ionpu_ubuf_submit(f, &cmd, &in, &none, NULL, NULL, NULL);
}
