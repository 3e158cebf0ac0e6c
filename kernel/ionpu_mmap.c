// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: mmap() of the crossbar readout window, BAR2 (docs/hardware.md,
 * "BAR2: crossbar readout").
 *
 * The mmap offset is the offset in the window, where tile t starts at
 * t * IONPU_READOUT_TILE_SIZE.  A file maps only windows of tiles it leases,
 * read-only and uncached, so a process sees no other process's weights.
 *
 * Pages are inserted on fault, never by mmap() itself: every page table
 * entry then belongs to a VMA already linked into its file's address_space,
 * where unmap_mapping_range() finds it.  A mapping is revoked (its entries
 * zapped; its next fault gets SIGBUS) when its tile is released, when the
 * card is reset and when the card goes away, so no process ever reads a
 * window that is not its own or a BAR that is gone.  A mapping made before
 * a reset stays dead: its owner learns of the reset and maps again.
 */
#include <linux/mm.h>

#include "ionpu_compat.h"
#include "ionpu_drv.h"

/*
 * Look up the BAR; the window a file may map is the tiles' part of it (the
 * BAR is rounded up to a power of two).  A card without one maps nothing.
 */
int ionpu_mmap_init(struct ionpu_device *idev)
{
	struct pci_dev *pdev = idev->pdev;
	resource_size_t len = (resource_size_t)idev->tiles *
			      IONPU_READOUT_TILE_SIZE;
	int ret;

	init_rwsem(&idev->map_lock);
	idev->map_err = -ENODEV;
	if (!(idev->caps & IONPU_CAP_READOUT))
		return 0;
	if (!(pci_resource_flags(pdev, IONPU_BAR_READOUT) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, IONPU_BAR_READOUT) < len) {
		dev_err(&pdev->dev, "readout BAR missing or smaller than %u tiles\n",
			idev->tiles);
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(IONPU_BAR_READOUT), IONPU_NAME);
	if (ret)
		return ret;
	idev->readout_phys = pci_resource_start(pdev, IONPU_BAR_READOUT);
	idev->readout_len = len;
	idev->map_err = 0;
	return 0;
}

/* The tiles whose windows [@off, @off + @len) touches. */
static u64 ionpu_mmap_tiles(u64 off, u64 len)
{
	return GENMASK_ULL((off + len - 1) / IONPU_READOUT_TILE_SIZE,
			   off / IONPU_READOUT_TILE_SIZE);
}

static vm_fault_t ionpu_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ionpu_file *f = vma->vm_file->private_data;
	struct ionpu_device *idev = f->idev;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	/* Held across the insert: a revocation then zaps what it inserted. */
	down_read(&idev->map_lock);
	if (!idev->map_err &&
	    (unsigned long)vma->vm_private_data == idev->map_gen &&
	    off < idev->readout_len &&
	    READ_ONCE(f->tiles) & ionpu_mmap_tiles(off, 1))
		ret = vmf_insert_pfn(vma, vmf->address,
				     PHYS_PFN(idev->readout_phys + off));
	up_read(&idev->map_lock);
	return ret;
}

static const struct vm_operations_struct ionpu_mmap_ops = {
	.fault = ionpu_mmap_fault,
};

int ionpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ionpu_file *f = file->private_data;
	struct ionpu_device *idev = f->idev;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	u64 tiles;
	int ret;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;

	down_read(&idev->map_lock);
	ret = idev->map_err;
	if (ret)
		goto out;
	ret = -EINVAL;
	if (off >= idev->readout_len || len > idev->readout_len - off)
		goto out;
	tiles = ionpu_mmap_tiles(off, len);
	ret = -EACCES;
	if ((READ_ONCE(f->tiles) & tiles) != tiles)
		goto out;
	vma->vm_private_data = (void *)idev->map_gen;
	ret = 0;
out:
	up_read(&idev->map_lock);
	if (ret)
		return ret;

	/* Never writable, not even by a later mprotect(). */
	ionpu_vm_flags_mod(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP,
			   VM_MAYWRITE);
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_ops = &ionpu_mmap_ops;
	return 0;
}

/* Zap the entries of @tiles' windows in @mapping. */
static void ionpu_mmap_zap(struct address_space *mapping, u64 tiles)
{
	u32 tile;

	for (tile = 0; tile < IONPU_MAX_TILES; tile++)
		if (tiles & BIT_ULL(tile))
			unmap_mapping_range(mapping,
					    (loff_t)tile * IONPU_READOUT_TILE_SIZE,
					    IONPU_READOUT_TILE_SIZE, 1);
}

/**
 * ionpu_mmap_revoke() - kill every mapping of the readout window
 * @idev: the card
 * @err: what mmap() returns from now on: -EIO during a reset (until
 *	ionpu_mmap_restore()), -ENODEV when the card is going away
 *
 * Returns with no page table entry left that points into the window.
 */
void ionpu_mmap_revoke(struct ionpu_device *idev, int err)
{
	u32 tile;

	down_write(&idev->map_lock);
	if (!idev->readout_len) {
		up_write(&idev->map_lock);
		return;
	}
	idev->map_err = err;
	idev->map_gen++;
	up_write(&idev->map_lock);

	/* Only a file that leases a tile can have mapped it. */
	mutex_lock(&idev->lease_lock);
	for (tile = 0; tile < idev->tiles; tile++)
		if (idev->lease_file[tile])
			ionpu_mmap_zap(idev->lease_file[tile]->mapping,
				       BIT_ULL(tile));
	mutex_unlock(&idev->lease_lock);
}

/* After a reset: mmap() works again; mappings made before stay dead. */
void ionpu_mmap_restore(struct ionpu_device *idev)
{
	down_write(&idev->map_lock);
	if (idev->readout_len && idev->map_err == -EIO)
		idev->map_err = 0;
	up_write(&idev->map_lock);
}

/**
 * ionpu_mmap_revoke_tiles() - zap a file's mappings of tiles it released
 * @f: the file, whose @f->tiles no longer has @tiles
 * @tiles: the released tiles
 *
 * Called under lease_lock, before another file can lease the tiles.
 */
void ionpu_mmap_revoke_tiles(struct ionpu_file *f, u64 tiles)
{
	struct ionpu_device *idev = f->idev;

	if (!idev->readout_len)
		return;
	/* Wait for faults that saw the tiles still leased. */
	down_write(&idev->map_lock);
	up_write(&idev->map_lock);
	ionpu_mmap_zap(f->mapping, tiles);
}
