// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: run control (docs/hardware.md, "Commands"): input spikes, run,
 * stop, wait for a run, reset state, and who owns the card's clock.
 *
 * The card has one clock: a RUN advances every tile.  So the driver owns
 * the clock (struct ionpu_runner): IONPU_IOC_RUN takes it or fails with
 * -EBUSY, a job (ionpu_job.c) holds it from its state reset to its last
 * event, and a STOP ends only the run of the file that owns it.  A run
 * started with IONPU_RUN_NOWAIT goes on in a worker of its file, which
 * IONPU_IOC_WAIT waits for and closing the file stops.
 *
 * Fair share: whoever waits for the clock queues for it, first come first
 * served, and the clock is handed to the first in the queue.  A file has
 * at most one job in the queue (ionpu_job.c runs a file's jobs one at a
 * time), and a RUN gives the clock up after every IONPU_RUN_SLICE_TIMESTEPS
 * timesteps when anyone waits, queueing again behind them: so the files
 * that wait take turns, and no run or file keeps the others out.  Between
 * two slices a RUN holds neither the clock nor the card's lock, so a reset
 * may come in between: the run then ends with -EIO.
 *
 * A run's own deadline ends it as a STOP from its file would, from a
 * delayed work: only that run ends.  The card is reset only when it stops
 * answering (ionpu_watchdog.c), never because a run or job is late.
 *
 * Input spikes name tiles: like the network commands (ionpu_net.c), they
 * are checked against the file's lease on the kernel's copy, the one sent.
 */
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "ionpu_drv.h"

/* The UAPI input is the card's INPUT_SPIKES entry, copied unchanged. */
static_assert(sizeof(struct ionpu_input) == sizeof(struct ionpu_hw_spike_entry));
static_assert(offsetof(struct ionpu_input, tile) ==
	      offsetof(struct ionpu_hw_spike_entry, tile));

/**
 * struct ionpu_clock_waiter - one who waits for the card's clock
 * @node: in the runner's @waiters while waiting
 * @owner: the file whose RUN it is, NULL for a job
 * @granted: the clock was handed over to it
 */
struct ionpu_clock_waiter {
	struct list_head node;
	struct ionpu_file *owner;
	bool granted;
};

void ionpu_clock_init(struct ionpu_device *idev)
{
	struct ionpu_runner *r = &idev->runner;

	spin_lock_init(&r->lock);
	INIT_LIST_HEAD(&r->waiters);
	init_waitqueue_head(&r->wait);
	mutex_init(&r->stop_lock);
}

/*
 * Take the clock at once, if nobody holds it, waits for it, or has a RUN
 * between two slices: for a new RUN of @run, or with @run NULL for a
 * command that must not overlap a run.
 */
static bool ionpu_clock_take_idle(struct ionpu_runner *r,
				  struct ionpu_file *run)
{
	bool ok;

	spin_lock(&r->lock);
	ok = !r->busy && list_empty(&r->waiters) && !r->run_file;
	if (ok) {
		r->busy = true;
		r->owner = run;
		r->run_file = run;
		if (run)
			r->stop = false;
	}
	spin_unlock(&r->lock);
	return ok;
}

bool ionpu_clock_try(struct ionpu_device *idev)
{
	return ionpu_clock_take_idle(&idev->runner, NULL);
}

/*
 * Give the clock back: to the first who waits, else to nobody.  Under the
 * STOP lock, see struct ionpu_runner.
 */
void ionpu_clock_put(struct ionpu_device *idev)
{
	struct ionpu_runner *r = &idev->runner;
	struct ionpu_clock_waiter *w;

	mutex_lock(&r->stop_lock);
	spin_lock(&r->lock);
	w = list_first_entry_or_null(&r->waiters, struct ionpu_clock_waiter,
				     node);
	if (w) {
		list_del_init(&w->node);
		WRITE_ONCE(w->granted, true);
		r->owner = w->owner;
	} else {
		r->busy = false;
		r->owner = NULL;
	}
	spin_unlock(&r->lock);
	mutex_unlock(&r->stop_lock);
	wake_up_all(&r->wait);
}

/*
 * Wait for the clock behind everyone who waits already, as @owner (NULL
 * for a job), until @deadline (0: none).  @why says, when non-zero, the
 * error to give up with; a RUN's caller (@owner set, not a worker) waits
 * killably, a worker without counting as load.  Returns 0 holding the
 * clock, else @why's error, -ETIMEDOUT or -EINTR.
 */
