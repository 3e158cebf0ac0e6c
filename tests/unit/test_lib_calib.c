// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu's calibration record (docs/calibration.md): encoding and parsing,
 * hostile records, and the scan against a fake card.  Linked with
 * -Wl,--wrap=ioctl: the "driver" is __wrap_ioctl() below, a small card
 * whose stuck devices the test chooses, behind a real character device
 * (/dev/null).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <hw/ionpu_regs.h>
#include <hw/ionpu_wire.h>
#include <ionpu/ionpu.h>
#include <linux/ionpu.h>

#include "ionpu_calib.h"
#include "ionpu_internal.h"

#define SERIAL		"UNIT-CAL"
#define SEED		0x1234567890abcdefull
#define TILES		4
#define TILE_DEVICES	(256 * 256 * 2)
#define LEN		IONPU_CALIB_LEN

/* Where the record's fields lie (hw/ionpu_wire.h, docs/calibration.md). */
#define OFF(field)	offsetof(struct ionpu_hw_calib_header, field)
/* The first tile section: its header's fields, and its first entry. */
#define OFF_FIRST	sizeof(struct ionpu_hw_calib_header)
#define SEC(field)	(OFF_FIRST + offsetof(struct ionpu_hw_calib_section, field))
#define FIRST_ENTRY	(OFF_FIRST + sizeof(struct ionpu_hw_calib_section))

/* --- an independent CRC-32 (table driven) and field access ----------------- */

static uint32_t crc_table(uint32_t n)
{
	for (int k = 0; k < 8; k++)
		n = n & 1 ? 0xedb88320u ^ (n >> 1) : n >> 1;
	return n;
}

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t table[256], crc = 0xffffffffu;

	for (uint32_t i = 0; i < 256; i++)
		table[i] = crc_table(i);
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Make a mutated record's CRC right again, so only the mutation is wrong. */
static void fix_crc(uint8_t *rec)
{
	uint32_t len = get32(rec + OFF(length));

	if (len < OFF(crc) + 4 || len > LEN)
		return;
	put32(rec + OFF(crc), 0);
	put32(rec + OFF(crc), crc32_ref(rec, len));
}

static struct ionpu_calib_info meta(uint64_t scanned)
{
	struct ionpu_calib_info info = {
		.seed = SEED, .created = 1764400000, .pulses = 16,
		.threshold_us = 0.1f, .tiles_scanned = scanned,
	};

	strcpy(info.serial, SERIAL);
	return info;
}

static const struct ionpu_stuck_device some[] = {
	{ .tile = 0, .row = 0, .column = 0, .device = 0, .g_us = 0.93f },
	{ .tile = 0, .row = 0, .column = 0, .device = 1, .g_us = 104.2f },
	{ .tile = 0, .row = 17, .column = 200, .device = 1, .g_us = 1.12f },
	{ .tile = 0, .row = 255, .column = 255, .device = 1, .g_us = 97.0f },
	{ .tile = 2, .row = 128, .column = 3, .device = 0, .g_us = 99.5f },
	{ .tile = 63, .row = 1, .column = 2, .device = 1, .g_us = 0.05f },
};

#define N_SOME	(sizeof(some) / sizeof(some[0]))
#define SOME_TILES	(1ull | 1ull << 2 | 1ull << 3 | 1ull << 63)

static void encode_some(uint8_t *rec)
{
	struct ionpu_calib_info info = meta(SOME_TILES);
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 }, listed = 0;

	assert_int_equal(ionpu_calib_encode(&info, unlisted, some, N_SOME, rec, &listed), 0);
	assert_int_equal(listed, N_SOME);
}

static int parse(const uint8_t *rec, size_t len)
{
	struct ionpu_calib_map *m = NULL;
	int ret = ionpu_calib_parse(rec, len, SERIAL, SEED, &m);

	ionpu_calib_free(m);
	return ret;
}

/* --- format ---------------------------------------------------------------- */

