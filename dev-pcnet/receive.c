// SPDX-License-Identifier: MIT
/*
 * Receive: an accepted frame goes into the buffers of the ring starting
 * at the current descriptor, chaining while the chip owns the next one.
 * What a driver finds is what the chip writes: the frame, padded to 60
 * bytes if it came shorter from the network, followed by its FCS, with
 * MCNT counting both (unless ASTRP_RCV strips an 802.3 frame's pad and
 * FCS).  No owned descriptor: MISS and MISSC.  Chain runs out: BUFF and
 * OFLO in the last descriptor used.  Descriptors are handed back last to
 * first, so the STP one changes last; a process killed meanwhile leaves a
 * journal its successor finishes from.
 */
#include <string.h>

#include "guest_mem.h"
#include "pcnet_hw.h"

#define ETH_HLEN	14
#define MIN_8023_DATA	46	/* an 802.3 length below this means pad */

struct rx_src {
	const struct iovec *iov;
	unsigned int iovcnt;
	size_t data;		/* frame bytes taken from iov */
	size_t pad;		/* zeros after them */
	uint8_t fcs[FCS_LEN];
	size_t fcs_len;
};

static const uint8_t zeros[MIN_FRAME];

static void iov_copy(const struct iovec *iov, unsigned int iovcnt,
		     size_t off, uint8_t *dst, size_t n)
{
	for (unsigned int i = 0; i < iovcnt && n; i++) {
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > n)
			take = n;
		memcpy(dst, (const uint8_t *)iov[i].iov_base + off, take);
		dst += take;
		n -= take;
		off = 0;
	}
}

static uint32_t iov_crc(const struct iovec *iov, unsigned int iovcnt,
			size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (unsigned int i = 0; i < iovcnt && len; i++) {
		size_t take = iov[i].iov_len < len ? iov[i].iov_len : len;

		crc = pcnet_crc32(crc, iov[i].iov_base, take);
		len -= take;
	}
	return crc;
}

static size_t src_len(const struct rx_src *s)
{
	return s->data + s->pad + s->fcs_len;
}

/* Bytes [off, off + n) of frame, pad and FCS, in that order. */
static void src_copy(const struct rx_src *s, size_t off, uint8_t *dst,
		     size_t n)
{
	size_t take;

	if (off < s->data) {
		take = s->data - off < n ? s->data - off : n;
		iov_copy(s->iov, s->iovcnt, off, dst, take);
		off += take;
		dst += take;
		n -= take;
	}
	if (n && off < s->data + s->pad) {
		take = s->data + s->pad - off < n ? s->data + s->pad - off : n;
		memset(dst, 0, take);
		off += take;
		dst += take;
		n -= take;
	}
	if (n)
		memcpy(dst, s->fcs + (off - s->data - s->pad), n);
}

static uint32_t ring_add(uint32_t idx, uint32_t n, uint32_t len)
{
	return (uint32_t)(((uint64_t)idx + n) % len);
}

static enum pcnet_rx_result rx_miss(struct pcnet_state *st)
{
	st->csr[0] |= CSR0_MISS;
	if (!++st->csr[CSR_MISSC])
		st->csr[CSR_TFC] |= CSR4_MFCO;
	st->stats.rx_missed++;
	return PCNET_RX_NO_BUFFER;
}

static uint16_t match_bits(enum pcnet_match m)
{
	switch (m) {
	case MATCH_PAM:
		return RMD1_PAM;
	case MATCH_BAM:
		return RMD1_BAM;
	case MATCH_LAFM:
		return RMD1_LAFM;
	default:
		return 0;
	}
}

/* Frame, pad and FCS as the chip puts them in memory; CRC error or not. */
static bool rx_source(const struct pcnet_state *st, struct rx_src *s,
		      const uint8_t *hdr, size_t len, unsigned int flags)
{
	bool fcs_in = flags & RX_FCS_PRESENT;
	uint32_t crc;

	if ((st->csr[CSR_TFC] & CSR4_ASTRP_RCV) && len >= ETH_HLEN) {
		size_t keep = ETH_HLEN + (size_t)(hdr[12] << 8 | hdr[13]);

		if (keep < ETH_HLEN + MIN_8023_DATA) {
			size_t body = fcs_in && len >= FCS_LEN ? len - FCS_LEN :
								 len;

			s->data = keep < body ? keep : body;
			return false;
		}
	}
	if (fcs_in) {
		uint8_t fcs[FCS_LEN];

		if (!(flags & RX_FCS_CHECK))
			return false;
		if (len < FCS_LEN)
			return true;
		iov_copy(s->iov, s->iovcnt, len - FCS_LEN, fcs, FCS_LEN);
		crc = ~iov_crc(s->iov, s->iovcnt, len - FCS_LEN);
		return pcnet_le32(fcs) != crc;
	}
	if (!(flags & RX_LOOPBACK) && len < MIN_FRAME)
		s->pad = MIN_FRAME - len;
	crc = iov_crc(s->iov, s->iovcnt, len);
	crc = ~pcnet_crc32(crc, zeros, s->pad);
	for (unsigned int i = 0; i < FCS_LEN; i++)
		s->fcs[i] = (uint8_t)(crc >> (8 * i));
	s->fcs_len = FCS_LEN;
	return false;
}

