// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's half of tests/vm/crash, which kills QEMU (SIGKILL) while the
 * card programs and boots it again on the same non-volatile store.
 *
 * IONPU_CRASH=write: program the cells of rows 0..1 of the last tile, the
 * G+ devices to pattern A, then B, then A..., one PROGRAM each (the card
 * saves its store after each), saying which on stderr, until killed.
 * IONPU_CRASH=check: read those cells back: every one must be at pattern A
 * or every one at pattern B, never a mix, and the test says which.
 * IONPU_CRASH_OF=calib does the same with the calibration record, written
 * whole (4 KiB, one WRITE_CALIB) to pattern A, B, A... (variant calib; the
 * other variant SKIPs).  Without IONPU_CRASH (a plain make check) there is
 * nothing to do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_net.h"

#define CRASH_ROWS	2
#define CRASH_CELLS	(CRASH_ROWS * 256)

/* Pattern @p's G+ target of column @col, µS: whole levels, A and B apart. */
static float pattern_g(unsigned int p, unsigned int col)
{
	return p ? 40.0f - (float)(col % 8) : 10.0f + (float)(col % 8);
}

static int program_pattern(int fd, unsigned int tile, unsigned int p)
{
	static struct ionpu_cell_prog cells[CRASH_CELLS];
	static struct ionpu_cell_result res[CRASH_CELLS];
	struct ionpu_program prog = {
		.tile = tile, .count = CRASH_CELLS,
		.cells = (uintptr_t)cells, .results = (uintptr_t)res,
	};
	unsigned int i = 0;
	int ret;

	for (unsigned int row = 0; row < CRASH_ROWS; row++)
		for (unsigned int col = 0; col < 256; col++)
			cells[i++] = (struct ionpu_cell_prog) {
				.row = row, .column = col, .budget = 16,
				.target = ionpu_f32_to_bits(pattern_g(p, col)),
				.tolerance = ionpu_f32_to_bits(0.25f),
			};
	ret = net_ioctl(fd, IONPU_IOC_PROGRAM, &prog);
	return ret ? ret : prog.failed ? -EIO : 0;
}

/* The pattern every cell is at, or -1 for a mix (or a read that failed). */
static int pattern_read(int fd, unsigned int tile)
{
	static struct ionpu_cell_read cells[CRASH_CELLS];
	struct ionpu_read_cells r = {
		.tile = tile, .rows = CRASH_ROWS, .columns = 256,
		.cells = (uintptr_t)cells,
	};
	int found = -1;

	if (net_ioctl(fd, IONPU_IOC_READ_CELLS, &r))
		return -1;
	for (unsigned int i = 0; i < CRASH_CELLS; i++) {
		float g = ionpu_bits_to_f32(cells[i].g_plus);
		int p = fabsf(g - pattern_g(0, i % 256)) <= 0.5f ? 0 :
			fabsf(g - pattern_g(1, i % 256)) <= 0.5f ? 1 : -1;

		if (p < 0 || (found >= 0 && p != found))
			return -1;
		found = p;
	}
	return found;
}

/* Byte @i of calibration record pattern @p: no byte the same in A and B. */
static uint8_t calib_byte(unsigned int p, unsigned int i)
{
	return (uint8_t)(p ? 0x80 | (i * 13 + 5) % 128 : (i * 7 + 1) % 128);
}

static int calib_pattern(int fd, unsigned int tile, unsigned int p)
{
	static uint8_t rec[IONPU_CALIB_LEN];
	struct ionpu_calib c = {
		.length = IONPU_CALIB_LEN, .data = (uintptr_t)rec,
	};

	(void)tile;	/* the record is the card's */
	for (unsigned int i = 0; i < IONPU_CALIB_LEN; i++)
		rec[i] = calib_byte(p, i);
	return net_ioctl(fd, IONPU_IOC_WRITE_CALIB, &c);
}

/* The pattern the whole record is at, or -1 for a mix (or a failed read). */
static int calib_read(int fd, unsigned int tile)
{
	static uint8_t rec[IONPU_CALIB_LEN];
	struct ionpu_calib c = {
		.length = IONPU_CALIB_LEN, .data = (uintptr_t)rec,
	};
	int found;

	(void)tile;
	if (net_ioctl(fd, IONPU_IOC_READ_CALIB, &c))
		return -1;
	found = rec[0] == calib_byte(1, 0);
	for (unsigned int i = 0; i < IONPU_CALIB_LEN; i++)
		if (rec[i] != calib_byte((unsigned int)found, i))
			return -1;
	return found;
}

FIXTURE(crash) {
};

/* What a kind of kill interrupts: writing pattern 0 or 1, reading which. */
FIXTURE_VARIANT(crash) {
	const char *of;		/* IONPU_CRASH_OF that runs it */
	int (*write)(int fd, unsigned int tile, unsigned int p);
	int (*read)(int fd, unsigned int tile);
	const char *mix;	/* what a read of neither pattern means */
};

FIXTURE_VARIANT_ADD(crash, cells) {
	.of = "cells",
	.write = program_pattern,
	.read = pattern_read,
	.mix = "the cells are a mix of the two patterns, or neither",
};

FIXTURE_VARIANT_ADD(crash, calib) {
	.of = "calib",
	.write = calib_pattern,
	.read = calib_read,
	.mix = "the record is a mix of the two patterns, or neither",
};

FIXTURE_SETUP(crash)
{
}

FIXTURE_TEARDOWN(crash)
{
}

/*
 * IONPU_CRASH=write: write pattern A, B, A... until QEMU is killed (the
 * timeout is well past that); IONPU_CRASH=check: say which one pattern the
 * card came up with.
 */
TEST_F_TIMEOUT(crash, survives_a_killed_card_whole, 300)
{
	const char *mode = getenv("IONPU_CRASH"), *of = getenv("IONPU_CRASH_OF");
	struct ionpu_test_card card;
	unsigned int tile = 0;
	int fd, p;

	if (!mode)
		SKIP(return, "tests/vm/crash runs this, killing QEMU between two boots");
	if (strcmp(of ? of : "cells", variant->of))
		SKIP(return, "this run kills another write (IONPU_CRASH_OF)");
	fd = net_open(&card, &tile);
	if (fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, net_lease(fd, tile));
	ASSERT_EQ(0, net_configure(fd, tile));
	if (!strcmp(mode, "write")) {
		for (unsigned long gen = 1;; gen++) {
			ASSERT_EQ(0, variant->write(fd, tile, gen % 2));
			fprintf(stderr, "# crash: generation %lu, pattern %c\n",
				gen, gen % 2 ? 'B' : 'A');
		}
	}
	ASSERT_STREQ("check", mode);
	p = variant->read(fd, tile);
	EXPECT_LE(0, p) TH_LOG("%s", variant->mix);
	fprintf(stderr, "# crash: the card came up with pattern %c\n",
		p == 0 ? 'A' : p == 1 ? 'B' : '?');
	close(fd);
}

TEST_HARNESS_MAIN
