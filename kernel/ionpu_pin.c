// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: user memory the card reads or writes in place (docs/hardware.md,
 * "Scatter-gather lists", rev 1.3).
 *
 * A large payload is not bounced: its user pages are pinned, mapped for
 * DMA as an sg_table, and described to the card by a scatter-gather list
 * in a small coherent buffer.  Pinning happens in two steps, so that user
 * memory is touched only while the card's lock is not held (a fault on a
 * FUSE or userfaultfd mapping can take as long as its server wants, and a
 * reset waits for the lock): ionpu_pin_user() pins before the lock,
 * ionpu_pin_map() maps under it.  A mapped range is freed like a bounce
 * buffer (ionpu_buf_free()): only once the card can no longer touch it.
 *
 * The pages may stay pinned for long (a card that holds an abandoned
 * command keeps them until its reset), so they are pinned FOLL_LONGTERM
 * (never in ZONE_MOVABLE or CMA, where they would block migration) and
 * charged to the pinner's RLIMIT_MEMLOCK like vfio's and RDMA's: a pin
 * past it fails with -ENOMEM, and the charge goes when the pages do.
 *
 * A bounce buffer too large to ask for in one piece (ionpu_pin_bounce())
 * goes the same way, made of single pages of the driver's own: a
 * contiguous allocation of high order may fail on a fragmented machine, or
 * stall while the kernel compacts memory for it.
 */
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "ionpu_drv.h"

/*
 * The largest payload the driver sends (PROGRAM_CELLS) spans this many
 * pages at any alignment: a list of one entry per page always fits.
 */
static_assert(DIV_ROUND_UP(IONPU_MAX_CELLS * sizeof(struct ionpu_hw_prog_entry),
			   PAGE_SIZE) + 1 <= IONPU_SGL_MAX_ENTRIES);

/**
 * struct ionpu_pin - a pinned user range and the card's list of it
 * @pages: the pinned pages
 * @npages: entries of @pages
 * @mm: the pinner's memory, grabbed, charged @npages of locked memory
 * @own: the pages are the driver's (ionpu_pin_bounce()), not pinned user
 *	pages: nothing is charged, @mm is NULL
 * @vaddr: the driver's pages mapped contiguously for the CPU, or NULL
 * @offset: where the range starts in its first page
 * @len: bytes of the range
 * @dir: DMA_FROM_DEVICE when the card writes the range: its pages are
 *	dirtied on unpin; else DMA_TO_DEVICE
 * @sgt: the pages as an sg_table, once mapped
 * @mapped: @sgt is allocated and mapped for DMA
 * @sgl: the card's scatter-gather list, coherent memory, once mapped
 * @sgl_dma: its bus address
 * @sgl_size: its bytes
 */
struct ionpu_pin {
	struct page **pages;
	unsigned int npages;
	struct mm_struct *mm;
	bool own;
	void *vaddr;
	unsigned int offset;
	size_t len;
	enum dma_data_direction dir;
	struct sg_table sgt;
	bool mapped;
	struct ionpu_hw_sgl_entry *sgl;
	dma_addr_t sgl_dma;
	size_t sgl_size;
};

