// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the network and programming commands (docs/hardware.md,
 * "Commands"): configure neurons, load routes, program and read cells,
 * calibration, input spikes, run, stop, wait for a run, reset state.
 *
 * The card checks every field itself, but it knows nothing of leases: the
 * isolation rule (a file touches only the tiles it leased) is enforced here,
 * on the kernel's copy of the payload, before the command is submitted;
 * that copy is the one checked and sent, so the user cannot change it after.
 * Large payloads the driver does not look at (cells, pulses, their results,
 * readback) stay in the user's pinned pages instead.  User memory is
 * copied or pinned before the card's lock is taken, and answers are copied
 * out after it is dropped (ionpu_net_user()).
 */
#include <linux/bits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

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
static_assert(sizeof(struct ionpu_input) == sizeof(struct ionpu_hw_spike_entry));
static_assert(offsetof(struct ionpu_input, tile) ==
	      offsetof(struct ionpu_hw_spike_entry, tile));
static_assert(IONPU_CALIB_LEN == IONPU_CALIB_SIZE);

/* CONFIGURE_NEURONS param[5]: the UAPI flags are the card's. */
static_assert(IONPU_NEURONS_SET_TILE == IONPU_CONFIGURE_SET_TILE);
static_assert(IONPU_NEURONS_SET_CHAIN == IONPU_CONFIGURE_SET_CHAIN);

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

/*
 * Payloads of at least this many bytes whose content the driver does not
 * check go to the card from the pinned user pages (ionpu_pin.c) on a card
 * that reads scatter-gather lists.  Below it a copy is cheaper than pinning
 * and mapping pages and writing a list for each command: 64 KiB is 16
 * pages, where the copy takes microseconds and the per-command setup does
 * not shrink with the payload.
 */
#define IONPU_PIN_MIN_BYTES	SZ_64K

/* As nvme's: an admin may move the line, or rule the card's lists out (0). */
static unsigned int sgl_threshold = IONPU_PIN_MIN_BYTES;
module_param(sgl_threshold, uint, 0644);
MODULE_PARM_DESC(sgl_threshold,
		 "Large payloads the driver does not check go from pinned user memory to a card with scatter-gather lists from this many bytes up; 0: never, every payload is copied");

/**
 * struct ionpu_ubuf - a user buffer of a command, taken before the card's lock
 * @uptr: user address
 * @len: bytes, 0 for none
 * @card_writes: the card writes it (an answer), else it reads it (a payload)
 * @kbuf: the kernel copy of a bounced buffer: the payload, or the answer
 * @pin: the pinned pages of a buffer the card reaches in place, until
 *	ionpu_ubuf_dma() hands them to the command
 */
struct ionpu_ubuf {
	u64 uptr;
	size_t len;
	bool card_writes;
	void *kbuf;
	struct ionpu_pin *pin;
};

/*
 * Take @count entries of @size at @uptr for the card, before the card's
 * lock: copy them (a payload) or make room for them (an answer), or pin
 * them when @may_pin and the buffer is large.  Only a buffer whose content
 * the driver never looks at may be pinned: the user can change pinned
 * memory at any time, so a payload the driver checks (routes against the
 * file's lease, input spikes, neurons, calibration) is always the kernel's
 * copy, checked and sent as one, never fetched twice.
 */
static int ionpu_ubuf_get(struct ionpu_device *idev, struct ionpu_ubuf *ub,
			  u64 uptr, size_t count, size_t size,
			  bool card_writes, bool may_pin)
{
	size_t len = array_size(count, size);
	unsigned int threshold;

	*ub = (struct ionpu_ubuf) {
		.uptr = uptr, .len = len, .card_writes = card_writes,
	};
	if (len > U32_MAX)
		return -EINVAL;
	if (!len)
		return 0;
	threshold = READ_ONCE(sgl_threshold);
	if (may_pin && threshold && len >= threshold &&
	    (idev->caps & IONPU_CAP_SGL) && ionpu_pin_fits(uptr, len)) {
		struct ionpu_pin *pin = ionpu_pin_user(uptr, len, card_writes);

		if (!IS_ERR(pin)) {
			ub->pin = pin;
			return 0;
		}
		/*
		 * A payload in memory that cannot be pinned (a device's
		 * mapping) is copied instead.  An answer is not: it must be
		 * pinned, so that one the card could not write fails before
		 * the command has any effect.
		 */
		if (card_writes)
			return PTR_ERR(pin);
	}
	/* An answer is filled from its whole (zeroed) bounce buffer. */
	ub->kbuf = kvmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!ub->kbuf)
		return -ENOMEM;
	if (!card_writes && copy_from_user(ub->kbuf, u64_to_user_ptr(uptr), len)) {
		kvfree(ub->kbuf);
		ub->kbuf = NULL;
		return -EFAULT;
	}
	return 0;
}

