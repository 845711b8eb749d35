// SPDX-License-Identifier: MIT
/*
 * Transmit: a ring poll (TDMD or the TXDPOLL timer) sends every frame whose
 * descriptors the chip owns, up to a ring's worth, and raises TINT once per
 * batch as far as the driver can tell (the line is updated on the way out).
 *
 * A frame is STP ... ENP.  Its buffers are handed to the port in place (no
 * copy) and its descriptors are released only after the port returned, in
 * ring order, so the ENP descriptor is the last one a driver sees change.
 * A chain whose next descriptor is not owned, that runs round the whole
 * ring, or that grows past PCNET_MAX_FRAME is not sent: its last
 * descriptor gets BUFF and UFLO, and without DXSUFLO the transmitter
 * turns off (TXON = 0) as the datasheet's underflow does.
 */
#include <errno.h>
#include <string.h>

#include "pcnet_hw.h"

/* Babble: more than the longest legal frame on the wire. */
#define BABBLE_LEN	1519

enum tx_verdict {
	TX_IDLE,	/* first descriptor not owned */
	TX_SKIP,	/* owned but no STP: skipped, as the datasheet says */
	TX_SEND,
	TX_UFLO,	/* chain without ENP, or too long */
	TX_FAULT,	/* DMA outside guest memory */
};

struct tx_frame {
	uint32_t start;		/* first descriptor */
	uint32_t count;		/* descriptors in the chain */
	uint32_t len;		/* bytes */
	unsigned int nseg;
	bool bounce;		/* bytes gathered in dev->bounce */
	uint16_t stp_status;
	uint16_t enp_status;
};

static const uint8_t zero_pad[MIN_FRAME];

static uint32_t ring_add(uint32_t idx, uint32_t n, uint32_t len)
{
	return (uint32_t)(((uint64_t)idx + n) % len);
}

/* Past TX_MAX_SEGS pieces the frame is copied, which it fits (<= max). */
static void tx_gather(struct pcnet *dev, struct tx_frame *f)
{
	uint32_t off = 0;

	for (unsigned int i = 0; i < f->nseg; i++) {
		memcpy(dev->bounce + off, dev->seg[i].host, dev->seg[i].len);
		off += dev->seg[i].len;
	}
	f->bounce = true;
	f->nseg = 0;
}

static bool tx_add(struct pcnet *dev, struct tx_frame *f,
		   const struct pcnet_desc *d)
{
	void *p;

	if (!d->len)
		return true;
	p = pcnet_dma_map(dev, d->addr, d->len);
	if (!p)
		return false;
	if (!f->bounce && f->nseg == TX_MAX_SEGS)
		tx_gather(dev, f);
	if (f->bounce)
		memcpy(dev->bounce + f->len, p, d->len);
	else
		dev->seg[f->nseg++] = (struct pcnet_seg){
			.gpa = d->addr, .host = p, .len = d->len,
		};
	f->len += d->len;
	return true;
}

static uint32_t tx_room(const struct pcnet_state *st);

static enum tx_verdict tx_collect(struct pcnet *dev, struct tx_frame *f)
{
	struct pcnet_state *st = dev->st;
	uint32_t idx = st->tx_idx;
	struct pcnet_desc d;
	int rc;

	memset(f, 0, sizeof(*f));
	f->start = idx;
	rc = pcnet_desc_load(dev, st->tdra, idx, &d);
	if (rc <= 0)
		return rc < 0 ? TX_FAULT : TX_IDLE;
	f->count = 1;
	if (!(d.status & DESC_STP))
		return TX_SKIP;
	f->stp_status = d.status;

	for (uint32_t k = 0;; k++) {
		f->count = k + 1;
		if (f->len + d.len > PCNET_MAX_FRAME)
			return TX_UFLO;
		if (!tx_add(dev, f, &d))
			return TX_FAULT;
		if (d.status & DESC_ENP) {
			f->enp_status = d.status;
			return TX_SEND;
		}
		if (k + 1 >= tx_room(st))
			return TX_UFLO;
		PCNET_FAULT("tx-chain");	/* between a chain's descriptors */
		idx = ring_add(idx, 1, st->tx_len);
		rc = pcnet_desc_load(dev, st->tdra, idx, &d);
		if (rc < 0)
			return TX_FAULT;
		if (!rc)
			return TX_UFLO;
	}
}

