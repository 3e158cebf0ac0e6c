// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: on-card learning (docs/hardware.md, "LEARN" and "TEACH", rev 1.4):
 * turn a tile's learning engine on or off, and teach it, which turns what
 * the tile saw since the last teach into pulses on its own cells.
 *
 * Both are guarded like programming: only the file that leases the tile
 * sends them.  Turning learning on and teaching change what a run would
 * count or read, so they take the card's clock for the command and fail
 * with -EBUSY while a run or a job holds it; turning learning off is
 * allowed at any time, so a release always can.
 */
#include "ionpu_drv.h"

static_assert(IONPU_LEARN_ENABLE == IONPU_LEARN_FLAG_ENABLE);

/* When a learning command may reach the card. */
enum ionpu_learn_when {
	IONPU_LEARN_ANY_TIME,
	IONPU_LEARN_NOT_RUNNING,
};

/*
 * @cmd on @tile for @f, with the card's lock held for read (the ioctl
 * dispatcher's): the lease is checked on the 32-bit @tile the caller
 * named, before @cmd's 16-bit copy of it goes to the card.
 */
static int ionpu_learn_exec(struct ionpu_file *f, u32 tile,
			    const struct ionpu_cmd *cmd, const void *in,
			    u64 *result, enum ionpu_learn_when when)
{
	struct ionpu_device *idev = f->idev;
	u64 tiles;
	int ret;

	if (!(idev->caps & IONPU_CAP_LEARN))
		return -EOPNOTSUPP;
	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_tile_check(idev, tiles, tile);
	if (ret)
		goto end_use;
	if (when == IONPU_LEARN_NOT_RUNNING && !ionpu_clock_try(idev)) {
		ret = -EBUSY;
		goto end_use;
	}
	ret = ionpu_cmd_exec(idev, cmd, in, NULL, result);
	if (when == IONPU_LEARN_NOT_RUNNING)
		ionpu_clock_put(idev);
end_use:
	ionpu_use_end(f);
	return ret;
}

int ionpu_ioctl_learn(struct ionpu_file *f, void *arg)
{
	const struct ionpu_learn *l = arg;
	const struct ionpu_hw_learn rule = {
		.flags = cpu_to_le32(l->flags),
		.amp_pot = cpu_to_le32(l->amp_pot),
		.amp_dep = cpu_to_le32(l->amp_dep),
		.pre_ref = cpu_to_le32(l->pre_ref),
		.post_target = cpu_to_le32(l->post_target),
		.max_pulses = cpu_to_le32(l->max_pulses),
	};
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_LEARN,
		.tile = l->tile,
		.in_len = sizeof(rule),
	};
	bool on = l->flags & IONPU_LEARN_ENABLE;

	if (l->flags & ~IONPU_LEARN_ENABLE || l->reserved)
		return -EINVAL;
	/* Off carries no rule: a stray field is a mistake, not "off". */
	if (!on && (l->amp_pot || l->amp_dep || l->pre_ref ||
		    l->post_target || l->max_pulses))
		return -EINVAL;
	return ionpu_learn_exec(f, l->tile, &cmd, &rule, NULL,
				on ? IONPU_LEARN_NOT_RUNNING :
				     IONPU_LEARN_ANY_TIME);
}

int ionpu_ioctl_teach(struct ionpu_file *f, void *arg)
{
	struct ionpu_teach *t = arg;
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_TEACH,
		.tile = t->tile,
		.param = { t->neuron },
	};
	u64 pulses = 0;
	int ret;

	if (t->flags || t->neuron >= f->idev->tile_neurons)
		return -EINVAL;
	ret = ionpu_learn_exec(f, t->tile, &cmd, NULL, &pulses,
			       IONPU_LEARN_NOT_RUNNING);
	t->pulses = min_t(u64, pulses, U32_MAX);
	return ret;
}

/**
 * ionpu_learn_off() - turn learning off on a tile given back
 * @idev: the card, with @idev->lock held for read and not gone
 * @tile: the tile
 *
 * Waits for the card even with a fatal signal pending, as a release does.
 *
 * Return: 0, also for a card without learning, or as ionpu_cmd_exec().
 */
int ionpu_learn_off(struct ionpu_device *idev, u32 tile)
{
	const struct ionpu_hw_learn off = { };
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_LEARN,
		.tile = tile,
		.in_len = sizeof(off),
		.flags = IONPU_CMD_UNKILLABLE,
	};

	if (!(idev->caps & IONPU_CAP_LEARN))
		return 0;
	return ionpu_cmd_exec(idev, &cmd, &off, NULL, NULL);
}
