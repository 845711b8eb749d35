// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"
#include "pio.h"
#include "testdev.h"

struct testdev {
	struct irq_line irq;
	_Atomic uint32_t scratch;
	_Atomic uint32_t level;
};

static void testdev_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
			unsigned len, bool is_write, void *opaque)
{
	struct testdev *t = opaque;
	uint32_t v = is_write ? pio_get(data, len) : 0xffffffffu;

	(void)vcpu;
	/* Only aligned dword accesses hit a register. */
	if (len != 4 || offset & 3) {
		if (!is_write)
			pio_put(data, len, v);
		return;
	}
	switch (offset) {
	case TESTDEV_ID:
		v = TESTDEV_ID_VALUE;
		break;
	case TESTDEV_SCRATCH:
		if (is_write)
			atomic_store(&t->scratch, v);
		else
			v = atomic_load(&t->scratch);
		break;
	case TESTDEV_IRQ:
		if (is_write) {
			atomic_store(&t->level, v & 1);
			irq_line_set(&t->irq, v & 1);
		} else {
			v = atomic_load(&t->level);
		}
		break;
	}
	if (!is_write)
		pio_put(data, len, v);
}

struct testdev *testdev_create(struct pci_bus *bus, struct irq_line irq)
{
	struct testdev *t = calloc(1, sizeof(*t));
	struct pci_func_desc d = {
		.vendor_id = TESTDEV_VENDOR_ID,
		.device_id = TESTDEV_DEVICE_ID,
		.subsys_vendor_id = TESTDEV_VENDOR_ID,
		.subsys_id = TESTDEV_DEVICE_ID,
		.class_code = TESTDEV_CLASS,
		.revision = 1,
		.int_pin = 1,
		.bar[0] = { .size = TESTDEV_BAR_SIZE, .type = PCI_BAR_IO,
			    .pio = testdev_pio },
	};
	int dev;

	if (!t)
		return NULL;
	d.bar[0].pio_opaque = t;
	t->irq = irq;
	dev = pci_add_function(bus, &d);
	if (dev < 0) {
		free(t);
		errno = -dev;
		return NULL;
	}
	t->irq.gsi = pci_intx_gsi((unsigned)dev, 1);
	return t;
}

void testdev_free(struct testdev *t)
{
	free(t);
}