static void test_crc_is_zlibs(void **state)
{
	(void)state;
	assert_int_equal(crc32_ref((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

static void test_blank_records_are_empty_maps(void **state)
{
	uint8_t rec[LEN];
	struct ionpu_calib_map *m;

	(void)state;
	for (int v = 0; v < 2; v++) {
		memset(rec, v ? 0xff : 0, sizeof(rec));
		assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), SERIAL, SEED, &m), 0);
		assert_false(ionpu_calib_stuck(m, 0, 0, 0, 0, NULL));
		assert_false(ionpu_calib_complete(m, 0));
		ionpu_calib_free(m);
	}
	/* Almost blank is not blank: the magic is missing. */
	memset(rec, 0, sizeof(rec));
	rec[LEN - 1] = 1;
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
}

static void test_round_trip(void **state)
{
	uint8_t rec[LEN];
	struct ionpu_calib_map *m;
	uint32_t crc;
	float g;

	(void)state;
	encode_some(rec);
	assert_memory_equal(rec, "IONPUCAL", 8);
	crc = get32(rec + OFF(crc));
	fix_crc(rec);
	assert_int_equal(crc, get32(rec + OFF(crc)));
	/* Header, four sections of 8 bytes, six entries of 2 to 4 bytes. */
	assert_in_range(get32(rec + OFF(length)), 64 + 32 + 12, 64 + 32 + 24);
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), SERIAL, SEED, &m), 0);
	for (size_t i = 0; i < N_SOME; i++) {
		g = -1;
		assert_true(ionpu_calib_stuck(m, some[i].tile, some[i].row, some[i].column,
					      some[i].device, &g));
		/* Codes are 2^(1/24) apart: within half a step, 1.5 %. */
		if (some[i].g_us > 0.1f)
			assert_true(fabsf(g - some[i].g_us) <= 0.015f * some[i].g_us);
		else
			assert_true(g <= 0.1f);
	}
	/* Neighbours and the other device are good; nonsense is not listed. */
	assert_false(ionpu_calib_stuck(m, 0, 17, 200, 0, NULL));
	assert_false(ionpu_calib_stuck(m, 0, 17, 201, 1, NULL));
	assert_false(ionpu_calib_stuck(m, 1, 0, 0, 0, NULL));
	assert_false(ionpu_calib_stuck(m, 64, 0, 0, 0, NULL));
	assert_false(ionpu_calib_stuck(m, 0, 256, 0, 0, NULL));
	assert_false(ionpu_calib_stuck(m, 0, 0, 0, 2, NULL));
	assert_false(ionpu_calib_stuck(NULL, 0, 0, 0, 0, NULL));
	/* Tile 3 was scanned and had none: complete; tile 1 was not scanned. */
	assert_true(ionpu_calib_complete(m, 0));
	assert_true(ionpu_calib_complete(m, 3));
	assert_false(ionpu_calib_complete(m, 1));
	assert_false(ionpu_calib_complete(m, 64));
	ionpu_calib_free(m);
}

static void test_encode_refuses_bad_input(void **state)
{
	struct ionpu_stuck_device twice[2] = { some[0], some[0] };
	struct ionpu_stuck_device outside = some[4];
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 };
	struct ionpu_calib_info info = meta(1);
	uint8_t rec[LEN];

	(void)state;
	assert_int_equal(ionpu_calib_encode(&info, unlisted, twice, 2, rec, NULL), -EINVAL);
	/* Tile 2 was not scanned. */
	assert_int_equal(ionpu_calib_encode(&info, unlisted, &outside, 1, rec, NULL), -EINVAL);
	outside.tile = 0;
	outside.device = 2;
	assert_int_equal(ionpu_calib_encode(&info, unlisted, &outside, 1, rec, NULL), -EINVAL);
	info.serial[0] = '\n';
	assert_int_equal(ionpu_calib_encode(&info, unlisted, some, 1, rec, NULL), -EINVAL);
}

/*
 * More stuck devices than fit: the record is full, says it overflowed, and
 * keeps the most harmful ones (highest conductance) of the tile.
 */
