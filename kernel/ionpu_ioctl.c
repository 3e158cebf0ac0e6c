// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the ioctl table and the handlers it dispatches to.
 *
 * The dispatcher owns the rules of include/uapi/linux/ionpu.h, so handlers
 * only see a kernel copy of the argument that is already size-checked,
 * zero-extended and free of unknown trailing bytes.
 */
#include <linux/bits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "ionpu_drv.h"

/* Largest argument struct of any command; the dispatcher's stack buffer. */
#define IONPU_IOCTL_MAX_ARG	128

typedef int ionpu_ioctl_fn(struct ionpu_file *f, void *arg);

/*
 * Flags of a table entry.  UNLOCKED: the handler runs without the card's
 * lock: it waits for the job queue, a run's worker or the clock between
 * two slices of a RUN, and takes the lock for each piece itself, or it
 * touches user memory first and takes the lock itself (ionpu_ubuf.c).
 * ADMIN: the command reaches past the file's tiles (raw pulses, the card's
 * calibration), so only CAP_SYS_ADMIN may send it, else -EPERM.
 */
#define IONPU_IOCTL_UNLOCKED	BIT(0)
#define IONPU_IOCTL_ADMIN	BIT(1)

/**
 * struct ionpu_ioctl_desc - one command of the table
 * @cmd: the command as this driver's UAPI header defines it
 * @min_size: the size of the command's first version
 * @fn: the handler
 * @flags: IONPU_IOCTL_* flags
 */
struct ionpu_ioctl_desc {
	unsigned int cmd;
	unsigned int min_size;
	ionpu_ioctl_fn *fn;
	unsigned int flags;
};

/*
 * The entry of IONPU_IOC_@_name.  A command whose argument grew since its
 * first version, of @_min_size bytes, still takes that version.
 */
