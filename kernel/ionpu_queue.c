// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the command queues (docs/hardware.md, "Queues" and "Commands").
 *
 * Commands go through one submission queue; the card answers each with one
 * entry in the completion queue, matched by command id.  The card is not
 * trusted: a completion whose id is not in flight, completes twice, or
 * carries an earlier generation of its slot (IONPU_CID()), is counted and
 * dropped, never acted on.
 *
 * Payloads are bounced through coherent DMA buffers (through single pages
 * and a scatter-gather list past IONPU_BOUNCE_CONTIG_MAX, on a card that
 * reads lists), or reach the card through a list of pinned user pages
 * (ionpu_pin.c).  A
 * submitter that stops waiting (timeout, fatal signal, card gone) abandons
 * its slot: the slot then owns the buffers, which stay mapped (and pinned)
 * until the card completes the command or is stopped for good, so a late
 * DMA never lands in freed memory or in pages given back to their owner
 * (it may land in the caller's pinned pages after the call returned: the
 * UAPI header says so).
 */
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "ionpu_drv.h"

static unsigned int cmd_timeout_ms = 10000;
module_param(cmd_timeout_ms, uint, 0644);
MODULE_PARM_DESC(cmd_timeout_ms,
		 "A command the card has not completed after this long (ms) is failed with -ETIMEDOUT and the card is reset");

int ionpu_buf_alloc(struct ionpu_device *idev, struct ionpu_dma_buf *buf,
		    size_t len)
{
	buf->len = len;
	buf->cpu = NULL;
	buf->dma = 0;
	buf->pin = NULL;
	if (!len)
		return 0;
	if (len > IONPU_BOUNCE_CONTIG_MAX && idev->caps & IONPU_CAP_SGL)
		return ionpu_pin_bounce(idev, buf);
	buf->cpu = dma_alloc_coherent(&idev->pdev->dev, len, &buf->dma,
				      GFP_KERNEL);
	return buf->cpu ? 0 : -ENOMEM;
}

/* A bounce buffer holding @len bytes copied from @data (@len 0: none). */
int ionpu_buf_from(struct ionpu_device *idev, struct ionpu_dma_buf *buf,
		   const void *data, size_t len)
{
	int ret = ionpu_buf_alloc(idev, buf, len);

	if (ret || !len)
		return ret;
	memcpy(buf->cpu, data, len);
	return 0;
}

/*
 * Any kind; with the card's PCI function bound, see ionpu_pin_free().  A
 * buffer of pages has its CPU mapping freed with them.
 */
void ionpu_buf_free(struct ionpu_device *idev, struct ionpu_dma_buf *buf)
{
	if (buf->pin)
		ionpu_pin_free(idev, buf->pin);
	else if (buf->cpu)
		dma_free_coherent(&idev->pdev->dev, buf->len, buf->cpu,
				  buf->dma);
	buf->cpu = NULL;
	buf->pin = NULL;
}

static void ionpu_queue_program(struct ionpu_device *idev)
{
	struct ionpu_queues *q = &idev->q;

	memset(q->sq, 0, IONPU_QUEUE_DEPTH * sizeof(*q->sq));
	memset(q->cq, 0, IONPU_QUEUE_DEPTH * sizeof(*q->cq));
	q->sq_tail = 0;
	q->cq_head = 0;
	q->cq_phase = true;

	ionpu_wr(idev, IONPU_REG_QUEUE_CONTROL, 0);
	ionpu_wr(idev, IONPU_REG_SQ_BASE_LO, lower_32_bits(q->sq_dma));
	ionpu_wr(idev, IONPU_REG_SQ_BASE_HI, upper_32_bits(q->sq_dma));
	ionpu_wr(idev, IONPU_REG_SQ_SIZE, IONPU_QUEUE_DEPTH);
	ionpu_wr(idev, IONPU_REG_CQ_BASE_LO, lower_32_bits(q->cq_dma));
	ionpu_wr(idev, IONPU_REG_CQ_BASE_HI, upper_32_bits(q->cq_dma));
	ionpu_wr(idev, IONPU_REG_CQ_SIZE, IONPU_QUEUE_DEPTH);
	ionpu_stream_program(idev);
	ionpu_wr(idev, IONPU_REG_QUEUE_CONTROL, IONPU_QUEUE_ENABLE);
}

