// SPDX-License-Identifier: GPL-2.0-only
/*
 * Calibration (docs/calibration.md) on the VM's cards: a scan of one tile in
 * physical mode finds exactly the devices a direct probe with raw pulses
 * shows as stuck (and in ideal mode none is), the record round-trips
 * through the card, the weights come back, a record of another card is
 * refused, and ionpu-smi's exit codes tell a missing privilege and a busy
 * tile apart.
 *
 * Scans the first card's last tile, which no other selftest programs; the
 * records of both cards are put back as they were at the end of each test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>
#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define TILE_DEVICES	(256 * 256 * 2)
#define HALF		(TILE_DEVICES / 2)
#define SMI		"/usr/bin/ionpu-smi"
/* A tile scan is a few seconds of the card's time; TCG adds to the rest. */
#define SCAN_TIMEOUT	110

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int record_io(int fd, uint8_t *rec, bool write)
{
	struct ionpu_calib c = { .length = IONPU_CALIB_LEN, .data = (uintptr_t)rec };

	return xioctl(fd, write ? IONPU_IOC_WRITE_CALIB : IONPU_IOC_READ_CALIB, &c);
}

static int set_mode(int fd, unsigned int tile, unsigned int mode)
{
	struct ionpu_configure c = {
		.flags = IONPU_CONFIGURE_SET_TILE, .tile = tile, .mode = mode,
		.model = IONPU_MODEL_LIF, .timestep = ionpu_f32_to_bits(1e-3f),
		.input_gain = ionpu_f32_to_bits(1.0f),
	};

	return xioctl(fd, IONPU_IOC_CONFIGURE, &c);
}

static int lease(int fd, unsigned int tile, bool take)
{
	struct ionpu_lease l = { .flags = IONPU_LEASE_EXACT, .tiles = 1ULL << tile };
	struct ionpu_release r = { .tiles = 1ULL << tile };

	return take ? xioctl(fd, IONPU_IOC_LEASE, &l) : xioctl(fd, IONPU_IOC_RELEASE, &r);
}

/* @count pulses of @kind on every device of @tile; @after gets each result. */
static int pulse_tile(int fd, unsigned int tile, uint8_t kind, uint16_t count,
		      uint32_t *after)
{
	struct ionpu_pulse *p = calloc(HALF, sizeof(*p));
	int ret = p ? 0 : -ENOMEM;

	for (uint32_t first = 0; !ret && first < TILE_DEVICES; first += HALF) {
		struct ionpu_pulses rp = {
			.tile = tile, .count = HALF, .pulses = (uintptr_t)p,
			.results = (uintptr_t)(after + first),
		};

		for (uint32_t k = 0; k < HALF; k++) {
			uint32_t i = first + k;

			p[k] = (struct ionpu_pulse) {
				.row = i / 512, .column = i / 2 % 256, .device = i & 1,
				.kind = kind, .count = count,
			};
		}
		ret = xioctl(fd, IONPU_IOC_RAW_PULSES, &rp);
	}
	free(p);
	return ret;
}