static int ionpu_clock_queue(struct ionpu_device *idev,
			     struct ionpu_file *owner, ionpu_clock_why_fn *why,
			     void *arg, ktime_t deadline)
{
	struct ionpu_runner *r = &idev->runner;
	struct ionpu_clock_waiter w = { .owner = owner };
	long left = ionpu_deadline_jiffies(deadline);
	int ret = 0;

	spin_lock(&r->lock);
	if (!r->busy && list_empty(&r->waiters)) {
		r->busy = true;
		r->owner = owner;
		spin_unlock(&r->lock);
		return 0;
	}
	list_add_tail(&w.node, &r->waiters);
	spin_unlock(&r->lock);

	/*
	 * @why first: a waiter handed the clock (a RUN yields it between two
	 * slices to whoever waits) that must not have it still gives up, and
	 * passes it on below.
	 */
	if (current->flags & PF_KTHREAD)
		left = wait_event_idle_timeout(r->wait, (ret = why(arg)) ||
					       READ_ONCE(w.granted), left);
	else
		left = wait_event_killable_timeout(r->wait, (ret = why(arg)) ||
						   READ_ONCE(w.granted), left);
	if (left < 0)
		ret = -EINTR;
	else if (!left)
		ret = -ETIMEDOUT;
	if (!ret)
		return 0;

	spin_lock(&r->lock);
	if (!w.granted) {
		list_del(&w.node);
		spin_unlock(&r->lock);
		return ret;
	}
	spin_unlock(&r->lock);
	/* Handed over while giving up: pass it on. */
	ionpu_clock_put(idev);
	return ret;
}

/**
 * ionpu_clock_wait() - wait for the card's clock, for a job
 * @idev: the card
 * @why: when it returns non-zero, the wait ends with that error
 * @arg: @why's argument
 * @deadline: when the wait ends with -ETIMEDOUT, 0 for never
 *
 * Return: 0 holding the clock (ionpu_clock_put() gives it back), the
 * error of @why, or -ETIMEDOUT.
 */
int ionpu_clock_wait(struct ionpu_device *idev, ionpu_clock_why_fn *why,
		     void *arg, ktime_t deadline)
{
	return ionpu_clock_queue(idev, NULL, why, arg, deadline);
}

/* Why a RUN waiting between two slices must not go on. */
static int ionpu_run_why_stop(void *arg)
{
	struct ionpu_runner *r = arg;

	return READ_ONCE(r->stop) ? -ECANCELED : 0;
}

/*
 * Between two slices of @f's RUN: when anyone waits, hand them the clock
 * and queue again behind them.  Returns 0 holding the clock, or the error
 * that ended the wait without it.
 */
static int ionpu_run_yield(struct ionpu_file *f)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_runner *r = &idev->runner;
	bool waited;

	spin_lock(&r->lock);
	waited = !list_empty(&r->waiters);
	spin_unlock(&r->lock);
	if (!waited)
		return 0;
	ionpu_clock_put(idev);
	/* The run's deadline reaches the wait as a STOP. */
	return ionpu_clock_queue(idev, f, ionpu_run_why_stop, r, 0);
}

/* Every event of the payload on a tile in @tiles. */
static int ionpu_input_check(struct ionpu_device *idev, u64 tiles,
			     const struct ionpu_ubuf *in, const void *arg)
{
	const struct ionpu_hw_spike_entry *e = in->kbuf;
	size_t i;
	int ret;

	for (i = 0; i < in->len / sizeof(*e); i++) {
		ret = ionpu_tile_check(idev, tiles, e[i].tile);
		if (ret)
			return ret;
	}
	return 0;
}

int ionpu_ioctl_input(struct ionpu_file *f, void *arg)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_INPUT_SPIKES };
	struct ionpu_spikes *s = arg;
	struct ionpu_ubuf in, none = { };
	int ret;

	if (s->flags || !s->count || s->count > IONPU_MAX_SPIKES)
		return -EINVAL;

	ret = ionpu_ubuf_get(f->idev, &in, s->events, s->count,
			     sizeof(struct ionpu_input), DMA_TO_DEVICE,
			     IONPU_UBUF_BOUNCE);
	if (ret)
		return ret;
	return ionpu_ubuf_submit(f, &cmd, &in, &none, ionpu_input_check,
				 NULL, NULL);
}

