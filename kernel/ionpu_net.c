// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the network and programming commands (docs/hardware.md,
 * "Commands"): configure neurons, load routes, program and read cells,
 * calibration, input spikes, run, stop, reset state.
 *
 * The card checks every field itself, but it knows nothing of leases: the
 * isolation rule (a file touches only the tiles it leased) is enforced here,
 * on the kernel's copy of the payload, before the command is submitted.
 * Payloads are copied from the user straight into the DMA buffer the card
 * reads; that copy is the one checked, so the user cannot change it after.
 */
#include <linux/bits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "ionpu_drv.h"

/* The UAPI entries are the card's payload layouts, copied unchanged. */
static_assert(sizeof(struct ionpu_neuron) == IONPU_NEURON_ENTRY_SIZE);
static_assert(sizeof(struct ionpu_route) == IONPU_ROUTE_HEADER_SIZE);
static_assert(sizeof(struct ionpu_route_target) == IONPU_ROUTE_TARGET_SIZE);
static_assert(sizeof(struct ionpu_cell_prog) == IONPU_PROG_ENTRY_SIZE);
static_assert(sizeof(struct ionpu_cell_result) == IONPU_PROG_RESULT_SIZE);
static_assert(sizeof(struct ionpu_cell_read) == IONPU_CELL_READ_SIZE);
static_assert(sizeof(struct ionpu_pulse) == IONPU_PULSE_ENTRY_SIZE);
static_assert(sizeof(struct ionpu_input) == IONPU_SPIKE_ENTRY_SIZE);
static_assert(IONPU_CALIB_LEN == IONPU_CALIB_SIZE);

/* Byte offsets inside the payload entries the driver checks. */
#define IONPU_ROUTE_HDR_TARGETS		4	/* u16 */
#define IONPU_ROUTE_TARGET_TILE		0	/* u16 */
#define IONPU_SPIKE_TILE		2	/* u8 */

/* CONFIGURE_NEURONS param[5]: the UAPI flags are the card's. */
static_assert(IONPU_CONFIGURE_SET_TILE == 1 && IONPU_CONFIGURE_SET_CHAIN == 2);

/* 0 when @tiles holds @tile, -EINVAL for a tile the card lacks, else -EACCES. */
static int ionpu_tile_check(struct ionpu_device *idev, u64 tiles, u32 tile)
{
	if (tile >= idev->tiles)
		return -EINVAL;
	return tiles & BIT_ULL(tile) ? 0 : -EACCES;
}

/*
 * Commands that name tiles hold @f->use for read from the lease check to
 * the completion, with the file's tiles in *@tiles.
 */
static int ionpu_use_begin(struct ionpu_file *f, u64 *tiles)
{
	if (down_read_killable(&f->use))
		return -EINTR;
	*tiles = READ_ONCE(f->tiles);
	return 0;
}

static void ionpu_use_end(struct ionpu_file *f)
{
	up_read(&f->use);
}

/* Allocate a payload of @count entries of @size and fill it from @uptr. */
static int ionpu_buf_from_user(struct ionpu_device *idev,
			       struct ionpu_dma_buf *buf, u64 uptr,
			       size_t count, size_t size)
{
	size_t len = array_size(count, size);
	int ret;

	if (len == SIZE_MAX)
		return -EINVAL;
	ret = ionpu_buf_alloc(idev, buf, len);
	if (ret)
		return ret;
	if (copy_from_user(buf->cpu, u64_to_user_ptr(uptr), len)) {
		ionpu_buf_free(idev, buf);
		return -EFAULT;
	}
	return 0;
}

/*
 * Run @cmd with @ib as its payload (still the caller's to free) and copy the
 * @out_len bytes the card answered to @uout.
 */
static int ionpu_net_exec(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
			  struct ionpu_dma_buf *ib, u64 uout, size_t out_len,
			  u64 *result)
{
	struct ionpu_dma_buf ob;
	int ret;

	ret = ionpu_buf_alloc(idev, &ob, out_len);
	if (ret)
		return ret;
	ret = ionpu_cmd_submit(idev, cmd, ib, &ob, result);
	if (!ret && out_len &&
	    copy_to_user(u64_to_user_ptr(uout), ob.cpu, out_len))
		ret = -EFAULT;
	ionpu_buf_free(idev, &ob);
	return ret;
}

