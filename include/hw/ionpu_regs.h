/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 register map: the one place where offsets and bit layouts live.
 *
 * Shared by the card's model core (qemu/) and the driver (kernel/), so it
 * uses plain C constants rather than either side's bit helpers.  The prose
 * that gives every register its meaning is docs/hardware.md.
 */
#ifndef IONPU_REGS_H
#define IONPU_REGS_H

#define IONPU_PCI_VENDOR_ID		0x1234
#define IONPU_PCI_DEVICE_ID		0x4e50
#define IONPU_PCI_REVISION		0x01
/* PCI class 0x1200: processing accelerator. */
#define IONPU_PCI_CLASS			0x1200

#define IONPU_BAR_REGS			0
#define IONPU_BAR_REGS_SIZE		0x10000
#define IONPU_BAR_MSIX			4

/* MSI-X vectors; each one has its own causes in IONPU_REG_INTR_CAUSE. */
#define IONPU_VEC_CQ			0
#define IONPU_VEC_SPIKE			1
#define IONPU_VEC_ERROR			2
#define IONPU_NUM_VECTORS		3

/* Identity: read-only. */
#define IONPU_REG_ID			0x000
#define IONPU_ID_MAGIC			0x504e4f49	/* "IONP" in LE bytes */
#define IONPU_REG_VERSION		0x004
#define IONPU_VERSION_MAJOR(v)		(((v) >> 16) & 0xffff)
#define IONPU_VERSION_MINOR(v)		((v) & 0xffff)
#define IONPU_HW_VERSION		0x00010000	/* 1.0 */
#define IONPU_REG_CAPS			0x008
#define IONPU_CAP_FLR			0x00000001
#define IONPU_CAP_TEST_IRQ		0x00000002
#define IONPU_REG_TILES			0x00c
#define IONPU_REG_TILE_ROWS		0x010
#define IONPU_REG_TILE_NEURONS		0x014
#define IONPU_REG_SEED_LO		0x018
#define IONPU_REG_SEED_HI		0x01c
/* 16 bytes of ASCII, NUL padded, in four little-endian dwords. */
#define IONPU_REG_SERIAL(i)		(0x020 + 4 * (i))
#define IONPU_SERIAL_DWORDS		4

#define IONPU_TILE_ROWS			256
#define IONPU_TILE_NEURONS		256
#define IONPU_MAX_TILES			64

/* Control and status. */
#define IONPU_REG_CONTROL		0x040
#define IONPU_CONTROL_RESET		0x00000001	/* self-clearing */
#define IONPU_REG_STATUS		0x044
#define IONPU_STATUS_READY		0x00000001
#define IONPU_REG_SCRATCH		0x048

/* Interrupts. */
#define IONPU_REG_INTR_CAUSE		0x050	/* write 1 to clear */
#define IONPU_REG_INTR_ENABLE		0x054
#define IONPU_REG_INTR_TEST		0x058	/* write-only doorbell */
#define IONPU_INTR_CQ			0x00000001
#define IONPU_INTR_SPIKE		0x00000002
#define IONPU_INTR_ERROR		0x00000004
#define IONPU_INTR_TEST(vec)		(0x00000100u << (vec))
#define IONPU_INTR_ALL			0x00000707
/* The causes that each MSI-X vector signals. */
#define IONPU_INTR_VEC_MASK(vec)	(0x00000101u << (vec))

#endif /* IONPU_REGS_H */
