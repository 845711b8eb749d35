// SPDX-License-Identifier: MIT
/*
 * test=pcnet-netbsd [frames=N] [model=qemu]: the access sequences of
 * NetBSD's pcn driver (sys/dev/pci/if_pcn.c) on an Am79C970A: Double Word
 * I/O, SWSTYLE 3 (the PCnet-PCI structure layout: buffer address in the
 * third word), one DMA segment per TX descriptor, up to 16 per frame.
 *
 *   pcn_reset  16-bit RESET read, 32-bit RESET read, 32-bit write of 0 to
 *              RDP (selects DWIO);
 *   attach     APROM bytes (checked against doubleword reads), CSR88
 *              read as 32 bits (all of the chip ID in DWIO, as if_pcn.c
 *              relies on);
 *   pcn_init   STOP, pcn_reset, BCR20 = 3, rings, init block (MODE with
 *              TLEN/RLEN in its first word), CSR3 MISSM|IDONM|DXSUFLO,
 *              CSR4 DMAPLUS|APAD_XMT|masks, CSR5 LTINTEN|SINTE, BCR18
 *              burst enables, CSR80, INIT, IDON poll, BCR2 ASEL and BCR9
 *              (auto media), CSR0 = INEA | STRT | IDON;
 *   pcn_start  descriptors filled first to last, OWN of the first one
 *              last, LTINT every 8th frame, CSR0 = INEA | TDMD;
 *   pcn_intr   CSR0 until INTR is clear, each acknowledged with INEA
 *              kept, RX then TX ring, RXON/TXON checked.
 *
 * Internal loopback comes from the init block's MODE (LOOP | INTL).
 * Frames go out in bursts of one to four, so one interrupt covers several.
 */
#include "apic.h"
#include "pcnet_drv.h"
#include "scenarios.h"

#define LOG_TX		6
#define LOG_RX		4
#define NTXDESC		(1u << LOG_TX)
#define NRXDESC		(1u << LOG_RX)
#define TXQUEUELEN	16
#define NTXSEGS		16
#define MCLBYTES	2048
#define TXINTR_MASK	7
#define VECTOR		0x49

/* 32-bit descriptor words (am79900reg.h), SWSTYLE 3 placement. */
#define T1_OWN		0x80000000u
#define T1_ERR		0x40000000u
#define T1_LTINT	0x10000000u	/* MORE unless LTINTEN */
#define T1_STP		0x02000000u
#define T1_ENP		0x01000000u
#define T1_ONES		0x0000f000u
#define T1_BCNT_MASK	0x00000fffu
#define R1_OWN		0x80000000u
#define R1_ERR		0x40000000u
#define R1_STP		0x02000000u
#define R1_ENP		0x01000000u
#define R1_PAM		0x00400000u
#define R1_ONES		0x0000f000u
#define R1_BCNT_MASK	0x00000fffu
#define LE_BCNT(x)	((uint32_t)-(int32_t)(x) & 0xfffu)

#define MODE_LOOP	0x0004
#define MODE_INTL	0x0040

struct letmd {
	uint32_t tmd0;		/* SWSTYLE 3: TMD2 (error bits, TRC) */
	uint32_t tmd1;
	uint32_t tmd2;		/* SWSTYLE 3: buffer address */
	uint32_t tmd3;
};

struct lermd {
	uint32_t rmd0;		/* SWSTYLE 3: MCNT, RPC, RCC */
	uint32_t rmd1;
	uint32_t rmd2;		/* SWSTYLE 3: buffer address */
	uint32_t rmd3;
};

struct leinit {
	uint32_t init_mode;	/* MODE | RLEN << 20 | TLEN << 28 */
	uint32_t init_padr[2];
	uint16_t init_ladrf[4];
	uint32_t init_rdra;
	uint32_t init_tdra;
};

struct txsoft {
	unsigned int firstdesc, lastdesc, nsegs;
	uint32_t len;
	uint8_t *frame;		/* contiguous copy, for the comparison */
};

struct nbsd {
	struct pcn p;
	volatile struct letmd *txd;
	volatile struct lermd *rxd;
	volatile struct leinit *ib;
	uint32_t written_tmd1[NTXDESC];
	uint8_t *rxbuf[NRXDESC];
	uint8_t *segbuf;	/* scattered segment buffers */
	struct txsoft txs[TXQUEUELEN];
	unsigned int txfree, txnext, txsfree, txsnext, txsdirty, rxptr;
	unsigned int sent, received, completed, segs;
};

