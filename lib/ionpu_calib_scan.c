// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The calibration scan (docs/calibration.md): find the stuck devices of the
 * chosen tiles, put their weights back, and keep the result in the card's
 * calibration record (lib/ionpu_calib_record.c).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hw/ionpu_regs.h>
#include <linux/ionpu.h>

#include "ionpu_fabric.h"
#include "ionpu_calib.h"
#include "ionpu_internal.h"

#define TILE_DEVICES IONPU_CALIB_TILE_DEVICES
/*
 * PULSES full pulses each way move the slowest good device by about 1 uS
 * (docs/calibration.md); a stuck one does not move at all in the card's
 * noise-free "conductance after".
 */
#define SCAN_PULSES 16
#define SCAN_THRESHOLD_US 0.1f
/* Restoring in ideal mode lands on the nearest level: half a step away. */
#define RESTORE_TOLERANCE_US (IONPU_FAB_G_STEP / 2 + 0.01f)
#define RESTORE_BUDGET 16

static int card_ioctl(struct ionpu_dev *dev, unsigned long request, void *arg,
		      const char *what, uint32_t tile)
{
	int ret = ionpu_dev_ioctl(dev, request, arg);

	if (ret == -EPERM)
		return ionpu_error(-EPERM, "%s (tile %u): needs CAP_SYS_ADMIN",
				   what, tile);
	if (ret)
		return ionpu_error_errno(ret, "%s (tile %u)", what, tile);
	return 0;
}

/* Buffers for one tile: its cells before, and each device's two answers. */
struct scan {
	struct ionpu_cell_read *before; /* row-major, 256 x 256 */
	struct ionpu_pulse *pulses;	/* IONPU_MAX_CELLS */
	uint32_t *g_set;		/* TILE_DEVICES */
	uint32_t *g_reset;		/* TILE_DEVICES */
	struct ionpu_cell_prog *prog;	/* IONPU_MAX_CELLS */
	struct ionpu_cell_result *res;	/* IONPU_MAX_CELLS */
	/* Every stuck device found, growing. */
	struct ionpu_stuck_device *stuck;
	size_t n_stuck;
	size_t cap_stuck;
	uint32_t not_restored;
};

#define DEVICES_PER_CMD IONPU_MAX_CELLS
_Static_assert(TILE_DEVICES % DEVICES_PER_CMD == 0, "whole commands per tile");

static void scan_free(struct scan *s)
{
	free(s->before);
	free(s->pulses);
	free(s->g_set);
	free(s->g_reset);
	free(s->prog);
	free(s->res);
	free(s->stuck);
}

static int scan_alloc(struct scan *s)
{
	s->before =
		calloc(IONPU_FAB_ROWS * IONPU_FAB_NEURONS, sizeof(*s->before));
	s->pulses = calloc(DEVICES_PER_CMD, sizeof(*s->pulses));
	s->g_set = calloc(TILE_DEVICES, sizeof(*s->g_set));
	s->g_reset = calloc(TILE_DEVICES, sizeof(*s->g_reset));
	s->prog = calloc(DEVICES_PER_CMD, sizeof(*s->prog));
	s->res = calloc(DEVICES_PER_CMD, sizeof(*s->res));
	if (!s->before || !s->pulses || !s->g_set || !s->g_reset || !s->prog ||
	    !s->res)
		return ionpu_error(-ENOMEM, "calibration: out of memory");
	return 0;
}

static int set_mode(struct ionpu_dev *dev, uint32_t tile, uint32_t mode)
{
	struct ionpu_configure c = {
		.flags = IONPU_CONFIGURE_SET_TILE,
		.tile = tile,
		.mode = mode,
		.model = IONPU_MODEL_LIF,
		.timestep = ionpu_f32_bits(1e-3f),
		.input_gain = ionpu_f32_bits(1.0f / IONPU_FAB_G_STEP),
	};

	return card_ioctl(dev, IONPU_IOC_CONFIGURE, &c,
			  "setting the tile's mode", tile);
}