/*
 * Stop accepting commands and release every waiter with @err.  Each waiter
 * itself abandons its slot, unless the card completed the command first:
 * until then the buffers are the waiter's, and a completion that arrives
 * meanwhile must not reap them.  The card may still be working: callers
 * stop it (reset), wait for the waiters to leave (@idev->lock for write)
 * and then call ionpu_queue_reclaim().
 */
void ionpu_queue_kill(struct ionpu_device *idev, int err)
{
	struct ionpu_queues *q = &idev->q;
	unsigned int i;

	spin_lock(&q->lock);
	q->dead = err;
	for (i = 0; i < IONPU_MAX_INFLIGHT; i++) {
		struct ionpu_slot *s = &q->slot[i];

		if (s->busy && !s->completed && !s->abandoned)
			complete(&s->done);
	}
	spin_unlock(&q->lock);
	wake_up_all(&q->slot_wait);
}

/* Which abandoned slots ionpu_queue_free_abandoned() frees. */
enum ionpu_reap {
	IONPU_REAP_COMPLETED,	/* those the card completed */
	IONPU_REAP_ALL,		/* every one: the card was stopped */
};

/* Free the buffers of abandoned slots whose card can no longer touch them. */
static void ionpu_queue_free_abandoned(struct ionpu_device *idev,
				       enum ionpu_reap which)
{
	struct ionpu_queues *q = &idev->q;
	unsigned int i;

	for (i = 0; i < IONPU_MAX_INFLIGHT; i++) {
		struct ionpu_slot *s = &q->slot[i];
		struct ionpu_dma_buf in, out;

		spin_lock(&q->lock);
		if (!s->busy || !s->abandoned ||
		    (which == IONPU_REAP_COMPLETED && !s->completed)) {
			spin_unlock(&q->lock);
			continue;
		}
		in = s->in;
		out = s->out;
		s->busy = false;
		s->abandoned = false;
		spin_unlock(&q->lock);

		ionpu_buf_free(idev, &in);
		ionpu_buf_free(idev, &out);
		wake_up(&q->slot_wait);
	}
}

/*
 * Freeing coherent memory and unpinning pages (which may sleep on a page
 * lock) is kept out of the interrupt thread, whose latency every
 * completion of the card waits for.
 */
static void ionpu_queue_reap_work(struct work_struct *work)
{
	struct ionpu_queues *q = container_of(work, struct ionpu_queues,
					      reap_work);
	struct ionpu_device *idev = container_of(q, struct ionpu_device, q);

	ionpu_queue_free_abandoned(idev, IONPU_REAP_COMPLETED);
}

/* Once no interrupt handler can run: no reaping is left behind. */
void ionpu_queue_reap_stop(struct ionpu_device *idev)
{
	cancel_work_sync(&idev->q.reap_work);
}

/**
 * ionpu_queue_init() - allocate the rings; they work after ionpu_queue_start()
 * @idev: the card
 *
 * Return: 0, also for a card without queues, or -ENOMEM.
 */
int ionpu_queue_init(struct ionpu_device *idev)
{
	struct ionpu_queues *q = &idev->q;
	struct device *dev = &idev->pdev->dev;
	unsigned int i;

	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->slot_wait);
	INIT_WORK(&q->reap_work, ionpu_queue_reap_work);
	for (i = 0; i < IONPU_MAX_INFLIGHT; i++)
		init_completion(&q->slot[i].done);
	q->dead = -ENODEV;
	if (!(idev->caps & IONPU_CAP_QUEUES))
		return 0;
	if (ionpu_stream_init(idev))
		return -ENOMEM;

	q->sq = dmam_alloc_coherent(dev, IONPU_QUEUE_DEPTH * sizeof(*q->sq),
				    &q->sq_dma, GFP_KERNEL);
	q->cq = dmam_alloc_coherent(dev, IONPU_QUEUE_DEPTH * sizeof(*q->cq),
				    &q->cq_dma, GFP_KERNEL);
	return q->sq && q->cq ? 0 : -ENOMEM;
}

/* Program the rings into a card that was just reset, and accept commands. */
void ionpu_queue_start(struct ionpu_device *idev)
{
	struct ionpu_queues *q = &idev->q;

	if (!(idev->caps & IONPU_CAP_QUEUES))
		return;
	ionpu_queue_program(idev);
	spin_lock(&q->lock);
	q->dead = 0;
	spin_unlock(&q->lock);
}