static const uint32_t frame_len[] = {
	1514, 60, 200, 1023, 97, 512, 64, 1400, 333, 61, 1000, 750,
};
#define NFRAME_LEN	ARRAY_SIZE(frame_len)

static uint32_t csr_read(struct pcn *p, unsigned int reg)
{
	outl(p->io + PCN_DWIO_RAP, reg);
	return inl(p->io + PCN_DWIO_RDP);
}

static void csr_write(struct pcn *p, unsigned int reg, uint32_t val)
{
	outl(p->io + PCN_DWIO_RAP, reg);
	outl(p->io + PCN_DWIO_RDP, val);
}

static uint32_t bcr_read(struct pcn *p, unsigned int reg)
{
	outl(p->io + PCN_DWIO_RAP, reg);
	return inl(p->io + PCN_DWIO_BDP);
}

static void bcr_write(struct pcn *p, unsigned int reg, uint32_t val)
{
	outl(p->io + PCN_DWIO_RAP, reg);
	outl(p->io + PCN_DWIO_BDP, val);
}

/*
 * Datasheet "RDP" in DWIO: bits 31:16 are reserved, so they are masked
 * everywhere except CSR88, whose upper half if_pcn.c uses.
 */
static uint16_t csr_read16(struct pcn *p, unsigned int reg)
{
	return csr_read(p, reg) & 0xffff;
}

/*
 * pcn_reset() (nb_reset here).  On QEMU the 32-bit RESET read also
 * clears BCR18 DWIO (pcnet_s_reset), which the datasheet reserves to
 * H_RESET (BCR18 DWIO);
 * the following doubleword write selects DWIO again, so nothing the
 * driver reads differs.
 */
static void nb_reset(struct nbsd *b)
{
	struct pcn *p = &b->p;

	(void)inw(p->io + PCN_WIO_RESET);
	(void)inl(p->io + PCN_DWIO_RESET);
	udelay(1000);
	outl(p->io + PCN_DWIO_RDP, 0);
	p->dwio = true;
}

static void init_rxdesc(struct nbsd *b, unsigned int i)
{
	volatile struct lermd *r = &b->rxd[i];

	r->rmd2 = pcn_bus(b->rxbuf[i]) + 2;
	r->rmd0 = 0;
	pcn_wmb();
	r->rmd1 = R1_OWN | R1_ONES | (LE_BCNT(MCLBYTES - 2) & R1_BCNT_MASK);
}

static void attach(struct nbsd *b)
{
	struct pcn *p = &b->p;
	uint32_t chipid;

	nb_reset(b);
	/*
	 * bus_space_read_1() of the APROM, now in DWIO.  Datasheet "Address
	 * PROM Space": byte reads work in either mode, doublewords in DWIO.
	 * QEMU (pcnet_ioport_read) serves only 32-bit APROM reads in DWIO
	 * and returns 0xff for bytes, so with model=qemu each byte is
	 * checked to be 0xff and the address taken from doubleword reads.
	 */
	for (unsigned int i = 0; i < 6; i += 4) {
		uint32_t w = inl(p->io + PCN_APROM + i);

		for (unsigned int k = 0; k < 4 && i + k < 6; k++)
			p->mac[i + k] = (uint8_t)(w >> (8 * k));
	}
	for (unsigned int i = 0; i < 6; i++)
		pcn_check2(p, "APROM byte read in DWIO",
			   inb(p->io + PCN_APROM + i), p->mac[i], 0xff);
	if ((p->mac[0] & 1) || !(p->mac[0] | p->mac[1] | p->mac[2] |
				  p->mac[3] | p->mac[4] | p->mac[5]))
		fail(EXIT_FAIL, "APROM address is not a valid unicast address");
	/*
	 * "IDL has all 32 bits of the chip ID when we're in 32-bit mode":
	 * CSR88 read through the 32-bit RDP is the whole JTAG-style ID,
	 * version 31:28, part number 27:12 (0x2621), AMD's code 11:1, 1.
	 */
	chipid = csr_read(p, 88);
	pcn_check(p, "CSR88 read as 32 bits in DWIO", chipid, 0x02621003);
	printf("pcnet-netbsd: Am79c970A PCnet-PCI II rev %u, Ethernet address %02x:%02x:%02x:%02x:%02x:%02x\n",
	       chipid >> 28, p->mac[0], p->mac[1], p->mac[2], p->mac[3],
	       p->mac[4], p->mac[5]);
}

