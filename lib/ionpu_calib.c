// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The calibration record: the stuck devices an administrator's scan found,
 * kept on the card in its 4096-byte record (docs/calibration.md), and the
 * scan that finds them.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hw/ionpu_regs.h>
#include <hw/ionpu_wire.h>
#include <linux/ionpu.h>

#include "ionpu_fabric.h"
#include "hw/ionpu_le.h"
#include "ionpu_internal.h"

#define REC_MAGIC		"IONPUCAL"
#define REC_VERSION		1
/* The layouts are hw/ionpu_wire.h's; a section header is copied, never cast. */
#define REC_HEADER		sizeof(struct ionpu_hw_calib_header)
#define REC_SECTION		sizeof(struct ionpu_hw_calib_section)
#define REC_CRC_AT		offsetof(struct ionpu_hw_calib_header, crc)
#define SEC_FLAG_TRUNCATED	(1u << 0)
/* A device's place in its tile: (row * 256 + column) * 2 + device. */
#define TILE_DEVICES		(IONPU_FAB_ROWS * IONPU_FAB_NEURONS * 2)
#define KEY_TILE_SHIFT		17
/* The smallest entry: a one-byte gap and the conductance code. */
#define ENTRY_MIN		2
#define MAX_ENTRIES		((IONPU_CALIB_LEN - REC_HEADER) / ENTRY_MIN)
/* Conductance codes: G = G_CODE_BASE * 2^(code / G_CODE_PER_OCTAVE), uS. */
#define G_CODE_BASE		0.1
#define G_CODE_PER_OCTAVE	24.0
/*
 * The scan: PULSES full pulses each way move the slowest good device by
 * about 1 uS (docs/calibration.md); a stuck one does not move at all in
 * the card's noise-free "conductance after".
 */
#define SCAN_PULSES		16
#define SCAN_THRESHOLD_US	0.1f
/* Restoring in ideal mode lands on the nearest level: half a step away. */
#define RESTORE_TOLERANCE_US	(IONPU_FAB_G_STEP / 2 + 0.01f)
#define RESTORE_BUDGET		16

_Static_assert(KEY_TILE_SHIFT >= 17 && (1u << KEY_TILE_SHIFT) == TILE_DEVICES,
	       "a key holds a tile's device index below the tile number");
_Static_assert(IONPU_SERIAL_LEN == sizeof(((struct ionpu_hw_calib_header *)0)->serial),
	       "the record keeps the serial as the library reports it");

struct ionpu_calib_map {
	struct ionpu_calib_info info;
	uint32_t found[IONPU_MAX_TILES];	/* per tile, listed or not */
	size_t n;
	uint32_t *key;		/* tile << 17 | device index, ascending */
	uint8_t *gcode;
};

/* --- the CRC (fields are little-endian: hw/ionpu_le.h's helpers) --------- */

/* CRC-32 as zlib and Ethernet compute it, a bit at a time: 4 KiB is small. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

/* The CRC of bytes 0..len-1 with the CRC field itself read as zero. */
static uint32_t record_crc(const uint8_t *rec, size_t len)
{
	static const uint8_t zero[sizeof(((struct ionpu_hw_calib_header *)0)->crc)];
	uint32_t crc = 0xffffffffu;

	crc = crc32_update(crc, rec, REC_CRC_AT);
	crc = crc32_update(crc, zero, sizeof(zero));
	crc = crc32_update(crc, rec + REC_CRC_AT + sizeof(zero),
			   len - REC_CRC_AT - sizeof(zero));
	return ~crc;
}

static uint8_t g_to_code(float g_us)
{
	double code;

	if (!(g_us > G_CODE_BASE))
		return 0;
	code = round(G_CODE_PER_OCTAVE * log2(g_us / G_CODE_BASE));
	return code > 255 ? 255 : (uint8_t)code;
}

static float code_to_g(uint8_t code)
{
	return (float)(G_CODE_BASE * exp2(code / G_CODE_PER_OCTAVE));
}

static uint32_t device_index(uint32_t row, uint32_t col, int device)
{
	return (row * IONPU_FAB_NEURONS + col) * 2 + (uint32_t)device;
}

/* The inverse of device_index(). */
static void place_of(uint32_t i, uint16_t *row, uint16_t *col, uint8_t *device)
{
	*row = (uint16_t)(i / 2 / IONPU_FAB_NEURONS);
	*col = (uint16_t)(i / 2 % IONPU_FAB_NEURONS);
	*device = (uint8_t)(i & 1);
}

