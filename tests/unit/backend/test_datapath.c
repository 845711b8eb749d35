// SPDX-License-Identifier: MIT
/*
 * Frames between the virtqueues and the host path stub: transmit chains
 * reach the host path from guest RAM in place, received frames fill
 * (mergeable) buffers with a correct virtio-net header, batching and
 * notifications; --tx-copy on: the host path gets a copy outside guest
 * RAM, and both modes refuse a frame beyond their limits alike.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ALL_FEATURES	(~0ull)
#define HDR		sizeof(struct virtio_net_hdr_mrg_rxbuf)

static struct fe fe_storage;
static bool copy_mode;		/* the current test's --tx-copy */
static uint8_t want_big[VB_TX_FRAME_MAX + 1];

static int setup_cfg(void **state, bool mrg, bool tx_copy)
{
	struct vb_config cfg;

	vb_config_default(&cfg);
	cfg.mrg_rxbuf = mrg;
	cfg.tx_copy = tx_copy;
	copy_mode = tx_copy;
	fe_init(&fe_storage, &cfg);
	fe_bring_up(&fe_storage, ALL_FEATURES);
	*state = &fe_storage;
	return 0;
}

static int setup(void **state)
{
	return setup_cfg(state, true, false);
}

static int setup_no_mrg(void **state)
{
	return setup_cfg(state, false, false);
}

static int setup_tx_copy(void **state)
{
	return setup_cfg(state, true, true);
}

static int teardown(void **state)
{
	fe_fini(*state);
	return 0;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/*
 * Queues one transmit chain: a zeroed virtio-net header and then the
 * frame, @len bytes (fill() with @seed, also written to @want), the whole
 * cut into descriptors of @sizes[0..nseg) bytes (they add up to HDR +
 * @len), alternating between the two regions.  @seg gets each
 * descriptor's buffer; the first is the chain's token.
 */
static void tx_queue_split(struct fe *fe, const uint32_t *sizes,
			   unsigned nseg, size_t len, uint8_t seed,
			   uint8_t *want, uint8_t **seg)
{
	struct virtq_buf bufs[8];
	size_t off = 0, total = 0;
	unsigned i;

	assert_true(nseg >= 1 && nseg <= 8);
	for (i = 0; i < nseg; i++)
		total += sizes[i];
	assert_int_equal(total, HDR + len);
	fill(want, len, seed);
	for (i = 0; i < nseg; i++) {
		uint8_t *p = fe_alloc(fe, i % 2 ? 0 : 1, sizes[i], 8);
		uint32_t k;

		for (k = 0; k < sizes[i]; k++, off++)
			p[k] = off < HDR ? 0 : want[off - HDR];
		bufs[i].addr = fe_gpa(fe, p);
		bufs[i].len = sizes[i];
		seg[i] = p;
	}
	fe_add(fe, VB_TXQ, bufs, nseg, 0, seg[0]);
}

/* The same, cut into @nseg descriptors of about equal size. */
static void tx_queue(struct fe *fe, size_t len, unsigned nseg, uint8_t seed,
		     uint8_t *want)
{
	uint32_t sizes[8];
	uint8_t *seg[8];
	size_t left = HDR + len;
	unsigned i;

	assert_true(nseg >= 1 && nseg <= 8);
	for (i = 0; i < nseg; i++) {
		sizes[i] = (uint32_t)(left / (nseg - i));
		left -= sizes[i];
	}
	tx_queue_split(fe, sizes, nseg, len, seed, want, seg);
}

/* Transmit chains the back-end returned. */
static unsigned tx_used(struct fe *fe)
{
	unsigned used = 0;
	uint32_t len;

	while (virtq_drv_get_used(&fe->q[VB_TXQ], &len))
		used++;
	return used;
}

/* Whether frame @t as the host path saw it lies wholly outside guest RAM
 * (in the back-end's own buffer) or, with @in_ram, wholly in guest RAM. */
static void assert_frame_where(const struct fe *fe, const struct stub_frame *t,
			       bool in_ram)
{
	unsigned k;

	assert_true(t->iovcnt >= 1);
	for (k = 0; k < t->iovcnt; k++)
		assert_int_equal(fe_in_ram(fe, t->iov_base[k], t->iov_len[k]),
				 in_ram);
}

/* Kicks TX and runs the back-end: one frame reaches the host, @want. */
static void kick_and_sent_one(struct fe *fe, const uint8_t *want,
			      uint32_t len)
{
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 1);
	assert_int_equal(fe->host.tx[0].len, len);
	assert_memory_equal(fe->host.tx[0].data, want, len);
}

