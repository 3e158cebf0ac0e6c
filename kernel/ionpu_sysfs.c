// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: sysfs attributes of /sys/class/ionpu/ionpu<N>/, documented in
 * docs/ABI/sysfs-class-ionpu.  They show identity read at probe and driver
 * state, so they never touch the card.
 */
#include <linux/sysfs.h>

#include "ionpu_drv.h"

static struct ionpu_device *to_ionpu(struct device *dev)
{
	return container_of(dev, struct ionpu_device, dev);
}

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", to_ionpu(dev)->serial);
}
static DEVICE_ATTR_RO(serial);

static ssize_t tiles_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", to_ionpu(dev)->tiles);
}
static DEVICE_ATTR_RO(tiles);

static ssize_t tile_rows_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_ionpu(dev)->tile_rows);
}
static DEVICE_ATTR_RO(tile_rows);

static ssize_t tile_neurons_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_ionpu(dev)->tile_neurons);
}
static DEVICE_ATTR_RO(tile_neurons);

static ssize_t hw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	u32 v = to_ionpu(dev)->hw_version;

	return sysfs_emit(buf, "%u.%u\n", IONPU_VERSION_MAJOR(v),
			  IONPU_VERSION_MINOR(v));
}
static DEVICE_ATTR_RO(hw_version);

static ssize_t seed_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_ionpu(dev)->seed);
}
static DEVICE_ATTR_RO(seed);

/*
 * Which process uses the card is its owner's business and the admin's:
 * tile_owners is root's alone (a mode, not a credential check at read
 * time, which a file descriptor handed to a setuid reader would fool);
 * anyone may see which tiles are taken.  A tenant knows its own tiles from
 * its lease.
 */
static ssize_t tile_owners_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return ionpu_lease_show(to_ionpu(dev), IONPU_LEASE_SHOW_OWNERS, buf);
}
static DEVICE_ATTR_ADMIN_RO(tile_owners);

static ssize_t leased_tiles_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return ionpu_lease_show(to_ionpu(dev), IONPU_LEASE_SHOW_LEASED, buf);
}
static DEVICE_ATTR_RO(leased_tiles);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ionpu_device *idev = to_ionpu(dev);

	if (READ_ONCE(idev->gone))
		return sysfs_emit(buf, "gone\n");
	if (READ_ONCE(idev->resetting))
		return sysfs_emit(buf, "resetting\n");
	return sysfs_emit(buf, "%s\n", READ_ONCE(idev->dead) ? "dead" : "ok");
}
static DEVICE_ATTR_RO(state);

static ssize_t resets_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&to_ionpu(dev)->resets));
}
static DEVICE_ATTR_RO(resets);

static ssize_t last_reset_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	static const char * const names[] = {
		[IONPU_RESET_NONE] = "none",
		[IONPU_RESET_HANG] = "hang",
		[IONPU_RESET_REQUESTED] = "requested",
		[IONPU_RESET_PCI_ERROR] = "pci-error",
	};
	u8 why = READ_ONCE(to_ionpu(dev)->last_reset);

	return sysfs_emit(buf, "%s\n",
			  why < ARRAY_SIZE(names) ? names[why] : "unknown");
}
static DEVICE_ATTR_RO(last_reset);

static ssize_t hangs_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&to_ionpu(dev)->hangs));
}
static DEVICE_ATTR_RO(hangs);

static ssize_t sgl_commands_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(to_ionpu(dev)->q.sgl_cmds));
}
static DEVICE_ATTR_RO(sgl_commands);

static ssize_t sgl_bytes_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(to_ionpu(dev)->q.sgl_bytes));
}
static DEVICE_ATTR_RO(sgl_bytes);

static struct attribute *ionpu_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_tiles.attr,
	&dev_attr_tile_rows.attr,
	&dev_attr_tile_neurons.attr,
	&dev_attr_hw_version.attr,
	&dev_attr_seed.attr,
	&dev_attr_tile_owners.attr,
	&dev_attr_leased_tiles.attr,
	&dev_attr_state.attr,
	&dev_attr_resets.attr,
	&dev_attr_last_reset.attr,
	&dev_attr_hangs.attr,
	&dev_attr_sgl_commands.attr,
	&dev_attr_sgl_bytes.attr,
	NULL
};

static const struct attribute_group ionpu_group = {
	.attrs = ionpu_attrs,
};

/* resets_by_cause/: one file per &enum ionpu_reset_cause but "none". */
struct ionpu_cause_attr {
	struct device_attribute attr;
	enum ionpu_reset_cause cause;
};

static ssize_t resets_by_cause_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	const struct ionpu_cause_attr *ca =
		container_of(attr, struct ionpu_cause_attr, attr);

	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(to_ionpu(dev)->resets_by_cause[ca->cause]));
}

#define IONPU_CAUSE_ATTR(_name, _cause)					\
	static struct ionpu_cause_attr ionpu_cause_##_name = {		\
		.attr = __ATTR(_name, 0444, resets_by_cause_show, NULL),	\
		.cause = (_cause),					\
	}

IONPU_CAUSE_ATTR(hang, IONPU_RESET_HANG);
IONPU_CAUSE_ATTR(requested, IONPU_RESET_REQUESTED);
IONPU_CAUSE_ATTR(pci_error, IONPU_RESET_PCI_ERROR);

static struct attribute *ionpu_cause_attrs[] = {
	&ionpu_cause_hang.attr.attr,
	&ionpu_cause_requested.attr.attr,
	&ionpu_cause_pci_error.attr.attr,
	NULL
};

static const struct attribute_group ionpu_cause_group = {
	.name = "resets_by_cause",
	.attrs = ionpu_cause_attrs,
};

const struct attribute_group *ionpu_groups[] = {
	&ionpu_group,
	&ionpu_cause_group,
	NULL
};
