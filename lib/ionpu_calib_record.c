// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The calibration record: the stuck devices an administrator's scan found,
 * kept on the card in its 4096-byte record (docs/calibration.md).  Its
 * encoding and parsing, and reading, writing and clearing it on the card;
 * the scan that fills it is lib/ionpu_calib_scan.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hw/ionpu_regs.h>
#include <hw/ionpu_wire.h>
#include <linux/ionpu.h>

#include "ionpu_fabric.h"
#include "hw/ionpu_le.h"
#include "ionpu_calib.h"
#include "ionpu_internal.h"

#define REC_MAGIC "IONPUCAL"
#define REC_VERSION 1
/* The layouts are hw/ionpu_wire.h's; a section header is copied, never cast. */
#define REC_HEADER sizeof(struct ionpu_hw_calib_header)
#define REC_SECTION sizeof(struct ionpu_hw_calib_section)
#define REC_CRC_AT offsetof(struct ionpu_hw_calib_header, crc)
#define REC_SECTIONS_AT offsetof(struct ionpu_hw_calib_header, sections)
#define SEC_FLAG_TRUNCATED (1u << 0)
#define TILE_DEVICES IONPU_CALIB_TILE_DEVICES
#define KEY_TILE_SHIFT 17
/* The smallest entry: a one-byte gap and the conductance code. */
#define ENTRY_MIN 2
#define MAX_ENTRIES ((IONPU_CALIB_LEN - REC_HEADER) / ENTRY_MIN)
/* Conductance codes: G = G_CODE_BASE * 2^(code / G_CODE_PER_OCTAVE), uS. */
#define G_CODE_BASE 0.1
#define G_CODE_PER_OCTAVE 24.0

_Static_assert(KEY_TILE_SHIFT >= 17 && (1u << KEY_TILE_SHIFT) == TILE_DEVICES,
	       "a key holds a tile's device index below the tile number");
_Static_assert(IONPU_SERIAL_LEN ==
		       sizeof(((struct ionpu_hw_calib_header *)0)->serial),
	       "the record keeps the serial as the library reports it");

