// SPDX-License-Identifier: MIT
/*
 * Receive: an accepted frame goes into the buffers of the ring starting
 * at the current descriptor, chaining while the chip owns the next one.
 * What a driver finds is what the chip writes: the frame, padded to 60
 * bytes if it came shorter from the network, followed by its FCS, with
 * MCNT counting both (unless ASTRP_RCV strips an 802.3 frame's pad and
 * FCS).  No owned descriptor: MISS and MISSC.  Chain runs out: BUFF and
 * OFLO in the last descriptor used.  Descriptors are handed back last to
 * first, so the STP one changes last.
 */
#include <string.h>

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

	st->rx_inflight_start = idx0;
	st->rx_inflight_count = count;
	for (uint32_t i = count; i-- > 0;) {
		uint16_t set = i == 0 ? DESC_STP : 0, mcnt = 0xffff;

		if (i + 1 == count && overflow) {
			set |= DESC_ERR | RMD1_BUFF | RMD1_OFLO;
		} else if (i + 1 == count) {
			set |= DESC_ENP | match_bits(match);
			if (crc_err)
				set |= DESC_ERR | RMD1_CRC;
			mcnt = (uint16_t)total;
		}
		if (!pcnet_rmd_store(dev, ring_add(idx0, i, st->rx_len), set,
				     0xfff0, mcnt))
			goto dropped;
	}
	st->rx_idx = ring_add(idx0, count, st->rx_len);
	st->rx_inflight_count = 0;
	st->csr[0] |= CSR0_RINT;
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

/* See pcnet_tx_resume_fixup(): a half-returned frame becomes an error. */
void pcnet_rx_resume_fixup(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint32_t start = st->rx_inflight_start, count = st->rx_inflight_count;
	struct pcnet_desc d;

	if (!count || !st->rx_len || count > st->rx_len || start >= st->rx_len)
		goto out;
	for (uint32_t i = count; i-- > 0;) {
		uint32_t idx = ring_add(start, i, st->rx_len);
		uint16_t set = DESC_ERR | RMD1_BUFF | RMD1_OFLO;
		int rc = pcnet_desc_load(dev, st->rdra, idx, &d);

		if (rc < 0)
			goto out;
		if (i == 0)
			set |= DESC_STP;
		if (rc && !pcnet_rmd_store(dev, idx, set, 0xfff0, 0xffff))
			goto out;
	}
	st->rx_idx = ring_add(start, count, st->rx_len);
out:
	st->rx_inflight_count = 0;
}
