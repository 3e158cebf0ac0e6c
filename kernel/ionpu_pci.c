// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: PCI driver for the IONPU-1 neuromorphic accelerator.
 *
 * Probe, remove, function reset and the module's entry points.  The card's
 * registers are specified in docs/hardware.md.
 */
#include <linux/debugfs.h>
#include <linux/iopoll.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "ionpu_compat.h"
#include "ionpu_drv.h"

#define IONPU_READY_TIMEOUT_US	100000

static unsigned int max_hang_resets = 5;
module_param(max_hang_resets, uint, 0644);
MODULE_PARM_DESC(max_hang_resets,
		 "Resets for a hang the driver does within a minute; past them the card is left dead until a reset is asked for (0 = no limit)");

static int ionpu_hw_reset(struct ionpu_device *idev)
{
	u32 status;
	int ret;

	ionpu_wr(idev, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	ret = readl_poll_timeout(idev->regs + IONPU_REG_STATUS, status,
				 status & IONPU_STATUS_READY, 10,
				 IONPU_READY_TIMEOUT_US);
	if (ret)
		dev_err(&idev->pdev->dev, "card not ready after reset (status %#x)\n",
			status);
	return ret;
}

static int ionpu_hw_identify(struct ionpu_device *idev)
{
	struct device *dev = &idev->pdev->dev;
	u32 id = ionpu_rd(idev, IONPU_REG_ID);
	unsigned int i;

	if (id != IONPU_ID_MAGIC) {
		dev_err(dev, "bad ID register %#x\n", id);
		return -ENODEV;
	}

	idev->hw_version = ionpu_rd(idev, IONPU_REG_VERSION);
	if (IONPU_VERSION_MAJOR(idev->hw_version) !=
	    IONPU_VERSION_MAJOR(IONPU_HW_VERSION)) {
		dev_err(dev, "unsupported card version %u.%u\n",
			IONPU_VERSION_MAJOR(idev->hw_version),
			IONPU_VERSION_MINOR(idev->hw_version));
		return -ENODEV;
	}

	idev->caps = ionpu_rd(idev, IONPU_REG_CAPS);
	idev->tiles = ionpu_rd(idev, IONPU_REG_TILES);
	idev->tile_rows = ionpu_rd(idev, IONPU_REG_TILE_ROWS);
	idev->tile_neurons = ionpu_rd(idev, IONPU_REG_TILE_NEURONS);
	/*
	 * The card is not trusted: geometry beyond the documented maxima
	 * would size buffers and index tables past their ends.
	 */
	if (!idev->tiles || idev->tiles > IONPU_MAX_TILES ||
	    !idev->tile_rows || idev->tile_rows > IONPU_TILE_ROWS ||
	    !idev->tile_neurons || idev->tile_neurons > IONPU_TILE_NEURONS) {
		dev_err(dev, "bad geometry: %u tiles of %u x %u (at most %u of %u x %u)\n",
			idev->tiles, idev->tile_rows, idev->tile_neurons,
			IONPU_MAX_TILES, IONPU_TILE_ROWS, IONPU_TILE_NEURONS);
		return -ENODEV;
	}

	idev->seed = (u64)ionpu_rd(idev, IONPU_REG_SEED_HI) << 32 |
		     ionpu_rd(idev, IONPU_REG_SEED_LO);

	for (i = 0; i < IONPU_SERIAL_DWORDS; i++) {
		__le32 word = cpu_to_le32(ionpu_rd(idev, IONPU_REG_SERIAL(i)));

		memcpy(&idev->serial[4 * i], &word, sizeof(word));
	}
	idev->serial[IONPU_SERIAL_LEN] = '\0';
	return 0;
}

/*
 * A command timed out: the card is taken as hung.  Reset it through the PCI
 * core, which quiesces the driver around it (ionpu_reset_prepare/done):
 * commands in flight fail with -EIO and the queues restart empty.
 */
static void ionpu_recover_work(struct work_struct *work)
{
	struct ionpu_device *idev = container_of(to_delayed_work(work),
						 struct ionpu_device,
						 recover_work);
	int ret;

	/* ionpu_reset_done() tells this reset from one asked for. */
	WRITE_ONCE(idev->reset_for_hang, true);
	/* A trylock: remove() holds the device lock while it cancels us. */
	ret = pci_try_reset_function(idev->pdev);
	if (ret == -EAGAIN) {
		schedule_delayed_work(&idev->recover_work, HZ / 10);
		return;
	}
	if (ret) {
		dev_err(&idev->pdev->dev, "card hung and cannot be reset: %d\n",
			ret);
		return;
	}
	/* The reset ran, but the card may not have come back from it. */
	if (READ_ONCE(idev->dead))
		return;
	atomic_inc(&idev->recoveries);
	dev_warn(&idev->pdev->dev, "card hung: reset and recovered\n");
}

/* Several commands timing out together are one hang. */
void ionpu_recover(struct ionpu_device *idev)
{
	if (schedule_delayed_work(&idev->recover_work, 0))
		atomic_inc(&idev->hangs);
}

/*
 * Stop the card for good before the driver lets go of it: no interrupt
 * handler runs or is scheduled, bus mastering is off, and the card went
 * through a reset, so no DMA can land in what is freed afterwards.  A card
 * that does not come out of the reset may still hold the addresses of
 * abandoned buffers: they are kept, pinned pages included, rather than
 * freed under it (a leak the log reports, not a corruption).
 */
static void ionpu_hw_stop(struct ionpu_device *idev)
{
	struct pci_dev *pdev = idev->pdev;

	ionpu_irq_fini(idev);
	ionpu_queue_reap_stop(idev);
	pci_clear_master(pdev);
	if (ionpu_hw_reset(idev)) {
		WRITE_ONCE(idev->dead, true);
		dev_err(&pdev->dev, "card did not stop: its abandoned buffers are kept\n");
		return;
	}
	ionpu_queue_reclaim(idev);
}

static void ionpu_put(void *data)
{
	struct ionpu_device *idev = data;

	put_device(&idev->dev);
}

/* The PCI function's own resources, all device-managed. */
static int ionpu_pci_enable(struct pci_dev *pdev)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	ret = pcim_iomap_regions(pdev, BIT(IONPU_BAR_REGS), IONPU_NAME);
	if (ret)
		return ret;

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	return ionpu_pcie_error_reporting(pdev);
}