/* write(): the same as IONPU_IOC_INPUT, with the events as the data. */
ssize_t ionpu_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_INPUT_SPIKES };
	struct ionpu_file *f = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	struct ionpu_ubuf in = { .len = len, .dir = DMA_TO_DEVICE }, none = { };
	int ret;

	if (!len || len % sizeof(struct ionpu_input) ||
	    len / sizeof(struct ionpu_input) > IONPU_MAX_SPIKES)
		return -EINVAL;
	/* Queuing the events waits for the card's answer. */
	if (iocb->ki_flags & IOCB_NOWAIT)
		return -EAGAIN;

	in.kbuf = kvmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!in.kbuf)
		return -ENOMEM;
	if (copy_from_iter(in.kbuf, len, from) != len) {
		kvfree(in.kbuf);
		return -EFAULT;
	}
	ret = ionpu_ubuf_submit(f, &cmd, &in, &none, ionpu_input_check, NULL,
				NULL);
	return ret ? ret : len;
}

/**
 * ionpu_run_cmd() - the command that runs timesteps
 * @cmd: out: the RUN, waited for as long as it runs
 * @timesteps: timesteps to run, 0 until a STOP
 */
void ionpu_run_cmd(struct ionpu_cmd *cmd, u32 timesteps)
{
	*cmd = (struct ionpu_cmd){
		.opcode = IONPU_OP_RUN,
		.param = { timesteps },
		.flags = IONPU_CMD_UNTIMED,
	};
}

/**
 * ionpu_run_steps() - run timesteps and wait for them
 * @idev: the card, with @idev->lock held for read and its clock owned
 *	by the caller
 * @timesteps: timesteps to run, 0 until a STOP
 * @ran: out: timesteps run
 *
 * Return: 0, -ECANCELED when a STOP ended the run, or as ionpu_cmd_submit().
 * Every output event of the run has been dispatched when it returns.
 */
int ionpu_run_steps(struct ionpu_device *idev, u32 timesteps, u64 *ran)
{
	struct ionpu_dma_buf none = { };
	struct ionpu_cmd cmd;
	int ret;

	ionpu_run_cmd(&cmd, timesteps);
	*ran = 0;
	ret = ionpu_cmd_submit(idev, &cmd, &none, &none, ran);
	if (ret && ret != -ECANCELED)
		return ret;
	/*
	 * The card wrote the run's events before its completion, but the
	 * output-spike handler may not have taken them yet: take them now.
	 */
	ionpu_stream_consume(idev);
	return ret;
}

/*
 * End @f's run: between two slices at once, on the card after the current
 * timestep.  The card has one run, but it is not every lessee's to end:
 * while another file's run or a job holds the clock nothing is sent.
 * *@stopped (may be NULL) tells whether @f had a run in progress.  A STOP
 * on behalf of a killed or closing owner is IONPU_CMD_UNKILLABLE in
 * @cmd_flags: with every command slot taken it waits for one rather than
 * leave the run going unowned.  With @idev->lock held for read.
 */
static int ionpu_run_stop(struct ionpu_file *f, bool *stopped,
			  unsigned int cmd_flags)
{
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_STOP,
		.flags = cmd_flags,
	};
	struct ionpu_device *idev = f->idev;
	struct ionpu_runner *r = &idev->runner;
	struct ionpu_dma_buf none = { };
	bool mine, holds;
	int ret = 0;

	mutex_lock(&r->stop_lock);
	spin_lock(&r->lock);
	mine = r->run_file == f;
	if (mine)
		r->stop = true;
	holds = r->owner == f;
	spin_unlock(&r->lock);
	/* A run waiting between two slices ends without the clock. */
	wake_up_all(&r->wait);
	if (holds)
		ret = ionpu_cmd_submit(idev, &cmd, &none, &none, NULL);
	mutex_unlock(&r->stop_lock);
	if (stopped)
		*stopped = mine;
	return ret;
}

/* One slice of @f's RUN, under the card's lock. */
static int ionpu_run_slice(struct ionpu_file *f, u32 steps, int resets,
			   u64 *ran)
{
	struct ionpu_device *idev = f->idev;
	int ret;

	down_read(&idev->lock);
	if (idev->gone)
		ret = -ENODEV;
	else if (atomic_read(&idev->resets) != resets)
		/* The reset cleared the network the run was asked for. */
		ret = -EIO;
	else
		ret = ionpu_run_steps(idev, steps, ran);
	ionpu_counters_ran(f, *ran);
	/* Killed while the card runs: nobody would learn the outcome. */
	if (ret == -EINTR)
		ionpu_run_stop(f, NULL, IONPU_CMD_UNKILLABLE);
	up_read(&idev->lock);
	return ret;
}