static void tx_zero_copy_hands_the_host_guest_ram(void **state)
{
	struct fe *fe = *state;
	/* The header split over two descriptors, the second also holding
	 * the frame's first 40 bytes. */
	const uint32_t sizes[3] = { 5, 7 + 40, 60 };
	uint8_t want[100], *seg[3];
	uint64_t gpa = 0;

	tx_queue_split(fe, sizes, 3, 100, 21, want, seg);
	kick_and_sent_one(fe, want, 100);
	/* The host path reads the guest's own buffers. */
	assert_int_equal(fe->host.tx[0].iovcnt, 2);
	assert_frame_where(fe, &fe->host.tx[0], true);
	/* ... exactly where the driver put the bytes (the back-end's own
	 * mapping of them). */
	assert_true(fe_ram_gpa(fe, fe->host.tx[0].iov_base[0], 40, &gpa));
	assert_int_equal(gpa, fe_gpa(fe, seg[1]) + 7);
	assert_true(fe_ram_gpa(fe, fe->host.tx[0].iov_base[1], 60, &gpa));
	assert_int_equal(gpa, fe_gpa(fe, seg[2]));
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, 0);
	assert_int_equal(tx_used(fe), 1);
}

static void tx_copy_hands_the_host_a_copy(void **state)
{
	struct fe *fe = *state;
	uint8_t want[64];

	tx_queue(fe, 64, 1, 23, want);
	kick_and_sent_one(fe, want, 64);
	/* One iovec, outside guest RAM: a copy. */
	assert_int_equal(fe->host.tx[0].iovcnt, 1);
	assert_frame_where(fe, &fe->host.tx[0], false);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, 64);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->frames, 1);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->bytes, 64);
	assert_int_equal(tx_used(fe), 1);
}

static void tx_copy_of_a_chain_split_across_descriptors(void **state)
{
	struct fe *fe = *state;
	const uint32_t sizes[4] = { 5, 7 + 40, 60, 33 };
	uint8_t want[133], *seg[4];
	char *line = NULL;
	size_t linelen = 0;
	FILE *f;

	tx_queue_split(fe, sizes, 4, 133, 25, want, seg);
	kick_and_sent_one(fe, want, 133);
	assert_int_equal(fe->host.tx[0].iovcnt, 1);
	assert_frame_where(fe, &fe->host.tx[0], false);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, 133);
	assert_int_equal(tx_used(fe), 1);
	/* The counter is in the printed line too. */
	f = open_memstream(&line, &linelen);
	assert_non_null(f);
	vb_print_stats(fe->vb, f);
	fclose(f);
	assert_non_null(strstr(line, "txq frames 1 bytes 133 kicks 1 calls "));
	assert_non_null(strstr(line, " copy_bytes 133 drops bad_chain 0 "));
	free(line);
}

static void tx_copy_batch_beyond_the_buffer_goes_in_parts(void **state)
{
	struct fe *fe = *state;
	static uint8_t want[8][9000];
	unsigned i;

	/* 8 x 9000 bytes do not fit in VB_TX_FRAME_MAX: 7 go, then 1. */
	for (i = 0; i < 8; i++)
		tx_queue(fe, 9000, 2, (uint8_t)(30 + i), want[i]);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 8);
	assert_int_equal(fe->host.tx_calls, 2);
	for (i = 0; i < 8; i++) {
		assert_int_equal(fe->host.tx[i].len, 9000);
		assert_memory_equal(fe->host.tx[i].data, want[i], 9000);
		assert_int_equal(fe->host.tx[i].iovcnt, 1);
		assert_frame_where(fe, &fe->host.tx[i], false);
	}
	/* One buffer: frames back to back, the second part at its start. */
	assert_ptr_equal(fe->host.tx[1].iov_base[0],
			 (const uint8_t *)fe->host.tx[0].iov_base[0] + 9000);
	assert_ptr_equal(fe->host.tx[7].iov_base[0], fe->host.tx[0].iov_base[0]);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, 8 * 9000);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->frames, 8);
	assert_int_equal(tx_used(fe), 8);
}