/* A command that has no payload to check but needs one tile leased. */
static int ionpu_net_simple(struct ionpu_file *f, struct ionpu_cmd *cmd,
			    u64 *result)
{
	struct ionpu_dma_buf none = { };

	if (!READ_ONCE(f->tiles))
		return -EACCES;
	return ionpu_cmd_submit(f->idev, cmd, &none, &none, result);
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
	struct ionpu_dma_buf ib;
	u64 tiles;
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

	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_tile_check(idev, tiles, c->tile);
	if (!ret && (c->flags & IONPU_CONFIGURE_SET_CHAIN))
		ret = ionpu_tile_check(idev, tiles, c->chain_head);
	if (!ret)
		ret = ionpu_buf_from_user(idev, &ib, c->neurons, c->count,
					  sizeof(struct ionpu_neuron));
	if (!ret) {
		ret = ionpu_net_exec(idev, &cmd, &ib, 0, 0, NULL);
		ionpu_buf_free(idev, &ib);
	}
	ionpu_use_end(f);
	return ret;
}

/*
 * Walk @records route records in @buf: they must fill it exactly, and
 * every target must be a tile in @tiles.
 */
static int ionpu_routes_check(struct ionpu_device *idev, u64 tiles,
			      u8 *buf, size_t len, u32 records)
{
	size_t off = 0;
	u32 i, t;
	int ret;

	for (i = 0; i < records; i++) {
		u16 targets;

		if (len - off < IONPU_ROUTE_HEADER_SIZE)
			return -EINVAL;
		targets = le16_to_cpup((__le16 *)(buf + off + IONPU_ROUTE_HDR_TARGETS));
		off += IONPU_ROUTE_HEADER_SIZE;
		if ((len - off) / IONPU_ROUTE_TARGET_SIZE < targets)
			return -EINVAL;
		for (t = 0; t < targets; t++) {
			u16 tile = le16_to_cpup((__le16 *)(buf + off +
							   IONPU_ROUTE_TARGET_TILE));

			ret = ionpu_tile_check(idev, tiles, tile);
			if (ret)
				return ret;
			off += IONPU_ROUTE_TARGET_SIZE;
		}
	}
	return off == len ? 0 : -EINVAL;
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
	struct ionpu_dma_buf ib;
	u64 tiles;
	int ret;

	if (r->flags || !r->records || r->size < IONPU_ROUTE_HEADER_SIZE ||
	    r->size > IONPU_ROUTES_MAX_BYTES)
		return -EINVAL;

	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_tile_check(idev, tiles, r->tile);
	if (ret)
		goto out;
	ret = ionpu_buf_from_user(idev, &ib, r->routes, r->size, 1);
	if (ret)
		goto out;
	ret = ionpu_routes_check(idev, tiles, ib.cpu, ib.len, r->records);
	if (!ret)
		ret = ionpu_net_exec(idev, &cmd, &ib, 0, 0, NULL);
	ionpu_buf_free(idev, &ib);
out:
	ionpu_use_end(f);
	return ret;
}

/*
 * A command on one leased tile that sends @count entries of @in_size bytes
 * from @uin and answers as many of @out_size bytes to @uout.
 */
static int ionpu_net_cells(struct ionpu_file *f, struct ionpu_cmd *cmd,
			   u32 count, u64 uin, size_t in_size, u64 uout,
			   size_t out_size, u64 *result)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_dma_buf ib;
	u64 tiles;
	int ret;

	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_tile_check(idev, tiles, cmd->tile);
	if (!ret)
		ret = ionpu_buf_from_user(idev, &ib, uin, count, in_size);
	if (!ret) {
		ret = ionpu_net_exec(idev, cmd, &ib, uout,
				     array_size(count, out_size), result);
		ionpu_buf_free(idev, &ib);
	}
	ionpu_use_end(f);
	return ret;
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

	ret = ionpu_net_cells(f, &cmd, p->count, p->cells,
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
	struct ionpu_dma_buf none = { };
	u64 tiles;
	int ret;

	if (r->flags || !r->rows || !r->columns ||
	    r->row >= idev->tile_rows || r->rows > idev->tile_rows - r->row ||
	    r->column >= idev->tile_neurons ||
	    r->columns > idev->tile_neurons - r->column)
		return -EINVAL;

	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_tile_check(idev, tiles, r->tile);
	if (!ret)
		ret = ionpu_net_exec(idev, &cmd, &none, r->cells,
				     array3_size(r->rows, r->columns,
						 sizeof(struct ionpu_cell_read)),
				     NULL);
	ionpu_use_end(f);
	return ret;
}

int ionpu_ioctl_raw_pulses(struct ionpu_file *f, void *arg)
{
	struct ionpu_pulses *p = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_RAW_PULSES,
		.tile = p->tile,
	};

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (p->flags || p->reserved || !p->count || p->count > IONPU_MAX_CELLS)
		return -EINVAL;

	return ionpu_net_cells(f, &cmd, p->count, p->pulses,
			       sizeof(struct ionpu_pulse), p->results,
			       IONPU_PULSE_RESULT_SIZE, NULL);
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
	struct ionpu_dma_buf none = { };
	int ret;

	ret = ionpu_calib_check(c);
	if (ret)
		return ret;
	return ionpu_net_exec(f->idev, &cmd, &none, c->data, c->length, NULL);
}