/*
 * The file's run reached its deadline: stop it as IONPU_IOC_STOP would.
 * Without the card's lock for read, the card is being reset or removed,
 * which ends the run as well.
 */
static void ionpu_run_deadline_work(struct work_struct *work)
{
	struct ionpu_file_run *run = container_of(to_delayed_work(work),
						  struct ionpu_file_run,
						  deadline_work);
	struct ionpu_file *f = container_of(run, struct ionpu_file, run);
	struct ionpu_device *idev = f->idev;

	WRITE_ONCE(run->deadline_hit, true);
	if (!down_read_trylock(&idev->lock))
		return;
	if (!idev->gone)
		ionpu_run_stop(f, NULL, 0);
	up_read(&idev->lock);
}

/*
 * Run @timesteps (0: until stopped) for @f, a slice at a time, from
 * ionpu_clock_take_idle() on, until @deadline (0: none); gives the clock
 * back.  @resets is the card's reset count when the run was asked for.
 * *@stopped tells a run that ended early, with 0 returned, from one that
 * ran its timesteps.
 *
 * Return: 0, as ionpu_run_steps(), -EINTR for a caller killed while it
 * waited for the clock, -EIO when the card was reset meanwhile, -ENODEV
 * once it is gone.
 */
static int ionpu_run_slices(struct ionpu_file *f, u32 timesteps, int resets,
			    ktime_t deadline, u64 *ran, u32 *stopped)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_runner *r = &idev->runner;
	struct ionpu_file_run *run = &f->run;
	u32 left = timesteps;
	bool holding = true;
	int ret;

	*ran = 0;
	WRITE_ONCE(run->deadline_hit, false);
	if (deadline)
		queue_delayed_work(system_wq, &run->deadline_work,
				   ionpu_deadline_jiffies(deadline));
	for (;;) {
		u32 slice = timesteps ? min_t(u32, left, IONPU_RUN_SLICE_TIMESTEPS) :
					IONPU_RUN_SLICE_TIMESTEPS;
		u64 n = 0;

		if (READ_ONCE(r->stop) || ionpu_deadline_passed(deadline))
			ret = -ECANCELED;
		else
			ret = ionpu_run_slice(f, slice, resets, &n);
		*ran += n;
		if (ret)
			break;
		if (timesteps) {
			left -= slice;
			if (!left)
				break;
		}
		ret = ionpu_run_yield(f);
		if (ret) {
			holding = false;
			break;
		}
	}

	/* While the run is still the card's: its deadline stops no other. */
	cancel_delayed_work_sync(&run->deadline_work);
	spin_lock(&r->lock);
	r->run_file = NULL;
	r->stop = false;
	spin_unlock(&r->lock);
	if (holding)
		ionpu_clock_put(idev);

	*stopped = 0;
	if (ret != -ECANCELED)
		return ret;
	*stopped = READ_ONCE(run->deadline_hit) || ionpu_deadline_passed(deadline) ?
		IONPU_RUN_ENDED_DEADLINE : IONPU_RUN_ENDED_STOP;
	return 0;
}

/* States of a file's IONPU_RUN_NOWAIT run. */
enum {
	IONPU_RUN_NONE,		/* none, or its outcome was collected */
	IONPU_RUN_GOING,
	IONPU_RUN_ENDED,	/* its outcome waits for an IONPU_IOC_WAIT */
};

/* How often a closing file repeats its STOP, see ionpu_run_close(). */
#define IONPU_RUN_STOP_RETRY	(HZ / 10)

static bool ionpu_run_going(struct ionpu_file_run *run)
{
	return READ_ONCE(run->state) == IONPU_RUN_GOING;
}

/*
 * The run of a NOWAIT RUN, in a worker: its completion is recorded whether
 * or not anybody waits.  The open file outlives it: ionpu_run_close().
 */
