// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Container Device Interface spec of ionpu-smi cdi (docs/tools.md), as
 * JSON: CDI reads .json specs as it reads .yaml ones, and JSON needs no
 * library.  The device numbers go in as sysfs has them, so the runtime
 * creates the node in the container without looking at the host's /dev.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ionpu_cdi.h"
#include "ionpu_json.h"

struct dev_number {
	unsigned int major, minor;
};

/* The node's device number, from sysfs's class/ionpu/<node>/dev. */
static int read_dev_number(const struct ionpu_card *card,
			   const char *sysfs_root, struct dev_number *num)
{
	const char *name = strrchr(card->node, '/');
	char path[PATH_MAX];
	FILE *fp;
	int got;

	snprintf(path, sizeof(path), "%s/class/ionpu/%s/dev",
		 sysfs_root ? sysfs_root : "/sys",
		 name ? name + 1 : card->node);
	fp = fopen(path, "r");
	if (!fp) {
		int err = -errno;

		fprintf(stderr, "ionpu-smi: %s: %s\n", path, strerror(errno));
		return err;
	}
	got = fscanf(fp, "%u:%u", &num->major, &num->minor);
	fclose(fp);
	if (got != 2) {
		fprintf(stderr, "ionpu-smi: %s: not MAJOR:MINOR\n", path);
		return -EPROTO;
	}
	return 0;
}

static void write_node(FILE *fp, const struct ionpu_card *card,
		       const struct dev_number *num)
{
	fprintf(fp, "{\"path\": ");
	json_string(fp, card->node);
	fprintf(fp,
		", \"type\": \"c\", \"major\": %u, \"minor\": %u, \"permissions\": \"rw\"}",
		num->major, num->minor);
}

/* A device named @name holding @n of the cards, from @first on. */
static void write_device(FILE *fp, const char *name,
			 const struct ionpu_card *const *cards,
			 const struct dev_number *nums, size_t first, size_t n)
{
	fprintf(fp, "    {\"name\": ");
	json_string(fp, name);
	fprintf(fp, ", \"containerEdits\": {\"deviceNodes\": [");
	for (size_t i = first; i < first + n; i++) {
		fprintf(fp, "%s", i > first ? ", " : "");
		write_node(fp, cards[i], &nums[i]);
	}
	fprintf(fp, "]}}");
}

int ionpu_cdi_write(FILE *fp, const struct ionpu_card *const *cards,
		    size_t count, const char *sysfs_root)
{
	struct dev_number *nums = calloc(count + 1, sizeof(*nums));
	char index[16];
	int err;

	if (!nums) {
		fprintf(stderr, "ionpu-smi: out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		err = read_dev_number(cards[i], sysfs_root, &nums[i]);
		if (err) {
			free(nums);
			return err;
		}
	}
	fprintf(fp, "{\n  \"cdiVersion\": \"%s\",\n  \"kind\": \"%s\",\n",
		IONPU_CDI_VERSION, IONPU_CDI_KIND);
	fprintf(fp, "  \"devices\": [\n");
	for (size_t i = 0; i < count; i++) {
		snprintf(index, sizeof(index), "%d", cards[i]->index);
		write_device(fp, index, cards, nums, i, 1);
		fprintf(fp, ",\n");
		write_device(fp, cards[i]->pci_address, cards, nums, i, 1);
		fprintf(fp, ",\n");
	}
	write_device(fp, "all", cards, nums, 0, count);
	fprintf(fp, "\n  ]\n}\n");
	free(nums);
	return 0;
}