/* RMD1 bits of a frame's last descriptor. */
static uint16_t rx_end_bits(bool overflow, enum pcnet_match match,
			    bool crc_err)
{
	if (overflow)
		return DESC_ERR | RMD1_BUFF | RMD1_OFLO;
	return DESC_ENP | match_bits(match) | (crc_err ? DESC_ERR | RMD1_CRC : 0);
}

/*
 * Hands the @count descriptors from @idx0 back, the frame already in
 * their buffers: last to first, so the STP one changes last and a driver
 * never sees part of a chain.  Journalled first (rx_inflight_*): a
 * successor of a process that dies in here finishes the same hand-back
 * (pcnet_rx_resume_fixup).  @end: RMD1 bits of the last descriptor,
 * @mcnt its message count (0xffff: left alone).
 */
static bool rx_handback(struct pcnet *dev, uint32_t idx0, uint32_t count,
			uint16_t end, uint16_t mcnt)
{
	struct pcnet_state *st = dev->st;

	st->rx_inflight_start = idx0;
	st->rx_inflight_end = end;
	st->rx_inflight_mcnt = mcnt;
	/* The journal is whole before it counts (a kill can land anywhere). */
	__atomic_store_n(&st->rx_inflight_count, count, __ATOMIC_RELEASE);
	for (uint32_t i = count; i-- > 0;) {
		bool last = i + 1 == count;
		uint16_t set = (last ? end : 0) | (i == 0 ? DESC_STP : 0);

		PCNET_FAULT("rx-handback");	/* frame written, not all back */
		if (!pcnet_rmd_store(dev, ring_add(idx0, i, st->rx_len), set,
				     0xfff0, last ? mcnt : 0xffff))
			return false;
	}
	return true;
}

enum pcnet_rx_result pcnet_rx_frame(struct pcnet *dev,
				    const struct iovec *iov,
				    unsigned int iovcnt, size_t len,
				    unsigned int flags)
{
	struct pcnet_state *st = dev->st;
	struct rx_src src = { .iov = iov, .iovcnt = iovcnt, .data = len };
	uint8_t hdr[ETH_HLEN] = { 0 };
	enum pcnet_match match;
	bool crc_err, overflow = false;
	struct pcnet_desc d;
	uint32_t idx0, k = 0, count;
	size_t total, pos = 0;
	int rc;

	if (pcnet_stopped(st) || pcnet_suspended(st) ||
	    !(st->csr[0] & CSR0_RXON)) {
		st->stats.rx_dropped++;
		return PCNET_RX_DROPPED;
	}
	iov_copy(iov, iovcnt, 0, hdr, len < ETH_HLEN ? len : ETH_HLEN);
	match = pcnet_address_match(st, hdr);
	if (match == MATCH_NONE) {
		st->stats.rx_filtered++;
		return PCNET_RX_FILTERED;
	}
	crc_err = rx_source(st, &src, hdr, len, flags);
	total = src_len(&src);

	if (!st->rx_len)
		return rx_miss(st);
	idx0 = st->rx_idx;
	rc = pcnet_desc_load(dev, st->rdra, idx0, &d);
	if (rc <= 0) {
		if (rc < 0)
			goto dropped;
		return rx_miss(st);
	}
	/* Bounded by the frame and by the ring: a descriptor at most once. */
	for (;;) {
		size_t n = total - pos < d.len ? total - pos : d.len;

		if (n) {
			uint8_t *p = pcnet_dma_map(dev, d.addr, n);

			if (!p)
				goto dropped;
			src_copy(&src, pos, p, n);
			pos += n;
		}
		if (pos == total)
			break;
		if (k + 1 >= st->rx_len) {
			overflow = true;
			break;
		}
		rc = pcnet_desc_load(dev, st->rdra, ring_add(idx0, k + 1,
							     st->rx_len), &d);
		if (rc < 0)
			goto dropped;
		if (!rc) {
			overflow = true;
			break;
		}
		k++;
	}
	count = k + 1;

	if (!rx_handback(dev, idx0, count, rx_end_bits(overflow, match, crc_err),
			 overflow ? 0xffff : (uint16_t)total))
		goto dropped;
	st->rx_idx = ring_add(idx0, count, st->rx_len);
	__atomic_store_n(&st->rx_inflight_count, 0, __ATOMIC_RELEASE);
	pcnet_raise(dev, CSR0_RINT);
	if (overflow) {
		st->stats.rx_overflows++;
		return PCNET_RX_OVERFLOW;
	}
	st->stats.rx_frames++;
	st->stats.rx_bytes += total;
	return PCNET_RX_DELIVERED;

dropped:
	st->rx_inflight_count = 0;
	st->stats.rx_dropped++;
	return PCNET_RX_DROPPED;
}

