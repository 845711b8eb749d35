/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0 behind configuration mechanism #1 (CONFIG_ADDRESS at 0xCF8,
 * CONFIG_DATA at 0xCFC-0xCFF), with an i440FX-like host bridge at 00:00.0
 * and up to 31 single-function type-0 devices.
 *
 * Like firmware, the bus assigns every BAR at pci_add_function() time, sets
 * Interrupt Line to the function's GSI and turns on I/O and memory decoding,
 * so a guest that never enumerates finds its devices ready.  I/O BARs are
 * decoded by registering them on the pio bus while the guest leaves them
 * enabled and validly placed; memory BARs are only reported (bar_moved).
 *
 * Register names (PCI_COMMAND, PCI_BASE_ADDRESS_SPACE_IO, ...) are those of
 * <linux/pci_regs.h>.
 */
#ifndef VMM_PCI_H
#define VMM_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pio.h"

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc

#define PCI_NR_DEVICES		32	/* device numbers on bus 0 */
#define PCI_NR_BARS		6

/* Where the bus places BARs, as firmware would. */
#define PCI_IO_WINDOW_BASE	0xc000u
#define PCI_IO_WINDOW_END	0x10000u
#define PCI_MEM_WINDOW_BASE	0xe0000000u
#define PCI_MEM_WINDOW_END	0xfec00000u	/* the IOAPIC starts here */

/* The host bridge, an Intel 82441FX (i440FX) PMC. */
#define PCI_HOST_VENDOR_ID	0x8086
#define PCI_HOST_DEVICE_ID	0x1237
#define PCI_HOST_CLASS		0x060000	/* bridge, host */

/* PCI INTx pins reach IOAPIC inputs 16-19. */
#define PCI_INTX_GSI_BASE	16

enum pci_bar_type {
	PCI_BAR_UNUSED = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes this slot and the next */
};

struct pci_bar_desc {
	/* A power of two: I/O >= 4, memory >= 16; 0 leaves the slot unused. */
	uint64_t size;
	enum pci_bar_type type;
	bool prefetchable;
	/* I/O BARs: serves the BAR's ports, offsets relative to the BAR. */
	pio_fn *pio;
	void *pio_opaque;
};

struct pci_func_desc {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsys_vendor_id;
	uint16_t subsys_id;
	uint32_t class_code;	/* base class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t int_pin;	/* 0 none, 1-4 INTA#-INTD# */
	struct pci_bar_desc bar[PCI_NR_BARS];

	/*
	 * Optional hooks, all called with @opaque and the bus lock held (so
	 * config accesses reach a device one at a time, and a hook must not
	 * call back into the bus).
	 *
	 * bar_moved: the BAR's address or decode state changed.  @old_addr is
	 * the address the previous call (or the initial placement) reported,
	 * @enabled whether the BAR decodes at @new_addr now: decoding is on in
	 * PCI_COMMAND, the address is valid (non-zero, not a sizing pattern,
	 * inside the address space) and, for I/O, the ports were free.
	 *
	 * cfg_read/cfg_write: device-specific registers 0x40-0xFF; an access
	 * never crosses a dword.  Without them reads are 0, writes dropped.
	 */
	void *opaque;
	void (*bar_moved)(void *opaque, unsigned bar, uint64_t old_addr,
			  uint64_t new_addr, bool enabled);
	uint32_t (*cfg_read)(void *opaque, unsigned offset, unsigned len);
	void (*cfg_write)(void *opaque, unsigned offset, unsigned len,
			  uint32_t val);
};

struct pci_intx_route {
	unsigned dev;
	unsigned pin;		/* 1-4 */
	unsigned gsi;
};

struct pci_bus;

/* Registers 0xCF8 and 0xCFC on @pio and adds the host bridge.  NULL on
 * failure. */
struct pci_bus *pci_bus_new(struct pio_bus *pio);
/* Unregisters everything the bus put on the pio bus, so free it first. */
void pci_bus_free(struct pci_bus *bus);

/*
 * Adds a function 0 at the lowest free device number and returns that
 * number; -EINVAL for a bad description, -ENOSPC when all 32 device numbers
 * or the BAR windows are used up, -EBUSY if an I/O BAR's ports are taken.
 */
int pci_add_function(struct pci_bus *bus, const struct pci_func_desc *desc);

/* Where a BAR is now: 0, or -ENOENT for no such device or BAR. */
int pci_bar_get(struct pci_bus *bus, unsigned dev, unsigned bar,
		uint64_t *addr, bool *enabled);

/*
 * Sets error bits in a function's PCI_STATUS (the write-1-to-clear ones:
 * PCI_STATUS_REC_MASTER_ABORT and friends), as a device reports a failed
 * bus-master cycle.  Other bits are ignored.
 */
void pci_set_status(struct pci_bus *bus, unsigned dev, uint16_t bits);

/* The standard swizzle of device @dev's INTx @pin (1-4) onto GSIs 16-19. */
unsigned pci_intx_gsi(unsigned dev, unsigned pin);

/*
 * Fills @out with up to @max routes, one per function with an interrupt
 * pin, in device order; returns how many there are in total.  PCI INTx is
 * level-triggered, active high.
 */
size_t pci_intx_routes(struct pci_bus *bus, struct pci_intx_route *out,
		       size_t max);

#endif
