// SPDX-License-Identifier: MIT
/*
 * DMA and descriptor rings.  Every guest address goes through guest_mem:
 * a DMA outside guest RAM (or past the chip's 32-bit address space) is a
 * PCI master abort, which the chip reports as MERR (CSR0) and SINT (CSR5)
 * and answers by turning the transmitter and receiver off.
 *
 * Descriptor layouts (offsets in bytes):
 *
 *   SWSTYLE 0, 8 bytes:   0 BADR[15:0]  2 BADR[23:16], status 15:8
 *                         4 ONES|BCNT   6 TMD2[31:16] / MCNT
 *   SWSTYLE 1/2, 16:      0 BADR  4 ONES|BCNT, status 31:16  8 TMD2/RMD2
 *   SWSTYLE 3, 16:        0 TMD2/RMD2  4 as above  8 BADR
 *
 * OWN is read first and everything else after it; on the way back every
 * other field is written first and OWN is cleared by the last store.
 */
#include <endian.h>
#include <string.h>

#include "guest_mem.h"
#include "pcnet_hw.h"

#define ADDR_SPACE	(1ull << 32)

void pcnet_dma_fault(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;

	st->csr[0] |= CSR0_MERR;
	st->csr[0] &= ~(CSR0_TXON | CSR0_RXON | CSR0_TDMD);
	st->csr[CSR_ECI1] |= CSR5_SINT;
	st->pci_master_abort = 1;
	st->stats.dma_faults++;
	dev->fault = true;
	dev->rx_epoch++;
}

void *pcnet_dma_map(struct pcnet *dev, uint64_t gpa, size_t len)
{
	void *p = NULL;

	/* After a fault the bus master is off until the driver restarts it. */
	if (dev->fault)
		return NULL;
	if (len && gpa < ADDR_SPACE && len <= ADDR_SPACE - gpa && dev->mem)
		p = guest_mem_ptr(dev->mem, gpa, len);
	if (!p)
		pcnet_dma_fault(dev);
	return p;
}

bool pcnet_dma_read(struct pcnet *dev, uint64_t gpa, void *dst, size_t len)
{
	void *p = pcnet_dma_map(dev, gpa, len);

	if (!p)
		return false;
	memcpy(dst, p, len);
	return true;
}

bool pcnet_dma_write(struct pcnet *dev, uint64_t gpa, const void *src,
		     size_t len)
{
	void *p = pcnet_dma_map(dev, gpa, len);

	if (!p)
		return false;
	memcpy(p, src, len);
	return true;
}

/* Guest RAM is little endian, like the chip's descriptors. */
static bool load16(struct pcnet *dev, uint64_t gpa, uint16_t *v)
{
	uint8_t b[2];

	if (!pcnet_dma_read(dev, gpa, b, 2))
		return false;
	*v = pcnet_le16(b);
	return true;
}

static bool load32(struct pcnet *dev, uint64_t gpa, uint32_t *v)
{
	uint8_t b[4];

	if (!pcnet_dma_read(dev, gpa, b, 4))
		return false;
	*v = pcnet_le32(b);
	return true;
}

static bool store16(struct pcnet *dev, uint64_t gpa, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return pcnet_dma_write(dev, gpa, b, 2);
}

static bool store32(struct pcnet *dev, uint64_t gpa, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	return pcnet_dma_write(dev, gpa, b, 4);
}

/*
 * The store that hands a descriptor back: ordered after every store
 * before it, and a single access when aligned so a driver on another CPU
 * never sees half of it.
 */
static bool store_own16(struct pcnet *dev, uint64_t gpa, uint16_t v)
{
	uint16_t *p = pcnet_dma_map(dev, gpa, 2);

	if (!p)
		return false;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (!((uintptr_t)p & 1))
		__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
	else
		memcpy(p, (uint8_t[2]){ (uint8_t)v, (uint8_t)(v >> 8) }, 2);
	return true;
}

static bool store_own8(struct pcnet *dev, uint64_t gpa, uint8_t v)
{
	uint8_t *p = pcnet_dma_map(dev, gpa, 1);

	if (!p)
		return false;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
	return true;
}

static uint32_t desc_size(const struct pcnet_state *st)
{
	return pcnet_swstyle(st) == 0 ? 8 : 16;
}

/*
 * Descriptor address.  With 16-bit structures the ring lives in the 16 MiB
 * window the upper address byte selects; with 32-bit ones a ring running
 * past 4 GiB does not wrap to 0: the DMA is refused.
 */