/* Run ionpu-smi with @args; its exit status, or -1.  Output is dropped. */
static int smi(char *const args[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execv(SMI, args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Give up CAP_SYS_ADMIN for good, staying root: the node stays openable
 * (root owns it), and a program this process runs does not get it back.
 */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))
		return -errno;
	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~(1U << CAP_SYS_ADMIN);
	d[0].permitted &= ~(1U << CAP_SYS_ADMIN);
	d[0].inheritable &= ~(1U << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

FIXTURE(calib) {
	struct ionpu_test_card card;	/* the first card: scanned */
	struct ionpu_test_card other;	/* the last card */
	unsigned int tile;
	int fd;
	int other_fd;
	uint8_t saved[IONPU_CALIB_LEN];
	uint8_t other_saved[IONPU_CALIB_LEN];
	struct ionpu_dev *dev;
};

FIXTURE_SETUP(calib)
{
	struct ionpu_info info = { 0 };

	self->other_fd = -1;
	self->dev = NULL;
	self->fd = ionpu_test_open_first(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->card.node, strerror(-self->fd));
	ASSERT_EQ(0, xioctl(self->fd, IONPU_IOC_INFO, &info));
	if (!(info.caps & IONPU_CAP_QUEUES))
		SKIP(return, "%s has no command queues", self->card.name);
	self->tile = info.tiles - 1;
	ASSERT_EQ(0, record_io(self->fd, self->saved, false));
	self->other_fd = ionpu_test_open_last(&self->other);
	ASSERT_LE(0, self->other_fd);
	ASSERT_EQ(0, record_io(self->other_fd, self->other_saved, false));
	ASSERT_EQ(0, ionpu_open(self->card.node, &self->dev)) TH_LOG("%s", ionpu_last_error());
}

FIXTURE_TEARDOWN(calib)
{
	/* The records are the cards', not this test's: put them back. */
	if (self->other_fd >= 0) {
		EXPECT_EQ(0, record_io(self->other_fd, self->other_saved, true));
		close(self->other_fd);
	}
	if (self->fd >= 0) {
		EXPECT_EQ(0, record_io(self->fd, self->saved, true));
		close(self->fd);
	}
	ionpu_close(self->dev);
}

/*
 * A direct probe of every device in tile mode @mode with other pulse
 * counts than the library's: a stuck device answers exactly the same
 * conductance after SET and after RESET pulses.  Leaves the tile off.
 */
static int probe(int fd, unsigned int tile, unsigned int mode, uint8_t *stuck, float *g)
{
	uint32_t *set = calloc(TILE_DEVICES, sizeof(*set));
	uint32_t *reset = calloc(TILE_DEVICES, sizeof(*reset));
	int ret = set && reset ? 0 : -ENOMEM;

	if (!ret)
		ret = lease(fd, tile, true);
	if (!ret) {
		ret = set_mode(fd, tile, mode);
		if (!ret)
			ret = pulse_tile(fd, tile, IONPU_PULSE_SET, 8, set);
		if (!ret)
			ret = pulse_tile(fd, tile, IONPU_PULSE_RESET, 8, reset);
		if (!ret)
			ret = set_mode(fd, tile, IONPU_MODE_OFF);
		lease(fd, tile, false);
	}
	for (uint32_t i = 0; !ret && i < TILE_DEVICES; i++) {
		stuck[i] = set[i] == reset[i];
		g[i] = ionpu_bits_to_f32(set[i]);
	}
	free(set);
	free(reset);
	return ret;
}

static bool same_place(const struct ionpu_stuck_device *a, const struct ionpu_stuck_device *b)
{
	return a->tile == b->tile && a->row == b->row && a->column == b->column &&
	       a->device == b->device;
}

/* Cells of row 200, programmed in ideal mode before the scan. */
#define KEEP_ROW	200
#define KEEP_COLS	16

static int program_row(int fd, unsigned int tile)
{
	struct ionpu_cell_prog cells[KEEP_COLS];
	struct ionpu_cell_result res[KEEP_COLS];
	struct ionpu_program p = {
		.tile = tile, .count = KEEP_COLS,
		.cells = (uintptr_t)cells, .results = (uintptr_t)res,
	};
	int ret = lease(fd, tile, true);

	if (ret)
		return ret;
	for (int c = 0; c < KEEP_COLS; c++)
		cells[c] = (struct ionpu_cell_prog) {
			.row = KEEP_ROW, .column = c, .device = IONPU_DEVICE_GPLUS,
			.budget = 4, .target = ionpu_f32_to_bits(10.0f + 5 * c),
			.tolerance = ionpu_f32_to_bits(0.25f),
		};
	ret = set_mode(fd, tile, IONPU_MODE_IDEAL);
	if (!ret)
		ret = xioctl(fd, IONPU_IOC_PROGRAM, &p);
	if (!ret && p.failed)
		ret = -EIO;
	lease(fd, tile, false);
	return ret;
}

/* The stored G+ of those cells, exactly (the read circuit is exact when off). */
static int read_row(int fd, unsigned int tile, float *g)
{
	struct ionpu_cell_read cells[KEEP_COLS];
	struct ionpu_read_cells r = {
		.tile = tile, .row = KEEP_ROW, .rows = 1, .columns = KEEP_COLS,
		.cells = (uintptr_t)cells,
	};
	int ret = lease(fd, tile, true);

	if (ret)
		return ret;
	ret = set_mode(fd, tile, IONPU_MODE_OFF);
	if (!ret)
		ret = xioctl(fd, IONPU_IOC_READ_CELLS, &r);
	for (int c = 0; !ret && c < KEEP_COLS; c++)
		g[c] = ionpu_bits_to_f32(cells[c].g_plus);
	lease(fd, tile, false);
	return ret;
}

TEST_F_TIMEOUT(calib, scan_finds_what_raw_pulses_show, SCAN_TIMEOUT)
{
	struct ionpu_stuck_device *found, *listed;
	uint8_t *stuck = calloc(TILE_DEVICES, 1);
	float *g = calloc(TILE_DEVICES, sizeof(*g));
	float before[KEEP_COLS], after[KEEP_COLS];
	struct ionpu_calib_report rep;
	struct ionpu_calib_info info;
	uint8_t rec[IONPU_CALIB_LEN];
	size_t n, n_listed, probed = 0;

	ASSERT_NE(NULL, stuck);
	ASSERT_NE(NULL, g);
	ASSERT_EQ(0, program_row(self->fd, self->tile));
	ASSERT_EQ(0, read_row(self->fd, self->tile, before));

	ASSERT_EQ(0, ionpu_calibrate(self->dev, 1ULL << self->tile, 0, &rep, &found, &n))
		TH_LOG("%s", ionpu_last_error());
	EXPECT_EQ(1ULL << self->tile, rep.tiles);
	EXPECT_EQ(n, rep.stuck);
	/* docs/physics.md: 0.5 % open and 0.5 % shorted devices. */
	EXPECT_LT(TILE_DEVICES / 200, n);
	EXPECT_GT(TILE_DEVICES / 50, n);
	EXPECT_EQ(0, rep.not_restored);

	/* The weights came back, on the level nearest what they were. */
	ASSERT_EQ(0, read_row(self->fd, self->tile, after));
	for (int c = 0; c < KEEP_COLS; c++) {
		EXPECT_EQ(ionpu_f32_to_bits(before[c]), ionpu_f32_to_bits(after[c]))
			TH_LOG("column %d: %f before, %f after", c, before[c], after[c]);
	}

	/* The record is on the card: raw bytes, then as the library reads it. */
	ASSERT_EQ(0, record_io(self->fd, rec, false));
	EXPECT_EQ(0, memcmp(rec, "IONPUCAL", 8));
	ASSERT_EQ(0, ionpu_calib_read(self->dev, &info, &listed, &n_listed))
		TH_LOG("%s", ionpu_last_error());
	EXPECT_TRUE(info.calibrated);
	EXPECT_STREQ(self->card.serial, info.serial);
	EXPECT_EQ(self->card.seed, info.seed);
	EXPECT_EQ(n, info.stuck_found);
	EXPECT_NE(0, (info.tiles_scanned >> self->tile) & 1);
	if (info.flags & IONPU_CALIB_OVERFLOW) {
		EXPECT_GT(n, n_listed);
	} else {
		ASSERT_EQ(n, n_listed);
	}
	for (size_t i = 0, j = 0; i < n_listed; i++) {
		/* The record's list is the scan's, maybe cut, in the same order. */
		while (j < n && !same_place(&found[j], &listed[i]))
			j++;
		ASSERT_LT(j, n) TH_LOG("listed device %zu was not found", i);
		EXPECT_GE(0.016f * found[j].g_us, fabsf(found[j].g_us - listed[i].g_us));
	}

	/* What the scan found is what the card's devices do. */
	ASSERT_EQ(0, probe(self->fd, self->tile, IONPU_MODE_PHYSICAL, stuck, g));
	for (uint32_t i = 0; i < TILE_DEVICES; i++)
		probed += stuck[i];
	EXPECT_EQ(probed, n);
	for (size_t k = 0; k < n; k++) {
		uint32_t i = (found[k].row * 256U + found[k].column) * 2 + found[k].device;

		EXPECT_EQ(self->tile, found[k].tile);
		EXPECT_TRUE(stuck[i]) {
			TH_LOG("row %u column %u device %u", found[k].row, found[k].column,
			       found[k].device);
		}
		EXPECT_EQ(ionpu_f32_to_bits(g[i]), ionpu_f32_to_bits(found[k].g_us));
	}
	/* In ideal mode nothing sticks (docs/physics.md). */
	ASSERT_EQ(0, probe(self->fd, self->tile, IONPU_MODE_IDEAL, stuck, g));
	probed = 0;
	for (uint32_t i = 0; i < TILE_DEVICES; i++)
		probed += stuck[i];
	EXPECT_EQ(0, probed);
	free(found);
	free(listed);
	free(stuck);
	free(g);
}

TEST_F_TIMEOUT(calib, record_of_another_card_is_refused, SCAN_TIMEOUT)
{
	struct ionpu_calib_report rep;
	struct ionpu_calib_info info;
	uint8_t rec[IONPU_CALIB_LEN];
	struct ionpu_dev *other;

	if (!strcmp(self->card.node, self->other.node))
		SKIP(return, "one card: no other card to give the record to");
	ASSERT_EQ(0, ionpu_calibrate(self->dev, 1ULL << self->tile, 0, &rep, NULL, NULL))
		TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ(0, record_io(self->fd, rec, false));
	ASSERT_EQ(0, record_io(self->other_fd, rec, true));
	ASSERT_EQ(0, ionpu_open(self->other.node, &other));
	EXPECT_EQ(-EPROTO, ionpu_calib_read(other, &info, NULL, NULL));
	EXPECT_NE(NULL, strstr(ionpu_last_error(), self->card.serial))
		TH_LOG("%s", ionpu_last_error());
	/* The tool, where the VM has it, says so too, and fails. */
	if (!access(SMI, X_OK))
		EXPECT_EQ(1, smi((char *[]){ SMI, "calib", "-i", self->other.pci, NULL }));
	/* Cleared, it is blank: not calibrated, not an error. */
	ASSERT_EQ(0, ionpu_calib_clear(other));
	ASSERT_EQ(0, ionpu_calib_read(other, &info, NULL, NULL));
	EXPECT_FALSE(info.calibrated);
	ionpu_close(other);
}

TEST_F_TIMEOUT(calib, tool_exit_codes, SCAN_TIMEOUT)
{
	char tiles[8];
	int status;
	pid_t child;

	if (access(SMI, X_OK))
		SKIP(return, "%s is not installed", SMI);
	snprintf(tiles, sizeof(tiles), "%u", self->tile);
	EXPECT_EQ(0, smi((char *[]){ SMI, "calib", "-i", self->card.pci, NULL }));
	EXPECT_EQ(0, smi((char *[]){ SMI, "calibrate", "-i", self->card.pci, "--tiles", tiles,
				     "--dry-run", NULL }));
	EXPECT_EQ(2, smi((char *[]){ SMI, "calibrate", "--tiles", "0-64", NULL }));
	EXPECT_EQ(3, smi((char *[]){ SMI, "calib", "-i", "99", NULL }));
	/* --json -q exits 0 only when the driver gave info and counters. */
	EXPECT_EQ(0, smi((char *[]){ SMI, "--json", "-q", "-i", self->card.pci, NULL }));
	EXPECT_EQ(0, smi((char *[]){ SMI, "--prometheus", "-i", self->card.pci, NULL }));

	/* A tile this file leases is busy for the tool. */
	ASSERT_EQ(0, lease(self->fd, self->tile, true));
	EXPECT_EQ(4, smi((char *[]){ SMI, "calibrate", "-i", self->card.pci, "--tiles", tiles,
				     NULL }));
	ASSERT_EQ(0, lease(self->fd, self->tile, false));

	/* Without CAP_SYS_ADMIN: the library says -EPERM, the tool exits 3. */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct ionpu_calib_report rep;
		struct ionpu_calib_info info;
		int bad = 0;

		if (drop_sys_admin())
			_exit(100);
		bad |= (ionpu_calibrate(self->dev, 1ULL << self->tile, 0, &rep, NULL, NULL) !=
			-EPERM) << 0;
		bad |= !strstr(ionpu_last_error(), "CAP_SYS_ADMIN") << 1;
		bad |= (ionpu_calib_clear(self->dev) != -EPERM) << 2;
		/* Reading needs no privilege. */
		bad |= (ionpu_calib_read(self->dev, &info, NULL, NULL) != 0) << 3;
		bad |= (smi((char *[]){ SMI, "calibrate", "-i", self->card.pci, "--tiles", tiles,
					NULL }) != 3) << 4;
		bad |= (smi((char *[]){ SMI, "calib", "--clear", "-i", self->card.pci, NULL }) != 3)
		       << 5;
		_exit(bad);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
