// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the /dev/ionpu<N> character devices and the lifetime of a card.
 *
 * A card's struct ionpu_device is owned by the refcount of its char device's
 * struct device, not by the PCI device: open files pin it, so a file that
 * outlives the card (unbind, hot-unplug) still has valid memory to find
 * ->gone set in and fail with -ENODEV.
 */
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "ionpu_drv.h"

static dev_t ionpu_devt;
static DEFINE_IDA(ionpu_minors);

static struct class ionpu_class = {
	.name = IONPU_NAME,
};

static int ionpu_open(struct inode *inode, struct file *file)
{
	struct ionpu_device *idev =
		container_of(inode->i_cdev, struct ionpu_device, cdev);
	struct ionpu_file *f;
	int ret;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	ret = ionpu_stream_open(f);
	if (ret)
		goto err_free;

	down_read(&idev->lock);
	if (idev->gone)
		ret = -ENODEV;
	else
		get_device(&idev->dev);
	up_read(&idev->lock);
	if (ret)
		goto err_stream;

	f->idev = idev;
	f->file = file;
	f->mapping = file->f_mapping;
	init_rwsem(&f->use);
	spin_lock_init(&f->counted_lock);
	ionpu_run_open(f);
	ionpu_job_open(f);
	file->private_data = f;
	/* read() never sleeps when asked not to: io_uring need not park a worker. */
	file->f_mode |= FMODE_NOWAIT;
	return nonseekable_open(inode, file);

err_stream:
	ionpu_stream_close(f);
err_free:
	kfree(f);
	return ret;
}

static int ionpu_release(struct inode *inode, struct file *file)
{
	struct ionpu_file *f = file->private_data;
	struct ionpu_device *idev = f->idev;

	ionpu_run_close(f);
	ionpu_release_all(f);
	ionpu_job_close(f);
	ionpu_stream_close(f);
	kfree(f);
	put_device(&idev->dev);
	return 0;
}

/*
 * Every close() of a descriptor: the jobs the closing process submitted
 * through it are cancelled, so a process that exits or closes the card
 * does not leave its queued work behind (io_uring, which holds the file,
 * would otherwise wait for all of it on kernels that cannot cancel).
 */
static int ionpu_flush(struct file *file, fl_owner_t id)
{
	ionpu_job_cancel_file(file->private_data, id);
	return 0;
}

static const struct file_operations ionpu_fops = {
	.owner = THIS_MODULE,
	.open = ionpu_open,
	.flush = ionpu_flush,
	.release = ionpu_release,
	.read_iter = ionpu_read_iter,
	.write_iter = ionpu_write_iter,
	.poll = ionpu_poll,
	.mmap = ionpu_mmap,
	.unlocked_ioctl = ionpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = ionpu_uring_cmd,
};

static void ionpu_dev_release(struct device *dev)
{
	struct ionpu_device *idev = container_of(dev, struct ionpu_device, dev);

	ionpu_job_fini(idev);
	ida_free(&ionpu_minors, idev->minor);
	kfree(idev);
}

/**
 * ionpu_cdev_alloc() - allocate a card and reserve its char device
 * @parent: the PCI function's device
 *
 * Return: the card, with one reference that put_device() drops, or an
 * ERR_PTR.  The node appears only with ionpu_cdev_add().
 */
struct ionpu_device *ionpu_cdev_alloc(struct device *parent)
{
	struct ionpu_device *idev;
	int minor;

	minor = ida_alloc_max(&ionpu_minors, IONPU_MAX_CARDS - 1, GFP_KERNEL);
	if (minor < 0)
		return ERR_PTR(minor);

	idev = kzalloc(sizeof(*idev), GFP_KERNEL);
	if (!idev) {
		ida_free(&ionpu_minors, minor);
		return ERR_PTR(-ENOMEM);
	}

	idev->minor = minor;
	init_rwsem(&idev->lock);
	init_waitqueue_head(&idev->irq_wait);
	mutex_init(&idev->test_lock);
	mutex_init(&idev->lease_lock);
	spin_lock_init(&idev->ev.lock);
	init_waitqueue_head(&idev->ev.wait);

	device_initialize(&idev->dev);
	idev->dev.class = &ionpu_class;
	idev->dev.parent = parent;
	idev->dev.devt = MKDEV(MAJOR(ionpu_devt), minor);
	idev->dev.groups = ionpu_groups;
	idev->dev.release = ionpu_dev_release;
	dev_set_drvdata(&idev->dev, idev);

	cdev_init(&idev->cdev, &ionpu_fops);
	idev->cdev.owner = THIS_MODULE;

	/* From here on the release callback frees everything. */
	if (dev_set_name(&idev->dev, IONPU_NAME "%d", minor) ||
	    ionpu_job_init(idev)) {
		put_device(&idev->dev);
		return ERR_PTR(-ENOMEM);
	}
	return idev;
}

int ionpu_cdev_add(struct ionpu_device *idev)
{
	return cdev_device_add(&idev->cdev, &idev->dev);
}

/*
 * Remove the node, then mark the card gone: files opened before keep their
 * reference and see ->gone on their next call.  Returns with no caller left
 * inside a call that uses the hardware.
 */
void ionpu_cdev_del(struct ionpu_device *idev)
{
	cdev_device_del(&idev->cdev, &idev->dev);

	down_write(&idev->lock);
	idev->gone = true;
	up_write(&idev->lock);
	wake_up_all(&idev->irq_wait);
	wake_up_all(&idev->ev.wait);
}

int ionpu_cdev_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&ionpu_devt, 0, IONPU_MAX_CARDS, IONPU_NAME);
	if (ret)
		return ret;

	ret = class_register(&ionpu_class);
	if (ret)
		unregister_chrdev_region(ionpu_devt, IONPU_MAX_CARDS);
	return ret;
}

void ionpu_cdev_exit(void)
{
	class_unregister(&ionpu_class);
	unregister_chrdev_region(ionpu_devt, IONPU_MAX_CARDS);
}
