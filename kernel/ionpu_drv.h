/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ionpu: driver-internal definitions shared by the files of ionpu.ko.
 */
#ifndef IONPU_DRV_H
#define IONPU_DRV_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/kfifo.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <hw/ionpu_regs.h>
#include <hw/ionpu_wire.h>
#include <linux/ionpu.h>

#define IONPU_NAME		"ionpu"
#define IONPU_MAX_CARDS		256

struct ionpu_device;

/* Entries of the submission and completion queues the driver sets up. */
#define IONPU_QUEUE_DEPTH	64
/* Commands in flight: one less than the depth, so a full SQ is told apart. */
#define IONPU_MAX_INFLIGHT	(IONPU_QUEUE_DEPTH - 1)

/*
 * A command id is its slot in bits 5:0 and the slot's generation, bumped
 * at each use, in bits 15:6: a stale or duplicated completion of an
 * earlier command of the same slot names another id and is dropped (as
 * NVMe's command ids carry a generation).  No slot is 63, so
 * IONPU_CID_UNKNOWN never names one.
 */
#define IONPU_CID_SLOT_BITS	6
#define IONPU_CID_GEN_MASK	(U16_MAX >> IONPU_CID_SLOT_BITS)
#define IONPU_CID(slot, gen)	((u16)((gen) << IONPU_CID_SLOT_BITS | (slot)))
#define IONPU_CID_SLOT(cid)	((cid) & (BIT(IONPU_CID_SLOT_BITS) - 1))
static_assert(BIT(IONPU_CID_SLOT_BITS) > IONPU_MAX_INFLIGHT);
static_assert(IONPU_CID_SLOT(IONPU_CID_UNKNOWN) >= IONPU_MAX_INFLIGHT);

struct ionpu_pin;

/**
 * struct ionpu_dma_buf - a command payload: a bounce buffer, or pinned user
 *	memory the card reaches through a list
 * @cpu: kernel address of the bounce buffer, NULL for none
 * @dma: what the command's address field holds: the bounce buffer's bus
 *	address, or that of @pin's scatter-gather list
 * @len: bytes of payload
 * @pin: the pages the card reaches through a list (the command says
 *	IONPU_SQE_FLAG_*_SGL): pinned user memory, or a large bounce buffer's
 *	own pages; NULL for a bounce buffer in coherent memory
 */
struct ionpu_dma_buf {
	void *cpu;
	dma_addr_t dma;
	size_t len;
	struct ionpu_pin *pin;
};

/*
 * The largest bounce buffer asked for in one piece of coherent memory (an
 * order the page allocator does not find costly); a larger one is made of
 * single pages on a card that reads lists (ionpu_pin_bounce()).
 */
#define IONPU_BOUNCE_CONTIG_MAX	(PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER)

/* Which way ionpu_pin_sync() hands the driver's own pages. */
enum ionpu_sync {
	IONPU_SYNC_FOR_DEVICE,
	IONPU_SYNC_FOR_CPU,
};

/**
 * struct ionpu_slot - one command id and the command that holds it
 * @done: completed by the completion handler or by a queue kill
 * @busy: the id is taken
 * @completed: the card completed the command; @code and @result are valid
 * @abandoned: the submitter stopped waiting; the slot owns @in and @out and
 *	frees them when the card completes the command or stops for good
 * @timed: the command has a deadline (cmd_timeout_ms), unlike a RUN
 * @deadline: when a timed command is overdue, in jiffies
 * @gen: the slot's generation, bumped each time the slot is taken
 * @cid: the command id of the slot's current command, IONPU_CID()
 * @code: completion status, IONPU_SC_*
 * @result: the completion's result field
 * @in: payload the card reads
 * @out: buffer the card writes
 */
struct ionpu_slot {
	struct completion done;
	bool busy;
	bool completed;
	bool abandoned;
	bool timed;
	unsigned long deadline;
	u16 gen;
	u16 cid;
	u16 code;
	u64 result;
	struct ionpu_dma_buf in;
	struct ionpu_dma_buf out;
};

