// SPDX-License-Identifier: MIT
/*
 * Zero copy: a port that keeps the transmit buffers (PCNET_TX_PENDING,
 * pcnet_tx_complete()) and one that writes receive buffers itself
 * (pcnet_rx_buffers(), pcnet_rx_complete()), including guests that
 * change their mind while buffers are out: OWN flipped back, descriptors
 * rewritten, STOP, INIT, resets, buffers and rings outside RAM.
 */
#include <errno.h>

#include "harness.h"

static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* ---- transmit ---- */

struct seqs {
	uint32_t seq[64];
	unsigned int n;
};

static void record_seq(struct bench *b, const struct pcnet_seg *seg,
		       unsigned int nseg, uint32_t len)
{
	struct seqs *s = b->hook_data;

	(void)seg;
	(void)nseg;
	(void)len;
	s->seq[s->n++] = pcnet_tx_seq(b->dev);
}

static void pending_start(struct bench *b, struct seqs *s)
{
	chip_start(b, 2, 0);
	memset(s, 0, sizeof(*s));
	b->hook_data = s;
	b->tx_hook = record_seq;
	b->tx_result = PCNET_TX_PENDING;
}

static void queue(struct bench *b, uint32_t idx, size_t len, uint8_t seed)
{
	uint8_t f[1514];

	make_frame(f, peer, len, seed);
	send_frame(b, idx, f, len);
}

static void pcnet_tx_pending_keeps_descriptor_owned_until_complete(void **st)
{
	struct bench *b = *st;
	struct pcnet_stats ps;
	struct seqs s;

	pending_start(b, &s);
	queue(b, 0, 100, 1);
	assert_int_equal(b->ntx, 1);
	assert_int_equal(b->tx[0].gpa[0], TXBUF_GPA);
	assert_true(tmd_status(b, 0) & OWN);
	assert_false(csr_r(b, 0) & CSR0_TINT);
	assert_int_equal(pcnet_tx_pending(b->dev), 1);
	pcnet_get_stats(b->dev, &ps);
	assert_int_equal(ps.tx_frames, 0);

	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), 0);
	assert_int_equal(tmd_status(b, 0), STP | ENP);
	assert_true(csr_r(b, 0) & CSR0_TINT);
	assert_int_equal(b->irq, 1);
	assert_int_equal(pcnet_tx_pending(b->dev), 0);
	pcnet_get_stats(b->dev, &ps);
	assert_int_equal(ps.tx_frames, 1);
	assert_int_equal(ps.tx_bytes, 100);
	/* Twice is once too many. */
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), -ENOENT);
}

static void pcnet_tx_complete_out_of_order_releases_in_ring_order(void **st)
{
	struct bench *b = *st;
	struct seqs s;

	pending_start(b, &s);
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t f[64];

		make_frame(f, peer, sizeof(f), (uint8_t)i);
		memcpy(b->ram + TXBUF_GPA + i * TXBUF_STRIDE, f, sizeof(f));
		tmd_put(b, i, TXBUF_GPA + i * TXBUF_STRIDE, sizeof(f),
			OWN | STP | ENP);
	}
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(s.n, 3);
	assert_int_not_equal(s.seq[0], s.seq[1]);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[2],
					   PCNET_TX_ACCEPTED), 0);
	for (unsigned int i = 0; i < 3; i++)
		assert_true(tmd_status(b, i) & OWN);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_DROPPED), 0);
	assert_false(tmd_status(b, 0) & OWN);
	assert_true(tmd_status(b, 1) & OWN);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[1],
					   PCNET_TX_ACCEPTED), 0);
	assert_false(tmd_status(b, 1) & OWN);
	assert_false(tmd_status(b, 2) & OWN);
	assert_int_equal(pcnet_tx_pending(b->dev), 0);
	assert_int_equal(csr_r(b, 74), (uint16_t)-5);
}

