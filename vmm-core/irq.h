/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines as an in-core device sees them: a GSI and a level.  The
 * VM wires this to KVM_IRQ_LINE; unit tests wire it to a recorder.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <stdbool.h>

struct irq_line {
	void (*set_level)(void *opaque, unsigned gsi, bool level);
	void *opaque;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l && l->set_level)
		l->set_level(l->opaque, l->gsi, level);
}

#endif
