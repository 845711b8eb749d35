// SPDX-License-Identifier: MIT
/*
 * test=pcnet-ipxe [frames=N] [model=qemu]: the access sequences of iPXE's
 * pcnet32 driver (src/drivers/net/pcnet32.c), which never takes an
 * interrupt: Word I/O, SWSTYLE 2, every source masked in CSR3, and a
 * poll loop that reads CSR0, writes the same value back to acknowledge,
 * and walks the rings when RINT or TINT was set.
 *
 *   probe    RESET, CSR0 == 4 and the RAP check (set_ops), CSR88/89
 *            (chip_detect), CSR12-14 against the APROM (setup_mac_addr);
 *   open     rings (RX refilled, OWN last), RESET, BCR20 = 2, BCR2 ASEL,
 *            BCR9, CSR124 read and written back through BDP (iPXE writes
 *            it as "BCR124"), BCR32 (chip_version is never stored, so
 *            the ASEL branch runs), CSR3 masks, init block with all-ones
 *            LADRF, CSR1/2, CSR4 = 0x0915, INIT, IDON poll, STRT;
 *   transmit OWN | STP | ENP, CSR0 = TDMD (interrupts disabled);
 *   poll     as above, TX ring then RX ring (descriptors zeroed, refilled);
 *   close    RESET, STOP, BCR20 = 0.
 *
 * Internal loopback comes from the init block's MODE (LOOP | INTL), the
 * one change to iPXE's sequence.  Frames are sent in bursts of three
 * (TX ring of four), so one poll finds several.
 */
#include "pcnet_drv.h"
#include "scenarios.h"

#define LOG_TX		2
#define LOG_RX		3
#define TX_SIZE		(1u << LOG_TX)
#define RX_SIZE		(1u << LOG_RX)
#define PKT_BUF_SIZE	1536

#define MODE_LOOP	0x0004
#define MODE_INTL	0x0040

struct ipxe {
	struct pcn p;
	volatile struct pcn_init_block *ib;
	volatile struct pcn_desc *rx, *tx;
	uint8_t *rxbuf[RX_SIZE];
	bool rx_iobuf[RX_SIZE];		/* "priv->rx_iobuf[i] != NULL" */
	uint8_t *txbuf[TX_SIZE];
	uint32_t txlen[TX_SIZE];
	unsigned int rx_curr, tx_curr, tx_tail, tx_fill_ctr;
	unsigned int sent, received, completed;
	/* Frames in flight, in send order, for the RX comparison. */
	unsigned int pending_slot[TX_SIZE];
	bool idon_pending;
};

static const uint32_t frame_len[] = {
	60, 1514, 77, 128, 600, 61, 1024, 333, 1500, 64,
};

/* pcnet32_refill_rx_ring() */
static void refill_rx_ring(struct ipxe *x)
{
	for (unsigned int i = 0; i < RX_SIZE; i++) {
		volatile struct pcn_desc *d = &x->rx[i];

		if (d->status & D_OWN)
			continue;
		if (x->rx_iobuf[i])
			continue;
		x->rx_iobuf[i] = true;
		d->base = pcn_bus(x->rxbuf[i]);
		d->length = (uint16_t)-PKT_BUF_SIZE;
		d->misc = 0;
		d->reserved = 0;
		pcn_wmb();
		d->status = D_OWN;
	}
}

static void probe(struct ipxe *x)
{
	struct pcn *p = &x->p;
	uint16_t c88, c89, v;
	uint32_t chip;
	uint8_t prom[6];

	p->dwio = false;
	pcn_reset(p);			/* pcnet32_wio_reset() */
	/* pcnet32_set_ops(): WIO when CSR0 reads 4 and RAP holds 88. */
	pcn_check(p, "CSR0 after S_RESET", pcn_csr_rd(p, 0), C0_STOP);
	pcn_rap_wr(p, 88);
	pcn_check(p, "RAP", pcn_rap_rd(p), 88);

	/* pcnet32_chip_detect() */
	c88 = pcn_csr_rd(p, 88);
	c89 = pcn_csr_rd(p, 89);
	pcn_check(p, "CSR88", c88, 0x1003);
	pcn_check(p, "CSR89", c89, 0x0262);
	chip = c88 | (uint32_t)c89 << 16;
	pcn_check(p, "chip ID part number", (chip >> 12) & 0xffff,
		  PCN_PARTID_970A);

	/* pcnet32_setup_mac_addr() */
	for (unsigned int i = 0; i < 3; i++) {
		v = pcn_csr_rd(p, 12 + i);
		p->mac[2 * i] = v & 0xff;
		p->mac[2 * i + 1] = v >> 8;
	}
	for (unsigned int i = 0; i < 6; i++) {
		prom[i] = inb(p->io + PCN_APROM + i);
		pcn_check(p, "APROM byte against CSR12-14", prom[i], p->mac[i]);
	}
	if ((p->mac[0] & 1) || !(p->mac[0] | p->mac[1] | p->mac[2] |
				  p->mac[3] | p->mac[4] | p->mac[5]))
		fail(EXIT_FAIL, "station address is not a valid unicast address");
}

