// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Card discovery: libpci for the PCI bus, sysfs for the ionpu class.
 *
 * Two sources are merged by PCI address: the PCI bus, which shows every card
 * whether a driver is bound or not (and which driver), and the ionpu class,
 * which shows the cards the ionpu driver serves together with their identity
 * attributes.  A class device whose PCI function does not carry our IDs (a
 * driver bound through new_id) is still listed: the class is the authority
 * on what the driver serves.
 *
 * libpci reports failures through a callback that must not return, and its
 * default one exit()s.  We only call what cannot fail on a sane tree with the
 * sysfs method: the scan of a devices directory we checked beforehand and
 * identity read from config space (a failed read is a warning and reads as
 * all ones, as a vanished function does on real hardware); the driver link
 * is read here.  The callback we install records the message and longjmp()s
 * back to scan_pci_bus(), which then frees what libpci holds and fails with
 * -EIO; what libpci's failing function held itself (a pci_dev it was adding,
 * the directory it was reading, with its file descriptor) is lost, the
 * price of not exiting.  Only an allocation failure inside pci_alloc(),
 * before any callback can be installed, still ends the process.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pci/pci.h>

#include <hw/ionpu_regs.h>

#include "ionpu_internal.h"

/* Every attribute we read is one short line; a longer one is not ours. */
#define ATTR_SIZE 64

/*
 * libpci's sysfs method builds paths in 1024-byte buffers and fails through
 * the error callback on a longer one; the longest it builds is the bus
 * directory plus "/devices/DDDDDDDD:BB:DD.F/" and an attribute name.
 */
#define LIBPCI_PATH_MAX 1024
#define LIBPCI_PATH_SLACK 64

/*
 * Where libpci's error callback returns to: the calling thread's
 * scan_pci_bus(), or NULL outside it.  Thread-local like the error message
 * the callback leaves.
 */
static _Thread_local jmp_buf *libpci_escape;

struct card_list {
	struct ionpu_card *cards;
	size_t count;
	size_t capacity;
};

