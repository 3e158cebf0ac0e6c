// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU glue for the IONPU-1 card: a PCI Express endpoint whose behaviour
 * lives in the model core (ionpu_core.c).  This file only maps the core onto
 * QEMU: BAR0 to the core's registers, the core's interrupts to MSI-X, and
 * every kind of reset to the core's reset.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qemu/module.h"
#include "qom/object.h"

#include "ionpu_core.h"

#define TYPE_IONPU "ionpu"
OBJECT_DECLARE_SIMPLE_TYPE(IonpuState, IONPU)

/* Where the PCI Express capability sits in config space. */
#define IONPU_PCIE_CAP_OFFSET	0x80

struct IonpuState {
	PCIDevice parent_obj;

	MemoryRegion regs;
	struct ionpu_core *core;

	/* Properties. */
	uint32_t tiles;
	uint64_t seed;
	char *serial;
};

static void ionpu_notify(void *opaque, unsigned int vector)
{
	PCIDevice *pdev = PCI_DEVICE(opaque);

	/* The card has no INTx or MSI: without MSI-X it cannot signal. */
	if (msix_enabled(pdev))
		msix_notify(pdev, vector);
}

static const struct ionpu_host_ops ionpu_host_ops = {
	.notify = ionpu_notify,
};

static uint64_t ionpu_regs_read(void *opaque, hwaddr addr, unsigned size)
{
	IonpuState *s = opaque;

	return ionpu_core_read(s->core, addr, size);
}

static void ionpu_regs_write(void *opaque, hwaddr addr, uint64_t val,
			     unsigned size)
{
	IonpuState *s = opaque;

	ionpu_core_write(s->core, addr, val, size);
}

/*
 * Every access reaches the core as the guest made it, unaligned and odd
 * sizes included, because the access rules are part of the card's
 * behaviour and are tested there.
 */
static const MemoryRegionOps ionpu_regs_ops = {
	.read = ionpu_regs_read,
	.write = ionpu_regs_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = {
		.min_access_size = 1,
		.max_access_size = 8,
		.unaligned = true,
	},
	.impl = {
		.min_access_size = 1,
		.max_access_size = 8,
		.unaligned = true,
	},
};

static void ionpu_realize(PCIDevice *pdev, Error **errp)
{
	IonpuState *s = IONPU(pdev);
	const struct ionpu_config cfg = {
		.tiles = s->tiles,
		.seed = s->seed,
		.serial = s->serial,
	};
	const char *why = "";
	int ret;

	ret = ionpu_core_new(&cfg, &ionpu_host_ops, s, &s->core, &why);
	if (ret == -EINVAL) {
		error_setg(errp, "ionpu: %s (tiles=%" PRIu32 ", serial=%s%s%s)",
			   why, s->tiles, s->serial ? "\"" : "",
			   s->serial ? s->serial : "default",
			   s->serial ? "\"" : "");
		return;
	}
	if (ret) {
		error_setg_errno(errp, -ret, "ionpu: cannot create the card");
		return;
	}

	memory_region_init_io(&s->regs, OBJECT(s), &ionpu_regs_ops, s,
			      "ionpu-regs", IONPU_BAR_REGS_SIZE);
	pci_register_bar(pdev, IONPU_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
			 &s->regs);

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
	return;

fail_msix:
	msix_uninit_exclusive_bar(pdev);
fail_core:
	ionpu_core_free(s->core);
	s->core = NULL;
}

static void ionpu_exit(PCIDevice *pdev)
{
	IonpuState *s = IONPU(pdev);

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
	IonpuState *s = IONPU(dev);

	ionpu_core_reset(s->core);
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
