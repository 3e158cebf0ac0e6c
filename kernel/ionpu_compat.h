/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ionpu: what differs between the kernels the module builds for (Debian's
 * 6.1 and 6.12).  Every version test of the driver is here, each behind a
 * helper named for what it does, so the other files read as they would in
 * the tree of one kernel.
 *
 * Differences the driver does not meet: it registers a static class
 * (class_register(), whose argument only gained a const) instead of
 * calling class_create(), whose arguments changed in 6.4, and it asks for
 * MSI-X only, never for PCI_IRQ_LEGACY, which 6.12 knows as PCI_IRQ_INTX.
 */
#ifndef IONPU_COMPAT_H
#define IONPU_COMPAT_H

#include <linux/aer.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/version.h>

/* 6.7 moved the command API of io_uring to a header of its own. */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif

/* 6.3: a VMA's flags change only through helpers that lock it. */
static inline void ionpu_vm_flags_mod(struct vm_area_struct *vma,
				      vm_flags_t set, vm_flags_t clear)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags |= set;
	vma->vm_flags &= ~clear;
#endif
}

#if KERNEL_VERSION(6, 5, 0) > LINUX_VERSION_CODE
static inline void ionpu_pcie_error_reporting_off(void *pdev)
{
	pci_disable_pcie_error_reporting(pdev);
}
#endif

/*
 * Let the card report PCIe errors (AER), until the driver unbinds.  From
 * 6.5 the PCI core enables that for every device itself.
 */
static inline int ionpu_pcie_error_reporting(struct pci_dev *pdev)
{
#if KERNEL_VERSION(6, 5, 0) > LINUX_VERSION_CODE
	pci_enable_pcie_error_reporting(pdev);
	return devm_add_action_or_reset(&pdev->dev,
					ionpu_pcie_error_reporting_off, pdev);
#else
	return 0;
#endif
}

/* The SQE's 16-byte command area: 6.7 gives the SQE in its place. */
static inline const void *ionpu_uring_cmd_area(struct io_uring_cmd *ioucmd)
{
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}

/*
 * Cancelable commands (6.7): io_uring calls a command it was told is
 * cancelable with IO_URING_F_CANCEL when its ring goes away.  Before 6.7
 * no such call comes, and the command runs to its end.
 */
static inline bool ionpu_uring_cancelling(unsigned int issue_flags)
{
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
	return issue_flags & IO_URING_F_CANCEL;
#else
	return false;
#endif
}

static inline void ionpu_uring_mark_cancelable(struct io_uring_cmd *ioucmd,
					       unsigned int issue_flags)
{
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
	io_uring_cmd_mark_cancelable(ioucmd, issue_flags);
#endif
}

#endif /* IONPU_COMPAT_H */
