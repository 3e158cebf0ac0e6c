// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: tile leases.  A tile belongs to at most one open file; commands
 * that touch a tile are only accepted from the file that leased it, so one
 * process cannot read, program or run another's network.  Leases are plain
 * driver state: they need no card and outlive its removal until the files
 * are closed.  They also outlive a reset of the card, which clears what the
 * owners configured on their tiles, so the owners are told (EPOLLPRI, and
 * the reset count of INFO) until they acknowledge it (IONPU_IOC_ACK_RESET).
 */
#include <linux/bits.h>
#include <linux/poll.h>
#include <linux/sched.h>

#include "ionpu_drv.h"

/* 0 when @tiles holds @tile, -EINVAL for a tile the card lacks, else -EACCES. */
int ionpu_tile_check(struct ionpu_device *idev, u64 tiles, u32 tile)
{
	if (tile >= idev->tiles)
		return -EINVAL;
	return tiles & BIT_ULL(tile) ? 0 : -EACCES;
}

/*
 * Commands that name tiles hold @f->use for read from the lease check to
 * the completion, with the file's tiles in *@tiles.
 */
int ionpu_use_begin(struct ionpu_file *f, u64 *tiles)
{
	if (down_read_killable(&f->use))
		return -EINTR;
	*tiles = READ_ONCE(f->tiles);
	return 0;
}

void ionpu_use_end(struct ionpu_file *f)
{
	up_read(&f->use);
}

static u64 ionpu_all_tiles(struct ionpu_device *idev)
{
	return idev->tiles == 64 ? U64_MAX : BIT_ULL(idev->tiles) - 1;
}

/* The @count lowest free tiles, or 0 when fewer are free. */
static u64 ionpu_pick_free(struct ionpu_device *idev, u32 count)
{
	u64 free = ionpu_all_tiles(idev) & ~idev->leased;
	u64 picked = 0;

	while (count--) {
		if (!free)
			return 0;
		picked |= free & -free;
		free &= free - 1;
	}
	return picked;
}

static void ionpu_set_owner(struct ionpu_device *idev, u64 tiles,
			    struct ionpu_file *f, pid_t pid)
{
	u32 tile;

	for (tile = 0; tile < idev->tiles; tile++) {
		if (tiles & BIT_ULL(tile)) {
			idev->lease_pid[tile] = pid;
			idev->lease_file[tile] = f;
		}
	}
}

int ionpu_lease(struct ionpu_file *f, struct ionpu_lease *arg)
{
	struct ionpu_device *idev = f->idev;
	pid_t pid = task_tgid_nr(current);
	u64 want;
	int ret = 0;

	if (arg->flags & ~IONPU_LEASE_EXACT)
		return -EINVAL;
	if (arg->flags & IONPU_LEASE_EXACT) {
		if (arg->count || !arg->tiles ||
		    arg->tiles & ~ionpu_all_tiles(idev))
			return -EINVAL;
	} else if (arg->tiles || !arg->count || arg->count > idev->tiles) {
		return -EINVAL;
	}

	mutex_lock(&idev->lease_lock);
	if (arg->flags & IONPU_LEASE_EXACT)
		want = idev->leased & arg->tiles ? 0 : arg->tiles;
	else
		want = ionpu_pick_free(idev, arg->count);
	if (!want) {
		ret = -EBUSY;
		goto unlock;
	}
	if (want & idev->dirty) {
		ret = ionpu_scrub_tiles(idev, want & idev->dirty);
		if (ret)
			goto unlock;
	}
	idev->dirty &= ~want;
	/*
	 * The tiles' counts are the former tenants' and the scrub's: not the
	 * new tenant's.  A card that does not answer now will not run its
	 * work either, so that is no reason to refuse the lease.
	 */
	ionpu_counters_gather(idev, want, NULL, IONPU_CMD_UNKILLABLE);
	idev->leased |= want;
	WRITE_ONCE(f->tiles, f->tiles | want);
	ionpu_set_owner(idev, want, f, pid);
	ionpu_stream_own(idev, want, f);
	arg->tiles = want;
unlock:
	mutex_unlock(&idev->lease_lock);
	return ret;
}

/**
 * ionpu_release_tiles() - give tiles back, clean
 * @f: the file that leases them
 * @tiles: the tiles
 * @how: IONPU_RELEASE_KILLABLE for a caller that may give up waiting for
 *	its file's other commands (a job may hold them for its whole run),
 *	IONPU_RELEASE_ALWAYS at close
 *
 * Return: 0, -EINVAL for no tile, -EPERM for a tile the file does not
 * lease, -EINTR when a fatal signal ended the wait (nothing released).
 */
