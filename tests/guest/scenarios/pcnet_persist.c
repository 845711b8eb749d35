// SPDX-License-Identifier: MIT
/*
 * test=pcnet-persist [ms=N] [every=K]: internal-loopback traffic through
 * the PCnet-PCI II for N ms (default 6000) while the harness kills the
 * device process and starts it again (tests/integration/pcnet-crash.sh).
 * The crash-isolation promise, as a guest sees it:
 *
 *   - traffic resumes after every restart, without the driver resetting or
 *     re-initialising the chip (no register is written but TDMD);
 *   - a frame may be lost (or, rarely, come twice), but every frame that
 *     comes back is byte-exact one that was sent;
 *   - no descriptor ring stalls: every TX descriptor is handed back, and the
 *     RX ring keeps turning;
 *   - memory the chip was not given stays untouched (canaries).
 *
 * A polling driver, SWSTYLE 2, 8 TX and 16 RX descriptors; progress lines
 * "pcnet-persist: ok rx=R" every K frames received (default 100).
 */
#include "pcnet_drv.h"
#include "scenarios.h"

#define LOG_TX		3
#define LOG_RX		4
#define TX_SIZE		(1u << LOG_TX)
#define RX_SIZE		(1u << LOG_RX)
#define BUF_SIZE	1536
#define MODE_LOOP	0x0004
#define MODE_INTL	0x0040
#define ETHERTYPE	0x88b5		/* IEEE local experimental */
#define STALL_US	3000000		/* no progress this long: stalled */
#define CANARY_SIZE	4096
#define CANARY_BYTE	0xa5

struct persist {
	struct pcn p;
	volatile struct pcn_init_block *ib;
	volatile struct pcn_desc *rx, *tx;
	uint8_t *rxbuf[RX_SIZE], *txbuf[TX_SIZE];
	uint8_t *canary[2];
	unsigned int tx_head, tx_tail, rx_curr;
	uint32_t next_seq;
	uint64_t sent, completed, received, tx_errors;
};

static uint32_t frame_len(uint32_t seq)
{
	return 60 + (seq * 97) % (1514 - 60 + 1);
}

static uint8_t frame_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + (i >> 8));
}

static void build(struct persist *x, uint8_t *b, uint32_t seq, uint32_t len)
{
	memcpy(b, x->p.mac, 6);
	memcpy(b + 6, x->p.mac, 6);
	b[12] = ETHERTYPE >> 8;
	b[13] = ETHERTYPE & 0xff;
	memcpy(b + 14, &seq, 4);
	for (uint32_t i = 18; i < len; i++)
		b[i] = frame_byte(seq, i);
}

/* A received frame is one that was sent, byte for byte. */
static void check_rx(struct persist *x, const uint8_t *b, uint32_t mcnt)
{
	uint32_t seq, len;

	if (mcnt < 18 + 4)
		fail(EXIT_FAIL, "received a %u-byte frame", mcnt);
	memcpy(&seq, b + 14, 4);
	len = frame_len(seq);
	if (seq >= x->next_seq || mcnt != len + 4)
		fail(EXIT_FAIL, "received frame seq %u of %u bytes: never sent (next %u)",
		     seq, mcnt, x->next_seq);
	if (memcmp(b, x->p.mac, 6) || memcmp(b + 6, x->p.mac, 6) ||
	    b[12] != ETHERTYPE >> 8 || b[13] != (ETHERTYPE & 0xff))
		fail(EXIT_FAIL, "frame seq %u: header corrupted", seq);
	for (uint32_t i = 18; i < len; i++)
		if (b[i] != frame_byte(seq, i))
			fail(EXIT_FAIL, "frame seq %u: byte %u is 0x%02x, sent 0x%02x",
			     seq, i, b[i], frame_byte(seq, i));
}

static void give_rx(struct persist *x, unsigned int i)
{
	volatile struct pcn_desc *d = &x->rx[i];

	d->base = pcn_bus(x->rxbuf[i]);
	d->length = (uint16_t)-BUF_SIZE;
	d->misc = 0;
	pcn_wmb();
	d->status = D_OWN;
}

static void open_chip(struct persist *x)
{
	struct pcn *p = &x->p;
	uint16_t csr0 = 0;

	pcn_reset(p);
	pcn_bcr_wr(p, 20, 2);			/* SWSTYLE 2: 32-bit structures */
	for (unsigned int i = 0; i < 3; i++) {
		uint16_t v = pcn_csr_rd(p, 12 + i);

		p->mac[2 * i] = v & 0xff;
		p->mac[2 * i + 1] = v >> 8;
	}
	for (unsigned int i = 0; i < RX_SIZE; i++)
		give_rx(x, i);
	x->ib->mode = MODE_LOOP | MODE_INTL;
	x->ib->tlen_rlen = LOG_RX << 4 | LOG_TX << 12;
	memcpy((void *)x->ib->phys_addr, p->mac, 6);
	x->ib->filter[0] = x->ib->filter[1] = 0;
	x->ib->rx_ring = pcn_bus((const void *)x->rx);
	x->ib->tx_ring = pcn_bus((const void *)x->tx);
	pcn_wmb();
	pcn_csr_wr(p, 1, pcn_bus((const void *)x->ib) & 0xffff);
	pcn_csr_wr(p, 2, pcn_bus((const void *)x->ib) >> 16);
	pcn_csr_wr(p, 4, 0x0915);
	pcn_csr_wr(p, 0, C0_INIT);
	for (unsigned int i = 0; i < 1000 && !(csr0 & C0_IDON); i++)
		csr0 = pcn_csr_rd(p, 0);
	if (!(csr0 & C0_IDON))
		fail(EXIT_FAIL, "no IDON after INIT (CSR0 0x%04x)", csr0);
	pcn_csr_wr(p, 0, C0_IDON | C0_STRT);
}

