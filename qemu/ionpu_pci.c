// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU glue for the IONPU-1 card: a PCI Express endpoint whose behaviour
 * lives in the model core (ionpu_core.c).  This file only maps the core onto
 * QEMU: BAR0 to the core's registers, BAR2 to its crossbar readout, the
 * core's interrupts to MSI-X, its DMA to pci_dma_*, its coalescing timers
 * to QEMU timers, and every kind of reset to the core's reset.
 *
 * The card works off the big QEMU lock (BQL): a worker thread runs the
 * core's work loop whenever a register write may have given it work.
 * s->lock serialises everything that touches the core.  Lock order is BQL
 * before s->lock, so the worker, which holds s->lock, never takes the BQL:
 * its MSI-X messages go through a bottom half, and its DMA is limited to
 * RAM, which QEMU copies without the BQL.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "exec/memory.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "qom/object.h"

#include "ionpu_core.h"

#define TYPE_IONPU "ionpu"
OBJECT_DECLARE_SIMPLE_TYPE(IonpuState, IONPU)

/* Where the PCI Express capability sits in config space. */
#define IONPU_PCIE_CAP_OFFSET	0x80
#define IONPU_AER_OFFSET	0x100	/* first extended capability */

struct IonpuState {
	PCIDevice parent_obj;

	MemoryRegion regs;
	MemoryRegion readout;
	struct ionpu_core *core;

	QemuMutex lock;
	/* Threads queued on @lock: the worker steps aside for them. */
	int waiters;
	QemuCond work_cond;
	QemuThread worker;
	bool worker_running;
	/* Under @lock: the worker should call the core / should exit. */
	bool kicked;
	bool quit;

	/* MSI-X vectors the worker raised, sent by @notify_bh (atomic). */
	uint32_t pending_vectors;
	QEMUBH *notify_bh;
	QEMUTimer *coalesce_timer[IONPU_NUM_VECTORS];

	/* Properties. */
	uint32_t tiles;
	uint64_t seed;
	char *serial;
	char *nvstore;
	bool faults;
	bool learning;
};

static void ionpu_lock(IonpuState *s)
{
	qatomic_inc(&s->waiters);
	qemu_mutex_lock(&s->lock);
	qatomic_dec(&s->waiters);
}

static void ionpu_send(PCIDevice *pdev, unsigned int vector)
{
	/* The card has no INTx or MSI: without MSI-X it cannot signal. */
	if (msix_enabled(pdev))
		msix_notify(pdev, vector);
}

static void ionpu_notify(void *opaque, unsigned int vector)
{
	IonpuState *s = opaque;

	if (qemu_mutex_iothread_locked()) {
		ionpu_send(PCI_DEVICE(s), vector);
		return;
	}
	qatomic_or(&s->pending_vectors, 1u << vector);
	qemu_bh_schedule(s->notify_bh);
}

static void ionpu_notify_bh(void *opaque)
{
	IonpuState *s = opaque;
	uint32_t vectors = qatomic_xchg(&s->pending_vectors, 0);

	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		if (vectors & (1u << v))
			ionpu_send(PCI_DEVICE(s), v);
}

/*
 * Only RAM: a transfer to MMIO would need the BQL, which the worker must
 * not take (see the top of the file).  Unmapped addresses fail here too.
 */
static bool ionpu_dma_to_ram(IonpuState *s, uint64_t addr, size_t len,
			     bool is_write)
{
	AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));

	RCU_READ_LOCK_GUARD();
	while (len) {
		hwaddr xlat, l = len;
		MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l,
							   is_write,
							   MEMTXATTRS_UNSPECIFIED);

		if (!memory_region_is_ram(mr) || !l)
			return false;
		addr += l;
		len -= l;
	}
	return true;
}

static int ionpu_dma_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	IonpuState *s = opaque;

	if (!ionpu_dma_to_ram(s, addr, len, false) ||
	    pci_dma_read(PCI_DEVICE(s), addr, buf, len) != MEMTX_OK)
		return -EIO;
	return 0;
}