static void tx_copy_takes_the_longest_frame(void **state)
{
	struct fe *fe = *state;

	/* Exactly VB_TX_FRAME_MAX is copied and handed on (the stub,
	 * holding at most STUB_FRAME_MAX, refuses it: it saw it). */
	tx_queue(fe, VB_TX_FRAME_MAX, 4, 41, want_big);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.tx_refused, 1);
	assert_int_equal(fe->host.tx_refused_len, VB_TX_FRAME_MAX);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, VB_TX_FRAME_MAX);
	assert_int_equal(tx_used(fe), 1);
}

/* Both modes: a frame of VB_TX_FRAME_MAX + 1 bytes is dropped and counted
 * as drop_host, the frames after it go on. */
static void tx_oversize_chain_is_refused(void **state)
{
	struct fe *fe = *state;
	uint8_t want[60];

	tx_queue(fe, VB_TX_FRAME_MAX + 1, 3, 43, want_big);
	tx_queue(fe, 60, 1, 45, want);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->drop_host, 1);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->frames, 1);
	assert_int_equal(fe->host.ntx, 1);
	assert_int_equal(fe->host.tx[0].len, 60);
	assert_memory_equal(fe->host.tx[0].data, want, 60);
	assert_int_equal(tx_used(fe), 2);
	if (copy_mode) {
		/* Refused before the copy: the host path never saw it. */
		assert_int_equal(fe->host.tx_refused, 0);
		assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, 60);
	} else {
		/* Zero copy hands it on in place; the path refuses it. */
		assert_int_equal(fe->host.tx_refused, 1);
		assert_int_equal(fe->host.tx_refused_len, VB_TX_FRAME_MAX + 1);
		assert_int_equal(vb_stats(fe->vb, VB_TXQ)->copy_bytes, 0);
	}
}

static void tx_chain_reaches_the_host_path_in_place(void **state)
{
	struct fe *fe = *state;
	uint8_t *hdr = fe_alloc(fe, 1, HDR, 8);
	uint8_t *a = fe_alloc(fe, 1, 40, 8), *b = fe_alloc(fe, 0, 60, 8);
	struct virtq_buf bufs[3] = {
		{ fe_gpa(fe, hdr), HDR },
		{ fe_gpa(fe, a), 40 },
		{ fe_gpa(fe, b), 60 },
	};
	uint8_t want[100];
	uint32_t len = 99;

	fill(a, 40, 1);
	fill(b, 60, 2);
	memcpy(want, a, 40);
	memcpy(want + 40, b, 60);
	fe_add(fe, VB_TXQ, bufs, 3, 0, hdr);
	kick_and_sent_one(fe, want, 100);
	/* The header is not part of the frame; two buffers, two iovecs. */
	assert_int_equal(fe->host.tx_max_iovcnt, 2);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_TXQ], &len), hdr);
	assert_int_equal(len, 0);
	assert_true(fe_calls(fe, VB_TXQ) >= 1);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->frames, 1);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->bytes, 100);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->kicks, 1);
}

static void tx_header_and_frame_in_one_buffer(void **state)
{
	struct fe *fe = *state;
	uint8_t *p = fe_alloc(fe, 1, HDR + 64, 8);
	struct virtq_buf b = { fe_gpa(fe, p), HDR + 64 };

	fill(p + HDR, 64, 9);
	fe_add(fe, VB_TXQ, &b, 1, 0, p);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 1);
	assert_int_equal(fe->host.tx[0].len, 64);
	assert_memory_equal(fe->host.tx[0].data, p + HDR, 64);
}

static void tx_batch_takes_many_chains_per_kick(void **state)
{
	struct fe *fe = *state;
	unsigned i, used = 0;
	uint32_t len;

	for (i = 0; i < 40; i++) {
		uint8_t *p = fe_alloc(fe, 1, HDR + 60, 8);
		struct virtq_buf b = { fe_gpa(fe, p), HDR + 60 };

		p[HDR] = (uint8_t)i;
		fe_add(fe, VB_TXQ, &b, 1, 0, p);
	}
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 3);
	assert_int_equal(fe->host.ntx, 40);
	for (i = 0; i < 40; i++)
		assert_int_equal(fe->host.tx[i].data[0], i);
	while (virtq_drv_get_used(&fe->q[VB_TXQ], &len))
		used++;
	assert_int_equal(used, 40);
	/* One call per batch, not per frame. */
	assert_true(vb_stats(fe->vb, VB_TXQ)->calls <= 2);
}