/* @count pulses of @kind on every device of @tile; @after gets each result. */
static int pulse_all(struct ionpu_dev *dev, uint32_t tile, struct scan *s,
		     uint8_t kind, uint32_t *after)
{
	for (uint32_t first = 0; first < TILE_DEVICES;
	     first += DEVICES_PER_CMD) {
		struct ionpu_pulses p = {
			.tile = tile,
			.count = DEVICES_PER_CMD,
			.pulses = (uintptr_t)s->pulses,
			.results = (uintptr_t)(after + first),
		};
		int ret;

		for (uint32_t k = 0; k < DEVICES_PER_CMD; k++) {
			struct ionpu_pulse *e = &s->pulses[k];

			ionpu_calib_place(first + k, &e->row, &e->column,
					  &e->device);
			e->kind = kind;
			e->count = SCAN_PULSES;
		}
		ret = card_ioctl(dev, IONPU_IOC_RAW_PULSES, &p, "raw pulses",
				 tile);
		if (ret)
			return ret;
	}
	return 0;
}

static int add_stuck(struct scan *s, const struct ionpu_stuck_device *found)
{
	if (s->n_stuck == s->cap_stuck) {
		size_t cap = s->cap_stuck ? 2 * s->cap_stuck : 1024;
		void *p = realloc(s->stuck, cap * sizeof(*s->stuck));

		if (!p)
			return ionpu_error(-ENOMEM,
					   "calibration: out of memory");
		s->stuck = p;
		s->cap_stuck = cap;
	}
	s->stuck[s->n_stuck++] = *found;
	return 0;
}

/*
 * Stuck devices do not show outside physical mode, and there the card's
 * "conductance after" is free of read noise: a stuck device answers the
 * same value twice, a good one at least about 1 uS apart.
 */
static int probe_tile(struct ionpu_dev *dev, uint32_t tile, struct scan *s)
{
	int ret;

	ret = set_mode(dev, tile, IONPU_MODE_PHYSICAL);
	if (ret)
		return ret;
	ret = pulse_all(dev, tile, s, IONPU_PULSE_SET, s->g_set);
	if (ret)
		return ret;
	ret = pulse_all(dev, tile, s, IONPU_PULSE_RESET, s->g_reset);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < TILE_DEVICES; i++) {
		struct ionpu_stuck_device d = {
			.tile = tile,
			.g_us = ionpu_f32_value(s->g_set[i]),
		};

		if (fabsf(d.g_us - ionpu_f32_value(s->g_reset[i])) >=
		    SCAN_THRESHOLD_US)
			continue;
		ionpu_calib_place(i, &d.row, &d.column, &d.device);
		ret = add_stuck(s, &d);
		if (ret)
			return ret;
	}
	return 0;
}

static float clamp_target(float g)
{
	if (!(g >= IONPU_FAB_G_MIN)) /* NaN too */
		return IONPU_FAB_G_MIN;
	return g > IONPU_FAB_G_MAX ? IONPU_FAB_G_MAX : g;
}

/* Targets for devices @first.. : each one's conductance before the scan. */
static void restore_targets(struct scan *s, uint32_t first)
{
	for (uint32_t k = 0; k < DEVICES_PER_CMD; k++) {
		struct ionpu_cell_prog *e = &s->prog[k];
		const struct ionpu_cell_read *was = &s->before[(first + k) / 2];
		float g;

		ionpu_calib_place(first + k, &e->row, &e->column, &e->device);
		g = ionpu_f32_value(e->device ? was->g_minus : was->g_plus);
		e->budget = RESTORE_BUDGET;
		e->target = ionpu_f32_bits(clamp_target(g));
		e->tolerance = ionpu_f32_bits(RESTORE_TOLERANCE_US);
	}
}

/* Ideal mode writes each device on the level nearest its old conductance. */
static int restore_tile(struct ionpu_dev *dev, uint32_t tile, struct scan *s)
{
	int ret;

	ret = set_mode(dev, tile, IONPU_MODE_IDEAL);
	if (ret)
		return ret;
	for (uint32_t first = 0; first < TILE_DEVICES;
	     first += DEVICES_PER_CMD) {
		struct ionpu_program p = {
			.tile = tile,
			.count = DEVICES_PER_CMD,
			.cells = (uintptr_t)s->prog,
			.results = (uintptr_t)s->res,
		};

		restore_targets(s, first);
		ret = card_ioctl(dev, IONPU_IOC_PROGRAM, &p,
				 "programming the cells back", tile);
		if (ret)
			return ret;
		s->not_restored += p.failed;
	}
	return set_mode(dev, tile, IONPU_MODE_OFF);
}

