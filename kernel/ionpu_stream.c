// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the output-spike event stream (docs/hardware.md, "Output-spike
 * events").
 *
 * The card writes one entry per spike into the event ring; the SPIKE
 * vector's handler empties the ring into the buffer of the open file that
 * leases the spike's tile, so each file reads only its own network's spikes
 * and a slow reader cannot hold back the ring.  A full file buffer drops
 * that file's events and the next one it reads carries IONPU_EVENT_LOST; so
 * does a drop the card reports, for every file, since the lost event's tile
 * is not known.
 *
 * While a job runs, the events of its tiles go to the job's sink instead,
 * as the card stamped them (the job counts them from its start when it
 * ends, as it learns its start from the card in the same batch).
 */
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/uio.h>

#include "ionpu_drv.h"

/* Events moved to the user per lock hold: bounds the stack buffer. */
#define IONPU_READ_CHUNK	32

int ionpu_stream_init(struct ionpu_device *idev)
{
	struct ionpu_events *ev = &idev->ev;

	ev->ring = dmam_alloc_coherent(&idev->pdev->dev,
				       IONPU_EQ_DEPTH * sizeof(*ev->ring),
				       &ev->ring_dma, GFP_KERNEL);
	return ev->ring ? 0 : -ENOMEM;
}

/* Part of the queue bring-up, while QUEUE_CONTROL.ENABLE is 0. */
void ionpu_stream_program(struct ionpu_device *idev)
{
	struct ionpu_events *ev = &idev->ev;

	spin_lock(&ev->lock);
	memset(ev->ring, 0, IONPU_EQ_DEPTH * sizeof(*ev->ring));
	ev->head = 0;
	ev->phase = true;
	spin_unlock(&ev->lock);

	ionpu_wr(idev, IONPU_REG_EQ_BASE_LO, lower_32_bits(ev->ring_dma));
	ionpu_wr(idev, IONPU_REG_EQ_BASE_HI, upper_32_bits(ev->ring_dma));
	ionpu_wr(idev, IONPU_REG_EQ_SIZE, IONPU_EQ_DEPTH);
}

/* Route the events of @tiles to @f (NULL: to nobody).  Under lease_lock. */
void ionpu_stream_own(struct ionpu_device *idev, u64 tiles,
		      struct ionpu_file *f)
{
	struct ionpu_events *ev = &idev->ev;
	u32 tile;

	spin_lock(&ev->lock);
	for (tile = 0; tile < idev->tiles; tile++)
		if (tiles & BIT_ULL(tile))
			ev->owner[tile] = f;
	spin_unlock(&ev->lock);
}

/* Every file that owns a tile, and the running job, missed an event. */
static void ionpu_stream_lost_all(struct ionpu_events *ev)
{
	u32 tile;

	for (tile = 0; tile < IONPU_MAX_TILES; tile++)
		if (ev->owner[tile])
			ev->owner[tile]->lost = true;
	if (ev->sink)
		ev->sink->lost = true;
}

/* Give the events of @sink's tiles to it (NULL: to their files again). */
void ionpu_stream_sink(struct ionpu_device *idev, struct ionpu_job_sink *sink)
{
	struct ionpu_events *ev = &idev->ev;

	spin_lock(&ev->lock);
	ev->sink = sink;
	spin_unlock(&ev->lock);
}

u64 ionpu_stream_dropped(struct ionpu_file *f)
{
	struct ionpu_events *ev = &f->idev->ev;
	u64 dropped;

	spin_lock(&ev->lock);
	dropped = f->events_dropped;
	spin_unlock(&ev->lock);
	return dropped;
}

/* Store @e in @sink when there is room; count it anyway. */
static void ionpu_sink_put(struct ionpu_job_sink *sink, struct ionpu_event e)
{
	if (sink->produced < sink->room) {
		e.flags = sink->lost ? IONPU_EVENT_LOST : 0;
		sink->lost = false;
		sink->buf[sink->produced] = e;
	}
	if (sink->produced < U32_MAX)
		sink->produced++;
}