static void tx_runt_and_writable_chains_are_dropped(void **state)
{
	struct fe *fe = *state;
	uint8_t *p = fe_alloc(fe, 1, 256, 8);
	struct virtq_buf runt = { fe_gpa(fe, p), HDR + 10 };
	struct virtq_buf wr[2] = { { fe_gpa(fe, p), HDR + 60 },
				   { fe_gpa(fe, p + 128), 64 } };
	struct virtq_buf tiny = { fe_gpa(fe, p), 4 };
	uint32_t len;
	unsigned used = 0;

	fe_add(fe, VB_TXQ, &runt, 1, 0, p);
	fe_add(fe, VB_TXQ, wr, 1, 1, p + 1);
	fe_add(fe, VB_TXQ, &tiny, 1, 0, p + 2);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 0);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->drop_runt, 1);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->drop_bad_chain, 2);
	/* Every chain still comes back. */
	while (virtq_drv_get_used(&fe->q[VB_TXQ], &len))
		used++;
	assert_int_equal(used, 3);
}

static void tx_host_path_failure_is_counted(void **state)
{
	struct fe *fe = *state;
	uint8_t *p = fe_alloc(fe, 1, HDR + 60, 8);
	struct virtq_buf b = { fe_gpa(fe, p), HDR + 60 };
	uint32_t len;

	fe->host.tx_fail = -EBADFD;
	fe_add(fe, VB_TXQ, &b, 1, 0, p);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->drop_host, 1);
	assert_non_null(virtq_drv_get_used(&fe->q[VB_TXQ], &len));
}

/* Posts @n receive buffers of @size bytes; returns the first. */
static uint8_t *post_rx(struct fe *fe, unsigned n, uint32_t size,
			uint8_t **bufs)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t *p = fe_alloc(fe, 1, size, 8);
		struct virtq_buf b = { fe_gpa(fe, p), size };

		memset(p, 0xee, size);
		bufs[i] = p;
		fe_add(fe, VB_RXQ, &b, 0, 1, p);
	}
	fe_kick(fe, VB_RXQ);
	return bufs[0];
}

static void rx_frame_fills_one_buffer(void **state)
{
	struct fe *fe = *state;
	struct virtio_net_hdr_mrg_rxbuf h;
	uint8_t frame[60], *bufs[4];
	uint32_t len;

	fill(frame, sizeof(frame), 3);
	post_rx(fe, 4, 2048, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	fe_run(fe, 3);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), bufs[0]);
	assert_int_equal(len, HDR + 60);
	memcpy(&h, bufs[0], HDR);
	assert_int_equal(h.num_buffers, 1);
	assert_int_equal(h.hdr.flags, 0);
	assert_int_equal(h.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_memory_equal(bufs[0] + HDR, frame, 60);
	assert_null(virtq_drv_get_used(&fe->q[VB_RXQ], &len));
	assert_true(fe_calls(fe, VB_RXQ) >= 1);
	assert_int_equal(vb_stats(fe->vb, VB_RXQ)->frames, 1);
	assert_int_equal(vb_stats(fe->vb, VB_RXQ)->bytes, 60);
}

static void rx_frame_merges_small_buffers(void **state)
{
	struct fe *fe = *state;
	struct virtio_net_hdr_mrg_rxbuf h;
	uint8_t frame[1400], got[1400], *bufs[8];
	uint32_t len[3];
	size_t off = 0;
	unsigned i;

	fill(frame, sizeof(frame), 5);
	post_rx(fe, 8, 512, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	fe_run(fe, 3);
	/* 12 + 1400 = 1412 bytes: 512 + 512 + 388. */
	for (i = 0; i < 3; i++)
		assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len[i]),
				 bufs[i]);
	assert_null(virtq_drv_get_used(&fe->q[VB_RXQ], &len[0]));
	assert_int_equal(len[0], 512);
	assert_int_equal(len[1], 512);
	assert_int_equal(len[2], 388);
	memcpy(&h, bufs[0], HDR);
	assert_int_equal(h.num_buffers, 3);
	memcpy(got, bufs[0] + HDR, 512 - HDR);
	off = 512 - HDR;
	memcpy(got + off, bufs[1], 512);
	off += 512;
	memcpy(got + off, bufs[2], 388);
	assert_memory_equal(got, frame, sizeof(frame));
	/* The buffers the frame did not need are still the driver's to
	 * hand out: the next frame lands in bufs[3]. */
	stub_rx_push(&fe->host, frame, 60);
	fe_run(fe, 3);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len[0]), bufs[3]);
	assert_int_equal(len[0], HDR + 60);
	memcpy(&h, bufs[3], HDR);
	assert_int_equal(h.num_buffers, 1);
}

