// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu: MSI-X vectors and their threaded handlers.
 *
 * Each vector owns a fixed set of causes in INTR_CAUSE (docs/hardware.md,
 * "Interrupts"), so handlers of different vectors never clear each other's
 * bits and need no lock between them.
 */
#include <linux/interrupt.h>
#include <linux/jiffies.h>

#include "ionpu_drv.h"

#define IONPU_TEST_IRQ_TIMEOUT_MS	1000

/*
 * What only the error vector reports.  A completion the card could not
 * write is lost: its command would wait until it timed out, a RUN (untimed,
 * and the card still answers the watchdog) for ever.  Only a reset ends it,
 * as for a garbled completion: what is in flight fails with -EIO.
 */
static void ionpu_card_error(struct ionpu_device *idev)
{
	u32 code = ionpu_rd(idev, IONPU_REG_ERROR_CODE);
	u32 info = ionpu_rd(idev, IONPU_REG_ERROR_INFO);

	dev_err_ratelimited(&idev->pdev->dev, "card error %u (info %#x)\n",
			    code, info);
	if (code == IONPU_ERR_COMPLETION_LOST)
		ionpu_recover(idev);
}

static irqreturn_t ionpu_irq_thread(int irq, void *data)
{
	struct ionpu_vector *vec = data;
	struct ionpu_device *idev = vec->idev;
	u32 cause;

	cause = ionpu_rd(idev, IONPU_REG_INTR_CAUSE);
	/* All ones: the card fell off the bus; do not ack or count garbage. */
	if (cause == U32_MAX)
		return IRQ_NONE;

	cause &= IONPU_INTR_VEC_MASK(vec->index);
	if (!cause)
		return IRQ_NONE;

	/* Ack before acting: an event after the read raises a new message. */
	ionpu_wr(idev, IONPU_REG_INTR_CAUSE, cause);

	if (cause & IONPU_INTR_CQ)
		ionpu_queue_complete(idev);
	if (cause & IONPU_INTR_SPIKE)
		ionpu_stream_consume(idev);
	if (cause & IONPU_INTR_ERROR)
		ionpu_card_error(idev);
	if (cause & IONPU_INTR_TEST(vec->index)) {
		atomic_inc(&vec->test_irqs);
		wake_up_all(&idev->irq_wait);
	}
	return IRQ_HANDLED;
}

int ionpu_irq_init(struct ionpu_device *idev)
{
	struct pci_dev *pdev = idev->pdev;
	unsigned int i;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, IONPU_NUM_VECTORS, IONPU_NUM_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "cannot get %d MSI-X vectors: %d\n",
			IONPU_NUM_VECTORS, ret);
		return ret;
	}

	for (i = 0; i < IONPU_NUM_VECTORS; i++) {
		struct ionpu_vector *vec = &idev->vec[i];

		vec->idev = idev;
		vec->index = i;
		atomic_set(&vec->test_irqs, 0);
		ret = pci_request_irq(pdev, i, NULL, ionpu_irq_thread, vec,
				      "%s-%u", dev_name(&idev->dev), i);
		if (ret) {
			dev_err(&pdev->dev, "cannot request vector %u: %d\n",
				i, ret);
			goto err_free;
		}
	}
	return 0;

err_free:
	while (i--)
		pci_free_irq(pdev, i, &idev->vec[i]);
	pci_free_irq_vectors(pdev);
	return ret;
}

/*
 * No interrupt from here on, and none still being handled: the queue state
 * the handlers use may then be reset.
 */
void ionpu_irq_disable(struct ionpu_device *idev)
{
	unsigned int i;

	ionpu_wr(idev, IONPU_REG_INTR_ENABLE, 0);
	for (i = 0; i < IONPU_NUM_VECTORS; i++)
		synchronize_irq(pci_irq_vector(idev->pdev, i));
}

void ionpu_irq_fini(struct ionpu_device *idev)
{
	unsigned int i;

	ionpu_wr(idev, IONPU_REG_INTR_ENABLE, 0);
	for (i = 0; i < IONPU_NUM_VECTORS; i++)
		pci_free_irq(idev->pdev, i, &idev->vec[i]);
	pci_free_irq_vectors(idev->pdev);
}

void ionpu_irq_enable(struct ionpu_device *idev)
{
	ionpu_wr(idev, IONPU_REG_INTR_ENABLE, IONPU_INTR_ALL);
}

/**
 * ionpu_irq_test() - ring the test doorbell and wait for its interrupt
 * @idev: the card, with @idev->lock held for read and not gone
 * @vec: the vector to test
 *
 * Return: 0 when the vector's handler saw the test cause, -ETIMEDOUT when
 * it did not within a second, -EINTR on a signal, -EINVAL for a bad vector,
 * -EOPNOTSUPP when the card has no test doorbell.
 */
int ionpu_irq_test(struct ionpu_device *idev, unsigned int vec)
{
	long timeout = msecs_to_jiffies(IONPU_TEST_IRQ_TIMEOUT_MS);
	struct ionpu_vector *v;
	long left;
	int before;

	if (vec >= IONPU_NUM_VECTORS)
		return -EINVAL;
	if (!(idev->caps & IONPU_CAP_TEST_IRQ))
		return -EOPNOTSUPP;
	v = &idev->vec[vec];

	if (mutex_lock_interruptible(&idev->test_lock))
		return -EINTR;
	before = atomic_read(&v->test_irqs);
	ionpu_wr(idev, IONPU_REG_INTR_TEST, vec);
	left = wait_event_interruptible_timeout(idev->irq_wait,
						atomic_read(&v->test_irqs) != before,
						timeout);
	mutex_unlock(&idev->test_lock);

	if (left < 0)
		return -EINTR;
	return left ? 0 : -ETIMEDOUT;
}
