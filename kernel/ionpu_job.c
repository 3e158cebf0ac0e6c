// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: jobs, one inference done as one unit (IONPU_IOC_JOB and
 * IONPU_URING_CMD_JOB).
 *
 * A job shares the card's one clock with IONPU_IOC_RUN (ionpu_run.c): each
 * file's jobs run one at a time, in its submission order, each holding the
 * clock from its state reset to its last event; files whose jobs wait for
 * the clock take turns (the clock's queue is first come first served, and
 * a file has one job in it at most).  A job is copied and checked when it is
 * submitted, in the submitter's context; the worker then clears the state
 * of the file's tiles, feeds the inputs one input window at a time (an
 * INPUT_SPIKES delay is a u8), runs each window, and collects the output
 * events of the file's tiles into a kernel buffer through the event
 * stream's sink.  A window's commands go to the card together and are
 * waited for together, the job's start and reset with the first window's:
 * each round trip to the card costs more than the card's work on a small
 * job.  The submitter copies them out: the ioctl in its caller,
 * io_uring in the submitting task's context (ionpu_uring.c).
 *
 * Event timesteps count from the card's timestep counter, read when the job
 * starts: unlike a sum of RUN results kept by the driver, it stays right
 * after a RUN whose caller was killed and whose result never came back.
 *
 * Lifetime: a job holds a reference on its open file, so the file's lease
 * and the card outlive it whoever stops waiting; the job itself has two
 * references, the submitter's and the queue's.  A job cancelled before it
 * started is taken off its file's queue and never runs; one cancelled
 * while it runs ends at its next slice of IONPU_RUN_SLICE_TIMESTEPS
 * (-ECANCELED).  Cancelling all of a file's jobs (IONPU_IOC_CANCEL, a
 * close) completes each one with -ECANCELED.  A job past its deadline ends
 * the same way, with -ETIMEDOUT: while it waits for the clock, when the
 * wait times out, and while it runs, at its next window.
 */
#include <linux/bits.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ionpu_drv.h"

/* Timesteps one INPUT_SPIKES can reach: its delay is 0..255. */
#define IONPU_INPUT_WINDOW	(U8_MAX + 1)
/* Jobs a file may have submitted and not yet collected. */
#define IONPU_JOBS_PER_FILE	4096
/* Inputs per INPUT_SPIKES: 64 KiB of coherent memory, well below the card's 65536. */
#define IONPU_FEED_CHUNK	8192

/**
 * struct ionpu_kjob - a job between its submission and its collection
 * @node: in its file's @job_queue until it starts or is cancelled
 * @drop: in a list of jobs being cancelled together
 * @submitter: the files table of the submitting task: closing the file
 *	through it cancels the job
 * @ref: the submitter's reference and the queue's
 * @f: the file that submitted it, whose struct file the job holds
 * @flags: IONPU_JOB_* flags
 * @timesteps: timesteps to run
 * @in_count: entries at @inputs
 * @in_tiles: the tiles the inputs name
 * @inputs: the inputs, checked, in timestep order
 * @outputs: user address of the submitter's room for events
 * @resets: the card's reset count at the submission
 * @deadline: when the job fails with -ETIMEDOUT, 0 for never
 * @sink: the output events, once the job ran
 * @ret: the job's outcome, once it ran
 * @cancelled: its submitter gave up, or it was cancelled, while it waited
 *	for the clock or ran
 * @finished: completed when it ran, for a submitter that waits
 * @done: called by the worker when the job ran
 * @data: @done's argument
 */
struct ionpu_kjob {
	struct list_head node;
	struct list_head drop;
	fl_owner_t submitter;
	refcount_t ref;
	struct ionpu_file *f;
	u32 flags;
	u32 timesteps;
	u32 in_count;
	u64 in_tiles;
	struct ionpu_job_input *inputs;
	u64 outputs;
	int resets;
	ktime_t deadline;
	struct ionpu_job_sink sink;
	int ret;
	bool cancelled;
	struct completion finished;
	ionpu_job_done_fn *done;
	void *data;
};

int ionpu_job_init(struct ionpu_device *idev)
{
	ionpu_clock_init(idev);
	idev->runner.wq = alloc_workqueue(IONPU_NAME "%d_jobs", WQ_UNBOUND, 0,
					  idev->minor);
	return idev->runner.wq ? 0 : -ENOMEM;
}

