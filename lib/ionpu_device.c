// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening a card and talking to it through its device node.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hw/ionpu_regs.h>
#include <linux/ionpu.h>

#include "ionpu_internal.h"

_Static_assert(sizeof(((struct ionpu_dev_info *)0)->serial) ==
		       IONPU_SERIAL_LEN + 1,
	       "serial of struct ionpu_dev_info must hold the kernel's");

struct ionpu_dev {
	int fd;
	char path[]; /* the node, for messages */
};

static int query_info(struct ionpu_dev *dev, struct ionpu_info *info)
{
	memset(info, 0, sizeof(*info));
	if (ioctl(dev->fd, IONPU_IOC_INFO, info) < 0) {
		if (errno == ENOTTY)
			return ionpu_error(-ENOTTY,
					   "%s: not an IONPU card (it does not answer IONPU_IOC_INFO)",
					   dev->path);
		if (errno == ENODEV)
			return ionpu_error(-ENODEV, "%s: the card is gone",
					   dev->path);
		return ionpu_error_errno(-errno, "%s: IONPU_IOC_INFO",
					 dev->path);
	}
	return 0;
}

static int open_node(const char *path, struct ionpu_dev **out)
{
	size_t path_size = strlen(path) + 1;
	struct ionpu_info info;
	struct ionpu_dev *dev;
	struct stat st;
	int ret;

	dev = malloc(sizeof(*dev) + path_size);
	if (!dev)
		return ionpu_error(-ENOMEM, "%s: out of memory", path);
	memcpy(dev->path, path, path_size);

	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = ionpu_error_errno(-errno, "%s", path);
		free(dev);
		return ret;
	}
	if (fstat(dev->fd, &st))
		ret = ionpu_error_errno(-errno, "%s", path);
	else if (!S_ISCHR(st.st_mode))
		ret = ionpu_error(-ENODEV, "%s: not a character device", path);
	else
		ret = query_info(dev, &info);
	if (ret) {
		ionpu_close(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

/* A run of @min to @max hex digits at *@s; *@s moves past it. */
static bool hex_run(const char **s, size_t min, size_t max)
{
	size_t n = 0;

	while (n < max && isxdigit((unsigned char)(*s)[n]))
		n++;
	*s += n;
	return n >= min && !isxdigit((unsigned char)**s);
}

/*
 * "dddd:bb:ss.f", or "bb:ss.f" meaning domain 0, into the lower-case form
 * sysfs uses.
 */
static bool parse_pci_address(const char *what, char *out, size_t size)
{
	const char *colon = strchr(what, ':');
	bool has_domain = colon && strchr(colon + 1, ':');
	const char *s = what;
	int len;

	if (has_domain && (!hex_run(&s, 4, 8) || *s++ != ':'))
		return false;
	if (!hex_run(&s, 2, 2) || *s++ != ':' || !hex_run(&s, 2, 2) ||
	    *s++ != '.' || *s < '0' || *s > '7' || s[1])
		return false;
	len = snprintf(out, size, "%s%s", has_domain ? "" : "0000:", what);
	if (len < 0 || (size_t)len >= size)
		return false;
	for (; *out; out++)
		*out = (char)tolower((unsigned char)*out);
	return true;
}

static int node_of_pci_address(const char *sysfs_root, const char *dev_root,
			       const char *address, char node[PATH_MAX])
{
	struct ionpu_card *cards;
	size_t count, i;
	int ret;

	ret = ionpu_list(sysfs_root, &cards, &count);
	if (ret)
		return ret;
	for (i = 0; i < count && strcmp(cards[i].pci_address, address); i++)
		;
	if (i == count)
		ret = ionpu_error(-ENODEV,
				  "%s: no IONPU card at this PCI address",
				  address);
	else if (!cards[i].driver_bound)
		ret = ionpu_error(-ENODEV,
				  "%s: the ionpu driver does not serve this card (bound driver: %s)",
				  address,
				  cards[i].driver[0] ? cards[i].driver :
						       "none");
	else if (snprintf(node, PATH_MAX, "%s/%s%d", dev_root, IONPU_NAME,
			  cards[i].index) >= PATH_MAX)
		ret = ionpu_error(-ENAMETOOLONG, "%s: device path too long",
				  dev_root);
	ionpu_list_free(cards);
	return ret;
}

int ionpu_open_at(const char *sysfs_root, const char *dev_root,
		  const char *what, struct ionpu_dev **out)
{
	char node[PATH_MAX], address[IONPU_PCI_ADDR_SIZE];
	uint64_t index;
	int ret;

	if (!what || !out)
		return ionpu_error(-EINVAL, "ionpu_open: NULL argument");
	if (what[0] == '/')
		return open_node(what, out);

	if (what[0] && strspn(what, "0123456789") == strlen(what)) {
		if (!ionpu_parse_decimal(what, INT_MAX, &index))
			return ionpu_error(-EINVAL,
					   "\"%s\": card index out of range",
					   what);
		if (snprintf(node, sizeof(node), "%s/%s%d", dev_root,
			     IONPU_NAME, (int)index) >= (int)sizeof(node))
			return ionpu_error(-ENAMETOOLONG,
					   "%s: device path too long",
					   dev_root);
		return open_node(node, out);
	}

	if (parse_pci_address(what, address, sizeof(address))) {
		ret = node_of_pci_address(sysfs_root, dev_root, address, node);
		return ret ? ret : open_node(node, out);
	}

	return ionpu_error(-EINVAL,
			   "\"%s\" is not a device node (/dev/ionpu0), a card index (0) or a PCI address (0000:00:03.0)",
			   what);
}

IONPU_API int ionpu_open(const char *what, struct ionpu_dev **out)
{
	return ionpu_open_at(IONPU_SYSFS_ROOT, IONPU_DEV_ROOT, what, out);
}

int ionpu_dev_ioctl(struct ionpu_dev *dev, unsigned long request, void *arg)
{
	return ionpu_ioctl(dev->fd, request, arg);
}

IONPU_API void ionpu_close(struct ionpu_dev *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	free(dev);
}

/* The card's CAPS bits and the library's, which do not follow the card's. */
static const struct {
	uint32_t hw;
	uint32_t lib;
} cap_map[] = {
	{ IONPU_CAP_FLR, IONPU_DEV_CAP_FLR },
	{ IONPU_CAP_TEST_IRQ, IONPU_DEV_CAP_TEST_IRQ },
	{ IONPU_CAP_QUEUES, IONPU_DEV_CAP_QUEUES },
	{ IONPU_CAP_READOUT, IONPU_DEV_CAP_READOUT },
	{ IONPU_CAP_NVSTORE, IONPU_DEV_CAP_NVSTORE },
	{ IONPU_CAP_FAULTS, IONPU_DEV_CAP_FAULTS },
	{ IONPU_CAP_TILE_RESET, IONPU_DEV_CAP_TILE_RESET },
	{ IONPU_CAP_SGL, IONPU_DEV_CAP_SGL },
};

static uint32_t translate_caps(uint32_t hw_caps)
{
	uint32_t caps = 0;

	for (size_t i = 0; i < sizeof(cap_map) / sizeof(cap_map[0]); i++)
		if (hw_caps & cap_map[i].hw)
			caps |= cap_map[i].lib;
	return caps;
}

IONPU_API int ionpu_info(struct ionpu_dev *dev, struct ionpu_dev_info *out)
{
	struct ionpu_info info;
	int ret;

	if (!dev || !out)
		return ionpu_error(-EINVAL, "ionpu_info: NULL argument");
	ret = query_info(dev, &info);
	if (ret)
		return ret;

	memset(out, 0, sizeof(*out));
	out->api_version = info.api_version;
	out->hw_version_major = (uint16_t)IONPU_VERSION_MAJOR(info.hw_version);
	out->hw_version_minor = (uint16_t)IONPU_VERSION_MINOR(info.hw_version);
	out->caps = translate_caps(info.caps);
	out->tiles = info.tiles;
	out->tile_rows = info.tile_rows;
	out->tile_neurons = info.tile_neurons;
	out->seed = info.seed;
	/* The kernel's serial is NUL padded but not terminated when full. */
	memcpy(out->serial, info.serial, sizeof(info.serial));
	out->serial[sizeof(info.serial)] = '\0';
	return 0;
}

IONPU_API int ionpu_activity(struct ionpu_dev *dev, struct ionpu_activity *out)
{
	struct ionpu_counters c = { 0 };
	int ret;

	if (!dev || !out)
		return ionpu_error(-EINVAL, "ionpu_activity: NULL argument");
	ret = ionpu_dev_ioctl(dev, IONPU_IOC_COUNTERS, &c);
	if (ret == -ENODEV)
		return ionpu_error(ret, "%s: the card is gone", dev->path);
	if (ret == -EPERM)
		return ionpu_error(ret,
				   "%s: the whole card's counters need CAP_PERFMON; ionpu_loaded_activity() gives a network's own",
				   dev->path);
	if (ret)
		return ionpu_error_errno(ret, "%s: IONPU_IOC_COUNTERS",
					 dev->path);
	ionpu_activity_from(&c, out);
	return 0;
}

void ionpu_activity_from(const struct ionpu_counters *c,
			 struct ionpu_activity *out)
{
	*out = (struct ionpu_activity){
		.timesteps = c->timesteps,
		.spikes_in = c->spikes_in,
		.spikes_out = c->spikes_out,
		.synaptic_events = c->synaptic_events,
		.program_pulses = c->program_pulses,
		.busy_ns = c->busy_ns,
		.energy_fj = c->energy_fj,
	};
}

int ionpu_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, request, arg);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/*
 * Tile leases belong to an open file, so each loaded network gets a file
 * of its own and cannot see or disturb another's tiles.
 */
int ionpu_dev_reopen(const struct ionpu_dev *dev)
{
	int fd = open(dev->path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return ionpu_error_errno(-errno, "%s", dev->path);
	return fd;
}

uint32_t ionpu_f32_bits(float v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

float ionpu_f32_value(uint32_t bits)
{
	float v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}
