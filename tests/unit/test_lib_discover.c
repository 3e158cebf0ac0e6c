// SPDX-License-Identifier: GPL-2.0-only
/*
 * libionpu discovery and ionpu_open() argument handling, against a fake
 * sysfs tree and a fake /dev built in a temporary directory.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ionpu/ionpu.h>

#include "ionpu_internal.h"

struct fake {
	char root[64];		/* the fake sysfs */
	char dev[96];		/* the fake /dev, inside root */
};

static void vpath(char path[PATH_MAX], const struct fake *f, const char *fmt,
		  va_list ap)
{
	char rel[PATH_MAX];

	assert_in_range(vsnprintf(rel, sizeof(rel), fmt, ap), 0, PATH_MAX - 1);
	assert_in_range(snprintf(path, PATH_MAX, "%s/%s", f->root, rel), 0,
			PATH_MAX - 1);
}

/* mkdir -p of root/<rel>. */
static void make_dirs(const struct fake *f, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vpath(path, f, fmt, ap);
	va_end(ap);
	for (char *p = path + strlen(f->root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void write_file(const struct fake *f, const char *content,
		       const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *file;

	va_start(ap, fmt);
	vpath(path, f, fmt, ap);
	va_end(ap);
	file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fputs(content, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
}

static void remove_file(const struct fake *f, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vpath(path, f, fmt, ap);
	va_end(ap);
	assert_int_equal(unlink(path), 0);
}

static void make_link(const struct fake *f, const char *target,
		      const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vpath(path, f, fmt, ap);
	va_end(ap);
	assert_int_equal(symlink(target, path), 0);
}

/*
 * The first bytes of a function's config space, which is where libpci's
 * sysfs method reads the IDs from: vendor and device, little endian.
 */
static void write_config(const struct fake *f, const char *address,
			 uint16_t vendor, uint16_t device)
{
	unsigned char config[64] = {
		vendor & 0xff, vendor >> 8, device & 0xff, device >> 8,
	};
	char path[PATH_MAX];
	FILE *file;

	assert_in_range(snprintf(path, sizeof(path),
				 "%s/bus/pci/devices/%s/config", f->root, address),
			0, PATH_MAX - 1);
	file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fwrite(config, sizeof(config), 1, file), 1);
	assert_int_equal(fclose(file), 0);
}

/* A PCI function as sysfs shows it; @driver NULL for none bound. */
static void add_pci(const struct fake *f, const char *address,
		    uint16_t vendor, uint16_t device, const char *driver)
{
	char target[PATH_MAX];

	make_dirs(f, "bus/pci/devices/%s", address);
	write_config(f, address, vendor, device);
	if (driver) {
		make_dirs(f, "bus/pci/drivers/%s", driver);
		snprintf(target, sizeof(target), "../../drivers/%s", driver);
		make_link(f, target, "bus/pci/devices/%s/driver", address);
	}
}

static void add_ionpu_pci(const struct fake *f, const char *address,
			  const char *driver)
{
	add_pci(f, address, 0x1234, 0x4e50, driver);
}

/* The values add_served_card() gives its attributes. */
static const struct {
	const char *name;
	const char *value;
} good_attrs[] = {
	{ "serial", "IONPU-7\n" },
	{ "tiles", "16\n" },
	{ "hw_version", "1.0\n" },
	{ "seed", "7\n" },
};

static void restore_attr(const struct fake *f, const char *name)
{
	for (size_t i = 0; i < sizeof(good_attrs) / sizeof(good_attrs[0]); i++)
		if (!strcmp(good_attrs[i].name, name))
			write_file(f, good_attrs[i].value,
				   "class/ionpu/ionpu0/%s", name);
}

/* An ionpu class device with every attribute the driver provides. */
static void add_class(const struct fake *f, int index, const char *address,
		      const char *serial, const char *seed)
{
	char target[PATH_MAX];

	make_dirs(f, "class/ionpu/ionpu%d", index);
	snprintf(target, sizeof(target), "../../../bus/pci/devices/%s", address);
	make_link(f, target, "class/ionpu/ionpu%d/device", index);
	write_file(f, serial, "class/ionpu/ionpu%d/serial", index);
	write_file(f, "16\n", "class/ionpu/ionpu%d/tiles", index);
	write_file(f, "1.0\n", "class/ionpu/ionpu%d/hw_version", index);
	write_file(f, seed, "class/ionpu/ionpu%d/seed", index);
	write_file(f, "240:0\n", "class/ionpu/ionpu%d/dev", index);
}

/* One card served by the driver, as ionpu0 at 0000:00:03.0. */
static void add_served_card(const struct fake *f)
{
	add_ionpu_pci(f, "0000:00:03.0", "ionpu");
	add_class(f, 0, "0000:00:03.0", "IONPU-7\n", "7\n");
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/ionpu-test-XXXXXX");
	if (!mkdtemp(f->root)) {
		free(f);
		return -1;
	}
	snprintf(f->dev, sizeof(f->dev), "%s/dev", f->root);
	if (mkdir(f->dev, 0755)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fake *f = *state;
	int ret = nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return ret;
}

static void assert_error_mentions(const char *text)
{
	if (!strstr(ionpu_last_error(), text))
		fail_msg("last error \"%s\" does not mention \"%s\"",
			 ionpu_last_error(), text);
}

/* ionpu_list() must fail with @err and say why, naming @mention. */
static void assert_list_fails(const struct fake *f, int err, const char *mention)
{
	struct ionpu_card *cards = (struct ionpu_card *)f;
	size_t count = 12345;

	assert_int_equal(ionpu_list(f->root, &cards, &count), err);
	assert_ptr_equal(cards, f);
	assert_int_equal(count, 12345);
	assert_error_mentions(mention);
}

static void test_empty_tree(void **state)
{
	struct fake *f = *state;
	struct ionpu_card *cards = (struct ionpu_card *)f;
	size_t count = 1;

	assert_int_equal(ionpu_list(f->root, &cards, &count), 0);
	assert_int_equal(count, 0);
	assert_null(cards);
	ionpu_list_free(cards);
}

static void test_bad_root(void **state)
{
	struct fake *f = *state;
	struct ionpu_card *cards;
	size_t count;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nowhere", f->root);
	assert_int_equal(ionpu_list(path, &cards, &count), -ENOENT);
	assert_error_mentions(path);

	write_file(f, "", "plain");
	snprintf(path, sizeof(path), "%s/plain", f->root);
	assert_int_equal(ionpu_list(path, &cards, &count), -ENOTDIR);
	assert_error_mentions(path);

	assert_int_equal(ionpu_list(f->root, NULL, &count), -EINVAL);
	assert_int_equal(ionpu_list(f->root, &cards, NULL), -EINVAL);
}

static void test_cards_with_and_without_driver(void **state)
{
	struct fake *f = *state;
	struct ionpu_card *cards;
	size_t count;

	add_served_card(f);
	add_ionpu_pci(f, "0000:00:04.0", NULL);
	add_ionpu_pci(f, "0000:00:05.0", "vfio-pci");
	/* Bound through new_id: the class, not the IDs, says it is ours. */
	add_pci(f, "0000:00:07.0", 0x1234, 0x4e51, "ionpu");
	add_class(f, 1, "0000:00:07.0", "0123456789abcdef",
		  "18446744073709551615");
	/* Not ours: another vendor, QEMU's vendor with another device. */
	add_pci(f, "0000:00:02.0", 0x8086, 0x1237, NULL);
	add_pci(f, "0000:00:06.0", 0x1234, 0x1111, "bochs-drm");
	/* A function whose IDs cannot be read is not reported either. */
	make_dirs(f, "bus/pci/devices/0000:00:08.0");
	/* Class entries that are not ionpu<N> are not cards. */
	make_dirs(f, "class/ionpu/ionpu-extra");

	assert_int_equal(ionpu_list(f->root, &cards, &count), 0);
	assert_int_equal(count, 4);

	assert_string_equal(cards[0].pci_address, "0000:00:03.0");
	assert_true(cards[0].driver_bound);
	assert_int_equal(cards[0].index, 0);
	assert_string_equal(cards[0].node, "/dev/ionpu0");
	assert_string_equal(cards[0].driver, "ionpu");
	assert_string_equal(cards[0].serial, "IONPU-7");
	assert_int_equal(cards[0].tiles, 16);
	assert_int_equal(cards[0].hw_version_major, 1);
	assert_int_equal(cards[0].hw_version_minor, 0);
	assert_int_equal(cards[0].seed, 7);

	assert_string_equal(cards[1].pci_address, "0000:00:04.0");
	assert_false(cards[1].driver_bound);
	assert_int_equal(cards[1].index, -1);
	assert_string_equal(cards[1].node, "");
	assert_string_equal(cards[1].driver, "");
	assert_string_equal(cards[1].serial, "");
	assert_int_equal(cards[1].tiles, 0);

	assert_string_equal(cards[2].pci_address, "0000:00:05.0");
	assert_false(cards[2].driver_bound);
	assert_string_equal(cards[2].driver, "vfio-pci");

	assert_string_equal(cards[3].pci_address, "0000:00:07.0");
	assert_true(cards[3].driver_bound);
	assert_int_equal(cards[3].index, 1);
	assert_string_equal(cards[3].node, "/dev/ionpu1");
	assert_string_equal(cards[3].driver, "ionpu");
	/* All 16 characters, the no-newline case and the largest seed. */
	assert_string_equal(cards[3].serial, "0123456789abcdef");
	assert_true(cards[3].seed == UINT64_MAX);

	ionpu_list_free(cards);
}

/* No ionpu module: no /sys/module/ionpu, no ionpu class, cards all the same. */
static void test_driver_not_loaded(void **state)
{
	struct fake *f = *state;
	struct ionpu_card *cards;
	size_t count;

	add_ionpu_pci(f, "0000:01:00.0", NULL);
	assert_int_equal(ionpu_list(f->root, &cards, &count), 0);
	assert_int_equal(count, 1);
	assert_string_equal(cards[0].pci_address, "0000:01:00.0");
	assert_false(cards[0].driver_bound);
	assert_int_equal(cards[0].index, -1);
	assert_string_equal(cards[0].node, "");
	assert_string_equal(cards[0].driver, "");
	ionpu_list_free(cards);
}

/*
 * Functions whose config space cannot be read, as when they vanish during
 * the scan, read as all ones like on the bus: skipped, and quietly.
 */
static void test_unreadable_functions_skipped(void **state)
{
	struct fake *f = *state;
	struct ionpu_card *cards;
	size_t count;

	add_served_card(f);
	/* Gone: the devices entry left dangling, or its config removed. */
	make_link(f, "../../../devices/pci0000:00/0000:00:09.0",
		  "bus/pci/devices/0000:00:09.0");
	make_dirs(f, "bus/pci/devices/0000:00:0a.0");
	/* Unreadable: a read error, and a short read. */
	make_dirs(f, "bus/pci/devices/0000:00:0b.0/config");
	make_dirs(f, "bus/pci/devices/0000:00:0c.0");
	write_file(f, "\x34", "bus/pci/devices/0000:00:0c.0/config");
	/* What a function that vanished reads on real hardware. */
	add_pci(f, "0000:00:0d.0", 0xffff, 0xffff, NULL);

	ionpu_error(-EIO, "before the listing");
	assert_int_equal(ionpu_list(f->root, &cards, &count), 0);
	assert_int_equal(count, 1);
	assert_string_equal(cards[0].pci_address, "0000:00:03.0");
	assert_string_equal(cards[0].driver, "ionpu");
	assert_string_equal(ionpu_last_error(), "before the listing");
	ionpu_list_free(cards);
}

static void test_pci_devices_dir(void **state)
{
	struct fake *f = *state;
	struct ionpu_card *cards = (struct ionpu_card *)f;
	size_t count = 1;
	char mention[PATH_MAX];

	/* A PCI bus with no devices directory has no cards. */
	make_dirs(f, "bus/pci");
	assert_int_equal(ionpu_list(f->root, &cards, &count), 0);
	assert_int_equal(count, 0);
	assert_null(cards);

	write_file(f, "", "bus/pci/devices");
	snprintf(mention, sizeof(mention), "%s/bus/pci/devices: Not a directory",
		 f->root);
	assert_list_fails(f, -ENOTDIR, mention);
	remove_file(f, "bus/pci/devices");

	/* libpci would give up on an entry that is not an address: we say so first. */
	add_ionpu_pci(f, "0000:00:04.0", NULL);
	make_dirs(f, "bus/pci/devices/slot-4");
	assert_list_fails(f, -EPROTO, "devices/slot-4: not a PCI address");
}

/* A root too long for libpci's path buffers is refused, not passed on. */
static void test_root_too_long_for_libpci(void **state)
{
	struct fake *f = *state;
	char name[201], rel[PATH_MAX] = "", root[PATH_MAX];
	struct ionpu_card *cards;
	size_t count;

	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (int i = 0; i < 5; i++) {
		strcat(rel, name);
		make_dirs(f, "%s/bus/pci/devices", rel);
		strcat(rel, "/");
	}
	assert_in_range(snprintf(root, sizeof(root), "%s/%s", f->root, rel), 0,
			PATH_MAX - 1);
	assert_int_equal(ionpu_list(root, &cards, &count), -ENAMETOOLONG);
	assert_error_mentions("path too long for libpci");
}

static void test_malformed_attributes(void **state)
{
	static const struct {
		const char *attr;
		const char *value;
	} cases[] = {
		{ "tiles", "sixteen\n" },
		{ "tiles", "\n" },
		{ "tiles", "-1\n" },
		{ "tiles", "+16\n" },
		{ "tiles", "16 \n" },
		{ "tiles", "4294967296\n" },
		{ "hw_version", "1\n" },
		{ "hw_version", "1.\n" },
		{ "hw_version", ".0\n" },
		{ "hw_version", "1.0.0\n" },
		{ "hw_version", "65536.0\n" },
		{ "seed", "0x7\n" },
		{ "seed", "18446744073709551616\n" },
		{ "serial", "0123456789abcdefg\n" },
		{ "serial", "IONPU\t7\n" },
	};
	struct fake *f = *state;
	struct ionpu_card *cards;
	size_t count;
	char mention[PATH_MAX];

	add_served_card(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(f, cases[i].value, "class/ionpu/ionpu0/%s",
			   cases[i].attr);
		snprintf(mention, sizeof(mention),
			 "%s/class/ionpu/ionpu0/%s: malformed value", f->root,
			 cases[i].attr);
		assert_list_fails(f, -EPROTO, mention);
		restore_attr(f, cases[i].attr);
		assert_int_equal(ionpu_list(f->root, &cards, &count), 0);
		ionpu_list_free(cards);
	}

	write_file(f, "1234567890123456789012345678901234567890"
		      "1234567890123456789012345678901234567890\n",
		   "class/ionpu/ionpu0/tiles");
	assert_list_fails(f, -EPROTO, "ionpu0/tiles: value too long");
}

static void test_missing_attributes(void **state)
{
	struct fake *f = *state;
	char mention[PATH_MAX];

	add_served_card(f);
	for (size_t i = 0; i < sizeof(good_attrs) / sizeof(good_attrs[0]); i++) {
		remove_file(f, "class/ionpu/ionpu0/%s", good_attrs[i].name);
		snprintf(mention, sizeof(mention),
			 "%s/class/ionpu/ionpu0/%s: No such file or directory",
			 f->root, good_attrs[i].name);
		assert_list_fails(f, -ENOENT, mention);
		restore_attr(f, good_attrs[i].name);
	}

	remove_file(f, "class/ionpu/ionpu0/device");
	assert_list_fails(f, -ENOENT, "ionpu0/device");
}

static void test_two_nodes_one_card(void **state)
{
	struct fake *f = *state;

	add_served_card(f);
	add_class(f, 1, "0000:00:03.0", "IONPU-7\n", "7\n");
	assert_list_fails(f, -EPROTO, "0000:00:03.0");
}

/* ionpu_open_at() must fail with @err and name @mention; *out untouched. */
static void assert_open_fails(const struct fake *f, const char *what, int err,
			      const char *mention)
{
	struct ionpu_dev *dev = (struct ionpu_dev *)f;

	assert_int_equal(ionpu_open_at(f->root, f->dev, what, &dev), err);
	assert_ptr_equal(dev, f);
	assert_error_mentions(mention);
}

static void test_open_bad_arguments(void **state)
{
	static const char *const bad[] = {
		"", "abc", "-1", "+1", "0x1", "1.5", " 0", "ionpu0", "dev/ionpu0",
		"00:03", "0000:00:03.8", "0000:0:03.0", "000:00:03.0",
		"zz:03.0", "0000:00:03.0x", "000000000:00:03.0",
	};
	struct fake *f = *state;
	struct ionpu_dev *dev = NULL;
	struct ionpu_dev_info info;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_open_fails(f, bad[i], -EINVAL, "is not a device node");
	assert_open_fails(f, "2147483648", -EINVAL, "card index out of range");
	assert_open_fails(f, "99999999999999999999", -EINVAL,
			  "\"99999999999999999999\": card index out of range");

	assert_int_equal(ionpu_open(NULL, &dev), -EINVAL);
	assert_int_equal(ionpu_open("0", NULL), -EINVAL);
	assert_int_equal(ionpu_info(NULL, &info), -EINVAL);
	assert_null(dev);
	ionpu_close(NULL);
}

static void test_open_missing_node(void **state)
{
	struct fake *f = *state;
	char mention[PATH_MAX];
	struct ionpu_dev *dev = NULL;

	snprintf(mention, sizeof(mention),
		 "%s/ionpu5: No such file or directory", f->dev);
	assert_open_fails(f, "5", -ENOENT, mention);

	snprintf(mention, sizeof(mention), "%s/nothing/ionpu0", f->root);
	assert_open_fails(f, mention, -ENOENT, mention);

	/* The public entry point goes to the real /dev. */
	assert_int_equal(ionpu_open("/nonexistent/ionpu0", &dev), -ENOENT);
	assert_error_mentions("/nonexistent/ionpu0: No such file or directory");
	assert_null(dev);
}

static void test_open_not_a_card(void **state)
{
	struct fake *f = *state;
	char path[PATH_MAX];

	write_file(f, "", "dev/ionpu1");
	snprintf(path, sizeof(path), "%s/ionpu1", f->dev);
	assert_open_fails(f, "1", -ENODEV, "ionpu1: not a character device");
	assert_open_fails(f, path, -ENODEV, "ionpu1: not a character device");

	make_dirs(f, "dev/ionpu2");
	assert_open_fails(f, "2", -EISDIR, "ionpu2: Is a directory");

	/* A character device that does not speak the ionpu ioctls. */
	make_link(f, "/dev/null", "dev/ionpu3");
	assert_open_fails(f, "3", -ENOTTY, "ionpu3: not an IONPU card");
}

static void test_open_by_pci_address(void **state)
{
	struct fake *f = *state;

	add_served_card(f);
	add_ionpu_pci(f, "0000:00:04.0", NULL);
	add_ionpu_pci(f, "0000:00:05.0", "vfio-pci");
	add_ionpu_pci(f, "0000:00:0a.0", "ionpu");
	add_class(f, 3, "0000:00:0a.0", "IONPU-a\n", "10\n");
	make_link(f, "/dev/null", "dev/ionpu3");

	/* Resolved to the node of ionpu3, which then is not a card. */
	assert_open_fails(f, "0000:00:0A.0", -ENOTTY, "/dev/ionpu3: not an IONPU card");
	assert_open_fails(f, "00:0a.0", -ENOTTY, "/dev/ionpu3: not an IONPU card");
	/* Resolved to ionpu0, whose node is missing. */
	assert_open_fails(f, "00:03.0", -ENOENT, "/dev/ionpu0: No such file");

	assert_open_fails(f, "0000:00:04.0", -ENODEV,
			  "0000:00:04.0: the ionpu driver does not serve this card (bound driver: none)");
	assert_open_fails(f, "00:05.0", -ENODEV, "(bound driver: vfio-pci)");
	assert_open_fails(f, "0000:00:09.0", -ENODEV,
			  "0000:00:09.0: no IONPU card at this PCI address");

	/* Listing errors come through unchanged. */
	remove_file(f, "class/ionpu/ionpu0/tiles");
	assert_open_fails(f, "0000:00:0a.0", -ENOENT, "ionpu0/tiles");
}

static void *fail_in_thread(void *arg)
{
	struct ionpu_dev *dev;

	(void)arg;
	return (void *)(intptr_t)ionpu_open("thread", &dev);
}

static void test_last_error_is_per_thread(void **state)
{
	struct ionpu_dev *dev;
	pthread_t thread;
	void *ret;

	(void)state;
	assert_int_equal(ionpu_open("main", &dev), -EINVAL);
	assert_int_equal(pthread_create(&thread, NULL, fail_in_thread, NULL), 0);
	assert_int_equal(pthread_join(thread, &ret), 0);
	assert_int_equal((intptr_t)ret, -EINVAL);
	assert_error_mentions("\"main\"");
}

static void test_version(void **state)
{
	char expected[32];

	(void)state;
	snprintf(expected, sizeof(expected), "%d.%d.%d",
		 IONPU_LIB_VERSION_MAJOR, IONPU_LIB_VERSION_MINOR,
		 IONPU_LIB_VERSION_PATCH);
	assert_string_equal(ionpu_version(), expected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cards_with_and_without_driver,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_not_loaded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_functions_skipped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_devices_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_too_long_for_libpci,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_attributes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_attributes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_nodes_one_card, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_bad_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_node, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_not_a_card, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_by_pci_address, setup,
						teardown),
		cmocka_unit_test(test_last_error_is_per_thread),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