int ionpu_ioctl_write_calib(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_calib *c = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_WRITE_CALIB,
		.param = { c->offset },
	};
	struct ionpu_dma_buf ib;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = ionpu_calib_check(c);
	if (ret)
		return ret;
	ret = ionpu_buf_from_user(idev, &ib, c->data, c->length, 1);
	if (ret)
		return ret;
	ret = ionpu_net_exec(idev, &cmd, &ib, 0, 0, NULL);
	ionpu_buf_free(idev, &ib);
	return ret;
}

/* Check that every event in @ib is on a tile in @tiles, then queue them. */
static int ionpu_input_submit(struct ionpu_device *idev, u64 tiles,
			      struct ionpu_dma_buf *ib)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_INPUT_SPIKES };
	const u8 *e = ib->cpu;
	size_t off;
	int ret;

	for (off = 0; off < ib->len; off += IONPU_SPIKE_ENTRY_SIZE) {
		ret = ionpu_tile_check(idev, tiles, e[off + IONPU_SPIKE_TILE]);
		if (ret)
			return ret;
	}
	return ionpu_net_exec(idev, &cmd, ib, 0, 0, NULL);
}

int ionpu_ioctl_input(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_spikes *s = arg;
	struct ionpu_dma_buf ib;
	u64 tiles;
	int ret;

	if (s->flags || !s->count || s->count > IONPU_MAX_SPIKES)
		return -EINVAL;

	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_buf_from_user(idev, &ib, s->events, s->count,
				  IONPU_SPIKE_ENTRY_SIZE);
	if (!ret) {
		ret = ionpu_input_submit(idev, tiles, &ib);
		ionpu_buf_free(idev, &ib);
	}
	ionpu_use_end(f);
	return ret;
}

/* write(): the same as IONPU_IOC_INPUT, with the events as the data. */
ssize_t ionpu_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct ionpu_file *f = iocb->ki_filp->private_data;
	struct ionpu_device *idev = f->idev;
	size_t len = iov_iter_count(from);
	struct ionpu_dma_buf ib;
	u64 tiles;
	int ret;

	if (!len || len % IONPU_SPIKE_ENTRY_SIZE ||
	    len / IONPU_SPIKE_ENTRY_SIZE > IONPU_MAX_SPIKES)
		return -EINVAL;
	/* Queuing the events waits for the card's answer. */
	if (iocb->ki_flags & IOCB_NOWAIT)
		return -EAGAIN;

	down_read(&idev->lock);
	ret = idev->gone ? -ENODEV : ionpu_use_begin(f, &tiles);
	if (ret)
		goto unlock;
	ret = ionpu_buf_alloc(idev, &ib, len);
	if (!ret) {
		if (copy_from_iter(ib.cpu, len, from) != len)
			ret = -EFAULT;
		else
			ret = ionpu_input_submit(idev, tiles, &ib);
		ionpu_buf_free(idev, &ib);
	}
	ionpu_use_end(f);
unlock:
	up_read(&idev->lock);
	return ret ? ret : len;
}

int ionpu_ioctl_run(struct ionpu_file *f, void *arg)
{
	struct ionpu_run *r = arg;
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_RUN,
		.param = { r->timesteps },
		.untimed = true,
	};
	u64 ran = 0;
	int ret;

	if (r->flags || r->reserved)
		return -EINVAL;
	ret = ionpu_net_simple(f, &cmd, &ran);
	r->stopped = ret == -ECANCELED;
	if (r->stopped)
		ret = 0;
	r->ran = ran;
	/*
	 * The card wrote the run's events before its completion, but the
	 * output-spike handler may not have taken them yet: take them now, so
	 * that every spike of the run is readable when RUN returns.
	 */
	if (!ret)
		ionpu_stream_consume(f->idev);
	return ret;
}

int ionpu_ioctl_stop(struct ionpu_file *f, void *arg)
{
	struct ionpu_stop *s = arg;
	struct ionpu_cmd cmd = { .opcode = IONPU_OP_STOP };
	u64 stopped = 0;
	int ret;

	if (s->flags)
		return -EINVAL;
	ret = ionpu_net_simple(f, &cmd, &stopped);
	s->stopped = !!stopped;
	return ret;
}

int ionpu_ioctl_reset_state(struct ionpu_file *f, void *arg)
{
	struct ionpu_reset_state *r = arg;
	struct ionpu_cmd cmd = { .opcode = IONPU_OP_RESET_STATE };

	if (r->flags || r->reserved)
		return -EINVAL;
	return ionpu_net_simple(f, &cmd, NULL);
}
