// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IONPU-1 model core: identity, control, interrupts and reset of
 * docs/hardware.md revision 1.0.
 */
#include "ionpu_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default serial shows this many low bits of the seed, so it fits. */
#define DEFAULT_SERIAL_SEED_BITS	40

#define CAPS_REV_1_0	(IONPU_CAP_FLR | IONPU_CAP_TEST_IRQ)

struct ionpu_core {
	const struct ionpu_host_ops *ops;
	void *opaque;

	/* Identity: fixed for the card's life, no reset touches it. */
	unsigned int tiles;
	uint64_t seed;
	uint32_t serial[IONPU_SERIAL_DWORDS];

	/* Volatile registers: what every reset returns to zero. */
	uint32_t scratch;
	uint32_t intr_cause;
	uint32_t intr_enable;
};

static int serial_valid(const char *s)
{
	size_t n;

	/* An empty serial would read as all NULs: no serial at all. */
	for (n = 0; s[n]; n++)
		if (n == IONPU_SERIAL_MAX || s[n] < 0x20 || s[n] > 0x7e)
			return 0;
	return n > 0;
}

int ionpu_config_check(const struct ionpu_config *cfg, const char **why)
{
	const char *bad = NULL;

	if (cfg->tiles < 1 || cfg->tiles > IONPU_MAX_TILES)
		bad = "tiles must be 1..64";
	else if (cfg->serial && !serial_valid(cfg->serial))
		bad = "serial must be 1..16 printable ASCII characters";
	if (!bad)
		return 0;
	if (why)
		*why = bad;
	return -EINVAL;
}

int ionpu_config_serial(const struct ionpu_config *cfg,
			char buf[IONPU_SERIAL_MAX + 1])
{
	uint64_t shown = cfg->seed &
		((UINT64_C(1) << DEFAULT_SERIAL_SEED_BITS) - 1);

	if (cfg->serial) {
		if (!serial_valid(cfg->serial))
			return -EINVAL;
		strcpy(buf, cfg->serial);
		return 0;
	}
	snprintf(buf, IONPU_SERIAL_MAX + 1, "IONPU-%llX",
		 (unsigned long long)shown);
	return 0;
}

int ionpu_core_new(const struct ionpu_config *cfg,
		   const struct ionpu_host_ops *ops, void *opaque,
		   struct ionpu_core **out, const char **why)
{
	char serial[IONPU_SERIAL_MAX + 1] = { 0 };
	struct ionpu_core *core;
	int ret;

	if (!ops || !ops->notify) {
		if (why)
			*why = "the host gave no notify callback";
		return -EINVAL;
	}
	ret = ionpu_config_check(cfg, why);
	if (ret)
		return ret;
	ret = ionpu_config_serial(cfg, serial);
	if (ret)
		return ret;

	core = calloc(1, sizeof(*core));
	if (!core)
		return -ENOMEM;
	core->ops = ops;
	core->opaque = opaque;
	core->tiles = cfg->tiles;
	core->seed = cfg->seed;
	/* SERIAL0 bits 7:0 hold byte 0, whatever the host's byte order. */
	for (unsigned int i = 0; i < IONPU_SERIAL_MAX; i++)
		core->serial[i / 4] |= (uint32_t)(unsigned char)serial[i] <<
				       (8 * (i % 4));
	ionpu_core_reset(core);
	*out = core;
	return 0;
}

void ionpu_core_free(struct ionpu_core *core)
{
	free(core);
}

void ionpu_core_reset(struct ionpu_core *core)
{
	core->scratch = 0;
	core->intr_cause = 0;
	core->intr_enable = 0;
}

/* One message per vector that has at least one cause in @edges. */
static void send_vectors(struct ionpu_core *core, uint32_t edges)
{
	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		if (edges & IONPU_INTR_VEC_MASK(v))
			core->ops->notify(core->opaque, v);
}

static void raise_causes(struct ionpu_core *core, uint32_t causes)
{
	uint32_t rising = causes & ~core->intr_cause;

	core->intr_cause |= causes;
	send_vectors(core, rising & core->intr_enable);
}

static void set_enable(struct ionpu_core *core, uint32_t enable)
{
	uint32_t gained = enable & ~core->intr_enable;

	core->intr_enable = enable;
	send_vectors(core, gained & core->intr_cause);
}

static int access_ok(uint64_t offset, unsigned int size)
{
	return size == 4 && offset % 4 == 0 && offset < IONPU_BAR_REGS_SIZE;
}

uint32_t ionpu_core_read(struct ionpu_core *core, uint64_t offset,
			 unsigned int size)
{
	if (!access_ok(offset, size))
		return 0;

	switch (offset) {
	case IONPU_REG_ID:
		return IONPU_ID_MAGIC;
	case IONPU_REG_VERSION:
		return IONPU_HW_VERSION;
	case IONPU_REG_CAPS:
		return CAPS_REV_1_0;
	case IONPU_REG_TILES:
		return core->tiles;
	case IONPU_REG_TILE_ROWS:
		return IONPU_TILE_ROWS;
	case IONPU_REG_TILE_NEURONS:
		return IONPU_TILE_NEURONS;
	case IONPU_REG_SEED_LO:
		return (uint32_t)core->seed;
	case IONPU_REG_SEED_HI:
		return (uint32_t)(core->seed >> 32);
	case IONPU_REG_SERIAL(0):
	case IONPU_REG_SERIAL(1):
	case IONPU_REG_SERIAL(2):
	case IONPU_REG_SERIAL(3):
		return core->serial[(offset - IONPU_REG_SERIAL(0)) / 4];
	case IONPU_REG_STATUS:
		/* The card never has work in flight, so it is always ready. */
		return IONPU_STATUS_READY;
	case IONPU_REG_SCRATCH:
		return core->scratch;
	case IONPU_REG_INTR_CAUSE:
		return core->intr_cause;
	case IONPU_REG_INTR_ENABLE:
		return core->intr_enable;
	default:
		/* CONTROL reads 0 (RESET self-clears), INTR_TEST is write-only. */
		return 0;
	}
}

void ionpu_core_write(struct ionpu_core *core, uint64_t offset,
		      uint64_t value, unsigned int size)
{
	uint32_t val = (uint32_t)value;

	if (!access_ok(offset, size))
		return;

	switch (offset) {
	case IONPU_REG_CONTROL:
		if (val & IONPU_CONTROL_RESET)
			ionpu_core_reset(core);
		break;
	case IONPU_REG_SCRATCH:
		core->scratch = val;
		break;
	case IONPU_REG_INTR_CAUSE:
		core->intr_cause &= ~val;
		break;
	case IONPU_REG_INTR_ENABLE:
		/* Bits of causes that do not exist stay 0. */
		set_enable(core, val & IONPU_INTR_ALL);
		break;
	case IONPU_REG_INTR_TEST:
		if (val < IONPU_NUM_VECTORS)
			raise_causes(core, IONPU_INTR_TEST(val));
		break;
	default:
		break;
	}
}