/**
 * struct ionpu_queues - the host side of the card's command queues
 * @sq: submission queue ring, IONPU_QUEUE_DEPTH entries
 * @sq_dma: its bus address
 * @cq: completion queue ring, IONPU_QUEUE_DEPTH entries
 * @cq_dma: its bus address
 * @lock: protects everything below and the slots' flags
 * @sq_tail: next SQ entry the driver fills
 * @sq_cid: command id of each SQ entry, to name a command whose fetch failed
 * @cq_head: next CQ entry the driver reads
 * @cq_phase: phase bit that marks a new entry at @cq_head
 * @dead: 0 while commands are accepted, else the error submitters get
 *	(-ENODEV: the card is gone, -EIO: it is being reset)
 * @bad_cqes: completions that failed validation and were dropped
 * @sgl_cmds: commands submitted with a payload in pinned user memory
 * @sgl_bytes: bytes of those payloads, both directions
 * @slot_wait: woken when a slot frees up or the queues die
 * @reap_work: frees the buffers of abandoned commands the card completed,
 *	outside the interrupt thread
 * @slot: command slots, indexed by command id
 */
struct ionpu_queues {
	struct ionpu_hw_sqe *sq;
	dma_addr_t sq_dma;
	struct ionpu_hw_cqe *cq;
	dma_addr_t cq_dma;
	spinlock_t lock;	/* see kernel-doc */
	u32 sq_tail;
	u16 sq_cid[IONPU_QUEUE_DEPTH];
	u32 cq_head;
	bool cq_phase;
	int dead;
	unsigned long bad_cqes;
	u64 sgl_cmds;
	u64 sgl_bytes;
	wait_queue_head_t slot_wait;
	struct work_struct reap_work;
	struct ionpu_slot slot[IONPU_MAX_INFLIGHT];
};

/* Entries of the output-spike event ring, and of each file's event buffer. */
#define IONPU_EQ_DEPTH		4096

struct ionpu_file;
struct ionpu_job_sink;

/**
 * struct ionpu_events - the output-spike event ring and who gets its events
 * @ring: the ring, IONPU_EQ_DEPTH entries the card writes
 * @ring_dma: its bus address
 * @lock: protects everything below and every file's @events and @lost
 * @head: next entry the driver reads
 * @phase: phase bit that marks a new entry at @head
 * @owner: for each tile, the open file that leases it, or NULL
 * @sink: the running job, which takes the events of its tiles, or NULL
 * @wait: woken when events arrive for any file, and when the card goes
 */
struct ionpu_events {
	struct ionpu_hw_eqe *ring;
	dma_addr_t ring_dma;
	spinlock_t lock;	/* see kernel-doc */
	u32 head;
	bool phase;
	struct ionpu_file *owner[IONPU_MAX_TILES];
	struct ionpu_job_sink *sink;
	wait_queue_head_t wait;
};

/**
 * struct ionpu_job_sink - where the output events of a running job go
 * @tiles: the job's tiles; their events go here instead of to the file
 * @buf: room for @room events, stamped with the card's timesteps until the
 *	job ends and counts them from its start
 * @room: events @buf holds
 * @produced: events of @tiles taken, stored or not
 * @lost: the card dropped events since the last one stored
 */
struct ionpu_job_sink {
	u64 tiles;
	struct ionpu_event *buf;
	u32 room;
	u32 produced;
	bool lost;
};

/**
 * struct ionpu_runner - who runs the card's clock, and who waits for it
 * @wq: where each file's jobs run, one file's at a time per worker
 * @lock: protects @busy, @waiters, @owner, @run_file and @stop
 * @busy: a RUN slice or a job holds the card's clock
 * @waiters: who waits for the clock, first come first served: a job per
 *	file at most, and a RUN between two slices
 * @wait: woken when the clock changes hands and when a wait must end
 * @owner: the file whose RUN holds the clock; NULL for a job or nobody
 * @run_file: the file whose RUN is in progress, across its slices
 * @stop: a STOP or CANCEL asked @run_file's run to end
 * @stop_lock: held while a STOP is sent, and when the clock changes hands,
 *	so that it cannot between the check that the caller holds it and the
 *	STOP's arrival on the card
 */
struct ionpu_runner {
	struct workqueue_struct *wq;
	spinlock_t lock;	/* see kernel-doc */
	bool busy;
	struct list_head waiters;
	wait_queue_head_t wait;
	struct ionpu_file *owner;
	struct ionpu_file *run_file;
	bool stop;
	struct mutex stop_lock;	/* orders a STOP and a handover */
};