static void test_overflow_keeps_the_most_harmful(void **state)
{
	const size_t n = 6000;
	struct ionpu_stuck_device *dev = calloc(n, sizeof(*dev));
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 }, listed = 0;
	struct ionpu_calib_info info = meta(0x3);
	struct ionpu_calib_map *m;
	float min_kept = 1e9f, max_dropped = 0;
	uint8_t rec[LEN];
	size_t kept = 0;

	(void)state;
	assert_non_null(dev);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)(i * 21 + 5) % TILE_DEVICES;

		dev[i] = (struct ionpu_stuck_device) {
			.tile = (uint32_t)(i % 2), .row = (uint16_t)(idx / 512),
			.column = (uint16_t)(idx / 2 % 256), .device = (uint8_t)(idx & 1),
			/* Alternating open and shorted, each a spread. */
			.g_us = i % 3 ? 0.5f + (float)(i % 97) / 97 : 80.0f + (float)(i % 41),
		};
	}
	assert_int_equal(ionpu_calib_encode(&info, unlisted, dev, n, rec, &listed), 0);
	assert_true(listed > 1000 && listed < n);
	assert_true(get32(rec + OFF(length)) > LEN - 8);
	assert_int_equal(get32(rec + OFF(flags)), IONPU_CALIB_OVERFLOW);
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), SERIAL, SEED, &m), 0);
	assert_false(ionpu_calib_complete(m, 0));
	for (size_t i = 0; i < n; i++) {
		const struct ionpu_stuck_device *d = &dev[i];
		float g;

		if (ionpu_calib_stuck(m, d->tile, d->row, d->column, d->device, &g)) {
			kept++;
			min_kept = fminf(min_kept, d->g_us);
		} else {
			max_dropped = fmaxf(max_dropped, d->g_us);
		}
	}
	assert_int_equal(kept, listed);
	/* Within a code's width, nothing dropped beats anything kept. */
	assert_true(max_dropped <= min_kept * 1.03f);
	ionpu_calib_free(m);
	free(dev);
}

/* --- hostile records ------------------------------------------------------------ */

static void test_truncated(void **state)
{
	uint8_t rec[LEN];

	(void)state;
	encode_some(rec);
	assert_int_equal(parse(rec, 0), -EPROTO);
	assert_int_equal(parse(rec, 63), -EPROTO);
	/* Shorter than its length field says. */
	assert_int_equal(parse(rec, get32(rec + OFF(length)) - 1), -EPROTO);
	assert_int_equal(parse(rec, get32(rec + OFF(length))), 0);
	/* A length field past the record, or below the header. */
	put32(rec + OFF(length), LEN + 1);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	put32(rec + OFF(length), 63);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	/* The length cuts the last entry: CRC right, the entry runs past the end. */
	encode_some(rec);
	put32(rec + OFF(length), get32(rec + OFF(length)) - 1);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	assert_string_equal(ionpu_last_error(),
			    "calibration record: an entry runs past the end");
}

static void test_bad_crc(void **state)
{
	uint8_t rec[LEN];

	(void)state;
	for (uint32_t at = 0x14; at < 0x60; at += 7) {
		encode_some(rec);
		rec[at] ^= 0x10;
		assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	}
	assert_string_equal(ionpu_last_error(),
			    "calibration record: CRC mismatch: the record is damaged");
	/* Bytes past the length are not covered, nor looked at. */
	encode_some(rec);
	rec[LEN - 1] = 0x5a;
	assert_int_equal(parse(rec, sizeof(rec)), 0);
}

static void test_wrong_version_and_magic(void **state)
{
	uint8_t rec[LEN];

	(void)state;
	encode_some(rec);
	put32(rec + OFF(version), 2);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	assert_string_equal(ionpu_last_error(),
			    "calibration record: version 2; this library reads version 1");
	encode_some(rec);
	rec[0] = 'X';
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
}

static void test_another_cards_record(void **state)
{
	struct ionpu_calib_map *m = NULL;
	uint8_t rec[LEN];

	(void)state;
	encode_some(rec);
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), "UNIT-CAM", SEED, &m), -EPROTO);
	assert_null(m);
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), SERIAL, SEED + 1, &m), -EPROTO);
	assert_string_equal(ionpu_last_error(),
			    "calibration record: made for card UNIT-CAL (seed 1311768467294899695), not for this card UNIT-CAL (seed 1311768467294899696)");
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), "UNIT-CA", SEED, &m), -EPROTO);
}