bool pcnet_rx_owned(struct pcnet *dev)
{
	const struct pcnet_state *st = dev->st;

	if (pcnet_stopped(st) || pcnet_suspended(st) ||
	    !(st->csr[0] & CSR0_RXON) || !st->rx_len)
		return false;
	return pcnet_desc_probe(dev, st->rdra, st->rx_idx);
}

/*
 * A process that died handing a received frame back left it in the
 * journal, the frame whole in the buffers: finish the hand-back, so the
 * frame arrives (rolled forward) instead of being lost.  The STP
 * descriptor changes last: if the guest already has it, the hand-back was
 * done and nothing is written.  (Had the guest also given the chain back
 * in the instant between that store and the journal's close, the frame
 * comes twice, as the crash-isolation promise allows.)
 */
void pcnet_rx_resume_fixup(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint32_t start = st->rx_inflight_start, count = st->rx_inflight_count;
	/* From the state region: never OWN or STP from the journal. */
	uint16_t end = st->rx_inflight_end &
		       (DESC_ERR | DESC_ENP | RMD1_FRAM | RMD1_OFLO | RMD1_CRC |
			RMD1_BUFF | RMD1_PAM | RMD1_LAFM | RMD1_BAM);
	struct pcnet_desc d;
	int rc;

	if (!count || !st->rx_len || count > st->rx_len || start >= st->rx_len)
		goto out;
	rc = pcnet_desc_load(dev, st->rdra, start, &d);
	if (rc < 0)
		goto out;
	if (rc && !rx_handback(dev, start, count, end, st->rx_inflight_mcnt))
		goto out;
	st->rx_idx = ring_add(start, count, st->rx_len);
	pcnet_raise(dev, CSR0_RINT);
out:
	st->rx_inflight_count = 0;
}

/* ---- zero copy: the port writes the chip's buffers itself ---------- */

static bool rx_on(const struct pcnet_state *st)
{
	return !pcnet_stopped(st) && !pcnet_suspended(st) &&
	       (st->csr[0] & CSR0_RXON) && st->rx_len && st->link_up &&
	       !pcnet_loopback(st);
}

unsigned int pcnet_rx_buffers(struct pcnet *dev, unsigned int skip,
			      struct pcnet_rx_buf *out, unsigned int max)
{
	struct pcnet_state *st;
	unsigned int n = 0;

	if (!pcnet_enter(dev))
		return 0;
	st = dev->st;
	if (!rx_on(st))
		goto out;
	for (uint32_t k = skip; k < st->rx_len && n < max; k++) {
		uint32_t idx = ring_add(st->rx_idx, k, st->rx_len);
		struct pcnet_desc d;

		/* A fetch like any other: a ring outside RAM is MERR. */
		if (pcnet_desc_load(dev, st->rdra, idx, &d) <= 0)
			break;
		/* Not yet a DMA: such a buffer faults when a frame needs it. */
		if (!d.len || !dev->mem ||
		    !guest_mem_ptr(dev->mem, d.addr, d.len))
			break;
		out[n++] = (struct pcnet_rx_buf){
			.gpa = d.addr, .len = d.len, .idx = idx,
		};
	}
out:
	pcnet_leave(dev);
	return n;
}

/* The listed buffers are still the chip's, unchanged; their iov. */
static bool rx_bufs_valid(struct pcnet *dev, const struct pcnet_rx_buf *bufs,
			  unsigned int nbufs, struct iovec *iov)
{
	struct pcnet_state *st = dev->st;

	for (unsigned int i = 0; i < nbufs; i++) {
		uint32_t idx = ring_add(st->rx_idx, i, st->rx_len);
		struct pcnet_desc d;
		int rc = pcnet_desc_load(dev, st->rdra, idx, &d);

		if (rc <= 0 || bufs[i].idx != idx || bufs[i].gpa != d.addr ||
		    bufs[i].len != d.len)
			return false;
		iov[i].iov_base = pcnet_dma_map(dev, d.addr, d.len);
		iov[i].iov_len = d.len;
		if (!iov[i].iov_base)
			return false;
	}
	return true;
}