/*
 * How the submitter of a command waits (struct ionpu_cmd's @flags).
 * UNTIMED: as long as the card takes (RUN: as long as the run), not
 * cmd_timeout_ms.  NOWAIT: fail with -EBUSY rather than wait for a free
 * command slot.  UNKILLABLE: even with a fatal signal pending (a scrub at
 * close must finish; still bounded by cmd_timeout_ms and the queues dying).
 */
#define IONPU_CMD_UNTIMED	BIT(0)
#define IONPU_CMD_NOWAIT	BIT(1)
#define IONPU_CMD_UNKILLABLE	BIT(2)

/**
 * struct ionpu_cmd - a command for ionpu_cmd_exec()
 * @opcode: IONPU_OP_*
 * @tile: the tile the command addresses, 0 when none
 * @param: inline parameters
 * @in_len: bytes of payload the card reads, 0 for none
 * @out_len: bytes the card may write, 0 for none
 * @flags: IONPU_CMD_* flags
 */
struct ionpu_cmd {
	u8 opcode;
	u16 tile;
	u32 param[IONPU_SQE_PARAMS];
	size_t in_len;
	size_t out_len;
	unsigned int flags;
};

/* Commands a struct ionpu_cmd_batch has in flight at most. */
#define IONPU_BATCH_MAX		8
static_assert(IONPU_BATCH_MAX * 4 <= IONPU_MAX_INFLIGHT);

/**
 * struct ionpu_batch_entry - a command of a batch, between post and wait
 * @cmd: the command
 * @cid: its slot
 * @timeout: how long its wait may take
 * @ib: its payload, the batch's until the wait
 * @ob: room for its answer, the batch's until the wait
 * @out: where a bounced answer goes, or NULL
 * @result: where its completion's result goes, or NULL
 */
struct ionpu_batch_entry {
	struct ionpu_cmd cmd;
	unsigned int cid;
	long timeout;
	struct ionpu_dma_buf ib;
	struct ionpu_dma_buf ob;
	void *out;
	u64 *result;
};

/**
 * struct ionpu_cmd_batch - commands in flight together, waited for in order
 * @idev: the card
 * @n: commands posted and not yet waited for
 * @e: those commands, oldest first
 *
 * A command waited for alone costs the card's round trip each: a job's
 * few commands go together (ionpu_batch_add(), ionpu_batch_wait()).
 */
struct ionpu_cmd_batch {
	struct ionpu_device *idev;
	unsigned int n;
	struct ionpu_batch_entry e[IONPU_BATCH_MAX];
};

/**
 * struct ionpu_vector - one MSI-X vector and what it has delivered
 * @idev: the card the vector belongs to
 * @index: vector number, IONPU_VEC_*
 * @test_irqs: test interrupts handled on this vector since probe
 */
struct ionpu_vector {
	struct ionpu_device *idev;
	unsigned int index;
	atomic_t test_irqs;
};

/**
 * enum ionpu_reset_cause - why a card was last reset (sysfs last_reset)
 * @IONPU_RESET_NONE: it was not, since the driver bound it
 * @IONPU_RESET_HANG: the driver found it hung and reset it
 * @IONPU_RESET_REQUESTED: a function reset asked for through the PCI core,
 *	e.g. its sysfs "reset"
 * @IONPU_RESET_PCI_ERROR: the recovery from a PCI (AER) error
 * @IONPU_RESET_CAUSES: the number of causes
 */
enum ionpu_reset_cause {
	IONPU_RESET_NONE,
	IONPU_RESET_HANG,
	IONPU_RESET_REQUESTED,
	IONPU_RESET_PCI_ERROR,
	IONPU_RESET_CAUSES,
};