/* --- parsing ----------------------------------------------------------------- */

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* A serial as the card pads it: printable ASCII, then only NULs. */
static bool serial_ok(const uint8_t *s)
{
	size_t n = 0;

	while (n < IONPU_SERIAL_LEN && s[n] >= 0x20 && s[n] < 0x7f)
		n++;
	return n > 0 && all_bytes(s + n, IONPU_SERIAL_LEN - n, 0);
}

/* LEB128, at most three bytes, no padding; *@pos moves past it. */
static int get_gap(const uint8_t *rec, size_t end, size_t *pos, uint32_t *gap)
{
	uint32_t v = 0;

	for (int i = 0; i < 3; i++) {
		uint8_t b;

		if (*pos >= end)
			return -1;
		b = rec[(*pos)++];
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (i > 0 && !b)
				return -1;
			*gap = v;
			return 0;
		}
	}
	return -1;
}

static int bad(const char *why)
{
	return ionpu_error(-EPROTO, "calibration record: %s", why);
}

static int parse_sections(const uint8_t *rec, size_t end, unsigned int sections,
			  struct ionpu_calib_map *m)
{
	size_t pos = REC_HEADER;
	int last_tile = -1;
	bool cut = false;

	for (unsigned int s = 0; s < sections; s++) {
		struct ionpu_hw_calib_section h;
		uint32_t entries, found, prev = UINT32_MAX;

		if (end - pos < REC_SECTION)
			return bad("a tile section runs past the end");
		memcpy(&h, rec + pos, sizeof(h));
		entries = ionpu_le16_to_cpu(h.entries);
		found = ionpu_le32_to_cpu(h.found);
		if (h.tile >= IONPU_MAX_TILES)
			return bad("a tile section names a tile past 63");
		if ((int)h.tile <= last_tile)
			return bad("tile sections are not in ascending tile order (or repeat one)");
		if (h.flags & ~SEC_FLAG_TRUNCATED)
			return bad("a tile section has unknown flags");
		if (found < entries || found > TILE_DEVICES ||
		    (found > entries) != !!(h.flags & SEC_FLAG_TRUNCATED))
			return bad("a tile section's found count disagrees with its list");
		last_tile = h.tile;
		cut |= found > entries;
		m->info.tiles_scanned |= 1ull << h.tile;
		if (found > entries)
			m->info.tiles_truncated |= 1ull << h.tile;
		m->info.stuck_found += found;
		m->found[h.tile] = found;
		pos += REC_SECTION;
		for (uint32_t e = 0; e < entries; e++) {
			uint32_t gap, idx;

			if (m->n >= MAX_ENTRIES)
				return bad("more entries than the record can hold");
			if (get_gap(rec, end, &pos, &gap))
				return bad("an entry runs past the end or is malformed");
			idx = prev + 1 + gap;	/* prev starts at -1 */
			if (gap >= TILE_DEVICES || idx >= TILE_DEVICES)
				return bad("an entry lies past the last device of its tile");
			if (pos >= end)
				return bad("an entry runs past the end");
			m->key[m->n] = (uint32_t)h.tile << KEY_TILE_SHIFT | idx;
			m->gcode[m->n] = rec[pos++];
			m->n++;
			prev = idx;
		}
	}
	if (pos != end)
		return bad("bytes left over after the last tile section");
	if (cut != !!(m->info.flags & IONPU_CALIB_OVERFLOW))
		return bad("the overflow flag disagrees with the tile sections");
	m->info.stuck_listed = (uint32_t)m->n;
	return 0;
}

