// SPDX-License-Identifier: MIT
/*
 * test=pcnet-wire [frames=N] [window=W] [rxbuf=B] [foreign=K]: frames out
 * on the wire and back from a peer that swaps the MAC addresses (testpmd
 * --forward-mode=macswap behind dev-pcnet's vhost-user front-end), not
 * loopback.
 *
 * rxbuf=B gives receive buffers of B bytes (80..1544), so long frames come
 * back in a chain of descriptors (STP ... ENP, every buffer full but the
 * last).  foreign=K sends every K-th frame from another station address,
 * so the peer sends it back to that address and the chip's filter must
 * drop it: it is not expected back.
 *
 * lossy=1 is for a wire that goes away (the back-end restarted): frames
 * that do not come back within 20 ms count as lost, a frame back names
 * itself (bytes 14-17), and only what comes back is checked.  The counts
 * then include "lost".
 *
 * The driver is pcnet32's shape in Word I/O mode with SWSTYLE 2 (32 RX,
 * 16 TX descriptors, 1544-byte buffers, CSR4 = 0x0915 so short frames are
 * padded by the chip), but polled: IENA stays off, the guest watches the
 * descriptors' OWN bits in memory and writes CSR0 = TDMD once per batch,
 * with up to W frames on the wire.  Frame k goes to the peer
 * 02:50:43:4e:45:54 from the station address, a counting payload after an
 * 0x88b5 type; what comes back must be frame k with destination and
 * source swapped, padded to 60 bytes with zeros if it was shorter, MCNT
 * = length + 4 and the FCS the chip computed.  At the end CSR0 = STOP
 * with receive buffers still posted to the back-end.
 *
 * Prints the counts (for the test to compare with the peer's statistics)
 * and the round-trip rate as "bench: pcnet-wire-frames N per second".
 */
#include "pcnet_drv.h"
#include "scenarios.h"

#define LOG_TX		4
#define LOG_RX		5
#define TX_SIZE		(1u << LOG_TX)
#define RX_SIZE		(1u << LOG_RX)
#define BUF_SIZE	1544
#define MIN_RXBUF	80
#define STALL_US	3000000
#define LOST_US		20000

struct rx_head {
	uint32_t base;
	uint16_t buf_length;
	uint16_t status;
	uint32_t msg_length;
	uint32_t reserved;
};

struct tx_head {
	uint32_t base;
	uint16_t length;
	uint16_t status;
	uint32_t misc;
	uint32_t reserved;
};

static const uint8_t peer[6] = { 0x02, 0x50, 0x43, 0x4e, 0x45, 0x54 };
static const uint8_t stranger[6] = { 0x02, 0x46, 0x4f, 0x52, 0x45, 0x49 };

static const uint32_t frame_len[] = {
	60, 42, 61, 64, 100, 128, 255, 256, 511, 512, 1000, 1023, 1514, 14,
};

struct wire {
	struct pcn p;
	volatile struct pcn_init_block *ib;
	volatile struct rx_head *rx;
	volatile struct tx_head *tx;
	uint8_t *rxbuf_ptr[RX_SIZE];
	uint8_t *txbuf[TX_SIZE];
	uint64_t sent, completed, received;
	uint64_t expect;	/* the next frame number that may come back */
	uint64_t bytes_back, bytes_sent;
	uint64_t foreign;	/* every foreign-th frame is from a stranger */
	uint64_t lost;
	bool lossy;
	unsigned int rx_cur;
	uint32_t rxbuf;
};

static bool is_foreign(const struct wire *w, uint64_t k)
{
	return w->foreign && k % w->foreign == w->foreign - 1;
}

static bool lossy_mode;

/* Lossy: every frame long enough to carry its number. */
static uint32_t len_of(uint64_t k)
{
	uint32_t len = frame_len[k % ARRAY_SIZE(frame_len)];

	return lossy_mode && len < 18 ? 18 : len;
}