/**
 * struct ionpu_device - one IONPU-1 card
 * @dev: the char device's struct device; its refcount owns this struct,
 *	so open files keep it alive after the PCI device is gone
 * @cdev: the char device /dev/ionpu<minor>
 * @pdev: the PCI function; only valid while @gone is false
 * @regs: BAR0 mapping; only valid while @gone is false
 * @minor: char device minor, from the driver's IDA
 * @lock: taken for read by every user of @pdev and @regs, for write by
 *	remove and around a function reset, which change them
 * @gone: set once remove has run: every call then fails with -ENODEV
 * @irq_wait: woken by the interrupt threads and on removal
 * @test_lock: serializes interrupt self-tests
 * @vec: the card's MSI-X vectors
 * @hw_version: VERSION register, read at probe
 * @caps: CAPS register, read at probe
 * @tiles: TILES register, read at probe
 * @tile_rows: TILE_ROWS register, read at probe
 * @tile_neurons: TILE_NEURONS register, read at probe
 * @seed: SEED_HI:SEED_LO, read at probe
 * @serial: SERIAL0..3, read at probe, NUL terminated
 * @q: the command queues, when the card has them (IONPU_CAP_QUEUES)
 * @ev: the output-spike events, with the queues
 * @runner: serializes runs and jobs
 * @recover_work: resets a card that stopped answering
 * @recoveries: resets done by @recover_work
 * @watchdog: looks for a hung card while commands are outstanding
 * @hangs: times the driver found the card hung (a command timed out)
 * @resets: function resets the card went through since probe, whoever
 *	asked (recovery, sysfs "reset", AER); owners of tiles are told
 * @reset_for_hang: the reset about to run is @recover_work's
 * @last_reset: why the last of @resets happened, an &enum ionpu_reset_cause
 * @resets_by_cause: @resets counted by &enum ionpu_reset_cause, each
 *	changed with @lock for write (sysfs resets_by_cause/)
 * @hang_window: when the minute began in which hang resets are counted
 *	against max_hang_resets, with @lock for write
 * @hang_window_resets: hang resets in that minute, with @lock for write
 * @resetting: a reset or an AER recovery is in progress
 * @dead: the card did not come back from its last reset (or did not stop
 *	at removal): its queues fail with -ENODEV and bus mastering is off
 * @lease_lock: protects @leased, @dirty, @lease_pid and @lease_file
 * @leased: tiles leased by some open file, bit N = tile N
 * @dirty: free tiles whose scrub failed; their next lease scrubs them first
 * @lease_pid: for each leased tile, the process that leased it
 * @lease_file: for each leased tile, the open file that leased it
 * @tile_feeds: for each tile, the other tiles its chain or routes may have
 *	reached since it was last cleared (a superset): what a release must
 *	cut.  Commands of the tile's owner add bits concurrently (several
 *	threads may share a file, under its @use for read), so every change
 *	is atomic; a scrub clears it under the file's @use for write
 * @map_lock: taken for read by mmap() and page faults of the readout
 *	window, for write by a revocation; protects @map_err and @map_gen
 * @map_err: 0 while the readout window may be mapped, else the error
 *	mmap() returns (-EIO during a reset, -ENODEV once the card is gone)
 * @map_gen: bumped by every revocation; a mapping of an older one is dead
 * @readout_phys: bus address of the readout window (BAR2), 0 for none
 * @readout_len: bytes of the window a file may map: the tiles' windows
 * @debugfs: this card's debugfs directory
 */
struct ionpu_device {
	struct device dev;
	struct cdev cdev;
	struct pci_dev *pdev;
	void __iomem *regs;
	int minor;
	struct rw_semaphore lock;
	bool gone;
	wait_queue_head_t irq_wait;
	struct mutex test_lock;	/* see kernel-doc */
	struct ionpu_vector vec[IONPU_NUM_VECTORS];

	u32 hw_version;
	u32 caps;
	u32 tiles;
	u32 tile_rows;
	u32 tile_neurons;
	u64 seed;
	char serial[IONPU_SERIAL_LEN + 1];

	struct ionpu_queues q;
	struct ionpu_events ev;
	struct ionpu_runner runner;
	struct delayed_work recover_work;
	atomic_t recoveries;
	struct delayed_work watchdog;
	atomic_t hangs;
	atomic_t resets;
	bool reset_for_hang;
	u8 last_reset;
	unsigned int resets_by_cause[IONPU_RESET_CAUSES];
	unsigned long hang_window;
	unsigned int hang_window_resets;
	bool resetting;
	bool dead;

	struct mutex lease_lock;	/* see kernel-doc */
	u64 leased;
	u64 dirty;
	pid_t lease_pid[IONPU_MAX_TILES];
	struct ionpu_file *lease_file[IONPU_MAX_TILES];
	atomic64_t tile_feeds[IONPU_MAX_TILES];