static int ionpu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ionpu_device *idev;
	int ret;

	ret = ionpu_pci_enable(pdev);
	if (ret)
		return ret;

	idev = ionpu_cdev_alloc(&pdev->dev);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	/* Dropped after every other managed resource, the IRQs included. */
	ret = devm_add_action_or_reset(&pdev->dev, ionpu_put, idev);
	if (ret)
		return ret;

	idev->pdev = pdev;
	idev->regs = pcim_iomap_table(pdev)[IONPU_BAR_REGS];
	INIT_DELAYED_WORK(&idev->recover_work, ionpu_recover_work);
	idev->hang_window = jiffies;
	pci_set_drvdata(pdev, idev);

	ret = ionpu_hw_identify(idev);
	if (ret)
		return ret;
	ret = ionpu_mmap_init(idev);
	if (ret)
		return ret;
	ret = ionpu_hw_reset(idev);
	if (ret)
		return ret;
	/* Only now: a card left running by an earlier kernel could DMA. */
	pci_set_master(pdev);

	ret = ionpu_queue_init(idev);
	if (ret)
		return ret;
	ionpu_watchdog_init(idev);
	ret = ionpu_irq_init(idev);
	if (ret)
		return ret;
	/* Only once the rings are programmed: a cause could name stale ones. */
	ionpu_queue_start(idev);
	ionpu_irq_enable(idev);

	ret = ionpu_cdev_add(idev);
	if (ret) {
		ionpu_queue_kill(idev, -ENODEV);
		ionpu_hw_stop(idev);
		return ret;
	}
	ionpu_debugfs_add(idev);
	/* What AER recovery restores after a reset of the link. */
	pci_save_state(pdev);

	dev_info(&pdev->dev, "%s: IONPU-1 v%u.%u, %u tiles, serial %s\n",
		 dev_name(&idev->dev), IONPU_VERSION_MAJOR(idev->hw_version),
		 IONPU_VERSION_MINOR(idev->hw_version), idev->tiles,
		 idev->serial);
	return 0;
}

static void ionpu_remove(struct pci_dev *pdev)
{
	struct ionpu_device *idev = pci_get_drvdata(pdev);

	/* Release command waiters first: they hold the lock remove needs. */
	ionpu_queue_kill(idev, -ENODEV);
	/* No process may touch the BAR once the PCI core releases it. */
	ionpu_mmap_revoke(idev, -ENODEV);
	ionpu_debugfs_del(idev);
	ionpu_cdev_del(idev);
	/*
	 * Only now: a submitter may still have armed the watchdog, or timed
	 * out before the kill and queued the recovery, until ionpu_cdev_del()
	 * waited it out.  The watchdog first: its probe may queue a recovery.
	 */
	ionpu_watchdog_stop(idev);
	cancel_delayed_work_sync(&idev->recover_work);
	ionpu_hw_stop(idev);
}