static int parse_header(const uint8_t *rec, size_t len, const char *serial,
			uint64_t seed, struct ionpu_calib_map *m, uint32_t *end)
{
	struct ionpu_hw_calib_header h;
	uint32_t version, length, flags;

	if (len < REC_HEADER)
		return bad("shorter than its header");
	memcpy(&h, rec, sizeof(h));
	if (memcmp(h.magic, REC_MAGIC, sizeof(h.magic)))
		return bad("no IONPUCAL magic (not written by libionpu?)");
	version = ionpu_le32_to_cpu(h.version);
	if (version != REC_VERSION)
		return ionpu_error(-EPROTO,
				   "calibration record: version %u; this library reads version %d",
				   version, REC_VERSION);
	length = ionpu_le32_to_cpu(h.length);
	if (length < REC_HEADER || length > IONPU_CALIB_LEN || length > len)
		return bad("its length field is out of range");
	if (ionpu_le32_to_cpu(h.crc) != record_crc(rec, length))
		return bad("CRC mismatch: the record is damaged");
	flags = ionpu_le32_to_cpu(h.flags);
	if (flags & ~IONPU_CALIB_OVERFLOW)
		return bad("unknown flags");
	if (!serial_ok(h.serial))
		return bad("the serial is not printable ASCII padded with NULs");
	if (h.rsvd)
		return bad("a reserved field is not zero");
	memcpy(m->info.serial, h.serial, IONPU_SERIAL_LEN);
	m->info.seed = ionpu_le64_to_cpu(h.seed);
	if (strcmp(m->info.serial, serial) || m->info.seed != seed)
		return ionpu_error(-EPROTO,
				   "calibration record: made for card %s (seed %llu), not for this card %s (seed %llu)",
				   m->info.serial, (unsigned long long)m->info.seed, serial,
				   (unsigned long long)seed);
	m->info.calibrated = true;
	m->info.version = version;
	m->info.flags = flags;
	m->info.created = (int64_t)ionpu_le64_to_cpu(h.created);
	m->info.pulses = ionpu_le16_to_cpu(h.pulses);
	m->info.threshold_us = ionpu_le16_to_cpu(h.threshold) / 100.0f;
	*end = length;
	return 0;
}

static struct ionpu_calib_map *map_alloc(void)
{
	struct ionpu_calib_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->key = malloc(MAX_ENTRIES * sizeof(*m->key));
	m->gcode = malloc(MAX_ENTRIES);
	if (!m->key || !m->gcode) {
		ionpu_calib_free(m);
		return NULL;
	}
	return m;
}

int ionpu_calib_parse(const uint8_t *rec, size_t len, const char *serial, uint64_t seed,
		      struct ionpu_calib_map **out)
{
	struct ionpu_calib_map *m;
	uint32_t end = 0;
	int ret;