/* Once no file is open: no job is left. */
void ionpu_job_fini(struct ionpu_device *idev)
{
	if (idev->runner.wq)
		destroy_workqueue(idev->runner.wq);
	mutex_destroy(&idev->runner.stop_lock);
}

static bool ionpu_f32_finite(u32 bits)
{
	return (bits & 0x7f800000) != 0x7f800000;
}

static int ionpu_job_check(const struct ionpu_job *arg, u64 tiles)
{
	if (arg->flags & ~IONPU_JOB_KEEP_STATE || arg->reserved)
		return -EINVAL;
	if (!arg->timesteps || arg->timesteps > IONPU_JOB_MAX_TIMESTEPS ||
	    arg->in_count > IONPU_JOB_MAX_INPUTS ||
	    arg->out_room > IONPU_JOB_MAX_OUTPUTS)
		return -EINVAL;
	return tiles ? 0 : -EACCES;
}

/* Every input in order, inside the job, on a row of a tile in @tiles. */
static int ionpu_job_check_inputs(struct ionpu_device *idev,
				  struct ionpu_kjob *job, u64 tiles)
{
	u32 last = 0, i;

	for (i = 0; i < job->in_count; i++) {
		const struct ionpu_job_input *in = &job->inputs[i];

		if (in->reserved || in->reserved2 ||
		    in->timestep < last || in->timestep >= job->timesteps ||
		    in->tile >= idev->tiles || in->row >= idev->tile_rows ||
		    !ionpu_f32_finite(in->value))
			return -EINVAL;
		if (!(tiles & BIT_ULL(in->tile)))
			return -EACCES;
		job->in_tiles |= BIT_ULL(in->tile);
		last = in->timestep;
	}
	return 0;
}

/* The job's inputs, from @uinputs, checked against the file's @tiles. */
static int ionpu_job_copy_inputs(struct ionpu_kjob *job, u64 uinputs,
				 u64 tiles)
{
	if (!job->in_count)
		return 0;
	job->inputs = kvmalloc_array(job->in_count, sizeof(*job->inputs),
				     GFP_KERNEL_ACCOUNT);
	if (!job->inputs)
		return -ENOMEM;
	if (copy_from_user(job->inputs, u64_to_user_ptr(uinputs),
			   array_size(job->in_count, sizeof(*job->inputs))))
		return -EFAULT;
	return ionpu_job_check_inputs(job->f->idev, job, tiles);
}

static void ionpu_job_free(struct ionpu_kjob *job)
{
	struct ionpu_file *f = job->f;
	struct file *file = f->file;

	kvfree(job->inputs);
	kvfree(job->sink.buf);
	kfree(job);
	atomic_dec(&f->jobs);
	/* May be the last reference: @f is gone after it. */
	fput(file);
}

void ionpu_job_put(struct ionpu_kjob *job)
{
	if (refcount_dec_and_test(&job->ref))
		ionpu_job_free(job);
}

/*
 * Post the inputs of timesteps before @end to @b, as inputs of the window
 * that starts at timestep @start, from input *@next on.
 */
static int ionpu_job_feed(struct ionpu_kjob *job, struct ionpu_cmd_batch *b,
			  u32 *next, u32 start, u32 end)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_INPUT_SPIKES };
	struct ionpu_device *idev = job->f->idev;
	struct ionpu_dma_buf ib, none = { };
	int ret;

	while (*next < job->in_count && job->inputs[*next].timestep < end) {
		struct ionpu_hw_spike_entry *e;
		u32 n = 0, i;

		while (n < IONPU_FEED_CHUNK && *next + n < job->in_count &&
		       job->inputs[*next + n].timestep < end)
			n++;
		ret = ionpu_buf_alloc(idev, &ib, n * sizeof(*e));
		if (ret)
			return ret;
		e = ib.cpu;
		for (i = 0; i < n; i++) {
			const struct ionpu_job_input *in = &job->inputs[*next + i];

			e[i].row = cpu_to_le16(in->row);
			e[i].tile = in->tile;
			e[i].delay = in->timestep - start;
			e[i].value = cpu_to_le32(in->value);
		}
		ret = ionpu_batch_add(b, &cmd, &ib, &none, NULL, NULL);
		if (ret)
			return ret;
		*next += n;
	}
	return 0;
}

/* Why a job must end before its next window: cancelled, or late. */
static int ionpu_job_ended(struct ionpu_kjob *job)
{
	if (READ_ONCE(job->cancelled))
		return -ECANCELED;
	return ionpu_deadline_passed(job->deadline) ? -ETIMEDOUT : 0;
}