/*
 * After the card's lock: give a bounced answer of a command that succeeded
 * (@ret 0) to the user, and free @ub.  Returns @ret or -EFAULT.
 */
static int ionpu_ubuf_put(struct ionpu_device *idev, struct ionpu_ubuf *ub,
			  int ret)
{
	if (!ret && ub->card_writes && ub->kbuf &&
	    copy_to_user(u64_to_user_ptr(ub->uptr), ub->kbuf, ub->len))
		ret = -EFAULT;
	kvfree(ub->kbuf);
	/* Never mapped: a mapped range went to the command. */
	ionpu_pin_free(idev, ub->pin);
	return ret;
}

/*
 * The DMA buffer for @ub, under the card's lock: a bounce buffer, filled
 * for a payload, or @ub's pinned pages, mapped, which then belong to @db.
 */
static int ionpu_ubuf_dma(struct ionpu_device *idev, struct ionpu_ubuf *ub,
			  struct ionpu_dma_buf *db)
{
	int ret;

	if (!ub->pin)
		return ub->card_writes ? ionpu_buf_alloc(idev, db, ub->len) :
					 ionpu_buf_from(idev, db, ub->kbuf, ub->len);
	*db = (struct ionpu_dma_buf) { .len = ub->len };
	ret = ionpu_pin_map(idev, ub->pin, &db->dma);
	if (ret)
		return ret;
	db->pin = ub->pin;
	ub->pin = NULL;
	return 0;
}

/*
 * Run @cmd with @in as its payload and @out as room for its answer, under
 * the card's lock; a bounced answer of a command that succeeded is in
 * @out->kbuf after it.
 */
static int ionpu_net_exec(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
			  struct ionpu_ubuf *in, struct ionpu_ubuf *out,
			  u64 *result)
{
	struct ionpu_dma_buf ib, ob;
	int ret;

	ret = ionpu_ubuf_dma(idev, in, &ib);
	if (ret)
		return ret;
	ret = ionpu_ubuf_dma(idev, out, &ob);
	if (ret) {
		ionpu_buf_free(idev, &ib);
		return ret;
	}
	return ionpu_cmd_finish(idev, cmd, &ib, &ob, out->kbuf, result);
}

/*
 * What a command checks under the card's lock and its file's use of
 * @tiles, on the kernel's copy of its payload @in, right before it runs.
 */
typedef int ionpu_net_check_fn(struct ionpu_device *idev, u64 tiles,
			       const struct ionpu_ubuf *in, const void *arg);

/*
 * Run @cmd for @f with user buffers taken by ionpu_ubuf_get(), which it
 * frees.  The card's lock is taken only now, after every copy and pin, and
 * the answer is copied out after it is dropped: a user fault that a FUSE or
 * userfaultfd server holds up never holds up a reset or a removal, which
 * take the lock for write.
 */
static int ionpu_net_user(struct ionpu_file *f, const struct ionpu_cmd *cmd,
			  struct ionpu_ubuf *in, struct ionpu_ubuf *out,
			  ionpu_net_check_fn *check, const void *arg,
			  u64 *result)
{
	struct ionpu_device *idev = f->idev;
	u64 tiles;
	int ret;

	down_read(&idev->lock);
	ret = idev->gone ? -ENODEV : ionpu_use_begin(f, &tiles);
	if (!ret) {
		ret = check ? check(idev, tiles, in, arg) : 0;
		if (!ret)
			ret = ionpu_net_exec(idev, cmd, in, out, result);
		ionpu_use_end(f);
	}
	up_read(&idev->lock);
	ret = ionpu_ubuf_put(idev, out, ret);
	return ionpu_ubuf_put(idev, in, ret);
}

