/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IONPU-1 model core: the card's behaviour, as docs/hardware.md specifies it,
 * in plain C with no QEMU headers.
 *
 * The core never touches the outside world itself.  Its host (the QEMU glue
 * or a unit test) hands it register accesses and gives it a table of
 * callbacks for everything the card does to the machine, so the same core
 * runs inside QEMU, in host unit tests and in libionpu's reference runs.
 */
#ifndef IONPU_CORE_H
#define IONPU_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/ionpu_regs.h"

/* Longest serial number: the four SERIAL registers hold 16 bytes. */
#define IONPU_SERIAL_MAX (4 * IONPU_SERIAL_DWORDS)
#define IONPU_DEFAULT_TILES 16

struct ionpu_config {
	unsigned int tiles; /* 1..IONPU_MAX_TILES */
	uint64_t seed;
	/* Printable ASCII, at most IONPU_SERIAL_MAX bytes; NULL: the default. */
	const char *serial;
	/*
	 * File of the non-volatile store, or NULL: loaded when the card is
	 * built (a missing file is a fresh card), saved after every command
	 * that changes conductances or the calibration record.
	 */
	const char *nvstore;
	/* The FAULT_INJECT register exists (CAPS.FAULTS). */
	bool faults;
	/*
	 * A card as revision 1.3 was, for testing hosts against one: no
	 * CAPS.LEARN, VERSION 1.3, no LEARN or TEACH, 64 bytes of counters.
	 */
	bool without_learning;
};

/*
 * What the card does to its host.  Every callback gets the opaque pointer
 * given to ionpu_core_new(), and every one is required.
 */
struct ionpu_host_ops {
	/* Send MSI-X message @vector (0..IONPU_NUM_VECTORS-1). */
	void (*notify)(void *opaque, unsigned int vector);
	/*
	 * Bus-master transfers of @len bytes at bus address @addr: 0, or a
	 * negative errno when any part of the range cannot be reached (the
	 * card then reports a DMA error).
	 */
	int (*dma_read)(void *opaque, uint64_t addr, void *buf, size_t len);
	int (*dma_write)(void *opaque, uint64_t addr, void *buf, size_t len);
	/*
	 * Call ionpu_core_timer(@vector) @delay_ns from now (interrupt
	 * coalescing); arming an armed timer moves it.
	 */
	void (*arm_timer)(void *opaque, unsigned int vector, uint64_t delay_ns);
};

struct ionpu_core;

/*
 * Check @cfg without building a card.  Returns 0 or -EINVAL, and then sets
 * *@why (when @why is not NULL) to a sentence naming the bad property.
 */
int ionpu_config_check(const struct ionpu_config *cfg, const char **why);

/*
 * The serial number a card with @cfg reports: @cfg->serial, or
 * "IONPU-<seed in hex>" when that is NULL.  Only the low 40 bits of the seed
 * are used there, so the default always fits IONPU_SERIAL_MAX.  @buf holds
 * IONPU_SERIAL_MAX + 1 bytes.  Returns 0 or -EINVAL for an invalid serial.
 */
int ionpu_config_serial(const struct ionpu_config *cfg,
			char buf[IONPU_SERIAL_MAX + 1]);

/*
 * Build a card in its reset state, its non-volatile state loaded from
 * @cfg->nvstore when that file exists.  Returns 0 and the card in *@out, or
 * -EINVAL (bad @cfg or @ops, or an nvstore file that is not intact), the
 * error of reading the nvstore file, or -ENOMEM; *@why (when @why is not
 * NULL) says which for all but -ENOMEM.
 */
int ionpu_core_new(const struct ionpu_config *cfg,
		   const struct ionpu_host_ops *ops, void *opaque,
		   struct ionpu_core **out, const char **why);
void ionpu_core_free(struct ionpu_core *core);

/*
 * BAR0 accesses of @size bytes at @offset, exactly as the bus delivers them;
 * the core applies the access rules (aligned 32-bit only) itself.
 */
uint32_t ionpu_core_read(struct ionpu_core *core, uint64_t offset,
			 unsigned int size);
void ionpu_core_write(struct ionpu_core *core, uint64_t offset, uint64_t value,
		      unsigned int size);

/* Every reset (CONTROL.RESET, FLR, machine reset) ends up here. */
void ionpu_core_reset(struct ionpu_core *core);

/*
 * Power lost and restored: the conductances, calibration record and device
 * time come back from the store, or blank (as at ionpu_core_new()) on a
 * card without one; then a reset.  Returns 0, or the error of loading the
 * store with *@why (when @why is not NULL) saying why: the card is then
 * blank.
 */
int ionpu_core_power_cycle(struct ionpu_core *core, const char **why);

/*
 * Do a bounded slice of the card's work: the commands it can fetch now
 * and one timestep of a run in progress.  Returns whether more work is
 * ready, i.e. whether the host should call again without waiting for a
 * register write.  The core is not thread-safe: its host serialises this
 * with the register accesses.
 */
bool ionpu_core_work(struct ionpu_core *core);

/* The timer armed through ionpu_host_ops.arm_timer() expired. */
void ionpu_core_timer(struct ionpu_core *core, unsigned int vector);

/*
 * BAR2, the crossbar readout: @size bytes (2, 4 or 8, aligned) at @offset;
 * other accesses and offsets past the data read 0.
 */
uint64_t ionpu_core_readout(struct ionpu_core *core, uint64_t offset,
			    unsigned int size);
/* Bytes of readout data: tiles x rows x columns x 2 devices x 2 bytes. */
uint64_t ionpu_core_readout_size(const struct ionpu_core *core);

#endif /* IONPU_CORE_H */
