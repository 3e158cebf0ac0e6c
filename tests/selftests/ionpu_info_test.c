// SPDX-License-Identifier: GPL-2.0-only
/*
 * IONPU_IOC_INFO and the ioctl rules of include/uapi/linux/ionpu.h: each card
 * the VM was booted with is found and reports what QEMU's command line set;
 * bad numbers, short, long and dirty structs get the documented errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

/* The INFO command with the caller's struct size changed. */
#define INFO_SIZED(size) \
	_IOC(_IOC_READ | _IOC_WRITE, IONPU_IOCTL_BASE, 0x00, (size))

TEST(every_card_reports_its_command_line)
{
	struct ionpu_test_expect exp[IONPU_TEST_MAX_CARDS];
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int nexp, ncards, i, j;

	nexp = ionpu_test_expected(exp, IONPU_TEST_MAX_CARDS);
	if (nexp == -ENOENT)
		SKIP(return, "IONPU_CARDS not set: not booted by tests/vm/run");
	ASSERT_GT(nexp, 0);
	ncards = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);
	ASSERT_EQ(nexp, ncards);

	for (i = 0; i < nexp; i++) {
		struct ionpu_info info = { 0 };
		int fd;

		for (j = 0; j < ncards; j++)
			if (!strcmp(cards[j].serial, exp[i].serial))
				break;
		ASSERT_LT(j, ncards) TH_LOG("no card has serial %s", exp[i].serial);
		EXPECT_EQ(exp[i].tiles, cards[j].tiles);
		EXPECT_EQ(exp[i].seed, cards[j].seed);

		fd = open(cards[j].node, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open %s: %m", cards[j].node);
		ASSERT_EQ(0, ioctl(fd, IONPU_IOC_INFO, &info));
		close(fd);

		EXPECT_EQ(IONPU_API_VERSION, info.api_version);
		EXPECT_EQ(1, info.hw_version >> 16);
		EXPECT_EQ(exp[i].tiles, info.tiles);
		EXPECT_EQ(256, info.tile_rows);
		EXPECT_EQ(256, info.tile_neurons);
		EXPECT_EQ(exp[i].seed, info.seed);
		EXPECT_EQ(0, strncmp(exp[i].serial, info.serial, IONPU_SERIAL_LEN));
		EXPECT_EQ(0, info.flags);
		EXPECT_EQ(0, info.reserved);
	}
}

FIXTURE(node) {
	struct ionpu_test_card card;
	int fd;
};

FIXTURE_SETUP(node)
{
	self->fd = ionpu_test_open_first(&self->card);
	if (self->fd == -ENODEV)
		SKIP(return, "no ionpu card in this machine");
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->card.node,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(node)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(node, unknown_numbers_get_enotty)
{
	struct ionpu_info info = { 0 };

	/* A number past the table, another driver's type, wrong direction. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(IONPU_IOCTL_BASE, 0x7f, info), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('T', 0x00, info), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(IONPU_IOCTL_BASE, 0x00, info), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IONPU_IOCTL_BASE, 0x00)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(node, short_struct_gets_einval)
{
	struct ionpu_info info = { 0 };

	/* Shorter than the first version, which ends at @serial. */
	EXPECT_EQ(-1, ioctl(self->fd, INFO_SIZED(offsetof(struct ionpu_info,
							  serial) + 8), &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, INFO_SIZED(0), &info));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was written back. */
	EXPECT_EQ(0, info.tiles);
}

TEST_F(node, dirty_struct_gets_einval)
{
	struct ionpu_info info = { 0 };

	info.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 0x80000000;
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 0;
	info.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, info.tiles);
}

/* A newer caller's larger struct: zero tail accepted and left alone. */
TEST_F(node, larger_struct_with_zero_tail_works)
{
	struct {
		struct ionpu_info info;
		unsigned char tail[24];
	} big;

	memset(&big, 0, sizeof(big));
	ASSERT_EQ(0, ioctl(self->fd, INFO_SIZED(sizeof(big)), &big));
	EXPECT_NE(0, big.info.tiles);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		EXPECT_EQ(0, big.tail[i]);

	big.tail[5] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, INFO_SIZED(sizeof(big)), &big));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(node, bad_pointer_gets_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IONPU_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(node, node_is_not_seekable)
{
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
}

TEST_HARNESS_MAIN