static void test_counts_past_the_end(void **state)
{
	uint8_t rec[LEN];

	(void)state;
	/* One section more than the record holds. */
	encode_some(rec);
	put16(rec + OFF(sections), 5);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	/* The first section claims more entries than follow (found raised too). */
	encode_some(rec);
	put16(rec + SEC(entries), 0xffff);
	put32(rec + SEC(found), 0xffff);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	/* A section fewer: bytes left over. */
	encode_some(rec);
	put16(rec + OFF(sections), 3);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	assert_string_equal(ionpu_last_error(),
			    "calibration record: bytes left over after the last tile section");
	/* Found below the entries listed. */
	encode_some(rec);
	put32(rec + SEC(found), 1);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
}

/* The record of one device (tile 5, row 0, column 0, G+) with @gap bytes. */
static void one_entry(uint8_t *rec, const uint8_t *gap, size_t gap_len)
{
	struct ionpu_calib_info info = meta(1ull << 5);
	struct ionpu_stuck_device d = { .tile = 5, .g_us = 50 };
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 };

	assert_int_equal(ionpu_calib_encode(&info, unlisted, &d, 1, rec, NULL), 0);
	assert_int_equal(get32(rec + OFF(length)), FIRST_ENTRY + 2);
	rec[FIRST_ENTRY + gap_len] = rec[FIRST_ENTRY + 1];	/* the conductance */
	memcpy(rec + FIRST_ENTRY, gap, gap_len);
	put32(rec + OFF(length), (uint32_t)(FIRST_ENTRY + gap_len + 1));
	fix_crc(rec);
}

static void test_out_of_range_entries(void **state)
{
	static const uint8_t canonical[] = { 0x05 };
	static const uint8_t padded[] = { 0x85, 0x00 };
	static const uint8_t too_long[] = { 0x80, 0x80, 0x80, 0x01 };
	static const uint8_t past_tile[] = { 0x80, 0x80, 0x08 };	/* 131072 */
	static const uint8_t last[] = { 0xff, 0xff, 0x07 };		/* 131071 */
	struct ionpu_calib_map *m;
	uint8_t rec[LEN];

	(void)state;
	one_entry(rec, canonical, sizeof(canonical));
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), SERIAL, SEED, &m), 0);
	/* Gap 5 after "-1": device 5 is row 0, column 2, G-. */
	assert_true(ionpu_calib_stuck(m, 5, 0, 2, 1, NULL));
	ionpu_calib_free(m);
	one_entry(rec, last, sizeof(last));
	assert_int_equal(ionpu_calib_parse(rec, sizeof(rec), SERIAL, SEED, &m), 0);
	assert_true(ionpu_calib_stuck(m, 5, 255, 255, 1, NULL));
	ionpu_calib_free(m);
	one_entry(rec, padded, sizeof(padded));
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	one_entry(rec, too_long, sizeof(too_long));
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	one_entry(rec, past_tile, sizeof(past_tile));
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	assert_string_equal(ionpu_last_error(),
			    "calibration record: an entry lies past the last device of its tile");
}

static void test_out_of_range_header_and_sections(void **state)
{
	uint8_t rec[LEN];

	(void)state;
	encode_some(rec);
	rec[SEC(tile)] = 64;		/* tile 64 */
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	rec[SEC(flags)] = 0x80;	/* unknown section flag */
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	rec[SEC(flags)] = 0x01;	/* truncated, but found == entries */
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	put32(rec + OFF(flags), IONPU_CALIB_OVERFLOW);	/* nothing was cut */
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	/* Cut, and more found than the tile has devices. */
	encode_some(rec);
	put32(rec + OFF(flags), IONPU_CALIB_OVERFLOW);
	rec[SEC(flags)] = 0x01;
	put32(rec + SEC(found), TILE_DEVICES + 1);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	put32(rec + SEC(found), TILE_DEVICES);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), 0);
	encode_some(rec);
	put32(rec + OFF(flags), 0x100);
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	rec[OFF(rsvd)] = 1;
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	rec[OFF(serial) + 3] = 0x07;	/* not printable */
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	encode_some(rec);
	rec[OFF(serial) + 12] = 'Z';	/* text after the padding */
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
}