/* In off mode the read circuit reports the stored conductances exactly. */
static int scan_tile(struct ionpu_dev *dev, uint32_t tile, struct scan *s)
{
	struct ionpu_read_cells r = {
		.tile = tile,
		.rows = IONPU_FAB_ROWS,
		.columns = IONPU_FAB_NEURONS,
		.cells = (uintptr_t)s->before,
	};
	char why[256];
	int ret, undo;

	ret = set_mode(dev, tile, IONPU_MODE_OFF);
	if (ret)
		return ret;
	ret = card_ioctl(dev, IONPU_IOC_READ_CELLS, &r, "reading the cells",
			 tile);
	if (ret)
		return ret;
	ret = probe_tile(dev, tile, s);
	if (ret)
		goto err_restore;
	return restore_tile(dev, tile, s);

err_restore:
	/* Put the weights back anyway, and report the first failure. */
	snprintf(why, sizeof(why), "%s", ionpu_last_error());
	undo = restore_tile(dev, tile, s);
	return ionpu_error(ret, "%s%s", why,
			   undo ? "; the tile's weights could not be restored" :
				  "");
}

enum lease_op {
	LEASE,
	RELEASE,
};

static int lease_tiles(struct ionpu_dev *dev, uint64_t tiles, enum lease_op op)
{
	struct ionpu_lease l = { .flags = IONPU_LEASE_EXACT, .tiles = tiles };
	struct ionpu_release r = { .tiles = tiles };
	bool lease = op == LEASE;
	int ret = lease ? ionpu_dev_ioctl(dev, IONPU_IOC_LEASE, &l) :
			  ionpu_dev_ioctl(dev, IONPU_IOC_RELEASE, &r);

	if (ret == -EBUSY)
		return ionpu_error(-EBUSY,
				   "calibration: a tile to scan is leased (in use by a program, or by this handle): the tiles must be free");
	if (ret)
		return ionpu_error_errno(ret, "calibration: %s the tiles",
					 lease ? "leasing" : "releasing");
	return 0;
}

/*
 * What an earlier record of this card says about tiles not scanned now
 * joins the new list; a blank or unreadable one has nothing to add.
 */
static int keep_old(const uint8_t *rec, const struct ionpu_dev_info *info,
		    uint64_t tiles, struct ionpu_calib_info *rinfo,
		    uint32_t *unlisted, struct scan *s)
{
	const struct ionpu_calib_info *was;
	struct ionpu_stuck_device *listed;
	struct ionpu_calib_map *old;
	size_t n;
	int ret;

	if (ionpu_calib_parse(rec, IONPU_CALIB_LEN, info->serial, info->seed,
			      &old))
		return 0;
	ret = ionpu_calib_list(old, &listed, &n);
	if (ret)
		goto out_map;
	was = ionpu_calib_info_of(old);
	for (uint32_t t = 0; t < IONPU_MAX_TILES; t++) {
		if (tiles >> t & 1 || !(was->tiles_scanned >> t & 1))
			continue;
		rinfo->tiles_scanned |= 1ull << t;
		unlisted[t] = ionpu_calib_found(old, t);
	}
	for (size_t i = 0; i < n; i++) {
		if (tiles >> listed[i].tile & 1)
			continue;
		ret = add_stuck(s, &listed[i]);
		if (ret)
			break;
		unlisted[listed[i].tile]--;
	}
	free(listed);
out_map:
	ionpu_calib_free(old);
	return ret;
}

/* Lease, scan each tile, release; s->stuck gets what was found. */
static int scan_tiles(struct ionpu_dev *dev, uint64_t tiles, struct scan *s)
{
	char why[256];
	int ret;

	ret = lease_tiles(dev, tiles, LEASE);
	if (ret)
		return ret;
	for (uint32_t t = 0; t < IONPU_MAX_TILES; t++) {
		if (!(tiles >> t & 1))
			continue;
		ret = scan_tile(dev, t, s);
		if (ret)
			goto err_release;
	}
	return lease_tiles(dev, tiles, RELEASE);

err_release:
	/* Release anyway, and report the first failure. */
	snprintf(why, sizeof(why), "%s", ionpu_last_error());
	lease_tiles(dev, tiles, RELEASE);
	return ionpu_error(ret, "%s", why);
}

