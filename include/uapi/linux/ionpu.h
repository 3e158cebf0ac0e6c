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
#define IONPU_API_VERSION	7

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
 * @resets: out: resets the card went through since the driver bound it
 *          (recovery from a hang, a function reset, an AER recovery); added
 *          in API version 3, so a caller's struct may end before it.
 *
 * A reset keeps leases but clears the volatile configuration of every tile
 * (neurons, routes, chains, state; docs/hardware.md, "Reset"), and makes
 * existing mmap() mappings fail with SIGBUS.  poll() on a file that leased
 * tiles when the card was reset reports EPOLLPRI until the file
 * acknowledges it with %IONPU_IOC_ACK_RESET (before API version 4, reading
 * INFO acknowledged it; INFO now has no side effect); the owner then
 * configures its tiles and maps them again.  Until it acknowledges, its
 * %IONPU_IOC_RUN and %IONPU_IOC_JOB fail with -ESTALE (since API version
 * 5), so that nothing runs on what the reset left; the cells' conductances
 * are non-volatile and need no programming again.
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
	__u64 resets;
};

/**
 * define IONPU_READOUT_TILE_SIZE - bytes of one tile in the readout window
 *
 * mmap() of the card's file maps its crossbar readout (docs/hardware.md,
 * "BAR2: crossbar readout"; cards whose caps in &struct ionpu_info have
 * bit 3, READOUT): the offset is the offset in the window, tile t starts
 * at t * %IONPU_READOUT_TILE_SIZE and the cell at row r, column c of a tile
 * is the little-endian __u32 at (r * 256 + c) * 4 in it (bits 15:0 the G+
 * code, 31:16 the G- code, in units of 10 nS).  Read it with aligned 2, 4
 * or 8 byte loads.  The mapping is read-only and uncached: PROT_WRITE gets
 * -EPERM.  Every tile the range touches must be leased by the file
 * (-EACCES), and the range must lie within the tiles (-EINVAL).  A card
 * without the window gets -ENODEV, one being reset -EIO.  Access to a page
 * gets SIGBUS once its tile is released, once the card is reset (map again
 * after the reset) and once the card is gone.
 */