static void init(struct nbsd *b)
{
	struct pcn *p = &b->p;
	uint32_t mode, reg;
	unsigned int i;

	csr_write(p, 0, C0_STOP);		/* pcn_stop() */
	nb_reset(b);
	bcr_write(p, 20, 3);		/* LE_B20_SSTYLE_PCNETPCI3 */

	memset((void *)b->txd, 0, NTXDESC * sizeof(*b->txd));
	b->txfree = NTXDESC;
	b->txnext = 0;
	b->txsfree = TXQUEUELEN;
	b->txsnext = 0;
	b->txsdirty = 0;
	for (i = 0; i < NRXDESC; i++)
		init_rxdesc(b, i);
	b->rxptr = 0;

	mode = 0 | MODE_LOOP | MODE_INTL;	/* IFF_BROADCAST: no DRCVBC */
	b->ib->init_rdra = pcn_bus((const void *)b->rxd);
	b->ib->init_tdra = pcn_bus((const void *)b->txd);
	b->ib->init_mode = mode | (uint32_t)LOG_TX << 28 |
			   (uint32_t)LOG_RX << 20;
	b->ib->init_padr[0] = p->mac[0] | p->mac[1] << 8 | p->mac[2] << 16 |
			      (uint32_t)p->mac[3] << 24;
	b->ib->init_padr[1] = p->mac[4] | p->mac[5] << 8;
	for (i = 0; i < 4; i++)
		b->ib->init_ladrf[i] = 0;	/* no multicast groups */
	pcn_wmb();

	/* CSR3: MISSM | IDONM | DXSUFLO */
	csr_write(p, 3, 0x1000 | 0x0100 | 0x0040);
	csr_write(p, 4, 0x4000 | 0x0800 | 0x0100 | 0x0010 | 0x0004);
	csr_write(p, 5, 0x4000 | 0x0400);		/* LTINTEN SINTE */

	/* Am79c970A: BCR18 BREADE | BWRITE. */
	reg = bcr_read(p, 18);
	/* H_RESET value 0x9001 with DWIO (bit 7) now set. */
	pcn_check(p, "BCR18", reg, 0x9081);
	bcr_write(p, 18, reg | 0x0040 | 0x0020);
	/* CSR80: RCVFW 1, XMTSP 1, XMTFW 0 */
	csr_write(p, 80, 1 << 12 | 1 << 10 | 0 << 8);

	csr_write(p, 1, pcn_bus((const void *)b->ib) & 0xffff);
	csr_write(p, 2, (pcn_bus((const void *)b->ib) >> 16) & 0xffff);
	csr_write(p, 0, C0_INIT);
	udelay(100);
	for (i = 0; i < 10000; i++) {
		reg = csr_read16(p, 0);
		if (reg & C0_IDON)
			break;
		udelay(10);
	}
	if (i == 10000)
		fail(EXIT_TIMEOUT, "timeout processing init block");
	pcn_check(p, "CSR0 after INIT", reg, C0_INIT | C0_IDON);

	/* pcn_79c970_mediachange(), IFM_AUTO without FDX */
	reg = bcr_read(p, 2);
	pcn_check(p, "BCR2 after H_RESET", reg, 0x0002);
	bcr_write(p, 2, reg | 0x0002);		/* LE_B2_ASEL */
	bcr_write(p, 9, 0);

	/* Enable interrupts and external activity (and ACK IDON). */
	csr_write(p, 0, C0_IENA | C0_STRT | C0_IDON);
}