static void open(struct ipxe *x)
{
	struct pcn *p = &x->p;
	uint16_t v, csr0 = 0;
	unsigned int i;

	/* pcnet32_setup_tx_resources(), pcnet32_setup_rx_resources() */
	memset((void *)x->tx, 0, TX_SIZE * sizeof(*x->tx));
	memset((void *)x->rx, 0, RX_SIZE * sizeof(*x->rx));
	refill_rx_ring(x);

	pcn_reset(p);
	pcn_bcr_wr(p, 20, 2);		/* PCNET32_SWSTYLE_PCNET32 */

	/* pcnet32_setup_if_duplex(), options = PCNET32_PORT_ASEL */
	v = pcn_bcr_rd(p, 2);
	pcn_check(p, "BCR2 after H_RESET", v, 0x0002);
	pcn_bcr_wr(p, 2, (v & ~2) | 2);
	v = pcn_bcr_rd(p, 9);
	pcn_check(p, "BCR9 after H_RESET", v, 0x0000);
	pcn_bcr_wr(p, 9, v & ~3);
	v = pcn_csr_rd(p, 124);
	pcn_check(p, "CSR124 after S_RESET", v, 0x0000);
	pcn_bcr_wr(p, 124, v & ~0x10);	/* sic: iPXE writes BCR124 */
	(void)pci_read16(&p->pci, 0x2c);	/* subsystem vendor */
	(void)pci_read16(&p->pci, 0x2e);	/* subsystem ID */
	/*
	 * Datasheet BCR32 (MII Control and Status): MIIPD reads 1 with the
	 * PHY present.  QEMU implements BCR0-BCR31 only: 0 from BCR32 up.
	 */
	v = pcn_bcr_rd(p, 32);
	pcn_check2(p, "BCR32 after H_RESET", v, 0x4000, 0x0000);
	pcn_bcr_wr(p, 32, (v & ~0x98) | 0x20);

	/* Disable interrupts: BABLM, MISSM, RINTM, TINTM, IDONM. */
	v = pcn_csr_rd(p, 3);
	pcn_check(p, "CSR3 after S_RESET", v, 0x0000);
	pcn_csr_wr(p, 3, v | 0x5700);

	/* pcnet32_setup_init_block(), plus internal loopback */
	x->ib->mode = 0 | MODE_LOOP | MODE_INTL;
	x->ib->tlen_rlen = LOG_RX << 4 | LOG_TX << 12;
	for (i = 0; i < 6; i++)
		x->ib->phys_addr[i] = p->mac[i];
	x->ib->filter[0] = 0xffffffff;
	x->ib->filter[1] = 0xffffffff;
	x->ib->rx_ring = pcn_bus((const void *)x->rx);
	x->ib->tx_ring = pcn_bus((const void *)x->tx);
	pcn_wmb();

	pcn_csr_wr(p, 1, pcn_bus((const void *)x->ib) & 0xffff);
	pcn_csr_wr(p, 2, pcn_bus((const void *)x->ib) >> 16);
	pcn_csr_wr(p, 4, 0x0915);

	/* pcnet32_hw_start() */
	pcn_csr_wr(p, 0, C0_INIT);
	for (i = 0; i++ < 100;) {
		csr0 = pcn_csr_rd(p, 0);
		if (csr0 & C0_IDON)
			break;
	}
	/* IDON masked by IDONM: no INTR. */
	pcn_check(p, "CSR0 after INIT", csr0, C0_INIT | C0_IDON);
	pcn_csr_wr(p, 0, C0_STRT);
	x->idon_pending = true;
}

/* pcnet32_transmit(); false when the ring is full (-ENOTSUP). */
static bool transmit(struct ipxe *x, uint32_t len)
{
	unsigned int slot = x->tx_curr;
	volatile struct pcn_desc *d = &x->tx[slot];

	if (x->tx_fill_ctr == TX_SIZE)
		return false;
	pcn_frame(x->txbuf[slot], len, x->sent, x->p.mac);
	x->txlen[slot] = len;
	x->pending_slot[(x->sent) % TX_SIZE] = slot;
	d->length = (uint16_t)-len;
	d->misc = 0;
	d->base = pcn_bus(x->txbuf[slot]);
	pcn_wmb();
	d->status = D_OWN | D_STP | D_ENP;
	pcn_wmb();
	pcn_csr_wr(&x->p, 0, C0_TDMD);	/* irq_enabled = 0 */
	x->tx_curr = (x->tx_curr + 1) % TX_SIZE;
	x->tx_fill_ctr++;
	x->sent++;
	return true;
}

static void process_tx(struct ipxe *x)
{
	struct pcn *p = &x->p;

	while (x->tx_tail != x->tx_curr) {
		volatile struct pcn_desc *d = &x->tx[x->tx_tail];
		uint16_t status = d->status;

		if (status & D_OWN)
			break;
		pcn_check(p, "TMD1 status", status, D_STP | D_ENP);
		pcn_check(p, "TMD2 (errors, TRC)", d->misc, 0);
		memset((void *)d, 0, sizeof(*d));
		x->tx_fill_ctr--;
		x->tx_tail = (x->tx_tail + 1) % TX_SIZE;
		x->completed++;
	}
}