	struct rw_semaphore map_lock;	/* see kernel-doc */
	int map_err;
	unsigned long map_gen;
	phys_addr_t readout_phys;
	resource_size_t readout_len;

	struct dentry *debugfs;
};

/**
 * struct ionpu_file_run - a file's run: its deadline, and its
 *	IONPU_RUN_NOWAIT run's state
 * @work: runs a NOWAIT run, holding the card's clock until the card ends it
 * @deadline_work: ends the file's run, NOWAIT or not, at its deadline
 * @deadline_hit: @deadline_work ended the run
 * @lock: protects @state and the outcome
 * @state: IONPU_RUN_NONE, IONPU_RUN_GOING or IONPU_RUN_ENDED
 * @timesteps: timesteps to run, 0 until a STOP
 * @resets: the card's reset count when the run was asked for
 * @deadline: when the run ends as if stopped, 0 for never
 * @ret: the outcome once ended, as ionpu_run_slices() returns it
 * @stopped: once ended, IONPU_RUN_ENDED_* or 0
 * @ran: timesteps run, once ended
 * @ended: woken when @state leaves IONPU_RUN_GOING
 */
struct ionpu_file_run {
	struct work_struct work;
	struct delayed_work deadline_work;
	bool deadline_hit;
	spinlock_t lock;	/* see kernel-doc */
	int state;
	u32 timesteps;
	int resets;
	ktime_t deadline;
	int ret;
	u32 stopped;
	u64 ran;
	wait_queue_head_t ended;
};

/**
 * struct ionpu_file - what one open file of a card holds
 * @idev: the card, referenced for as long as the file is open
 * @use: held for read by a command while it uses this file's tiles, for
 *	write by a release of tiles, so no tile is released (and leased by
 *	another file) between a command's lease check and its completion
 * @tiles: the tiles this file leased, bit N = tile N
 * @events: output spikes of this file's tiles not read yet
 * @lost: events of this file were dropped; the next one read says so
 * @mapping: the file's address_space, where its readout mappings live
 * @reset_seen: the card was reset while this file leased tiles, and the
 *	file has not read INFO since: poll() reports EPOLLPRI
 * @file: the open file this is the private data of
 * @jobs: jobs of this file submitted and not freed yet
 * @job_lock: protects @job_queue and @job_running
 * @job_queue: jobs submitted that have not started, in order
 * @job_running: the job @job_work runs, or NULL
 * @job_work: runs the file's jobs, one at a time
 * @run: the file's run started with IONPU_RUN_NOWAIT
 * @counted_lock: protects @counted
 * @counted: what the file's tiles did, gathered from the card so far, and
 *	the timesteps its runs and jobs ran
 * @events_dropped: events of this file's tiles that found @events full;
 *	protected by the card's &ionpu_events.lock
 */
struct ionpu_file {
	struct ionpu_device *idev;
	struct rw_semaphore use;
	u64 tiles;
	DECLARE_KFIFO_PTR(events, struct ionpu_event);
	bool lost;
	struct address_space *mapping;
	bool reset_seen;
	struct file *file;
	atomic_t jobs;
	spinlock_t job_lock;	/* see kernel-doc */
	struct list_head job_queue;
	struct ionpu_kjob *job_running;
	struct work_struct job_work;
	struct ionpu_file_run run;
	spinlock_t counted_lock;	/* see kernel-doc */
	struct ionpu_counters counted;
	u64 events_dropped;
};

/*
 * How ionpu_ubuf_get() takes a buffer: always through a kernel copy, or in
 * place when it is large and the driver never looks at its content.
 */
enum ionpu_ubuf_how {
	IONPU_UBUF_BOUNCE,
	IONPU_UBUF_MAY_PIN,
};

/**
 * struct ionpu_ubuf - a user buffer of a command, taken before the card's lock
 * @uptr: user address
 * @len: bytes, 0 for none
 * @dir: DMA_FROM_DEVICE for an answer the card writes, DMA_TO_DEVICE for a
 *	payload it reads
 * @kbuf: the kernel copy of a bounced buffer: the payload, or the answer
 * @pin: the pinned pages of a buffer the card reaches in place, until
 *	ionpu_ubuf_dma() hands them to the command
 */