/* Writes @n bytes of @src at frame offset @off into the buffers. */
static void rx_put(const struct iovec *iov, unsigned int iovcnt, size_t off,
		   const uint8_t *src, size_t n)
{
	for (unsigned int i = 0; i < iovcnt && n; i++) {
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > n)
			take = n;
		memcpy((uint8_t *)iov[i].iov_base + off, src, take);
		src += take;
		n -= take;
		off = 0;
	}
}

enum pcnet_rx_result pcnet_rx_complete(struct pcnet *dev,
				       const struct pcnet_rx_buf *bufs,
				       unsigned int nbufs, uint32_t len)
{
	struct iovec iov[TX_MAX_SEGS];
	struct pcnet_state *st;
	struct rx_src src;
	uint8_t hdr[ETH_HLEN] = { 0 };
	enum pcnet_match match;
	enum pcnet_rx_result r = PCNET_RX_DROPPED;
	size_t total, room = 0, before = 0;
	uint32_t count = 0;
	bool crc_err, overflow = false;

	if (!pcnet_enter(dev))
		return PCNET_RX_DROPPED;
	st = dev->st;
	if (!rx_on(st) || !bufs || !nbufs || nbufs > TX_MAX_SEGS ||
	    nbufs > st->rx_len || !len || len > PCNET_MAX_FRAME ||
	    !rx_bufs_valid(dev, bufs, nbufs, iov)) {
		st->stats.rx_dropped++;
		goto out;
	}
	for (unsigned int i = 0; i < nbufs; i++) {
		if (i + 1 < nbufs)
			before += iov[i].iov_len;
		room += iov[i].iov_len;
	}
	/* Laid out as the chip would: the last buffer holds the end. */
	if (len <= before || len > room) {
		st->stats.rx_dropped++;
		goto out;
	}
	src = (struct rx_src){ .iov = iov, .iovcnt = nbufs, .data = len };
	iov_copy(iov, nbufs, 0, hdr, len < ETH_HLEN ? len : ETH_HLEN);
	match = pcnet_address_match(st, hdr);
	if (match == MATCH_NONE) {
		st->stats.rx_filtered++;
		r = PCNET_RX_FILTERED;
		goto out;
	}
	crc_err = rx_source(st, &src, hdr, len, 0);
	total = src_len(&src);
	if (total > room) {
		overflow = true;
		total = room;
	}
	/* Pad and FCS after the data, in place; ASTRP may shorten it. */
	if (total > src.data) {
		uint8_t tail[MIN_FRAME + FCS_LEN];
		size_t n = total - src.data;

		src_copy(&src, src.data, tail, n);
		rx_put(iov, nbufs, src.data, tail, n);
	}
	/* The buffers the frame took; ASTRP_RCV may leave some unused. */
	for (size_t pos = 0; count < nbufs;) {
		pos += iov[count++].iov_len;
		if (pos >= total)
			break;
	}

	if (!rx_handback(dev, st->rx_idx, count,
			 rx_end_bits(overflow, match, crc_err),
			 overflow ? 0xffff : (uint16_t)total)) {
		st->rx_inflight_count = 0;
		st->stats.rx_dropped++;
		goto out;
	}
	st->rx_idx = ring_add(st->rx_idx, count, st->rx_len);
	__atomic_store_n(&st->rx_inflight_count, 0, __ATOMIC_RELEASE);
	pcnet_raise(dev, CSR0_RINT);
	if (overflow) {
		st->stats.rx_overflows++;
		r = PCNET_RX_OVERFLOW;
	} else {
		st->stats.rx_frames++;
		st->stats.rx_bytes += total;
		r = PCNET_RX_DELIVERED;
	}
	/* TXDPOLL: a transmit poll follows receive activity. */
	if (r == PCNET_RX_DELIVERED && (st->csr[0] & CSR0_TXON) &&
	    !(st->csr[CSR_TFC] & CSR4_DPOLL))
		pcnet_tx_poll(dev);
out:
	pcnet_leave(dev);
	return r;
}

uint32_t pcnet_rx_epoch(const struct pcnet *dev)
{
	return dev->rx_epoch;
}

uint32_t pcnet_rx_position(const struct pcnet *dev, uint32_t *ring_len)
{
	if (ring_len)
		*ring_len = dev->st->rx_len;
	return dev->st->rx_idx;
}