#define IONPU_IOCTL_DEF_GROWN(_name, _fn, _flags, _min_size)		\
	[_IOC_NR(IONPU_IOC_##_name)] = {				\
		.cmd = IONPU_IOC_##_name,				\
		.min_size = _min_size,					\
		.fn = _fn,						\
		.flags = _flags,					\
	}
#define IONPU_IOCTL_DEF(_name, _fn, _flags)				\
	IONPU_IOCTL_DEF_GROWN(_name, _fn, _flags, _IOC_SIZE(IONPU_IOC_##_name))

static int ionpu_ioctl_info(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_info *info = arg;

	if (info->flags || info->reserved)
		return -EINVAL;

	info->api_version = IONPU_API_VERSION;
	info->hw_version = idev->hw_version;
	info->caps = idev->caps;
	info->tiles = idev->tiles;
	info->tile_rows = idev->tile_rows;
	info->tile_neurons = idev->tile_neurons;
	info->seed = idev->seed;
	memcpy(info->serial, idev->serial, sizeof(info->serial));
	/* No side effect: acknowledging the resets is IONPU_IOC_ACK_RESET. */
	info->resets = atomic_read(&idev->resets);
	return 0;
}

static int ionpu_ioctl_ack_reset(struct ionpu_file *f, void *arg)
{
	struct ionpu_ack_reset *a = arg;

	if (a->flags || a->reserved)
		return -EINVAL;
	a->resets = ionpu_lease_ack_reset(f);
	return 0;
}

static int ionpu_ioctl_cancel(struct ionpu_file *f, void *arg)
{
	struct ionpu_cancel *c = arg;

	if (c->flags || c->reserved)
		return -EINVAL;
	c->jobs = ionpu_job_cancel_file(f, NULL);
	return ionpu_run_cancel(f, &c->stopped);
}

static int ionpu_ioctl_lease(struct ionpu_file *f, void *arg)
{
	return ionpu_lease(f, arg);
}

static int ionpu_ioctl_release(struct ionpu_file *f, void *arg)
{
	struct ionpu_release *rel = arg;

	if (rel->flags || rel->reserved)
		return -EINVAL;
	return ionpu_release_tiles(f, rel->tiles, IONPU_RELEASE_KILLABLE);
}

static int ionpu_ioctl_counters(struct ionpu_file *f, void *arg)
{
	return ionpu_counters(f, arg);
}

/* Indexed by command number; a hole is an unknown command. */
static const struct ionpu_ioctl_desc ionpu_ioctls[] = {
	IONPU_IOCTL_DEF_GROWN(INFO, ionpu_ioctl_info, 0,
			      offsetofend(struct ionpu_info, serial)),
	IONPU_IOCTL_DEF(LEASE, ionpu_ioctl_lease, 0),
	IONPU_IOCTL_DEF(RELEASE, ionpu_ioctl_release, 0),
	IONPU_IOCTL_DEF_GROWN(COUNTERS, ionpu_ioctl_counters, 0,
			      offsetofend(struct ionpu_counters, events_dropped)),
	IONPU_IOCTL_DEF(CONFIGURE, ionpu_ioctl_configure, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF(ROUTES, ionpu_ioctl_routes, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF(PROGRAM, ionpu_ioctl_program, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF(READ_CELLS, ionpu_ioctl_read_cells, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF(RAW_PULSES, ionpu_ioctl_raw_pulses,
			IONPU_IOCTL_UNLOCKED | IONPU_IOCTL_ADMIN),
	IONPU_IOCTL_DEF(READ_CALIB, ionpu_ioctl_read_calib, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF(WRITE_CALIB, ionpu_ioctl_write_calib,
			IONPU_IOCTL_UNLOCKED | IONPU_IOCTL_ADMIN),
	IONPU_IOCTL_DEF(INPUT, ionpu_ioctl_input, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF_GROWN(RUN, ionpu_ioctl_run, IONPU_IOCTL_UNLOCKED,
			      offsetofend(struct ionpu_run, ran)),
	IONPU_IOCTL_DEF(STOP, ionpu_ioctl_stop, 0),
	IONPU_IOCTL_DEF(RESET_STATE, ionpu_ioctl_reset_state, 0),
	IONPU_IOCTL_DEF_GROWN(JOB, ionpu_ioctl_job, IONPU_IOCTL_UNLOCKED,
			      IONPU_JOB_FIRST_SIZE),
	IONPU_IOCTL_DEF(WAIT, ionpu_ioctl_wait, IONPU_IOCTL_UNLOCKED),
	IONPU_IOCTL_DEF(LEARN, ionpu_ioctl_learn, 0),
	IONPU_IOCTL_DEF(TEACH, ionpu_ioctl_teach, 0),
	IONPU_IOCTL_DEF(CANCEL, ionpu_ioctl_cancel, 0),
	IONPU_IOCTL_DEF(ACK_RESET, ionpu_ioctl_ack_reset, 0),
};

long ionpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ionpu_file *f = file->private_data;
	struct ionpu_device *idev = f->idev;
	void __user *uarg = (void __user *)arg;
	const struct ionpu_ioctl_desc *desc;
	unsigned int nr = _IOC_NR(cmd);
	unsigned int usize = _IOC_SIZE(cmd);
	unsigned int ksize;
	u8 karg[IONPU_IOCTL_MAX_ARG] __aligned(8) = { };
	long ret;

	if (_IOC_TYPE(cmd) != IONPU_IOCTL_BASE || nr >= ARRAY_SIZE(ionpu_ioctls))
		return -ENOTTY;
	desc = &ionpu_ioctls[array_index_nospec(nr, ARRAY_SIZE(ionpu_ioctls))];
	if (!desc->fn || _IOC_DIR(cmd) != _IOC_DIR(desc->cmd))
		return -ENOTTY;

	ksize = _IOC_SIZE(desc->cmd);
	if (WARN_ON_ONCE(ksize > sizeof(karg)))
		return -ENOTTY;
	if (usize < desc->min_size)
		return -EINVAL;

	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		ret = copy_struct_from_user(karg, ksize, uarg, usize);
		if (ret)
			return ret;
	}

	if ((desc->flags & IONPU_IOCTL_ADMIN) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	if (desc->flags & IONPU_IOCTL_UNLOCKED) {
		ret = desc->fn(f, karg);
	} else {
		down_read(&idev->lock);
		ret = idev->gone ? -ENODEV : desc->fn(f, karg);
		up_read(&idev->lock);
	}
	if (ret)
		return ret;

	if ((_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	return 0;
}
