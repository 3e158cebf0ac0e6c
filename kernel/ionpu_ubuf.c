// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the user buffers of the commands of ionpu_net.c and ionpu_run.c.
 *
 * User memory is copied or pinned before the card's lock is taken, and
 * answers are copied out after it is dropped (ionpu_ubuf_submit()).  A
 * payload the driver checks is the kernel's copy, checked and sent as one;
 * large payloads the driver does not look at (cells, pulses, their results,
 * readback) stay in the user's pinned pages instead (ionpu_pin.c).
 */
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ionpu_drv.h"

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

/*
 * Take @count entries of @size at @uptr for the card, before the card's
 * lock: copy them (a payload, @dir DMA_TO_DEVICE) or make room for them
 * (an answer, DMA_FROM_DEVICE), or pin them when @how is
 * IONPU_UBUF_MAY_PIN and the buffer is large.  Only a buffer whose content
 * the driver never looks at may be pinned: the user can change pinned
 * memory at any time, so a payload the driver checks (routes against the
 * file's lease, input spikes, neurons, calibration) is always the kernel's
 * copy, checked and sent as one, never fetched twice.
 */
int ionpu_ubuf_get(struct ionpu_device *idev, struct ionpu_ubuf *ub,
		   u64 uptr, size_t count, size_t size,
		   enum dma_data_direction dir, enum ionpu_ubuf_how how)
{
	size_t len = array_size(count, size);
	unsigned int threshold;

	*ub = (struct ionpu_ubuf) {
		.uptr = uptr, .len = len, .dir = dir,
	};
	if (len > U32_MAX)
		return -EINVAL;
	if (!len)
		return 0;
	threshold = READ_ONCE(sgl_threshold);
	if (how == IONPU_UBUF_MAY_PIN && threshold && len >= threshold &&
	    (idev->caps & IONPU_CAP_SGL) && ionpu_pin_fits(uptr, len)) {
		struct ionpu_pin *pin = ionpu_pin_user(uptr, len, dir);

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
		if (dir == DMA_FROM_DEVICE)
			return PTR_ERR(pin);
	}
	/* An answer is filled from its whole (zeroed) bounce buffer. */
	ub->kbuf = kvmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!ub->kbuf)
		return -ENOMEM;
	if (dir == DMA_TO_DEVICE &&
	    copy_from_user(ub->kbuf, u64_to_user_ptr(uptr), len)) {
		kvfree(ub->kbuf);
		ub->kbuf = NULL;
		return -EFAULT;
	}
	return 0;
}

/*
 * Free @ub, after the card's lock.  Pages still pinned here were never
 * mapped: a mapped range went to the command.
 */
void ionpu_ubuf_put(struct ionpu_device *idev, struct ionpu_ubuf *ub)
{
	kvfree(ub->kbuf);
	ionpu_pin_free(idev, ub->pin);
}

/*
 * The DMA buffer for @ub, under the card's lock: a bounce buffer, filled
 * for a payload, or @ub's pinned pages, mapped, which then belong to @db.
 */
static int ionpu_ubuf_dma(struct ionpu_device *idev, struct ionpu_ubuf *ub,
			  struct ionpu_dma_buf *db)
{
	int ret;

	if (!ub->pin && ub->dir == DMA_FROM_DEVICE)
		return ionpu_buf_alloc(idev, db, ub->len);
	if (!ub->pin)
		return ionpu_buf_from(idev, db, ub->kbuf, ub->len);
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
static int ionpu_ubuf_exec(struct ionpu_device *idev,
			   const struct ionpu_cmd *cmd, struct ionpu_ubuf *in,
			   struct ionpu_ubuf *out, u64 *result)
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

/* Under the card's lock and the file's use of its tiles: check, then run. */
static int ionpu_ubuf_locked(struct ionpu_file *f, const struct ionpu_cmd *cmd,
			     struct ionpu_ubuf *in, struct ionpu_ubuf *out,
			     ionpu_ubuf_check_fn *check, const void *arg,
			     u64 *result)
{
	struct ionpu_device *idev = f->idev;
	u64 tiles;
	int ret;

	down_read(&idev->lock);
	if (idev->gone) {
		ret = -ENODEV;
		goto unlock;
	}
	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		goto unlock;
	if (check) {
		ret = check(idev, tiles, in, arg);
		if (ret)
			goto end_use;
	}
	ret = ionpu_ubuf_exec(idev, cmd, in, out, result);
end_use:
	ionpu_use_end(f);
unlock:
	up_read(&idev->lock);
	return ret;
}

/*
 * Run @cmd for @f with user buffers taken by ionpu_ubuf_get(), which it
 * frees.  The card's lock is taken only now, after every copy and pin, and
 * the answer is copied out after it is dropped: a user fault that a FUSE or
 * userfaultfd server holds up never holds up a reset or a removal, which
 * take the lock for write.
 */
int ionpu_ubuf_submit(struct ionpu_file *f, const struct ionpu_cmd *cmd,
		      struct ionpu_ubuf *in, struct ionpu_ubuf *out,
		      ionpu_ubuf_check_fn *check, const void *arg, u64 *result)
{
	int ret;

	ret = ionpu_ubuf_locked(f, cmd, in, out, check, arg, result);
	if (ret)
		goto out;
	/* A bounced answer; a pinned one is in place already. */
	if (out->dir == DMA_FROM_DEVICE && out->kbuf &&
	    copy_to_user(u64_to_user_ptr(out->uptr), out->kbuf, out->len))
		ret = -EFAULT;
out:
	ionpu_ubuf_put(f->idev, out);
	ionpu_ubuf_put(f->idev, in);
	return ret;
}
