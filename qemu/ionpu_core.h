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

#include <stddef.h>
#include <stdint.h>

#include "hw/ionpu_regs.h"

/* Longest serial number: the four SERIAL registers hold 16 bytes. */
#define IONPU_SERIAL_MAX	(4 * IONPU_SERIAL_DWORDS)
#define IONPU_DEFAULT_TILES	16

struct ionpu_config {
	unsigned int tiles;	/* 1..IONPU_MAX_TILES */
	uint64_t seed;
	/* Printable ASCII, at most IONPU_SERIAL_MAX bytes; NULL: the default. */
	const char *serial;
};

/*
 * What the card does to its host.  Every callback gets the opaque pointer
 * given to ionpu_core_new().  Later revisions add DMA here.
 */
struct ionpu_host_ops {
	/* Send MSI-X message @vector (0..IONPU_NUM_VECTORS-1). */
	void (*notify)(void *opaque, unsigned int vector);
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
 * Build a card in its reset state.  Returns 0 and the card in *@out, or
 * -EINVAL (bad @cfg or @ops; *@why says which when @why is not NULL) or
 * -ENOMEM.
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
void ionpu_core_write(struct ionpu_core *core, uint64_t offset,
		      uint64_t value, unsigned int size);

/* Every reset (CONTROL.RESET, FLR, machine reset) ends up here. */
void ionpu_core_reset(struct ionpu_core *core);

#endif /* IONPU_CORE_H */
