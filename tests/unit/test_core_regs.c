// SPDX-License-Identifier: GPL-2.0-only
/*
 * The model core's BAR0 registers against docs/hardware.md: identity,
 * control, scratch, interrupts, access rules and reset (revision 1.0, as
 * revision 1.1 keeps them).  The host interface of 1.1 is in
 * test_core_queue.c and test_core_cmd.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ionpu_core.h"

#define MAX_MESSAGES 16

struct card {
	struct ionpu_core *core;
	unsigned int sent[MAX_MESSAGES];
	unsigned int nsent;
};

static void record_notify(void *opaque, unsigned int vector)
{
	struct card *card = opaque;

	assert_true(card->nsent < MAX_MESSAGES);
	card->sent[card->nsent++] = vector;
}

/* Nothing here makes the card move data or coalesce. */
static int no_dma(void *opaque, uint64_t addr, void *buf, size_t len)
{
	(void)opaque;
	(void)addr;
	(void)buf;
	(void)len;
	fail();
	return -EIO;
}

static void no_timer(void *opaque, unsigned int vector, uint64_t delay_ns)
{
	(void)opaque;
	(void)vector;
	(void)delay_ns;
	fail();
}

static const struct ionpu_host_ops recording_ops = {
	.notify = record_notify,
	.dma_read = no_dma,
	.dma_write = no_dma,
	.arm_timer = no_timer,
};

static struct card *card_new(const struct ionpu_config *cfg)
{
	struct card *card = calloc(1, sizeof(*card));

	assert_non_null(card);
	assert_int_equal(ionpu_core_new(cfg, &recording_ops, card,
					&card->core, NULL), 0);
	return card;
}

static int setup_default(void **state)
{
	const struct ionpu_config cfg = { .tiles = IONPU_DEFAULT_TILES };

	*state = card_new(&cfg);
	return 0;
}

static int teardown(void **state)
{
	struct card *card = *state;

	ionpu_core_free(card->core);
	free(card);
	return 0;
}

static uint32_t rd(struct card *card, uint64_t off)
{
	return ionpu_core_read(card->core, off, 4);
}

static void wr(struct card *card, uint64_t off, uint32_t val)
{
	ionpu_core_write(card->core, off, val, 4);
}

/* The serial registers as a string, decoded byte 0 first. */
static void read_serial(struct card *card, char out[IONPU_SERIAL_MAX + 1])
{
	for (unsigned int i = 0; i < IONPU_SERIAL_MAX; i++)
		out[i] = (char)(rd(card, IONPU_REG_SERIAL(i / 4)) >>
				(8 * (i % 4)));
	out[IONPU_SERIAL_MAX] = '\0';
}

static void check_identity(struct card *card, unsigned int tiles,
			   uint64_t seed, const char *serial)
{
	char got[IONPU_SERIAL_MAX + 1];

	assert_int_equal(rd(card, IONPU_REG_ID), 0x504e4f49);
	assert_int_equal(rd(card, IONPU_REG_VERSION), 0x00010005);
	/*
	 * FLR, TEST_IRQ, QUEUES, READOUT, TILE_RESET, SGL, LEARN,
	 * TILE_COUNTERS; no nvstore, no faults.
	 */
	assert_int_equal(rd(card, IONPU_REG_CAPS), 0x3cf);
	assert_int_equal(rd(card, IONPU_REG_TILES), tiles);
	assert_int_equal(rd(card, IONPU_REG_TILE_ROWS), 256);
	assert_int_equal(rd(card, IONPU_REG_TILE_NEURONS), 256);
	assert_int_equal(rd(card, IONPU_REG_SEED_LO), (uint32_t)seed);
	assert_int_equal(rd(card, IONPU_REG_SEED_HI), (uint32_t)(seed >> 32));
	read_serial(card, got);
	assert_string_equal(got, serial);
}