/* Called by the output-spike vector's handler, and after a RUN. */
void ionpu_stream_consume(struct ionpu_device *idev)
{
	struct ionpu_events *ev = &idev->ev;
	bool delivered = false;
	u32 start;

	/* A card without queues has no ring, whatever its causes say. */
	if (!ev->ring)
		return;
	spin_lock(&ev->lock);
	start = ev->head;
	for (;;) {
		struct ionpu_hw_eqe *eqe = &ev->ring[ev->head];
		u8 flags = READ_ONCE(eqe->flags);
		struct ionpu_event e = { };
		struct ionpu_file *f;

		if (!!(flags & IONPU_EQE_PHASE) != ev->phase)
			break;
		/* Read the entry only after seeing its phase flip. */
		dma_rmb();
		e.timestep = le32_to_cpu(eqe->timestep);
		e.neuron = le16_to_cpu(eqe->neuron);
		e.tile = eqe->tile;
		if (++ev->head == IONPU_EQ_DEPTH) {
			ev->head = 0;
			ev->phase = !ev->phase;
		}
		if (flags & IONPU_EQE_LOST)
			ionpu_stream_lost_all(ev);

		if (ev->sink && e.tile < IONPU_MAX_TILES &&
		    ev->sink->tiles & BIT_ULL(e.tile)) {
			ionpu_sink_put(ev->sink, e);
			continue;
		}
		/* A tile released since the spike: nobody's event. */
		f = e.tile < IONPU_MAX_TILES ? ev->owner[e.tile] : NULL;
		if (!f)
			continue;
		if (kfifo_is_full(&f->events)) {
			f->lost = true;
			f->events_dropped++;
			continue;
		}
		if (f->lost)
			e.flags = IONPU_EVENT_LOST;
		f->lost = false;
		kfifo_put(&f->events, e);
		delivered = true;
	}
	if (ev->head != start)
		ionpu_wr(idev, IONPU_REG_EQ_HEAD_DB, ev->head);
	spin_unlock(&ev->lock);

	if (delivered)
		wake_up_interruptible_all(&ev->wait);
}

int ionpu_stream_open(struct ionpu_file *f)
{
	return kfifo_alloc(&f->events, IONPU_EQ_DEPTH, GFP_KERNEL_ACCOUNT);
}

/* After the file's tiles were released: no handler can reach it any more. */
void ionpu_stream_close(struct ionpu_file *f)
{
	kfifo_free(&f->events);
}

static bool ionpu_stream_ready(struct ionpu_file *f)
{
	return !kfifo_is_empty(&f->events) || READ_ONCE(f->idev->gone);
}

ssize_t ionpu_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct ionpu_file *f = iocb->ki_filp->private_data;
	struct ionpu_events *ev = &f->idev->ev;
	bool nowait = (iocb->ki_flags & IOCB_NOWAIT) ||
		      (iocb->ki_filp->f_flags & O_NONBLOCK);
	size_t want = iov_iter_count(to) / sizeof(struct ionpu_event);
	struct ionpu_event buf[IONPU_READ_CHUNK];
	ssize_t done = 0;
	int ret;

	if (!want)
		return -EINVAL;
	while (want) {
		size_t len;
		unsigned int n;

		spin_lock(&ev->lock);
		n = kfifo_out(&f->events, buf, min_t(size_t, want,
						     IONPU_READ_CHUNK));
		spin_unlock(&ev->lock);
		if (n) {
			len = n * sizeof(buf[0]);
			if (copy_to_iter(buf, len, to) != len)
				return done ? done : -EFAULT;
			done += len;
			want -= n;
			continue;
		}
		if (done)
			break;
		if (READ_ONCE(f->idev->gone))
			return -ENODEV;
		if (nowait)
			return -EAGAIN;
		ret = wait_event_interruptible(ev->wait, ionpu_stream_ready(f));
		if (ret)
			return ret;
	}
	return done;
}

__poll_t ionpu_poll(struct file *file, struct poll_table_struct *wait)
{
	struct ionpu_file *f = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &f->idev->ev.wait, wait);
	if (!kfifo_is_empty(&f->events))
		mask |= EPOLLIN | EPOLLRDNORM;
	/*
	 * write() waits for the card, never for room: a writer that polls
	 * first (io_uring does) must not wait for a room that never comes.
	 */
	if (READ_ONCE(f->idev->gone))
		mask |= EPOLLHUP | EPOLLERR;
	else
		mask |= EPOLLOUT | EPOLLWRNORM;
	mask |= ionpu_lease_poll(f);
	return mask;
}
