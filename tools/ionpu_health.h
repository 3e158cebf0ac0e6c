/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What ionpu-smi -q says of a card's health: the state, resets and hangs the
 * driver counts in sysfs, and who leases its tiles (docs/ABI).
 */
#ifndef IONPU_TOOLS_HEALTH_H
#define IONPU_TOOLS_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ionpu/ionpu.h>

/* Room for a process's command name, as /proc/PID/comm gives it. */
#define IONPU_COMM_SIZE 32

/* The causes sysfs resets_by_cause/ counts, by its file names. */
#define IONPU_RESET_CAUSES 3
extern const char *const ionpu_reset_cause_names[IONPU_RESET_CAUSES];

/* A leased tile whose owner only an administrator may see (tile_owners). */
#define IONPU_OWNER_HIDDEN (-1)

struct card_health {
	char state[32]; /* "ok", "resetting", "dead" or "gone" */
	uint64_t resets;
	bool by_cause; /* resets_by_cause/ is there (not before driver 0.3) */
	uint64_t resets_by_cause[IONPU_RESET_CAUSES]; /* as the names above */
	uint64_t hangs;
	char last_reset[32]; /* why: "none", "hang", "requested", "pci-error" */
	uint32_t tiles;
	/* Process per tile, 0 free, IONPU_OWNER_HIDDEN for a non-admin. */
	int32_t owner[IONPU_CARD_MAX_TILES];
};

/*
 * Read the health of @card, which the driver serves, below @sysfs_root
 * (NULL: /sys).  0, or -errno with @why naming the file.
 */
int ionpu_health_read(const char *sysfs_root, const struct ionpu_card *card,
		      struct card_health *h, char *why, size_t why_size);

/*
 * The command of process @pid into @buf, for an administrator only: false
 * (and @buf empty) for anyone else, who is told a tile is in use and not by
 * whom, or when the process is gone.
 */
bool ionpu_health_owner_command(pid_t pid, char *buf, size_t size);

#endif /* IONPU_TOOLS_HEALTH_H */