static void test_identity_from_config(void **state)
{
	const struct ionpu_config cfg = {
		.tiles = 4, .seed = 0x0123456789abcdefULL, .serial = "CI-B",
	};
	struct card *card = card_new(&cfg);

	(void)state;
	check_identity(card, 4, cfg.seed, "CI-B");
	/* Byte 0 sits in bits 7:0 and the rest of the 16 bytes are NUL. */
	assert_int_equal(rd(card, IONPU_REG_SERIAL(0)), 0x422d4943);
	assert_int_equal(rd(card, IONPU_REG_SERIAL(1)), 0);
	assert_int_equal(rd(card, IONPU_REG_SERIAL(3)), 0);
	assert_int_equal(rd(card, IONPU_REG_STATUS), IONPU_STATUS_READY);
	assert_int_equal(card->nsent, 0);
	ionpu_core_free(card->core);
	free(card);
}

static void test_full_length_serial(void **state)
{
	const struct ionpu_config cfg = {
		.tiles = 64, .serial = "0123456789ABCDEF",
	};
	struct card *card = card_new(&cfg);

	(void)state;
	check_identity(card, 64, 0, "0123456789ABCDEF");
	assert_int_equal(rd(card, IONPU_REG_SERIAL(3)), 0x46454443);
	ionpu_core_free(card->core);
	free(card);
}

static void test_default_serial(void **state)
{
	static const struct {
		uint64_t seed;
		const char *serial;
	} cases[] = {
		{ 0, "IONPU-0" },
		{ 7, "IONPU-7" },
		{ 0xdeadbeef, "IONPU-DEADBEEF" },
		{ 0xffffffffffULL, "IONPU-FFFFFFFFFF" },
		/* Only the low 40 bits fit beside the prefix. */
		{ 0x0123456789abcdefULL, "IONPU-6789ABCDEF" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ionpu_config cfg = {
			.tiles = 1, .seed = cases[i].seed,
		};
		char buf[IONPU_SERIAL_MAX + 1];
		struct card *card = card_new(&cfg);

		assert_int_equal(ionpu_config_serial(&cfg, buf), 0);
		assert_string_equal(buf, cases[i].serial);
		check_identity(card, 1, cases[i].seed, cases[i].serial);
		ionpu_core_free(card->core);
		free(card);
	}
}

static void expect_invalid(const struct ionpu_config *cfg, const char *word)
{
	const struct ionpu_host_ops *ops = &recording_ops;
	struct ionpu_core *core = NULL;
	const char *why = NULL;

	assert_int_equal(ionpu_config_check(cfg, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, word));
	why = NULL;
	assert_int_equal(ionpu_core_new(cfg, ops, NULL, &core, &why), -EINVAL);
	assert_null(core);
	assert_non_null(strstr(why, word));
}

static void test_config_validation(void **state)
{
	const char *bad_serials[] = {
		"0123456789ABCDEFG", "tab\there", "bell\a", "del\x7f",
		"caf\xc3\xa9", "",
	};
	const unsigned int bad_tiles[] = { 0, 65, 1000 };
	const struct ionpu_host_ops no_notify = { 0 };
	struct ionpu_host_ops no_dma_ops = recording_ops;
	struct ionpu_config cfg = { .tiles = 16 };
	struct ionpu_core *core = NULL;
	char buf[IONPU_SERIAL_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_tiles) / sizeof(bad_tiles[0]); i++) {
		cfg.tiles = bad_tiles[i];
		expect_invalid(&cfg, "tiles");
	}
	cfg.tiles = 16;
	for (size_t i = 0; i < sizeof(bad_serials) / sizeof(bad_serials[0]);
	     i++) {
		cfg.serial = bad_serials[i];
		expect_invalid(&cfg, "serial");
		assert_int_equal(ionpu_config_serial(&cfg, buf), -EINVAL);
	}
	cfg.serial = " ~printable~ ";
	assert_int_equal(ionpu_config_check(&cfg, NULL), 0);
	cfg.serial = NULL;
	cfg.tiles = 1;
	assert_int_equal(ionpu_config_check(&cfg, NULL), 0);
	cfg.tiles = 64;
	assert_int_equal(ionpu_config_check(&cfg, NULL), 0);

	assert_int_equal(ionpu_core_new(&cfg, &no_notify, NULL, &core, NULL),
			 -EINVAL);
	assert_int_equal(ionpu_core_new(&cfg, NULL, NULL, &core, NULL),
			 -EINVAL);
	no_dma_ops.dma_write = NULL;
	assert_int_equal(ionpu_core_new(&cfg, &no_dma_ops, NULL, &core, NULL),
			 -EINVAL);
	assert_null(core);
}