struct ionpu_ubuf {
	u64 uptr;
	size_t len;
	enum dma_data_direction dir;
	void *kbuf;
	struct ionpu_pin *pin;
};

/*
 * What a command checks under the card's lock and its file's use of
 * @tiles, on the kernel's copy of its payload @in, right before it runs.
 */
typedef int ionpu_ubuf_check_fn(struct ionpu_device *idev, u64 tiles,
				const struct ionpu_ubuf *in, const void *arg);

static inline u32 ionpu_rd(struct ionpu_device *idev, u32 reg)
{
	return ioread32(idev->regs + reg);
}

static inline void ionpu_wr(struct ionpu_device *idev, u32 reg, u32 val)
{
	iowrite32(val, idev->regs + reg);
}

/*
 * Deadlines in the UAPI (a run's, a job's, a wait's) are absolute
 * CLOCK_MONOTONIC nanoseconds, 0 for none; as a ktime_t, 0 stays none.
 */
static inline ktime_t ionpu_deadline(u64 ns)
{
	return min_t(u64, ns, KTIME_MAX);
}

static inline bool ionpu_deadline_passed(ktime_t deadline)
{
	return deadline && ktime_after(ktime_get(), deadline);
}

/* Jiffies from now until @deadline, rounded up; forever for none. */
static inline long ionpu_deadline_jiffies(ktime_t deadline)
{
	s64 ns;

	if (!deadline)
		return MAX_SCHEDULE_TIMEOUT;
	ns = ktime_to_ns(ktime_sub(deadline, ktime_get()));
	if (ns <= 0)
		return 0;
	return min_t(u64, nsecs_to_jiffies64(ns) + 1, MAX_SCHEDULE_TIMEOUT - 1);
}

/* The size of &struct ionpu_job's first version, which callers may still pass. */
#define IONPU_JOB_FIRST_SIZE	offsetofend(struct ionpu_job, reserved)

/* ionpu_cdev.c */
int ionpu_cdev_init(void);
void ionpu_cdev_exit(void);
struct ionpu_device *ionpu_cdev_alloc(struct device *parent);
int ionpu_cdev_add(struct ionpu_device *idev);
void ionpu_cdev_del(struct ionpu_device *idev);

/* ionpu_pci.c */
void ionpu_recover(struct ionpu_device *idev);

/* ionpu_mmap.c */
int ionpu_mmap_init(struct ionpu_device *idev);
int ionpu_mmap(struct file *file, struct vm_area_struct *vma);
void ionpu_mmap_revoke(struct ionpu_device *idev, int err);
void ionpu_mmap_restore(struct ionpu_device *idev);
void ionpu_mmap_revoke_tiles(struct ionpu_file *f, u64 tiles);

/* ionpu_watchdog.c */
void ionpu_watchdog_init(struct ionpu_device *idev);
void ionpu_watchdog_kick(struct ionpu_device *idev);
void ionpu_watchdog_stop(struct ionpu_device *idev);

/* ionpu_queue.c */
int ionpu_queue_init(struct ionpu_device *idev);
void ionpu_queue_start(struct ionpu_device *idev);
void ionpu_queue_kill(struct ionpu_device *idev, int err);
void ionpu_queue_reclaim(struct ionpu_device *idev);
void ionpu_queue_reap_stop(struct ionpu_device *idev);
void ionpu_queue_complete(struct ionpu_device *idev);
bool ionpu_queue_outstanding(struct ionpu_device *idev, bool *overdue);
int ionpu_queue_probe(struct ionpu_device *idev);
int ionpu_buf_alloc(struct ionpu_device *idev, struct ionpu_dma_buf *buf,
		    size_t len);
int ionpu_buf_from(struct ionpu_device *idev, struct ionpu_dma_buf *buf,
		   const void *data, size_t len);
void ionpu_buf_free(struct ionpu_device *idev, struct ionpu_dma_buf *buf);
int ionpu_cmd_finish(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
		     struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
		     void *out, u64 *result);
int ionpu_cmd_exec(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
		   const void *in, void *out, u64 *result);
int ionpu_cmd_submit(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
		     struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
		     u64 *result);
void ionpu_batch_init(struct ionpu_cmd_batch *b, struct ionpu_device *idev);
int ionpu_batch_add(struct ionpu_cmd_batch *b, const struct ionpu_cmd *cmd,
		    struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
		    void *out, u64 *result);
