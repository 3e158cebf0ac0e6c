// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu open and info: what the library sends the driver and how it
 * translates the answer.  Linked with -Wl,--wrap=ioctl so the "driver" is
 * __wrap_ioctl() below, behind a real character device (/dev/null).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hw/ionpu_regs.h>
#include <ionpu/ionpu.h>
#include <linux/ionpu.h>

#include "ionpu_internal.h"

int __wrap_ioctl(int fd, unsigned long request, ...);

/*
 * Answers IONPU_IOC_INFO or IONPU_IOC_COUNTERS with the struct queued by
 * will_return(), or fails with the errno queued instead (a negative value).
 */
int __wrap_ioctl(int fd, unsigned long request, ...)
{
	struct ionpu_info *info;
	int err;
	va_list ap;

	(void)fd;
	check_expected(request);
	va_start(ap, request);
	info = va_arg(ap, struct ionpu_info *);
	va_end(ap);

	/* The library must send flags and reserved as zero (both structs start so). */
	assert_int_equal(info->flags, 0);
	assert_int_equal(info->reserved, 0);

	err = mock_type(int);
	if (err) {
		errno = -err;
		return -1;
	}
	if (request == IONPU_IOC_COUNTERS)
		*(struct ionpu_counters *)info =
			*mock_ptr_type(const struct ionpu_counters *);
	else
		*info = *mock_ptr_type(const struct ionpu_info *);
	return 0;
}

static const struct ionpu_info full_card = {
	.api_version = IONPU_API_VERSION,
	.hw_version = 0x00020003,
	.caps = IONPU_CAP_FLR | IONPU_CAP_TEST_IRQ | IONPU_CAP_QUEUES |
		IONPU_CAP_FAULTS | IONPU_CAP_SGL | 0x80000000u,
	.tiles = 64,
	.tile_rows = IONPU_TILE_ROWS,
	.tile_neurons = IONPU_TILE_NEURONS,
	.seed = 0xfedcba9876543210ull,
	/* All 16 bytes used: the kernel does not terminate it. */
	.serial = { 'S', 'E', 'R', 'I', 'A', 'L', '-', '0',
		    '1', '2', '3', '4', '5', '6', '7', '8' },
};

static void answer_info(const struct ionpu_info *info)
{
	expect_value(__wrap_ioctl, request, IONPU_IOC_INFO);
	will_return(__wrap_ioctl, 0);
	will_return(__wrap_ioctl, info);
}

static void fail_info(int err)
{
	expect_value(__wrap_ioctl, request, IONPU_IOC_INFO);
	will_return(__wrap_ioctl, err);
}

static void test_info_translates(void **state)
{
	struct ionpu_dev_info info;
	struct ionpu_dev *dev = NULL;

	(void)state;
	answer_info(&full_card);
	assert_int_equal(ionpu_open("/dev/null", &dev), 0);
	assert_non_null(dev);

	answer_info(&full_card);
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(ionpu_info(dev, &info), 0);
	assert_int_equal(info.api_version, IONPU_API_VERSION);
	assert_int_equal(info.hw_version_major, 2);
	assert_int_equal(info.hw_version_minor, 3);
	/* Bits the library does not know are not passed on. */
	assert_int_equal(info.caps, IONPU_DEV_CAP_FLR | IONPU_DEV_CAP_TEST_IRQ |
				    IONPU_DEV_CAP_QUEUES | IONPU_DEV_CAP_FAULTS |
				    IONPU_DEV_CAP_SGL);
	assert_int_equal(info.tiles, 64);
	assert_int_equal(info.tile_rows, 256);
	assert_int_equal(info.tile_neurons, 256);
	assert_true(info.seed == 0xfedcba9876543210ull);
	assert_string_equal(info.serial, "SERIAL-012345678");
	ionpu_close(dev);
}

/*
 * The card's counters, field by field; a card that is gone says so, and so
 * does a caller not allowed to watch the whole card.
 */
