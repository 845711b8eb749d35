// SPDX-License-Identifier: MIT
/*
 * The I/O resources (datasheet "Software Access"): 16 bytes of APROM, then
 * RDP, RAP, RESET and BDP, laid out for 16-bit Word I/O (WIO) after
 * H_RESET and for 32-bit Double Word I/O (DWIO) once the driver does a
 * doubleword write to RDP.  Only H_RESET returns the chip to WIO.  The
 * memory BAR decodes the same resources at the same offsets.
 */
#include <string.h>

#include "pcnet_hw.h"

static uint32_t ones(unsigned int size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool dwio(const struct pcnet_state *st)
{
	return st->bcr[BCR_BSBC] & BCR18_DWIO;
}

/*
 * Byte reads work in both modes, word reads in WIO and doubleword reads in
 * DWIO, each naturally aligned.
 */
static bool aprom_access_ok(const struct pcnet_state *st, uint32_t off,
			    unsigned int size)
{
	if (size == 1)
		return true;
	if (off & (size - 1))
		return false;
	return (size == 2 && !dwio(st)) || (size == 4 && dwio(st));
}

static uint32_t aprom_read(const struct pcnet_state *st, uint32_t off,
			   unsigned int size)
{
	uint32_t v = 0;

	if (!aprom_access_ok(st, off, size))
		return ones(size);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)st->aprom[off + i] << (8 * i);
	return v;
}

/* The APROM is a RAM shadow, writable while BCR2 APROMWE is set. */
static void aprom_write(struct pcnet_state *st, uint32_t off,
			unsigned int size, uint32_t val)
{
	if (!(st->bcr[BCR_MC] & BCR2_APROMWE) ||
	    !aprom_access_ok(st, off, size))
		return;
	for (unsigned int i = 0; i < size; i++)
		st->aprom[off + i] = (uint8_t)(val >> (8 * i));
}

enum reg { REG_NONE, REG_RDP, REG_RAP, REG_RESET, REG_BDP };

/* WIO decodes words, DWIO doublewords; other widths reach nothing. */
static enum reg decode(bool dw, uint32_t off, unsigned int size)
{
	if (size != (dw ? 4u : 2u))
		return REG_NONE;
	switch (off) {
	case WIO_RDP:		/* == DWIO_RDP */
		return REG_RDP;
	case WIO_RAP:
		return dw ? REG_NONE : REG_RAP;
	case WIO_RESET:		/* == DWIO_RAP */
		return dw ? REG_RAP : REG_RESET;
	case WIO_BDP:
		return dw ? REG_NONE : REG_BDP;
	case DWIO_RESET:
		return dw ? REG_RESET : REG_NONE;
	case DWIO_BDP:
		return dw ? REG_BDP : REG_NONE;
	default:
		return REG_NONE;
	}
}

/*
 * RDP's answer.  In DWIO a doubleword read of CSR88 returns the whole chip
 * ID, CSR89 in the upper half (NetBSD's pcn identifies the chip that way;
 * QEMU's model agrees).
 */
static uint32_t rdp_value(const struct pcnet_state *st, unsigned int size)
{
	if (size == 4 && st->rap == CSR_CHIPID0)
		return pcnet_csr_peek(st, CSR_CHIPID0) |
		       (uint32_t)pcnet_csr_peek(st, CSR_CHIPID1) << 16;
	return pcnet_csr_peek(st, st->rap);
}

static uint32_t reg_read(struct pcnet *dev, uint32_t off, unsigned int size)
{
	struct pcnet_state *st = dev->st;

	switch (decode(dwio(st), off, size)) {
	case REG_RDP:
		if (st->rap == 0)
			return pcnet_csr_read(dev, 0);	/* its effect */
		return rdp_value(st, size);
	case REG_RAP:
		return st->rap;
	case REG_RESET:
		/* Reading RESET is the software reset, S_RESET. */
		pcnet_s_reset(dev);
		return 0;
	case REG_BDP:
		return pcnet_bcr_read(dev, st->rap);
	default:
		return ones(size);
	}
}

static void reg_write(struct pcnet *dev, uint32_t off, unsigned int size,
		      uint32_t val)
{
	struct pcnet_state *st = dev->st;

	/*
	 * A doubleword write to RDP selects DWIO; the write itself goes to
	 * RDP, which is why drivers write a harmless value (0 into CSR0
	 * right after reset).
	 */
	if (!dwio(st) && size == 4 && off == DWIO_RDP)
		st->bcr[BCR_BSBC] |= BCR18_DWIO;
	switch (decode(dwio(st), off, size)) {
	case REG_RDP:
		pcnet_csr_write(dev, st->rap, (uint16_t)val);
		break;
	case REG_RAP:
		/* RAP holds 8 bits; the upper ones are reserved. */
		st->rap = val & 0xff;
		break;
	case REG_BDP:
		pcnet_bcr_write(dev, st->rap, (uint16_t)val);
		break;
	default:
		/* RESET ignores writes; the rest is reserved. */
		break;
	}
}