int ionpu_release_tiles(struct ionpu_file *f, u64 tiles,
			enum ionpu_release_how how)
{
	struct ionpu_device *idev = f->idev;
	int ret = 0;

	if (!tiles)
		return -EINVAL;

	/* Wait for this file's commands that may be using the tiles. */
	if (how == IONPU_RELEASE_ALWAYS)
		down_write(&f->use);
	else if (down_write_killable(&f->use))
		return -EINTR;
	mutex_lock(&idev->lease_lock);
	if (tiles & ~f->tiles) {
		ret = -EPERM;
	} else {
		/* At close, nobody is left to read the counts. */
		if (how == IONPU_RELEASE_KILLABLE)
			ionpu_counters_gather(idev, tiles, f, 0);
		if (ionpu_scrub_tiles(idev, tiles))
			idev->dirty |= tiles;
		WRITE_ONCE(f->tiles, f->tiles & ~tiles);
		idev->leased &= ~tiles;
		ionpu_set_owner(idev, tiles, NULL, 0);
		ionpu_stream_own(idev, tiles, NULL);
		ionpu_mmap_revoke_tiles(f, tiles);
	}
	mutex_unlock(&idev->lease_lock);
	up_write(&f->use);
	return ret;
}

/* At close: the ioctl path holds the card's lock; this one takes it. */
void ionpu_release_all(struct ionpu_file *f)
{
	struct ionpu_device *idev = f->idev;

	if (!f->tiles)
		return;
	down_read(&idev->lock);
	ionpu_release_tiles(f, f->tiles, IONPU_RELEASE_ALWAYS);
	up_read(&idev->lock);
}

/*
 * One word per tile, tile 0 first: the process id that leased it, or 0 for
 * a free tile ("0 4242 4242 0\n"); with %IONPU_LEASE_SHOW_LEASED, 1 for a
 * leased tile instead, which names no process ("0 1 1 0\n").
 */
ssize_t ionpu_lease_show(struct ionpu_device *idev, enum ionpu_lease_view view,
			 char *buf)
{
	ssize_t len = 0;
	u32 tile;

	mutex_lock(&idev->lease_lock);
	for (tile = 0; tile < idev->tiles; tile++) {
		pid_t pid = idev->lease_pid[tile];

		len += sysfs_emit_at(buf, len, "%s%d", tile ? " " : "",
				     view == IONPU_LEASE_SHOW_LEASED ? !!pid : pid);
	}
	mutex_unlock(&idev->lease_lock);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

/* After a reset: every file that leases a tile has lost its configuration. */
void ionpu_lease_reset(struct ionpu_device *idev)
{
	u32 tile;

	mutex_lock(&idev->lease_lock);
	for (tile = 0; tile < idev->tiles; tile++)
		if (idev->lease_file[tile])
			WRITE_ONCE(idev->lease_file[tile]->reset_seen, true);
	mutex_unlock(&idev->lease_lock);
	wake_up_interruptible_all(&idev->ev.wait);
}

/* For poll(): EPOLLPRI while a reset the file was told of is unread. */
__poll_t ionpu_lease_poll(struct ionpu_file *f)
{
	return READ_ONCE(f->reset_seen) ? EPOLLPRI : 0;
}

/*
 * A file whose tiles a reset cleared runs nothing until it acknowledges the
 * reset: a run would use what the reset left, not what the file set up,
 * and give wrong results without an error.  -ESTALE tells it to configure
 * its tiles again (their cells are non-volatile and kept), acknowledge and
 * retry.  Otherwise *@resets is the card's reset count to run under: the
 * count is read first, so a count that includes a reset means the file
 * was told of it (ionpu_reset_count() tells, then counts), and a reset
 * after the read fails the run with -EIO when it takes the card.
 */
int ionpu_lease_fresh(struct ionpu_file *f, int *resets)
{
	*resets = atomic_read(&f->idev->resets);
	/* Pairs with the smp_wmb() of ionpu_reset_count(). */
	smp_rmb();
	return READ_ONCE(f->reset_seen) ? -ESTALE : 0;
}

/* IONPU_IOC_ACK_RESET: the file was told; returns the reset count. */
u64 ionpu_lease_ack_reset(struct ionpu_file *f)
{
	WRITE_ONCE(f->reset_seen, false);
	return atomic_read(&f->idev->resets);
}