/* A ring full of frames the port holds: nothing is fetched twice. */
static void pcnet_tx_ring_full_of_pending_frames_is_not_resent(void **st)
{
	struct bench *b = *st;
	struct seqs s;

	pending_start(b, &s);
	for (unsigned int i = 0; i < b->tx_len; i++)
		queue(b, i, 60, (uint8_t)i);
	assert_int_equal(b->ntx, b->tx_len);
	assert_int_equal(pcnet_tx_pending(b->dev), b->tx_len);
	/* Demands and the poll timer find every descriptor with the port. */
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	b->now += 10000000;
	pcnet_timer(b->dev, b->now);
	assert_int_equal(b->ntx, b->tx_len);

	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), 0);
	assert_false(tmd_status(b, 0) & OWN);
	assert_int_equal(b->ntx, b->tx_len);
	/* The freed descriptor carries the next frame. */
	queue(b, 0, 70, 0x40);
	assert_int_equal(b->ntx, b->tx_len + 1);
	assert_int_equal(b->tx[b->tx_len].len, 70);
}

static void pcnet_tx_stop_forgets_pending_frames(void **st)
{
	struct bench *b = *st;
	struct seqs s;

	pending_start(b, &s);
	queue(b, 0, 100, 1);
	csr_w(b, 0, CSR0_STOP);
	assert_int_equal(pcnet_tx_pending(b->dev), 0);
	/* The chip stopped: the descriptor is not written any more. */
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), -ENOENT);
	assert_true(tmd_status(b, 0) & OWN);
	/* STRT without INIT sends it again, from where it was. */
	b->tx_result = PCNET_TX_ACCEPTED;
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 2);
	assert_memory_equal(b->tx[1].data, b->tx[0].data, 100);
	assert_int_equal(tmd_status(b, 0), STP | ENP);
}

static void pcnet_tx_init_and_reset_forget_pending_frames(void **st)
{
	struct bench *b = *st;
	struct seqs s;

	pending_start(b, &s);
	queue(b, 0, 100, 1);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 0, CSR0_INIT);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), -ENOENT);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	queue(b, 0, 80, 2);
	assert_int_equal(pcnet_tx_pending(b->dev), 1);
	pcnet_hard_reset(b->dev);
	assert_int_equal(pcnet_tx_pending(b->dev), 0);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[1],
					   PCNET_TX_ACCEPTED), -ENOENT);
}

/* A bad chain behind a pending frame gets its error in ring order. */
static void pcnet_tx_error_behind_pending_frame_waits_its_turn(void **st)
{
	struct bench *b = *st;
	struct seqs s;

	pending_start(b, &s);
	csr_w(b, 3, 0x0040);		/* DXSUFLO: the transmitter stays on */
	queue(b, 0, 100, 1);
	/* STP without ENP, next descriptor not owned: underflow. */
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, 100, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 1);
	assert_true(tmd_status(b, 1) & OWN);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), 0);
	assert_int_equal(tmd_status(b, 0), STP | ENP);
	assert_int_equal(tmd_status(b, 1), ERR | STP);
	assert_int_equal(tmd2(b, 1), TMD2_BUFF | TMD2_UFLO);
	assert_int_equal(pcnet_tx_pending(b->dev), 0);
}

/* The guest takes a pending descriptor back and rewrites it. */
static void pcnet_tx_guest_flips_own_on_pending_frame(void **st)
{
	struct bench *b = *st;
	struct seqs s;

	pending_start(b, &s);
	queue(b, 0, 100, 1);
	tmd_put(b, 0, TXBUF_GPA + 5 * TXBUF_STRIDE, 0, 0);
	assert_int_equal(pcnet_tx_complete(b->dev, s.seq[0],
					   PCNET_TX_ACCEPTED), 0);
	/* The chip writes what it would have written; the ring moves on. */
	assert_false(tmd_status(b, 0) & OWN);
	queue(b, 1, 90, 2);
	assert_int_equal(b->ntx, 2);
	assert_int_equal(b->tx[1].len, 90);
}

/* A dead process's pending frames are handed back by its successor. */
static void pcnet_tx_resume_hands_back_pending_frames(void **st)
{
	struct bench *b = *st;
	struct pcnet_config cfg = { .mem = &b->mem };
	struct pcnet *dev2;
	struct seqs s;

	pending_start(b, &s);
	queue(b, 0, 100, 1);
	queue(b, 1, 100, 2);
	assert_true(tmd_status(b, 1) & OWN);
	pcnet_destroy(b->dev);
	memcpy(cfg.mac, b->mac, 6);
	assert_int_equal(pcnet_create(&dev2, &b->st, &cfg, bench_ops(), b,
				      PCNET_RESUME), 1);
	b->dev = dev2;
	assert_false(tmd_status(b, 0) & OWN);
	assert_false(tmd_status(b, 1) & OWN);
	assert_int_equal(csr_r(b, 74), (uint16_t)-6);
	b->tx_result = PCNET_TX_ACCEPTED;
	queue(b, 2, 64, 3);
	assert_int_equal(b->ntx, 3);
}