/* Whether the chip appends the FCS (TMD1 ADD_FCS / NO_FCS, DXMTFCS). */
static bool tx_fcs_by_chip(const struct pcnet_state *st,
			   const struct tx_frame *f)
{
	bool dxmtfcs = st->csr[CSR_MODE] & MODE_DXMTFCS;

	if (st->csr[CSR_TFC] & CSR4_APAD_XMT)
		return true;
	if (pcnet_swstyle(st) == 1)
		return !(f->enp_status & TMD1_ADD_FCS) && !dxmtfcs;
	return (f->stp_status & TMD1_ADD_FCS) || !dxmtfcs;
}

/* APAD_XMT: short frames grow to 60 bytes of zeros before the FCS. */
static void tx_pad(struct pcnet *dev, struct tx_frame *f)
{
	uint32_t pad;

	if (!(dev->st->csr[CSR_TFC] & CSR4_APAD_XMT) || f->len >= MIN_FRAME)
		return;
	pad = MIN_FRAME - f->len;
	if (f->bounce) {
		memset(dev->bounce + f->len, 0, pad);
	} else {
		dev->seg[f->nseg++] = (struct pcnet_seg){
			.gpa = PCNET_SEG_NO_GPA, .host = zero_pad, .len = pad,
		};
	}
	f->len += pad;
}

static enum pcnet_tx_result tx_port(struct pcnet *dev,
				    const struct pcnet_seg *seg,
				    unsigned int nseg, uint32_t len, bool fcs)
{
	struct pcnet_stats *s = &dev->st->stats;
	enum pcnet_tx_result r;

	r = dev->ops.tx(dev->opaque, seg, nseg, len,
			fcs ? 0 : PCNET_TX_FCS_INCLUDED);
	if (r == PCNET_TX_PENDING)
		return r;
	if (r == PCNET_TX_ACCEPTED) {
		s->tx_frames++;
		s->tx_bytes += len;
	} else {
		s->tx_dropped++;
	}
	return r;
}

/*
 * Puts the frame on the wire, internal loopback or port; TMD2 errors.
 * *@pending: the port keeps the buffers (PCNET_TX_PENDING).
 */
static uint32_t tx_send(struct pcnet *dev, struct tx_frame *f, bool *pending)
{
	struct pcnet_state *st = dev->st;
	bool fcs = tx_fcs_by_chip(st, f);
	struct pcnet_seg one, *seg = dev->seg;
	unsigned int nseg;

	tx_pad(dev, f);
	nseg = f->nseg;
	if (f->bounce) {
		one = (struct pcnet_seg){
			.gpa = PCNET_SEG_NO_GPA, .host = dev->bounce,
			.len = f->len,
		};
		seg = &one;
		nseg = 1;
	}
	st->csr[CSR_TFC] |= CSR4_TXSTRT;
	if (f->len + (fcs ? FCS_LEN : 0) >= BABBLE_LEN)
		st->csr[0] |= CSR0_BABL;

	if (pcnet_loopback_internal(st)) {
		pcnet_loopback_deliver(dev, seg, nseg, f->len, fcs);
		st->stats.tx_frames++;
		st->stats.tx_bytes += f->len;
		return 0;
	}
	/* 10BASE-T in link fail: loss of carrier, unless link test is off. */
	if (!st->link_up && !(st->csr[CSR_MODE] & MODE_DLNKTST)) {
		st->stats.tx_errors++;
		return TMD2_LCAR;
	}
	if (st->link_up)
		*pending = tx_port(dev, seg, nseg, f->len, fcs) ==
			   PCNET_TX_PENDING;
	else
		st->stats.tx_dropped++;
	if (pcnet_loopback(st))
		pcnet_loopback_deliver(dev, seg, nseg, f->len, fcs);
	return 0;
}

static bool tx_tint_wanted(const struct pcnet_state *st, uint16_t enp_status,
			   bool err)
{
	uint16_t c5 = st->csr[CSR_ECI1];

	return err || !(c5 & CSR5_TOKINTD) ||
	       ((c5 & CSR5_LTINTEN) && (enp_status & TMD1_LTINT));
}

/*
 * Releases @count descriptors from @start; the last carries @tmd2 and
 * ERR.  The caller moves tx_idx.
 */
static bool tx_release(struct pcnet *dev, uint32_t start, uint32_t count,
		       uint16_t enp_status, uint32_t tmd2)
{
	struct pcnet_state *st = dev->st;
	uint16_t clear = DESC_ERR | TMD1_ONE | TMD1_DEF;

	/* Without LTINTEN bit 28 is MORE, which the chip writes. */
	if (!(st->csr[CSR_ECI1] & CSR5_LTINTEN))
		clear |= TMD1_LTINT;
	st->tx_inflight_start = start;
	st->tx_inflight_count = count;
	for (uint32_t k = 0; k < count; k++) {
		uint32_t idx = ring_add(start, k, st->tx_len);
		bool last = k + 1 == count;

		if (!pcnet_tmd_store(dev, idx, last && tmd2 ? DESC_ERR : 0,
				     clear, last ? tmd2 : 0))
			return false;
	}
	st->tx_inflight_count = 0;
	if (tx_tint_wanted(st, enp_status, tmd2))
		pcnet_raise(dev, CSR0_TINT);
	return true;
}