static bool send_one(struct persist *x)
{
	unsigned int slot = x->tx_head % TX_SIZE;
	volatile struct pcn_desc *d = &x->tx[slot];
	uint32_t seq = x->next_seq, len = frame_len(seq);

	if (x->tx_head - x->tx_tail == TX_SIZE)
		return false;
	build(x, x->txbuf[slot], seq, len);
	x->next_seq++;
	d->base = pcn_bus(x->txbuf[slot]);
	d->length = (uint16_t)-len;
	d->misc = 0;
	pcn_wmb();
	d->status = D_OWN | D_STP | D_ENP;
	pcn_wmb();
	x->tx_head++;
	x->sent++;
	pcn_csr_wr(&x->p, 0, C0_TDMD);
	return true;
}

/* Reaps what the chip handed back; true if anything moved. */
static bool reap(struct persist *x)
{
	bool moved = false;

	while (x->tx_tail != x->tx_head) {
		volatile struct pcn_desc *d = &x->tx[x->tx_tail % TX_SIZE];

		if (d->status & D_OWN)
			break;
		if (d->status & D_ERR)
			x->tx_errors++;
		x->tx_tail++;
		x->completed++;
		moved = true;
	}
	for (;;) {
		volatile struct pcn_desc *d = &x->rx[x->rx_curr];
		uint16_t st = d->status;

		if (st & D_OWN)
			break;
		if ((st & (D_ERR | D_STP | D_ENP)) == (D_STP | D_ENP))
			check_rx(x, x->rxbuf[x->rx_curr], d->misc & 0xfff);
		else
			fail(EXIT_FAIL, "RX descriptor %u status 0x%04x: a frame over one buffer or an error",
			     x->rx_curr, st);
		x->received++;
		give_rx(x, x->rx_curr);
		x->rx_curr = (x->rx_curr + 1) % RX_SIZE;
		moved = true;
	}
	return moved;
}

void scenario_pcnet_persist(void)
{
	uint64_t ms = param_u64("ms", 6000), every = param_u64("every", 100);
	uint64_t end, stall, next_report;
	struct persist x = { 0 };
	struct pcn *p = &x.p;

	if (!every)
		fail(EXIT_USAGE, "every must be at least 1");
	time_init();
	pcn_find(p);
	x.canary[0] = pcn_dma_alloc(p, CANARY_SIZE, 16);
	x.ib = pcn_dma_alloc(p, sizeof(*x.ib), 16);
	x.rx = pcn_dma_alloc(p, RX_SIZE * sizeof(*x.rx), 16);
	x.tx = pcn_dma_alloc(p, TX_SIZE * sizeof(*x.tx), 16);
	for (unsigned int i = 0; i < RX_SIZE; i++)
		x.rxbuf[i] = pcn_dma_alloc(p, BUF_SIZE, 16);
	for (unsigned int i = 0; i < TX_SIZE; i++)
		x.txbuf[i] = pcn_dma_alloc(p, BUF_SIZE, 16);
	x.canary[1] = pcn_dma_alloc(p, CANARY_SIZE, 16);
	memset(x.canary[0], CANARY_BYTE, CANARY_SIZE);
	memset(x.canary[1], CANARY_BYTE, CANARY_SIZE);
	open_chip(&x);
	printf("pcnet-persist: %llu ms of loopback traffic, progress every %llu frames\n",
	       (unsigned long long)ms, (unsigned long long)every);

	end = deadline_us(ms * 1000);
	stall = deadline_us(STALL_US);
	next_report = every;
	while (!deadline_passed(end)) {
		while (send_one(&x))
			;
		if (reap(&x))
			stall = deadline_us(STALL_US);
		else if (deadline_passed(stall))
			fail(EXIT_FAIL, "ring stalled: %llu sent, %llu handed back, %llu received",
			     (unsigned long long)x.sent,
			     (unsigned long long)x.completed,
			     (unsigned long long)x.received);
		if (x.received >= next_report) {
			printf("pcnet-persist: ok rx=%llu\n",
			       (unsigned long long)x.received);
			next_report = x.received + every;
		}
	}
	/* Every TX descriptor comes back. */
	stall = deadline_us(STALL_US);
	while (x.tx_tail != x.tx_head && !deadline_passed(stall))
		reap(&x);
	if (x.tx_tail != x.tx_head)
		fail(EXIT_FAIL, "%u TX descriptors never handed back",
		     x.tx_head - x.tx_tail);
	for (unsigned int k = 0; k < 2; k++)
		for (unsigned int i = 0; i < CANARY_SIZE; i++)
			if (x.canary[k][i] != CANARY_BYTE)
				fail(EXIT_FAIL, "canary %u byte %u overwritten", k, i);
	/* Received can exceed sent by a frame a dead process looped back
	 * and its successor looped back again. */
	printf("pcnet-persist: %llu sent, %llu handed back, %llu received byte-exact (%lld lost), %llu TX errors\n",
	       (unsigned long long)x.sent, (unsigned long long)x.completed,
	       (unsigned long long)x.received,
	       (long long)(x.sent - x.received),
	       (unsigned long long)x.tx_errors);
}