static void test_scratch(void **state)
{
	struct card *card = *state;
	const uint32_t values[] = { 0xffffffff, 0xdeadbeef, 1, 0 };

	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		wr(card, IONPU_REG_SCRATCH, values[i]);
		assert_int_equal(rd(card, IONPU_REG_SCRATCH), values[i]);
	}
	assert_int_equal(card->nsent, 0);
}

static void test_read_only_and_reserved(void **state)
{
	static const uint64_t ro[] = {
		IONPU_REG_ID, IONPU_REG_VERSION, IONPU_REG_CAPS,
		IONPU_REG_TILES, IONPU_REG_TILE_ROWS, IONPU_REG_TILE_NEURONS,
		IONPU_REG_SEED_LO, IONPU_REG_SEED_HI, IONPU_REG_SERIAL(0),
		IONPU_REG_SERIAL(1), IONPU_REG_SERIAL(2), IONPU_REG_SERIAL(3),
		IONPU_REG_STATUS, IONPU_REG_QUEUE_STATUS, IONPU_REG_SQ_HEAD,
		IONPU_REG_CQ_TAIL, IONPU_REG_EQ_TAIL, IONPU_REG_EQ_DROPPED,
		IONPU_REG_ERROR_INFO, IONPU_REG_ERROR_COUNT,
	};
	/* FAULT_INJECT is reserved on a card without faults=on. */
	static const uint64_t reserved[] = {
		0x030, 0x03c, 0x04c, 0x05c, 0x060, 0x07c, 0x08c, 0x0dc,
		IONPU_REG_FAULT_INJECT, 0x0e4, 0xffc, 0x100c, 0xfffc,
	};
	struct card *card = *state;
	uint32_t before[sizeof(ro) / sizeof(ro[0])];

	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		before[i] = rd(card, ro[i]);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		wr(card, ro[i], 0x5a5a5a5a);
		wr(card, ro[i], 0);
	}
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		assert_int_equal(rd(card, ro[i]), before[i]);
	check_identity(card, 16, 0, "IONPU-0");

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		wr(card, reserved[i], 0xffffffff);
		assert_int_equal(rd(card, reserved[i]), 0);
	}
	/* Write-only and self-clearing registers read as zero. */
	wr(card, IONPU_REG_INTR_TEST, 1);
	assert_int_equal(rd(card, IONPU_REG_INTR_TEST), 0);
	assert_int_equal(rd(card, IONPU_REG_CONTROL), 0);
	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0);
	assert_int_equal(card->nsent, 0);
}