static void ionpu_run_work(struct work_struct *work)
{
	struct ionpu_file_run *run = container_of(work, struct ionpu_file_run,
						  work);
	struct ionpu_file *f = container_of(run, struct ionpu_file, run);
	u32 stopped = 0;
	u64 ran = 0;
	int ret;

	ret = ionpu_run_slices(f, run->timesteps, run->resets, run->deadline,
			       &ran, &stopped);

	spin_lock(&run->lock);
	run->ret = ret;
	run->stopped = stopped;
	run->ran = ran;
	WRITE_ONCE(run->state, IONPU_RUN_ENDED);
	spin_unlock(&run->lock);
	wake_up_all(&run->ended);
}

/* Whether the file's own NOWAIT run holds the card's clock. */
bool ionpu_file_running(struct ionpu_file *f)
{
	return ionpu_run_going(&f->run);
}

void ionpu_run_open(struct ionpu_file *f)
{
	INIT_WORK(&f->run.work, ionpu_run_work);
	INIT_DELAYED_WORK(&f->run.deadline_work, ionpu_run_deadline_work);
	spin_lock_init(&f->run.lock);
	init_waitqueue_head(&f->run.ended);
}

/*
 * A run never outlives its file: stop it and wait for its worker.  A STOP
 * that reached the card before the worker's RUN ended nothing, so it is
 * sent again until the run ends; a card reset or removal ends it as well.
 */
void ionpu_run_close(struct ionpu_file *f)
{
	struct ionpu_file_run *run = &f->run;
	struct ionpu_device *idev = f->idev;
	long wait = 0;

	while (!wait_event_timeout(run->ended, !ionpu_run_going(run), wait)) {
		down_read(&idev->lock);
		if (!idev->gone)
			ionpu_run_stop(f, NULL, IONPU_CMD_UNKILLABLE);
		up_read(&idev->lock);
		wait = IONPU_RUN_STOP_RETRY;
	}
	flush_work(&run->work);
}

/*
 * Take the clock for the file's run and hand it to the run's worker; a
 * reset after @resets fails the run, and @deadline ends it.
 */
static int ionpu_run_start(struct ionpu_file *f, u32 timesteps, int resets,
			   ktime_t deadline)
{
	struct ionpu_file_run *run = &f->run;
	struct ionpu_device *idev = f->idev;

	spin_lock(&run->lock);
	if (run->state == IONPU_RUN_GOING || !ionpu_clock_take_idle(&idev->runner, f)) {
		spin_unlock(&run->lock);
		return -EBUSY;
	}
	run->timesteps = timesteps;
	run->resets = resets;
	run->deadline = deadline;
	WRITE_ONCE(run->state, IONPU_RUN_GOING);
	spin_unlock(&run->lock);
	queue_work(system_unbound_wq, &run->work);
	return 0;
}

/*
 * A RUN does not wait for jobs or another RUN (-EBUSY).  When its caller is
 * killed the run is stopped, and the clock is given back once the card has
 * answered the STOP, which it does after ending the run.  Without the
 * card's lock: each slice takes it (ionpu_run_slice()).
 */
int ionpu_ioctl_run(struct ionpu_file *f, void *arg)
{
	struct ionpu_device *idev = f->idev;
	struct ionpu_run *r = arg;
	ktime_t deadline = ionpu_deadline(r->deadline_ns);
	u32 stopped = 0;
	int ret, resets;
	u64 ran = 0;

	if (r->flags & ~IONPU_RUN_NOWAIT || r->reserved ||
	    r->timesteps > IONPU_RUN_MAX_TIMESTEPS)
		return -EINVAL;
	if (READ_ONCE(idev->gone))
		return -ENODEV;
	if (!READ_ONCE(f->tiles))
		return -EACCES;
	ret = ionpu_lease_fresh(f, &resets);
	if (ret)
		return ret;
	r->stopped = 0;
	r->ran = 0;
	if (r->flags & IONPU_RUN_NOWAIT)
		return ionpu_run_start(f, r->timesteps, resets, deadline);
	if (!ionpu_clock_take_idle(&idev->runner, f))
		return -EBUSY;
	ret = ionpu_run_slices(f, r->timesteps, resets, deadline, &ran,
			       &stopped);
	r->stopped = stopped;
	r->ran = ran;
	return ret;
}

/*
 * Only the caller's own run ends: a job or another file's run goes on.  No
 * lease needed: a file that gave back its tiles may still stop its run.
 */