int ionpu_batch_wait(struct ionpu_cmd_batch *b);

/* ionpu_pin.c */
bool ionpu_pin_fits(u64 uaddr, size_t len);
struct ionpu_pin *ionpu_pin_user(u64 uaddr, size_t len,
				 enum dma_data_direction dir);
int ionpu_pin_map(struct ionpu_device *idev, struct ionpu_pin *pin,
		  dma_addr_t *sgl);
void ionpu_pin_free(struct ionpu_device *idev, struct ionpu_pin *pin);
int ionpu_pin_bounce(struct ionpu_device *idev, struct ionpu_dma_buf *buf);
void ionpu_pin_sync(struct ionpu_device *idev, struct ionpu_pin *pin,
		    enum ionpu_sync to);
size_t ionpu_pin_user_bytes(const struct ionpu_pin *pin);

/* ionpu_scrub.c */
int ionpu_scrub_tiles(struct ionpu_device *idev, u64 tiles);

/* ionpu_lease.c */
int ionpu_lease(struct ionpu_file *f, struct ionpu_lease *arg);
/* Whether ionpu_release_tiles() may give up on a fatal signal. */
enum ionpu_release_how {
	IONPU_RELEASE_KILLABLE,
	IONPU_RELEASE_ALWAYS,
};

int ionpu_release_tiles(struct ionpu_file *f, u64 tiles,
			enum ionpu_release_how how);
void ionpu_release_all(struct ionpu_file *f);
/* What ionpu_lease_show() tells of each tile. */
enum ionpu_lease_view {
	IONPU_LEASE_SHOW_OWNERS,	/* the process that leased it */
	IONPU_LEASE_SHOW_LEASED,	/* only whether it is leased */
};

ssize_t ionpu_lease_show(struct ionpu_device *idev, enum ionpu_lease_view view,
			 char *buf);
void ionpu_lease_reset(struct ionpu_device *idev);
__poll_t ionpu_lease_poll(struct ionpu_file *f);
u64 ionpu_lease_ack_reset(struct ionpu_file *f);
int ionpu_lease_fresh(struct ionpu_file *f, int *resets);
int ionpu_tile_check(struct ionpu_device *idev, u64 tiles, u32 tile);
int ionpu_use_begin(struct ionpu_file *f, u64 *tiles);
void ionpu_use_end(struct ionpu_file *f);

/* ionpu_ubuf.c */
int ionpu_ubuf_get(struct ionpu_device *idev, struct ionpu_ubuf *ub,
		   u64 uptr, size_t count, size_t size,
		   enum dma_data_direction dir, enum ionpu_ubuf_how how);
void ionpu_ubuf_put(struct ionpu_device *idev, struct ionpu_ubuf *ub);
int ionpu_ubuf_submit(struct ionpu_file *f, const struct ionpu_cmd *cmd,
		      struct ionpu_ubuf *in, struct ionpu_ubuf *out,
		      ionpu_ubuf_check_fn *check, const void *arg, u64 *result);

/* ionpu_net.c */
int ionpu_ioctl_configure(struct ionpu_file *f, void *arg);
int ionpu_ioctl_routes(struct ionpu_file *f, void *arg);
int ionpu_ioctl_program(struct ionpu_file *f, void *arg);
int ionpu_ioctl_read_cells(struct ionpu_file *f, void *arg);
int ionpu_ioctl_raw_pulses(struct ionpu_file *f, void *arg);
int ionpu_ioctl_read_calib(struct ionpu_file *f, void *arg);
int ionpu_ioctl_write_calib(struct ionpu_file *f, void *arg);

/* ionpu_learn.c */
int ionpu_ioctl_learn(struct ionpu_file *f, void *arg);
int ionpu_ioctl_teach(struct ionpu_file *f, void *arg);
int ionpu_learn_off(struct ionpu_device *idev, u32 tile);

/* ionpu_run.c */
void ionpu_clock_init(struct ionpu_device *idev);
bool ionpu_clock_try(struct ionpu_device *idev);
typedef int ionpu_clock_why_fn(void *arg);
int ionpu_clock_wait(struct ionpu_device *idev, ionpu_clock_why_fn *why,
		     void *arg, ktime_t deadline);