static int ionpu_dma_write(void *opaque, uint64_t addr, void *buf, size_t len)
{
	IonpuState *s = opaque;

	if (!ionpu_dma_to_ram(s, addr, len, true) ||
	    pci_dma_write(PCI_DEVICE(s), addr, buf, len) != MEMTX_OK)
		return -EIO;
	return 0;
}

static void ionpu_arm_timer(void *opaque, unsigned int vector,
			    uint64_t delay_ns)
{
	IonpuState *s = opaque;

	timer_mod(s->coalesce_timer[vector],
		  qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + delay_ns);
}

static void ionpu_coalesce_expired(IonpuState *s, unsigned int vector)
{
	ionpu_lock(s);
	ionpu_core_timer(s->core, vector);
	qemu_mutex_unlock(&s->lock);
}

static void ionpu_cq_timer(void *opaque)
{
	ionpu_coalesce_expired(opaque, IONPU_VEC_CQ);
}

static void ionpu_eq_timer(void *opaque)
{
	ionpu_coalesce_expired(opaque, IONPU_VEC_SPIKE);
}

static const struct ionpu_host_ops ionpu_host_ops = {
	.notify = ionpu_notify,
	.dma_read = ionpu_dma_read,
	.dma_write = ionpu_dma_write,
	.arm_timer = ionpu_arm_timer,
};

static void *ionpu_worker_fn(void *opaque)
{
	IonpuState *s = opaque;

	rcu_register_thread();
	qemu_mutex_lock(&s->lock);
	for (;;) {
		while (!s->kicked && !s->quit)
			qemu_cond_wait(&s->work_cond, &s->lock);
		if (s->quit)
			break;
		s->kicked = ionpu_core_work(s->core);
		/* Between slices, let register accesses in. */
		qemu_mutex_unlock(&s->lock);
		while (qatomic_read(&s->waiters))
			sched_yield();
		qemu_mutex_lock(&s->lock);
	}
	qemu_mutex_unlock(&s->lock);
	rcu_unregister_thread();
	return NULL;
}

static void ionpu_worker_start(IonpuState *s)
{
	s->quit = false;
	s->kicked = false;
	qemu_thread_create(&s->worker, "ionpu", ionpu_worker_fn, s,
			   QEMU_THREAD_JOINABLE);
	s->worker_running = true;
}

/* Returns once the worker has finished its slice and exited. */
static void ionpu_worker_stop(IonpuState *s)
{
	if (!s->worker_running)
		return;
	ionpu_lock(s);
	s->quit = true;
	qemu_cond_signal(&s->work_cond);
	qemu_mutex_unlock(&s->lock);
	qemu_thread_join(&s->worker);
	s->worker_running = false;
}

/*
 * Every reset: stop the worker, reset the core, drop the messages and
 * timers of the card that was, start a fresh worker.  Called with the BQL.
 */
static void ionpu_hard_reset(IonpuState *s)
{
	ionpu_worker_stop(s);
	ionpu_core_reset(s->core);
	qatomic_set(&s->pending_vectors, 0);
	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		if (s->coalesce_timer[v])
			timer_del(s->coalesce_timer[v]);
	ionpu_worker_start(s);
}

/* Both BARs read the core under the card's lock. */
static uint64_t ionpu_bar_read(IonpuState *s, int bar, hwaddr addr,
			       unsigned size)
{
	uint64_t val;

	ionpu_lock(s);
	if (bar == IONPU_BAR_READOUT)
		val = ionpu_core_readout(s->core, addr, size);
	else
		val = ionpu_core_read(s->core, addr, size);
	qemu_mutex_unlock(&s->lock);
	return val;
}

static uint64_t ionpu_regs_read(void *opaque, hwaddr addr, unsigned size)
{
	return ionpu_bar_read(opaque, IONPU_BAR_REGS, addr, size);
}

static void ionpu_regs_write(void *opaque, hwaddr addr, uint64_t val,
			     unsigned size)
{
	IonpuState *s = opaque;

	/* CONTROL.RESET resets the whole card, worker included. */
	if (addr == IONPU_REG_CONTROL && size == 4 &&
	    (val & IONPU_CONTROL_RESET)) {
		ionpu_hard_reset(s);
		return;
	}
	ionpu_lock(s);
	ionpu_core_write(s->core, addr, val, size);
	/* Any write may have given the card work (doorbells, enable). */
	s->kicked = true;
	qemu_cond_signal(&s->work_cond);
	qemu_mutex_unlock(&s->lock);
}

