// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X: the test doorbell of each vector reaches that vector's handler,
 * also after a function level reset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"


/* Test interrupts the driver counted on one vector, or -1. */
static int test_irqs(const char *card, unsigned int vec)
{
	char path[PATH_MAX], buf[256], *line;
	unsigned int v;
	int count;

	snprintf(path, sizeof(path), IONPU_TEST_DEBUGFS "/%s/irq_counts", card);
	if (ionpu_test_read_file(path, buf, sizeof(buf)))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (sscanf(line, "vector %u: %d test", &v, &count) == 2 &&
		    v == vec)
			return count;
	return -1;
}

static int ring(const char *card, const char *vec)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), IONPU_TEST_DEBUGFS "/%s/irq_test", card);
	return ionpu_test_write_file(path, vec);
}

FIXTURE(card) {
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int ncards;
};

FIXTURE_SETUP(card)
{
	self->ncards = ionpu_test_cards(self->cards, IONPU_TEST_MAX_CARDS);
	if (self->ncards <= 0)
		SKIP(return, "no ionpu card in this machine");
	if (access(IONPU_TEST_DEBUGFS, F_OK))
		SKIP(return, "debugfs is not mounted at /sys/kernel/debug");
}

FIXTURE_TEARDOWN(card)
{
}

TEST_F(card, every_vector_of_every_card_interrupts)
{
	for (int c = 0; c < self->ncards; c++) {
		const char *name = self->cards[c].name;

		for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++) {
			char arg[8];
			int before = test_irqs(name, v);

			ASSERT_LE(0, before);
			snprintf(arg, sizeof(arg), "%u", v);
			ASSERT_EQ(0, ring(name, arg))
				TH_LOG("%s vector %u: %s", name, v,
				       strerror(-ring(name, arg)));
			EXPECT_EQ(before + 1, test_irqs(name, v));
		}
	}
}

TEST_F(card, bad_vector_is_refused)
{
	const char *name = self->cards[0].name;

	EXPECT_EQ(-EINVAL, ring(name, "3"));
	EXPECT_EQ(-EINVAL, ring(name, "-1"));
	EXPECT_EQ(-EINVAL, ring(name, "one"));
}

TEST_F(card, interrupts_and_info_survive_function_reset)
{
	struct ionpu_test_card *card = &self->cards[0];
	struct ionpu_info info = { 0 };
	char path[PATH_MAX];
	int fd, before;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", card->pci);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", card->pci);

	fd = open(card->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));

	before = test_irqs(card->name, IONPU_VEC_ERROR);
	ASSERT_EQ(0, ring(card->name, "2"));
	EXPECT_EQ(before + 1, test_irqs(card->name, IONPU_VEC_ERROR));
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_INFO, &info));
	EXPECT_EQ(card->tiles, info.tiles);
	close(fd);
}

TEST_HARNESS_MAIN