static void test_duplicate_sections(void **state)
{
	uint8_t rec[LEN];

	(void)state;
	/*
	 * Tile 0's section: 8 bytes and four entries of 1 + 1, 1 + 1, 2 + 1
	 * and 3 + 1 bytes (gaps 0, 0, 9103, 121965).  The next one, tile 2's,
	 * is made to say tile 0.
	 */
	encode_some(rec);
	assert_int_equal(rec[FIRST_ENTRY + 11], 2);
	rec[FIRST_ENTRY + 11] = 0;
	fix_crc(rec);
	assert_int_equal(parse(rec, sizeof(rec)), -EPROTO);
	assert_string_equal(ionpu_last_error(),
			    "calibration record: tile sections are not in ascending tile order (or repeat one)");
}

/* Every single-byte change and every length of a good record: no crash. */
static void test_fuzz_single_bytes(void **state)
{
	uint8_t good[LEN], rec[LEN];

	(void)state;
	encode_some(good);
	for (uint32_t at = 0; at < get32(good + OFF(length)); at++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rec, good, sizeof(rec));
			rec[at] ^= (uint8_t)(1 << bit);
			if (at < OFF(crc) || at >= OFF(crc) + 4)
				fix_crc(rec);
			(void)parse(rec, sizeof(rec));
		}
	for (size_t len = 0; len <= LEN; len += 13)
		(void)parse(good, len);
}

/* --- the fake card ---------------------------------------------------------------- */

struct fake {
	bool privileged;
	uint64_t busy;		/* tiles leased by someone else */
	uint64_t leased;
	uint32_t mode[TILES];
	float *g;		/* TILES x TILE_DEVICES: stored conductances */
	uint8_t *stuck;		/* TILES x TILE_DEVICES */
	uint8_t record[LEN];
	unsigned int pulses_cmds, writes;
	bool programmed_ok;	/* PROGRAM targets were what READ_CELLS said */
	float *read_back;	/* what READ_CELLS last gave */
};

static struct fake *card;

int __wrap_ioctl(int fd, unsigned long request, ...);

static float stuck_g(uint32_t tile, uint32_t i)
{
	return (i + tile) % 2 ? 100.5f : 0.95f;
}

static int fake_pulses(struct ionpu_pulses *p)
{
	const struct ionpu_pulse *e = (const void *)(uintptr_t)p->pulses;
	float *after = (void *)(uintptr_t)p->results;

	if (!card->privileged)
		return -EPERM;
	assert_int_equal(card->mode[p->tile], IONPU_MODE_PHYSICAL);
	card->pulses_cmds++;
	for (uint32_t k = 0; k < p->count; k++) {
		uint32_t i = (e[k].row * 256u + e[k].column) * 2 + e[k].device;
		float *g = &card->g[p->tile * TILE_DEVICES + i];

		assert_true(e[k].count >= 1);
		if (card->stuck[p->tile * TILE_DEVICES + i])
			*g = stuck_g(p->tile, i);
		else if (e[k].kind == IONPU_PULSE_SET)
			*g = fminf(*g + 0.5f * e[k].count, 101);
		else
			*g = fmaxf(*g - 0.5f * e[k].count, 1);
		after[k] = *g;
	}
	return 0;
}

static int fake_program(struct ionpu_program *p)
{
	const struct ionpu_cell_prog *e = (const void *)(uintptr_t)p->cells;
	struct ionpu_cell_result *r = (void *)(uintptr_t)p->results;

	assert_int_equal(card->mode[p->tile], IONPU_MODE_IDEAL);
	p->failed = 0;
	for (uint32_t k = 0; k < p->count; k++) {
		uint32_t i = (e[k].row * 256u + e[k].column) * 2 + e[k].device;
		float want = card->read_back[i];

		if (want < 1)
			want = 1;
		if (ionpu_f32_value(e[k].target) != want)
			card->programmed_ok = false;
		card->g[p->tile * TILE_DEVICES + i] = ionpu_f32_value(e[k].target);
		r[k] = (struct ionpu_cell_result) { .conductance = e[k].target };
	}
	return 0;
}