/* The port took the frame's buffers: the descriptors wait, owned. */
static void tx_hold(struct pcnet *dev, const struct tx_frame *f, uint32_t seq)
{
	struct pcnet_state *st = dev->st;
	struct tx_pending *p;

	if (!dev->npend) {
		st->tx_pend_start = f->start;
		st->tx_pend_count = 0;
	}
	p = &dev->pend[(dev->pend_head + dev->npend) % TX_MAX_PENDING];
	*p = (struct tx_pending){
		.seq = seq, .start = f->start, .count = f->count,
		.len = f->len, .enp_status = f->enp_status,
	};
	dev->npend++;
	st->tx_pend_count += f->count;
	st->tx_idx = ring_add(f->start, f->count, st->tx_len);
	st->tx_inflight_count = 0;
}

void pcnet_tx_forget_pending(struct pcnet *dev, bool rewind)
{
	struct pcnet_state *st = dev->st;

	/* Never sent as far as the driver can tell: STRT sends them again. */
	if (dev->npend && rewind && st->tx_len)
		st->tx_idx = st->tx_pend_start % st->tx_len;
	dev->npend = 0;
	dev->pend_head = 0;
	st->tx_pend_count = 0;
}

/* Descriptors the ring still has for new frames. */
static uint32_t tx_room(const struct pcnet_state *st)
{
	return st->tx_pend_count < st->tx_len ? st->tx_len - st->tx_pend_count
					       : 0;
}

void pcnet_set_tx_batch(struct pcnet *dev, uint32_t frames)
{
	dev->tx_batch = frames;
}

static uint32_t tx_poll_ring(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	struct tx_frame f;
	uint32_t done = 0, frames = 0;
	uint32_t cap = dev->tx_batch ? dev->tx_batch : UINT32_MAX;

	st->csr[0] &= ~CSR0_TDMD;
	/* At most a ring's worth of frames per poll: bounded, and fair. */
	while (done < st->tx_len && frames < cap && (st->csr[0] & CSR0_TXON) &&
	       !pcnet_stopped(st) && !pcnet_suspended(st)) {
		uint32_t tmd2 = 0, seq = dev->tx_seq;
		bool pending = false;

		/* Every descriptor is with the port: nothing to fetch. */
		if (!tx_room(st))
			return frames;
		switch (tx_collect(dev, &f)) {
		case TX_IDLE:
		case TX_FAULT:
			return frames;
		case TX_SKIP:
			st->tx_idx = ring_add(st->tx_idx, 1, st->tx_len);
			done++;
			continue;
		case TX_UFLO:
			tmd2 = TMD2_BUFF | TMD2_UFLO;
			st->stats.tx_errors++;
			frames++;
			break;
		case TX_SEND:
			frames++;
			st->tx_inflight_start = f.start;
			st->tx_inflight_count = f.count;
			tmd2 = tx_send(dev, &f, &pending);
			dev->tx_seq++;
			break;
		}
		done += f.count;
		if (pending) {
			tx_hold(dev, &f, seq);
			continue;
		}
		/*
		 * Behind frames the port holds, an error descriptor waits its
		 * turn too (ring order): a pending entry already done.
		 */
		if (dev->npend) {
			tx_hold(dev, &f, seq);
			dev->pend[(dev->pend_head + dev->npend - 1) %
				  TX_MAX_PENDING].done = true;
			dev->pend[(dev->pend_head + dev->npend - 1) %
				  TX_MAX_PENDING].result = tmd2 ? 0xff :
								  PCNET_TX_ACCEPTED;
			if (tmd2 & TMD2_UFLO) {
				if (!(st->csr[CSR_IMDC] & CSR3_DXSUFLO))
					st->csr[0] &= ~CSR0_TXON;
			}
			continue;
		}
		/* A fault stops the chip; nothing is left for a restart. */
		if (!tx_release(dev, f.start, f.count, f.enp_status, tmd2)) {
			st->tx_inflight_count = 0;
			return frames;
		}
		st->tx_idx = ring_add(f.start, f.count, st->tx_len);
		if ((tmd2 & TMD2_UFLO) && !(st->csr[CSR_IMDC] & CSR3_DXSUFLO))
			st->csr[0] &= ~CSR0_TXON;
	}
	return frames;
}

