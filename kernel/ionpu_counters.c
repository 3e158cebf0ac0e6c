// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: activity counters.  The card counts what it did as a whole and,
 * from rev 1.5, what each tile did.  A tenant reads its own part only: the
 * work of the tiles it leases, gathered from the card while it leases them
 * (each read clears what it gathered, so nothing is counted twice), and
 * the timesteps its runs and jobs ran.  A tile's count starts again at 0
 * when it is leased, so nothing of a former tenant, nor of the scrub
 * between two, is charged to the next.  The card's totals say how busy
 * everybody is, so they are for those allowed to watch the whole machine
 * (perfmon_capable()), as perf's system-wide counters are.
 */
#include <linux/bits.h>
#include <linux/capability.h>
#include <linux/slab.h>

#include "ionpu_drv.h"

static void ionpu_counters_add(struct ionpu_counters *sum,
			       const struct ionpu_hw_tile_counters *t)
{
	sum->spikes_in += le64_to_cpu(t->spikes_in);
	sum->spikes_out += le64_to_cpu(t->spikes_out);
	sum->synaptic_events += le64_to_cpu(t->syn_events);
	sum->program_pulses += le64_to_cpu(t->program_pulses);
	sum->busy_ns += le64_to_cpu(t->busy_ns);
	sum->energy_fj += le64_to_cpu(t->energy_fj);
	sum->learn_pulses += le64_to_cpu(t->learn_pulses);
	sum->learn_energy_fj += le64_to_cpu(t->learn_energy_fj);
}

/**
 * ionpu_counters_gather() - read and clear the counters of tiles
 * @idev: the card, its lock held for read
 * @tiles: the tiles
 * @f: the file that leases them, which their counts are added to, or NULL
 *	to throw them away
 * @flags: IONPU_CMD_* flags of the command
 *
 * Return: 0 (also for no tile, or a card that counts per card only), or as
 * ionpu_cmd_exec().
 */
int ionpu_counters_gather(struct ionpu_device *idev, u64 tiles,
			  struct ionpu_file *f, u32 flags)
{
	struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_READ_TILE_COUNTERS,
		.param = { lower_32_bits(tiles), upper_32_bits(tiles),
			   IONPU_TILE_COUNTERS_CLEAR },
		.out_len = hweight64(tiles) * sizeof(struct ionpu_hw_tile_counters),
		.flags = flags,
	};
	struct ionpu_hw_tile_counters *raw;
	u64 n, i;
	int ret;

	if (!tiles || !(idev->caps & IONPU_CAP_TILE_COUNTERS))
		return 0;
	raw = kzalloc(cmd.out_len, GFP_KERNEL_ACCOUNT);
	if (!raw)
		return -ENOMEM;
	ret = ionpu_cmd_exec(idev, &cmd, NULL, raw, &n);
	if (ret)
		goto out;
	if (!f)
		goto out;
	n = min_t(u64, n, hweight64(tiles));
	spin_lock(&f->counted_lock);
	for (i = 0; i < n; i++)
		ionpu_counters_add(&f->counted, &raw[i]);
	spin_unlock(&f->counted_lock);
out:
	kfree(raw);
	return ret;
}

void ionpu_counters_ran(struct ionpu_file *f, u64 timesteps)
{
	spin_lock(&f->counted_lock);
	f->counted.timesteps += timesteps;
	spin_unlock(&f->counted_lock);
}

static int ionpu_counters_file(struct ionpu_file *f, struct ionpu_counters *c)
{
	struct ionpu_device *idev = f->idev;
	u64 tiles;
	int ret;

	if (!(idev->caps & IONPU_CAP_TILE_COUNTERS))
		return -EOPNOTSUPP;
	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = ionpu_counters_gather(idev, tiles, f, 0);
	ionpu_use_end(f);
	if (ret)
		return ret;

	spin_lock(&f->counted_lock);
	*c = f->counted;
	spin_unlock(&f->counted_lock);
	c->flags = IONPU_COUNTERS_FILE;
	c->events_dropped = ionpu_stream_dropped(f);
	return 0;
}

static int ionpu_counters_card(struct ionpu_device *idev,
			       struct ionpu_counters *c)
{
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_READ_COUNTERS,
		.out_len = sizeof(struct ionpu_hw_counters),
	};
	/* A rev 1.3 card writes the first 64 bytes: the rest stays 0. */
	struct ionpu_hw_counters raw = { };
	int ret;

	if (!perfmon_capable())
		return -EPERM;
	ret = ionpu_cmd_exec(idev, &cmd, NULL, &raw, NULL);
	if (ret)
		return ret;

	c->timesteps = le64_to_cpu(raw.timesteps);
	c->spikes_in = le64_to_cpu(raw.spikes_in);
	c->spikes_out = le64_to_cpu(raw.spikes_out);
	c->synaptic_events = le64_to_cpu(raw.syn_events);
	c->program_pulses = le64_to_cpu(raw.program_pulses);
	c->busy_ns = le64_to_cpu(raw.busy_ns);
	c->energy_fj = le64_to_cpu(raw.energy_fj);
	c->events_dropped = le64_to_cpu(raw.eq_dropped);
	c->learn_pulses = le64_to_cpu(raw.learn_pulses);
	c->learn_energy_fj = le64_to_cpu(raw.learn_energy_fj);
	return 0;
}

/* IONPU_IOC_COUNTERS */
int ionpu_counters(struct ionpu_file *f, struct ionpu_counters *c)
{
	if (c->flags & ~IONPU_COUNTERS_FILE || c->reserved)
		return -EINVAL;
	if (c->flags & IONPU_COUNTERS_FILE)
		return ionpu_counters_file(f, c);
	return ionpu_counters_card(f->idev, c);
}