static void test_activity(void **state)
{
	const struct ionpu_counters c = {
		.timesteps = 1, .spikes_in = 2, .spikes_out = 3,
		.synaptic_events = 4, .program_pulses = 5, .busy_ns = 6,
		.energy_fj = 7, .events_dropped = 8,
	};
	struct ionpu_activity a;
	struct ionpu_dev *dev;

	(void)state;
	answer_info(&full_card);
	assert_int_equal(ionpu_open("/dev/null", &dev), 0);
	expect_value(__wrap_ioctl, request, IONPU_IOC_COUNTERS);
	will_return(__wrap_ioctl, 0);
	will_return(__wrap_ioctl, &c);
	assert_int_equal(ionpu_activity(dev, &a), 0);
	assert_true(a.timesteps == 1 && a.spikes_in == 2 && a.spikes_out == 3 &&
		    a.synaptic_events == 4 && a.program_pulses == 5 &&
		    a.busy_ns == 6 && a.energy_fj == 7);
	expect_value(__wrap_ioctl, request, IONPU_IOC_COUNTERS);
	will_return(__wrap_ioctl, -ENODEV);
	assert_int_equal(ionpu_activity(dev, &a), -ENODEV);
	assert_non_null(strstr(ionpu_last_error(), "gone"));
	expect_value(__wrap_ioctl, request, IONPU_IOC_COUNTERS);
	will_return(__wrap_ioctl, -EPERM);
	assert_int_equal(ionpu_activity(dev, &a), -EPERM);
	assert_non_null(strstr(ionpu_last_error(), "CAP_PERFMON"));
	assert_int_equal(ionpu_activity(NULL, &a), -EINVAL);
	ionpu_close(dev);
}

static void test_info_short_serial(void **state)
{
	struct ionpu_info card = { .hw_version = IONPU_HW_VERSION,
				   .serial = "IONPU-0" };
	struct ionpu_dev_info info;
	struct ionpu_dev *dev;

	(void)state;
	answer_info(&card);
	assert_int_equal(ionpu_open("/dev/null", &dev), 0);
	answer_info(&card);
	assert_int_equal(ionpu_info(dev, &info), 0);
	assert_string_equal(info.serial, "IONPU-0");
	assert_int_equal(info.hw_version_major,
			 IONPU_VERSION_MAJOR(IONPU_HW_VERSION));
	assert_int_equal(info.hw_version_minor,
			 IONPU_VERSION_MINOR(IONPU_HW_VERSION));
	assert_int_equal(info.caps, 0);
	ionpu_close(dev);
}

static void test_info_errors(void **state)
{
	struct ionpu_dev_info info;
	struct ionpu_dev *dev;

	(void)state;
	answer_info(&full_card);
	assert_int_equal(ionpu_open("/dev/null", &dev), 0);

	fail_info(-ENODEV);
	assert_int_equal(ionpu_info(dev, &info), -ENODEV);
	assert_string_equal(ionpu_last_error(), "/dev/null: the card is gone");

	fail_info(-EFAULT);
	assert_int_equal(ionpu_info(dev, &info), -EFAULT);
	assert_string_equal(ionpu_last_error(),
			    "/dev/null: IONPU_IOC_INFO: Bad address");

	assert_int_equal(ionpu_info(dev, NULL), -EINVAL);
	ionpu_close(dev);
}

static void test_open_checks_the_card(void **state)
{
	struct ionpu_dev *dev = NULL;

	(void)state;
	fail_info(-ENOTTY);
	assert_int_equal(ionpu_open("/dev/null", &dev), -ENOTTY);
	assert_null(dev);
	assert_string_equal(ionpu_last_error(),
			    "/dev/null: not an IONPU card (it does not answer IONPU_IOC_INFO)");

	/* A card removed between open and the check. */
	fail_info(-ENODEV);
	assert_int_equal(ionpu_open("/dev/null", &dev), -ENODEV);
	assert_null(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_translates),
		cmocka_unit_test(test_info_short_serial),
		cmocka_unit_test(test_activity),
		cmocka_unit_test(test_info_errors),
		cmocka_unit_test(test_open_checks_the_card),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
