// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmap() of the crossbar readout window: a file maps only the tiles it
 * leases, read-only; what it reads is what READ_CELLS reads; a released
 * tile and a reset revoke the mapping (SIGBUS), a reset keeps the leases,
 * counts in INFO and sysfs and raises EPOLLPRI until ACK_RESET (INFO has
 * no side effect), and a
 * new mapping works after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define TILE_SIZE	IONPU_READOUT_TILE_SIZE

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, sig);
}

/* Reads a cell of a mapping: 0 with *val set, or -1 when it raised SIGBUS. */
static int read_cell(const volatile uint32_t *p, uint32_t *val)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		ret = -1;
	else
		*val = *p;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

static void *map_tiles(int fd, unsigned int tile, unsigned int count, int prot)
{
	return mmap(NULL, (size_t)count * TILE_SIZE, prot, MAP_SHARED, fd,
		    (off_t)tile * TILE_SIZE);
}

FIXTURE(readout) {
	struct ionpu_test_card card;
	struct ionpu_info info;
	unsigned int tile;
	int fd;
};

FIXTURE_SETUP(readout)
{
	struct ionpu_lease lease = { .count = 1 };

	self->fd = ionpu_test_open_first(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, self->fd);
	memset(&self->info, 0, sizeof(self->info));
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &self->info));
	if (!(self->info.caps & IONPU_CAP_READOUT) ||
	    !(self->info.caps & IONPU_CAP_QUEUES) || self->info.tiles < 2) {
		close(self->fd);
		self->fd = -1;
		SKIP(return, "the card has no readout window, queues or second tile");
	}
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_LEASE, &lease));
	self->tile = __builtin_ctzll(lease.tiles);
}

FIXTURE_TEARDOWN(readout)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(readout, window_reads_what_read_cells_reads)
{
	struct ionpu_cell_read cells[4];
	struct ionpu_read_cells rc = {
		.tile = self->tile, .row = 7, .rows = 1, .column = 100,
		.columns = 4, .cells = (uintptr_t)cells,
	};
	const volatile uint32_t *win;
	unsigned int i;

	win = map_tiles(self->fd, self->tile, 1, PROT_READ);
	ASSERT_NE(MAP_FAILED, win) TH_LOG("mmap: %m");
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_READ_CELLS, &rc)) TH_LOG("%m");
	for (i = 0; i < 4; i++) {
		uint32_t v = win[7 * 256 + 100 + i];
		float gp, gm;

		memcpy(&gp, &cells[i].g_plus, sizeof(gp));
		memcpy(&gm, &cells[i].g_minus, sizeof(gm));
		/* Codes are 10 nS units, rounded; a fresh tile reads exactly. */
		EXPECT_GE(1, labs((long)(v & 0xffff) - (long)(gp * 100 + 0.5f)));
		EXPECT_GE(1, labs((long)(v >> 16) - (long)(gm * 100 + 0.5f)));
		EXPECT_LT(0, v & 0xffff);
	}
	EXPECT_EQ(0, munmap((void *)win, TILE_SIZE));
}