/* pcn_start() for one frame of @len bytes in @nsegs DMA segments. */
static bool start_one(struct nbsd *b, uint32_t len, unsigned int nsegs)
{
	struct pcn *p = &b->p;
	struct txsoft *txs;
	unsigned int nexttx, lasttx = 0, seg;
	uint32_t off = 0;

	if (b->txsfree == 0 || nsegs > b->txfree - 1)
		return false;
	txs = &b->txs[b->txsnext];
	pcn_frame(txs->frame, len, b->sent, p->mac);
	txs->len = len;
	txs->nsegs = nsegs;
	for (nexttx = b->txnext, seg = 0; seg < nsegs;
	     seg++, nexttx = (nexttx + 1) & (NTXDESC - 1)) {
		/* Uneven pieces at odd addresses, as mbuf chains give. */
		uint32_t left = len - off, segs_left = nsegs - seg;
		uint32_t piece = left / segs_left;
		uint8_t *buf = b->segbuf + (nexttx * MCLBYTES) + (seg % 3);
		uint32_t tmd1;

		if (segs_left == 1)
			piece = left;
		else if (piece > 4)
			piece = seg & 1 ? piece + 3 : piece - 3;
		memcpy(buf, txs->frame + off, piece);
		off += piece;
		b->txd[nexttx].tmd0 = 0;
		b->txd[nexttx].tmd2 = pcn_bus(buf);
		tmd1 = T1_ONES | (nexttx == b->txnext ? 0 : T1_OWN) |
		       (LE_BCNT(piece) & T1_BCNT_MASK);
		b->txd[nexttx].tmd1 = tmd1;
		lasttx = nexttx;
	}
	if (off != len)
		fail(EXIT_FAIL, "segmenting went wrong: %u of %u bytes", off, len);
	if ((b->txsnext & TXINTR_MASK) == 0)
		b->txd[lasttx].tmd1 |= T1_LTINT;
	b->txd[lasttx].tmd1 |= T1_ENP;
	pcn_wmb();
	b->txd[b->txnext].tmd1 |= T1_OWN | T1_STP;
	pcn_wmb();
	for (nexttx = b->txnext, seg = 0; seg < nsegs;
	     seg++, nexttx = (nexttx + 1) & (NTXDESC - 1))
		b->written_tmd1[nexttx] = b->txd[nexttx].tmd1;

	/* Kick the transmitter. */
	csr_write(p, 0, C0_IENA | C0_TDMD);

	txs->firstdesc = b->txnext;
	txs->lastdesc = lasttx;
	b->txfree -= nsegs;
	b->txnext = nexttx;
	b->txsfree--;
	b->txsnext = (b->txsnext + 1) & (TXQUEUELEN - 1);
	b->sent++;
	b->segs += nsegs;
	return true;
}

static void rxintr(struct nbsd *b)
{
	struct pcn *p = &b->p;
	unsigned int i;

	for (i = b->rxptr;; i = (i + 1) & (NRXDESC - 1)) {
		uint32_t rmd1 = b->rxd[i].rmd1, len;
		struct txsoft *txs;

		if (rmd1 & R1_OWN)
			break;
		if ((rmd1 & (R1_STP | R1_ENP | R1_ERR)) != (R1_STP | R1_ENP))
			fail(EXIT_FAIL, "RX descriptor %u: RMD1 0x%08x (spilled or error)",
			     i, rmd1);
		/*
		 * RMD1: STP, ENP, PAM (our station address, PROM off), ONES
		 * and BCNT as the driver wrote them; RMD0 (SWSTYLE 3): MCNT,
		 * RPC and RCC zero.
		 */
		pcn_check(p, "RMD1", rmd1, R1_STP | R1_ENP | R1_PAM | R1_ONES |
			  LE_BCNT(MCLBYTES - 2));
		len = b->rxd[i].rmd0;
		/* The frame that went out b->received-th, in queue order. */
		txs = &b->txs[b->received & (TXQUEUELEN - 1)];
		pcn_check_frame(p, "pcnet-netbsd", b->rxbuf[i] + 2,
				len, txs->frame, txs->len);
		b->received++;
		init_rxdesc(b, i);
	}
	b->rxptr = i;
}

static void txintr(struct nbsd *b)
{
	struct pcn *p = &b->p;
	unsigned int i, j;

	for (i = b->txsdirty; b->txsfree != TXQUEUELEN;
	     i = (i + 1) & (TXQUEUELEN - 1), b->txsfree++) {
		struct txsoft *txs = &b->txs[i];
		uint32_t tmd1 = b->txd[txs->lastdesc].tmd1;

		if (tmd1 & T1_OWN)
			break;
		for (j = txs->firstdesc;; j = (j + 1) & (NTXDESC - 1)) {
			uint32_t tmd = b->txd[j].tmd1;

			if (tmd & T1_ERR)
				fail(EXIT_FAIL, "TX descriptor %u: TMD1 0x%08x TMD2 0x%08x",
				     j, tmd, b->txd[j].tmd0);
			/*
			 * Every descriptor of the chain: OWN cleared, the
			 * rest as written (LTINT stays: LTINTEN is on); no
			 * error bits or retry count in TMD2 (word 0 here).
			 */
			pcn_check(p, "TMD1", tmd, b->written_tmd1[j] & ~T1_OWN);
			pcn_check(p, "TMD2", b->txd[j].tmd0, 0);
			if (j == txs->lastdesc)
				break;
		}
		b->txfree += txs->nsegs;
		b->completed++;
	}
	b->txsdirty = i;
}

