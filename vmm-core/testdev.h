/* SPDX-License-Identifier: MIT */
/*
 * An in-core PCI test function (--testdev): a scratch register and an INTx
 * line the guest drives itself.  It gives the test guest a real BAR and a
 * routed PCI interrupt to find, and the benchmarks an exit handled entirely
 * in vmm-core to compare forwarded I/O with.  Not a product device.
 *
 * I/O BAR0, 16 bytes, 32-bit registers:
 *   0x0 TESTDEV_ID       read-only TESTDEV_ID_VALUE
 *   0x4 TESTDEV_SCRATCH  read/write
 *   0x8 TESTDEV_IRQ      write 1 asserts INTA#, 0 deasserts; reads the level
 */
#ifndef VMM_TESTDEV_H
#define VMM_TESTDEV_H

#include "irq.h"

#define TESTDEV_VENDOR_ID	0x1234	/* the conventional test vendor */
#define TESTDEV_DEVICE_ID	0x5601
#define TESTDEV_CLASS		0xff0000	/* unassigned class */
#define TESTDEV_BAR_SIZE	16
#define TESTDEV_ID		0x0
#define TESTDEV_SCRATCH		0x4
#define TESTDEV_IRQ		0x8
#define TESTDEV_ID_VALUE	0x544c5053u	/* "SPLT" */

struct pci_bus;
struct testdev;

/* Adds the function; NULL on failure. @irq's gsi is filled in here. */
struct testdev *testdev_create(struct pci_bus *bus, struct irq_line irq);
void testdev_free(struct testdev *t);

#endif
