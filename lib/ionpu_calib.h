/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libionpu's calibration record and scan, internal: shared by the record's
 * codec, the scan, the loader that avoids stuck devices, and the unit tests.
 */
#ifndef IONPU_CALIB_H
#define IONPU_CALIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ionpu/ionpu.h>

#include "ionpu_fabric.h"

/*
 * The calibration record (lib/ionpu_calib_record.c; format in
 * docs/calibration.md): the stuck devices an administrator's scan
 * (lib/ionpu_calib_scan.c) found, kept on the card.  The map is "_map"
 * because struct ionpu_calib is the UAPI's READ/WRITE_CALIB argument.
 */
struct ionpu_calib_map;

/* A device's index in its tile: (row * 256 + column) * 2 + device. */
#define IONPU_CALIB_TILE_DEVICES (IONPU_FAB_ROWS * IONPU_FAB_NEURONS * 2)

/* The row, column and device (0 G+, 1 G-) of device index @i. */
void ionpu_calib_place(uint32_t i, uint16_t *row, uint16_t *col,
		       uint8_t *device);

enum ionpu_calib_io {
	IONPU_CALIB_READ,
	IONPU_CALIB_WRITE,
};

/*
 * Read or write the card's whole record (IONPU_IOC_READ/WRITE_CALIB);
 * writing needs CAP_SYS_ADMIN.  0, or the ioctl's error with a message.
 */
int ionpu_calib_record_io(struct ionpu_dev *dev, uint8_t *rec,
			  enum ionpu_calib_io dir);

/*
 * Read the card's record (IONPU_IOC_READ_CALIB, no privilege needed) into a
 * map.  A blank record (all 0x00 or all 0xff: never calibrated) gives an
 * empty map, not an error.  -EPROTO for a malformed record or one made for
 * another card (serial or seed), with a message; -ENOMEM; the ioctl's error.
 */
int ionpu_calib_load(struct ionpu_dev *dev, struct ionpu_calib_map **out);

/*
 * Whether device @device (0 G+, 1 G-) of cell (@row, @col) of @tile is
 * listed as stuck; if so and @g_us is not NULL, *@g_us is the conductance it
 * is stuck at, uS (kept to about 1.5 %).  O(log n).  Out-of-range arguments
 * are simply not listed.
 */
bool ionpu_calib_stuck(const struct ionpu_calib_map *c, uint32_t tile,
		       uint32_t row, uint32_t col, int device, float *g_us);

/*
 * Whether the record lists every stuck device of @tile (the tile was
 * scanned and its list not cut for room), so a device it does not list is
 * good.  False for a blank record.
 */
bool ionpu_calib_complete(const struct ionpu_calib_map *c, uint32_t tile);

void ionpu_calib_free(struct ionpu_calib_map *c);

/* The record's header fields and counts, as ionpu_calib_read() gives them. */
const struct ionpu_calib_info *
ionpu_calib_info_of(const struct ionpu_calib_map *m);

/* Stuck devices found on @tile, listed or not (0 for a tile not scanned). */
uint32_t ionpu_calib_found(const struct ionpu_calib_map *m, uint32_t tile);

/*
 * The devices @m lists, in record order (tile, then device index), as a
 * malloc'ed array of *@count; -ENOMEM.
 */
int ionpu_calib_list(const struct ionpu_calib_map *m,
		     struct ionpu_stuck_device **out, size_t *count);

/*
 * Parse the @len bytes of a record made for the card (@serial, @seed);
 * what ionpu_calib_load() does after reading it.  For the unit tests.
 */
int ionpu_calib_parse(const uint8_t *rec, size_t len, const char *serial,
		      uint64_t seed, struct ionpu_calib_map **out);

/*
 * Encode a record from @info's serial, seed, created, pulses, threshold_us
 * and tiles_scanned, and the @n stuck devices found on those tiles (any
 * order, no repeats).  @unlisted[t], t < 64: devices of tile t found but
 * not among them (an older record's cut list).  @rec gets all 4096 bytes.
 * What does not fit is cut, least harmful first; *@listed gets how many are
 * in.  -EINVAL, -ENOMEM.
 */
int ionpu_calib_encode(const struct ionpu_calib_info *info,
		       const uint32_t *unlisted,
		       const struct ionpu_stuck_device *dev, size_t n,
		       uint8_t *rec, uint32_t *listed);

#endif /* IONPU_CALIB_H */