int ionpu_ioctl_stop(struct ionpu_file *f, void *arg)
{
	struct ionpu_stop *s = arg;
	bool stopped;
	int ret;

	if (s->flags)
		return -EINVAL;
	ret = ionpu_run_stop(f, &stopped, 0);
	s->stopped = stopped;
	return ret;
}

/* IONPU_IOC_CANCEL's part for the run: as a STOP.  Under the card's lock. */
int ionpu_run_cancel(struct ionpu_file *f, u32 *stopped)
{
	bool mine;
	int ret = ionpu_run_stop(f, &mine, 0);

	*stopped = mine;
	return ret;
}

/*
 * Sleeps without the card's lock: a reset or a removal ends the run by
 * killing its command, and the worker records that.
 */
int ionpu_ioctl_wait(struct ionpu_file *f, void *arg)
{
	struct ionpu_file_run *run = &f->run;
	struct ionpu_wait *w = arg;
	long ret;

	if (w->flags)
		return -EINVAL;
	if (!w->timeout_ns) {
		ret = wait_event_interruptible(run->ended,
					       !ionpu_run_going(run));
	} else {
		ktime_t deadline = ionpu_deadline(w->timeout_ns);
		/* A past deadline polls: the timer takes a negative time as never. */
		ktime_t left = max_t(s64, ktime_sub(deadline, ktime_get()), 0);

		ret = wait_event_interruptible_hrtimeout(run->ended,
							 !ionpu_run_going(run),
							 left);
		if (ret == -ETIME)
			return -ETIMEDOUT;
	}
	if (ret)
		return ret;

	spin_lock(&run->lock);
	if (run->state != IONPU_RUN_ENDED) {
		spin_unlock(&run->lock);
		return READ_ONCE(f->idev->gone) ? -ENODEV : -ENOENT;
	}
	ret = run->ret;
	w->stopped = run->stopped;
	w->ran = run->ran;
	WRITE_ONCE(run->state, IONPU_RUN_NONE);
	spin_unlock(&run->lock);
	return ret;
}

/**
 * ionpu_reset_cmd() - the command that clears the state of some tiles
 * @idev: the card
 * @tiles: the tiles, bit N = tile N; not 0, which would mean every tile
 * @cmd_flags: IONPU_CMD_* flags of the command
 * @cmd: out: the RESET_STATE
 *
 * Return: 0, -EINVAL for @tiles 0, or -EOPNOTSUPP for a card that can
 * only clear every tile.
 */
int ionpu_reset_cmd(struct ionpu_device *idev, u64 tiles,
		    unsigned int cmd_flags, struct ionpu_cmd *cmd)
{
	if (WARN_ON_ONCE(!tiles))
		return -EINVAL;
	if (!(idev->caps & IONPU_CAP_TILE_RESET))
		return -EOPNOTSUPP;
	*cmd = (struct ionpu_cmd){
		.opcode = IONPU_OP_RESET_STATE,
		.param = { lower_32_bits(tiles), upper_32_bits(tiles) },
		.flags = cmd_flags,
	};
	return 0;
}

/**
 * ionpu_reset_tiles() - clear the state of some tiles
 * @idev: the card, with @idev->lock held for read and not gone
 * @tiles: the tiles, bit N = tile N; not 0, which would mean every tile
 * @cmd_flags: IONPU_CMD_UNKILLABLE to wait for the card even with a fatal
 *	signal pending, else 0
 *
 * Clears neuron state, pending inputs and spikes in flight aimed at @tiles.
 *
 * Return: 0, as ionpu_reset_cmd(), or as ionpu_cmd_submit().
 */
int ionpu_reset_tiles(struct ionpu_device *idev, u64 tiles,
		      unsigned int cmd_flags)
{
	struct ionpu_dma_buf none = { };
	struct ionpu_cmd cmd;
	int ret;

	ret = ionpu_reset_cmd(idev, tiles, cmd_flags, &cmd);
	if (ret)
		return ret;
	return ionpu_cmd_submit(idev, &cmd, &none, &none, NULL);
}

int ionpu_ioctl_reset_state(struct ionpu_file *f, void *arg)
{
	struct ionpu_reset_state *r = arg;
	u64 tiles;
	int ret;

	if (r->flags || r->reserved)
		return -EINVAL;
	ret = ionpu_use_begin(f, &tiles);
	if (ret)
		return ret;
	ret = tiles ? ionpu_reset_tiles(f->idev, tiles, 0) : -EACCES;
	ionpu_use_end(f);
	return ret;
}
