// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu against the real driver: every card the driver serves is listed,
 * opens by node, index and PCI address, reports the same identity as sysfs
 * and describes itself to the compiler; a card that is unbound is listed as
 * not served and its open handle fails with -ENODEV.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"

#define DRIVER_DIR "/sys/bus/pci/drivers/ionpu"

FIXTURE(lib) {
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int ncards;
};

FIXTURE_SETUP(lib)
{
	self->ncards = ionpu_test_cards(self->cards, IONPU_TEST_MAX_CARDS);
	if (self->ncards <= 0)
		SKIP(return, "no ionpu card in this machine");
}

FIXTURE_TEARDOWN(lib)
{
}

TEST_F(lib, list_shows_every_served_card)
{
	struct ionpu_card *list;
	size_t n;

	ASSERT_EQ(0, ionpu_list(NULL, &list, &n)) TH_LOG("%s", ionpu_last_error());
	ASSERT_EQ((size_t)self->ncards, n);
	for (int c = 0; c < self->ncards; c++) {
		const struct ionpu_test_card *want = &self->cards[c];
		size_t i;

		for (i = 0; i < n && strcmp(list[i].pci_address, want->pci); i++)
			;
		ASSERT_LT(i, n) TH_LOG("%s not listed", want->pci);
		EXPECT_TRUE(list[i].driver_bound);
		EXPECT_STREQ("ionpu", list[i].driver);
		EXPECT_STREQ(want->node, list[i].node);
		EXPECT_STREQ(want->serial, list[i].serial);
		EXPECT_EQ(want->tiles, list[i].tiles);
		EXPECT_EQ(want->seed, list[i].seed);
	}
	ionpu_list_free(list);
}

TEST_F(lib, open_by_node_index_and_address_agree)
{
	for (int c = 0; c < self->ncards; c++) {
		const struct ionpu_test_card *want = &self->cards[c];
		const char *forms[3] = { want->node, want->name + 5, want->pci };

		for (int f = 0; f < 3; f++) {
			struct ionpu_dev_info info;
			struct ionpu_dev *dev;

			ASSERT_EQ(0, ionpu_open(forms[f], &dev))
				TH_LOG("%s: %s", forms[f], ionpu_last_error());
			ASSERT_EQ(0, ionpu_info(dev, &info));
			EXPECT_STREQ(want->serial, info.serial);
			EXPECT_EQ(want->tiles, info.tiles);
			EXPECT_EQ(want->seed, info.seed);
			EXPECT_EQ(1, info.hw_version_major);
			ionpu_close(dev);
		}
	}
}

/* The compiler's view of each card: its own tile count and geometry. */
TEST_F(lib, card_description_comes_from_the_card)
{
	for (int c = 0; c < self->ncards; c++) {
		struct ionpu_card_desc desc, def;
		struct ionpu_dev *dev;

		ASSERT_EQ(0, ionpu_open(self->cards[c].node, &dev));
		ASSERT_EQ(0, ionpu_card_desc_of(dev, &desc)) TH_LOG("%s", ionpu_last_error());
		ionpu_card_desc_default(self->cards[c].tiles, &def);
		EXPECT_EQ(self->cards[c].tiles, desc.tiles);
		EXPECT_EQ(256, desc.tile_rows);
		EXPECT_EQ(256, desc.tile_neurons);
		EXPECT_EQ(0, memcmp(&def, &desc, sizeof(desc)));
		ionpu_close(dev);
	}
}

TEST_F(lib, unbound_card_is_listed_as_not_served)
{
	const struct ionpu_test_card *card = &self->cards[0];
	struct ionpu_dev_info info;
	struct ionpu_card *list;
	struct ionpu_dev *dev;
	size_t n, i;

	ASSERT_EQ(0, ionpu_open(card->pci, &dev));
	ASSERT_EQ(0, ionpu_test_write_file(DRIVER_DIR "/unbind", card->pci));

	EXPECT_EQ(-ENODEV, ionpu_info(dev, &info));
	ionpu_close(dev);
	ASSERT_EQ(0, ionpu_list(NULL, &list, &n));
	for (i = 0; i < n && strcmp(list[i].pci_address, card->pci); i++)
		;
	EXPECT_LT(i, n);
	if (i < n) {
		EXPECT_FALSE(list[i].driver_bound);
		EXPECT_STREQ("", list[i].node);
		EXPECT_STREQ("", list[i].driver);
		EXPECT_EQ(-1, list[i].index);
	}
	ionpu_list_free(list);
	EXPECT_EQ(-ENODEV, ionpu_open(card->pci, &dev));

	ASSERT_EQ(0, ionpu_test_write_file(DRIVER_DIR "/bind", card->pci));
	ASSERT_TRUE(ionpu_test_wait_path(card->node, true, 2000));
	ASSERT_EQ(0, ionpu_open(card->pci, &dev)) TH_LOG("%s", ionpu_last_error());
	ionpu_close(dev);
}

TEST_HARNESS_MAIN