/* The tiles a CONFIGURE_NEURONS names are in @tiles. */
static int ionpu_configure_tiles(struct ionpu_device *idev, u64 tiles,
				 const struct ionpu_configure *c)
{
	int ret = ionpu_tile_check(idev, tiles, c->tile);

	if (!ret && (c->flags & IONPU_CONFIGURE_SET_CHAIN))
		ret = ionpu_tile_check(idev, tiles, c->chain_head);
	return ret;
}

/* Also records, before the card acts, what a chain lets the tile reach. */
static int ionpu_configure_check(struct ionpu_device *idev, u64 tiles,
				 const struct ionpu_ubuf *in, const void *arg)
{
	const struct ionpu_configure *c = arg;
	int ret = ionpu_configure_tiles(idev, tiles, c);

	/* Before the card acts: a failed command may have half acted. */
	if (!ret && (c->flags & IONPU_CONFIGURE_SET_CHAIN) &&
	    c->chain_head != c->tile)
		idev->tile_feeds[c->tile] |= BIT_ULL(c->chain_head);
	return ret;
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
			     sizeof(struct ionpu_neuron), false, false);
	if (ret)
		return ret;
	return ionpu_net_user(f, &cmd, &in, &none, ionpu_configure_check, c,
			      NULL);
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
	if (!ret)
		ret = ionpu_routes_walk(idev, tiles, in->kbuf, in->len,
					r->records, &feeds);
	if (!ret)
		idev->tile_feeds[r->tile] |= feeds & ~BIT_ULL(r->tile);
	return ret;
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
	ret = ionpu_ubuf_get(idev, &in, r->routes, r->size, 1, false, false);
	if (ret)
		return ret;
	return ionpu_net_user(f, &cmd, &in, &none, ionpu_routes_check, r, NULL);
}

static int ionpu_cells_check(struct ionpu_device *idev, u64 tiles,
			     const struct ionpu_ubuf *in, const void *arg)
{
	const struct ionpu_cmd *cmd = arg;

	return ionpu_tile_check(idev, tiles, cmd->tile);
}

/*
 * A command on one leased tile that sends @count entries of @in_size bytes
 * from @uin and answers as many of @out_size bytes to @uout.  The driver
 * looks at neither: both may stay in pinned user memory.
 */
static int ionpu_net_cells(struct ionpu_file *f, struct ionpu_cmd *cmd,
			   u32 count, u64 uin, size_t in_size, u64 uout,
			   size_t out_size, u64 *result)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_ubuf in, out;
	int ret;

	ret = ionpu_cells_check(idev, READ_ONCE(f->tiles), NULL, cmd);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &in, uin, count, in_size, false, true);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &out, uout, count, out_size, true, true);
	if (ret)
		return ionpu_ubuf_put(idev, &in, ret);
	return ionpu_net_user(f, cmd, &in, &out, ionpu_cells_check, cmd,
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
	struct ionpu_ubuf none = { }, out;
	int ret;

	if (r->flags || !r->rows || !r->columns ||
	    r->row >= idev->tile_rows || r->rows > idev->tile_rows - r->row ||
	    r->column >= idev->tile_neurons ||
	    r->columns > idev->tile_neurons - r->column)
		return -EINVAL;

	ret = ionpu_cells_check(idev, READ_ONCE(f->tiles), NULL, &cmd);
	if (ret)
		return ret;
	ret = ionpu_ubuf_get(idev, &out, r->cells, array_size(r->rows, r->columns),
			     sizeof(struct ionpu_cell_read), true, true);
	if (ret)
		return ret;
	return ionpu_net_user(f, &cmd, &none, &out, ionpu_cells_check, &cmd,
			      NULL);
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
	if (!ret)
		ret = ionpu_ubuf_get(f->idev, &out, c->data, c->length, 1, true,
				     false);
	if (ret)
		return ret;
	return ionpu_net_user(f, &cmd, &none, &out, NULL, NULL, NULL);
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

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = ionpu_calib_check(c);
	if (!ret)
		ret = ionpu_ubuf_get(f->idev, &in, c->data, c->length, 1, false,
				     false);
	if (ret)
		return ret;
	return ionpu_net_user(f, &cmd, &in, &none, NULL, NULL, NULL);
}