	if (!rec || !serial || !out)
		return ionpu_error(-EINVAL, "ionpu_calib_parse: NULL argument");
	m = map_alloc();
	if (!m)
		return ionpu_error(-ENOMEM, "calibration record: out of memory");
	if (len == IONPU_CALIB_LEN &&
	    (all_bytes(rec, len, 0) || all_bytes(rec, len, 0xff))) {
		*out = m;	/* blank: never calibrated */
		return 0;
	}
	ret = parse_header(rec, len, serial, seed, m, &end);
	if (!ret)
		ret = parse_sections(rec, end,
				     ionpu_get_le16(rec + offsetof(struct ionpu_hw_calib_header,
								   sections)), m);
	if (ret) {
		ionpu_calib_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

void ionpu_calib_free(struct ionpu_calib_map *c)
{
	if (!c)
		return;
	free(c->key);
	free(c->gcode);
	free(c);
}

static int key_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

bool ionpu_calib_stuck(const struct ionpu_calib_map *c, uint32_t tile, uint32_t row,
		       uint32_t col, int device, float *g_us)
{
	const uint32_t *hit;
	uint32_t key;

	if (!c || !c->n || tile >= IONPU_MAX_TILES || row >= IONPU_FAB_ROWS ||
	    col >= IONPU_FAB_NEURONS || (device != 0 && device != 1))
		return false;
	key = tile << KEY_TILE_SHIFT | device_index(row, col, device);
	hit = bsearch(&key, c->key, c->n, sizeof(*c->key), key_cmp);
	if (!hit)
		return false;
	if (g_us)
		*g_us = code_to_g(c->gcode[hit - c->key]);
	return true;
}

bool ionpu_calib_complete(const struct ionpu_calib_map *c, uint32_t tile)
{
	return c && tile < IONPU_MAX_TILES &&
	       ((c->info.tiles_scanned & ~c->info.tiles_truncated) >> tile & 1);
}

/* --- encoding ------------------------------------------------------------------ */

/* A stuck device in the order the record lists them, and its harm rank. */
struct found {
	uint32_t key;
	uint8_t gcode;
	uint32_t rank;
};

static int found_by_key(const void *a, const void *b)
{
	return key_cmp(&((const struct found *)a)->key, &((const struct found *)b)->key);
}

/* Most harmful first: the highest conductance (a shorted device), then order. */
static int found_by_harm(const void *a, const void *b)
{
	const struct found *x = *(const struct found *const *)a;
	const struct found *y = *(const struct found *const *)b;

	if (x->gcode != y->gcode)
		return x->gcode > y->gcode ? -1 : 1;
	return key_cmp(&x->key, &y->key);
}

static size_t gap_bytes(uint32_t gap)
{
	return gap < (1u << 7) ? 1 : gap < (1u << 14) ? 2 : 3;
}

/*
 * Write the sections keeping the @keep most harmful devices; returns the
 * record's length, or 0 when it would not fit.  @rec NULL: only measure.
 */
static size_t put_sections(uint8_t *rec, const struct found *f, size_t n, uint64_t scanned,
			   const uint32_t *unlisted, uint32_t keep)
{
	size_t pos = REC_HEADER, i = 0;

	for (unsigned int t = 0; t < IONPU_MAX_TILES; t++) {
		uint32_t entries = 0, found = unlisted[t], prev = UINT32_MAX;
		size_t head = pos;

		if (!(scanned >> t & 1))
			continue;
		pos += REC_SECTION;
		for (; i < n && f[i].key >> KEY_TILE_SHIFT == t; i++) {
			uint32_t idx = f[i].key & (TILE_DEVICES - 1), gap;

			found++;
			if (f[i].rank >= keep)
				continue;
			gap = idx - prev - 1;
			if (pos + gap_bytes(gap) + 1 > IONPU_CALIB_LEN)
				return 0;
			for (size_t b = gap_bytes(gap); b; b--, gap >>= 7)
				if (rec)
					rec[pos++] = (uint8_t)((gap & 0x7f) | (b > 1 ? 0x80 : 0));
				else
					pos++;
			if (rec)
				rec[pos] = f[i].gcode;
			pos++;
			entries++;
			prev = idx;
		}
		if (pos > IONPU_CALIB_LEN)
			return 0;
		if (rec) {
			const struct ionpu_hw_calib_section h = {
				.tile = (uint8_t)t,
				.flags = found > entries ? SEC_FLAG_TRUNCATED : 0,
				.entries = ionpu_cpu_to_le16((uint16_t)entries),
				.found = ionpu_cpu_to_le32(found),
			};

			memcpy(rec + head, &h, sizeof(h));
		}
	}
	return pos;
}

int ionpu_calib_encode(const struct ionpu_calib_info *info, const uint32_t *unlisted,
		       const struct ionpu_stuck_device *dev, size_t n,
		       uint8_t *rec, uint32_t *listed)
{
	struct found *f = NULL, **by_harm = NULL;
	uint32_t lo = 0, hi, sections = 0, keep;
	struct ionpu_hw_calib_header h;
	uint8_t serial[IONPU_SERIAL_LEN];
	uint32_t flags = 0;
	size_t len;
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		if (dev[i].tile >= IONPU_MAX_TILES || !(info->tiles_scanned >> dev[i].tile & 1) ||
		    dev[i].row >= IONPU_FAB_ROWS || dev[i].column >= IONPU_FAB_NEURONS ||
		    dev[i].device > 1)
			return ionpu_error(-EINVAL, "calibration record: a stuck device outside the scanned tiles");
	memset(serial, 0, sizeof(serial));
	memcpy(serial, info->serial, strnlen(info->serial, sizeof(serial)));
	if (!serial_ok(serial) || strnlen(info->serial, sizeof(info->serial)) > IONPU_SERIAL_LEN)
		return ionpu_error(-EINVAL, "calibration record: bad serial \"%s\"", info->serial);
	if (n > UINT32_MAX - 1)
		return ionpu_error(-EOVERFLOW, "calibration record: too many stuck devices");
	f = calloc(n ? n : 1, sizeof(*f));
	by_harm = calloc(n ? n : 1, sizeof(*by_harm));
	if (!f || !by_harm) {
		ret = ionpu_error(-ENOMEM, "calibration record: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		f[i].key = dev[i].tile << KEY_TILE_SHIFT |
			   device_index(dev[i].row, dev[i].column, dev[i].device);
		f[i].gcode = g_to_code(dev[i].g_us);
		by_harm[i] = &f[i];
	}
	qsort(by_harm, n, sizeof(*by_harm), found_by_harm);
	for (size_t i = 0; i < n; i++)
		by_harm[i]->rank = (uint32_t)i;
	qsort(f, n, sizeof(*f), found_by_key);
	for (size_t i = 1; i < n; i++)
		if (f[i].key == f[i - 1].key) {
			ret = ionpu_error(-EINVAL, "calibration record: a stuck device listed twice");
			goto out;
		}
	/* Adding a device never shrinks the record: bisect how many fit. */
	hi = (uint32_t)n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (put_sections(NULL, f, n, info->tiles_scanned, unlisted, mid))
			lo = mid;
		else
			hi = mid - 1;
	}
	keep = lo;
	memset(rec, 0, IONPU_CALIB_LEN);
	len = put_sections(rec, f, n, info->tiles_scanned, unlisted, keep);
	for (unsigned int t = 0; t < IONPU_MAX_TILES; t++) {
		if (!(info->tiles_scanned >> t & 1))
			continue;
		sections++;
		if (unlisted[t])
			flags |= IONPU_CALIB_OVERFLOW;
	}
	if (keep < n)
		flags |= IONPU_CALIB_OVERFLOW;
	h = (struct ionpu_hw_calib_header){
		.version = ionpu_cpu_to_le32(REC_VERSION),
		.length = ionpu_cpu_to_le32((uint32_t)len),
		.flags = ionpu_cpu_to_le32(flags),
		.seed = ionpu_cpu_to_le64(info->seed),
		.created = ionpu_cpu_to_le64((uint64_t)info->created),
		.pulses = ionpu_cpu_to_le16((uint16_t)info->pulses),
		.threshold = ionpu_cpu_to_le16((uint16_t)lroundf(info->threshold_us * 100)),
		.sections = ionpu_cpu_to_le16((uint16_t)sections),
	};
	memcpy(h.magic, REC_MAGIC, sizeof(h.magic));
	memcpy(h.serial, serial, sizeof(h.serial));
	memcpy(rec, &h, sizeof(h));
	ionpu_put_le32(rec + REC_CRC_AT, record_crc(rec, len));
	if (listed)
		*listed = keep;
out:
	free(f);
	free(by_harm);
	return ret;
}

/* --- the card ------------------------------------------------------------------ */

static int card_ioctl(struct ionpu_dev *dev, unsigned long request, void *arg,
		      const char *what, uint32_t tile)
{
	int ret = ionpu_dev_ioctl(dev, request, arg);

	if (ret == -EPERM)
		return ionpu_error(-EPERM, "%s (tile %u): needs CAP_SYS_ADMIN", what, tile);
	if (ret)
		return ionpu_error_errno(ret, "%s (tile %u)", what, tile);
	return 0;
}

static int record_io(struct ionpu_dev *dev, uint8_t *rec, bool write)
{
	struct ionpu_calib c = { .length = IONPU_CALIB_LEN, .data = (uintptr_t)rec };
	int ret = ionpu_dev_ioctl(dev, write ? IONPU_IOC_WRITE_CALIB : IONPU_IOC_READ_CALIB,
				  &c);

	if (ret == -EPERM)
		return ionpu_error(-EPERM, "writing the calibration record needs CAP_SYS_ADMIN");
	if (ret)
		return ionpu_error_errno(ret, "%s the calibration record",
					 write ? "writing" : "reading");
	return 0;
}

int ionpu_calib_load(struct ionpu_dev *dev, struct ionpu_calib_map **out)
{
	uint8_t rec[IONPU_CALIB_LEN];
	struct ionpu_dev_info info;
	int ret;

	if (!dev || !out)
		return ionpu_error(-EINVAL, "ionpu_calib_load: NULL argument");
	ret = ionpu_info(dev, &info);
	if (!ret)
		ret = record_io(dev, rec, false);
	return ret ? ret : ionpu_calib_parse(rec, sizeof(rec), info.serial, info.seed, out);
}

/* The devices @m lists, as a caller's array. */
static int map_list(const struct ionpu_calib_map *m, struct ionpu_stuck_device **out,
		    size_t *count)
{
	struct ionpu_stuck_device *list = calloc(m->n ? m->n : 1, sizeof(*list));

	if (!list)
		return ionpu_error(-ENOMEM, "calibration record: out of memory");
	for (size_t i = 0; i < m->n; i++) {
		list[i].tile = m->key[i] >> KEY_TILE_SHIFT;
		place_of(m->key[i] & (TILE_DEVICES - 1), &list[i].row, &list[i].column,
			 &list[i].device);
		list[i].g_us = code_to_g(m->gcode[i]);
	}
	*out = list;
	*count = m->n;
	return 0;
}

IONPU_API int ionpu_calib_read(struct ionpu_dev *dev, struct ionpu_calib_info *info,
			       struct ionpu_stuck_device **stuck, size_t *count)
{
	struct ionpu_calib_map *m;
	int ret;

	if (!info || (stuck && !count))
		return ionpu_error(-EINVAL, "ionpu_calib_read: NULL argument");
	ret = ionpu_calib_load(dev, &m);
	if (ret)
		return ret;
	if (stuck)
		ret = map_list(m, stuck, count);
	if (!ret)
		*info = m->info;
	ionpu_calib_free(m);
	return ret;
}

IONPU_API int ionpu_calib_clear(struct ionpu_dev *dev)
{
	uint8_t rec[IONPU_CALIB_LEN] = { 0 };

	if (!dev)
		return ionpu_error(-EINVAL, "ionpu_calib_clear: NULL argument");
	return record_io(dev, rec, true);
}

/* Buffers for one tile: its cells before, and each device's two answers. */
struct scan {
	struct ionpu_cell_read *before;		/* row-major, 256 x 256 */
	struct ionpu_pulse *pulses;		/* IONPU_MAX_CELLS */
	uint32_t *g_set;			/* TILE_DEVICES */
	uint32_t *g_reset;			/* TILE_DEVICES */
	struct ionpu_cell_prog *prog;		/* IONPU_MAX_CELLS */
	struct ionpu_cell_result *res;		/* IONPU_MAX_CELLS */
	/* Every stuck device found, growing. */
	struct ionpu_stuck_device *stuck;
	size_t n_stuck;
	size_t cap_stuck;
	uint32_t not_restored;
};

#define DEVICES_PER_CMD		IONPU_MAX_CELLS
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
	s->before = calloc(IONPU_FAB_ROWS * IONPU_FAB_NEURONS, sizeof(*s->before));
	s->pulses = calloc(DEVICES_PER_CMD, sizeof(*s->pulses));
	s->g_set = calloc(TILE_DEVICES, sizeof(*s->g_set));
	s->g_reset = calloc(TILE_DEVICES, sizeof(*s->g_reset));
	s->prog = calloc(DEVICES_PER_CMD, sizeof(*s->prog));
	s->res = calloc(DEVICES_PER_CMD, sizeof(*s->res));
	if (!s->before || !s->pulses || !s->g_set || !s->g_reset || !s->prog || !s->res)
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

	return card_ioctl(dev, IONPU_IOC_CONFIGURE, &c, "setting the tile's mode", tile);
}

/* @count pulses of @kind on every device of @tile; @after gets each result. */
static int pulse_all(struct ionpu_dev *dev, uint32_t tile, struct scan *s, uint8_t kind,
		     uint32_t *after)
{
	for (uint32_t first = 0; first < TILE_DEVICES; first += DEVICES_PER_CMD) {
		struct ionpu_pulses p = {
			.tile = tile, .count = DEVICES_PER_CMD,
			.pulses = (uintptr_t)s->pulses, .results = (uintptr_t)(after + first),
		};
		int ret;

		for (uint32_t k = 0; k < DEVICES_PER_CMD; k++) {
			struct ionpu_pulse *e = &s->pulses[k];

			place_of(first + k, &e->row, &e->column, &e->device);
			e->kind = kind;
			e->count = SCAN_PULSES;
		}
		ret = card_ioctl(dev, IONPU_IOC_RAW_PULSES, &p, "raw pulses", tile);
		if (ret)
			return ret;
	}
	return 0;
}

static int add_stuck(struct scan *s, uint32_t tile, uint32_t i, float g)
{
	struct ionpu_stuck_device *d;

	if (s->n_stuck == s->cap_stuck) {
		size_t cap = s->cap_stuck ? 2 * s->cap_stuck : 1024;
		void *p = realloc(s->stuck, cap * sizeof(*s->stuck));

		if (!p)
			return ionpu_error(-ENOMEM, "calibration: out of memory");
		s->stuck = p;
		s->cap_stuck = cap;
	}
	d = &s->stuck[s->n_stuck++];
	d->tile = tile;
	place_of(i, &d->row, &d->column, &d->device);
	d->g_us = g;
	return 0;
}

/*
 * Stuck devices do not show outside physical mode, and there the card's
 * "conductance after" is free of read noise: a stuck device answers the
 * same value twice, a good one at least about 1 uS apart.
 */
static int probe_tile(struct ionpu_dev *dev, uint32_t tile, struct scan *s)
{
	int ret = set_mode(dev, tile, IONPU_MODE_PHYSICAL);

	if (!ret)
		ret = pulse_all(dev, tile, s, IONPU_PULSE_SET, s->g_set);
	if (!ret)
		ret = pulse_all(dev, tile, s, IONPU_PULSE_RESET, s->g_reset);
	for (uint32_t i = 0; !ret && i < TILE_DEVICES; i++) {
		float g = ionpu_f32_value(s->g_set[i]);

		if (fabsf(g - ionpu_f32_value(s->g_reset[i])) < SCAN_THRESHOLD_US)
			ret = add_stuck(s, tile, i, g);
	}
	return ret;
}

static float clamp_target(float g)
{
	if (!(g >= IONPU_FAB_G_MIN))	/* NaN too */
		return IONPU_FAB_G_MIN;
	return g > IONPU_FAB_G_MAX ? IONPU_FAB_G_MAX : g;
}

/* Ideal mode writes each device on the level nearest its old conductance. */
static int restore_tile(struct ionpu_dev *dev, uint32_t tile, struct scan *s)
{
	int ret = set_mode(dev, tile, IONPU_MODE_IDEAL);

	for (uint32_t first = 0; !ret && first < TILE_DEVICES; first += DEVICES_PER_CMD) {
		struct ionpu_program p = {
			.tile = tile, .count = DEVICES_PER_CMD,
			.cells = (uintptr_t)s->prog, .results = (uintptr_t)s->res,
		};

		for (uint32_t k = 0; k < DEVICES_PER_CMD; k++) {
			struct ionpu_cell_prog *e = &s->prog[k];
			const struct ionpu_cell_read *was = &s->before[(first + k) / 2];
			float g;

			place_of(first + k, &e->row, &e->column, &e->device);
			g = ionpu_f32_value(e->device ? was->g_minus : was->g_plus);
			e->budget = RESTORE_BUDGET;
			e->target = ionpu_f32_bits(clamp_target(g));
			e->tolerance = ionpu_f32_bits(RESTORE_TOLERANCE_US);
		}
		ret = card_ioctl(dev, IONPU_IOC_PROGRAM, &p, "programming the cells back", tile);
		if (!ret)
			s->not_restored += p.failed;
	}
	if (ret)
		return ret;
	return set_mode(dev, tile, IONPU_MODE_OFF);
}

/* In off mode the read circuit reports the stored conductances exactly. */
static int scan_tile(struct ionpu_dev *dev, uint32_t tile, struct scan *s)
{
	struct ionpu_read_cells r = {
		.tile = tile, .rows = IONPU_FAB_ROWS, .columns = IONPU_FAB_NEURONS,
		.cells = (uintptr_t)s->before,
	};
	char why[256];
	int ret, undo;

	ret = set_mode(dev, tile, IONPU_MODE_OFF);
	if (!ret)
		ret = card_ioctl(dev, IONPU_IOC_READ_CELLS, &r, "reading the cells", tile);
	if (ret)
		return ret;
	ret = probe_tile(dev, tile, s);
	if (!ret)
		return restore_tile(dev, tile, s);
	/* Put the weights back anyway, and report the first failure. */
	snprintf(why, sizeof(why), "%s", ionpu_last_error());
	undo = restore_tile(dev, tile, s);
	return ionpu_error(ret, "%s%s", why,
			   undo ? "; the tile's weights could not be restored" : "");
}

static int lease_tiles(struct ionpu_dev *dev, uint64_t tiles, bool lease)
{
	struct ionpu_lease l = { .flags = IONPU_LEASE_EXACT, .tiles = tiles };
	struct ionpu_release r = { .tiles = tiles };
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
static int keep_old(const uint8_t *rec, const struct ionpu_dev_info *info, uint64_t tiles,
		    struct ionpu_calib_info *rinfo, uint32_t *unlisted, struct scan *s)
{
	struct ionpu_calib_map *old;
	int ret = 0;

	if (ionpu_calib_parse(rec, IONPU_CALIB_LEN, info->serial, info->seed, &old))
		return 0;
	for (size_t i = 0; !ret && i < old->n; i++) {
		uint32_t tile = old->key[i] >> KEY_TILE_SHIFT;

		if (!(tiles >> tile & 1))
			ret = add_stuck(s, tile, old->key[i] & (TILE_DEVICES - 1),
					code_to_g(old->gcode[i]));
	}
	for (uint32_t t = 0; t < IONPU_MAX_TILES; t++) {
		if (tiles >> t & 1 || !(old->info.tiles_scanned >> t & 1))
			continue;
		rinfo->tiles_scanned |= 1ull << t;
		unlisted[t] = old->found[t];
	}
	for (size_t i = 0; i < old->n; i++) {
		uint32_t tile = old->key[i] >> KEY_TILE_SHIFT;

		if (!(tiles >> tile & 1))
			unlisted[tile]--;
	}
	ionpu_calib_free(old);
	return ret;
}

/* Lease, scan each tile, release; s->stuck gets what was found. */
static int scan_tiles(struct ionpu_dev *dev, uint64_t tiles, struct scan *s)
{
	int ret = lease_tiles(dev, tiles, true);

	if (ret)
		return ret;
	for (uint32_t t = 0; !ret && t < IONPU_MAX_TILES; t++)
		if (tiles >> t & 1)
			ret = scan_tile(dev, t, s);
	if (ret) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ionpu_last_error());
		lease_tiles(dev, tiles, false);
		return ionpu_error(ret, "%s", why);
	}
	return lease_tiles(dev, tiles, false);
}