/*
 * Feed and run the job's timesteps, one input window at a time while
 * inputs remain, else a slice at a time: a cancel or the deadline ends the
 * job between two.  A window's commands go to the card together, behind
 * those already in @b, and are waited for together.
 */
static int ionpu_job_windows(struct ionpu_kjob *job, struct ionpu_cmd_batch *b)
{
	struct ionpu_device *idev = job->f->idev;
	u32 next = 0, done = 0;
	int ret, waited;

	while (done < job->timesteps) {
		u32 steps = min_t(u32, job->timesteps - done,
				  IONPU_RUN_SLICE_TIMESTEPS);
		struct ionpu_dma_buf none = { };
		struct ionpu_cmd run;
		u64 ran = 0;

		ret = ionpu_job_ended(job);
		if (!ret && next < job->in_count) {
			steps = min_t(u32, steps, IONPU_INPUT_WINDOW);
			ret = ionpu_job_feed(job, b, &next, done, done + steps);
		}
		if (!ret) {
			ionpu_run_cmd(&run, steps);
			ret = ionpu_batch_add(b, &run, &none, &none, NULL,
					      &ran);
		}
		/*
		 * No STOP reaches a job's run (ionpu_run_stop()), so a command
		 * the card reports as stopped is the card's fault.
		 */
		waited = ionpu_batch_wait(b);
		if (waited == -ECANCELED)
			waited = -EIO;
		/* The card wrote the run's events before its completion. */
		ionpu_stream_consume(idev);
		ionpu_counters_ran(job->f, ran);
		if (ret || waited)
			return waited ? waited : ret;
		done += steps;
	}
	return 0;
}

/*
 * Post the READ_COUNTERS that tells the card's next timestep, which the
 * job's events count from (its timestep counter, which reset zeroes too).
 */
static int ionpu_job_now(struct ionpu_cmd_batch *b, __le64 *now)
{
	const struct ionpu_cmd cmd = { .opcode = IONPU_OP_READ_COUNTERS };
	struct ionpu_dma_buf none = { }, ob;
	int ret;

	ret = ionpu_buf_alloc(b->idev, &ob, sizeof(*now));
	if (ret)
		return ret;
	return ionpu_batch_add(b, &cmd, &none, &ob, now, NULL);
}

/*
 * Under the card's lock, the clock and the file's use of @tiles.  The
 * job's start, its reset and its first window go to the card together.
 */
static int ionpu_job_exec(struct ionpu_kjob *job, u64 tiles,
			  struct ionpu_cmd_batch *b)
{
	struct ionpu_device *idev = job->f->idev;
	struct ionpu_job_sink *sink = &job->sink;
	struct ionpu_dma_buf none = { };
	struct ionpu_cmd reset;
	__le64 raw = 0;
	u32 t0, i;
	int ret, waited;

	ionpu_batch_init(b, idev);
	ret = ionpu_job_now(b, &raw);
	if (!ret && !(job->flags & IONPU_JOB_KEEP_STATE)) {
		ret = ionpu_reset_cmd(idev, tiles, 0, &reset);
		if (!ret)
			ret = ionpu_batch_add(b, &reset, &none, &none, NULL,
					      NULL);
	}
	if (ret)
		goto wait;

	/* Events of runs before the job are the files'. */
	ionpu_stream_consume(idev);
	sink->tiles = tiles;
	ionpu_stream_sink(idev, sink);
	ret = ionpu_job_windows(job, b);
	ionpu_stream_sink(idev, NULL);
wait:
	waited = ionpu_batch_wait(b);
	if (ret || waited)
		return waited ? waited : ret;

	t0 = lower_32_bits(le64_to_cpu(raw));
	for (i = 0; i < min(sink->produced, sink->room); i++)
		sink->buf[i].timestep -= t0;
	return 0;
}