static void test_access_size(void **state)
{
	static const unsigned int sizes[] = { 1, 2, 8 };
	struct card *card = *state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned int sz = sizes[i];

		assert_int_equal(ionpu_core_read(card->core, IONPU_REG_ID, sz),
				 0);
		ionpu_core_write(card->core, IONPU_REG_SCRATCH, 0x11223344, sz);
		assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0);
		ionpu_core_write(card->core, IONPU_REG_INTR_TEST, 0, sz);
		ionpu_core_write(card->core, IONPU_REG_CONTROL, 1, sz);
	}
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0);

	/* Aligned 32-bit only: a dword access off its boundary is ignored. */
	assert_int_equal(ionpu_core_read(card->core, IONPU_REG_ID + 1, 4), 0);
	ionpu_core_write(card->core, IONPU_REG_SCRATCH + 2, 0xffffffff, 4);
	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0);
	/* Past the 64 KiB BAR, nothing aliases back onto registers. */
	assert_int_equal(ionpu_core_read(card->core, 0x10000, 4), 0);
	ionpu_core_write(card->core, 0x10000 + IONPU_REG_SCRATCH, 1, 4);
	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0);

	/* A dword write of a 64-bit bus value uses its low half. */
	ionpu_core_write(card->core, IONPU_REG_SCRATCH, 0x1234567887654321ULL,
			 4);
	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0x87654321);
	assert_int_equal(card->nsent, 0);
}

static void dirty(struct card *card)
{
	wr(card, IONPU_REG_SCRATCH, 0xcafef00d);
	wr(card, IONPU_REG_INTR_TEST, 0);
	wr(card, IONPU_REG_INTR_TEST, 2);
	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_TEST(1));
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE),
			 IONPU_INTR_TEST(0) | IONPU_INTR_TEST(2));
}

static void check_reset_state(struct card *card)
{
	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0);
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0);
	assert_int_equal(rd(card, IONPU_REG_INTR_ENABLE), 0);
	assert_int_equal(rd(card, IONPU_REG_CONTROL), 0);
	assert_int_equal(rd(card, IONPU_REG_STATUS), IONPU_STATUS_READY);
}

static void test_control_reset(void **state)
{
	const struct ionpu_config cfg = {
		.tiles = 9, .seed = 0xfeedface12345678ULL, .serial = "R",
	};
	struct card *card = card_new(&cfg);

	(void)state;
	dirty(card);
	/* Only bit 0 resets. */
	wr(card, IONPU_REG_CONTROL, 0);
	wr(card, IONPU_REG_CONTROL, 0xfffffffe);
	assert_int_equal(rd(card, IONPU_REG_SCRATCH), 0xcafef00d);
	assert_int_equal(rd(card, IONPU_REG_INTR_ENABLE), IONPU_INTR_TEST(1));

	wr(card, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	check_reset_state(card);
	check_identity(card, 9, cfg.seed, "R");

	/* The pending TEST(0) was dropped: enabling it now sends nothing. */
	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_ALL);
	assert_int_equal(card->nsent, 0);
	ionpu_core_free(card->core);
	free(card);
}

static void test_host_reset(void **state)
{
	struct card *card = *state;

	dirty(card);
	ionpu_core_reset(card->core);
	check_reset_state(card);
	check_identity(card, 16, 0, "IONPU-0");
	assert_int_equal(card->nsent, 0);
}

static void test_cause_rw1c(void **state)
{
	struct card *card = *state;

	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++)
		wr(card, IONPU_REG_INTR_TEST, v);
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0x700);

	wr(card, IONPU_REG_INTR_CAUSE, 0);
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0x700);
	wr(card, IONPU_REG_INTR_CAUSE, IONPU_INTR_TEST(1));
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0x500);
	/* Writing 1 to a clear or non-existent bit changes nothing. */
	wr(card, IONPU_REG_INTR_CAUSE, IONPU_INTR_TEST(1) | 0xf0000000);
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0x500);
	wr(card, IONPU_REG_INTR_CAUSE, 0xffffffff);
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0);
	/* Nothing was enabled, so nothing was sent. */
	assert_int_equal(card->nsent, 0);
}

static void test_doorbell_vector(void **state)
{
	struct card *card = *state;

	for (unsigned int v = 0; v < IONPU_NUM_VECTORS; v++) {
		card->nsent = 0;
		wr(card, IONPU_REG_INTR_CAUSE, IONPU_INTR_ALL);
		wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_TEST(v));
		for (unsigned int t = 0; t < IONPU_NUM_VECTORS; t++) {
			wr(card, IONPU_REG_INTR_TEST, t);
			assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE) &
					 IONPU_INTR_TEST(t),
					 IONPU_INTR_TEST(t));
		}
		assert_int_equal(card->nsent, 1);
		assert_int_equal(card->sent[0], v);
	}
}