static void build(struct wire *w, uint8_t *buf, uint64_t k)
{
	uint32_t len = len_of(k);

	memcpy(buf, peer, 6);
	memcpy(buf + 6, is_foreign(w, k) ? stranger : w->p.mac, 6);
	buf[12] = 0x88;
	buf[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(k * 13 + i * 7 + (i >> 8));
	if (len > 17) {
		buf[14] = (uint8_t)k;
		buf[15] = (uint8_t)(k >> 8);
		buf[16] = (uint8_t)(k >> 16);
		buf[17] = (uint8_t)(k >> 24);
	}
}

static void open_chip(struct wire *w)
{
	struct pcn *p = &w->p;
	uint16_t v, csr0 = 0;

	p->dwio = false;
	pcn_reset(p);
	pcn_check(p, "CSR0 after S_RESET", pcn_csr_rd(p, 0), C0_STOP);
	for (unsigned int i = 0; i < 3; i++) {
		v = pcn_csr_rd(p, 12 + i);
		p->mac[2 * i] = v & 0xff;
		p->mac[2 * i + 1] = v >> 8;
	}
	pcn_bcr_wr(p, 20, 2);
	w->ib->mode = 0;
	w->ib->tlen_rlen = LOG_TX << 12 | LOG_RX << 4;
	for (unsigned int i = 0; i < 6; i++)
		w->ib->phys_addr[i] = p->mac[i];
	w->ib->filter[0] = 0;
	w->ib->filter[1] = 0;
	w->ib->rx_ring = pcn_bus((const void *)w->rx);
	w->ib->tx_ring = pcn_bus((const void *)w->tx);
	for (unsigned int i = 0; i < RX_SIZE; i++) {
		w->rx[i].base = pcn_bus(w->rxbuf_ptr[i]);
		w->rx[i].buf_length = (uint16_t)-w->rxbuf;
		w->rx[i].msg_length = 0;
		pcn_wmb();
		w->rx[i].status = D_OWN;
	}
	for (unsigned int i = 0; i < TX_SIZE; i++) {
		w->tx[i].status = 0;
		w->tx[i].base = 0;
	}
	pcn_wmb();
	pcn_csr_wr(p, 1, pcn_bus((const void *)w->ib) & 0xffff);
	pcn_csr_wr(p, 2, pcn_bus((const void *)w->ib) >> 16);
	pcn_csr_wr(p, 4, 0x0915);	/* APAD_XMT, auto pad */
	pcn_csr_wr(p, 0, C0_INIT);
	for (unsigned int i = 0; i++ < 1000;) {
		csr0 = pcn_csr_rd(p, 0);
		if (csr0 & C0_IDON)
			break;
	}
	pcn_check(p, "CSR0 after INIT", csr0, C0_INIT | C0_IDON | C0_INTR);
	/* Polled: IDON acknowledged, IENA off. */
	pcn_csr_wr(p, 0, C0_IDON | C0_STRT);
	pcn_check(p, "CSR0 after STRT", pcn_csr_rd(p, 0),
		  C0_INIT | C0_STRT | C0_TXON | C0_RXON);
}

/* Frame @k as it must come back: @got (@mcnt bytes with the FCS). */
static void check_back(struct wire *w, const uint8_t *got, uint32_t mcnt,
		       uint64_t k)
{
	uint32_t len = len_of(k), want = len < 60 ? 60 : len, fcs = 0;
	static uint8_t sent[BUF_SIZE];

	pcn_check(&w->p, "RMD2 MCNT", mcnt, want + 4);
	build(w, sent, k);
	memset(sent + len, 0, want - len);
	/* macswap: the peer sent it back to us, from itself. */
	memcpy(sent, w->p.mac, 6);
	memcpy(sent + 6, peer, 6);
	for (uint32_t i = 0; i < want; i++) {
		if (got[i] != sent[i])
			fail(EXIT_FAIL, "frame %llu (%u bytes) differs at byte %u: 0x%02x, expected 0x%02x",
			     (unsigned long long)k, want, i, got[i], sent[i]);
	}
	for (int i = 0; i < 4; i++)
		fcs |= (uint32_t)got[want + i] << (8 * i);
	pcn_check(&w->p, "received FCS", fcs, ~pcn_crc_raw(got, want));
	w->bytes_back += want;
}

/* Takes every frame back that is there (STP ... ENP); true if any. */
static bool reap_rx(struct wire *w)
{
	static uint8_t frame[BUF_SIZE + 4];
	bool any = false;

	for (;;) {
		unsigned int entry = w->rx_cur % RX_SIZE, n = 0;
		uint16_t status = w->rx[entry].status, last;
		uint32_t mcnt;

		if (status & D_OWN)
			return any;
		/* Handed back last to first: STP free means all are. */
		while (!(w->rx[(entry + n) % RX_SIZE].status & D_ENP)) {
			if (++n >= RX_SIZE ||
			    (w->rx[(entry + n) % RX_SIZE].status & D_OWN))
				fail(EXIT_FAIL, "RX chain from %u without ENP (RMD1 0x%x)",
				     entry, status);
		}
		last = w->rx[(entry + n) % RX_SIZE].status;
		mcnt = w->rx[(entry + n) % RX_SIZE].msg_length & 0xfff;
		pcn_check(&w->p, "RMD1 status (first)", status & ~D_ENP & ~R_PAM,
			  D_STP);
		pcn_check(&w->p, "RMD1 status (last)",
			  last & ~(n ? 0 : D_STP), D_ENP | R_PAM);
		if (mcnt > sizeof(frame) || mcnt <= n * w->rxbuf ||
		    mcnt > (n + 1) * w->rxbuf)
			fail(EXIT_FAIL, "MCNT %u over %u buffers of %u", mcnt,
			     n + 1, w->rxbuf);
		for (unsigned int j = 0; j <= n; j++) {
			uint32_t take = j < n ? w->rxbuf : mcnt - n * w->rxbuf;

			if (j && j < n)
				pcn_check(&w->p, "RMD1 status (middle)",
					  w->rx[(entry + j) % RX_SIZE].status, 0);
			memcpy(frame + j * w->rxbuf,
			       w->rxbuf_ptr[(entry + j) % RX_SIZE], take);
		}
		while (w->expect < w->sent && is_foreign(w, w->expect))
			w->expect++;
		if (w->lossy) {
			uint64_t k = frame[14] | (uint64_t)frame[15] << 8 |
				     (uint64_t)frame[16] << 16 |
				     (uint64_t)frame[17] << 24;

			if (k >= w->sent)
				fail(EXIT_FAIL, "frame %llu back that was never sent",
				     (unsigned long long)k);
			check_back(w, frame, mcnt, k);
			if (k >= w->expect) {
				/* The ones before it were lost. */
				w->lost += k - w->expect;
				w->expect = k + 1;
			} else if (w->lost) {
				/* Late, after it was given up: not lost. */
				w->lost--;
			}
		} else {
			if (w->expect >= w->sent)
				fail(EXIT_FAIL, "frame back that was never sent (RMD1 0x%x)",
				     status);
			check_back(w, frame, mcnt, w->expect);
			w->expect++;
		}
		for (unsigned int j = 0; j <= n; j++) {
			volatile struct rx_head *r = &w->rx[(entry + j) % RX_SIZE];

			r->buf_length = (uint16_t)-w->rxbuf;
			r->msg_length = 0;
			pcn_wmb();
			r->status = D_OWN;
		}
		w->rx_cur += n + 1;
		w->received++;
		any = true;
	}
}

static bool reap_tx(struct wire *w)
{
	bool any = false;

	while (w->completed < w->sent) {
		unsigned int entry = w->completed % TX_SIZE;
		uint16_t status = w->tx[entry].status;

		if (status & D_OWN)
			break;
		pcn_check(&w->p, "TMD1 status", status, D_STP | D_ENP);
		pcn_check(&w->p, "TMD2", w->tx[entry].misc, 0);
		w->completed++;
		any = true;
	}
	return any;
}

static void queue_tx(struct wire *w)
{
	unsigned int entry = w->sent % TX_SIZE;
	uint32_t len = len_of(w->sent);

	build(w, w->txbuf[entry], w->sent);
	w->bytes_sent += len < 60 ? 60 : len;
	w->tx[entry].length = (uint16_t)-len;
	w->tx[entry].misc = 0;
	w->tx[entry].base = pcn_bus(w->txbuf[entry]);
	pcn_wmb();
	w->tx[entry].status = D_OWN | D_STP | D_ENP;
	w->sent++;
}

void scenario_pcnet_wire(void)
{
	uint64_t n = param_u64("frames", 2000), win = param_u64("window", 8);
	uint64_t t0, us, stall, lost_dl;
	struct wire w = { 0 };
	struct pcn *p = &w.p;

	w.rxbuf = (uint32_t)param_u64("rxbuf", BUF_SIZE);
	w.lossy = lossy_mode = param_u64("lossy", 0) != 0;
	w.foreign = param_u64("foreign", 0);
	if (!n || !win || win > TX_SIZE || w.rxbuf < MIN_RXBUF ||
	    w.rxbuf > BUF_SIZE || w.foreign == 1)
		fail(EXIT_USAGE, "frames >= 1, window 1..%u, rxbuf %u..%u, foreign 0 or >= 2",
		     TX_SIZE, MIN_RXBUF, BUF_SIZE);
	time_init();
	pcn_find(p);
	w.ib = pcn_dma_alloc(p, sizeof(*w.ib), 16);
	w.rx = pcn_dma_alloc(p, RX_SIZE * sizeof(*w.rx), 16);
	w.tx = pcn_dma_alloc(p, TX_SIZE * sizeof(*w.tx), 16);
	for (unsigned int i = 0; i < RX_SIZE; i++)
		w.rxbuf_ptr[i] = pcn_dma_alloc(p, BUF_SIZE, 16);
	for (unsigned int i = 0; i < TX_SIZE; i++)
		w.txbuf[i] = pcn_dma_alloc(p, BUF_SIZE, 16);
	open_chip(&w);
	printf("pcnet-wire: %02x:%02x:%02x:%02x:%02x:%02x, %llu frames, window %llu, %u-byte receive buffers, foreign %llu\n",
	       p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4],
	       p->mac[5], (unsigned long long)n, (unsigned long long)win,
	       w.rxbuf, (unsigned long long)w.foreign);

	t0 = rdtsc();
	stall = deadline_us(STALL_US);
	lost_dl = deadline_us(LOST_US);
	while (w.expect < n || w.completed < n) {
		bool queued = false;

		while (w.expect < w.sent && is_foreign(&w, w.expect))
			w.expect++;
		while (w.sent < n && w.sent - w.expect < win &&
		       w.sent - w.completed < TX_SIZE) {
			queue_tx(&w);
			queued = true;
		}
		if (queued)
			pcn_csr_wr(p, 0, C0_TDMD);
		if (reap_rx(&w) | reap_tx(&w)) {
			stall = deadline_us(STALL_US);
			lost_dl = deadline_us(LOST_US);
			continue;
		}
		if (w.lossy && w.expect < w.sent && deadline_passed(lost_dl)) {
			/* Gone: what is in flight will not come back. */
			w.lost += w.sent - w.expect;
			w.expect = w.sent;
			stall = deadline_us(STALL_US);
			lost_dl = deadline_us(LOST_US);
			continue;
		}
		if (deadline_passed(stall))
			fail(EXIT_TIMEOUT, "stalled: %llu sent, %llu completed, %llu back (CSR0 0x%x, CSR112 %u)",
			     (unsigned long long)w.sent,
			     (unsigned long long)w.completed,
			     (unsigned long long)w.received, pcn_csr_rd(p, 0),
			     pcn_csr_rd(p, 112));
		/* Every so often a register access: the chip polls its ring. */
		if (!queued)
			(void)pcn_csr_rd(p, 0);
	}
	us = tsc_to_us(rdtsc() - t0);
	pcn_check(p, "CSR112 (missed frames)", pcn_csr_rd(p, 112), 0);
	/* STOP with every receive buffer still posted to the back-end. */
	pcn_csr_wr(p, 0, C0_STOP);
	pcn_check(p, "CSR0 after STOP", pcn_csr_rd(p, 0), C0_STOP);
	printf("pcnet-wire: %llu frames sent (%llu bytes), %llu completed, %llu back byte-exact (%llu bytes), %llu filtered, %llu lost, %u register values checked\n",
	       (unsigned long long)w.sent, (unsigned long long)w.bytes_sent,
	       (unsigned long long)w.completed,
	       (unsigned long long)w.received,
	       (unsigned long long)w.bytes_back,
	       (unsigned long long)(n - w.received - w.lost),
	       (unsigned long long)w.lost, p->checks);
	if (us)
		printf("bench: pcnet-wire-frames %llu per second\n",
		       (unsigned long long)(n * 1000000 / us));
}