/* Any frame found means the guest is sending: adaptive polling speeds up. */
uint32_t pcnet_tx_poll(struct pcnet *dev)
{
	uint32_t frames = tx_poll_ring(dev);

	if (frames)
		pcnet_poll_hurry(dev);
	return frames;
}

uint32_t pcnet_tx_seq(const struct pcnet *dev)
{
	return dev->tx_seq;
}

unsigned int pcnet_tx_pending(const struct pcnet *dev)
{
	return dev->npend;
}

/* Hands back the done frames at the head, in ring order. */
static void tx_retire(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;

	while (dev->npend && dev->pend[dev->pend_head].done) {
		struct tx_pending *p = &dev->pend[dev->pend_head];
		uint32_t tmd2 = 0;

		if (p->result == 0xff) {
			tmd2 = TMD2_BUFF | TMD2_UFLO;
		} else if (p->result == PCNET_TX_ACCEPTED) {
			st->stats.tx_frames++;
			st->stats.tx_bytes += p->len;
		} else {
			st->stats.tx_dropped++;
		}
		dev->pend_head = (dev->pend_head + 1) % TX_MAX_PENDING;
		dev->npend--;
		st->tx_pend_start = ring_add(p->start, p->count, st->tx_len);
		st->tx_pend_count -= p->count < st->tx_pend_count ?
				     p->count : st->tx_pend_count;
		if (!tx_release(dev, p->start, p->count, p->enp_status,
				tmd2)) {
			/* MERR: the chip is off, the rest is forgotten. */
			st->tx_inflight_count = 0;
			pcnet_tx_forget_pending(dev, false);
			return;
		}
	}
}

int pcnet_tx_complete(struct pcnet *dev, uint32_t seq, enum pcnet_tx_result r)
{
	struct pcnet_state *st;
	int rc = -ENOENT;

	if (!pcnet_enter(dev))
		return -EBUSY;
	st = dev->st;
	for (uint32_t i = 0; i < dev->npend; i++) {
		struct tx_pending *p =
			&dev->pend[(dev->pend_head + i) % TX_MAX_PENDING];

		if (p->seq != seq || p->done || p->result == 0xff)
			continue;
		p->done = true;
		p->result = r == PCNET_TX_ACCEPTED ? PCNET_TX_ACCEPTED :
						     PCNET_TX_DROPPED;
		rc = 0;
		break;
	}
	if (!rc) {
		tx_retire(dev);
		/* Room again: what the driver queued meanwhile goes out. */
		if ((st->csr[0] & CSR0_TXON) && !pcnet_stopped(st) &&
		    !pcnet_suspended(st))
			pcnet_tx_poll(dev);
	}
	pcnet_leave(dev);
	return rc;
}

/*
 * Frames a dead process's port held: handed back as sent (the backend may
 * or may not have put them on the wire).  ENP descriptors get TINT's
 * attention through the usual release.
 */
static void tx_resume_pending(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint32_t count = st->tx_pend_count, start = st->tx_pend_start;
	struct pcnet_desc d;

	st->tx_pend_count = 0;
	if (!count || !st->tx_len || count > st->tx_len ||
	    start >= st->tx_len)
		return;
	for (uint32_t k = 0; k < count; k++) {
		uint32_t idx = ring_add(start, k, st->tx_len);
		int rc = pcnet_desc_load(dev, st->tdra, idx, &d);

		if (rc < 0)
			return;
		if (rc && !pcnet_tmd_store(dev, idx, 0, 0, 0))
			return;
	}
	pcnet_raise(dev, CSR0_TINT);
}

/*
 * A process that died while handing a chain back left it in the journal:
 * finish the hand-back so the guest's ring moves on (the frame may have
 * gone out or not, as on a real wire).
 */
void pcnet_tx_resume_fixup(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	struct pcnet_desc d;

	tx_resume_pending(dev);
	if (!st->tx_inflight_count || !st->tx_len)
		goto out;
	if (st->tx_inflight_count > st->tx_len ||
	    st->tx_inflight_start >= st->tx_len)
		goto out;
	for (uint32_t k = 0; k < st->tx_inflight_count; k++) {
		uint32_t idx = ring_add(st->tx_inflight_start, k, st->tx_len);
		int rc = pcnet_desc_load(dev, st->tdra, idx, &d);

		if (rc < 0)
			goto out;
		if (rc && !pcnet_tmd_store(dev, idx, 0, 0, 0))
			goto out;
	}
	st->tx_idx = ring_add(st->tx_inflight_start, st->tx_inflight_count,
			      st->tx_len);
out:
	st->tx_inflight_count = 0;
}