void ionpu_clock_put(struct ionpu_device *idev);
int ionpu_ioctl_input(struct ionpu_file *f, void *arg);
ssize_t ionpu_write_iter(struct kiocb *iocb, struct iov_iter *from);
void ionpu_run_cmd(struct ionpu_cmd *cmd, u32 timesteps);
int ionpu_run_steps(struct ionpu_device *idev, u32 timesteps, u64 *ran);
bool ionpu_file_running(struct ionpu_file *f);
void ionpu_run_open(struct ionpu_file *f);
void ionpu_run_close(struct ionpu_file *f);
int ionpu_ioctl_run(struct ionpu_file *f, void *arg);
int ionpu_ioctl_stop(struct ionpu_file *f, void *arg);
int ionpu_ioctl_wait(struct ionpu_file *f, void *arg);
int ionpu_run_cancel(struct ionpu_file *f, u32 *stopped);
int ionpu_reset_cmd(struct ionpu_device *idev, u64 tiles,
		    unsigned int cmd_flags, struct ionpu_cmd *cmd);
int ionpu_reset_tiles(struct ionpu_device *idev, u64 tiles,
		      unsigned int cmd_flags);
int ionpu_ioctl_reset_state(struct ionpu_file *f, void *arg);

/* ionpu_stream.c */
int ionpu_stream_init(struct ionpu_device *idev);
void ionpu_stream_program(struct ionpu_device *idev);
void ionpu_stream_consume(struct ionpu_device *idev);
void ionpu_stream_own(struct ionpu_device *idev, u64 tiles,
		      struct ionpu_file *f);
int ionpu_stream_open(struct ionpu_file *f);
void ionpu_stream_close(struct ionpu_file *f);
void ionpu_stream_sink(struct ionpu_device *idev, struct ionpu_job_sink *sink);
u64 ionpu_stream_dropped(struct ionpu_file *f);
ssize_t ionpu_read_iter(struct kiocb *iocb, struct iov_iter *to);
__poll_t ionpu_poll(struct file *file, struct poll_table_struct *wait);

/* ionpu_job.c */
int ionpu_job_init(struct ionpu_device *idev);
void ionpu_job_fini(struct ionpu_device *idev);
void ionpu_job_open(struct ionpu_file *f);
void ionpu_job_close(struct ionpu_file *f);
u32 ionpu_job_cancel_file(struct ionpu_file *f, fl_owner_t submitter);
struct ionpu_kjob;
typedef void ionpu_job_done_fn(struct ionpu_kjob *job, void *data);
struct ionpu_kjob *ionpu_job_create(struct ionpu_file *f,
				    const struct ionpu_job *arg,
				    ionpu_job_done_fn *done, void *data);
void ionpu_job_queue(struct ionpu_kjob *job);
bool ionpu_job_cancel(struct ionpu_kjob *job);
int ionpu_job_deliver(struct ionpu_kjob *job, u32 *produced);
void ionpu_job_put(struct ionpu_kjob *job);
int ionpu_ioctl_job(struct ionpu_file *f, void *arg);

/* ionpu_uring.c */
struct io_uring_cmd;
int ionpu_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);
int ionpu_uring_init(void);
void ionpu_uring_exit(void);

/* ionpu_counters.c */
int ionpu_counters_gather(struct ionpu_device *idev, u64 tiles,
			  struct ionpu_file *f, u32 flags);
void ionpu_counters_ran(struct ionpu_file *f, u64 timesteps);
int ionpu_counters(struct ionpu_file *f, struct ionpu_counters *c);

/* ionpu_ioctl.c */
long ionpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* ionpu_irq.c */
int ionpu_irq_init(struct ionpu_device *idev);
void ionpu_irq_fini(struct ionpu_device *idev);
void ionpu_irq_enable(struct ionpu_device *idev);
void ionpu_irq_disable(struct ionpu_device *idev);
int ionpu_irq_test(struct ionpu_device *idev, unsigned int vec);

/* ionpu_sysfs.c */
extern const struct attribute_group *ionpu_groups[];

/* ionpu_debugfs.c */
void ionpu_debugfs_init(void);
void ionpu_debugfs_exit(void);
void ionpu_debugfs_add(struct ionpu_device *idev);
void ionpu_debugfs_del(struct ionpu_device *idev);

#endif /* IONPU_DRV_H */
