// SPDX-License-Identifier: GPL-2.0-only
/*
 * A card's health as sysfs has it: class/ionpu/ionpuN/state, resets,
 * resets_by_cause/, last_reset, hangs and leased_tiles (docs/ABI/sysfs-class-ionpu), all
 * readable by anyone; which process leased a tile (tile_owners) and its
 * command only for an administrator.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ionpu_health.h"

const char *const ionpu_reset_cause_names[IONPU_RESET_CAUSES] = {
	"hang",
	"requested",
	"pci_error",
};

/* The text of attribute @attr of @card, without its newline. */
static int read_attr(const char *sysfs_root, const struct ionpu_card *card,
		     const char *attr, char *buf, size_t size, char *why,
		     size_t why_size)
{
	const char *name = strrchr(card->node, '/');
	char path[PATH_MAX];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/class/ionpu/%s/%s",
		 sysfs_root ? sysfs_root : "/sys", name ? name + 1 : card->node,
		 attr);
	fp = fopen(path, "r");
	if (!fp) {
		int err = -errno;

		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return err;
	}
	n = fread(buf, 1, size - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_u64(const char *sysfs_root, const struct ionpu_card *card,
		    const char *attr, uint64_t *out, char *why, size_t why_size)
{
	char text[32], *end;
	int err = read_attr(sysfs_root, card, attr, text, sizeof(text), why,
			    why_size);

	if (err)
		return err;
	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno || end == text || *end) {
		snprintf(why, why_size, "%s: '%s' is not a count", attr, text);
		return -EPROTO;
	}
	return 0;
}

/*
 * tile_owners: one process id per tile, separated by spaces, 0 for a free
 * tile.  Only root may read it; anyone else reads leased_tiles, 1 for a
 * leased tile, whose owner is then IONPU_OWNER_HIDDEN.
 */
static int read_owners(const char *sysfs_root, const struct ionpu_card *card,
		       struct card_health *h, char *why, size_t why_size)
{
	char text[IONPU_CARD_MAX_TILES * 12], *p, *end;
	const char *attr = "tile_owners";
	long most = INT32_MAX;
	int err = read_attr(sysfs_root, card, attr, text, sizeof(text), why,
			    why_size);

	if (err == -EACCES) {
		attr = "leased_tiles";
		most = 1;
		err = read_attr(sysfs_root, card, attr, text, sizeof(text), why,
				why_size);
	}
	if (err)
		return err;
	h->tiles = 0;
	for (p = text; *p && h->tiles < IONPU_CARD_MAX_TILES; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p || pid < 0 || pid > most ||
		    (*end && *end != ' ')) {
			snprintf(why, why_size, "%s: '%s' is not a list of %s",
				 attr, text,
				 most == 1 ? "0s and 1s" : "process ids");
			return -EPROTO;
		}
		h->owner[h->tiles++] = most == 1 && pid ? IONPU_OWNER_HIDDEN :
							  (int32_t)pid;
		while (*end == ' ')
			end++;
	}
	return 0;
}

int ionpu_health_read(const char *sysfs_root, const struct ionpu_card *card,
		      struct card_health *h, char *why, size_t why_size)
{
	int err;

	memset(h, 0, sizeof(*h));
	err = read_attr(sysfs_root, card, "state", h->state, sizeof(h->state),
			why, why_size);
	if (!err)
		err = read_u64(sysfs_root, card, "resets", &h->resets, why,
			       why_size);
	h->by_cause = !err;
	for (int i = 0; h->by_cause && !err && i < IONPU_RESET_CAUSES; i++) {
		char attr[64];

		snprintf(attr, sizeof(attr), "resets_by_cause/%s",
			 ionpu_reset_cause_names[i]);
		err = read_u64(sysfs_root, card, attr, &h->resets_by_cause[i],
			       why, why_size);
		/* An older driver counts resets only in all. */
		if (err == -ENOENT && i == 0) {
			h->by_cause = false;
			err = 0;
		}
	}
	if (!err)
		err = read_u64(sysfs_root, card, "hangs", &h->hangs, why,
			       why_size);
	if (!err)
		err = read_attr(sysfs_root, card, "last_reset", h->last_reset,
				sizeof(h->last_reset), why, why_size);
	if (!err)
		err = read_owners(sysfs_root, card, h, why, why_size);
	return err;
}

bool ionpu_health_owner_command(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *fp;
	bool ok;

	buf[0] = '\0';
	if (pid <= 0 || geteuid() != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	ok = fgets(buf, (int)size, fp) != NULL;
	fclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
	return ok && buf[0];
}
