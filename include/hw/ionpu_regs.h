/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 register map: the one place where register offsets and bits live.
 *
 * Shared by the card's model core (qemu/) and the driver (kernel/), so it
 * uses plain C constants rather than either side's bit helpers.  The prose
 * that gives every register its meaning is docs/hardware.md; what the card
 * and the host exchange in host memory is hw/ionpu_wire.h.
 */
#ifndef IONPU_REGS_H
#define IONPU_REGS_H

#define IONPU_PCI_VENDOR_ID		0x1234
#define IONPU_PCI_DEVICE_ID		0x4e50
#define IONPU_PCI_REVISION		0x03
/* What a rev 1.3 card (QEMU property learning=off) reports. */
#define IONPU_PCI_REVISION_1_3		0x01
/* PCI class 0x1200: processing accelerator. */
#define IONPU_PCI_CLASS			0x1200

#define IONPU_BAR_REGS			0
#define IONPU_BAR_REGS_SIZE		0x10000
#define IONPU_BAR_MSIX			4
/* BAR2: read-only crossbar readout, one little-endian u16 per device. */
#define IONPU_BAR_READOUT		2

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
#define IONPU_HW_VERSION		0x00010005	/* 1.5 */
#define IONPU_HW_VERSION_1_3		0x00010003	/* learning=off */
#define IONPU_REG_CAPS			0x008
#define IONPU_CAP_FLR			0x00000001
#define IONPU_CAP_TEST_IRQ		0x00000002
#define IONPU_CAP_QUEUES		0x00000004	/* rev 1.1 host interface */
#define IONPU_CAP_READOUT		0x00000008	/* BAR2 exists */
#define IONPU_CAP_NVSTORE		0x00000010	/* state survives power-off */
#define IONPU_CAP_FAULTS		0x00000020	/* FAULT_INJECT exists */
#define IONPU_CAP_TILE_RESET		0x00000040	/* rev 1.2: RESET_STATE tile mask */
#define IONPU_CAP_SGL			0x00000080	/* rev 1.3: scatter-gather payloads */
#define IONPU_CAP_LEARN			0x00000100	/* rev 1.4: LEARN, TEACH */
#define IONPU_CAP_TILE_COUNTERS		0x00000200	/* rev 1.5: READ_TILE_COUNTERS */
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

/* The most a command carries, as IDENTIFY reports them; payloads: hw/ionpu_wire.h. */
#define IONPU_ROUTES_MAX_BYTES		0x00100000	/* LOAD_ROUTES payload */
#define IONPU_MAX_CELLS			65536	/* PROGRAM_CELLS, RAW_PULSES entries */
#define IONPU_MAX_SPIKES		65536	/* INPUT_SPIKES entries */
#define IONPU_CALIB_SIZE		4096	/* the calibration record, bytes */

/* Control and status. */
#define IONPU_REG_CONTROL		0x040
#define IONPU_CONTROL_RESET		0x00000001	/* self-clearing */
#define IONPU_REG_STATUS		0x044
#define IONPU_STATUS_READY		0x00000001
#define IONPU_STATUS_RUNNING		0x00000002	/* a RUN is in progress */
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

/*
 * Queues (rev 1.1).  Bases are 64-bit bus addresses, 64-byte aligned; sizes
 * are entry counts, powers of two.  They can be written only while
 * QUEUE_CONTROL.ENABLE is 0.
 */
#define IONPU_REG_SQ_BASE_LO		0x080
#define IONPU_REG_SQ_BASE_HI		0x084
#define IONPU_REG_SQ_SIZE		0x088
#define IONPU_REG_CQ_BASE_LO		0x090
#define IONPU_REG_CQ_BASE_HI		0x094
#define IONPU_REG_CQ_SIZE		0x098
#define IONPU_REG_EQ_BASE_LO		0x0a0
#define IONPU_REG_EQ_BASE_HI		0x0a4
#define IONPU_REG_EQ_SIZE		0x0a8	/* 0: no event ring */
#define IONPU_REG_QUEUE_CONTROL		0x0b0
#define IONPU_QUEUE_ENABLE		0x00000001
#define IONPU_REG_QUEUE_STATUS		0x0b4
#define IONPU_QUEUE_ENABLED		0x00000001
/* The card's own ring positions, read-only. */
#define IONPU_REG_SQ_HEAD		0x0b8
#define IONPU_REG_CQ_TAIL		0x0bc
#define IONPU_REG_EQ_TAIL		0x0c0
#define IONPU_REG_EQ_DROPPED		0x0c4	/* events lost to a full ring */
#define IONPU_ALIGN_QUEUE		64
#define IONPU_SQ_MAX_ENTRIES		4096
#define IONPU_CQ_MAX_ENTRIES		4096
#define IONPU_EQ_MAX_ENTRIES		65536
#define IONPU_QUEUE_MIN_ENTRIES		2

/*
 * Interrupt coalescing, one register per queue vector: COUNT entries or
 * TIME microseconds after the first unsignalled entry, whichever is first.
 */
#define IONPU_REG_COALESCE_CQ		0x0c8
#define IONPU_REG_COALESCE_EQ		0x0cc
#define IONPU_COALESCE_COUNT(v)		((v) & 0xffff)
#define IONPU_COALESCE_TIME_US(v)	(((v) >> 16) & 0xffff)
#define IONPU_COALESCE(count, us)	(((count) & 0xffff) | (((us) & 0xffff) << 16))

/* Error status: the last error the card signalled on the error vector. */
#define IONPU_REG_ERROR_CODE		0x0d0	/* write any value: clear */
#define IONPU_REG_ERROR_INFO		0x0d4
#define IONPU_REG_ERROR_COUNT		0x0d8
#define IONPU_ERR_NONE			0
#define IONPU_ERR_DMA			1	/* info: opcode << 16 | cid */
#define IONPU_ERR_QUEUE_CONFIG		2	/* info: offending register */
#define IONPU_ERR_DOORBELL		3	/* info: doorbell offset << 16 | value */
#define IONPU_ERR_NVSTORE		4	/* info: opcode << 16 | cid */
#define IONPU_ERR_COMPLETION_LOST	5	/* info: cid; rev >= 1.5, was DMA */

/* Fault injection: only when CAPS.FAULTS (QEMU property faults=on). */
#define IONPU_REG_FAULT_INJECT		0x0e0
#define IONPU_FAULT_NONE		0
#define IONPU_FAULT_HANG		1	/* stop processing until reset */
#define IONPU_FAULT_DMA_ERROR		2	/* fail the next DMA transfer */
#define IONPU_FAULT_BAD_COMPLETION	3	/* corrupt the next completion */
#define IONPU_FAULT_SPURIOUS_IRQ	4	/* one message with no cause */
#define IONPU_FAULT_RESET_FAIL		5	/* resets leave READY 0 */
#define IONPU_FAULT_DUP_COMPLETION	6	/* the next completion twice */
#define IONPU_FAULT_LOST_COMPLETION	7	/* the next completion unwritten */

/* Doorbells: a page of their own, write-only, read as 0. */
#define IONPU_REG_SQ_TAIL_DB		0x1000
#define IONPU_REG_CQ_HEAD_DB		0x1004
#define IONPU_REG_EQ_HEAD_DB		0x1008

#endif /* IONPU_REGS_H */
