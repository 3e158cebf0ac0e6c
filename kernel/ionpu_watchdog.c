// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: the watchdog, which finds a hung card when no caller would.
 *
 * A command's own timeout finds a hang only when the command is timed and
 * its caller still waits; a RUN waits as long as the run, and a caller may
 * have given up.  So while commands are outstanding, the watchdog sends a
 * probe command every watchdog_ms; a card that lets it time out goes
 * through the usual recovery (ionpu_recover()): what is in flight fails
 * with -EIO and the card is reset.  An idle card is left alone.
 */
#include <linux/jiffies.h>
#include <linux/moduleparam.h>

#include "ionpu_drv.h"

static unsigned int watchdog_ms = 1000;
module_param(watchdog_ms, uint, 0644);
MODULE_PARM_DESC(watchdog_ms,
		 "While commands are outstanding, probe the card this often (ms) and reset it when the probe times out; 0 = off");

/*
 * A command went to the card: make sure it is watched.  Armed by commands
 * rather than ticking for ever, so an idle card, or one whose watchdog is
 * off, costs no wakeups; setting watchdog_ms takes effect from the next
 * command.
 */
void ionpu_watchdog_kick(struct ionpu_device *idev)
{
	unsigned int ms = READ_ONCE(watchdog_ms);

	/* Long: a probe may wait for the card for cmd_timeout_ms. */
	if (ms)
		queue_delayed_work(system_long_wq, &idev->watchdog,
				   msecs_to_jiffies(ms));
}

static void ionpu_watchdog_work(struct work_struct *work)
{
	struct ionpu_device *idev = container_of(to_delayed_work(work),
						 struct ionpu_device,
						 watchdog);
	bool again = false, overdue;

	/*
	 * Held for write: the card is being reset or removed, which ends
	 * whatever was outstanding.  A command overdue that nobody waits for
	 * (its submitter was killed) is the card's hang as well: with every
	 * slot held that way, no probe would get through.
	 */
	if (READ_ONCE(watchdog_ms) && down_read_trylock(&idev->lock)) {
		if (!idev->gone && ionpu_queue_outstanding(idev, &overdue)) {
			if (overdue)
				ionpu_recover(idev);
			else
				ionpu_queue_probe(idev);
			again = !overdue && ionpu_queue_outstanding(idev, &overdue);
		}
		up_read(&idev->lock);
	}
	if (again)
		ionpu_watchdog_kick(idev);
}

/* Before the card's first command. */
void ionpu_watchdog_init(struct ionpu_device *idev)
{
	INIT_DELAYED_WORK(&idev->watchdog, ionpu_watchdog_work);
}

/* Stop for good; the queues must be killed first, so no probe waits. */
void ionpu_watchdog_stop(struct ionpu_device *idev)
{
	cancel_delayed_work_sync(&idev->watchdog);
}
