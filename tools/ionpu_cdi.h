/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ionpu-smi cdi: a Container Device Interface spec naming the cards' device
 * nodes, so that container runtimes (podman, Docker, containerd, CRI-O and
 * through them Kubernetes) hand a card to a container by name:
 * --device ionpu.example/card=0.
 */
#ifndef IONPU_TOOLS_CDI_H
#define IONPU_TOOLS_CDI_H

#include <stddef.h>
#include <stdio.h>

#include <ionpu/ionpu.h>

/* The spec's kind: vendor/class, as CDI device names are kind=name. */
#define IONPU_CDI_KIND "ionpu.example/card"
/* The version of the CDI specification the spec is written to. */
#define IONPU_CDI_VERSION "0.5.0"

/*
 * Write the spec of @count cards, each served by the driver, to @fp: a
 * device per card named by its index and one by its PCI address, and "all"
 * holding every card.  The device numbers are read below @sysfs_root (NULL:
 * /sys).  0, or -errno with a message on stderr naming what failed.
 */
int ionpu_cdi_write(FILE *fp, const struct ionpu_card *const *cards,
		    size_t count, const char *sysfs_root);

#endif /* IONPU_TOOLS_CDI_H */
