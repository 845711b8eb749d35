/* SPDX-License-Identifier: MIT */
/*
 * Guest-side helpers for the Am79C970A (PCnet-PCI II) scenarios
 * (scenarios/pcnet_*.c): finding the function, the two I/O layouts (WIO
 * and DWIO), DMA memory, test frames, the FCS, and register checks.
 *
 * Every value a scenario reads from the chip goes through pcn_check() or
 * pcn_check2(): the datasheet's value (AMD publication 19436), or, with
 * model=qemu on the command line, the value QEMU 7.2's -device pcnet is
 * known to give instead.  Each such QEMU value sits next to a comment
 * naming the datasheet section QEMU departs from.
 */
#ifndef GUEST_PCNET_DRV_H
#define GUEST_PCNET_DRV_H

#include "guest.h"
#include "mptable.h"
#include "pci.h"

#define PCN_VENDOR		0x1022
#define PCN_DEVICE		0x2000
#define PCN_PARTID_970A		0x2621

#define PCI_COMMAND_MASTER	0x0004

/* I/O map (datasheet "I/O Resource Map"). */
#define PCN_APROM		0x00
#define PCN_WIO_RDP		0x10
#define PCN_WIO_RAP		0x12
#define PCN_WIO_RESET		0x14
#define PCN_WIO_BDP		0x16
#define PCN_DWIO_RDP		0x10
#define PCN_DWIO_RAP		0x14
#define PCN_DWIO_RESET		0x18
#define PCN_DWIO_BDP		0x1c

/* CSR0 */
#define C0_INIT			0x0001
#define C0_STRT			0x0002
#define C0_STOP			0x0004
#define C0_TDMD			0x0008
#define C0_TXON			0x0010
#define C0_RXON			0x0020
#define C0_IENA			0x0040
#define C0_INTR			0x0080
#define C0_IDON			0x0100
#define C0_TINT			0x0200
#define C0_RINT			0x0400
#define C0_MERR			0x0800
#define C0_MISS			0x1000
#define C0_CERR			0x2000
#define C0_BABL			0x4000
#define C0_ERR			0x8000

/* Descriptor status word (TMD1/RMD1 bits 31:16). */
#define D_OWN			0x8000
#define D_ERR			0x4000
#define D_STP			0x0200
#define D_ENP			0x0100
#define R_PAM			0x0040
#define T_LTINT			0x1000

/*
 * The 32-bit structures (SWSTYLE 2; SWSTYLE 3 swaps the descriptor words):
 * a descriptor (TMD/RMD: the buffer address, BCNT as two's complement with
 * bits 15:12 set, the status word, RMD2's MCNT or TMD2's error bits) and the
 * initialization block.
 */
struct pcn_desc {
	uint32_t base;
	uint16_t length;
	uint16_t status;
	uint32_t misc;
	uint32_t reserved;
};

struct pcn_init_block {
	uint16_t mode;
	uint16_t tlen_rlen;
	uint8_t phys_addr[6];
	uint16_t reserved;
	uint32_t filter[2];
	uint32_t rx_ring;
	uint32_t tx_ring;
};

/* Guest RAM for descriptors, init blocks and buffers (identity mapped). */
#define PCN_DMA_BASE		0x400000u
#define PCN_DMA_SIZE		0x100000u

struct pcn {
	struct pci_dev pci;
	uint16_t io;
	bool dwio;		/* which layout the accessors use */
	bool qemu;		/* model=qemu: expect QEMU 7.2's deviations */
	struct irq_route route;
	uint8_t vector;
	uint8_t mac[6];
	uint32_t dma_next;	/* bump allocator in the DMA area */
	unsigned int checks;	/* register values checked */
	/* CSR/BCR accesses and the TSC cycles they took (each one's RAP
	 * write and data port access): what the driver paid in port I/O. */
	uint64_t io_reads, io_writes, io_rd_cycles, io_wr_cycles;
};

/* Finds 1022:2000 on bus 0, its I/O BAR; sets IO, MEM and bus master. */
void pcn_find(struct pcn *p);
/* Routes its INTA# (MP table) to @vector, level/low as the table says. */
void pcn_route_irq(struct pcn *p, uint8_t vector);
/* Zeroed, @align-aligned DMA memory; fails the test if it runs out. */
void *pcn_dma_alloc(struct pcn *p, uint32_t size, uint32_t align);
/* Orders descriptor stores before the port write that hands them over. */
static inline void pcn_wmb(void)
{
	asm volatile("" ::: "memory");
}

/* The bus address of DMA memory (identity mapped: its physical one). */
static inline uint32_t pcn_bus(const void *ptr)
{
	return (uint32_t)((uintptr_t)ptr - (uintptr_t)phys(0));
}

/* Register access through the current layout (Linux's and iPXE's ops). */
uint16_t pcn_csr_rd(struct pcn *p, unsigned int reg);
void pcn_csr_wr(struct pcn *p, unsigned int reg, uint16_t val);
uint16_t pcn_bcr_rd(struct pcn *p, unsigned int reg);
void pcn_bcr_wr(struct pcn *p, unsigned int reg, uint16_t val);
uint16_t pcn_rap_rd(struct pcn *p);
void pcn_rap_wr(struct pcn *p, uint16_t val);
void pcn_reset(struct pcn *p);	/* read RESET in the current layout */

/* Checks: fail with the register's name, what was read and expected. */
void pcn_check(struct pcn *p, const char *what, uint32_t got, uint32_t want);
/* @qemu_want applies with model=qemu (see the caller's comment for why). */
void pcn_check2(struct pcn *p, const char *what, uint32_t got,
		uint32_t want, uint32_t qemu_want);

/* Test frame @n of @len bytes (no FCS): to and from @mac. */
void pcn_frame(uint8_t *buf, uint32_t len, unsigned int n,
	       const uint8_t mac[6]);
/* Ethernet CRC-32 register after @len bytes (reflected, init ~0). */
uint32_t pcn_crc_raw(const uint8_t *buf, uint32_t len);
/*
 * Checks a looped-back frame: MCNT (@mcnt) is @len + 4, the first @len
 * bytes equal @sent, and the last four are the FCS the chip appended.
 */
void pcn_check_frame(struct pcn *p, const char *who, const uint8_t *got,
		     uint32_t mcnt, const uint8_t *sent, uint32_t len);

/* Waits for irq_count[vector] to move past @seen; fails after 1 s. */
void pcn_wait_irq(struct pcn *p, uint64_t seen, const char *what);

#endif /* GUEST_PCNET_DRV_H */