/* Every event of the payload on a tile in @tiles. */
static int ionpu_input_check(struct ionpu_device *idev, u64 tiles,
			     const struct ionpu_ubuf *in, const void *arg)
{
	const struct ionpu_hw_spike_entry *e = in->kbuf;
	size_t i;
	int ret;

	for (i = 0; i < in->len / sizeof(*e); i++) {
		ret = ionpu_tile_check(idev, tiles, e[i].tile);
		if (ret)
			return ret;
	}
	return 0;
}

int ionpu_ioctl_input(struct ionpu_file *f, void *arg)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_INPUT_SPIKES };
	struct ionpu_spikes *s = arg;
	struct ionpu_ubuf in, none = { };
	int ret;

	if (s->flags || !s->count || s->count > IONPU_MAX_SPIKES)
		return -EINVAL;

	ret = ionpu_ubuf_get(f->idev, &in, s->events, s->count,
			     sizeof(struct ionpu_input), false, false);
	if (ret)
		return ret;
	return ionpu_net_user(f, &cmd, &in, &none, ionpu_input_check, NULL,
			      NULL);
}

/* write(): the same as IONPU_IOC_INPUT, with the events as the data. */
ssize_t ionpu_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_INPUT_SPIKES };
	struct ionpu_file *f = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	struct ionpu_ubuf in = { .len = len }, none = { };
	int ret;

	if (!len || len % sizeof(struct ionpu_input) ||
	    len / sizeof(struct ionpu_input) > IONPU_MAX_SPIKES)
		return -EINVAL;
	/* Queuing the events waits for the card's answer. */
	if (iocb->ki_flags & IOCB_NOWAIT)
		return -EAGAIN;

	in.kbuf = kvmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!in.kbuf)
		return -ENOMEM;
	if (copy_from_iter(in.kbuf, len, from) != len) {
		kvfree(in.kbuf);
		return -EFAULT;
	}
	ret = ionpu_net_user(f, &cmd, &in, &none, ionpu_input_check, NULL,
			     NULL);
	return ret ? ret : len;
}

/**
 * ionpu_run_steps() - run timesteps and wait for them
 * @idev: the card, with @idev->lock held for read and its clock owned
 *	(ionpu_run_get())
 * @timesteps: timesteps to run, 0 until a STOP
 * @ran: out: timesteps run
 *
 * Return: 0, -ECANCELED when a STOP ended the run, or as ionpu_cmd_submit().
 * Every output event of the run has been dispatched when it returns.
 */
int ionpu_run_steps(struct ionpu_device *idev, u32 timesteps, u64 *ran)
{
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_RUN,
		.param = { timesteps },
		.untimed = true,
	};
	struct ionpu_dma_buf none = { };
	int ret;

	*ran = 0;
	ret = ionpu_cmd_submit(idev, &cmd, &none, &none, ran);
	/*
	 * The card wrote the run's events before its completion, but the
	 * output-spike handler may not have taken them yet: take them now.
	 */
	if (!ret || ret == -ECANCELED)
		ionpu_stream_consume(idev);
	return ret;
}

/*
 * Ask the card to end @f's run after the current timestep.  The card has
 * one run, but it is not every lessee's to end: while another file's run or
 * a job owns the clock nothing is sent, and *@stopped stays 0.  A STOP on
 * behalf of a killed or closing owner is @unkillable: with every command
 * slot taken it waits for one rather than leave the run going unowned.
 */
static int ionpu_run_stop(struct ionpu_file *f, u64 *stopped, bool unkillable)
{
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_STOP,
		.unkillable = unkillable,
	};
	struct ionpu_device *idev = f->idev;
	struct ionpu_dma_buf none = { };
	int ret = 0;

	mutex_lock(&idev->runner.stop_lock);
	if (READ_ONCE(idev->runner.owner) == f)
		ret = ionpu_cmd_submit(idev, &cmd, &none, &none, stopped);
	mutex_unlock(&idev->runner.stop_lock);
	return ret;
}