static bool size_ok(uint64_t offset, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) &&
	       offset < PCNET_IO_BAR_SIZE && offset + size <= PCNET_IO_BAR_SIZE;
}

uint32_t pcnet_io_read(struct pcnet *dev, uint32_t offset, unsigned int size)
{
	uint32_t v;

	if (!size_ok(offset, size))
		return size <= 4 && size ? ones(size) : 0xffffffffu;
	if (!pcnet_enter(dev))
		return ones(size);
	if (offset < APROM_SIZE)
		v = offset + size <= APROM_SIZE ?
			aprom_read(dev->st, offset, size) : ones(size);
	else
		v = reg_read(dev, offset, size);
	PCNET_FAULT("reg-read");	/* done, not yet answered */
	pcnet_leave(dev);
	return v;
}

void pcnet_io_write(struct pcnet *dev, uint32_t offset, unsigned int size,
		    uint32_t value)
{
	if (!size_ok(offset, size) || !pcnet_enter(dev))
		return;
	if (size < 4)
		value &= ones(size);
	if (offset < APROM_SIZE) {
		if (offset + size <= APROM_SIZE)
			aprom_write(dev->st, offset, size, value);
	} else {
		reg_write(dev, offset, size, value);
	}
	PCNET_FAULT("reg-write");	/* applied, not yet acknowledged */
	pcnet_leave(dev);
}

uint32_t pcnet_mmio_read(struct pcnet *dev, uint64_t offset,
			 unsigned int size)
{
	/* Out of range reads all ones of the access size, as in I/O. */
	if (offset >= PCNET_MMIO_BAR_SIZE)
		offset = PCNET_IO_BAR_SIZE;
	return pcnet_io_read(dev, (uint32_t)offset, size);
}

void pcnet_mmio_write(struct pcnet *dev, uint64_t offset, unsigned int size,
		      uint32_t value)
{
	if (offset < PCNET_MMIO_BAR_SIZE)
		pcnet_io_write(dev, (uint32_t)offset, size, value);
}

void pcnet_shadow(const struct pcnet *dev, struct pcnet_shadow *sh)
{
	const struct pcnet_state *st = dev->st;
	bool dw = dwio(st);
	uint8_t size = dw ? 4 : 2;
	uint32_t rdp = WIO_RDP, bdp = dw ? DWIO_BDP : WIO_BDP;
	static const uint8_t csrs[] = { 0, CSR_IMDC, CSR_TFC };
	unsigned int n = 0;

	memset(sh, 0, sizeof(*sh));
	sh->rap = (struct pcnet_shadow_reg){
		.offset = dw ? DWIO_RAP : WIO_RAP, .size = size,
		.value = st->rap,
	};
	for (unsigned int i = 0; i < sizeof(csrs); i++)
		sh->reg[n++] = (struct pcnet_shadow_reg){
			.offset = rdp, .size = size, .indexed = true,
			.rap = csrs[i], .note = csrs[i] == 0,
			.value = pcnet_csr_peek(st, csrs[i]),
			.token = csrs[i] == 0 ? (uint32_t)dev->tint_raises |
				 (uint32_t)dev->rint_raises << 16 : 0,
			/* CSR0 = TDMD with IENA as it is (a driver's kick)
			 * clears nothing and starts nothing but the transmit
			 * poll, which is the chip's own later work; TDMD
			 * reads back 0 once the demand is taken, so a read
			 * across it may be answered as if it were. */
			.quiet_mask = csrs[i] == 0 ? CSR0_TDMD : 0,
			.quiet_value = csrs[i] == 0 ?
				(uint16_t)(st->csr[0] & CSR0_IENA) : 0,
		};
	if (st->rap != 0 && st->rap != CSR_IMDC && st->rap != CSR_TFC)
		sh->reg[n++] = (struct pcnet_shadow_reg){
			.offset = rdp, .size = size, .indexed = true,
			.rap = (uint8_t)st->rap, .value = rdp_value(st, size),
		};
	if (st->rap != BCR_MIIMDR)
		sh->reg[n++] = (struct pcnet_shadow_reg){
			.offset = bdp, .size = size, .indexed = true,
			.rap = (uint8_t)st->rap,
			.value = pcnet_bcr_peek(st, st->rap),
		};
	sh->n = n;
}

void pcnet_shadow_note(struct pcnet *dev, uint32_t value, uint32_t token)
{
	/* Raised since the snapshot the read was answered from: not seen. */
	dev->csr0_read = value & (CSR0_TINT | CSR0_RINT);
	dev->csr0_again = 0;
	if ((uint16_t)token != dev->tint_raises)
		dev->csr0_again |= CSR0_TINT;
	if ((uint16_t)(token >> 16) != dev->rint_raises)
		dev->csr0_again |= CSR0_RINT;
}