/*
 * Before any reset: what is in flight fails with -EIO, mappings of the
 * readout window die, new commands and mappings get -EIO until the card
 * is back.
 */
static void ionpu_quiesce(struct ionpu_device *idev)
{
	WRITE_ONCE(idev->resetting, true);
	ionpu_queue_kill(idev, -EIO);
	ionpu_mmap_revoke(idev, -EIO);
}

/*
 * Bring a card that was just reset back up; with @idev->lock for write.
 * One that does not come back loses bus mastering until a later reset
 * succeeds: whatever state it is in, it must not DMA.
 */
static int ionpu_restart(struct ionpu_device *idev)
{
	int ret = ionpu_hw_reset(idev);

	if (ret) {
		pci_clear_master(idev->pdev);
		dev_err(&idev->pdev->dev, "card did not come back from a reset (%d): dead until a reset succeeds\n",
			ret);
		return ret;
	}
	pci_set_master(idev->pdev);
	ionpu_queue_reclaim(idev);
	ionpu_queue_start(idev);
	ionpu_irq_enable(idev);
	return 0;
}

/*
 * Counted, and the owners of tiles told, while @idev->lock is held for
 * write: no job or run submitted before the reset takes the lock
 * afterwards unaware of it, and none submitted after it by an owner that
 * was not told yet runs on the cleared tiles (ionpu_lease_fresh()).
 */
static void ionpu_reset_count(struct ionpu_device *idev,
			      enum ionpu_reset_cause why)
{
	lockdep_assert_held_write(&idev->lock);
	ionpu_lease_reset(idev);
	/* Told before counted: pairs with the smp_rmb() of ionpu_lease_fresh(). */
	smp_wmb();
	atomic_inc(&idev->resets);
	WRITE_ONCE(idev->resets_by_cause[why], idev->resets_by_cause[why] + 1);
	WRITE_ONCE(idev->last_reset, why);
}

/*
 * A card that keeps hanging would be reset again and again, each reset
 * failing every tenant's work: past max_hang_resets hang resets within a
 * minute the driver stops bringing it back.  With @idev->lock for write.
 */
static bool ionpu_hangs_too_often(struct ionpu_device *idev)
{
	unsigned int most = READ_ONCE(max_hang_resets);
	unsigned long now = jiffies;

	if (time_after(now, idev->hang_window + 60 * HZ)) {
		idev->hang_window = now;
		idev->hang_window_resets = 0;
	}
	return most && ++idev->hang_window_resets > most;
}

/*
 * After any reset, whether the card came back (@err 0) or not: leases
 * stay, but their owners' configuration is gone (they were told when the
 * reset was counted).  A card that did not come back is dead: every call
 * that needs it fails with -ENODEV (those in flight failed with -EIO),
 * files close as after a removal, and only a later reset that succeeds
 * (sysfs "reset") revives it.
 */
static void ionpu_reset_finish(struct ionpu_device *idev, int err)
{
	WRITE_ONCE(idev->dead, !!err);
	if (err) {
		ionpu_queue_kill(idev, -ENODEV);
		ionpu_mmap_revoke(idev, -ENODEV);
	} else {
		ionpu_mmap_restore(idev);
	}
	WRITE_ONCE(idev->resetting, false);
}

/*
 * A function reset (sysfs "reset", recovery, or a reset of the bus) clears
 * the card's registers; the PCI core saves and restores config space and
 * MSI-X around it.  Users of the registers are held off for the duration.
 */
static void ionpu_reset_prepare(struct pci_dev *pdev)
{
	struct ionpu_device *idev = pci_get_drvdata(pdev);

	ionpu_quiesce(idev);
	down_write(&idev->lock);
	ionpu_irq_disable(idev);
}