/*
 * After a reset stopped the card: free every abandoned buffer.  The rings
 * themselves are device-managed and go with the driver binding.
 */
void ionpu_queue_reclaim(struct ionpu_device *idev)
{
	ionpu_queue_free_abandoned(idev, IONPU_REAP_ALL);
}

/* Called by the completion vector's handler. */
void ionpu_queue_complete(struct ionpu_device *idev)
{
	struct ionpu_queues *q = &idev->q;
	bool reap = false, garbled = false;

	spin_lock(&q->lock);
	for (;;) {
		struct ionpu_hw_cqe *cqe = &q->cq[q->cq_head];
		u16 status = le16_to_cpu(READ_ONCE(cqe->status));
		struct ionpu_slot *s;
		bool undefined;
		u16 cid;

		if (!!(status & IONPU_CQE_PHASE) != q->cq_phase)
			break;
		/* Read the entry only after seeing its phase flip. */
		dma_rmb();
		cid = le16_to_cpu(cqe->cid);
		if (++q->cq_head == IONPU_QUEUE_DEPTH) {
			q->cq_head = 0;
			q->cq_phase = !q->cq_phase;
		}
		/*
		 * The card could not fetch an entry: the command is the one
		 * just before the SQ head it reports.
		 */
		if (cid == IONPU_CID_UNKNOWN &&
		    IONPU_CQE_CODE(status) == IONPU_SC_DMA_ERROR) {
			u16 head = le16_to_cpu(cqe->sq_head);

			if (head < IONPU_QUEUE_DEPTH)
				cid = q->sq_cid[(head + IONPU_QUEUE_DEPTH - 1) %
						IONPU_QUEUE_DEPTH];
		}

		s = IONPU_CID_SLOT(cid) < IONPU_MAX_INFLIGHT ?
			&q->slot[IONPU_CID_SLOT(cid)] : NULL;
		/*
		 * A stale copy names a slot and a status the card defines.
		 * Anything else is garbled, even when its id happens to be
		 * one in flight, and stood for a completion now lost, which
		 * a command without a timeout (a RUN) would wait on for ever:
		 * the card is reset as a hung one.
		 */
		undefined = !s || IONPU_CQE_CODE(status) > IONPU_SC_LAST;
		garbled |= undefined;
		/* A stale generation is an earlier command's: not this one's. */
		if (undefined || !s->busy || s->completed || s->cid != cid) {
			q->bad_cqes++;
			dev_err_ratelimited(&idev->pdev->dev,
					    "dropped completion for command id %u (status %#x)\n",
					    cid, status);
			continue;
		}
		s->code = IONPU_CQE_CODE(status);
		s->result = le64_to_cpu(cqe->result);
		s->completed = true;
		if (s->abandoned)
			reap = true;
		else
			complete(&s->done);
	}
	ionpu_wr(idev, IONPU_REG_CQ_HEAD_DB, q->cq_head);
	spin_unlock(&q->lock);

	if (reap)
		schedule_work(&q->reap_work);
	if (garbled)
		ionpu_recover(idev);
}