static int fake_read_cells(struct ionpu_read_cells *r)
{
	struct ionpu_cell_read *out = (void *)(uintptr_t)r->cells;

	assert_int_equal(card->mode[r->tile], IONPU_MODE_OFF);
	assert_int_equal(r->rows * r->columns, 65536);
	for (uint32_t c = 0; c < 65536; c++) {
		card->read_back[2 * c] = card->g[r->tile * TILE_DEVICES + 2 * c];
		card->read_back[2 * c + 1] = card->g[r->tile * TILE_DEVICES + 2 * c + 1];
		memcpy(&out[c].g_plus, &card->read_back[2 * c], 4);
		memcpy(&out[c].g_minus, &card->read_back[2 * c + 1], 4);
	}
	return 0;
}

static int fake_calib(struct ionpu_calib *c, bool write)
{
	void *data = (void *)(uintptr_t)c->data;

	if (c->flags || !c->length || c->offset + c->length > LEN)
		return -EINVAL;
	if (!write) {
		memcpy(data, card->record + c->offset, c->length);
		return 0;
	}
	if (!card->privileged)
		return -EPERM;
	card->writes++;
	memcpy(card->record + c->offset, data, c->length);
	return 0;
}

static bool tile_ok(uint32_t tile)
{
	return tile < TILES && card->leased >> tile & 1;
}

static int fake_ioctl(unsigned long request, void *arg)
{
	switch (request) {
	case IONPU_IOC_INFO: {
		struct ionpu_info *info = arg;

		*info = (struct ionpu_info) {
			.api_version = IONPU_API_VERSION, .hw_version = IONPU_HW_VERSION,
			.tiles = TILES, .tile_rows = 256, .tile_neurons = 256, .seed = SEED,
		};
		memcpy(info->serial, SERIAL, strlen(SERIAL));
		return 0;
	}
	case IONPU_IOC_LEASE: {
		struct ionpu_lease *l = arg;

		assert_int_equal(l->flags, IONPU_LEASE_EXACT);
		if (l->tiles & (card->busy | card->leased))
			return -EBUSY;
		card->leased |= l->tiles;
		return 0;
	}
	case IONPU_IOC_RELEASE: {
		struct ionpu_release *r = arg;

		if (r->tiles & ~card->leased)
			return -EPERM;
		card->leased &= ~r->tiles;
		return 0;
	}
	case IONPU_IOC_CONFIGURE: {
		struct ionpu_configure *c = arg;

		if (!tile_ok(c->tile))
			return -EACCES;
		assert_int_equal(c->flags, IONPU_CONFIGURE_SET_TILE);
		assert_true(ionpu_f32_value(c->timestep) > 0);
		card->mode[c->tile] = c->mode;
		return 0;
	}
	case IONPU_IOC_READ_CELLS:
		if (!tile_ok(((struct ionpu_read_cells *)arg)->tile))
			return -EACCES;
		return fake_read_cells(arg);
	case IONPU_IOC_RAW_PULSES:
		if (!tile_ok(((struct ionpu_pulses *)arg)->tile))
			return -EACCES;
		return fake_pulses(arg);
	case IONPU_IOC_PROGRAM:
		if (!tile_ok(((struct ionpu_program *)arg)->tile))
			return -EACCES;
		return fake_program(arg);
	case IONPU_IOC_READ_CALIB:
		return fake_calib(arg, false);
	case IONPU_IOC_WRITE_CALIB:
		return fake_calib(arg, true);
	default:
		return -ENOTTY;
	}
}

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int ret;

	(void)fd;
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	ret = fake_ioctl(request, arg);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->g = malloc(sizeof(float) * TILES * TILE_DEVICES);
	f->stuck = calloc(TILES, TILE_DEVICES);
	f->read_back = malloc(sizeof(float) * TILE_DEVICES);
	if (!f->g || !f->stuck || !f->read_back)
		return -1;
	f->privileged = true;
	f->programmed_ok = true;
	for (size_t i = 0; i < (size_t)TILES * TILE_DEVICES; i++)
		f->g[i] = 1.0f + (float)(i % 200) * 0.5f;	/* weights to keep */
	/* Every 251st device of tiles 1 and 2 is stuck: both lists fit. */
	for (uint32_t t = 1; t <= 2; t++)
		for (uint32_t i = t; i < TILE_DEVICES; i += 251)
			f->stuck[t * TILE_DEVICES + i] = 1;
	card = f;
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;

	free(f->g);
	free(f->stuck);
	free(f->read_back);
	free(f);
	card = NULL;
	return 0;
}