/* ---- receive ---- */

static void pcnet_rx_buffers_lists_owned_in_ring_order_without_taking(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[16];

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 16), b->rx_len);
	for (unsigned int i = 0; i < b->rx_len; i++) {
		assert_int_equal(l[i].idx, i);
		assert_int_equal(l[i].gpa, RXBUF_GPA + i * RXBUF_STRIDE);
		assert_int_equal(l[i].len, 1536);
		assert_true(rmd_status(b, i) & OWN);
	}
	assert_int_equal(csr_r(b, 72), (uint16_t)-8);
	assert_int_equal(pcnet_rx_buffers(b->dev, 3, l, 2), 2);
	assert_int_equal(l[0].idx, 3);
	assert_int_equal(l[1].idx, 4);
	/* Not owned ends the list. */
	rmd_put(b, 5, RXBUF_GPA + 5 * RXBUF_STRIDE, 1536, false);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 16), 5);
	/* Receiver off: nothing. */
	csr_w(b, 0, CSR0_STOP);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 16), 0);
}

static void pcnet_rx_buffers_stop_before_buffer_outside_ram(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[16];

	chip_start(b, 2, 0);
	rmd_put(b, 2, BAR_GPA, 1536, true);
	rmd_put(b, 3, RAM_SIZE - 100, 1536, true);	/* runs past RAM */
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 16), 2);
	/* Not a DMA yet: no master abort. */
	assert_false(csr_r(b, 0) & CSR0_MERR);
	assert_true(csr_r(b, 0) & CSR0_RXON);
	/* A forged list naming it is refused, nothing written. */
	l[0] = (struct pcnet_rx_buf){ .gpa = BAR_GPA, .len = 1536, .idx = 0 };
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, 100),
			 PCNET_RX_DROPPED);
	assert_true(rmd_status(b, 0) & OWN);
}

static void pcnet_rx_buffers_ring_outside_ram_is_master_abort(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[4];

	chip_start(b, 2, 0);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 24, BAR_GPA & 0xffff);
	csr_w(b, 25, BAR_GPA >> 16);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 4), 0);
	assert_true(csr_r(b, 0) & CSR0_MERR);
	assert_false(csr_r(b, 0) & CSR0_RXON);
}

static void put_frame(struct bench *b, uint32_t gpa, uint8_t *f, size_t len,
		      const uint8_t dst[6])
{
	make_frame(f, dst, len, 9);
	memcpy(b->ram + gpa, f, len);
}

static void pcnet_rx_complete_in_place_adds_fcs_and_releases(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[8];
	struct pcnet_stats ps;
	uint8_t f[300];
	uint32_t epoch;

	chip_start(b, 2, 0);
	epoch = pcnet_rx_epoch(b->dev);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 8), 8);
	put_frame(b, l[0].gpa, f, sizeof(f), bench_mac);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 0), sizeof(f) + 4);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
	assert_int_equal(get32(b, RXBUF_GPA + sizeof(f)),
			 ether_fcs(f, sizeof(f)));
	assert_true(csr_r(b, 0) & CSR0_RINT);
	assert_int_equal(csr_r(b, 72), (uint16_t)-7);
	pcnet_get_stats(b->dev, &ps);
	assert_int_equal(ps.rx_frames, 1);
	/* The rest of the list is still good, from the new current one. */
	put_frame(b, l[1].gpa, f, 60, bench_mac);
	assert_int_equal(pcnet_rx_complete(b->dev, &l[1], 1, 60),
			 PCNET_RX_DELIVERED);
	assert_int_equal(pcnet_rx_epoch(b->dev), epoch);
	/* And the copying entry point still works alongside. */
	make_frame(f, bench_mac, 100, 3);
	assert_int_equal(recv_frame(b, f, 100), PCNET_RX_DELIVERED);
	assert_memory_equal(b->ram + RXBUF_GPA + 2 * RXBUF_STRIDE, f, 100);
	assert_int_equal(csr_r(b, 72), (uint16_t)-5);
}