static void test_enable_edge(void **state)
{
	struct card *card = *state;

	wr(card, IONPU_REG_INTR_TEST, 2);
	assert_int_equal(card->nsent, 0);

	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_TEST(2));
	assert_int_equal(card->nsent, 1);
	assert_int_equal(card->sent[0], 2);
	/* Rewriting the same enable is not an edge. */
	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_TEST(2));
	assert_int_equal(card->nsent, 1);
	/* Disabling then enabling again is a new edge. */
	wr(card, IONPU_REG_INTR_ENABLE, 0);
	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_TEST(2));
	assert_int_equal(card->nsent, 2);
	assert_int_equal(card->sent[1], 2);

	/* Enabling a cause that is not set sends nothing. */
	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_TEST(2) | IONPU_INTR_CQ);
	assert_int_equal(card->nsent, 2);
}

static void test_enable_all_pending(void **state)
{
	struct card *card = *state;

	for (unsigned int v = IONPU_NUM_VECTORS; v-- > 0;)
		wr(card, IONPU_REG_INTR_TEST, v);
	wr(card, IONPU_REG_INTR_ENABLE, 0xffffffff);
	/* Undefined causes cannot be enabled. */
	assert_int_equal(rd(card, IONPU_REG_INTR_ENABLE), IONPU_INTR_ALL);
	assert_int_equal(card->nsent, 3);
	assert_int_equal(card->sent[0], 0);
	assert_int_equal(card->sent[1], 1);
	assert_int_equal(card->sent[2], 2);
}

static void test_no_refire_while_set(void **state)
{
	struct card *card = *state;

	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_ALL);
	wr(card, IONPU_REG_INTR_TEST, 0);
	wr(card, IONPU_REG_INTR_TEST, 0);
	wr(card, IONPU_REG_INTR_TEST, 0);
	assert_int_equal(card->nsent, 1);

	/* Clearing another vector's cause does not re-arm this one. */
	wr(card, IONPU_REG_INTR_CAUSE, IONPU_INTR_TEST(1));
	wr(card, IONPU_REG_INTR_TEST, 0);
	assert_int_equal(card->nsent, 1);

	/* Once the host acknowledges it, the next event is a new edge. */
	wr(card, IONPU_REG_INTR_CAUSE, IONPU_INTR_TEST(0));
	wr(card, IONPU_REG_INTR_TEST, 0);
	assert_int_equal(card->nsent, 2);
	assert_int_equal(card->sent[0], 0);
	assert_int_equal(card->sent[1], 0);
}

static void test_bad_doorbell_ignored(void **state)
{
	static const uint32_t bad[] = {
		3, 4, 8, 0x100, 0x80000000, 0xffffffff,
	};
	struct card *card = *state;

	wr(card, IONPU_REG_INTR_ENABLE, IONPU_INTR_ALL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		wr(card, IONPU_REG_INTR_TEST, bad[i]);
	assert_int_equal(rd(card, IONPU_REG_INTR_CAUSE), 0);
	assert_int_equal(card->nsent, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_from_config),
		cmocka_unit_test(test_full_length_serial),
		cmocka_unit_test(test_default_serial),
		cmocka_unit_test(test_config_validation),
		cmocka_unit_test(test_control_reset),
		cmocka_unit_test_setup_teardown(test_scratch, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_only_and_reserved,
						setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_access_size, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_reset, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_cause_rw1c, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_vector,
						setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_enable_edge, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_enable_all_pending,
						setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_no_refire_while_set,
						setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_bad_doorbell_ignored,
						setup_default, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