/* pcn_intr(); @want is the CSR0 expected on the first read. */
static void intr(struct nbsd *b, uint16_t want)
{
	struct pcn *p = &b->p;
	bool first = true;
	uint16_t csr0, cmp;

	for (;;) {
		csr0 = csr_read16(p, 0);
		/*
		 * Datasheet CSR0 TDMD: cleared once the chip has fetched the
		 * descriptor; QEMU keeps it set when its poll timer sent the
		 * frame before the TDMD write (see pcnet_linux.c).
		 */
		cmp = p->qemu ? csr0 & ~C0_TDMD : csr0;
		pcn_check(p, first ? "CSR0 in the interrupt" :
			  "CSR0 after the acknowledgement", cmp,
			  first ? want : want & ~(C0_INTR | C0_RINT | C0_TINT));
		if (!(csr0 & C0_INTR))
			break;
		first = false;
		/* ACK the bits and re-enable interrupts. */
		csr_write(p, 0, csr0 & (C0_IENA | C0_BABL | C0_MISS | C0_MERR |
					C0_RINT | C0_TINT | C0_IDON));
		if (csr0 & C0_RINT)
			rxintr(b);
		if (csr0 & C0_TINT)
			txintr(b);
		if (csr0 & C0_ERR)
			fail(EXIT_FAIL, "CSR0 0x%04x: BABL/MISS/MERR", csr0);
		if (!(csr0 & C0_RXON) || !(csr0 & C0_TXON))
			fail(EXIT_FAIL, "CSR0 0x%04x: receiver or transmitter off",
			     csr0);
	}
	lapic_eoi();
}

void scenario_pcnet_netbsd(void)
{
	uint64_t n = param_u64("frames", 48), seen;
	/* INIT stays set from the initialization until STOP. */
	const uint16_t running = C0_INIT | C0_STRT | C0_TXON | C0_RXON |
				 C0_IENA;
	struct nbsd b = { 0 };
	struct pcn *p = &b.p;
	unsigned int bursts = 0;

	if (!n)
		fail(EXIT_USAGE, "frames must be at least 1");
	time_init();
	pcn_find(p);
	b.txd = pcn_dma_alloc(p, NTXDESC * sizeof(*b.txd), 16);
	b.rxd = pcn_dma_alloc(p, NRXDESC * sizeof(*b.rxd), 16);
	b.ib = pcn_dma_alloc(p, sizeof(*b.ib), 16);
	for (unsigned int i = 0; i < NRXDESC; i++)
		b.rxbuf[i] = pcn_dma_alloc(p, MCLBYTES, MCLBYTES);
	b.segbuf = pcn_dma_alloc(p, NTXDESC * MCLBYTES, 16);
	for (unsigned int i = 0; i < TXQUEUELEN; i++)
		b.txs[i].frame = pcn_dma_alloc(p, MCLBYTES, 16);
	pcn_route_irq(p, VECTOR);

	attach(&b);
	init(&b);
	udelay(2000);
	if (irq_count_of(VECTOR))
		fail(EXIT_FAIL, "interrupt before anything was sent");

	while (b.sent < n) {
		unsigned int burst = 1 + bursts % 4;

		seen = irq_count_of(VECTOR);
		for (unsigned int k = 0; k < burst && b.sent < n; k++) {
			unsigned int nsegs = 1 + b.sent % NTXSEGS;
			uint32_t len = frame_len[b.sent % NFRAME_LEN];

			if (!start_one(&b, len, nsegs))
				fail(EXIT_FAIL, "TX ring full with %u frames out",
				     b.sent - b.completed);
		}
		pcn_wait_irq(p, seen, "frames looped back");
		intr(&b, running | C0_INTR | C0_RINT | C0_TINT);
		bursts++;
		if (b.received != b.sent || b.completed != b.sent)
			fail(EXIT_FAIL, "burst %u: %u sent, %u received, %u completed",
			     bursts, b.sent, b.received, b.completed);
	}
	csr_write(p, 0, C0_STOP);		/* pcn_stop() */
	irq_mask(&p->route);
	printf("pcnet-netbsd: %u frames in %u segments looped back byte-exact, %u interrupts, %u register values checked\n",
	       b.received, b.segs, bursts, p->checks);
}