struct ionpu_calib_map {
	struct ionpu_calib_info info;
	uint32_t found[IONPU_MAX_TILES]; /* per tile, listed or not */
	size_t n;
	uint32_t *key; /* tile << 17 | device index, ascending */
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
	static const uint8_t
		zero[sizeof(((struct ionpu_hw_calib_header *)0)->crc)];
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
void ionpu_calib_place(uint32_t i, uint16_t *row, uint16_t *col,
		       uint8_t *device)
{
	*row = (uint16_t)(i / 2 / IONPU_FAB_NEURONS);
	*col = (uint16_t)(i / 2 % IONPU_FAB_NEURONS);
	*device = (uint8_t)(i & 1);
}

/* --- parsing -------------------------------------------------------------- */

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
			return bad(
				"tile sections are not in ascending tile order (or repeat one)");
		if (h.flags & ~SEC_FLAG_TRUNCATED)
			return bad("a tile section has unknown flags");
		if (found < entries || found > TILE_DEVICES ||
		    (found > entries) != !!(h.flags & SEC_FLAG_TRUNCATED))
			return bad(
				"a tile section's found count disagrees with its list");
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
				return bad(
					"more entries than the record can hold");
			if (get_gap(rec, end, &pos, &gap))
				return bad(
					"an entry runs past the end or is malformed");
			idx = prev + 1 + gap; /* prev starts at -1 */
			if (gap >= TILE_DEVICES || idx >= TILE_DEVICES)
				return bad(
					"an entry lies past the last device of its tile");
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
		return bad(
			"the overflow flag disagrees with the tile sections");
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
		return bad(
			"the serial is not printable ASCII padded with NULs");
	if (h.rsvd)
		return bad("a reserved field is not zero");
	memcpy(m->info.serial, h.serial, IONPU_SERIAL_LEN);
	m->info.seed = ionpu_le64_to_cpu(h.seed);
	if (strcmp(m->info.serial, serial) || m->info.seed != seed)
		return ionpu_error(-EPROTO,
				   "calibration record: made for card %s (seed %llu), not for this card %s (seed %llu)",
				   m->info.serial,
				   (unsigned long long)m->info.seed, serial,
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

int ionpu_calib_parse(const uint8_t *rec, size_t len, const char *serial,
		      uint64_t seed, struct ionpu_calib_map **out)
{
	struct ionpu_calib_map *m;
	uint32_t end = 0;
	int ret;

	if (!rec || !serial || !out)
		return ionpu_error(-EINVAL, "ionpu_calib_parse: NULL argument");
	m = map_alloc();
	if (!m)
		return ionpu_error(-ENOMEM,
				   "calibration record: out of memory");
	if (len == IONPU_CALIB_LEN &&
	    (all_bytes(rec, len, 0) || all_bytes(rec, len, 0xff))) {
		*out = m; /* blank: never calibrated */
		return 0;
	}
	ret = parse_header(rec, len, serial, seed, m, &end);
	if (ret)
		goto err_free;
	ret = parse_sections(rec, end, ionpu_get_le16(rec + REC_SECTIONS_AT),
			     m);
	if (ret)
		goto err_free;
	*out = m;
	return 0;

err_free:
	ionpu_calib_free(m);
	return ret;
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

bool ionpu_calib_stuck(const struct ionpu_calib_map *c, uint32_t tile,
		       uint32_t row, uint32_t col, int device, float *g_us)
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

/* --- encoding ------------------------------------------------------------- */

/* A stuck device in the order the record lists them, and its harm rank. */
struct found {
	uint32_t key;
	uint8_t gcode;
	uint32_t rank;
};

static int found_by_key(const void *a, const void *b)
{
	return key_cmp(&((const struct found *)a)->key,
		       &((const struct found *)b)->key);
}

/*
 * Most harmful first: the highest conductance (a shorted device), then order.
 */
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
static size_t put_sections(uint8_t *rec, const struct found *f, size_t n,
			   uint64_t scanned, const uint32_t *unlisted,
			   uint32_t keep)
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
					rec[pos++] =
						(uint8_t)((gap & 0x7f) |
							  (b > 1 ? 0x80 : 0));
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
				.flags = found > entries ? SEC_FLAG_TRUNCATED :
							   0,
				.entries = ionpu_cpu_to_le16((uint16_t)entries),
				.found = ionpu_cpu_to_le32(found),
			};

			memcpy(rec + head, &h, sizeof(h));
		}
	}
	return pos;
}

/*
 * Every device on a scanned tile, the serial one the card can hold;
 * @serial gets it padded as the record keeps it.
 */
static int check_encode_args(const struct ionpu_calib_info *info,
			     const struct ionpu_stuck_device *dev, size_t n,
			     uint8_t *serial)
{
	for (size_t i = 0; i < n; i++)
		if (dev[i].tile >= IONPU_MAX_TILES ||
		    !(info->tiles_scanned >> dev[i].tile & 1) ||
		    dev[i].row >= IONPU_FAB_ROWS ||
		    dev[i].column >= IONPU_FAB_NEURONS || dev[i].device > 1)
			return ionpu_error(-EINVAL,
					   "calibration record: a stuck device outside the scanned tiles");
	memset(serial, 0, IONPU_SERIAL_LEN);
	memcpy(serial, info->serial, strnlen(info->serial, IONPU_SERIAL_LEN));
	if (!serial_ok(serial) ||
	    strnlen(info->serial, sizeof(info->serial)) > IONPU_SERIAL_LEN)
		return ionpu_error(-EINVAL,
				   "calibration record: bad serial \"%s\"",
				   info->serial);
	if (n > UINT32_MAX - 1)
		return ionpu_error(-EOVERFLOW,
				   "calibration record: too many stuck devices");
	return 0;
}

/*
 * How many of the most harmful devices fit: adding one never shrinks the
 * record.
 */
