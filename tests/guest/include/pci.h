/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1 (0xCF8/0xCFC) and BAR sizing.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include "guest.h"

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc

/* Configuration header registers (PCI Local Bus Specification 3.0) */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_HEADER_TYPE_MASK	0x7f
#define PCI_BAR_IO		0x01
#define PCI_BAR_MEM_TYPE_MASK	0x06
#define PCI_BAR_MEM_TYPE_64	0x04
#define PCI_BAR_PREFETCH	0x08

#define PCI_CLASS_HOST_BRIDGE	0x0600

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class;		/* class << 16 | subclass << 8 | prog-if */
	uint8_t rev;
	uint8_t header_type;	/* without the multifunction bit */
	uint8_t irq_pin;	/* 0 none, 1 INTA .. 4 INTD */
	uint8_t irq_line;
};

enum pci_bar_type { PCI_BAR_TYPE_IO, PCI_BAR_TYPE_MEM32, PCI_BAR_TYPE_MEM64 };

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t addr;
	uint64_t size;
};

uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Number of BARs in this header type (6, 2 for bridges, 1 for CardBus). */
unsigned int pci_bar_count(const struct pci_dev *d);
/*
 * Size BAR index with decoding turned off meanwhile, restoring both the
 * BAR and COMMAND. Returns the BAR slots used (2 for a 64-bit BAR, else 1)
 * and sets *bar; bar->size == 0 means not implemented.
 */
unsigned int pci_bar_probe(const struct pci_dev *d, unsigned int index,
			   struct pci_bar *bar);

/* Call fn for every function on bus 0; returns the number found. */
unsigned int pci_scan_bus0(void (*fn)(const struct pci_dev *d, void *arg),
			   void *arg);

#endif /* GUEST_PCI_H */