/* The card's tiles @tiles asks for, all of them for 0; or why not. */
static int tiles_to_scan(const struct ionpu_dev_info *info, uint64_t *tiles)
{
	if (!info->tiles || info->tiles > IONPU_MAX_TILES ||
	    info->tile_rows != IONPU_FAB_ROWS ||
	    info->tile_neurons != IONPU_FAB_NEURONS)
		return ionpu_error(-EOPNOTSUPP,
				   "calibration: the card's geometry is not IONPU-1's");
	if (!*tiles)
		*tiles = info->tiles == 64 ? ~0ull : (1ull << info->tiles) - 1;
	if (info->tiles < 64 && *tiles >> info->tiles)
		return ionpu_error(-EINVAL,
				   "calibration: the card has %u tiles",
				   info->tiles);
	return 0;
}

/*
 * The new record in @rec: what the scan found on @tiles and what the old
 * record @rec held about the others.  @rep->record gets the record as a
 * reader will see it.
 */
static int make_record(const struct ionpu_dev_info *info, uint64_t tiles,
		       struct scan *s, uint8_t *rec,
		       struct ionpu_calib_report *rep)
{
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 };
	struct ionpu_calib_map *made;
	int ret;

	memcpy(rep->record.serial, info->serial, sizeof(rep->record.serial));
	rep->record.seed = info->seed;
	rep->record.created = (int64_t)time(NULL);
	rep->record.pulses = SCAN_PULSES;
	rep->record.threshold_us = SCAN_THRESHOLD_US;
	rep->record.tiles_scanned = tiles;
	ret = keep_old(rec, info, tiles, &rep->record, unlisted, s);
	if (ret)
		return ret;
	ret = ionpu_calib_encode(&rep->record, unlisted, s->stuck, s->n_stuck,
				 rec, NULL);
	if (ret)
		return ret;
	ret = ionpu_calib_parse(rec, IONPU_CALIB_LEN, info->serial, info->seed,
				&made);
	if (ret)
		return ret;
	rep->record = *ionpu_calib_info_of(made);
	ionpu_calib_free(made);
	return 0;
}

IONPU_API int ionpu_calibrate(struct ionpu_dev *dev, uint64_t tiles,
			      uint32_t flags, struct ionpu_calib_report *report,
			      struct ionpu_stuck_device **stuck, size_t *count)
{
	uint8_t rec[IONPU_CALIB_LEN];
	struct ionpu_calib_report rep = { 0 };
	struct ionpu_dev_info info;
	struct scan s = { 0 };
	size_t n_new;
	int ret;

	if (!dev || !report || (stuck && !count))
		return ionpu_error(-EINVAL, "ionpu_calibrate: NULL argument");
	if (flags & ~IONPU_CALIBRATE_DRY_RUN)
		return ionpu_error(-EINVAL,
				   "ionpu_calibrate: unknown flags 0x%x",
				   flags);
	ret = ionpu_info(dev, &info);
	if (ret)
		return ret;
	ret = tiles_to_scan(&info, &tiles);
	if (ret)
		return ret;
	/* Writing the record back as it is shows the privilege, harmlessly. */
	ret = ionpu_calib_record_io(dev, rec, IONPU_CALIB_READ);
	if (ret)
		return ret;
	ret = ionpu_calib_record_io(dev, rec, IONPU_CALIB_WRITE);
	if (ret)
		return ret;
	ret = scan_alloc(&s);
	if (ret)
		goto out;
	ret = scan_tiles(dev, tiles, &s);
	if (ret)
		goto out;
	n_new = s.n_stuck;
	rep.tiles = tiles;
	rep.stuck = (uint32_t)n_new;
	rep.not_restored = s.not_restored;
	ret = make_record(&info, tiles, &s, rec, &rep);
	if (ret)
		goto out;
	if (!(flags & IONPU_CALIBRATE_DRY_RUN)) {
		ret = ionpu_calib_record_io(dev, rec, IONPU_CALIB_WRITE);
		if (ret)
			goto out;
	}
	*report = rep;
	if (stuck) {
		/* Found tile by tile, device by device: in order already. */
		*stuck = s.stuck;
		*count = n_new;
		s.stuck = NULL;
	}
out:
	scan_free(&s);
	return ret;
}
