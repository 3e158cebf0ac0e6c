// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: io_uring command submissions (IONPU_URING_CMD_JOB).
 *
 * A job submitted through io_uring is the same job as IONPU_IOC_JOB's
 * (ionpu_job.c): checked at submission, queued, and the submission returns
 * at once.  When the worker is done, the results are copied to the user in
 * the submitting task's context (task work) and the completion posted.
 *
 * io_uring holds the file for as long as a command is in flight, and its
 * ring cannot go away before every command completed.  Jobs complete in
 * bounded time (their timesteps), so that wait is bounded; kernels with
 * cancelable commands (6.7 on) also drop the jobs that have not started
 * when the ring goes away.  A submitting thread may exit while the process
 * goes on reaping: its jobs go on, and a kworker then delivers their
 * results into the process's memory.
 */
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ionpu_compat.h"
#include "ionpu_drv.h"

/**
 * struct ionpu_uring_pdu - what a command in flight keeps in its pdu
 * @job: the job
 * @ujob: user address of its &struct ionpu_job, whose @produced is written
 * @mm: the submitter's memory, grabbed, where the results go
 */
struct ionpu_uring_pdu {
	struct ionpu_kjob *job;
	u64 ujob;
	struct mm_struct *mm;
};

static struct ionpu_uring_pdu *ionpu_uring_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct ionpu_uring_pdu) > sizeof(ioucmd->pdu));
	return (struct ionpu_uring_pdu *)ioucmd->pdu;
}

/* Copy the results out, in the submitter's memory. */
static int ionpu_uring_deliver(struct ionpu_uring_pdu *pdu)
{
	u32 __user *uproduced = u64_to_user_ptr(pdu->ujob +
						offsetof(struct ionpu_job, produced));
	u32 produced = 0;
	int ret;

	ret = ionpu_job_deliver(pdu->job, &produced);
	if (ret >= 0 && put_user(produced, uproduced))
		ret = -EFAULT;
	return ret;
}

/*
 * Copy the results out and complete: in the submitting task, or in a
 * kworker once that task is gone, borrowing the process's memory.
 */
static void ionpu_uring_finish(struct io_uring_cmd *ioucmd,
			       unsigned int issue_flags)
{
	struct ionpu_uring_pdu *pdu = ionpu_uring_pdu(ioucmd);
	struct mm_struct *mm = pdu->mm;
	struct ionpu_kjob *job;
	int ret = -ECANCELED;

	if (current->mm == mm) {
		ret = ionpu_uring_deliver(pdu);
	} else if ((current->flags & PF_KTHREAD) && mmget_not_zero(mm)) {
		kthread_use_mm(mm);
		ret = ionpu_uring_deliver(pdu);
		kthread_unuse_mm(mm);
		mmput(mm);
	}
	/* Else the process is gone, and with it the memory. */
	mmdrop(mm);
	/* The job last: the command must not outlive what its pdu names. */
	job = pdu->job;
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
	ionpu_job_put(job);
}

/*
 * Where late deliveries run: the module's own, so that unloading it waits
 * for the last of them, which may run after the file they came from (and
 * its reference on the module) is gone.
 */
static struct workqueue_struct *ionpu_uring_wq;

int ionpu_uring_init(void)
{
	ionpu_uring_wq = alloc_workqueue(IONPU_NAME "_uring", WQ_UNBOUND, 0);
	return ionpu_uring_wq ? 0 : -ENOMEM;
}

void ionpu_uring_exit(void)
{
	destroy_workqueue(ionpu_uring_wq);
}

/* A command whose submitting thread was exiting, for a kworker. */
struct ionpu_uring_late {
	struct work_struct work;
	struct io_uring_cmd *ioucmd;
};

static void ionpu_uring_late_work(struct work_struct *work)
{
	struct ionpu_uring_late *late =
		container_of(work, struct ionpu_uring_late, work);

	/* Not in io_uring's context: the completion takes its own locks. */
	ionpu_uring_finish(late->ioucmd, IO_URING_F_UNLOCKED);
	kfree(late);
}

/*
 * Task work of the submitting task.  A thread that exits runs it after
 * giving up its memory (6.1; later kernels hand it to a kworker
 * themselves): then the results go through a kworker of ours.
 */
static void ionpu_uring_complete(struct io_uring_cmd *ioucmd,
				 unsigned int issue_flags)
{
	struct ionpu_uring_late *late;

	if (!current->mm && !(current->flags & PF_KTHREAD)) {
		late = kmalloc(sizeof(*late), GFP_KERNEL);
		if (late) {
			INIT_WORK(&late->work, ionpu_uring_late_work);
			late->ioucmd = ioucmd;
			queue_work(ionpu_uring_wq, &late->work);
			return;
		}
	}
	ionpu_uring_finish(ioucmd, issue_flags);
}

/* The worker ran the job. */
static void ionpu_uring_job_done(struct ionpu_kjob *job, void *data)
{
	io_uring_cmd_complete_in_task(data, ionpu_uring_complete);
}

/* The ring goes away: a job that has not started is dropped. */
static void ionpu_uring_cancel(struct io_uring_cmd *ioucmd,
			       unsigned int issue_flags)
{
	struct ionpu_uring_pdu *pdu = ionpu_uring_pdu(ioucmd);

	if (!ionpu_job_cancel(pdu->job))
		return;
	mmdrop(pdu->mm);
	ionpu_job_put(pdu->job);
	io_uring_cmd_done(ioucmd, -ECANCELED, 0, issue_flags);
}

int ionpu_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct ionpu_uring_pdu *pdu = ionpu_uring_pdu(ioucmd);
	struct ionpu_file *f = ioucmd->file->private_data;
	struct ionpu_uring_job cmd;
	struct ionpu_kjob *job;
	struct ionpu_job arg;
	int ret;

	if (ionpu_uring_cancelling(issue_flags)) {
		ionpu_uring_cancel(ioucmd, issue_flags);
		return 0;
	}
	if (ioucmd->cmd_op != IONPU_URING_CMD_JOB)
		return -ENOTTY;
	/* The SQE is shared with the user: work on one copy of it. */
	memcpy(&cmd, ionpu_uring_cmd_area(ioucmd), sizeof(cmd));
	/* @size 0 is the job's first version. */
	if (cmd.flags || (cmd.size && cmd.size < IONPU_JOB_FIRST_SIZE) ||
	    cmd.size > PAGE_SIZE)
		return -EINVAL;
	ret = copy_struct_from_user(&arg, sizeof(arg), u64_to_user_ptr(cmd.job),
				    cmd.size ?: IONPU_JOB_FIRST_SIZE);
	if (ret)
		return ret;

	/* Submitters are user tasks and io_uring's threads, which share their mm. */
	if (!current->mm)
		return -EINVAL;
	job = ionpu_job_create(f, &arg, ionpu_uring_job_done, ioucmd);
	if (IS_ERR(job))
		return PTR_ERR(job);
	pdu->job = job;
	pdu->ujob = cmd.job;
	pdu->mm = current->mm;
	mmgrab(pdu->mm);
	ionpu_uring_mark_cancelable(ioucmd, issue_flags);
	ionpu_job_queue(job);
	return -EIOCBQUEUED;
}
