/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ionpu: user interface of the IONPU-1 neuromorphic accelerator driver.
 *
 * Rules every command follows, so that the interface can grow:
 *
 * - Structs are fixed width, 64-bit aligned and carry no pointers; user
 *   addresses travel as __u64.
 * - The size in the ioctl number is the caller's struct size.  The driver
 *   accepts any size from the command's first version up: fields a caller
 *   does not know are treated as zero on input and not written on output;
 *   bytes the driver does not know must be zero (else -E2BIG).
 * - A size below the first version's, a nonzero @flags bit that the command
 *   does not define or a nonzero reserved field gets -EINVAL.
 * - Unknown command numbers and a wrong direction get -ENOTTY.
 */
#ifndef _UAPI_LINUX_IONPU_H
#define _UAPI_LINUX_IONPU_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Version of this interface; bumped when a command or field is added. */
#define IONPU_API_VERSION	1

#define IONPU_SERIAL_LEN	16

/**
 * struct ionpu_info - identity and geometry of one card
 * @flags: in: must be zero.
 * @api_version: out: %IONPU_API_VERSION of the running driver.
 * @hw_version: out: the card's version, major in bits 31:16, minor in 15:0.
 * @caps: out: the card's capability bits (docs/hardware.md, CAPS register).
 * @tiles: out: number of crossbar tiles.
 * @tile_rows: out: crossbar rows (synaptic inputs) per tile.
 * @tile_neurons: out: neurons (crossbar columns) per tile.
 * @reserved: in: must be zero.
 * @seed: out: the seed the card draws its device variation from.
 * @serial: out: serial number, ASCII, NUL padded (not terminated when all
 *          %IONPU_SERIAL_LEN bytes are used).
 */
struct ionpu_info {
	__u32 flags;
	__u32 api_version;
	__u32 hw_version;
	__u32 caps;
	__u32 tiles;
	__u32 tile_rows;
	__u32 tile_neurons;
	__u32 reserved;
	__u64 seed;
	char serial[IONPU_SERIAL_LEN];
};

/* Lease exactly the tiles in &ionpu_lease.tiles rather than any free ones. */
#define IONPU_LEASE_EXACT	(1U << 0)

/**
 * struct ionpu_lease - lease tiles to the calling open file
 * @flags: in: 0 or %IONPU_LEASE_EXACT; other bits must be zero.
 * @count: in: without %IONPU_LEASE_EXACT, how many free tiles to lease (the
 *         lowest numbered free ones); with it, must be zero.
 * @tiles: in: with %IONPU_LEASE_EXACT, the tiles to lease as a bit mask
 *         (bit N = tile N); must be zero otherwise.  out: the tiles leased
 *         by this call.
 *
 * Tiles belong to the open file that leased them until it releases them or
 * is closed; no other file can use them.
 */
struct ionpu_lease {
	__u32 flags;
	__u32 count;
	__u64 tiles;
};

/**
 * struct ionpu_release - give leased tiles back
 * @flags: in: must be zero.
 * @reserved: in: must be zero.
 * @tiles: in: the tiles to release as a bit mask; every one must be leased
 *         by the calling open file.
 */
struct ionpu_release {
	__u32 flags;
	__u32 reserved;
	__u64 tiles;
};

/**
 * struct ionpu_counters - the card's activity counters since its last reset
 * @flags: in: must be zero.
 * @reserved: in: must be zero.
 * @timesteps: timesteps run.
 * @spikes_in: input spike events the host gave.
 * @spikes_out: neuron spikes, routed or not.
 * @synaptic_events: crossbar cells read by input events.
 * @program_pulses: SET/RESET pulses applied to cells.
 * @busy_ns: modeled time the fabric was busy, in ns.
 * @energy_fj: modeled energy, in fJ (docs/physics.md gives the constants).
 * @events_dropped: output spike events lost to a full event ring.
 */
struct ionpu_counters {
	__u32 flags;
	__u32 reserved;
	__u64 timesteps;
	__u64 spikes_in;
	__u64 spikes_out;
	__u64 synaptic_events;
	__u64 program_pulses;
	__u64 busy_ns;
	__u64 energy_fj;
	__u64 events_dropped;
};

#define IONPU_IOCTL_BASE	0xBD

/**
 * define IONPU_IOC_INFO - read the card's identity
 *
 * Takes a &struct ionpu_info.  Returns 0, or -EINVAL, -E2BIG, -EFAULT as the
 * rules above say, or -ENODEV once the card is gone.
 */
#define IONPU_IOC_INFO		_IOWR(IONPU_IOCTL_BASE, 0x00, struct ionpu_info)

/**
 * define IONPU_IOC_LEASE - lease tiles to this open file
 *
 * Takes a &struct ionpu_lease.  All or nothing: returns 0 with the tiles in
 * @tiles, or -EBUSY when the tiles asked for (or @count free tiles) are not
 * all free, -EINVAL for a tile the card does not have or a bad field,
 * -ENODEV once the card is gone.
 */
#define IONPU_IOC_LEASE		_IOWR(IONPU_IOCTL_BASE, 0x01, struct ionpu_lease)

/**
 * define IONPU_IOC_RELEASE - release tiles this open file leased
 *
 * Takes a &struct ionpu_release.  All or nothing: returns 0, or -EPERM when
 * a tile in @tiles is not leased by this file (none is released then),
 * -EINVAL for a bad field.
 */
#define IONPU_IOC_RELEASE	_IOW(IONPU_IOCTL_BASE, 0x02, struct ionpu_release)

/**
 * define IONPU_IOC_COUNTERS - read the card's counters
 *
 * Takes a &struct ionpu_counters.  Asks the card, so it may also fail with
 * -ETIMEDOUT or -EIO when the card does not answer, -EINTR on a fatal
 * signal, -EOPNOTSUPP for a card without command queues.
 */
#define IONPU_IOC_COUNTERS	_IOWR(IONPU_IOCTL_BASE, 0x03, struct ionpu_counters)

#endif /* _UAPI_LINUX_IONPU_H */