static int ionpu_job_run(struct ionpu_kjob *job)
{
	struct ionpu_file *f = job->f;
	struct ionpu_device *idev = f->idev;
	struct ionpu_cmd_batch *batch;
	u64 tiles;
	int ret;

	if (job->sink.room) {
		job->sink.buf = kvmalloc_array(job->sink.room,
					       sizeof(*job->sink.buf),
					       GFP_KERNEL_ACCOUNT);
		if (!job->sink.buf)
			return -ENOMEM;
	}
	batch = kmalloc(sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;

	down_read(&idev->lock);
	if (idev->gone) {
		ret = -ENODEV;
		goto unlock;
	}
	/* A reset since the submission lost the network the job was for. */
	if (atomic_read(&idev->resets) != job->resets) {
		ret = -EIO;
		goto unlock;
	}
	/* The lease may have changed since the submission. */
	down_read(&f->use);
	tiles = READ_ONCE(f->tiles);
	if (!tiles || job->in_tiles & ~tiles)
		ret = -EACCES;
	else
		ret = ionpu_job_exec(job, tiles, batch);
	up_read(&f->use);
unlock:
	up_read(&idev->lock);
	kfree(batch);
	return ret;
}

/*
 * Why a job must not wait for the clock: it was cancelled or is late, or
 * the clock is its own file's run, which only that file can end while the
 * job pins it.
 */
static int ionpu_job_no_wait(struct ionpu_kjob *job)
{
	int ret = ionpu_job_ended(job);

	if (ret)
		return ret;
	return ionpu_file_running(job->f) ? -EBUSY : 0;
}

static int ionpu_job_why_not(void *arg)
{
	return ionpu_job_no_wait(arg);
}

/* The job's outcome is known: tell whoever waits for it. */
static void ionpu_job_end(struct ionpu_kjob *job, int ret)
{
	job->ret = ret;
	complete(&job->finished);
	if (job->done)
		job->done(job, job->data);
}

/*
 * Run the file's next job, if any, in its turn for the clock: a worker
 * waits for it without counting as load or as a hung task.
 */
static void ionpu_job_file_work(struct work_struct *work)
{
	struct ionpu_file *f = container_of(work, struct ionpu_file, job_work);
	struct ionpu_device *idev = f->idev;
	struct ionpu_kjob *job;
	bool more;
	int ret;

	spin_lock(&f->job_lock);
	job = list_first_entry_or_null(&f->job_queue, struct ionpu_kjob, node);
	if (job) {
		list_del_init(&job->node);
		f->job_running = job;
	}
	spin_unlock(&f->job_lock);
	if (!job)
		return;

	ret = ionpu_clock_wait(idev, ionpu_job_why_not, job, job->deadline);
	if (!ret) {
		ret = ionpu_job_run(job);
		ionpu_clock_put(idev);
	}
	ionpu_job_end(job, ret);

	spin_lock(&f->job_lock);
	f->job_running = NULL;
	more = !list_empty(&f->job_queue);
	spin_unlock(&f->job_lock);
	if (more)
		queue_work(idev->runner.wq, &f->job_work);
	/* The queue's reference, last: it may be the file's last one. */
	ionpu_job_put(job);
}

void ionpu_job_open(struct ionpu_file *f)
{
	spin_lock_init(&f->job_lock);
	INIT_LIST_HEAD(&f->job_queue);
	INIT_WORK(&f->job_work, ionpu_job_file_work);
}

/* At release, with no job left: the worker may still be returning. */
void ionpu_job_close(struct ionpu_file *f)
{
	cancel_work_sync(&f->job_work);
}

/**
 * ionpu_job_create() - copy and check a job; ionpu_job_queue() runs it
 * @f: the submitting file
 * @arg: the job, a kernel copy
 * @done: called by the worker once the job ran (may be NULL)
 * @data: @done's argument
 *
 * Return: the job, with the caller's reference and the queue's, or an
 * ERR_PTR: -EINVAL, -EACCES, -EFAULT, -ESTALE as %IONPU_IOC_JOB says,
 * -EAGAIN when the file has %IONPU_JOBS_PER_FILE jobs already, -ENODEV,
 * -ENOMEM.
 */
struct ionpu_kjob *ionpu_job_create(struct ionpu_file *f,
				    const struct ionpu_job *arg,
				    ionpu_job_done_fn *done, void *data)
{
	u64 tiles = READ_ONCE(f->tiles);
	struct ionpu_kjob *job;
	int ret, resets;

	if (READ_ONCE(f->idev->gone))
		return ERR_PTR(-ENODEV);
	ret = ionpu_job_check(arg, tiles);
	if (!ret)
		ret = ionpu_lease_fresh(f, &resets);
	if (ret)
		return ERR_PTR(ret);
	if (atomic_inc_return(&f->jobs) > IONPU_JOBS_PER_FILE) {
		atomic_dec(&f->jobs);
		return ERR_PTR(-EAGAIN);
	}

	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job) {
		atomic_dec(&f->jobs);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&job->node);
	job->submitter = current->files;
	refcount_set(&job->ref, 2);
	job->f = f;
	get_file(f->file);
	job->flags = arg->flags;
	job->timesteps = arg->timesteps;
	job->in_count = arg->in_count;
	job->outputs = arg->outputs;
	job->resets = resets;
	job->deadline = ionpu_deadline(arg->deadline_ns);
	job->sink.room = arg->out_room;
	init_completion(&job->finished);
	job->done = done;
	job->data = data;

	ret = ionpu_job_copy_inputs(job, arg->inputs, tiles);
	if (ret) {
		ionpu_job_free(job);
		return ERR_PTR(ret);
	}
	return job;
}