TEST_F(readout, window_is_read_only)
{
	void *win;

	EXPECT_EQ(MAP_FAILED, map_tiles(self->fd, self->tile, 1,
					PROT_READ | PROT_WRITE));
	EXPECT_EQ(EPERM, errno);
	win = map_tiles(self->fd, self->tile, 1, PROT_READ);
	ASSERT_NE(MAP_FAILED, win);
	EXPECT_EQ(-1, mprotect(win, TILE_SIZE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, munmap(win, TILE_SIZE));
}

TEST_F(readout, only_leased_tiles_and_only_the_tiles)
{
	unsigned int other = self->tile ? 0 : 1;
	int fd2;

	EXPECT_EQ(MAP_FAILED, map_tiles(self->fd, other, 1, PROT_READ));
	EXPECT_EQ(EACCES, errno);
	/* A range that runs into a tile not leased is refused whole. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * TILE_SIZE, PROT_READ, MAP_SHARED,
				   self->fd, (off_t)self->tile * TILE_SIZE -
				   (self->tile ? TILE_SIZE : 0)));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(MAP_FAILED, map_tiles(self->fd, self->info.tiles, 1, PROT_READ));
	EXPECT_EQ(EINVAL, errno);

	/* Another open file of the same card sees nothing of this one's. */
	fd2 = open(self->card.node, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(MAP_FAILED, map_tiles(fd2, self->tile, 1, PROT_READ));
	EXPECT_EQ(EACCES, errno);
	close(fd2);
}

TEST_F(readout, release_revokes_the_mapping)
{
	struct ionpu_release rel = { .tiles = 1ULL << self->tile };
	const volatile uint32_t *win;
	uint32_t v;

	win = map_tiles(self->fd, self->tile, 1, PROT_READ);
	ASSERT_NE(MAP_FAILED, win);
	ASSERT_EQ(0, read_cell(win, &v));
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_RELEASE, &rel));
	EXPECT_EQ(-1, read_cell(win, &v));
	EXPECT_EQ(-1, read_cell(win + TILE_SIZE / 8, &v));
	EXPECT_EQ(0, munmap((void *)win, TILE_SIZE));
}

TEST_F(readout, reset_revokes_keeps_leases_and_tells_the_owner)
{
	struct ionpu_release rel = { .tiles = 1ULL << self->tile };
	char path[PATH_MAX];
	const volatile uint32_t *win, *again;
	struct ionpu_info info = { 0 };
	struct ionpu_ack_reset ack = { 0 };
	long resets = ionpu_test_card_long(&self->card, "resets");
	uint32_t v;

	ASSERT_LE(0, resets);
	EXPECT_EQ(resets, (long)self->info.resets);
	EXPECT_EQ(0, ionpu_test_poll(self->fd) & POLLPRI);
	win = map_tiles(self->fd, self->tile, 1, PROT_READ);
	ASSERT_NE(MAP_FAILED, win);
	ASSERT_EQ(0, read_cell(win, &v));

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset",
		 self->card.pci);
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));

	EXPECT_EQ(-1, read_cell(win, &v));
	EXPECT_EQ(resets + 1, ionpu_test_card_long(&self->card, "resets"));
	EXPECT_EQ(POLLPRI, ionpu_test_poll(self->fd) & POLLPRI);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(resets + 1, (long)info.resets);
	EXPECT_EQ(POLLPRI, ionpu_test_poll(self->fd) & POLLPRI);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_ACK_RESET, &ack));
	EXPECT_EQ(resets + 1, (long)ack.resets);
	EXPECT_EQ(0, ionpu_test_poll(self->fd) & POLLPRI);

	/* The old mapping stays dead; a new one works. */
	again = map_tiles(self->fd, self->tile, 1, PROT_READ);
	ASSERT_NE(MAP_FAILED, again) TH_LOG("mmap after reset: %m");
	EXPECT_EQ(0, read_cell(again, &v));
	EXPECT_EQ(-1, read_cell(win, &v));
	/* The lease survived: only its holder can release it. */
	EXPECT_EQ(0, ioctl(self->fd, IONPU_IOC_RELEASE, &rel));
	munmap((void *)again, TILE_SIZE);
	munmap((void *)win, TILE_SIZE);
}

TEST_F(readout, a_file_without_tiles_is_not_told)
{
	struct ionpu_info info = { 0 };
	char path[PATH_MAX];
	int fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset",
		 self->card.pci);
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	EXPECT_EQ(0, ionpu_test_poll(fd2) & POLLPRI);
	EXPECT_EQ(POLLPRI, ionpu_test_poll(self->fd) & POLLPRI);
	/* An INFO of the caller's first version has no room for the count. */
	ASSERT_EQ(0, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					  IONPU_IOCTL_BASE,
					  _IOC_NR(IONPU_IOC_INFO),
					  offsetof(struct ionpu_info, resets)),
			   &info));
	EXPECT_EQ(0, info.resets);
	EXPECT_EQ(POLLPRI, ionpu_test_poll(self->fd) & POLLPRI);
	close(fd2);
}

TEST_HARNESS_MAIN