static uint32_t how_many_fit(const struct found *f, size_t n, uint64_t scanned,
			     const uint32_t *unlisted)
{
	uint32_t lo = 0, hi = (uint32_t)n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (put_sections(NULL, f, n, scanned, unlisted, mid))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

int ionpu_calib_encode(const struct ionpu_calib_info *info,
		       const uint32_t *unlisted,
		       const struct ionpu_stuck_device *dev, size_t n,
		       uint8_t *rec, uint32_t *listed)
{
	struct found *f = NULL, **by_harm = NULL;
	uint32_t sections = 0, keep;
	struct ionpu_hw_calib_header h;
	uint8_t serial[IONPU_SERIAL_LEN];
	uint32_t flags = 0;
	size_t len;
	int ret;

	ret = check_encode_args(info, dev, n, serial);
	if (ret)
		return ret;
	f = calloc(n ? n : 1, sizeof(*f));
	by_harm = calloc(n ? n : 1, sizeof(*by_harm));
	if (!f || !by_harm) {
		ret = ionpu_error(-ENOMEM, "calibration record: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		f[i].key =
			dev[i].tile << KEY_TILE_SHIFT |
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
			ret = ionpu_error(-EINVAL,
					  "calibration record: a stuck device listed twice");
			goto out;
		}
	keep = how_many_fit(f, n, info->tiles_scanned, unlisted);
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
		.threshold = ionpu_cpu_to_le16(
			(uint16_t)lroundf(info->threshold_us * 100)),
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

/* --- the card ------------------------------------------------------------- */

int ionpu_calib_record_io(struct ionpu_dev *dev, uint8_t *rec,
			  enum ionpu_calib_io dir)
{
	bool write = dir == IONPU_CALIB_WRITE;
	struct ionpu_calib c = { .length = IONPU_CALIB_LEN,
				 .data = (uintptr_t)rec };
	int ret = ionpu_dev_ioctl(dev,
				  write ? IONPU_IOC_WRITE_CALIB :
					  IONPU_IOC_READ_CALIB,
				  &c);

	if (ret == -EPERM)
		return ionpu_error(-EPERM,
				   "writing the calibration record needs CAP_SYS_ADMIN");
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
	if (ret)
		return ret;
	ret = ionpu_calib_record_io(dev, rec, IONPU_CALIB_READ);
	if (ret)
		return ret;
	return ionpu_calib_parse(rec, sizeof(rec), info.serial, info.seed, out);
}

const struct ionpu_calib_info *
ionpu_calib_info_of(const struct ionpu_calib_map *m)
{
	return &m->info;
}

uint32_t ionpu_calib_found(const struct ionpu_calib_map *m, uint32_t tile)
{
	return tile < IONPU_MAX_TILES ? m->found[tile] : 0;
}

int ionpu_calib_list(const struct ionpu_calib_map *m,
		     struct ionpu_stuck_device **out, size_t *count)
{
	struct ionpu_stuck_device *list =
		calloc(m->n ? m->n : 1, sizeof(*list));

	if (!list)
		return ionpu_error(-ENOMEM,
				   "calibration record: out of memory");
	for (size_t i = 0; i < m->n; i++) {
		list[i].tile = m->key[i] >> KEY_TILE_SHIFT;
		ionpu_calib_place(m->key[i] & (TILE_DEVICES - 1), &list[i].row,
				  &list[i].column, &list[i].device);
		list[i].g_us = code_to_g(m->gcode[i]);
	}
	*out = list;
	*count = m->n;
	return 0;
}

IONPU_API int ionpu_calib_read(struct ionpu_dev *dev,
			       struct ionpu_calib_info *info,
			       struct ionpu_stuck_device **stuck, size_t *count)
{
	struct ionpu_calib_map *m;
	int ret;

	if (!info || (stuck && !count))
		return ionpu_error(-EINVAL, "ionpu_calib_read: NULL argument");
	ret = ionpu_calib_load(dev, &m);
	if (ret)
		return ret;
	if (stuck) {
		ret = ionpu_calib_list(m, stuck, count);
		if (ret)
			goto out;
	}
	*info = m->info;
out:
	ionpu_calib_free(m);
	return ret;
}

IONPU_API int ionpu_calib_clear(struct ionpu_dev *dev)
{
	uint8_t rec[IONPU_CALIB_LEN] = { 0 };

	if (!dev)
		return ionpu_error(-EINVAL, "ionpu_calib_clear: NULL argument");
	return ionpu_calib_record_io(dev, rec, IONPU_CALIB_WRITE);
}