static int make_path(char path[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int make_path(char path[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(path, PATH_MAX, fmt, ap);
	va_end(ap);
	if (len < 0 || len >= PATH_MAX)
		return ionpu_error(-ENAMETOOLONG, "sysfs path too long: %s...",
				   path);
	return 0;
}

static bool copy_string(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

/*
 * Read a one-line file into @buf without its newline.  Quiet: it only
 * returns the negative errno, so that callers probing files that are not
 * ours leave no message behind.
 */
static int read_line(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf + len, size - len);
		if (n > 0)
			len += (size_t)n;
	} while ((n > 0 && len < size) || (n < 0 && errno == EINTR));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	if (len == size)
		return -EOVERFLOW;
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return 0;
}

bool ionpu_parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned int digit = (unsigned int)(*s - '0');

		if (digit > 9 || value > (max - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = value;
	return true;
}

static bool parse_hw_version(const char *s, uint16_t *major, uint16_t *minor)
{
	const char *dot = strchr(s, '.');
	char major_text[ATTR_SIZE];
	uint64_t maj, min;

	if (!dot || (size_t)(dot - s) >= sizeof(major_text))
		return false;
	memcpy(major_text, s, (size_t)(dot - s));
	major_text[dot - s] = '\0';
	if (!ionpu_parse_decimal(major_text, UINT16_MAX, &maj) ||
	    !ionpu_parse_decimal(dot + 1, UINT16_MAX, &min))
		return false;
	*major = (uint16_t)maj;
	*minor = (uint16_t)min;
	return true;
}

static bool valid_serial(const char *s)
{
	if (strlen(s) > IONPU_SERIAL_MAX)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Read an attribute the driver must provide; failures carry a message. */
static int read_attr(const char *dir, const char *name, char buf[ATTR_SIZE])
{
	char path[PATH_MAX];
	int ret;

	ret = make_path(path, "%s/%s", dir, name);
	if (ret)
		return ret;
	ret = read_line(path, buf, ATTR_SIZE);
	if (ret == -EOVERFLOW)
		return ionpu_error(-EPROTO, "%s: value too long", path);
	if (ret)
		return ionpu_error_errno(ret, "%s", path);
	return 0;
}

static int malformed(const char *dir, const char *name, const char *value,
		     const char *expected)
{
	return ionpu_error(-EPROTO,
			   "%s/%s: malformed value \"%s\" (expected %s)", dir,
			   name, value, expected);
}

static int read_decimal_attr(const char *dir, const char *name, uint64_t max,
			     uint64_t *out)
{
	char value[ATTR_SIZE];
	int ret;

	ret = read_attr(dir, name, value);
	if (ret)
		return ret;
	if (!ionpu_parse_decimal(value, max, out))
		return malformed(dir, name, value, "a decimal number");
	return 0;
}

/*
 * Name of the driver bound to the PCI function at @pci_dir, kept in @name
 * when it has none yet.  Quiet, like read_line(): a missing link only means
 * no driver.  Read here rather than through libpci, whose sysfs method
 * copies the link into a fixed buffer unchecked.
 */
static void read_driver_name(const char *pci_dir, char *name, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t len;

	if (name[0] || snprintf(path, sizeof(path), "%s/driver", pci_dir) >=
			       (int)sizeof(path))
		return;
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return;
	target[len] = '\0';
	base = strrchr(target, '/');
	copy_string(name, size, base ? base + 1 : target);
}

static int add_card(struct card_list *list, const char *pci_address,
		    struct ionpu_card **out)
{
	struct ionpu_card *card;

	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? 2 * list->capacity : 4;
		struct ionpu_card *cards;

		cards = realloc(list->cards, capacity * sizeof(*cards));
		if (!cards)
			return ionpu_error(-ENOMEM,
					   "out of memory listing cards");
		list->cards = cards;
		list->capacity = capacity;
	}
	card = &list->cards[list->count];
	memset(card, 0, sizeof(*card));
	card->index = -1;
	if (!copy_string(card->pci_address, sizeof(card->pci_address),
			 pci_address))
		return ionpu_error(-ENAMETOOLONG, "PCI address too long: %s",
				   pci_address);
	list->count++;
	*out = card;
	return 0;
}

static struct ionpu_card *find_card(struct card_list *list,
				    const char *pci_address)
{
	for (size_t i = 0; i < list->count; i++)
		if (!strcmp(list->cards[i].pci_address, pci_address))
			return &list->cards[i];
	return NULL;
}

/*
 * Open a directory that may legitimately be absent (no PCI bus, no ionpu
 * driver loaded): *@dir is NULL then and 0 returned.
 */
static int open_optional_dir(const char *path, DIR **dir)
{
	*dir = opendir(path);
	if (!*dir && errno != ENOENT)
		return ionpu_error_errno(-errno, "%s", path);
	return 0;
}

/* The next entry that is not hidden, NULL at the end; *@err on failure. */
static struct dirent *next_entry(DIR *dir, const char *path, int *err)
{
	struct dirent *entry;

	*err = 0;
	do {
		errno = 0;
		entry = readdir(dir);
	} while (entry && entry->d_name[0] == '.');
	if (!entry && errno)
		*err = ionpu_error_errno(-errno, "%s", path);
	return entry;
}

/* "ionpu<N>" with a plain decimal N gives N; anything else gives -1. */
static int class_index(const char *name)
{
	size_t prefix = strlen(IONPU_NAME);
	uint64_t index;

	if (strncmp(name, IONPU_NAME, prefix) ||
	    !ionpu_parse_decimal(name + prefix, INT_MAX, &index))
		return -1;
	return (int)index;
}

static int read_identity(const char *class_dir, struct ionpu_card *card)
{
	char value[ATTR_SIZE];
	uint64_t number;
	int ret;

	ret = read_attr(class_dir, "serial", value);
	if (ret)
		return ret;
	if (!valid_serial(value))
		return malformed(class_dir, "serial", value,
				 "up to 16 printable ASCII characters");
	strcpy(card->serial, value);

	ret = read_decimal_attr(class_dir, "tiles", UINT32_MAX, &number);
	if (ret)
		return ret;
	card->tiles = (uint32_t)number;

	ret = read_attr(class_dir, "hw_version", value);
	if (ret)
		return ret;
	if (!parse_hw_version(value, &card->hw_version_major,
			      &card->hw_version_minor))
		return malformed(class_dir, "hw_version", value, "MAJOR.MINOR");

	return read_decimal_attr(class_dir, "seed", UINT64_MAX, &card->seed);
}

/*
 * PCI address of the function behind @class_dir, from its "device" link.
 * Returns 1 when the class device vanished while we looked (unbound).
 */
static int class_pci_address(const char *class_dir, char *address, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t len;
	int ret;

	ret = make_path(path, "%s/device", class_dir);
	if (ret)
		return ret;
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0) {
		ret = -errno;
		if (ret == -ENOENT && access(class_dir, F_OK) &&
		    errno == ENOENT)
			return 1;
		return ionpu_error_errno(ret, "%s", path);
	}
	target[len] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!copy_string(address, size, base))
		return ionpu_error(-EPROTO, "%s: not a PCI device: %s", path,
				   target);
	return 0;
}

static int add_class_device(const char *class_dir, int index,
			    struct card_list *list)
{
	char address[IONPU_PCI_ADDR_SIZE], pci_dir[PATH_MAX];
	struct ionpu_card *card;
	int ret;

	ret = class_pci_address(class_dir, address, sizeof(address));
	if (ret)
		return ret < 0 ? ret : 0;
	card = find_card(list, address);
	if (card && card->driver_bound)
		return ionpu_error(-EPROTO,
				   "%s and %s both claim PCI device %s",
				   card->node, class_dir, address);
	if (!card) {
		ret = add_card(list, address, &card);
		if (ret)
			return ret;
	}
	card->index = index;
	card->driver_bound = true;
	snprintf(card->node, sizeof(card->node), "%s/%s%d", IONPU_DEV_ROOT,
		 IONPU_NAME, index);
	ret = make_path(pci_dir, "%s/device", class_dir);
	if (ret)
		return ret;
	read_driver_name(pci_dir, card->driver, sizeof(card->driver));
	return read_identity(class_dir, card);
}

static int scan_class(const char *root, struct card_list *list)
{
	char path[PATH_MAX], class_dir[PATH_MAX];
	struct dirent *entry;
	DIR *dir;
	int ret;

	ret = make_path(path, "%s/class/%s", root, IONPU_NAME);
	if (ret)
		return ret;
	ret = open_optional_dir(path, &dir);
	if (ret || !dir)
		return ret;
	while ((entry = next_entry(dir, path, &ret))) {
		int index = class_index(entry->d_name);

		if (index < 0)
			continue;
		ret = make_path(class_dir, "%s/%s", path, entry->d_name);
		if (ret)
			break;
		ret = add_class_device(class_dir, index, list);
		if (ret)
			break;
	}
	closedir(dir);
	return ret;
}

static void libpci_error(char *msg, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void libpci_error(char *msg, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(text, sizeof(text), msg, ap);
	va_end(ap);
	ionpu_error(-EIO, "libpci: %s", text);
	longjmp(*libpci_escape, 1);
}

/*
 * Warnings are what a vanished or unreadable function gives: it reads as
 * all ones and is skipped, so there is nothing to tell.  A library does not
 * write to stderr.
 */
static void libpci_warning(char *msg, ...)
	__attribute__((format(printf, 1, 2)));

static void libpci_warning(char *msg, ...)
{
	(void)msg;
}

/*
 * What libpci's scan would reject through its error callback: an entry of
 * the devices directory that is not a PCI address (it parses them the same
 * way), or a path too long for its buffers.  Returns 1 when the directory
 * is absent: no PCI bus, no card.
 */
static int check_pci_devices(const char *bus_dir)
{
	char path[PATH_MAX];
	struct dirent *entry;
	DIR *dir;
	int ret;

	if (strlen(bus_dir) > LIBPCI_PATH_MAX - LIBPCI_PATH_SLACK)
		return ionpu_error(-ENAMETOOLONG,
				   "path too long for libpci (%zu bytes, at most %d): %s",
				   strlen(bus_dir),
				   LIBPCI_PATH_MAX - LIBPCI_PATH_SLACK,
				   bus_dir);
	ret = make_path(path, "%s/devices", bus_dir);
	if (ret)
		return ret;
	ret = open_optional_dir(path, &dir);
	if (ret || !dir)
		return ret ? ret : 1;
	while ((entry = next_entry(dir, path, &ret))) {
		unsigned int domain, bus, slot;
		int function;

		if (sscanf(entry->d_name, "%x:%x:%x.%d", &domain, &bus, &slot,
			   &function) < 4 ||
		    domain > 0x7fffffff) {
			ret = ionpu_error(-EPROTO, "%s/%s: not a PCI address",
					  path, entry->d_name);
			break;
		}
	}
	closedir(dir);
	return ret;
}

/*
 * Add @d to @list if it is an IONPU function or a class device already put
 * it there, with the driver bound to it.  Calls into libpci, so only from
 * under scan_pci_bus()'s escape.
 */
static int add_pci_function(struct pci_dev *d, const char *bus_dir,
			    struct card_list *list)
{
	char address[IONPU_PCI_ADDR_SIZE], pci_dir[PATH_MAX];
	struct ionpu_card *card;
	int ret;

	snprintf(address, sizeof(address), "%04x:%02x:%02x.%d", d->domain,
		 d->bus, d->dev, d->func);
	card = find_card(list, address);
	if (!card) {
		/*
		 * From config space rather than PCI_FILL_IDENT: the sysfs
		 * method treats its "vendor" file as mandatory and fails
		 * through the error callback when the function is gone.
		 */
		if (pci_read_word(d, PCI_VENDOR_ID) != IONPU_PCI_VENDOR_ID ||
		    pci_read_word(d, PCI_DEVICE_ID) != IONPU_PCI_DEVICE_ID)
			return 0;
		ret = add_card(list, address, &card);
		if (ret)
			return ret;
	}
	ret = make_path(pci_dir, "%s/devices/%s", bus_dir, address);
	if (ret)
		return ret;
	read_driver_name(pci_dir, card->driver, sizeof(card->driver));
	return 0;
}

/*
 * *@param_set tells scan_pci_bus() whether pci_set_param() returned: when
 * it escapes (out of memory), libpci is left marking its default path, a
 * string it did not allocate, as its own to free.
 */
static int add_pci_functions(struct pci_access *pa, const char *bus_dir,
			     struct card_list *list, volatile bool *param_set)
{
	pci_set_param(pa, "sysfs.path", (char *)bus_dir);
	*param_set = true;
	pci_init(pa);
	pci_scan_bus(pa);
	for (struct pci_dev *d = pa->devices; d; d = d->next) {
		int ret = add_pci_function(d, bus_dir, list);

		if (ret)
			return ret;
	}
	return 0;
}

/* The PCI bus part, with libpci's sysfs method on @root's bus/pci. */
static int scan_pci_bus(const char *root, struct card_list *list)
{
	jmp_buf *const outer = libpci_escape;
	char bus_dir[PATH_MAX];
	volatile bool param_set = false;
	struct pci_access *pa;
	volatile int ret;
	jmp_buf escape;

	ret = make_path(bus_dir, "%s/bus/pci", root);
	if (ret)
		return ret;
	/* No bus to scan (> 0) is no card on it. */
	ret = check_pci_devices(bus_dir);
	if (ret)
		return ret < 0 ? ret : 0;
	pa = pci_alloc();
	pa->method = PCI_ACCESS_SYS_BUS_PCI;
	pa->error = libpci_error;
	pa->warning = libpci_warning;
	libpci_escape = &escape;
	if (!setjmp(escape))
		ret = add_pci_functions(pa, bus_dir, list, &param_set);
	else
		ret = -EIO;
	/*
	 * pci_cleanup() only frees; the escape stays set all the same.  After
	 * an escape from pci_set_param() it would free a string literal: the
	 * access is left to leak instead, out of memory as we are.
	 */
	if (param_set && !setjmp(escape))
		pci_cleanup(pa);
	libpci_escape = outer;
	return ret;
}

static int compare_cards(const void *a, const void *b)
{
	const struct ionpu_card *x = a, *y = b;

	return strcmp(x->pci_address, y->pci_address);
}

IONPU_API int ionpu_list(const char *sysfs_root, struct ionpu_card **cards,
			 size_t *count)
{
	struct card_list list = { 0 };
	const char *root = sysfs_root ? sysfs_root : IONPU_SYSFS_ROOT;
	struct stat st;
	int ret;

	if (!cards || !count)
		return ionpu_error(-EINVAL, "ionpu_list: NULL output argument");
	if (stat(root, &st))
		return ionpu_error_errno(-errno, "sysfs root %s", root);
	if (!S_ISDIR(st.st_mode))
		return ionpu_error(-ENOTDIR, "sysfs root %s: not a directory",
				   root);

	/*
	 * The class first: the bus scan then knows which functions it serves.
	 */
	ret = scan_class(root, &list);
	if (ret)
		goto err_free;
	ret = scan_pci_bus(root, &list);
	if (ret)
		goto err_free;
	if (list.count)
		qsort(list.cards, list.count, sizeof(*list.cards),
		      compare_cards);
	*cards = list.cards;
	*count = list.count;
	return 0;

err_free:
	free(list.cards);
	return ret;
}

IONPU_API void ionpu_list_free(struct ionpu_card *cards)
{
	free(cards);
}