static struct ionpu_dev *open_fake(void)
{
	struct ionpu_dev *dev = NULL;

	assert_int_equal(ionpu_open("/dev/null", &dev), 0);
	return dev;
}

static size_t stuck_on(uint32_t tile)
{
	size_t n = 0;

	for (uint32_t i = 0; i < TILE_DEVICES; i++)
		n += card->stuck[tile * TILE_DEVICES + i];
	return n;
}

static void test_load_blank_and_clear(void **state)
{
	struct ionpu_dev *dev = open_fake();
	struct ionpu_calib_map *m;
	struct ionpu_calib_info info;
	struct ionpu_stuck_device *list;
	size_t n;

	(void)state;
	assert_int_equal(ionpu_calib_load(dev, &m), 0);
	assert_false(ionpu_calib_stuck(m, 0, 0, 0, 0, NULL));
	ionpu_calib_free(m);
	memset(card->record, 0xff, LEN);
	assert_int_equal(ionpu_calib_read(dev, &info, &list, &n), 0);
	assert_false(info.calibrated);
	assert_int_equal(n, 0);
	free(list);

	/* Garbage is refused, then cleared. */
	card->record[7] = 0;
	assert_int_equal(ionpu_calib_load(dev, &m), -EPROTO);
	assert_int_equal(ionpu_calib_clear(dev), 0);
	for (size_t i = 0; i < LEN; i++)
		assert_int_equal(card->record[i], 0);
	card->privileged = false;
	assert_int_equal(ionpu_calib_clear(dev), -EPERM);
	assert_string_equal(ionpu_last_error(),
			    "writing the calibration record needs CAP_SYS_ADMIN");
	ionpu_close(dev);
}

static void test_calibrate_finds_the_stuck_devices(void **state)
{
	struct ionpu_dev *dev = open_fake();
	struct ionpu_calib_report rep;
	struct ionpu_stuck_device *list;
	struct ionpu_calib_map *m;
	size_t n;

	(void)state;
	assert_int_equal(ionpu_calibrate(dev, 0x6, 0, &rep, &list, &n), 0);
	assert_int_equal(n, stuck_on(1) + stuck_on(2));
	assert_int_equal(rep.stuck, n);
	assert_int_equal(rep.tiles, 0x6);
	assert_int_equal(rep.not_restored, 0);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx = (list[i].row * 256u + list[i].column) * 2 + list[i].device;

		assert_true(card->stuck[list[i].tile * TILE_DEVICES + idx]);
		assert_true(list[i].g_us == stuck_g(list[i].tile, idx));
		if (i)
			assert_true(list[i - 1].tile < list[i].tile ||
				    (list[i - 1].tile == list[i].tile &&
				     (list[i - 1].row * 256u + list[i - 1].column) * 2 +
				     list[i - 1].device < idx));
	}
	free(list);
	/* Weights back, tiles off and free, the record on the card. */
	assert_true(card->programmed_ok);
	assert_int_equal(card->leased, 0);
	for (int t = 0; t < TILES; t++)
		assert_int_equal(card->mode[t], IONPU_MODE_OFF);
	assert_true(rep.record.calibrated);
	assert_int_equal(rep.record.tiles_scanned, 0x6);
	assert_int_equal(rep.record.stuck_found, rep.stuck);
	assert_int_equal(rep.record.stuck_listed, rep.stuck);
	assert_int_equal(rep.record.flags, 0);
	assert_string_equal(rep.record.serial, SERIAL);
	assert_int_equal(ionpu_calib_load(dev, &m), 0);
	for (uint32_t t = 0; t < TILES; t++)
		for (uint32_t i = 0; i < TILE_DEVICES; i += 7) {
			float g;
			bool s = ionpu_calib_stuck(m, t, i / 512, i / 2 % 256, (int)(i & 1), &g);

			assert_int_equal(s, card->stuck[t * TILE_DEVICES + i]);
			if (s)
				assert_true(fabsf(g - stuck_g(t, i)) <= 0.015f * stuck_g(t, i));
		}
	assert_true(ionpu_calib_complete(m, 1));
	assert_false(ionpu_calib_complete(m, 0));
	ionpu_calib_free(m);

	/* Tile 0 now: tiles 1 and 2 keep their lists. */
	card->stuck[5] = 1;
	assert_int_equal(ionpu_calibrate(dev, 0x1, 0, &rep, NULL, NULL), 0);
	assert_int_equal(rep.stuck, 1);
	assert_int_equal(rep.record.tiles_scanned, 0x7);
	assert_int_equal(rep.record.stuck_found, 1 + stuck_on(1) + stuck_on(2));
	assert_int_equal(ionpu_calib_load(dev, &m), 0);
	assert_true(ionpu_calib_stuck(m, 0, 0, 2, 1, NULL));
	assert_true(ionpu_calib_stuck(m, 2, 0, 1, 0, NULL));
	ionpu_calib_free(m);
	ionpu_close(dev);
}