/* States of a file's IONPU_RUN_NOWAIT run. */
enum {
	IONPU_RUN_NONE,		/* none, or its outcome was collected */
	IONPU_RUN_GOING,
	IONPU_RUN_ENDED,	/* its outcome waits for an IONPU_IOC_WAIT */
};

/* How often a closing file repeats its STOP, see ionpu_run_close(). */
#define IONPU_RUN_STOP_RETRY	(HZ / 10)

static bool ionpu_run_going(struct ionpu_file_run *run)
{
	return READ_ONCE(run->state) == IONPU_RUN_GOING;
}

/*
 * The run of a NOWAIT RUN, in a worker: its completion is recorded whether
 * or not anybody waits.  The open file outlives it: ionpu_run_close().
 */
static void ionpu_run_work(struct work_struct *work)
{
	struct ionpu_file_run *run = container_of(work, struct ionpu_file_run,
						  work);
	struct ionpu_file *f = container_of(run, struct ionpu_file, run);
	struct ionpu_device *idev = f->idev;
	u64 ran = 0;
	int ret;

	down_read(&idev->lock);
	if (idev->gone)
		ret = -ENODEV;
	else if (atomic_read(&idev->resets) != run->resets)
		/* The reset cleared the network the run was asked for. */
		ret = -EIO;
	else
		ret = ionpu_run_steps(idev, run->timesteps, &ran);
	up_read(&idev->lock);
	ionpu_run_put(idev);

	spin_lock(&run->lock);
	run->ret = ret;
	run->ran = ran;
	WRITE_ONCE(run->state, IONPU_RUN_ENDED);
	spin_unlock(&run->lock);
	wake_up_all(&run->ended);
}

/* Whether the file's own NOWAIT run holds the card's clock. */
bool ionpu_file_running(struct ionpu_file *f)
{
	return ionpu_run_going(&f->run);
}

void ionpu_run_open(struct ionpu_file *f)
{
	INIT_WORK(&f->run.work, ionpu_run_work);
	spin_lock_init(&f->run.lock);
	init_waitqueue_head(&f->run.ended);
}

/*
 * A run never outlives its file: stop it and wait for its worker.  A STOP
 * that reached the card before the worker's RUN ended nothing, so it is
 * sent again until the run ends; a card reset or removal ends it as well.
 */
void ionpu_run_close(struct ionpu_file *f)
{
	struct ionpu_file_run *run = &f->run;
	struct ionpu_device *idev = f->idev;
	long wait = 0;

	while (!wait_event_timeout(run->ended, !ionpu_run_going(run), wait)) {
		down_read(&idev->lock);
		if (!idev->gone)
			ionpu_run_stop(f, NULL, true);
		up_read(&idev->lock);
		wait = IONPU_RUN_STOP_RETRY;
	}
	flush_work(&run->work);
}

/* Take the clock for the file's run and hand it to the run's worker. */
static int ionpu_run_start(struct ionpu_file *f, u32 timesteps)
{
	struct ionpu_file_run *run = &f->run;
	struct ionpu_device *idev = f->idev;

	spin_lock(&run->lock);
	if (run->state == IONPU_RUN_GOING || !ionpu_run_get(idev, f)) {
		spin_unlock(&run->lock);
		return -EBUSY;
	}
	run->timesteps = timesteps;
	run->resets = atomic_read(&idev->resets);
	WRITE_ONCE(run->state, IONPU_RUN_GOING);
	spin_unlock(&run->lock);
	queue_work(system_unbound_wq, &run->work);
	return 0;
}

/*
 * A RUN does not wait for jobs or another RUN (-EBUSY).  When its caller is
 * killed the run is stopped, and the clock is given back once the card has
 * answered the STOP, which it does after ending the run.
 */
