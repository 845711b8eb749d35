// SPDX-License-Identifier: MIT
/*
 * The initialization block: read from IADR (CSR1/CSR2) when the driver
 * sets INIT, in the 16-bit layout (SSIZE32 = 0, SWSTYLE 0) or the 32-bit
 * one (SWSTYLE 1, 2, 3).
 *
 *   16-bit, 24 bytes               32-bit, 28 bytes
 *   0  MODE                        0  MODE
 *   2  PADR[47:0]                  2  RLEN<<4, 3  TLEN<<4
 *   8  LADRF[63:0]                 4  PADR[47:0], 10 reserved
 *   16 RDRA[23:0], RLEN in 31:29   12 LADRF[63:0]
 *   20 TDRA[23:0], TLEN in 31:29   20 RDRA[31:0]
 *                                  24 TDRA[31:0]
 */
#include "pcnet_hw.h"

#define IB16_SIZE	24
#define IB32_SIZE	28

unsigned int pcnet_swstyle(const struct pcnet_state *st)
{
	return st->bcr[BCR_SWS] & BCR20_SWSTYLE;
}

bool pcnet_ssize32(const struct pcnet_state *st)
{
	return st->bcr[BCR_SWS] & BCR20_SSIZE32;
}

/* With 16-bit structures the upper address byte comes from IADR[31:24]. */
uint32_t pcnet_bus_addr(const struct pcnet_state *st, uint32_t addr)
{
	if (pcnet_ssize32(st))
		return addr;
	return (addr & 0x00ffffffu) | (uint32_t)(st->csr[CSR_IADR1] & 0xff00)
					      << 16;
}

/* RLEN/TLEN give 2^n descriptors; the 4-bit codes above 9 mean 512. */
static uint32_t ring_len(unsigned int code)
{
	return code > 9 ? 512 : 1u << code;
}

void pcnet_init_block(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint32_t iadr = st->csr[CSR_IADR0] | (uint32_t)st->csr[CSR_IADR1] << 16;
	uint8_t ib[IB32_SIZE];
	const uint8_t *padr, *ladrf;
	unsigned int rlen, tlen;
	uint32_t rdra, tdra;
	uint16_t mode;

	/* New rings: whatever the port holds belongs to the old ones. */
	pcnet_tx_forget_pending(dev, false);
	dev->rx_epoch++;
	if (pcnet_ssize32(st)) {
		if (!pcnet_dma_read(dev, iadr, ib, IB32_SIZE))
			return;
		mode = pcnet_le16(ib);
		rlen = ib[2] >> 4;
		tlen = ib[3] >> 4;
		padr = ib + 4;
		ladrf = ib + 12;
		rdra = pcnet_le32(ib + 20);
		tdra = pcnet_le32(ib + 24);
	} else {
		if (!pcnet_dma_read(dev, iadr, ib, IB16_SIZE))
			return;
		mode = pcnet_le16(ib);
		padr = ib + 2;
		ladrf = ib + 8;
		rdra = pcnet_bus_addr(st, pcnet_le32(ib + 16));
		tdra = pcnet_bus_addr(st, pcnet_le32(ib + 20));
		rlen = ib[19] >> 5;
		tlen = ib[23] >> 5;
	}

	st->csr[CSR_MODE] = mode;
	for (unsigned int i = 0; i < 3; i++)
		st->csr[CSR_PADR0 + i] = pcnet_le16(padr + 2 * i);
	for (unsigned int i = 0; i < 4; i++)
		st->csr[CSR_LADRF0 + i] = pcnet_le16(ladrf + 2 * i);
	st->csr[CSR_RXTXLEN] = (uint16_t)(tlen << 12 | rlen << 8);
	st->rdra = rdra;
	PCNET_FAULT("init");		/* half the ring set-up stored */
	st->tdra = tdra;
	st->rx_len = ring_len(rlen);
	st->tx_len = ring_len(tlen);
	st->rx_idx = 0;
	st->tx_idx = 0;

	st->csr[0] |= CSR0_IDON | CSR0_INIT;
	st->csr[0] &= ~CSR0_STOP;
}