static uint64_t desc_addr(const struct pcnet_state *st, uint32_t base,
			  uint32_t idx)
{
	uint64_t off = (uint64_t)idx * desc_size(st);

	if (pcnet_ssize32(st))
		return base + off;
	return (base & 0xff000000u) | ((base + off) & 0x00ffffffu);
}

/* 1: owned by the chip and decoded, 0: owned by the host, -1: DMA fault. */
int pcnet_desc_load(struct pcnet *dev, uint32_t base, uint32_t idx,
		    struct pcnet_desc *d)
{
	const struct pcnet_state *st = dev->st;
	uint64_t a = desc_addr(st, base, idx);
	uint32_t w1, addr;
	uint16_t w0, w1h, w2;

	if (pcnet_swstyle(st) == 0) {
		if (!load16(dev, a + 2, &w1h))
			return -1;
		if (!(w1h & DESC_OWN))
			return 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!load16(dev, a, &w0) || !load16(dev, a + 4, &w2))
			return -1;
		d->status = w1h & 0xff00;
		d->addr = pcnet_bus_addr(st, w0 | (uint32_t)(w1h & 0xff) << 16);
		d->len = (uint16_t)-w2 & DESC_BCNT;
		return 1;
	}
	if (!load32(dev, a + 4, &w1))
		return -1;
	if (!(w1 & 0x80000000u))
		return 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!load32(dev, pcnet_swstyle(st) == 3 ? a + 8 : a, &addr))
		return -1;
	d->status = (uint16_t)(w1 >> 16);
	d->addr = addr;
	d->len = (uint16_t)-w1 & DESC_BCNT;
	return 1;
}

/* Whether the chip owns a descriptor, without DMA side effects. */
bool pcnet_desc_probe(struct pcnet *dev, uint32_t base, uint32_t idx)
{
	const struct pcnet_state *st = dev->st;
	uint64_t own = desc_addr(st, base, idx) +
		       (pcnet_swstyle(st) == 0 ? 3 : 7);
	const uint8_t *p;

	if (!dev->mem || own >= ADDR_SPACE)
		return false;
	p = guest_mem_ptr(dev->mem, own, 1);
	return p && (*p & 0x80);
}

/*
 * TMD write-back: TMD2 first, then the status with OWN cleared.  Status
 * bits the host owns (STP, ENP, ADD_FCS, LTINT) are kept as they are in
 * memory.
 */
bool pcnet_tmd_store(struct pcnet *dev, uint32_t idx, uint16_t set,
		     uint16_t clear, uint32_t tmd2)
{
	const struct pcnet_state *st = dev->st;
	uint64_t a = desc_addr(st, st->tdra, idx);
	uint16_t status;

	clear |= DESC_OWN;
	switch (pcnet_swstyle(st)) {
	case 0:
		if (!store16(dev, a + 6, (uint16_t)(tmd2 >> 16)) ||
		    !load16(dev, a + 2, &status))
			return false;
		status = (status & ~clear) | set;
		return store_own8(dev, a + 3, (uint8_t)(status >> 8));
	case 3:
		if (!store32(dev, a, tmd2))
			return false;
		break;
	default:
		if (!store32(dev, a + 8, tmd2))
			return false;
		break;
	}
	if (!load16(dev, a + 6, &status))
		return false;
	return store_own16(dev, a + 6, (status & ~clear) | set);
}

/*
 * RMD write-back: MCNT (RMD2) first when @mcnt is not 0xffff, then the
 * status, every chip-written bit replaced, OWN cleared.
 */
bool pcnet_rmd_store(struct pcnet *dev, uint32_t idx, uint16_t set,
		     uint16_t clear, uint16_t mcnt)
{
	const struct pcnet_state *st = dev->st;
	uint64_t a = desc_addr(st, st->rdra, idx);
	uint16_t status;

	clear |= DESC_OWN;
	switch (pcnet_swstyle(st)) {
	case 0:
		if (mcnt != 0xffff && !store16(dev, a + 6, mcnt & DESC_BCNT))
			return false;
		if (!load16(dev, a + 2, &status))
			return false;
		status = (status & ~clear) | set;
		return store_own8(dev, a + 3, (uint8_t)(status >> 8));
	case 3:
		if (mcnt != 0xffff && !store32(dev, a, mcnt & DESC_BCNT))
			return false;
		break;
	default:
		if (mcnt != 0xffff && !store32(dev, a + 8, mcnt & DESC_BCNT))
			return false;
		break;
	}
	if (!load16(dev, a + 6, &status))
		return false;
	return store_own16(dev, a + 6, (status & ~clear) | set);
}
