/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ionpu: driver-internal definitions shared by the files of ionpu.ko.
 */
#ifndef IONPU_DRV_H
#define IONPU_DRV_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/wait.h>

#include <hw/ionpu_regs.h>
#include <linux/ionpu.h>

#define IONPU_NAME		"ionpu"
#define IONPU_MAX_CARDS		256

struct ionpu_device;

/**
 * struct ionpu_vector - one MSI-X vector and what it has delivered
 * @idev: the card the vector belongs to
 * @index: vector number, IONPU_VEC_*
 * @test_irqs: test interrupts handled on this vector since probe
 */
struct ionpu_vector {
	struct ionpu_device *idev;
	unsigned int index;
	atomic_t test_irqs;
};

/**
 * struct ionpu_device - one IONPU-1 card
 * @dev: the char device's struct device; its refcount owns this struct,
 *	so open files keep it alive after the PCI device is gone
 * @cdev: the char device /dev/ionpu<minor>
 * @pdev: the PCI function; only valid while @gone is false
 * @regs: BAR0 mapping; only valid while @gone is false
 * @minor: char device minor, from the driver's IDA
 * @lock: taken for read by every user of @pdev and @regs, for write by
 *	remove and around a function reset, which change them
 * @gone: set once remove has run: every call then fails with -ENODEV
 * @irq_wait: woken by the interrupt threads and on removal
 * @test_lock: serializes interrupt self-tests
 * @vec: the card's MSI-X vectors
 * @hw_version: VERSION register, read at probe
 * @caps: CAPS register, read at probe
 * @tiles: TILES register, read at probe
 * @tile_rows: TILE_ROWS register, read at probe
 * @tile_neurons: TILE_NEURONS register, read at probe
 * @seed: SEED_HI:SEED_LO, read at probe
 * @serial: SERIAL0..3, read at probe, NUL terminated
 * @lease_lock: protects @leased and @lease_pid
 * @leased: tiles leased by some open file, bit N = tile N
 * @lease_pid: for each leased tile, the process that leased it
 * @debugfs: this card's debugfs directory
 */
struct ionpu_device {
	struct device dev;
	struct cdev cdev;
	struct pci_dev *pdev;
	void __iomem *regs;
	int minor;
	struct rw_semaphore lock;
	bool gone;
	wait_queue_head_t irq_wait;
	struct mutex test_lock;	/* see kernel-doc */
	struct ionpu_vector vec[IONPU_NUM_VECTORS];

	u32 hw_version;
	u32 caps;
	u32 tiles;
	u32 tile_rows;
	u32 tile_neurons;
	u64 seed;
	char serial[IONPU_SERIAL_LEN + 1];

	struct mutex lease_lock;	/* see kernel-doc */
	u64 leased;
	pid_t lease_pid[IONPU_MAX_TILES];

	struct dentry *debugfs;
};

/**
 * struct ionpu_file - what one open file of a card holds
 * @idev: the card, referenced for as long as the file is open
 * @tiles: the tiles this file leased, bit N = tile N
 */
struct ionpu_file {
	struct ionpu_device *idev;
	u64 tiles;
};

static inline u32 ionpu_rd(struct ionpu_device *idev, u32 reg)
{
	return ioread32(idev->regs + reg);
}

static inline void ionpu_wr(struct ionpu_device *idev, u32 reg, u32 val)
{
	iowrite32(val, idev->regs + reg);
}

/* ionpu_cdev.c */
int ionpu_cdev_init(void);
void ionpu_cdev_exit(void);
struct ionpu_device *ionpu_cdev_alloc(struct device *parent);
int ionpu_cdev_add(struct ionpu_device *idev);
void ionpu_cdev_del(struct ionpu_device *idev);

/* ionpu_lease.c */
int ionpu_lease(struct ionpu_file *f, struct ionpu_lease *arg);
int ionpu_release_tiles(struct ionpu_file *f, u64 tiles);
void ionpu_release_all(struct ionpu_file *f);
ssize_t ionpu_lease_show(struct ionpu_device *idev, char *buf);

/* ionpu_ioctl.c */
long ionpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* ionpu_irq.c */
int ionpu_irq_init(struct ionpu_device *idev);
void ionpu_irq_fini(struct ionpu_device *idev);
void ionpu_irq_enable(struct ionpu_device *idev);
int ionpu_irq_test(struct ionpu_device *idev, unsigned int vec);

/* ionpu_sysfs.c */
extern const struct attribute_group *ionpu_groups[];

/* ionpu_debugfs.c */
void ionpu_debugfs_init(void);
void ionpu_debugfs_exit(void);
void ionpu_debugfs_add(struct ionpu_device *idev);
void ionpu_debugfs_del(struct ionpu_device *idev);

#endif /* IONPU_DRV_H */
