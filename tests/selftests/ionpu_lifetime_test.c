// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lifetime: the module cannot be unloaded under an open file, and a card
 * that is unbound under an open file fails that file's calls with ENODEV
 * without crashing; afterwards everything comes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define DRIVER_DIR "/sys/bus/pci/drivers/ionpu"

static int delete_module(const char *name, int flags)
{
	return syscall(__NR_delete_module, name, flags);
}

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(__NR_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

FIXTURE(card) {
	struct ionpu_test_card card;
	int fd;
};

FIXTURE_SETUP(card)
{
	self->fd = ionpu_test_open_first(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->card.node,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(card)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(card, unbind_with_open_file_gives_enodev)
{
	struct ionpu_info info = { 0 };

	ASSERT_EQ(0, ionpu_test_write_file(DRIVER_DIR "/unbind", self->card.pci));
	EXPECT_TRUE(ionpu_test_wait_path(self->card.node, false, 2000));

	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, open(self->card.node, O_RDWR | O_CLOEXEC));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, ionpu_test_write_file(DRIVER_DIR "/bind", self->card.pci));
	ASSERT_TRUE(ionpu_test_wait_path(self->card.node, true, 2000));
	self->fd = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(self->card.tiles, info.tiles);
}

TEST_F(card, module_stays_while_a_file_is_open)
{
	const char *ko = getenv("IONPU_KO");
	struct ionpu_info info = { 0 };

	if (!ko)
		SKIP(return, "IONPU_KO does not say where ionpu.ko is");

	EXPECT_EQ(-1, delete_module("ionpu", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &info));

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, delete_module("ionpu", O_NONBLOCK)) TH_LOG("%m");
	EXPECT_TRUE(ionpu_test_wait_path(self->card.node, false, 2000));

	ASSERT_EQ(0, load_module(ko)) TH_LOG("load %s: %m", ko);
	ASSERT_TRUE(ionpu_test_wait_path(self->card.node, true, 2000));
	self->fd = open(self->card.node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, IONPU_IOC_INFO, &info));
}

TEST_HARNESS_MAIN