/* Behind every job of its file submitted before it. */
void ionpu_job_queue(struct ionpu_kjob *job)
{
	struct ionpu_file *f = job->f;

	spin_lock(&f->job_lock);
	list_add_tail(&job->node, &f->job_queue);
	spin_unlock(&f->job_lock);
	queue_work(f->idev->runner.wq, &f->job_work);
}

/**
 * ionpu_job_cancel() - drop a job that has not started
 * @job: the job, queued
 *
 * Return: true when it was taken off the queue: it never runs and its
 * @done is not called.  False when it runs, ran, or is being cancelled
 * with its file's jobs: it finishes, with -ECANCELED if it still waited
 * for the clock or had a slice left to run.
 */
bool ionpu_job_cancel(struct ionpu_kjob *job)
{
	struct ionpu_file *f = job->f;
	bool queued;

	spin_lock(&f->job_lock);
	queued = !list_empty(&job->node);
	if (queued)
		list_del_init(&job->node);
	else
		WRITE_ONCE(job->cancelled, true);
	spin_unlock(&f->job_lock);
	if (!queued) {
		wake_up_all(&f->idev->runner.wait);
		return false;
	}
	ionpu_job_put(job);
	return true;
}

/**
 * ionpu_job_cancel_file() - cancel the jobs of a file
 * @f: the file
 * @submitter: only the jobs submitted through this files table (a close
 *	of one of its descriptors), or NULL for every job (IONPU_IOC_CANCEL)
 *
 * Jobs waiting in the queue end at once with -ECANCELED, their waiters
 * told; the running one ends at its next slice.
 *
 * Return: the jobs cancelled.
 */
u32 ionpu_job_cancel_file(struct ionpu_file *f, fl_owner_t submitter)
{
	struct ionpu_kjob *job, *next;
	LIST_HEAD(dropped);
	u32 n = 0;

	spin_lock(&f->job_lock);
	list_for_each_entry_safe(job, next, &f->job_queue, node) {
		if (submitter && job->submitter != submitter)
			continue;
		list_del_init(&job->node);
		list_add_tail(&job->drop, &dropped);
		n++;
	}
	job = f->job_running;
	if (job && (!submitter || job->submitter == submitter)) {
		WRITE_ONCE(job->cancelled, true);
		n++;
	}
	spin_unlock(&f->job_lock);
	wake_up_all(&f->idev->runner.wait);

	list_for_each_entry_safe(job, next, &dropped, drop) {
		ionpu_job_end(job, -ECANCELED);
		ionpu_job_put(job);
	}
	return n;
}

/**
 * ionpu_job_deliver() - copy a job's events to its submitter
 * @job: a job that ran, in its submitter's context
 * @produced: out: the events the job produced
 *
 * Return: the events written, or the job's error, or -EFAULT.
 */
int ionpu_job_deliver(struct ionpu_kjob *job, u32 *produced)
{
	u32 n = min(job->sink.produced, job->sink.room);

	if (job->ret)
		return job->ret;
	if (n && copy_to_user(u64_to_user_ptr(job->outputs), job->sink.buf,
			      array_size(n, sizeof(*job->sink.buf))))
		return -EFAULT;
	*produced = job->sink.produced;
	return n;
}

int ionpu_ioctl_job(struct ionpu_file *f, void *arg)
{
	struct ionpu_job *j = arg;
	struct ionpu_kjob *job;
	int ret;

	job = ionpu_job_create(f, j, NULL, NULL);
	if (IS_ERR(job))
		return PTR_ERR(job);
	ionpu_job_queue(job);
	if (wait_for_completion_killable(&job->finished)) {
		/* Dropped if it has not started, else its results are. */
		ionpu_job_cancel(job);
		ret = -EINTR;
	} else {
		ret = ionpu_job_deliver(job, &j->produced);
	}
	ionpu_job_put(job);
	return ret < 0 ? ret : 0;
}