static void pcnet_rx_complete_pads_short_frame_in_place(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[1];
	uint8_t f[60] = { 0 };

	chip_start(b, 2, 0);
	memset(b->ram + RXBUF_GPA, 0xee, 100);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 1), 1);
	put_frame(b, l[0].gpa, f, 42, bench_mac);
	memset(f + 42, 0, 18);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, 42),
			 PCNET_RX_DELIVERED);
	assert_int_equal(rmd_mcnt(b, 0), 64);
	assert_memory_equal(b->ram + RXBUF_GPA, f, 60);
	assert_int_equal(get32(b, RXBUF_GPA + 60), ether_fcs(f, 60));
}

static void pcnet_rx_complete_frame_over_three_buffers(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[8];
	uint8_t f[300];

	chip_init(b, 2, 3, 3, 0, 128);
	csr_w(b, 0, CSR0_IDON);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 8), 8);
	make_frame(f, bench_mac, sizeof(f), 5);
	memcpy(b->ram + l[0].gpa, f, 128);
	memcpy(b->ram + l[1].gpa, f + 128, 128);
	memcpy(b->ram + l[2].gpa, f + 256, 44);
	/* Not laid out as the chip would: refused. */
	assert_int_equal(pcnet_rx_complete(b->dev, l, 3, 200),
			 PCNET_RX_DROPPED);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 3, sizeof(f)),
			 PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 0), STP);
	assert_int_equal(rmd_status(b, 1), 0);
	assert_int_equal(rmd_status(b, 2), ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 2), sizeof(f) + 4);
	assert_int_equal(get32(b, l[2].gpa + 44), ether_fcs(f, sizeof(f)));
}

/* No room for the FCS in the buffers given: BUFF/OFLO, as a chain out. */
static void pcnet_rx_complete_without_room_for_fcs_overflows(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[1];
	uint8_t f[128];

	chip_init(b, 2, 3, 3, 0, 128);
	csr_w(b, 0, CSR0_IDON);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 1), 1);
	put_frame(b, l[0].gpa, f, sizeof(f), bench_mac);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_OVERFLOW);
	assert_int_equal(rmd_status(b, 0), STP | ERR | RMD_BUFF | RMD_OFLO);
	/* Nothing beyond the buffer was written. */
	assert_true(rmd_status(b, 1) & OWN);
}

static void pcnet_rx_complete_filtered_leaves_descriptor_owned(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[2];
	struct pcnet_stats ps;
	uint8_t f[100];

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 2), 2);
	put_frame(b, l[0].gpa, f, sizeof(f), peer);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_FILTERED);
	assert_true(rmd_status(b, 0) & OWN);
	assert_int_equal(csr_r(b, 72), (uint16_t)-8);
	assert_false(csr_r(b, 0) & CSR0_RINT);
	pcnet_get_stats(b->dev, &ps);
	assert_int_equal(ps.rx_filtered, 1);
	/* A list that does not start at the current descriptor is refused. */
	assert_int_equal(pcnet_rx_complete(b->dev, &l[1], 1, sizeof(f)),
			 PCNET_RX_DROPPED);
}

/* The guest takes a listed buffer back (OWN cleared) before the frame. */
static void pcnet_rx_guest_flips_own_while_buffer_is_out(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[2];
	uint8_t f[100];

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 2), 2);
	put_frame(b, l[0].gpa, f, sizeof(f), bench_mac);
	rmd_put(b, 0, RXBUF_GPA, 1536, false);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_DROPPED);
	assert_int_equal(rmd_status(b, 0), 0);
	assert_int_equal(rmd_mcnt(b, 0), 0);
	assert_int_equal(csr_r(b, 72), (uint16_t)-8);
}

/* The guest points a listed descriptor elsewhere (or shrinks it). */
static void pcnet_rx_guest_rewrites_ring_while_buffer_is_out(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[2];
	uint8_t f[100];

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 2), 2);
	put_frame(b, l[0].gpa, f, sizeof(f), bench_mac);
	rmd_put(b, 0, RXBUF_GPA + 7 * RXBUF_STRIDE, 1536, true);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_DROPPED);
	assert_true(rmd_status(b, 0) & OWN);
	rmd_put(b, 0, RXBUF_GPA, 64, true);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_DROPPED);
	assert_true(rmd_status(b, 0) & OWN);
	/* Put back as it was, the frame is taken. */
	rmd_put(b, 0, RXBUF_GPA, 1536, true);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_DELIVERED);
}