static unsigned int ionpu_pin_pages(u64 uaddr, size_t len)
{
	return (offset_in_page(uaddr) + len + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

/**
 * ionpu_pin_fits() - whether a user range can go to the card as one list
 * @uaddr: user address
 * @len: bytes, at most U32_MAX
 *
 * One page per entry at worst: a range over more pages is bounced.
 *
 * Return: true when ionpu_pin_user() may be used for the range.
 */
bool ionpu_pin_fits(u64 uaddr, size_t len)
{
	return len && len <= U32_MAX &&
	       ionpu_pin_pages(uaddr, len) <= IONPU_SGL_MAX_ENTRIES;
}

/**
 * ionpu_pin_user() - pin a user range for the card; before the card's lock
 * @uaddr: user address
 * @len: bytes, as ionpu_pin_fits() accepts
 * @dir: DMA_FROM_DEVICE when the card writes the range (its pages must be
 *	writable), DMA_TO_DEVICE when it reads it
 *
 * Return: the pinned range, or an ERR_PTR: -EFAULT when part of the range
 * is not mapped (or not writable for DMA_FROM_DEVICE), -EINVAL, -ENOMEM
 * (also past the caller's RLIMIT_MEMLOCK, without CAP_IPC_LOCK).
 */
struct ionpu_pin *ionpu_pin_user(u64 uaddr, size_t len,
				 enum dma_data_direction dir)
{
	unsigned long start = untagged_addr(uaddr);
	struct ionpu_pin *pin;
	int got, ret;

	if (!ionpu_pin_fits(start, len))
		return ERR_PTR(-EINVAL);
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return ERR_PTR(-ENOMEM);
	pin->npages = ionpu_pin_pages(start, len);
	pin->offset = offset_in_page(start);
	pin->len = len;
	pin->dir = dir;
	pin->pages = kvmalloc_array(pin->npages, sizeof(*pin->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!pin->pages) {
		ret = -ENOMEM;
		goto err_free_pin;
	}
	ret = account_locked_vm(current->mm, pin->npages, true);
	if (ret)
		goto err_free_pages;
	pin->mm = current->mm;
	mmgrab(pin->mm);
	got = pin_user_pages_fast(start & PAGE_MASK, pin->npages,
				  FOLL_LONGTERM |
				  (dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0),
				  pin->pages);
	if (got != pin->npages) {
		if (got > 0)
			unpin_user_pages(pin->pages, got);
		ret = got < 0 ? got : -EFAULT;
		goto err_uncharge;
	}
	return pin;

err_uncharge:
	account_locked_vm(pin->mm, pin->npages, false);
	mmdrop(pin->mm);
err_free_pages:
	kvfree(pin->pages);
err_free_pin:
	kfree(pin);
	return ERR_PTR(ret);
}

/* Write the card's list of the mapped segments. */
static void ionpu_pin_fill_sgl(struct ionpu_pin *pin)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(&pin->sgt, sg, i) {
		pin->sgl[i].addr = cpu_to_le64(sg_dma_address(sg));
		pin->sgl[i].len = cpu_to_le32(sg_dma_len(sg));
		pin->sgl[i].rsvd = 0;
	}
}

static void ionpu_pin_unmap(struct device *dev, struct ionpu_pin *pin)
{
	dma_unmap_sgtable(dev, &pin->sgt, pin->dir, 0);
	sg_free_table(&pin->sgt);
}

/**
 * ionpu_pin_map() - map a pinned range for the card and write its list
 * @idev: the card, with @idev->lock held for read and not gone
 * @pin: from ionpu_pin_user(), or the driver's own pages, not mapped yet
 * @sgl: out: the bus address of the list, for the command's address field
 *
 * Segments are at most the device's DMA segment size, so an IOMMU never
 * merges them past what the card's u32 lengths and the DMA layer allow.
 *
 * Return: 0, -ENOMEM, -EIO when the mapping failed, -EINVAL when the
 * mapping came out longer than a list may be.
 */
int ionpu_pin_map(struct ionpu_device *idev, struct ionpu_pin *pin,
		  dma_addr_t *sgl)
{
	struct device *dev = &idev->pdev->dev;
	unsigned int seg = max_t(unsigned int, PAGE_SIZE,
				 ALIGN_DOWN(dma_get_max_seg_size(dev), PAGE_SIZE));
	int ret;

	ret = sg_alloc_table_from_pages_segment(&pin->sgt, pin->pages,
						pin->npages, pin->offset,
						pin->len, seg, GFP_KERNEL);
	if (ret)
		return ret;
	ret = dma_map_sgtable(dev, &pin->sgt, pin->dir, 0);
	if (ret) {
		sg_free_table(&pin->sgt);
		return ret == -ENOMEM ? ret : -EIO;
	}
	pin->mapped = true;
	if (pin->sgt.nents > IONPU_SGL_MAX_ENTRIES) {
		ret = -EINVAL;
		goto unmap;
	}
	pin->sgl_size = array_size(pin->sgt.nents, sizeof(*pin->sgl));
	/* Coherent memory is page aligned: IONPU_SGL_ALIGN holds. */
	pin->sgl = dma_alloc_coherent(dev, pin->sgl_size, &pin->sgl_dma,
				      GFP_KERNEL);
	if (!pin->sgl) {
		ret = -ENOMEM;
		goto unmap;
	}
	ionpu_pin_fill_sgl(pin);
	*sgl = pin->sgl_dma;
	return 0;

unmap:
	ionpu_pin_unmap(dev, pin);
	pin->mapped = false;
	return ret;
}

/**
 * ionpu_pin_bounce() - a large bounce buffer of single pages, for the card's lists
 * @idev: the card, with @idev->lock held for read and not gone; it reads
 *	lists (IONPU_CAP_SGL)
 * @buf: out: the buffer, zeroed; @buf->len set by the caller, at most what
 *	a list of one entry per page describes
 *
 * The pages stay mapped for DMA both ways for as long as they live, so the
 * same buffer may serve many commands; ionpu_pin_sync() hands them to the
 * card before each and back after it.
 *
 * Return: 0, -ENOMEM, or as ionpu_pin_map().
 */
int ionpu_pin_bounce(struct ionpu_device *idev, struct ionpu_dma_buf *buf)
{
	struct ionpu_pin *pin;
	unsigned int i;
	int ret = -ENOMEM;

	if (!ionpu_pin_fits(0, buf->len))
		return -EINVAL;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	pin->own = true;
	pin->npages = ionpu_pin_pages(0, buf->len);
	pin->len = buf->len;
	pin->dir = DMA_BIDIRECTIONAL;
	pin->pages = kvcalloc(pin->npages, sizeof(*pin->pages), GFP_KERNEL);
	if (!pin->pages)
		goto err_free;
	for (i = 0; i < pin->npages; i++) {
		pin->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!pin->pages[i])
			goto err_free;
	}
	pin->vaddr = vmap(pin->pages, pin->npages, VM_MAP, PAGE_KERNEL);
	if (!pin->vaddr)
		goto err_free;
	ret = ionpu_pin_map(idev, pin, &buf->dma);
	if (ret)
		goto err_free;
	buf->cpu = pin->vaddr;
	buf->pin = pin;
	return 0;

err_free:
	ionpu_pin_free(idev, pin);
	return ret;
}

/**
 * ionpu_pin_sync() - hand the driver's own pages to the card, or back
 * @idev: the card, with its PCI function bound
 * @pin: a range, or NULL; pinned user pages need nothing (they are mapped
 *	for one command only)
 * @to: IONPU_SYNC_FOR_DEVICE before a command, IONPU_SYNC_FOR_CPU once
 *	the card completed it
 */
void ionpu_pin_sync(struct ionpu_device *idev, struct ionpu_pin *pin,
		    enum ionpu_sync to)
{
	struct device *dev = &idev->pdev->dev;

	if (!pin || !pin->own)
		return;
	if (to == IONPU_SYNC_FOR_DEVICE) {
		flush_kernel_vmap_range(pin->vaddr, pin->len);
		dma_sync_sgtable_for_device(dev, &pin->sgt, pin->dir);
	} else {
		dma_sync_sgtable_for_cpu(dev, &pin->sgt, pin->dir);
		invalidate_kernel_vmap_range(pin->vaddr, pin->len);
	}
}

/* Bytes of user memory @pin reaches in place: 0 for the driver's own. */
size_t ionpu_pin_user_bytes(const struct ionpu_pin *pin)
{
	return pin && !pin->own ? pin->len : 0;
}

static void ionpu_pin_free_own(struct ionpu_pin *pin)
{
	unsigned int i;

	if (pin->vaddr)
		vunmap(pin->vaddr);
	for (i = 0; pin->pages && i < pin->npages; i++)
		if (pin->pages[i])
			__free_page(pin->pages[i]);
}

/**
 * ionpu_pin_free() - unmap and unpin a range the card no longer touches
 * @idev: the card; when @pin is mapped, with its PCI function still bound
 *	(@idev->lock held, or the card stopped by a reset or removal)
 * @pin: the range, or NULL
 *
 * Pages the card may have written (it had their list) are marked dirty as
 * they are unpinned, so a file-backed mapping writes the card's bytes back.
 * The driver's own pages are freed.
 */
void ionpu_pin_free(struct ionpu_device *idev, struct ionpu_pin *pin)
{
	bool written = pin && pin->dir == DMA_FROM_DEVICE && pin->sgl;

	if (!pin)
		return;
	if (pin->mapped) {
		struct device *dev = &idev->pdev->dev;

		if (pin->sgl)
			dma_free_coherent(dev, pin->sgl_size, pin->sgl,
					  pin->sgl_dma);
		ionpu_pin_unmap(dev, pin);
	}
	if (pin->own) {
		ionpu_pin_free_own(pin);
	} else {
		if (written)
			unpin_user_pages_dirty_lock(pin->pages, pin->npages,
						    true);
		else
			unpin_user_pages(pin->pages, pin->npages);
		account_locked_vm(pin->mm, pin->npages, false);
		mmdrop(pin->mm);
	}
	kvfree(pin->pages);
	kfree(pin);
}