int ionpu_ioctl_run(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_run *r = arg;
	u64 ran = 0;
	int ret;

	if (r->flags & ~IONPU_RUN_NOWAIT || r->reserved)
		return -EINVAL;
	if (!READ_ONCE(f->tiles))
		return -EACCES;
	r->stopped = 0;
	r->ran = 0;
	if (r->flags & IONPU_RUN_NOWAIT)
		return ionpu_run_start(f, r->timesteps);
	if (!ionpu_run_get(idev, f))
		return -EBUSY;
	ret = ionpu_run_steps(idev, r->timesteps, &ran);
	/* Killed while the card runs: nobody would learn the outcome. */
	if (ret == -EINTR)
		ionpu_run_stop(f, NULL, true);
	ionpu_run_put(idev);
	r->stopped = ret == -ECANCELED;
	if (r->stopped)
		ret = 0;
	r->ran = ran;
	return ret;
}

/*
 * Only the caller's own run ends: a job or another file's run goes on.  No
 * lease needed: a file that gave back its tiles may still stop its run.
 */
int ionpu_ioctl_stop(struct ionpu_file *f, void *arg)
{
	struct ionpu_stop *s = arg;
	u64 stopped = 0;
	int ret;

	if (s->flags)
		return -EINVAL;
	ret = ionpu_run_stop(f, &stopped, false);
	s->stopped = !!stopped;
	return ret;
}

/*
 * Sleeps without the card's lock: a reset or a removal ends the run by
 * killing its command, and the worker records that.
 */
int ionpu_ioctl_wait(struct ionpu_file *f, void *arg)
{
	struct ionpu_file_run *run = &f->run;
	struct ionpu_wait *w = arg;
	long ret;

	if (w->flags)
		return -EINVAL;
	if (!w->timeout_ns) {
		ret = wait_event_interruptible(run->ended,
					       !ionpu_run_going(run));
	} else {
		ktime_t deadline = min_t(u64, w->timeout_ns, KTIME_MAX);
		/* A past deadline polls: the timer takes a negative time as never. */
		ktime_t left = max_t(s64, ktime_sub(deadline, ktime_get()), 0);

		ret = wait_event_interruptible_hrtimeout(run->ended,
							 !ionpu_run_going(run),
							 left);
		if (ret == -ETIME)
			return -ETIMEDOUT;
	}
	if (ret)
		return ret;

	spin_lock(&run->lock);
	if (run->state != IONPU_RUN_ENDED) {
		spin_unlock(&run->lock);
		return READ_ONCE(f->idev->gone) ? -ENODEV : -ENOENT;
	}
	ret = run->ret;
	w->ran = run->ran;
	WRITE_ONCE(run->state, IONPU_RUN_NONE);
	spin_unlock(&run->lock);
	w->stopped = ret == -ECANCELED;
	return w->stopped ? 0 : ret;
}

/**
 * ionpu_reset_tiles() - clear the state of some tiles
 * @idev: the card, with @idev->lock held for read and not gone
 * @tiles: the tiles, bit N = tile N; not 0, which would mean every tile
 * @unkillable: wait for the card even with a fatal signal pending
 *
 * Clears neuron state, pending inputs and spikes in flight aimed at @tiles.
 *
 * Return: 0, -EOPNOTSUPP for a card that can only clear every tile, or as
 * ionpu_cmd_submit().
 */
int ionpu_reset_tiles(struct ionpu_device *idev, u64 tiles, bool unkillable)
{
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_RESET_STATE,
		.param = { lower_32_bits(tiles), upper_32_bits(tiles) },
		.unkillable = unkillable,
	};
	struct ionpu_dma_buf none = { };

	if (WARN_ON_ONCE(!tiles))
		return -EINVAL;
	if (!(idev->caps & IONPU_CAP_TILE_RESET))
		return -EOPNOTSUPP;
	return ionpu_cmd_submit(idev, &cmd, &none, &none, NULL);
}

int ionpu_ioctl_reset_state(struct ionpu_file *f, void *arg)
{
	struct ionpu_reset_state *r = arg;
	u64 tiles;
	int ret;

	if (r->flags || r->reserved)
		return -EINVAL;
	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = tiles ? ionpu_reset_tiles(f->idev, tiles, false) : -EACCES;
	ionpu_use_end(f);
	return ret;
}