static uint64_t ionpu_readout_read(void *opaque, hwaddr addr, unsigned size)
{
	return ionpu_bar_read(opaque, IONPU_BAR_READOUT, addr, size);
}

/* BAR2 is read-only. */
static void ionpu_readout_write(void *opaque, hwaddr addr, uint64_t val,
				unsigned size)
{
}

/*
 * Every access reaches the core as the guest made it, unaligned and odd
 * sizes included, because the access rules are part of the card's
 * behaviour and are tested there.  Both BARs work so.
 */
#define IONPU_ANY_ACCESS { \
	.min_access_size = 1, \
	.max_access_size = 8, \
	.unaligned = true, \
}

static const MemoryRegionOps ionpu_regs_ops = {
	.read = ionpu_regs_read,
	.write = ionpu_regs_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = IONPU_ANY_ACCESS,
	.impl = IONPU_ANY_ACCESS,
};

static const MemoryRegionOps ionpu_readout_ops = {
	.read = ionpu_readout_read,
	.write = ionpu_readout_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = IONPU_ANY_ACCESS,
	.impl = IONPU_ANY_ACCESS,
};

static void ionpu_realize(PCIDevice *pdev, Error **errp)
{
	IonpuState *s = IONPU(pdev);
	const struct ionpu_config cfg = {
		.tiles = s->tiles,
		.seed = s->seed,
		.serial = s->serial,
		.nvstore = s->nvstore,
		.faults = s->faults,
		.without_learning = !s->learning,
	};
	const char *why = "";
	int ret;

	ret = ionpu_core_new(&cfg, &ionpu_host_ops, s, &s->core, &why);
	if (ret == -EINVAL) {
		error_setg(errp, "ionpu: %s (tiles=%" PRIu32 ", serial=%s%s%s%s%s)",
			   why, s->tiles, s->serial ? "\"" : "",
			   s->serial ? s->serial : "default",
			   s->serial ? "\"" : "",
			   s->nvstore ? ", nvstore=" : "",
			   s->nvstore ? s->nvstore : "");
		return;
	}
	if (ret) {
		error_setg_errno(errp, -ret, "ionpu: cannot create the card%s%s",
				 s->nvstore ? ": nvstore " : "",
				 s->nvstore ? s->nvstore : "");
		return;
	}
	if (!s->learning) {
		pci_config_set_revision(pdev->config, IONPU_PCI_REVISION_1_3);
	}

	memory_region_init_io(&s->regs, OBJECT(s), &ionpu_regs_ops, s,
			      "ionpu-regs", IONPU_BAR_REGS_SIZE);
	pci_register_bar(pdev, IONPU_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
			 &s->regs);
	memory_region_init_io(&s->readout, OBJECT(s), &ionpu_readout_ops, s,
			      "ionpu-readout",
			      pow2ceil(ionpu_core_readout_size(s->core)));
	pci_register_bar(pdev, IONPU_BAR_READOUT,
			 PCI_BASE_ADDRESS_SPACE_MEMORY, &s->readout);

	if (msix_init_exclusive_bar(pdev, IONPU_NUM_VECTORS, IONPU_BAR_MSIX,
				    errp))
		goto fail_core;
	/* The driver owns all three vectors from the start. */
	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		msix_vector_use(pdev, v);

	ret = pcie_endpoint_cap_init(pdev, IONPU_PCIE_CAP_OFFSET);
	if (ret < 0) {
		error_setg_errno(errp, -ret,
				 "ionpu: cannot add the PCI Express capability");
		goto fail_msix;
	}
	pcie_cap_flr_init(pdev);
	/*
	 * So a guest's AER handling can be exercised (pcie_aer_inject_error):
	 * QEMU only delivers the error message once the guest has enabled
	 * error reporting in Device Control, which deverr makes writable.
	 */
	pcie_cap_deverr_init(pdev);
	ret = pcie_aer_init(pdev, PCI_ERR_VER, IONPU_AER_OFFSET, PCI_ERR_SIZEOF,
			    errp);
	if (ret < 0)
		goto fail_pcie;

	qemu_mutex_init(&s->lock);
	qemu_cond_init(&s->work_cond);
	s->notify_bh = qemu_bh_new(ionpu_notify_bh, s);
	s->coalesce_timer[IONPU_VEC_CQ] =
		timer_new_ns(QEMU_CLOCK_VIRTUAL, ionpu_cq_timer, s);
	s->coalesce_timer[IONPU_VEC_SPIKE] =
		timer_new_ns(QEMU_CLOCK_VIRTUAL, ionpu_eq_timer, s);
	ionpu_worker_start(s);
	return;

fail_pcie:
	pcie_cap_exit(pdev);
fail_msix:
	msix_uninit_exclusive_bar(pdev);
fail_core:
	ionpu_core_free(s->core);
	s->core = NULL;
}

