// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: debugfs, /sys/kernel/debug/ionpu/ionpu<N>/:
 *   regs       the card's registers
 *   irq_test   write a vector number: rings the test doorbell and succeeds
 *              only once that vector's handler has seen the interrupt
 *   irq_counts test interrupts handled, per vector
 *   queues     the command queues' state
 *   fault      write a FAULT_INJECT value (docs/hardware.md) to arm a fault;
 *              only on cards that have fault injection (faults=on)
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "ionpu_drv.h"

static struct dentry *ionpu_debugfs_root;

#define IONPU_REG(_name) { .name = #_name, .offset = IONPU_REG_##_name }

static const struct debugfs_reg32 ionpu_debugfs_regs[] = {
	IONPU_REG(ID),
	IONPU_REG(VERSION),
	IONPU_REG(CAPS),
	IONPU_REG(TILES),
	IONPU_REG(TILE_ROWS),
	IONPU_REG(TILE_NEURONS),
	IONPU_REG(SEED_LO),
	IONPU_REG(SEED_HI),
	IONPU_REG(CONTROL),
	IONPU_REG(STATUS),
	IONPU_REG(SCRATCH),
	IONPU_REG(INTR_CAUSE),
	IONPU_REG(INTR_ENABLE),
};

/*
 * Under the card's lock: a function reset holds it for write while the
 * registers read as all ones or stall the bus, and removal while it
 * unmaps them.
 */
static int regs_show(struct seq_file *s, void *unused)
{
	struct ionpu_device *idev = s->private;
	int ret = 0;

	if (down_read_killable(&idev->lock))
		return -EINTR;
	if (idev->gone)
		ret = -ENODEV;
	else
		debugfs_print_regs32(s, ionpu_debugfs_regs,
				     ARRAY_SIZE(ionpu_debugfs_regs), idev->regs,
				     "");
	up_read(&idev->lock);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(regs);

static ssize_t irq_test_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct ionpu_device *idev = file->private_data;
	unsigned int vec;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 0, &vec);
	if (ret)
		return ret;

	down_read(&idev->lock);
	ret = idev->gone ? -ENODEV : ionpu_irq_test(idev, vec);
	up_read(&idev->lock);
	return ret ? ret : count;
}

static const struct file_operations irq_test_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = irq_test_write,
	.llseek = noop_llseek,
};

static int irq_counts_show(struct seq_file *s, void *unused)
{
	struct ionpu_device *idev = s->private;
	unsigned int i;

	for (i = 0; i < IONPU_NUM_VECTORS; i++)
		seq_printf(s, "vector %u: %d test\n", i,
			   atomic_read(&idev->vec[i].test_irqs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(irq_counts);

static int queues_show(struct seq_file *s, void *unused)
{
	struct ionpu_device *idev = s->private;
	struct ionpu_queues *q = &idev->q;
	unsigned int i, busy = 0, abandoned = 0;

	spin_lock(&q->lock);
	for (i = 0; i < IONPU_MAX_INFLIGHT; i++) {
		busy += q->slot[i].busy;
		abandoned += q->slot[i].abandoned;
	}
	seq_printf(s, "state: %s\nsq_tail: %u\ncq_head: %u\ncq_phase: %u\n",
		   q->dead ? "stopped" : "running", q->sq_tail, q->cq_head,
		   q->cq_phase);
	seq_printf(s, "in_flight: %u\nabandoned: %u\nbad_completions: %lu\n",
		   busy, abandoned, q->bad_cqes);
	spin_unlock(&q->lock);
	seq_printf(s, "recoveries: %d\n", atomic_read(&idev->recoveries));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(queues);

static ssize_t fault_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct ionpu_device *idev = file->private_data;
	u32 val;
	int ret;

	ret = kstrtou32_from_user(ubuf, count, 0, &val);
	if (ret)
		return ret;

	down_read(&idev->lock);
	if (idev->gone)
		ret = -ENODEV;
	else
		ionpu_wr(idev, IONPU_REG_FAULT_INJECT, val);
	up_read(&idev->lock);
	return ret ? ret : count;
}

static const struct file_operations fault_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = fault_write,
	.llseek = noop_llseek,
};

void ionpu_debugfs_add(struct ionpu_device *idev)
{
	struct dentry *dir;

	dir = debugfs_create_dir(dev_name(&idev->dev), ionpu_debugfs_root);
	idev->debugfs = dir;

	debugfs_create_file("regs", 0400, dir, idev, &regs_fops);
	debugfs_create_file("irq_test", 0200, dir, idev, &irq_test_fops);
	debugfs_create_file("irq_counts", 0400, dir, idev, &irq_counts_fops);
	debugfs_create_file("queues", 0400, dir, idev, &queues_fops);
	if (idev->caps & IONPU_CAP_FAULTS)
		debugfs_create_file("fault", 0200, dir, idev, &fault_fops);
}

/* Returns once no handler of this card's files is running. */
void ionpu_debugfs_del(struct ionpu_device *idev)
{
	debugfs_remove_recursive(idev->debugfs);
	idev->debugfs = NULL;
}

void ionpu_debugfs_init(void)
{
	ionpu_debugfs_root = debugfs_create_dir(IONPU_NAME, NULL);
}

void ionpu_debugfs_exit(void)
{
	debugfs_remove_recursive(ionpu_debugfs_root);
}