static void process_rx(struct ipxe *x)
{
	struct pcn *p = &x->p;

	for (unsigned int i = 0; i < RX_SIZE; i++) {
		volatile struct pcn_desc *d = &x->rx[x->rx_curr];
		uint16_t status = d->status;
		unsigned int slot;

		if (status & D_OWN)
			break;
		if (!x->rx_iobuf[x->rx_curr])
			break;
		if (status & D_ERR)
			fail(EXIT_FAIL, "RX descriptor %u status 0x%04x (ERR)",
			     x->rx_curr, status);
		/* STP, ENP, PAM: one buffer, our station address. */
		pcn_check(p, "RMD1 status", status, D_STP | D_ENP | R_PAM);
		pcn_check(p, "RMD1 BCNT", d->length, (uint16_t)-PKT_BUF_SIZE);
		slot = x->pending_slot[x->received % TX_SIZE];
		pcn_check_frame(p, "pcnet-ipxe", x->rxbuf[x->rx_curr], d->misc,
				x->txbuf[slot], x->txlen[slot]);
		x->received++;
		x->rx_iobuf[x->rx_curr] = false;
		memset((void *)d, 0, sizeof(*d));
		x->rx_curr = (x->rx_curr + 1) % RX_SIZE;
	}
	refill_rx_ring(x);
}

/* pcnet32_poll(); @want is the CSR0 the scenario expects this time. */
static void poll(struct ipxe *x, uint16_t want)
{
	struct pcn *p = &x->p;
	uint16_t status = pcn_csr_rd(p, 0);
	uint16_t cmp = status;

	if (x->idon_pending)
		want |= C0_IDON;
	/*
	 * Datasheet CSR0 TDMD: cleared once the chip has fetched the
	 * descriptor.  QEMU keeps TDMD set when its poll timer (run on any
	 * register access) sent the frame before the TDMD write came.
	 */
	if (p->qemu)
		cmp &= ~C0_TDMD;
	pcn_check(p, "CSR0 in poll", cmp, want);
	pcn_csr_wr(p, 0, status);	/* clear interrupts */
	x->idon_pending = false;
	if ((status & 0x0500) == 0)
		return;
	process_tx(x);
	process_rx(x);
}

static void close(struct ipxe *x)
{
	struct pcn *p = &x->p;

	pcn_reset(p);			/* pcnet32_wio_reset() */
	pcn_csr_wr(p, 0, C0_STOP);
	pcn_bcr_wr(p, 20, 0);		/* PCNET32_SWSTYLE_LANCE */
	/* SWSTYLE 0 sets CSRPCNET (BCR20 bit 9), SSIZE32 off. */
	pcn_check(p, "BCR20 after SWSTYLE 0", pcn_bcr_rd(p, 20), 0x0200);
}

void scenario_pcnet_ipxe(void)
{
	uint64_t n = param_u64("frames", 40);
	const uint16_t running = C0_INIT | C0_STRT | C0_TXON | C0_RXON;
	struct ipxe x = { 0 };
	struct pcn *p = &x.p;
	unsigned int polls = 0;

	if (!n)
		fail(EXIT_USAGE, "frames must be at least 1");
	time_init();
	pcn_find(p);
	x.ib = pcn_dma_alloc(p, sizeof(*x.ib), 16);
	x.rx = pcn_dma_alloc(p, RX_SIZE * sizeof(*x.rx), 16);
	x.tx = pcn_dma_alloc(p, TX_SIZE * sizeof(*x.tx), 16);
	for (unsigned int i = 0; i < RX_SIZE; i++)
		x.rxbuf[i] = pcn_dma_alloc(p, PKT_BUF_SIZE, 16);
	for (unsigned int i = 0; i < TX_SIZE; i++)
		x.txbuf[i] = pcn_dma_alloc(p, PKT_BUF_SIZE, 16);

	probe(&x);
	open(&x);
	poll(&x, running);		/* nothing yet: acknowledges IDON */

	while (x.received < n) {
		unsigned int burst = 0;

		/*
		 * At most TX_SIZE - 1: with the ring full tx_curr equals
		 * tx_tail and iPXE's TX completion loop would never run.
		 */
		while (x.sent < n && burst < TX_SIZE - 1 &&
		       transmit(&x, frame_len[x.sent % ARRAY_SIZE(frame_len)]))
			burst++;
		if (!burst && x.tx_fill_ctr == 0)
			fail(EXIT_FAIL, "nothing in flight and nothing sent");
		/* Loopback is synchronous to TDMD: the burst is back. */
		poll(&x, running | C0_TINT | C0_RINT);
		polls++;
		if (x.completed != x.sent || x.received != x.sent)
			fail(EXIT_FAIL, "poll %u: %u sent, %u completed, %u received",
			     polls, x.sent, x.completed, x.received);
		poll(&x, running);	/* idle: nothing new */
	}
	close(&x);
	printf("pcnet-ipxe: %u frames looped back byte-exact in %u polls, %u register values checked\n",
	       x.received, polls, p->checks);
}
