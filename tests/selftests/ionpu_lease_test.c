// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tile leases: all-or-nothing leasing and releasing, one owner per tile, a
 * second process denied another's tiles, every lease given back when its
 * file closes, and who leased a tile shown to root alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

FIXTURE(lease) {
	struct ionpu_test_card card;
	int fd;
};

FIXTURE_SETUP(lease)
{
	self->fd = ionpu_test_open_first(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->card.node,
				      strerror(-self->fd));
	if (self->card.tiles < 2)
		SKIP(return, "%s has a single tile", self->card.name);
}

FIXTURE_TEARDOWN(lease)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int lease_count(int fd, unsigned int count, unsigned long long *got)
{
	struct ionpu_lease l = { .count = count };
	int ret = ioctl(fd, IONPU_IOC_LEASE, &l);

	if (!ret && got)
		*got = l.tiles;
	return ret ? -errno : 0;
}

static int lease_exact(int fd, unsigned long long tiles)
{
	struct ionpu_lease l = { .flags = IONPU_LEASE_EXACT, .tiles = tiles };

	return ioctl(fd, IONPU_IOC_LEASE, &l) ? -errno : 0;
}

static int release(int fd, unsigned long long tiles)
{
	struct ionpu_release r = { .tiles = tiles };

	return ioctl(fd, IONPU_IOC_RELEASE, &r) ? -errno : 0;
}

/* Word @tile of sysfs attribute @attr of @card, or -1 when unreadable. */
static long tile_word(const struct ionpu_test_card *card, const char *attr,
		      unsigned int tile)
{
	char path[PATH_MAX], buf[4096], *p = buf, *end;
	long word = -1;

	snprintf(path, sizeof(path), "/sys/class/ionpu/%s/%s", card->name, attr);
	if (ionpu_test_read_file(path, buf, sizeof(buf)))
		return -1;
	for (unsigned int i = 0; i <= tile; i++) {
		word = strtol(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return word;
}

/* Owner pid of one tile from sysfs, or -1. */
static long owner(const struct ionpu_test_card *card, unsigned int tile)
{
	return tile_word(card, "tile_owners", tile);
}

static unsigned long long all_tiles(unsigned int n)
{
	return n == 64 ? ~0ULL : (1ULL << n) - 1;
}

TEST_F(lease, lowest_free_tiles_are_leased_and_shown)
{
	unsigned long long got = 0;

	ASSERT_EQ(0, lease_count(self->fd, 2, &got));
	EXPECT_EQ(0x3ULL, got);
	EXPECT_EQ(getpid(), owner(&self->card, 0));
	EXPECT_EQ(getpid(), owner(&self->card, 1));
	if (self->card.tiles > 2)
		EXPECT_EQ(0, owner(&self->card, 2));

	ASSERT_EQ(0, release(self->fd, 0x1));
	EXPECT_EQ(0, owner(&self->card, 0));
	ASSERT_EQ(0, lease_count(self->fd, 1, &got));
	EXPECT_EQ(0x1ULL, got);
}

/*
 * A user other than root may not read tile_owners, and learns from
 * leased_tiles which tiles are taken, not by whom.
 */
TEST_F(lease, owners_are_shown_to_root_alone)
{
	char path[PATH_MAX], buf[64];
	unsigned long long got;
	int status = -1;
	pid_t child;

	if (geteuid() != 0)
		SKIP(return, "only root can become another user");
	ASSERT_EQ(0, lease_count(self->fd, 1, &got));
	ASSERT_EQ(0x1ULL, got);
	snprintf(path, sizeof(path), "/sys/class/ionpu/%s/tile_owners",
		 self->card.name);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		if (ionpu_test_read_file(path, buf, sizeof(buf)) != -EACCES)
			_exit(3);
		if (tile_word(&self->card, "leased_tiles", 0) != 1)
			_exit(4);
		if (self->card.tiles > 1 &&
		    tile_word(&self->card, "leased_tiles", 1) != 0)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(getpid(), owner(&self->card, 0));
	EXPECT_EQ(1, tile_word(&self->card, "leased_tiles", 0));
}

TEST_F(lease, leases_are_all_or_nothing)
{
	unsigned long long got;

	ASSERT_EQ(0, lease_exact(self->fd, 0x2));
	/* Tile 1 is taken, so neither 0 nor 1 is leased. */
	EXPECT_EQ(-EBUSY, lease_exact(self->fd, 0x3));
	EXPECT_EQ(0, owner(&self->card, 0));
	/* Asking for every tile while one is taken gets nothing. */
	EXPECT_EQ(-EBUSY, lease_count(self->fd, self->card.tiles, &got));
	EXPECT_EQ(0, owner(&self->card, 0));
	/* Releasing a tile that is not ours releases nothing. */
	EXPECT_EQ(-EPERM, release(self->fd, 0x3));
	EXPECT_EQ(getpid(), owner(&self->card, 1));
	ASSERT_EQ(0, release(self->fd, 0x2));
	ASSERT_EQ(0, lease_count(self->fd, self->card.tiles, &got));
	EXPECT_EQ(all_tiles(self->card.tiles), got);
}

TEST_F(lease, bad_arguments_are_refused)
{
	struct ionpu_lease l = { .count = 1, .flags = 1u << 7 };
	struct ionpu_release r = { .tiles = 1, .reserved = 1 };

	EXPECT_EQ(-EINVAL, lease_count(self->fd, 0, NULL));
	EXPECT_EQ(-EINVAL, lease_count(self->fd, self->card.tiles + 1, NULL));
	EXPECT_EQ(-EINVAL, lease_exact(self->fd, 0));
	if (self->card.tiles < 64)
		EXPECT_EQ(-EINVAL, lease_exact(self->fd, 1ULL << self->card.tiles));
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_LEASE, &l));
	EXPECT_EQ(EINVAL, errno);
	l.flags = 0;
	l.tiles = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_LEASE, &l));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, release(self->fd, 0));
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_RELEASE, &r));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, owner(&self->card, 0));
}

TEST_F(lease, another_process_cannot_take_or_free_our_tiles)
{
	int status;
	pid_t child;

	ASSERT_EQ(0, lease_exact(self->fd, 0x1));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd = open(self->card.node, O_RDWR | O_CLOEXEC);
		unsigned long long got = 0;
		int bad = 0;

		/* Even with the parent's file inherited, its own file owns nothing. */
		bad |= fd < 0;
		bad |= lease_exact(fd, 0x1) != -EBUSY;
		bad |= release(fd, 0x1) != -EPERM;
		bad |= lease_count(fd, 1, &got) != 0 || got != 0x2;
		bad |= owner(&self->card, 1) != getpid();
		_exit(bad);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The child's lease went with its file. */
	EXPECT_EQ(0, owner(&self->card, 1));
	EXPECT_EQ(getpid(), owner(&self->card, 0));
}

TEST_F(lease, closing_the_file_releases_its_tiles)
{
	int fd2 = open(self->card.node, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, lease_exact(fd2, 0x3));
	EXPECT_EQ(-EBUSY, lease_exact(self->fd, 0x1));
	close(fd2);
	EXPECT_EQ(0, owner(&self->card, 0));
	EXPECT_EQ(0, owner(&self->card, 1));
	EXPECT_EQ(0, lease_exact(self->fd, 0x3));
}

TEST_HARNESS_MAIN