#define IONPU_READOUT_TILE_SIZE	0x40000

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
 * struct ionpu_counters - activity counters, of the card or of one open file
 * @flags: in: 0 for the card's counters since its last reset, which need
 *         CAP_PERFMON (or CAP_SYS_ADMIN) since API version 7, or
 *         %IONPU_COUNTERS_FILE for the calling file's own (API version 7,
 *         a card whose caps have bit 9, rev 1.5).  Out: as given.
 * @reserved: in: must be zero.
 * @timesteps: timesteps run; for a file, by its runs and jobs.
 * @spikes_in: input spike events the host gave; for a file, to its tiles.
 * @spikes_out: neuron spikes, routed or not; for a file, of its tiles.
 * @synaptic_events: crossbar cells read by input events (a file: its tiles').
 * @program_pulses: SET/RESET pulses applied to cells (a file: its tiles').
 * @busy_ns: modeled time the fabric was busy, in ns.  For a file, the sum
 *           of its tiles' own busy times, which work side by side: it may
 *           exceed the card's.
 * @energy_fj: modeled energy, in fJ (docs/physics.md gives the constants).
 * @events_dropped: output spike events lost to a full event ring; for a
 *                  file, its tiles' events lost to its own full queue.
 * @learn_pulses: pulses the tiles' learning engines applied (%IONPU_IOC_TEACH);
 *                added in API version 4, so a caller's struct may end
 *                before it; 0 on a card without %IONPU_CAP_LEARN.
 * @learn_energy_fj: modeled energy of those pulses, in fJ, also counted in
 *                   @energy_fj; added in API version 4.
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
	__u64 learn_pulses;
	__u64 learn_energy_fj;
};

/*
 * Flag of &struct ionpu_counters: what the calling file's tiles did while it
 * leased them (a released tile's count up to its release included), and
 * the timesteps its runs and jobs ran.  Only what the card counted since
 * its last reset is there: a reset loses the rest.
 */
#define IONPU_COUNTERS_FILE	(1U << 0)

/* Tile modes and neuron models of &struct ionpu_configure (docs/physics.md). */
#define IONPU_MODE_OFF		0
#define IONPU_MODE_IDEAL	1
#define IONPU_MODE_PHYSICAL	2
#define IONPU_MODEL_LIF		0
#define IONPU_MODEL_IF		1
#define IONPU_MODEL_LI		2
#define IONPU_MODEL_CUBALIF	3

/* Flags of &struct ionpu_configure. */
#define IONPU_CONFIGURE_SET_TILE	(1U << 0)
#define IONPU_CONFIGURE_SET_CHAIN	(1U << 1)

/*
 * Payload entries.  They are the card's own layouts (docs/hardware.md,
 * "Commands"), copied to it unchanged, so every multi-byte field is little
 * endian.  Fields named f32 hold the bits of an IEEE 754 binary32.
 */

/**
 * struct ionpu_neuron - parameters of one neuron
 * @tau: f32: membrane time constant, s.
 * @tau_syn: f32: synaptic time constant, s.
 * @r: f32: membrane resistance.
 * @v_leak: f32: leak potential.
 * @v_threshold: f32: firing threshold.
 * @v_reset: f32: potential after a spike.
 * @w_in: f32: weight of the neuron's input.
 * @refractory: timesteps the neuron rests after a spike.
 */
struct ionpu_neuron {
	__u32 tau;
	__u32 tau_syn;
	__u32 r;
	__u32 v_leak;
	__u32 v_threshold;
	__u32 v_reset;
	__u32 w_in;
	__u32 refractory;
};

/* The neuron's spikes go to the output-spike event stream. */
#define IONPU_ROUTE_TO_HOST	(1U << 0)

/**
 * struct ionpu_route - header of one route record
 * @neuron: the neuron of the tile whose route this is, 0..255.
 * @flags: 0 or %IONPU_ROUTE_TO_HOST.
 * @reserved: must be zero.
 * @targets: number of &struct ionpu_route_target that follow, 0..256.
 * @reserved2: must be zero.
 */
struct ionpu_route {
	__u16 neuron;
	__u8 flags;
	__u8 reserved;
	__u16 targets;
	__u16 reserved2;
};

/**
 * struct ionpu_route_target - one target of a route
 * @tile: the target tile; must be leased by the caller.
 * @row: the crossbar row of that tile the spike drives.
 * @delay: axonal delay, 0..255 timesteps: a spike of timestep t arrives as
 *         input of timestep t + 1 + @delay.
 * @reserved: must be zero.
 */
struct ionpu_route_target {
	__u16 tile;
	__u16 row;
	__u16 delay;
	__u16 reserved;
};

/* Devices of a cell. */
#define IONPU_DEVICE_GPLUS	0
#define IONPU_DEVICE_GMINUS	1

/**
 * struct ionpu_cell_prog - one cell to program to a target
 * @row: crossbar row.
 * @column: crossbar column (neuron).
 * @device: %IONPU_DEVICE_GPLUS or %IONPU_DEVICE_GMINUS.
 * @reserved: must be zero.
 * @budget: most pulses to spend, at least 1.
 * @target: f32: conductance to reach, µS, 1.0 to 101.0.
 * @tolerance: f32: how close is close enough, µS, at least 0.
 */
struct ionpu_cell_prog {
	__u16 row;
	__u16 column;
	__u8 device;
	__u8 reserved;
	__u16 budget;
	__u32 target;
	__u32 tolerance;
};

/* Outcomes in &struct ionpu_cell_result.status. */
#define IONPU_CELL_OK		0
#define IONPU_CELL_BUDGET	1
#define IONPU_CELL_STUCK	2

/**
 * struct ionpu_cell_result - what programming one cell achieved
 * @conductance: f32: the final verify read, µS.
 * @pulses: pulses used, saturated at 65535.
 * @status: %IONPU_CELL_OK (within tolerance), %IONPU_CELL_BUDGET (budget
 *          spent) or %IONPU_CELL_STUCK (stuck device).
 * @reserved: zero.
 */
struct ionpu_cell_result {
	__u32 conductance;
	__u16 pulses;
	__u8 status;
	__u8 reserved;
};

/**
 * struct ionpu_cell_read - one cell as the read circuit sees it
 * @g_plus: f32: conductance of the G+ device, µS.
 * @g_minus: f32: conductance of the G- device, µS.
 */
struct ionpu_cell_read {
	__u32 g_plus;
	__u32 g_minus;
};

/* Pulse kinds of &struct ionpu_pulse. */
#define IONPU_PULSE_SET		0
#define IONPU_PULSE_RESET	1

/**
 * struct ionpu_pulse - raw pulses for one device, without verify
 * @row: crossbar row.
 * @column: crossbar column.
 * @device: %IONPU_DEVICE_GPLUS or %IONPU_DEVICE_GMINUS.
 * @kind: %IONPU_PULSE_SET (raises) or %IONPU_PULSE_RESET (lowers).
 * @count: pulses, at least 1.
 */
struct ionpu_pulse {
	__u16 row;
	__u16 column;
	__u8 device;
	__u8 kind;
	__u16 count;
};

/**
 * struct ionpu_input - one input event
 * @row: the crossbar row it drives.
 * @tile: the tile of that row; must be leased by the caller.
 * @delay: the event is input of the next timestep to run plus @delay.
 * @value: f32: 1.0 for a spike, or a graded value; finite.
 */
struct ionpu_input {
	__u16 row;
	__u8 tile;
	__u8 delay;
	__u32 value;
};

/**
 * struct ionpu_configure - set a tile's mode and model and its neurons
 * @flags: in: any of %IONPU_CONFIGURE_SET_TILE (@mode, @model, @timestep,
 *         @input_gain apply; zero otherwise) and %IONPU_CONFIGURE_SET_CHAIN
 *         (@chain_head applies; zero otherwise).
 * @tile: in: the tile; leased by the caller.
 * @mode: in: %IONPU_MODE_OFF, %IONPU_MODE_IDEAL or %IONPU_MODE_PHYSICAL.
 * @model: in: %IONPU_MODEL_LIF, %IONPU_MODEL_IF, %IONPU_MODEL_LI or
 *         %IONPU_MODEL_CUBALIF.
 * @timestep: in: f32: the tile's timestep, s, > 0.
 * @input_gain: in: f32: input per µS of G+ - G- per unit of input.
 * @first: in: the neuron @neurons[0] configures; @first + @count <= 256.
 * @chain_head: in: the tile whose neurons this tile's column sums add to
 *              (@tile itself: unchain); leased by the caller.
 * @count: in: entries at @neurons, may be 0.
 * @reserved: in: must be zero.
 * @neurons: in: user address of @count &struct ionpu_neuron.
 */
struct ionpu_configure {
	__u32 flags;
	__u32 tile;
	__u32 mode;
	__u32 model;
	__u32 timestep;
	__u32 input_gain;
	__u32 first;
	__u32 chain_head;
	__u32 count;
	__u32 reserved;
	__u64 neurons;
};

/**
 * struct ionpu_routes - replace the routes of neurons of a tile
 * @flags: in: must be zero.
 * @tile: in: the tile whose neurons the records name; leased by the caller.
 * @records: in: route records at @routes, at least 1.
 * @size: in: their size in bytes, at most 1 MiB: each record is a
 *        &struct ionpu_route followed by its targets.
 * @routes: in: user address of the records.
 */
struct ionpu_routes {
	__u32 flags;
	__u32 tile;
	__u32 records;
	__u32 size;
	__u64 routes;
};

/**
 * struct ionpu_program - write and verify cells of a tile
 * @flags: in: must be zero.
 * @tile: in: the tile; leased by the caller.
 * @count: in: entries at @cells and @results, 1..65536.
 * @failed: out: entries whose status is not %IONPU_CELL_OK.
 * @cells: in: user address of @count &struct ionpu_cell_prog.
 * @results: in: user address of room for @count &struct ionpu_cell_result.
 */
struct ionpu_program {
	__u32 flags;
	__u32 tile;
	__u32 count;
	__u32 failed;
	__u64 cells;
	__u64 results;
};

/**
 * struct ionpu_read_cells - read a rectangle of cells of a tile
 * @flags: in: must be zero.
 * @tile: in: the tile; leased by the caller.
 * @row: in: first row.
 * @rows: in: rows, at least 1, inside the tile.
 * @column: in: first column.
 * @columns: in: columns, at least 1, inside the tile.
 * @cells: in: user address of room for @rows × @columns
 *         &struct ionpu_cell_read, written row-major.
 */
struct ionpu_read_cells {
	__u32 flags;
	__u32 tile;
	__u32 row;
	__u32 rows;
	__u32 column;
	__u32 columns;
	__u64 cells;
};

/**
 * struct ionpu_pulses - apply raw pulses to cells of a tile
 * @flags: in: must be zero.
 * @tile: in: the tile; leased by the caller.
 * @count: in: entries at @pulses and @results, 1..65536.
 * @reserved: in: must be zero.
 * @pulses: in: user address of @count &struct ionpu_pulse.
 * @results: in: user address of room for @count f32 (__u32): each device's
 *           conductance after its pulses, µS.
 */
struct ionpu_pulses {
	__u32 flags;
	__u32 tile;
	__u32 count;
	__u32 reserved;
	__u64 pulses;
	__u64 results;
};

/* Flags of &struct ionpu_learn. */
#define IONPU_LEARN_ENABLE	(1U << 0)

/**
 * struct ionpu_learn - turn a tile's learning engine on or off
 * @flags: in: %IONPU_LEARN_ENABLE to turn learning on with the rule below;
 *         0 to turn it off, and then every field below must be zero.
 * @tile: in: the tile; leased by the caller.
 * @amp_pot: in: f32: amplitude of a potentiating pulse, 0.0 to 1.0 of a
 *           full programming pulse.
 * @amp_dep: in: f32: amplitude of a depressing pulse, 0.0 to 1.0.
 * @pre_ref: in: f32: input events of a row that give a full-strength
 *           pulse (fewer scale it down), > 0.
 * @post_target: in: spikes of the taught neuron from which on it is not
 *               potentiated further.
 * @max_pulses: in: pulses one %IONPU_IOC_TEACH may apply, at least 1.
 * @reserved: in: must be zero.
 *
 * The rule is docs/physics.md's "Learning": while learning is on, runs
 * count the input events of each crossbar row and the spikes of each
 * neuron the tile feeds; a teach turns them into pulses on the tile's own
 * cells.  Turning learning on or off clears those counts.
 */
struct ionpu_learn {
	__u32 flags;
	__u32 tile;
	__u32 amp_pot;
	__u32 amp_dep;
	__u32 pre_ref;
	__u32 post_target;
	__u32 max_pulses;
	__u32 reserved;
};

/**
 * struct ionpu_teach - apply a tile's learning rule with a teacher neuron
 * @flags: in: must be zero.
 * @tile: in: the tile; leased by the caller, learning on.
 * @neuron: in: the neuron that should have fired for the example the tile
 *          saw since the last teach, 0..255.
 * @pulses: out: pulses the card applied.
 */
struct ionpu_teach {
	__u32 flags;
	__u32 tile;
	__u32 neuron;
	__u32 pulses;
};

#define IONPU_CALIB_LEN		4096

/**
 * struct ionpu_calib - read or write bytes of the calibration record
 * @flags: in: must be zero.
 * @offset: in: first byte of the record.
 * @length: in: bytes, at least 1; @offset + @length <= %IONPU_CALIB_LEN.
 * @reserved: in: must be zero.
 * @data: in: user address of the @length bytes.
 */
struct ionpu_calib {
	__u32 flags;
	__u32 offset;
	__u32 length;
	__u32 reserved;
	__u64 data;
};

/**
 * struct ionpu_spikes - queue input events
 * @flags: in: must be zero.
 * @count: in: entries at @events, 1..65536.
 * @events: in: user address of @count &struct ionpu_input.
 */
struct ionpu_spikes {
	__u32 flags;
	__u32 count;
	__u64 events;
};

/*
 * The longest RUN that ends by itself, since API version 4 (a longer one
 * is -EINVAL; 0 still runs until stopped).
 */
#define IONPU_RUN_MAX_TIMESTEPS		(1U << 24)

/*
 * A RUN holds the card's clock for at most this many timesteps at a time:
 * then each file with a job waiting gets one job in, in turn, before the
 * RUN goes on (since API version 4).
 */
#define IONPU_RUN_SLICE_TIMESTEPS	4096

/**
 * struct ionpu_run - run timesteps
 * @flags: in: 0 or %IONPU_RUN_NOWAIT.
 * @timesteps: in: timesteps to run, at most %IONPU_RUN_MAX_TIMESTEPS; 0
 *             runs until %IONPU_IOC_STOP or %IONPU_IOC_CANCEL.
 * @stopped: out: %IONPU_RUN_ENDED_STOP when %IONPU_IOC_STOP (or
 *           %IONPU_IOC_CANCEL) ended the run, %IONPU_RUN_ENDED_DEADLINE
 *           when @deadline_ns did, else 0.
 * @reserved: in: must be zero.
 * @ran: out: timesteps run (0 for %IONPU_RUN_NOWAIT).
 * @deadline_ns: in: absolute %CLOCK_MONOTONIC time in nanoseconds at which
 *               the run ends as if stopped, 0 for none; since API version
 *               6.  Only this run ends: the card is not reset and other
 *               files' work goes on.  A deadline already past ends the run
 *               before its first timestep.
 */
struct ionpu_run {
	__u32 flags;
	__u32 timesteps;
	__u32 stopped;
	__u32 reserved;
	__u64 ran;
	__u64 deadline_ns;
};

/* Why a run ended early: @stopped of &struct ionpu_run and &struct ionpu_wait. */
#define IONPU_RUN_ENDED_STOP		1
#define IONPU_RUN_ENDED_DEADLINE	2	/* since API version 6 */

/**
 * define IONPU_RUN_NOWAIT - %IONPU_IOC_RUN flag that starts a run and returns
 *
 * The run belongs to the calling open file until %IONPU_IOC_WAIT collects
 * its outcome; since API version 3.
 */
#define IONPU_RUN_NOWAIT	(1U << 0)

/**
 * struct ionpu_wait - wait for the calling file's %IONPU_RUN_NOWAIT run
 * @flags: in: must be zero.
 * @stopped: out: as in &struct ionpu_run.
 * @timeout_ns: in: absolute %CLOCK_MONOTONIC deadline of the wait (not of
 *              the run) in nanoseconds, 0 for none.
 * @ran: out: timesteps run.
 */
struct ionpu_wait {
	__u32 flags;
	__u32 stopped;
	__u64 timeout_ns;
	__u64 ran;
};

/**
 * struct ionpu_cancel - end the calling file's run and drop its jobs
 * @flags: in: must be zero.
 * @stopped: out: 1 when the file's run was in progress and ends, else 0.
 * @jobs: out: jobs of the file that were cancelled: waiting ones, and a
 *        running one, which ends at its next slice of
 *        %IONPU_RUN_SLICE_TIMESTEPS timesteps.
 * @reserved: in: must be zero.
 */
struct ionpu_cancel {
	__u32 flags;
	__u32 stopped;
	__u32 jobs;
	__u32 reserved;
};

/**
 * struct ionpu_ack_reset - acknowledge the card's resets
 * @flags: in: must be zero.
 * @reserved: in: must be zero.
 * @resets: out: resets the card went through since the driver bound it,
 *          as &struct ionpu_info.resets.
 */
struct ionpu_ack_reset {
	__u32 flags;
	__u32 reserved;
	__u64 resets;
};

/**
 * struct ionpu_stop - end the calling file's run
 * @flags: in: must be zero.
 * @stopped: out: 1 when the file's run was in progress and ends, else 0.
 */
struct ionpu_stop {
	__u32 flags;
	__u32 stopped;
};

/**
 * struct ionpu_reset_state - clear the state of the calling file's tiles
 * @flags: in: must be zero.
 * @reserved: in: must be zero.
 */
struct ionpu_reset_state {
	__u32 flags;
	__u32 reserved;
};

/* Job flags. */
#define IONPU_JOB_KEEP_STATE	(1U << 0)

/* Limits of one job. */
#define IONPU_JOB_MAX_TIMESTEPS	(1U << 24)
#define IONPU_JOB_MAX_INPUTS	(1U << 20)
#define IONPU_JOB_MAX_OUTPUTS	(1U << 20)

/**
 * struct ionpu_job_input - one input event of a job
 * @timestep: the job's timestep it is input of, 0 .. @timesteps - 1 of its
 *            &struct ionpu_job.
 * @value: f32: 1.0 for a spike, or a graded value; finite.
 * @row: the crossbar row it drives.
 * @tile: the tile of that row; must be leased by the caller.
 * @reserved: must be zero.
 * @reserved2: must be zero.
 */
struct ionpu_job_input {
	__u32 timestep;
	__u32 value;
	__u16 row;
	__u8 tile;
	__u8 reserved;
	__u32 reserved2;
};

/**
 * struct ionpu_job - one inference on the calling file's tiles
 * @flags: in: 0 or %IONPU_JOB_KEEP_STATE (do not clear the tiles' state
 *         first: the job continues where the file's last one stopped).
 * @timesteps: in: timesteps to run, 1..%IONPU_JOB_MAX_TIMESTEPS.
 * @in_count: in: entries at @inputs, 0..%IONPU_JOB_MAX_INPUTS.
 * @out_room: in: room at @outputs, in entries, 0..%IONPU_JOB_MAX_OUTPUTS.
 * @inputs: in: user address of @in_count &struct ionpu_job_input, in
 *          non-decreasing @timestep order.
 * @outputs: in: user address of room for @out_room &struct ionpu_event.
 *           Their @timestep counts from the job's first timestep (0).
 * @produced: out: output events the job's tiles produced, in the order the
 *            card emitted them; the first min(@produced, @out_room) are at
 *            @outputs, the rest are dropped.  When the card lost events
 *            (a full ring), the next event written carries
 *            %IONPU_EVENT_LOST.
 * @reserved: in: must be zero.
 * @deadline_ns: in: absolute %CLOCK_MONOTONIC time in nanoseconds by which
 *               the job must have ended, 0 for none; since API version 6.
 *               A job still waiting for the card then fails with
 *               -ETIMEDOUT without running; one that runs fails so at its
 *               next input window or slice of %IONPU_RUN_SLICE_TIMESTEPS,
 *               its events discarded.  Only this job ends: the card is not
 *               reset and other jobs go on.
 *
 * A job is what one inference needs, done as one unit: clear the state of
 * the file's tiles (neurons, pending inputs, spikes in flight), feed the
 * inputs, run the timesteps, collect the output spikes of the file's tiles.
 * The card has one clock, so jobs run one after another: a file's jobs in
 * the order it submitted them, and the files whose jobs wait in turn (round
 * robin), so a file with many jobs queued does not hold back another's;
 * a job is never interrupted by another file's work.
 * Output events of a job's tiles go to the job, not to read().
 *
 * The inputs reach the card window by window: those of timesteps
 * [256 k, 256 k + 255] are queued, in the order of @inputs, just before
 * timestep 256 k runs.  Inputs of one row and timestep add up in float in
 * the order the card received them, so a host reference that wants the
 * card's output bit for bit adds them in that order too.
 */
struct ionpu_job {
	__u32 flags;
	__u32 timesteps;
	__u32 in_count;
	__u32 out_room;
	__u64 inputs;
	__u64 outputs;
	__u32 produced;
	__u32 reserved;
	__u64 deadline_ns;
};

/**
 * struct ionpu_uring_job - the command area of an io_uring job submission
 * @job: user address of a &struct ionpu_job, which must stay valid until
 *       the completion arrives (its @produced is written then).
 * @flags: must be zero.
 * @size: the size of the caller's &struct ionpu_job, so that it can grow
 *        as ioctl arguments do (the rules above); 0 means its first
 *        version.  Since API version 4: before, it had to be zero.
 *
 * Submitted as %IORING_OP_URING_CMD with @cmd_op %IONPU_URING_CMD_JOB on a
 * ring of 64-byte (or 128-byte) entries; this struct fills the entry's
 * 16-byte command area.  The completion's res is the number of events
 * written to @outputs, or a negative errno as %IONPU_IOC_JOB returns
 * (-EAGAIN included: the submission is not queued then).  A thread may
 * submit and exit: its jobs still complete into its process's memory.
 * When the ring goes away, a job that has not started yet may be dropped
 * (res -ECANCELED); one that runs finishes first.  %IONPU_IOC_CANCEL and
 * closing the file cancel jobs submitted this way too.
 */
struct ionpu_uring_job {
	__u64 job;
	__u32 flags;
	__u32 size;
};

/* Events were lost before this one: the file's buffer or the card's ring was full. */
#define IONPU_EVENT_LOST	(1U << 1)

/**
 * struct ionpu_event - one output spike, as read() returns it
 * @timestep: the timestep the neuron fired in (its low 32 bits).
 * @neuron: the neuron, 0..255.
 * @tile: its tile (a chain's head tile for a chained tile).
 * @flags: %IONPU_EVENT_LOST or 0; other bits are zero.
 *
 * read() on the card's file returns the spikes of neurons whose route has
 * %IONPU_ROUTE_TO_HOST and whose tile the file leases, in the order the
 * card emitted them, as whole events (a buffer smaller than one event gets
 * -EINVAL).  It blocks until at least one event is there (interruptibly),
 * or fails with -EAGAIN for a file opened with O_NONBLOCK (and for
 * non-blocking io_uring reads); poll() reports EPOLLIN while events wait,
 * and EPOLLOUT while the card is there (write() never waits for room).
 * Once the card is gone read() fails with -ENODEV and poll() reports
 * EPOLLHUP.
 *
 * write() of an array of &struct ionpu_input queues them as
 * %IONPU_IOC_INPUT does, and fails as it does; a length that is not a whole
 * number of events (or more than 65536) is -EINVAL.  It waits for the card,
 * so a non-blocking io_uring or RWF_NOWAIT write gets -EAGAIN.
 */
struct ionpu_event {
	__u32 timestep;
	__u16 neuron;
	__u8 tile;
	__u8 flags;
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
 * -ENODEV once the card is gone.  A tile whose clean-up failed when it was
 * given back (see %IONPU_IOC_RELEASE) is cleaned up now, and the lease
 * fails as a command does (-EIO, -ETIMEDOUT, -ENOMEM) if that fails again.
 */
#define IONPU_IOC_LEASE		_IOWR(IONPU_IOCTL_BASE, 0x01, struct ionpu_lease)

/**
 * define IONPU_IOC_RELEASE - release tiles this open file leased
 *
 * Takes a &struct ionpu_release.  All or nothing: returns 0, or -EPERM when
 * a tile in @tiles is not leased by this file (none is released then),
 * -EINVAL for a bad field.
 *
 * A tile comes back clean, here and when its file is closed: before it is
 * free it is switched off, unchained, its routes are silenced, its state
 * and the spikes in flight towards it are cleared and every cell is wiped
 * to the lowest conductance, so the next tenant inherits nothing.  Tiles
 * the file keeps whose chain or routes reached a released tile are
 * unchained and silenced too (their network lost a part).  It first waits
 * for the file's commands that use its tiles (a job of the file to its
 * end); a fatal signal ends that wait with -EINTR, and nothing is
 * released.  The clean-up then waits for the card even when the process
 * is being killed; should it fail anyway, the tile is cleaned up at its
 * next lease.
 */
#define IONPU_IOC_RELEASE	_IOW(IONPU_IOCTL_BASE, 0x02, struct ionpu_release)

/**
 * define IONPU_IOC_COUNTERS - read the card's counters, or the file's
 *
 * Takes a &struct ionpu_counters.  -EPERM for the card's counters without
 * CAP_PERFMON: they tell what the other tenants do.  Asks the card, so it
 * may also fail with -ETIMEDOUT or -EIO when the card does not answer,
 * -EINTR on a fatal signal, -EOPNOTSUPP for a card without command queues
 * or, for %IONPU_COUNTERS_FILE, a card without per-tile counters (caps bit 9).
 */
#define IONPU_IOC_COUNTERS	_IOWR(IONPU_IOCTL_BASE, 0x03, struct ionpu_counters)

/*
 * Network commands.  They ask the card, so besides what each one lists they
 * may fail like %IONPU_IOC_COUNTERS: -ETIMEDOUT, -EIO, -EINTR, -ENODEV,
 * -EOPNOTSUPP.  -EINVAL is also what the card answers for a field or entry
 * it refuses (a value out of range, a NaN).
 *
 * Isolation: a command that names a tile (in the struct, in a payload entry
 * or as a route target) is refused with -EACCES, before it reaches the card,
 * unless the calling open file leases that tile.  RUN and JOB act on the
 * card's one clock and RESET_STATE on the file's tiles, so they are refused
 * with -EACCES unless the file leases at least one tile.  A tile the card
 * does not have is -EINVAL.  A count above the card's limits (65536
 * entries, 1 MiB of routes) is -EINVAL, an unreadable or unwritable user
 * address -EFAULT.
 *
 * Buffers: a payload or answer of 64 KiB or more (module parameter
 * sgl_threshold) that the driver does not check, i.e. PROGRAM's cells and
 * results, READ_CELLS' cells and RAW_PULSES' both, is pinned and reached by
 * the card in place on a card with scatter-gather lists.  An answer buffer
 * of that size must be memory that can be pinned writable (not a device's
 * mapping), else -EFAULT before the command has any effect.  Pinned pages
 * count against the caller's RLIMIT_MEMLOCK (unless it has CAP_IPC_LOCK):
 * an answer buffer past it is -ENOMEM, a payload past it is copied.  When such a
 * command fails with -ETIMEDOUT, -EINTR, -EIO or -ENODEV, the card may still
 * read or write those buffers until the driver has reset the card; the
 * driver keeps the pages pinned meanwhile, so their memory stays valid.
 */

/**
 * define IONPU_IOC_CONFIGURE - configure a tile and its neurons
 *
 * Takes a &struct ionpu_configure.  The tile settings apply first, then the
 * neurons in order; when the card refuses neuron i (-EINVAL) the neurons
 * before it are configured.  Configuring a neuron resets its state.
 */
#define IONPU_IOC_CONFIGURE	_IOW(IONPU_IOCTL_BASE, 0x10, struct ionpu_configure)

/**
 * define IONPU_IOC_ROUTES - replace the routes of neurons of a tile
 *
 * Takes a &struct ionpu_routes.  All or nothing.  Records that do not add up
 * to @size are -EINVAL; a target tile not leased by the caller -EACCES.
 */
#define IONPU_IOC_ROUTES	_IOW(IONPU_IOCTL_BASE, 0x11, struct ionpu_routes)

/**
 * define IONPU_IOC_PROGRAM - write and verify cells
 *
 * Takes a &struct ionpu_program.  Returns 0 when the card programmed the
 * cells, with each cell's outcome at @results and how many missed their
 * target in @failed.
 */
#define IONPU_IOC_PROGRAM	_IOWR(IONPU_IOCTL_BASE, 0x12, struct ionpu_program)

/**
 * define IONPU_IOC_READ_CELLS - read cells through the card's read circuit
 *
 * Takes a &struct ionpu_read_cells.
 */
#define IONPU_IOC_READ_CELLS	_IOW(IONPU_IOCTL_BASE, 0x13, struct ionpu_read_cells)

/**
 * define IONPU_IOC_RAW_PULSES - apply pulses without verify (calibration)
 *
 * Takes a &struct ionpu_pulses.  Needs CAP_SYS_ADMIN (else -EPERM) and the
 * tile's lease.
 */
#define IONPU_IOC_RAW_PULSES	_IOW(IONPU_IOCTL_BASE, 0x14, struct ionpu_pulses)

/**
 * define IONPU_IOC_READ_CALIB - read bytes of the calibration record
 *
 * Takes a &struct ionpu_calib.  Any opener may read.
 */
#define IONPU_IOC_READ_CALIB	_IOW(IONPU_IOCTL_BASE, 0x15, struct ionpu_calib)

/**
 * define IONPU_IOC_WRITE_CALIB - write bytes of the calibration record
 *
 * Takes a &struct ionpu_calib.  Needs CAP_SYS_ADMIN, else -EPERM.
 */
#define IONPU_IOC_WRITE_CALIB	_IOW(IONPU_IOCTL_BASE, 0x16, struct ionpu_calib)

/**
 * define IONPU_IOC_INPUT - queue input events
 *
 * Takes a &struct ionpu_spikes.  All or nothing: every event's tile must be
 * leased by the caller.
 */
#define IONPU_IOC_INPUT		_IOW(IONPU_IOCTL_BASE, 0x17, struct ionpu_spikes)

/**
 * define IONPU_IOC_RUN - run timesteps and wait until they are done
 *
 * Takes a &struct ionpu_run.  Waits as long as the run lasts (until its
 * @deadline_ns, if any), killably: a caller killed meanwhile sends a
 * %IONPU_IOC_STOP and waits for the run to end after its timestep.  Returns
 * 0 also when a STOP or the deadline ended the run (@stopped says which);
 * -EBUSY at once, without waiting, when a run or a job is in progress;
 * -EINVAL for more than %IONPU_RUN_MAX_TIMESTEPS; -ESTALE (since API
 * version 5) when the card was reset since the file leased tiles and the
 * file has not acknowledged it (&struct ionpu_info).
 * When it returns 0, every output spike of the run can be read().
 *
 * Fair share (since API version 4): a run holds the card's clock for
 * %IONPU_RUN_SLICE_TIMESTEPS timesteps at a time; when jobs wait, each
 * waiting file gets one job in, in turn, and the run then goes on.  The
 * card has one clock, so the run's tiles also advance while those jobs
 * run (without the run's inputs, which stay queued), and a job's tiles
 * while the run does.  A reset of the card between two slices ends the
 * run with -EIO.
 *
 * With %IONPU_RUN_NOWAIT (since API version 3) it starts the run and
 * returns 0 at once with @ran 0; %IONPU_IOC_WAIT waits for it.  The run
 * belongs to the open file: while it goes on, runs of any file get
 * -EBUSY, jobs of other files get their turns as above and jobs of the
 * same file -EBUSY; a second NOWAIT run of the file gets -EBUSY, and when
 * the file is closed (the last descriptor of it, as when its owner is
 * killed) the driver stops the run and waits for it to end.  A NOWAIT run
 * started before the outcome of the file's previous one was collected
 * drops that outcome.
 */
#define IONPU_IOC_RUN		_IOWR(IONPU_IOCTL_BASE, 0x18, struct ionpu_run)

/**
 * define IONPU_IOC_STOP - end the calling file's run after its timestep
 *
 * Takes a &struct ionpu_stop.  It ends a RUN the calling file started
 * (blocking, from another thread, or %IONPU_RUN_NOWAIT), whether or not the
 * file still leases tiles: after the current timestep, or at the latest at
 * the end of the current slice of %IONPU_RUN_SLICE_TIMESTEPS.  Another
 * file's run and a job go on: then, as when no run is in progress,
 * @stopped is 0.
 */
#define IONPU_IOC_STOP		_IOWR(IONPU_IOCTL_BASE, 0x19, struct ionpu_stop)

/**
 * define IONPU_IOC_RESET_STATE - clear the neuron state, pending inputs and
 * spikes in flight of the calling file's tiles; configuration, routes and
 * cells stay, and other files' tiles are not touched
 *
 * Takes a &struct ionpu_reset_state.  Needs a card that clears tiles
 * selectively (%IONPU_CAP_TILE_RESET, rev 1.2), else -EOPNOTSUPP.  It also
 * clears the tiles' learning traces (%IONPU_IOC_LEARN), as a job's state
 * reset does: each example a job shows starts them afresh.
 */
#define IONPU_IOC_RESET_STATE	_IOW(IONPU_IOCTL_BASE, 0x1a, struct ionpu_reset_state)

/**
 * define IONPU_IOC_JOB - run one job and wait for it
 *
 * Takes a &struct ionpu_job.  Waits killably while earlier jobs run and
 * while this one does (a job killed before it starts is dropped; one killed
 * while it runs finishes with its results discarded).  Returns 0 with
 * @produced set; -EACCES unless the file leases at least one tile and every
 * input's tile; -EINVAL for a bad field, an input out of order or out of
 * the job's timesteps; -EFAULT for a bad address; -EAGAIN when the file
 * has 4096 jobs submitted and not completed; -EBUSY when the file's own
 * %IONPU_RUN_NOWAIT run holds the card (the job does wait for other files'
 * runs) or a RUN whose caller was killed still goes on; -ECANCELED for a
 * job cancelled (%IONPU_IOC_CANCEL, a close) before it ended; -EOPNOTSUPP without
 * %IONPU_JOB_KEEP_STATE on a card that cannot clear tiles selectively (as
 * %IONPU_IOC_RESET_STATE); and what %IONPU_IOC_COUNTERS returns when the
 * card fails (-EIO when it was reset since the submission, -ENODEV once it
 * is gone); -ETIMEDOUT (since API version 6) when its @deadline_ns passed
 * first; -ESTALE (since API version 5) when it was reset before the
 * submission and the file has not acknowledged it (&struct ionpu_info).
 * The lease is checked again when the job starts.
 */
#define IONPU_IOC_JOB		_IOWR(IONPU_IOCTL_BASE, 0x1b, struct ionpu_job)

/**
 * define IONPU_IOC_WAIT - wait for the file's %IONPU_RUN_NOWAIT run to end
 *
 * Takes a &struct ionpu_wait; since API version 3.  Sleeps interruptibly
 * until the calling file's run ends, then returns its outcome as
 * %IONPU_IOC_RUN would have: 0 with @stopped and @ran set (every output
 * spike of the run can then be read()), or the run's error (-EIO when the
 * card was reset meanwhile, -ENODEV once it is gone).  The outcome is
 * returned once; the next WAIT gets -ENOENT, as does a WAIT of a file that
 * started no run (-ENODEV once the card is gone).  At @timeout_ns it
 * returns -ETIMEDOUT and the run goes on; a deadline already past only
 * polls.  A signal interrupts the wait, not the run: after a handler with
 * %SA_RESTART the call is restarted with the same absolute deadline,
 * otherwise it fails with -EINTR.  Needs no lease: a file that released
 * its tiles still collects its run.
 */
#define IONPU_IOC_WAIT		_IOWR(IONPU_IOCTL_BASE, 0x1c, struct ionpu_wait)

/**
 * define IONPU_IOC_LEARN - turn a tile's learning engine on or off
 *
 * Takes a &struct ionpu_learn; since API version 4.  Needs the tile's
 * lease (-EACCES) and a card with %IONPU_CAP_LEARN (caps bit 8, rev 1.4),
 * else -EOPNOTSUPP.  Turning learning on fails with -EBUSY while a run or
 * a job holds the card's clock (a run advances every tile), and holds the
 * clock itself while the card executes it (a RUN asked for meanwhile gets
 * -EBUSY, a job waits); turning learning off is allowed at any time.  A
 * rule the card refuses (NaN, a value out of range) is -EINVAL.  Learning
 * is turned off when the tile is released (or its file closed) and when
 * the card is reset.
 */
#define IONPU_IOC_LEARN		_IOW(IONPU_IOCTL_BASE, 0x1d, struct ionpu_learn)

/**
 * define IONPU_IOC_TEACH - apply a tile's learning rule
 *
 * Takes a &struct ionpu_teach; since API version 4.  Returns 0 with
 * @pulses set: the tile's cells changed as the rule says and are saved
 * like programmed ones.  -EINVAL when learning is off on the tile or
 * @neuron is out of range; -EBUSY while a run or a job holds the card's
 * clock, which the teach holds itself as %IONPU_IOC_LEARN does; -EACCES
 * and -EOPNOTSUPP as %IONPU_IOC_LEARN.
 */
#define IONPU_IOC_TEACH		_IOWR(IONPU_IOCTL_BASE, 0x1e, struct ionpu_teach)

/**
 * define IONPU_IOC_CANCEL - end the calling file's run and cancel its jobs
 *
 * Takes a &struct ionpu_cancel; since API version 4.  Stops the file's run
 * as %IONPU_IOC_STOP does, and cancels every job the file submitted and
 * has not completed, through %IONPU_IOC_JOB or io_uring: a job that waits
 * for the card never starts, a running one ends at the end of its current
 * slice of %IONPU_RUN_SLICE_TIMESTEPS timesteps; both complete with
 * -ECANCELED.  Closing a descriptor of the file cancels, the same way, the
 * jobs that the closing process submitted through it (so does the process'
 * exit), on kernels without io_uring's own cancellation too.
 */
#define IONPU_IOC_CANCEL	_IOWR(IONPU_IOCTL_BASE, 0x20, struct ionpu_cancel)

/**
 * define IONPU_IOC_ACK_RESET - acknowledge the card's resets
 *
 * Takes a &struct ionpu_ack_reset; since API version 4.  Ends the EPOLLPRI
 * that a reset raised on a file that leased tiles (see &struct ionpu_info)
 * and returns the reset count.
 */
#define IONPU_IOC_ACK_RESET	_IOWR(IONPU_IOCTL_BASE, 0x21, struct ionpu_ack_reset)

/**
 * define IONPU_URING_CMD_JOB - io_uring command op of a job submission
 *
 * The @cmd_op of an %IORING_OP_URING_CMD whose command area is a
 * &struct ionpu_uring_job: the job is queued behind earlier ones and the
 * submission returns at once; its completion comes when it is done.
 */
#define IONPU_URING_CMD_JOB	_IOW(IONPU_IOCTL_BASE, 0x40, struct ionpu_uring_job)

#endif /* _UAPI_LINUX_IONPU_H */