static void rx_waits_for_enough_buffers_then_delivers(void **state)
{
	struct fe *fe = *state;
	uint8_t frame[1000], *bufs[4];
	uint32_t len;

	fill(frame, sizeof(frame), 7);
	/* 2 x 512 bytes cannot hold the longest frame (1518 + 12): wait. */
	post_rx(fe, 2, 512, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	fe_run(fe, 3);
	assert_null(virtq_drv_get_used(&fe->q[VB_RXQ], &len));
	post_rx(fe, 2, 512, bufs + 2);
	fe_run(fe, 3);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), bufs[0]);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), bufs[1]);
	assert_int_equal(len, HDR + 1000 - 512);
	assert_null(virtq_drv_get_used(&fe->q[VB_RXQ], &len));
	assert_memory_equal(bufs[1], frame + 500, 500);
}

static void rx_batch_delivers_many_frames(void **state)
{
	struct fe *fe = *state;
	uint8_t frame[64], *bufs[48];
	unsigned i, used = 0;
	uint32_t len;

	post_rx(fe, 48, 2048, bufs);
	for (i = 0; i < 40; i++) {
		memset(frame, (int)i, sizeof(frame));
		stub_rx_push(&fe->host, frame, sizeof(frame));
	}
	fe_run(fe, 4);
	while (virtq_drv_get_used(&fe->q[VB_RXQ], &len)) {
		assert_int_equal(bufs[used][HDR], used);
		used++;
	}
	assert_int_equal(used, 40);
	assert_int_equal(vb_stats(fe->vb, VB_RXQ)->frames, 40);
	assert_true(vb_stats(fe->vb, VB_RXQ)->calls <= 3);
}

static void rx_frame_too_long_for_the_buffers_is_dropped(void **state)
{
	struct fe *fe = *state;
	uint8_t frame[1400], *bufs[2];
	uint32_t len;

	/* Without mergeable buffers one chain must hold it all. */
	post_rx(fe, 2, 1024, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	stub_rx_push(&fe->host, frame, 100);
	fe_run(fe, 3);
	assert_int_equal(vb_stats(fe->vb, VB_RXQ)->drop_truncated, 1);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), bufs[0]);
	assert_int_equal(len, HDR + 100);
}

static void rx_bad_chain_is_returned_empty(void **state)
{
	struct fe *fe = *state;
	uint8_t *p = fe_alloc(fe, 1, 2048, 8), *bufs[1];
	struct virtq_buf ro = { fe_gpa(fe, p), 2048 };
	uint8_t frame[60] = { 1 };
	uint32_t len = 1;

	fe_add(fe, VB_RXQ, &ro, 1, 0, p);	/* device-readable: wrong */
	post_rx(fe, 1, 2048, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	fe_run(fe, 3);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), p);
	assert_int_equal(len, 0);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), bufs[0]);
	assert_int_equal(len, HDR + 60);
	assert_int_equal(vb_stats(fe->vb, VB_RXQ)->drop_bad_chain, 1);
}

