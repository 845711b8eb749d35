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

void pcnet_update_irq(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint8_t level;

	if (intr(st))
		st->csr[0] |= CSR0_INTR;
	else
		st->csr[0] &= ~CSR0_INTR;
	level = (st->csr[0] & CSR0_INTR) && (st->csr[0] & CSR0_IENA);
	if (level == st->irq_level)
		return;
	st->irq_level = level;
	dev->ops.set_irq(dev->opaque, level);
	if (level)
		PCNET_FAULT("irq-pending");	/* raised, not yet seen */
}
