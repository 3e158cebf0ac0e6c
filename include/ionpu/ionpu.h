/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libionpu: user-space access to IONPU-1 neuromorphic accelerator cards.
 *
 * Conventions every function follows:
 *
 * - Functions that can fail return 0 or a negative errno value and never
 *   touch errno on purpose.  On failure they also leave a message for the
 *   calling thread, read with ionpu_last_error().
 * - Output pointers are written only on success.
 * - The library keeps no state between calls other than that per-thread
 *   message, so separate threads may use separate handles freely.  One
 *   &struct ionpu_dev may be shared between threads for ionpu_info().
 * - The structs below belong to the library, not to the kernel: the library
 *   translates from <linux/ionpu.h>, so the kernel interface can grow without
 *   breaking programs linked against this one.  A struct whose layout has to
 *   change comes with new symbol versions of the functions that use it.
 */
#ifndef IONPU_IONPU_H
#define IONPU_IONPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; this marks its interface. */
#define IONPU_API __attribute__((visibility("default")))

#define IONPU_LIB_VERSION_MAJOR	0
#define IONPU_LIB_VERSION_MINOR	1
#define IONPU_LIB_VERSION_PATCH	0

/* Longest serial number a card reports, without the terminating NUL. */
#define IONPU_SERIAL_MAX	16
/* Room for a PCI address such as "0000:00:03.0", with the NUL. */
#define IONPU_PCI_ADDR_SIZE	32
/* Room for a device node path such as "/dev/ionpu0", with the NUL. */
#define IONPU_NODE_SIZE		64
/* Room for a kernel driver name, with the NUL. */
#define IONPU_DRIVER_SIZE	64

/* Bits of &struct ionpu_dev_info.caps. */
#define IONPU_DEV_CAP_FLR	(1u << 0)	/* function level reset */
#define IONPU_DEV_CAP_TEST_IRQ	(1u << 1)	/* interrupts can be tested */

/**
 * struct ionpu_card - one card as the system sees it, from sysfs
 * @index: N of the card's node /dev/ionpu<N>, or -1 when the ionpu driver
 *         does not serve the card.
 * @pci_address: PCI address, "domain:bus:slot.function".
 * @node: "/dev/ionpu<N>", or "" when the ionpu driver does not serve the card.
 * @driver_bound: the ionpu driver serves the card; the fields below are
 *                known only then (else they are zero or empty).
 * @driver: name of the kernel driver bound to the PCI function, "" if none.
 *          It can be another driver than "ionpu", e.g. "vfio-pci".
 * @serial: serial number, NUL terminated.
 * @tiles: number of crossbar tiles.
 * @hw_version_major: card version, major part.
 * @hw_version_minor: card version, minor part.
 * @seed: the seed the card draws its device variation from.
 */
struct ionpu_card {
	int index;
	char pci_address[IONPU_PCI_ADDR_SIZE];
	char node[IONPU_NODE_SIZE];
	bool driver_bound;
	char driver[IONPU_DRIVER_SIZE];
	char serial[IONPU_SERIAL_MAX + 1];
	uint32_t tiles;
	uint16_t hw_version_major;
	uint16_t hw_version_minor;
	uint64_t seed;
};

/**
 * struct ionpu_dev_info - identity and geometry of an open card
 * @api_version: version of the kernel interface the driver speaks.
 * @hw_version_major: card version, major part.
 * @hw_version_minor: card version, minor part.
 * @caps: %IONPU_DEV_CAP_* bits the card has.
 * @tiles: number of crossbar tiles.
 * @tile_rows: crossbar rows (synaptic inputs) per tile.
 * @tile_neurons: neurons (crossbar columns) per tile.
 * @seed: the seed the card draws its device variation from.
 * @serial: serial number, NUL terminated.
 */
struct ionpu_dev_info {
	uint32_t api_version;
	uint16_t hw_version_major;
	uint16_t hw_version_minor;
	uint32_t caps;
	uint32_t tiles;
	uint32_t tile_rows;
	uint32_t tile_neurons;
	uint64_t seed;
	char serial[IONPU_SERIAL_MAX + 1];
};

/* An open card; only the library sees inside. */
struct ionpu_dev;

/**
 * ionpu_version() - version of the library that is running
 *
 * Return: "MAJOR.MINOR.PATCH", a static string.  Compare with the
 * %IONPU_LIB_VERSION_* macros to tell the headers' version from the
 * library's.
 */
IONPU_API const char *ionpu_version(void);

/**
 * ionpu_last_error() - why the calling thread's last failed call failed
 *
 * Return: a message naming what failed and why, e.g.
 * "/dev/ionpu3: No such file or directory".  It is meaningful right after a
 * call returned a negative errno; successful calls do not clear it.  The
 * string belongs to the thread and is overwritten by its next failure.
 */
IONPU_API const char *ionpu_last_error(void);

/**
 * ionpu_list() - find every IONPU card in the system
 * @sysfs_root: where sysfs is mounted; NULL means "/sys".
 * @cards: out: array of *@count cards ordered by PCI address, or NULL when
 *         there are none; free it with ionpu_list_free().
 * @count: out: number of cards.
 *
 * Finds cards by their PCI vendor and device ID, driver or not, and reads
 * the identity of those the ionpu driver serves from their sysfs attributes.
 * No card at all, or no ionpu driver loaded, is not an error.
 *
 * Return: 0; -ENOENT if @sysfs_root or an attribute the driver must provide
 * is missing; -EPROTO if an attribute holds a value the library cannot
 * parse; -ENOMEM; or another negative errno from reading sysfs.
 */
IONPU_API int ionpu_list(const char *sysfs_root, struct ionpu_card **cards,
			 size_t *count);

/**
 * ionpu_list_free() - free what ionpu_list() returned
 * @cards: the array, or NULL.
 */
IONPU_API void ionpu_list_free(struct ionpu_card *cards);

/**
 * ionpu_open() - open a card
 * @what: the card's device node ("/dev/ionpu0": anything starting with '/'),
 *        its index ("0" for /dev/ionpu0), or its PCI address
 *        ("0000:00:03.0", or "00:03.0" for domain 0).
 * @out: out: the open card; close it with ionpu_close().
 *
 * Checks that the node is an IONPU card by asking it for its identity.
 *
 * Return: 0; -EINVAL if @what is none of the forms above; -ENOENT or
 * another open(2) error for the node; -ENODEV if no card is at that PCI
 * address, the ionpu driver does not serve it, or the node is not a
 * character device; -ENOTTY if the node is not an IONPU card; -ENOMEM.
 */
IONPU_API int ionpu_open(const char *what, struct ionpu_dev **out);

/**
 * ionpu_close() - close a card opened with ionpu_open()
 * @dev: the card, or NULL.
 */
IONPU_API void ionpu_close(struct ionpu_dev *dev);

/**
 * ionpu_info() - read an open card's identity and geometry
 * @dev: the card.
 * @out: out: what the card reports.
 *
 * Return: 0; -EINVAL for a NULL argument; -ENODEV if the card is gone;
 * another negative errno from the driver.
 */
IONPU_API int ionpu_info(struct ionpu_dev *dev, struct ionpu_dev_info *out);

#ifdef __cplusplus
}
#endif

#endif /* IONPU_IONPU_H */
