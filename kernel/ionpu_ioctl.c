// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the ioctl table and the handlers it dispatches to.
 *
 * The dispatcher owns the rules of include/uapi/linux/ionpu.h, so handlers
 * only see a kernel copy of the argument that is already size-checked,
 * zero-extended and free of unknown trailing bytes.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "ionpu_drv.h"

/* Largest argument struct of any command; the dispatcher's stack buffer. */
#define IONPU_IOCTL_MAX_ARG	128

typedef int ionpu_ioctl_fn(struct ionpu_file *f, void *arg);

/**
 * struct ionpu_ioctl_desc - one command of the table
 * @cmd: the command as this driver's UAPI header defines it
 * @min_size: the size of the command's first version
 * @fn: the handler
 * @unlocked: the handler runs without the card's lock: it waits for the
 *	job queue or a run's worker, which take it, or it touches user memory
 *	first and takes the lock itself (ionpu_ubuf.c)
 */
struct ionpu_ioctl_desc {
	unsigned int cmd;
	unsigned int min_size;
	ionpu_ioctl_fn *fn;
	bool unlocked;
};

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
	ionpu_lease_info(f, info);
	return 0;
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
	return ionpu_release_tiles(f, rel->tiles);
}

static int ionpu_ioctl_counters(struct ionpu_file *f, void *arg)
{
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_READ_COUNTERS,
		.out_len = IONPU_COUNTERS_SIZE,
	};
	struct ionpu_counters *c = arg;
	__le64 raw[IONPU_COUNTERS_SIZE / sizeof(__le64)];
	int ret;

	if (c->flags || c->reserved)
		return -EINVAL;
	ret = ionpu_cmd_exec(f->idev, &cmd, NULL, raw, NULL);
	if (ret)
		return ret;

	/* The payload's order is the struct's (docs/hardware.md). */
	c->timesteps = le64_to_cpu(raw[0]);
	c->spikes_in = le64_to_cpu(raw[1]);
	c->spikes_out = le64_to_cpu(raw[2]);
	c->synaptic_events = le64_to_cpu(raw[3]);
	c->program_pulses = le64_to_cpu(raw[4]);
	c->busy_ns = le64_to_cpu(raw[5]);
	c->energy_fj = le64_to_cpu(raw[6]);
	c->events_dropped = le64_to_cpu(raw[7]);
	return 0;
}

/* Indexed by command number; a hole is an unknown command. */
static const struct ionpu_ioctl_desc ionpu_ioctls[] = {
	[_IOC_NR(IONPU_IOC_INFO)] = {
		.cmd = IONPU_IOC_INFO,
		.min_size = offsetofend(struct ionpu_info, serial),
		.fn = ionpu_ioctl_info,
	},
	[_IOC_NR(IONPU_IOC_LEASE)] = {
		.cmd = IONPU_IOC_LEASE,
		.min_size = sizeof(struct ionpu_lease),
		.fn = ionpu_ioctl_lease,
	},
	[_IOC_NR(IONPU_IOC_RELEASE)] = {
		.cmd = IONPU_IOC_RELEASE,
		.min_size = sizeof(struct ionpu_release),
		.fn = ionpu_ioctl_release,
	},
	[_IOC_NR(IONPU_IOC_COUNTERS)] = {
		.cmd = IONPU_IOC_COUNTERS,
		.min_size = sizeof(struct ionpu_counters),
		.fn = ionpu_ioctl_counters,
	},
	[_IOC_NR(IONPU_IOC_CONFIGURE)] = {
		.cmd = IONPU_IOC_CONFIGURE,
		.min_size = sizeof(struct ionpu_configure),
		.fn = ionpu_ioctl_configure,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_ROUTES)] = {
		.cmd = IONPU_IOC_ROUTES,
		.min_size = sizeof(struct ionpu_routes),
		.fn = ionpu_ioctl_routes,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_PROGRAM)] = {
		.cmd = IONPU_IOC_PROGRAM,
		.min_size = sizeof(struct ionpu_program),
		.fn = ionpu_ioctl_program,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_READ_CELLS)] = {
		.cmd = IONPU_IOC_READ_CELLS,
		.min_size = sizeof(struct ionpu_read_cells),
		.fn = ionpu_ioctl_read_cells,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_RAW_PULSES)] = {
		.cmd = IONPU_IOC_RAW_PULSES,
		.min_size = sizeof(struct ionpu_pulses),
		.fn = ionpu_ioctl_raw_pulses,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_READ_CALIB)] = {
		.cmd = IONPU_IOC_READ_CALIB,
		.min_size = sizeof(struct ionpu_calib),
		.fn = ionpu_ioctl_read_calib,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_WRITE_CALIB)] = {
		.cmd = IONPU_IOC_WRITE_CALIB,
		.min_size = sizeof(struct ionpu_calib),
		.fn = ionpu_ioctl_write_calib,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_INPUT)] = {
		.cmd = IONPU_IOC_INPUT,
		.min_size = sizeof(struct ionpu_spikes),
		.fn = ionpu_ioctl_input,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_RUN)] = {
		.cmd = IONPU_IOC_RUN,
		.min_size = sizeof(struct ionpu_run),
		.fn = ionpu_ioctl_run,
	},
	[_IOC_NR(IONPU_IOC_STOP)] = {
		.cmd = IONPU_IOC_STOP,
		.min_size = sizeof(struct ionpu_stop),
		.fn = ionpu_ioctl_stop,
	},
	[_IOC_NR(IONPU_IOC_RESET_STATE)] = {
		.cmd = IONPU_IOC_RESET_STATE,
		.min_size = sizeof(struct ionpu_reset_state),
		.fn = ionpu_ioctl_reset_state,
	},
	[_IOC_NR(IONPU_IOC_JOB)] = {
		.cmd = IONPU_IOC_JOB,
		.min_size = sizeof(struct ionpu_job),
		.fn = ionpu_ioctl_job,
		.unlocked = true,
	},
	[_IOC_NR(IONPU_IOC_WAIT)] = {
		.cmd = IONPU_IOC_WAIT,
		.min_size = sizeof(struct ionpu_wait),
		.fn = ionpu_ioctl_wait,
		.unlocked = true,
	},
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
	desc = &ionpu_ioctls[nr];
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

	if (desc->unlocked) {
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