static void test_calibrate_dry_run_and_refusals(void **state)
{
	struct ionpu_dev *dev = open_fake();
	struct ionpu_calib_report rep;

	(void)state;
	assert_int_equal(ionpu_calibrate(dev, 0x2, IONPU_CALIBRATE_DRY_RUN, &rep, NULL, NULL), 0);
	assert_int_equal(rep.stuck, stuck_on(1));
	assert_true(rep.record.calibrated);
	/* Only the privilege check wrote, and it wrote the blank back. */
	assert_int_equal(card->writes, 1);
	for (size_t i = 0; i < LEN; i++)
		assert_int_equal(card->record[i], 0);

	/* Without the privilege nothing is touched. */
	card->privileged = false;
	card->pulses_cmds = 0;
	assert_int_equal(ionpu_calibrate(dev, 0x2, 0, &rep, NULL, NULL), -EPERM);
	assert_string_equal(ionpu_last_error(),
			    "writing the calibration record needs CAP_SYS_ADMIN");
	assert_int_equal(card->leased, 0);
	assert_int_equal(card->pulses_cmds, 0);

	/* A tile in use: nothing touched either. */
	card->privileged = true;
	card->busy = 0x4;
	assert_int_equal(ionpu_calibrate(dev, 0x6, 0, &rep, NULL, NULL), -EBUSY);
	assert_int_equal(card->pulses_cmds, 0);
	assert_int_equal(card->leased, 0);

	assert_int_equal(ionpu_calibrate(dev, 0x10, 0, &rep, NULL, NULL), -EINVAL);
	assert_int_equal(ionpu_calibrate(dev, 0x1, 0x2, &rep, NULL, NULL), -EINVAL);
	assert_int_equal(ionpu_calibrate(dev, 0x1, 0, NULL, NULL, NULL), -EINVAL);
	ionpu_close(dev);
}

/* A record of this card's serial but another seed is not this card's. */
static void test_load_refuses_another_card(void **state)
{
	struct ionpu_calib_info info = meta(1);
	uint32_t unlisted[IONPU_MAX_TILES] = { 0 };
	struct ionpu_dev *dev = open_fake();
	struct ionpu_calib_map *m;

	(void)state;
	info.seed = SEED ^ 1;
	assert_int_equal(ionpu_calib_encode(&info, unlisted, some, 3, card->record, NULL), 0);
	assert_int_equal(ionpu_calib_load(dev, &m), -EPROTO);
	assert_int_equal(ionpu_calib_read(dev, &info, NULL, NULL), -EPROTO);
	ionpu_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_is_zlibs),
		cmocka_unit_test(test_blank_records_are_empty_maps),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_refuses_bad_input),
		cmocka_unit_test(test_overflow_keeps_the_most_harmful),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_wrong_version_and_magic),
		cmocka_unit_test(test_another_cards_record),
		cmocka_unit_test(test_counts_past_the_end),
		cmocka_unit_test(test_out_of_range_entries),
		cmocka_unit_test(test_out_of_range_header_and_sections),
		cmocka_unit_test(test_duplicate_sections),
		cmocka_unit_test(test_fuzz_single_bytes),
		cmocka_unit_test_setup_teardown(test_load_blank_and_clear,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_calibrate_finds_the_stuck_devices,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_calibrate_dry_run_and_refusals,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_another_card,
						fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