static void ionpu_reset_done(struct pci_dev *pdev)
{
	struct ionpu_device *idev = pci_get_drvdata(pdev);
	enum ionpu_reset_cause why = xchg(&idev->reset_for_hang, false) ?
		IONPU_RESET_HANG : IONPU_RESET_REQUESTED;
	int ret;

	/* Left stopped, as a card that did not come back: dead. */
	if (why == IONPU_RESET_HANG && ionpu_hangs_too_often(idev)) {
		pci_clear_master(pdev);
		dev_err(&pdev->dev, "card hung more than %u times within a minute: dead until a reset is asked for\n",
			READ_ONCE(max_hang_resets));
		ret = -EIO;
	} else {
		ret = ionpu_restart(idev);
	}
	/* A reset someone asked for starts the count of hangs anew. */
	if (why == IONPU_RESET_REQUESTED)
		idev->hang_window_resets = 0;
	ionpu_reset_count(idev, why);
	up_write(&idev->lock);
	ionpu_reset_finish(idev, ret);
}

/*
 * AER: an uncorrectable error was reported.  Whether the link is frozen
 * (fatal) or not, the card's state is not trusted: quiesce as for a reset
 * and ask for one.  A link that is gone for good is a removal.
 */
static pci_ers_result_t ionpu_error_detected(struct pci_dev *pdev,
					     pci_channel_state_t state)
{
	struct ionpu_device *idev = pci_get_drvdata(pdev);

	if (state == pci_channel_io_perm_failure) {
		dev_err(&pdev->dev, "PCI error: the card is lost\n");
		ionpu_queue_kill(idev, -ENODEV);
		ionpu_mmap_revoke(idev, -ENODEV);
		return PCI_ERS_RESULT_DISCONNECT;
	}
	dev_warn(&pdev->dev, "PCI error (%s): resetting the card\n",
		 state == pci_channel_io_frozen ? "fatal" : "non-fatal");
	ionpu_quiesce(idev);
	return PCI_ERS_RESULT_NEED_RESET;
}

/* The link was reset (fatal) or not (non-fatal): reset the card itself. */
static pci_ers_result_t ionpu_slot_reset(struct pci_dev *pdev)
{
	struct ionpu_device *idev = pci_get_drvdata(pdev);
	int ret;

	down_write(&idev->lock);
	pci_restore_state(pdev);
	pci_save_state(pdev);
	ionpu_irq_disable(idev);
	ret = ionpu_restart(idev);
	ionpu_reset_count(idev, IONPU_RESET_PCI_ERROR);
	up_write(&idev->lock);
	if (ret) {
		/* No resume follows: the card stays quiet until removed. */
		ionpu_reset_finish(idev, ret);
		return PCI_ERS_RESULT_DISCONNECT;
	}
	return PCI_ERS_RESULT_RECOVERED;
}

static void ionpu_resume(struct pci_dev *pdev)
{
	struct ionpu_device *idev = pci_get_drvdata(pdev);

	ionpu_reset_finish(idev, 0);
	dev_info(&pdev->dev, "recovered from the PCI error\n");
}

static const struct pci_error_handlers ionpu_err_handlers = {
	.error_detected = ionpu_error_detected,
	.slot_reset = ionpu_slot_reset,
	.resume = ionpu_resume,
	.reset_prepare = ionpu_reset_prepare,
	.reset_done = ionpu_reset_done,
};

static const struct pci_device_id ionpu_pci_ids[] = {
	{ PCI_DEVICE(IONPU_PCI_VENDOR_ID, IONPU_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ionpu_pci_ids);

static struct pci_driver ionpu_pci_driver = {
	.name = IONPU_NAME,
	.id_table = ionpu_pci_ids,
	.probe = ionpu_probe,
	.remove = ionpu_remove,
	.err_handler = &ionpu_err_handlers,
};

static int __init ionpu_init(void)
{
	int ret;

	ret = ionpu_uring_init();
	if (ret)
		return ret;
	ret = ionpu_cdev_init();
	if (ret)
		goto err_uring;
	ionpu_debugfs_init();

	ret = pci_register_driver(&ionpu_pci_driver);
	if (ret)
		goto err_cdev;
	return 0;

err_cdev:
	ionpu_debugfs_exit();
	ionpu_cdev_exit();
err_uring:
	ionpu_uring_exit();
	return ret;
}
module_init(ionpu_init);

static void __exit ionpu_exit(void)
{
	pci_unregister_driver(&ionpu_pci_driver);
	ionpu_debugfs_exit();
	ionpu_cdev_exit();
	ionpu_uring_exit();
}
module_exit(ionpu_exit);

MODULE_DESCRIPTION("IONPU-1 neuromorphic accelerator");
MODULE_LICENSE("GPL");