static void descriptor_outside_memory_breaks_only_that_ring(void **state)
{
	struct fe *fe = *state;
	struct virtq_buf b = { 5ull * FE_REGION_SIZE, 64 };
	uint8_t *p = fe_alloc(fe, 1, HDR + 60, 8);
	struct virtq_buf ok = { fe_gpa(fe, p), HDR + 60 };
	uint8_t frame[60] = { 0 }, *bufs[1];
	uint32_t len;

	fe_add(fe, VB_TXQ, &b, 1, 0, p);
	fe_kick(fe, VB_TXQ);
	fe_run(fe, 2);
	assert_int_equal(fe->host.ntx, 0);
	assert_int_equal(vb_stats(fe->vb, VB_TXQ)->broken, 1);
	assert_int_equal(fe_errs(fe, VB_TXQ), 1);
	assert_false(vb_queue_running(fe->vb, VB_TXQ));
	/* Nothing more from the broken ring; the other one still works. */
	fe_add(fe, VB_TXQ, &ok, 1, 0, p);
	fe_kick(fe, VB_TXQ);
	post_rx(fe, 1, 2048, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	fe_run(fe, 3);
	assert_int_equal(fe->host.ntx, 0);
	assert_ptr_equal(virtq_drv_get_used(&fe->q[VB_RXQ], &len), bufs[0]);
}

static void pcap_records_both_directions(void **state)
{
	struct fe *fe = *state;
	char path[] = "/tmp/unit-backend-pcap.XXXXXX";
	char err[128];
	struct pcap_writer *pw;
	struct vb_config cfg;
	uint8_t *p, frame[60], txf[60], *bufs[1], file[512];
	struct virtq_buf b;
	FILE *f;
	size_t n;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	/* A fresh back-end on the same harness, with --pcap. */
	fe_fini(fe);
	pw = pcap_open(path, err, sizeof(err));
	assert_non_null(pw);
	vb_config_default(&cfg);
	cfg.pcap = pw;
	fe_init(fe, &cfg);
	fe_bring_up(fe, ALL_FEATURES);
	p = fe_alloc(fe, 1, HDR + 60, 8);
	b.addr = fe_gpa(fe, p);
	b.len = HDR + 60;
	fill(p + HDR, 60, 11);
	memcpy(txf, p + HDR, 60);
	fe_add(fe, VB_TXQ, &b, 1, 0, p);
	fe_kick(fe, VB_TXQ);
	fill(frame, sizeof(frame), 13);
	post_rx(fe, 1, 2048, bufs);
	stub_rx_push(&fe->host, frame, sizeof(frame));
	fe_run(fe, 3);
	assert_int_equal(pcap_frames(pw), 2);
	fe_fini(fe);
	pcap_close(pw);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(file, 1, sizeof(file), f);
	fclose(f);
	unlink(path);
	/* 24-byte file header, then 16 + 60 twice. */
	assert_int_equal(n, 24 + 2 * (16 + 60));
	assert_int_equal(*(uint32_t *)file, 0xa1b2c3d4u);
	assert_int_equal(*(uint32_t *)(file + 20), 1);	/* Ethernet */
	assert_int_equal(*(uint32_t *)(file + 24 + 8), 60);
	assert_memory_equal(file + 24 + 16, txf, 60);
	assert_memory_equal(file + 24 + 76 + 16, frame, 60);
	/* teardown finalizes once more: give it something to finalize. */
	vb_config_default(&cfg);
	fe_init(fe, &cfg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T_NO_MRG(f) cmocka_unit_test_setup_teardown(f, setup_no_mrg, teardown)
#define T_COPY(f) cmocka_unit_test_setup_teardown(f, setup_tx_copy, teardown)
#define T_COPY_NAMED(name, f) \
	{ name, f, setup_tx_copy, teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(tx_chain_reaches_the_host_path_in_place),
		T(tx_header_and_frame_in_one_buffer),
		T(tx_batch_takes_many_chains_per_kick),
		T(tx_runt_and_writable_chains_are_dropped),
		T(tx_host_path_failure_is_counted),
		T(tx_zero_copy_hands_the_host_guest_ram),
		T_COPY(tx_copy_hands_the_host_a_copy),
		T_COPY(tx_copy_of_a_chain_split_across_descriptors),
		T_COPY(tx_copy_batch_beyond_the_buffer_goes_in_parts),
		T_COPY(tx_copy_takes_the_longest_frame),
		T(tx_oversize_chain_is_refused),
		T_COPY_NAMED("tx_oversize_chain_is_refused_with_tx_copy",
			     tx_oversize_chain_is_refused),
		T_COPY(tx_batch_takes_many_chains_per_kick),
		T_COPY(tx_runt_and_writable_chains_are_dropped),
		T_COPY(tx_host_path_failure_is_counted),
		T(rx_frame_fills_one_buffer),
		T(rx_frame_merges_small_buffers),
		T(rx_waits_for_enough_buffers_then_delivers),
		T(rx_batch_delivers_many_frames),
		T_NO_MRG(rx_frame_too_long_for_the_buffers_is_dropped),
		T(rx_bad_chain_is_returned_empty),
		T(descriptor_outside_memory_breaks_only_that_ring),
		T(pcap_records_both_directions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