static void ionpu_exit(PCIDevice *pdev)
{
	IonpuState *s = IONPU(pdev);

	ionpu_worker_stop(s);
	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		if (s->coalesce_timer[v])
			timer_free(s->coalesce_timer[v]);
	qemu_bh_delete(s->notify_bh);
	qemu_cond_destroy(&s->work_cond);
	qemu_mutex_destroy(&s->lock);
	pcie_aer_exit(pdev);
	pcie_cap_exit(pdev);
	msix_uninit_exclusive_bar(pdev);
	ionpu_core_free(s->core);
	s->core = NULL;
}

/*
 * Machine reset and FLR both come here; the PCI core resets config space
 * and the MSI-X table around it.
 */
static void ionpu_reset(DeviceState *dev)
{
	pcie_cap_deverr_reset(PCI_DEVICE(dev));
	ionpu_hard_reset(IONPU(dev));
}

static void ionpu_write_config(PCIDevice *pdev, uint32_t addr, uint32_t val,
			       int len)
{
	pci_default_write_config(pdev, addr, val, len);
	pcie_cap_flr_write_config(pdev, addr, val, len);
}

static Property ionpu_properties[] = {
	DEFINE_PROP_UINT32("tiles", IonpuState, tiles, IONPU_DEFAULT_TILES),
	DEFINE_PROP_UINT64("seed", IonpuState, seed, 0),
	DEFINE_PROP_STRING("serial", IonpuState, serial),
	DEFINE_PROP_STRING("nvstore", IonpuState, nvstore),
	DEFINE_PROP_BOOL("faults", IonpuState, faults, false),
	DEFINE_PROP_BOOL("learning", IonpuState, learning, true),
	DEFINE_PROP_END_OF_LIST(),
};

/* The core's state is not serialised yet, so refuse to migrate. */
static const VMStateDescription ionpu_vmstate = {
	.name = TYPE_IONPU,
	.unmigratable = 1,
};

static void ionpu_class_init(ObjectClass *klass, void *data)
{
	DeviceClass *dc = DEVICE_CLASS(klass);
	PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

	k->realize = ionpu_realize;
	k->exit = ionpu_exit;
	k->config_write = ionpu_write_config;
	k->vendor_id = IONPU_PCI_VENDOR_ID;
	k->device_id = IONPU_PCI_DEVICE_ID;
	k->revision = IONPU_PCI_REVISION;
	k->class_id = IONPU_PCI_CLASS;

	dc->desc = "IONPU-1 neuromorphic accelerator";
	dc->reset = ionpu_reset;
	dc->vmsd = &ionpu_vmstate;
	device_class_set_props(dc, ionpu_properties);
	set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo ionpu_info = {
	.name = TYPE_IONPU,
	.parent = TYPE_PCI_DEVICE,
	.instance_size = sizeof(IonpuState),
	.class_init = ionpu_class_init,
	.interfaces = (InterfaceInfo[]) {
		{ INTERFACE_PCIE_DEVICE },
		{ },
	},
};

static void ionpu_register_types(void)
{
	type_register_static(&ionpu_info);
}

type_init(ionpu_register_types)
