// SPDX-License-Identifier: MIT
/*
 * PCI configuration space through mechanism #1: a 32-bit address at 0xCF8
 * selects bus/device/function/dword, 0xCFC-0xCFF carry the data.
 */
#include "pci.h"

static void pci_select(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000u | (uint32_t)d->bus << 16 |
				 (uint32_t)d->dev << 11 | (uint32_t)d->fn << 8 |
				 (off & 0xfc));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	pci_select(d, off);
	return inb(PCI_CONFIG_DATA + (off & 3));
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	pci_select(d, off);
	return inw(PCI_CONFIG_DATA + (off & 2));
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	pci_select(d, off);
	return inl(PCI_CONFIG_DATA);
}

void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v)
{
	pci_select(d, off);
	outb(PCI_CONFIG_DATA + (off & 3), v);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	pci_select(d, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	pci_select(d, off);
	outl(PCI_CONFIG_DATA, v);
}

unsigned int pci_bar_count(const struct pci_dev *d)
{
	switch (d->header_type) {
	case 0:
		return 6;
	case 1:
		return 2;
	default:
		return 1;
	}
}

/* Write all-ones, read what sticks, put the old value back. */
static uint32_t size_mask(const struct pci_dev *d, uint8_t off)
{
	uint32_t old = pci_read32(d, off), mask;

	pci_write32(d, off, 0xffffffff);
	mask = pci_read32(d, off);
	pci_write32(d, off, old);
	return mask;
}

unsigned int pci_bar_probe(const struct pci_dev *d, unsigned int index,
			   struct pci_bar *bar)
{
	uint8_t off = PCI_BAR0 + 4 * index;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	uint32_t lo = pci_read32(d, off), mask, hi_mask = 0;
	unsigned int used = 1;

	*bar = (struct pci_bar){ 0 };
	pci_write16(d, PCI_COMMAND,
		    cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	mask = size_mask(d, off);
	if (!(lo & PCI_BAR_IO) &&
	    (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 &&
	    index + 1 < pci_bar_count(d)) {
		bar->type = PCI_BAR_TYPE_MEM64;
		bar->addr = (uint64_t)pci_read32(d, off + 4) << 32;
		hi_mask = size_mask(d, off + 4);
		used = 2;
	}
	pci_write16(d, PCI_COMMAND, cmd);

	if (lo & PCI_BAR_IO) {
		bar->type = PCI_BAR_TYPE_IO;
		bar->addr = lo & ~3u;
		mask &= ~3u;
		if (mask && !(mask & 0xffff0000))
			mask |= 0xffff0000;	/* 16-bit I/O decoder */
		bar->size = mask ? (uint32_t)(~mask + 1) : 0;
		return used;
	}
	bar->prefetch = lo & PCI_BAR_PREFETCH;
	bar->addr |= lo & ~0xfu;
	if (bar->type != PCI_BAR_TYPE_MEM64) {
		bar->type = PCI_BAR_TYPE_MEM32;
		mask &= ~0xfu;
		bar->size = mask ? (uint32_t)(~mask + 1) : 0;
		return used;
	}
	{
		uint64_t m = (uint64_t)hi_mask << 32 | (mask & ~0xfu);

		bar->size = m ? ~m + 1 : 0;
	}
	return used;
}

static bool probe(struct pci_dev *d)
{
	uint32_t id = pci_read32(d, PCI_VENDOR_ID);
	uint32_t cr;

	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return false;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	cr = pci_read32(d, PCI_REVISION_ID);
	d->rev = cr & 0xff;
	d->class = cr >> 8;
	d->header_type = pci_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	d->irq_line = pci_read8(d, PCI_INTERRUPT_LINE);
	d->irq_pin = pci_read8(d, PCI_INTERRUPT_PIN);
	return true;
}

unsigned int pci_scan_bus0(void (*fn)(const struct pci_dev *d, void *arg),
			   void *arg)
{
	unsigned int found = 0;

	for (uint8_t dev = 0; dev < 32; dev++) {
		struct pci_dev d = { .bus = 0, .dev = dev, .fn = 0 };
		unsigned int nfn = 1;

		if (!probe(&d))
			continue;
		if (pci_read8(&d, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION)
			nfn = 8;
		for (uint8_t f = 0; f < nfn; f++) {
			d = (struct pci_dev){ .bus = 0, .dev = dev, .fn = f };
			if (!probe(&d))
				continue;
			fn(&d, arg);
			found++;
		}
	}
	return found;
}
