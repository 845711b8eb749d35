// SPDX-License-Identifier: MIT
/*
 * Interrupts: INTR (CSR0) is the OR of every unmasked cause, whatever
 * IENA says; INTA# is INTR and IENA.  CERR sets ERR but never interrupts.
 */
#include "pcnet_hw.h"

/* CSR0 causes and their CSR3 masks share bit positions. */
#define CSR0_CAUSES	(CSR0_BABL | CSR0_MISS | CSR0_MERR | CSR0_RINT | \
			 CSR0_TINT | CSR0_IDON)

static bool csr4_cause(uint16_t c4, uint16_t bit, uint16_t mask)
{
	return (c4 & bit) && !(c4 & mask);
}

static bool csr5_cause(uint16_t c5, uint16_t bit, uint16_t enable)
{
	return (c5 & bit) && (c5 & enable);
}

static bool intr(const struct pcnet_state *st)
{
	uint16_t c4 = st->csr[CSR_TFC], c5 = st->csr[CSR_ECI1];

	return (st->csr[0] & ~st->csr[CSR_IMDC] & CSR0_CAUSES) ||
	       csr4_cause(c4, CSR4_MFCO, CSR4_MFCOM) ||
	       csr4_cause(c4, CSR4_RCVCCO, CSR4_RCVCCOM) ||
	       csr4_cause(c4, CSR4_TXSTRT, CSR4_TXSTRTM) ||
	       csr4_cause(c4, CSR4_JAB, CSR4_JABM) ||
	       (c4 & CSR4_UINT) ||
	       csr5_cause(c5, CSR5_SINT, CSR5_SINTE) ||
	       csr5_cause(c5, CSR5_SLPINT, CSR5_SLPINTE) ||
	       csr5_cause(c5, CSR5_EXDINT, CSR5_EXDINTE) ||
	       csr5_cause(c5, CSR5_MPINT, CSR5_MPINTE);
}

/*
 * Interrupt hold-off (pcnet_set_irq_holdoff()), a process setting on the
 * INTA# pin only: INTR in CSR0 is what the chip says, the guest sees it
 * when it looks.  Whether the line may go up now; if not, the assertion
 * is deferred to the previous one plus the hold-off (one deadline, folded
 * into pcnet_next_deadline()).
 */
static bool irq_may_assert(struct pcnet *dev)
{
	uint64_t now;

	if (!dev->irq_holdoff_ns) {
		dev->irq_defer_ns = 0;
		dev->irq_due = false;
		return true;
	}
	if (dev->irq_defer_ns && dev->irq_due) {
		now = dev->irq_defer_ns;	/* pcnet_timer() said so */
	} else {
		now = pcnet_clock(dev);
		if (dev->irq_defer_ns && now < dev->irq_defer_ns)
			return false;
		/* The line in an unknown state (resume) is driven at once. */
		if (!dev->irq_defer_ns && dev->st->irq_level == 0 &&
		    dev->irq_seen &&
		    now - dev->irq_last_ns < dev->irq_holdoff_ns) {
			dev->irq_defer_ns = dev->irq_last_ns +
					    dev->irq_holdoff_ns;
			if (!dev->irq_defer_ns)
				dev->irq_defer_ns = 1;
			dev->tune.irq_deferred++;
			return false;
		}
	}
	dev->irq_defer_ns = 0;
	dev->irq_due = false;
	dev->irq_seen = true;
	dev->irq_last_ns = now;
	return true;
}

void pcnet_update_irq(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint8_t level;

	if (intr(st))
		st->csr[0] |= CSR0_INTR;
	else
		st->csr[0] &= ~CSR0_INTR;
	level = (st->csr[0] & CSR0_INTR) && (st->csr[0] & CSR0_IENA);
	if (!level && dev->irq_defer_ns) {
		/* Acked (or masked) before it was due: nothing to raise. */
		dev->irq_defer_ns = 0;
		dev->irq_due = false;
		dev->tune.irq_cancelled++;
	}
	if (level == st->irq_level)
		return;
	if (level && !irq_may_assert(dev))
		return;
	st->irq_level = level;
	/* The handler's CSR0 read may be answered from the shadow. */
	if (dev->ops.regs_changed)
		dev->ops.regs_changed(dev->opaque);
	dev->ops.set_irq(dev->opaque, level);
	if (level)
		PCNET_FAULT("irq-pending");	/* raised, not yet seen */
}