static void pcnet_rx_stop_init_reset_while_buffers_are_out(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[2];
	uint8_t f[100];
	uint32_t e;

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 2), 2);
	put_frame(b, l[0].gpa, f, sizeof(f), bench_mac);
	e = pcnet_rx_epoch(b->dev);
	csr_w(b, 0, CSR0_STOP);
	assert_int_not_equal(pcnet_rx_epoch(b->dev), e);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, sizeof(f)),
			 PCNET_RX_DROPPED);
	assert_true(rmd_status(b, 0) & OWN);

	e = pcnet_rx_epoch(b->dev);
	csr_w(b, 0, CSR0_INIT);
	assert_int_not_equal(pcnet_rx_epoch(b->dev), e);
	e = pcnet_rx_epoch(b->dev);
	chip_reset(b);
	assert_int_not_equal(pcnet_rx_epoch(b->dev), e);
	e = pcnet_rx_epoch(b->dev);
	pcnet_hard_reset(b->dev);
	assert_int_not_equal(pcnet_rx_epoch(b->dev), e);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 2), 0);

	/* SPND: the driver may rewrite the ring, so it counts too. */
	chip_start(b, 2, 0);
	e = pcnet_rx_epoch(b->dev);
	csr_w(b, 5, 0x0001);
	assert_int_not_equal(pcnet_rx_epoch(b->dev), e);
}

static void pcnet_rx_complete_refuses_nonsense(void **st)
{
	struct bench *b = *st;
	struct pcnet_rx_buf l[8];

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 8), 8);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 0, 100),
			 PCNET_RX_DROPPED);
	assert_int_equal(pcnet_rx_complete(b->dev, NULL, 1, 100),
			 PCNET_RX_DROPPED);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, 0),
			 PCNET_RX_DROPPED);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, PCNET_MAX_FRAME + 1),
			 PCNET_RX_DROPPED);
	assert_int_equal(pcnet_rx_complete(b->dev, l, 1, 2000),
			 PCNET_RX_DROPPED);
	/* More buffers than the ring has. */
	assert_int_equal(pcnet_rx_complete(b->dev, l, 9, 100),
			 PCNET_RX_DROPPED);
	for (unsigned int i = 0; i < 8; i++)
		assert_true(rmd_status(b, i) & OWN);
	/* In loopback the receiver listens to the transmitter only. */
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 15, MODE_LOOP);
	csr_w(b, 0, CSR0_STRT);
	assert_int_equal(pcnet_rx_buffers(b->dev, 0, l, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_tx_pending_keeps_descriptor_owned_until_complete),
		T(pcnet_tx_complete_out_of_order_releases_in_ring_order),
		T(pcnet_tx_ring_full_of_pending_frames_is_not_resent),
		T(pcnet_tx_stop_forgets_pending_frames),
		T(pcnet_tx_init_and_reset_forget_pending_frames),
		T(pcnet_tx_error_behind_pending_frame_waits_its_turn),
		T(pcnet_tx_guest_flips_own_on_pending_frame),
		T(pcnet_tx_resume_hands_back_pending_frames),
		T(pcnet_rx_buffers_lists_owned_in_ring_order_without_taking),
		T(pcnet_rx_buffers_stop_before_buffer_outside_ram),
		T(pcnet_rx_buffers_ring_outside_ram_is_master_abort),
		T(pcnet_rx_complete_in_place_adds_fcs_and_releases),
		T(pcnet_rx_complete_pads_short_frame_in_place),
		T(pcnet_rx_complete_frame_over_three_buffers),
		T(pcnet_rx_complete_without_room_for_fcs_overflows),
		T(pcnet_rx_complete_filtered_leaves_descriptor_owned),
		T(pcnet_rx_guest_flips_own_while_buffer_is_out),
		T(pcnet_rx_guest_rewrites_ring_while_buffer_is_out),
		T(pcnet_rx_stop_init_reset_while_buffers_are_out),
		T(pcnet_rx_complete_refuses_nonsense),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_zerocopy", tests, NULL, NULL);
}