static int ionpu_sc_to_errno(u16 code)
{
	switch (code) {
	case IONPU_SC_SUCCESS:
		return 0;
	case IONPU_SC_INVALID_OPCODE:
		return -EOPNOTSUPP;
	case IONPU_SC_INVALID_FIELD:
	case IONPU_SC_INVALID_TILE:
	case IONPU_SC_INVALID_LENGTH:
		return -EINVAL;
	case IONPU_SC_BUSY:
		return -EBUSY;
	case IONPU_SC_ABORTED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

/*
 * Take a free slot: true with *@cid set, or true with *@cid at
 * IONPU_MAX_INFLIGHT once the queues are killed; false to keep waiting.
 */
static bool ionpu_slot_get(struct ionpu_queues *q, unsigned int *cid)
{
	bool done = true;
	unsigned int i;

	spin_lock(&q->lock);
	*cid = IONPU_MAX_INFLIGHT;
	if (q->dead)
		goto out;
	for (i = 0; i < IONPU_MAX_INFLIGHT; i++) {
		struct ionpu_slot *s = &q->slot[i];

		if (!s->busy) {
			s->busy = true;
			s->completed = false;
			s->abandoned = false;
			s->gen = (s->gen + 1) & IONPU_CID_GEN_MASK;
			s->cid = IONPU_CID(i, s->gen);
			reinit_completion(&s->done);
			*cid = i;
			goto out;
		}
	}
	done = false;
out:
	spin_unlock(&q->lock);
	return done;
}

static void ionpu_sqe_fill(struct ionpu_hw_sqe *sqe,
			   const struct ionpu_cmd *cmd,
			   const struct ionpu_slot *s)
{
	unsigned int i;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = cmd->opcode;
	sqe->flags = (s->in.pin ? IONPU_SQE_FLAG_IN_SGL : 0) |
		     (s->out.pin ? IONPU_SQE_FLAG_OUT_SGL : 0);
	sqe->cid = cpu_to_le16(s->cid);
	sqe->tile = cpu_to_le16(cmd->tile);
	sqe->in_addr = cpu_to_le64(s->in.dma);
	sqe->in_len = cpu_to_le32(s->in.len);
	sqe->out_len = cpu_to_le32(s->out.len);
	sqe->out_addr = cpu_to_le64(s->out.dma);
	for (i = 0; i < IONPU_SQE_PARAMS; i++)
		sqe->param[i] = cpu_to_le32(cmd->param[i]);
}

/*
 * Wait for a free slot as @cmd says.  *@cid is IONPU_MAX_INFLIGHT, no slot,
 * when the queues were killed; the kill's error is returned then.
 */
static int ionpu_slot_wait(struct ionpu_queues *q, const struct ionpu_cmd *cmd,
			   unsigned int *cid)
{
	int ret;

	if (cmd->flags & IONPU_CMD_NOWAIT) {
		if (!ionpu_slot_get(q, cid))
			return -EBUSY;
	} else if (cmd->flags & IONPU_CMD_UNKILLABLE) {
		wait_event(q->slot_wait, ionpu_slot_get(q, cid));
	} else {
		ret = wait_event_killable(q->slot_wait,
					  ionpu_slot_get(q, cid));
		if (ret)
			return ret;
	}
	if (*cid < IONPU_MAX_INFLIGHT)
		return 0;
	ret = READ_ONCE(q->dead);
	/* Never "success" without a slot, whatever the kill said. */
	return ret ? ret : -EIO;
}

/*
 * Give slot @cid the command's buffers and put the command in the SQ; its
 * deadline is @timeout from now.  Frees the slot when the queues died
 * since it was taken.
 */
static int ionpu_cmd_post(struct ionpu_device *idev,
			  const struct ionpu_cmd *cmd, unsigned int cid,
			  const struct ionpu_dma_buf *ib,
			  const struct ionpu_dma_buf *ob, long timeout)
{
	struct ionpu_queues *q = &idev->q;
	struct ionpu_slot *s = &q->slot[cid];
	size_t user;
	int ret;

	spin_lock(&q->lock);
	ret = q->dead;
	if (ret) {
		s->busy = false;
		spin_unlock(&q->lock);
		return ret;
	}
	s->in = *ib;
	s->out = *ob;
	s->timed = !(cmd->flags & IONPU_CMD_UNTIMED);
	s->deadline = jiffies + timeout;
	user = ionpu_pin_user_bytes(ib->pin) + ionpu_pin_user_bytes(ob->pin);
	if (user) {
		WRITE_ONCE(q->sgl_cmds, q->sgl_cmds + 1);
		WRITE_ONCE(q->sgl_bytes, q->sgl_bytes + user);
	}
	ionpu_sqe_fill(&q->sq[q->sq_tail], cmd, s);
	q->sq_cid[q->sq_tail] = s->cid;
	q->sq_tail = (q->sq_tail + 1) % IONPU_QUEUE_DEPTH;
	/* The entry must be in memory before the card sees the new tail. */
	wmb();
	ionpu_wr(idev, IONPU_REG_SQ_TAIL_DB, q->sq_tail);
	spin_unlock(&q->lock);
	ionpu_watchdog_kick(idev);
	return 0;
}

/*
 * Wait for the completion of the command in @s, for at most @timeout.  A
 * submitter that stops waiting first leaves the buffers to the slot, as
 * the card may still DMA, and empties @ib and @ob.
 */
static int ionpu_cmd_wait(struct ionpu_device *idev,
			  const struct ionpu_cmd *cmd, struct ionpu_slot *s,
			  struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
			  long timeout, u64 *result)
{
	struct ionpu_queues *q = &idev->q;
	long left;
	int ret;

	if (cmd->flags & IONPU_CMD_UNKILLABLE)
		left = wait_for_completion_timeout(&s->done, timeout);
	else
		left = wait_for_completion_killable_timeout(&s->done, timeout);

	spin_lock(&q->lock);
	if (!s->completed) {
		s->abandoned = true;
		ib->cpu = NULL;
		ib->pin = NULL;
		ob->cpu = NULL;
		ob->pin = NULL;
		spin_unlock(&q->lock);
		if (left < 0)
			return -EINTR;
		if (left)
			return q->dead;
		ionpu_recover(idev);
		return -ETIMEDOUT;
	}
	ret = ionpu_sc_to_errno(s->code);
	if (result)
		*result = s->result;
	s->busy = false;
	spin_unlock(&q->lock);
	wake_up(&q->slot_wait);
	return ret;
}

/*
 * Check @cmd and its buffers, take a slot as @cmd->flags say and post the
 * command: *@cid is its slot and *@timeout its wait.  Posts nothing on an
 * error, -EBUSY included (IONPU_CMD_NOWAIT and no slot free).
 */
static int ionpu_cmd_start(struct ionpu_device *idev,
			   const struct ionpu_cmd *cmd,
			   const struct ionpu_dma_buf *ib,
			   const struct ionpu_dma_buf *ob, unsigned int *cid,
			   long *timeout)
{
	int ret;

	*timeout = cmd->flags & IONPU_CMD_UNTIMED ? MAX_SCHEDULE_TIMEOUT :
		msecs_to_jiffies(max(READ_ONCE(cmd_timeout_ms), 1U));
	if (!(idev->caps & IONPU_CAP_QUEUES))
		return -EOPNOTSUPP;
	if (ib->len > U32_MAX || ob->len > U32_MAX)
		return -EINVAL;
	/* A list of pinned pages only goes to a card that reads lists. */
	if (WARN_ON_ONCE((ib->pin || ob->pin) && !(idev->caps & IONPU_CAP_SGL)))
		return -EINVAL;

	/* Without a slot, the queues were killed: ret is their error. */
	ret = ionpu_slot_wait(&idev->q, cmd, cid);
	if (ret)
		return ret;
	ionpu_pin_sync(idev, ib->pin, IONPU_SYNC_FOR_DEVICE);
	ionpu_pin_sync(idev, ob->pin, IONPU_SYNC_FOR_DEVICE);
	ret = ionpu_cmd_post(idev, cmd, *cid, ib, ob, *timeout);
	if (ret) {
		ionpu_pin_sync(idev, ib->pin, IONPU_SYNC_FOR_CPU);
		ionpu_pin_sync(idev, ob->pin, IONPU_SYNC_FOR_CPU);
	}
	return ret;
}

/* Wait for the command ionpu_cmd_start() posted in slot @cid. */
static int ionpu_cmd_end(struct ionpu_device *idev,
			 const struct ionpu_cmd *cmd, unsigned int cid,
			 struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
			 long timeout, u64 *result)
{
	int ret = ionpu_cmd_wait(idev, cmd, &idev->q.slot[cid], ib, ob,
				 timeout, result);

	/* Emptied when abandoned: the card may still use them. */
	ionpu_pin_sync(idev, ib->pin, IONPU_SYNC_FOR_CPU);
	ionpu_pin_sync(idev, ob->pin, IONPU_SYNC_FOR_CPU);
	return ret;
}

/* After a command: its answer to @out when it succeeded, its buffers freed. */
static void ionpu_cmd_put_bufs(struct ionpu_device *idev, int ret,
			       struct ionpu_dma_buf *ib,
			       struct ionpu_dma_buf *ob, void *out)
{
	if (!ret && out && ob->cpu)
		memcpy(out, ob->cpu, ob->len);
	ionpu_buf_free(idev, ob);
	ionpu_buf_free(idev, ib);
}

/**
 * ionpu_cmd_submit() - run one command with payload buffers the caller filled
 * @idev: the card, with @idev->lock held for read and not gone
 * @cmd: the command; its lengths are ignored, the buffers' are used
 * @ib: payload for the card (@ib->len 0: none)
 * @ob: buffer the card writes (@ob->len 0: none)
 * @result: out: the completion's result (may be NULL)
 *
 * Lets a caller fill bounce buffers itself, or hand over pinned user
 * memory (@ib->pin, @ob->pin: only to a card with IONPU_CAP_SGL).  Waits
 * killably, for at most cmd_timeout_ms unless IONPU_CMD_UNTIMED; a card that
 * lets a command time out is taken as hung and reset (ionpu_recover()).
 * When the wait is abandoned the card may still use the buffers: the slot
 * takes them over and @ib and @ob are emptied, so ionpu_buf_free() on them
 * is always right.
 *
 * Return: as ionpu_cmd_exec().
 */
int ionpu_cmd_submit(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
		     struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
		     u64 *result)
{
	unsigned int cid;
	long timeout;
	int ret;

	ret = ionpu_cmd_start(idev, cmd, ib, ob, &cid, &timeout);
	if (ret)
		return ret;
	return ionpu_cmd_end(idev, cmd, cid, ib, ob, timeout, result);
}

/**
 * ionpu_cmd_exec() - run one command on the card and wait for it
 * @idev: the card, with @idev->lock held for read and not gone
 * @cmd: the command
 * @in: @cmd->in_len bytes of payload for the card, or NULL
 * @out: room for @cmd->out_len bytes from the card, or NULL
 * @result: out: the completion's result (may be NULL)
 *
 * Waits killably, for at most cmd_timeout_ms; a card that lets a command
 * time out is taken as hung and reset (ionpu_recover()).
 *
 * Return: 0; the completion status as an errno (-EINVAL for a field the
 * card refused, -EBUSY, -ECANCELED, -EIO for a DMA or internal error);
 * -ETIMEDOUT; -EINTR on a fatal signal; the error the queues were killed
 * with (-ENODEV: the card went away, -EIO: it was reset); -EOPNOTSUPP for a
 * card without queues.
 */
int ionpu_cmd_exec(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
		   const void *in, void *out, u64 *result)
{
	struct ionpu_dma_buf ib, ob;
	int ret;

	if (!(idev->caps & IONPU_CAP_QUEUES))
		return -EOPNOTSUPP;
	if (cmd->in_len > U32_MAX || cmd->out_len > U32_MAX)
		return -EINVAL;

	ret = ionpu_buf_from(idev, &ib, in, cmd->in_len);
	if (ret)
		return ret;
	ret = ionpu_buf_alloc(idev, &ob, cmd->out_len);
	if (ret) {
		ionpu_buf_free(idev, &ib);
		return ret;
	}
	return ionpu_cmd_finish(idev, cmd, &ib, &ob, out, result);
}

/**
 * ionpu_cmd_finish() - submit a command and free its buffers
 * @idev: the card, with @idev->lock held for read and not gone
 * @cmd: the command
 * @ib: its payload
 * @ob: room for its answer
 * @out: where a bounced answer goes when the command succeeds, or NULL
 * @result: out: the completion's result (may be NULL)
 *
 * Return: as ionpu_cmd_submit().
 */
int ionpu_cmd_finish(struct ionpu_device *idev, const struct ionpu_cmd *cmd,
		     struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
		     void *out, u64 *result)
{
	int ret = ionpu_cmd_submit(idev, cmd, ib, ob, result);

	ionpu_cmd_put_bufs(idev, ret, ib, ob, out);
	return ret;
}

/**
 * ionpu_batch_init() - start an empty batch of commands
 * @b: the batch
 * @idev: the card its commands go to
 */
void ionpu_batch_init(struct ionpu_cmd_batch *b, struct ionpu_device *idev)
{
	b->idev = idev;
	b->n = 0;
}

/**
 * ionpu_batch_wait() - wait for every command of a batch, in order
 * @b: the batch, with @b->idev->lock held for read as when they were added
 *
 * Each command is waited for as ionpu_cmd_submit() would, its answer
 * copied out when it succeeded, its buffers freed (or left to its slot
 * when the wait was abandoned).  The batch is empty again after.
 *
 * Return: 0, or the error of the first command that failed.
 */
int ionpu_batch_wait(struct ionpu_cmd_batch *b)
{
	int first = 0, ret;
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		struct ionpu_batch_entry *e = &b->e[i];

		ret = ionpu_cmd_end(b->idev, &e->cmd, e->cid, &e->ib, &e->ob,
				    e->timeout, e->result);
		ionpu_cmd_put_bufs(b->idev, ret, &e->ib, &e->ob, e->out);
		if (!first)
			first = ret;
	}
	b->n = 0;
	return first;
}

/**
 * ionpu_batch_add() - post a command behind those of a batch
 * @b: the batch, with @b->idev->lock held for read and not gone
 * @cmd: the command; its lengths are ignored, the buffers' are used
 * @ib: its payload, the batch's from now on: emptied here
 * @ob: room for its answer, the batch's from now on: emptied here
 * @out: where a bounced answer goes when the command succeeds, or NULL
 * @result: out: the completion's result, once waited for (may be NULL)
 *
 * The commands go to the card without waiting for one another, one
 * doorbell each, and the card runs them in the order they were added.
 * Each one runs whatever the outcome of those before it: a caller whose
 * commands depend on each other learns of a failure at the wait, after
 * the later ones ran.  A full batch is waited for first.  The batch holds
 * far fewer slots than the card has, so waiting for one while holding
 * some cannot starve: the others' holders free theirs as the card answers.
 *
 * Return: 0 when posted; else the command's error, or that of one waited
 * for first, and the command is not posted (its buffers are freed).
 */
int ionpu_batch_add(struct ionpu_cmd_batch *b, const struct ionpu_cmd *cmd,
		    struct ionpu_dma_buf *ib, struct ionpu_dma_buf *ob,
		    void *out, u64 *result)
{
	struct ionpu_batch_entry *e;
	int ret = 0;

	if (b->n == IONPU_BATCH_MAX)
		ret = ionpu_batch_wait(b);
	if (ret)
		goto err_free;
	e = &b->e[b->n];
	ret = ionpu_cmd_start(b->idev, cmd, ib, ob, &e->cid, &e->timeout);
	if (ret)
		goto err_free;
	e->cmd = *cmd;
	e->ib = *ib;
	e->ob = *ob;
	e->out = out;
	e->result = result;
	b->n++;
	*ib = (struct ionpu_dma_buf){ };
	*ob = (struct ionpu_dma_buf){ };
	return 0;

err_free:
	ionpu_cmd_put_bufs(b->idev, ret, ib, ob, NULL);
	return ret;
}

/*
 * Whether the card has commands it has not completed, waited for or
 * abandoned; *@overdue tells whether a timed one is past its deadline,
 * which only matters for one whose submitter no longer waits.
 */
bool ionpu_queue_outstanding(struct ionpu_device *idev, bool *overdue)
{
	struct ionpu_queues *q = &idev->q;
	bool ret = false;
	unsigned int i;

	*overdue = false;
	spin_lock(&q->lock);
	for (i = 0; i < IONPU_MAX_INFLIGHT && !q->dead; i++) {
		const struct ionpu_slot *s = &q->slot[i];

		if (!s->busy || s->completed)
			continue;
		ret = true;
		if (s->timed && time_after(jiffies, s->deadline))
			*overdue = true;
	}
	spin_unlock(&q->lock);
	return ret;
}

/**
 * ionpu_queue_probe() - check that the card still executes commands
 * @idev: the card, with @idev->lock held for read and not gone
 *
 * Sends an IDENTIFY, which the card executes between two timesteps even
 * while it runs, and waits for it as for any command: a card that does
 * not answer within cmd_timeout_ms is taken as hung and reset.  Waits for
 * no slot: with every slot taken the next probe tries again, and the timed
 * commands among them find a hang by themselves.
 *
 * Return: 0 or the error of ionpu_cmd_exec(), -EBUSY when no slot was free.
 */
int ionpu_queue_probe(struct ionpu_device *idev)
{
	const struct ionpu_cmd cmd = {
		.opcode = IONPU_OP_IDENTIFY,
		.out_len = sizeof(struct ionpu_hw_identify),
		.flags = IONPU_CMD_NOWAIT,
	};
	struct ionpu_hw_identify id;

	return ionpu_cmd_exec(idev, &cmd, NULL, &id, NULL);
}