IONPU_API int ionpu_calibrate(struct ionpu_dev *dev, uint64_t tiles, uint32_t flags,
			      struct ionpu_calib_report *report,
			      struct ionpu_stuck_device **stuck, size_t *count)
{
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 };
	uint8_t rec[IONPU_CALIB_LEN];
	struct ionpu_calib_map *made;
	struct ionpu_calib_report rep = { 0 };
	struct ionpu_dev_info info;
	struct scan s = { 0 };
	size_t n_new;
	int ret;

	if (!dev || !report || (stuck && !count))
		return ionpu_error(-EINVAL, "ionpu_calibrate: NULL argument");
	if (flags & ~IONPU_CALIBRATE_DRY_RUN)
		return ionpu_error(-EINVAL, "ionpu_calibrate: unknown flags 0x%x", flags);
	ret = ionpu_info(dev, &info);
	if (ret)
		return ret;
	if (!info.tiles || info.tiles > IONPU_MAX_TILES || info.tile_rows != IONPU_FAB_ROWS ||
	    info.tile_neurons != IONPU_FAB_NEURONS)
		return ionpu_error(-EOPNOTSUPP, "calibration: the card's geometry is not IONPU-1's");
	if (!tiles)
		tiles = info.tiles == 64 ? ~0ull : (1ull << info.tiles) - 1;
	if (info.tiles < 64 && tiles >> info.tiles)
		return ionpu_error(-EINVAL, "calibration: the card has %u tiles", info.tiles);

	/* Writing the record back as it is shows the privilege, harmlessly. */
	ret = record_io(dev, rec, false);
	if (!ret)
		ret = record_io(dev, rec, true);
	if (!ret)
		ret = scan_alloc(&s);
	if (!ret)
		ret = scan_tiles(dev, tiles, &s);
	if (ret)
		goto out;
	n_new = s.n_stuck;
	rep.tiles = tiles;
	rep.stuck = (uint32_t)n_new;
	rep.not_restored = s.not_restored;

	memcpy(rep.record.serial, info.serial, sizeof(rep.record.serial));
	rep.record.seed = info.seed;
	rep.record.created = (int64_t)time(NULL);
	rep.record.pulses = SCAN_PULSES;
	rep.record.threshold_us = SCAN_THRESHOLD_US;
	rep.record.tiles_scanned = tiles;
	ret = keep_old(rec, &info, tiles, &rep.record, unlisted, &s);
	if (!ret)
		ret = ionpu_calib_encode(&rep.record, unlisted, s.stuck, s.n_stuck, rec, NULL);
	/* The report shows the record as a reader will see it. */
	if (!ret)
		ret = ionpu_calib_parse(rec, sizeof(rec), info.serial, info.seed, &made);
	if (ret)
		goto out;
	rep.record = made->info;
	ionpu_calib_free(made);
	if (!(flags & IONPU_CALIBRATE_DRY_RUN))
		ret = record_io(dev, rec, true);
	if (ret)
		goto out;
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
