// SPDX-License-Identifier: MIT
/*
 * The device object: creation over a state region (fresh or resumed),
 * the entry guard every entry point runs under, the link, the timer and
 * the network's way in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcnet_hw.h"

_Static_assert(sizeof(struct pcnet_state) % 8 == 0,
	       "state region layout must stay 8-byte padded");

/*
 * One entry at a time: a callback that calls back into its own device
 * (a port looping a frame straight back, an IRQ handler reading CSR0) is
 * refused instead of running over a half-done operation.
 */
void (*pcnet_fault_hook)(const char *point);

bool pcnet_enter(struct pcnet *dev)
{
	if (dev->depth) {
		dev->st->stats.reentries++;
		return false;
	}
	dev->depth = 1;
	dev->fault = false;
	/* Stored before anything the operation changes (a SIGKILL stops at
	 * an instruction; only the compiler could reorder). */
	dev->st->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return true;
}

void pcnet_leave(struct pcnet *dev)
{
	uint64_t deadline;

	pcnet_poll_schedule(dev);
	pcnet_update_irq(dev);
	if (dev->ops.regs_changed)
		dev->ops.regs_changed(dev->opaque);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	dev->st->busy = 0;
	/* Still guarded: the callback may only read the deadline. */
	deadline = pcnet_next_deadline(dev);
	if (deadline != dev->deadline_told) {
		dev->deadline_told = deadline;
		if (dev->ops.deadline_changed)
			dev->ops.deadline_changed(dev->opaque);
	}
	dev->depth = 0;
}

static bool state_valid(const struct pcnet_state *st)
{
	return st->magic == PCNET_STATE_MAGIC &&
	       st->version == PCNET_STATE_VERSION &&
	       st->size == sizeof(*st);
}

/* A state region is data from outside: restore the invariants. */
static void state_sanitize(struct pcnet_state *st)
{
	st->rap &= 0xff;
	st->rx_len &= 0xffff;
	st->tx_len &= 0xffff;
	if (st->rx_idx >= st->rx_len)
		st->rx_idx = 0;
	if (st->tx_idx >= st->tx_len)
		st->tx_idx = 0;
	st->irq_level = !!st->irq_level;
	st->link_up = !!st->link_up;
}

int pcnet_create(struct pcnet **out, struct pcnet_state *st,
		 const struct pcnet_config *cfg, const struct pcnet_ops *ops,
		 void *opaque, unsigned int flags)
{
	struct pcnet *dev;
	int resumed;

	if (!out || !st || !cfg || !ops || !ops->set_irq || !ops->tx)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->st = st;
	dev->mem = cfg->mem;
	dev->ops = *ops;
	dev->opaque = opaque;
	dev->depth = 1;
	dev->deadline_told = UINT64_MAX;

	resumed = (flags & PCNET_RESUME) && state_valid(st);
	if (resumed) {
		if (st->busy) {
			st->stats.torn_resumes++;
			st->busy = 0;
		}
		state_sanitize(st);
		pcnet_tx_resume_fixup(dev);
		pcnet_rx_resume_fixup(dev);
		/* The new process's line starts unknown: drive it. */
		st->irq_level = 2;
		pcnet_update_irq(dev);
	} else {
		memset(st, 0, sizeof(*st));
		st->magic = PCNET_STATE_MAGIC;
		st->version = PCNET_STATE_VERSION;
		st->size = sizeof(*st);
		memcpy(st->mac, cfg->mac, sizeof(st->mac));
		st->link_up = 1;
		pcnet_h_reset(dev);
	}
	dev->depth = 0;
	*out = dev;
	return resumed;
}

void pcnet_destroy(struct pcnet *dev)
{
	free(dev);
}

void pcnet_set_guest_mem(struct pcnet *dev, const struct guest_mem *mem)
{
	dev->mem = mem;
}

void pcnet_hard_reset(struct pcnet *dev)
{
	if (!pcnet_enter(dev))
		return;
	pcnet_h_reset(dev);
	pcnet_leave(dev);
}

enum pcnet_rx_result pcnet_receive(struct pcnet *dev, const struct iovec *iov,
				   unsigned int iovcnt)
{
	struct pcnet_state *st;
	enum pcnet_rx_result r;
	size_t len = 0;

	if (!pcnet_enter(dev))
		return PCNET_RX_DROPPED;
	st = dev->st;
	for (unsigned int i = 0; i < iovcnt && len <= PCNET_MAX_FRAME; i++)
		len += iov[i].iov_len;
	/*
	 * Oversize frames (QEMU CVE-2015-7512) never reach guest memory; in
	 * loopback the receiver listens to the transmitter only.
	 */
	if (!len || len > PCNET_MAX_FRAME || !st->link_up ||
	    pcnet_loopback(st)) {
		st->stats.rx_dropped++;
		r = PCNET_RX_DROPPED;
	} else {
		r = pcnet_rx_frame(dev, iov, iovcnt, len, 0);
	}
	/* TXDPOLL: a transmit poll follows receive activity. */
	if (r == PCNET_RX_DELIVERED && (st->csr[0] & CSR0_TXON) &&
	    !(st->csr[CSR_TFC] & CSR4_DPOLL))
		pcnet_tx_poll(dev);
	pcnet_leave(dev);
	return r;
}

bool pcnet_rx_ready(struct pcnet *dev)
{
	return !dev->depth && dev->st->link_up && !pcnet_loopback(dev->st) &&
	       pcnet_rx_owned(dev);
}

void pcnet_set_link(struct pcnet *dev, bool up)
{
	if (!pcnet_enter(dev))
		return;
	if (dev->st->link_up != up)
		pcnet_mii_link_change(dev->st, up);
	dev->st->link_up = up;
	pcnet_leave(dev);
}

bool pcnet_link(const struct pcnet *dev)
{
	return dev->st->link_up;
}

void pcnet_set_tx_poll(struct pcnet *dev, uint64_t min_ns, bool adaptive)
{
	if (!pcnet_enter(dev))
		return;
	if (adaptive && !min_ns)
		min_ns = PCNET_TX_POLL_FLOOR_NS;
	dev->poll_min_ns = min_ns;
	dev->poll_adaptive = adaptive;
	/* Fast first: a resumed guest may be in the middle of sending. */
	dev->poll_cur_ns = min_ns;
	/* A poll scheduled at the old interval may be too far out. */
	dev->poll_resched = true;
	pcnet_leave(dev);
}

void pcnet_set_irq_holdoff(struct pcnet *dev, uint64_t ns)
{
	if (!pcnet_enter(dev))
		return;
	dev->irq_holdoff_ns = ns;
	/* Off: a held-off assertion goes out now (pcnet_leave()). */
	pcnet_leave(dev);
}

void pcnet_get_tune_stats(const struct pcnet *dev,
			  struct pcnet_tune_stats *out)
{
	*out = dev->tune;
}

void pcnet_timer(struct pcnet *dev, uint64_t now_ns)
{
	struct pcnet_state *st;
	uint64_t chip;
	uint32_t frames;

	if (!pcnet_enter(dev))
		return;
	st = dev->st;
	if (st->next_poll_ns && now_ns >= st->next_poll_ns) {
		frames = pcnet_tx_poll(dev);
		dev->tune.tx_timer_polls++;
		if (frames) {
			dev->tune.tx_timer_busy++;
			dev->tune.tx_timer_frames += frames;
		} else if (dev->poll_adaptive) {
			/* Traffic stopped: back off towards the chip's pace. */
			chip = pcnet_poll_interval_ns(st);
			dev->poll_cur_ns = dev->poll_cur_ns < chip / 2 ?
					   dev->poll_cur_ns * 2 : chip;
		}
		/* The interval is settled for this poll: nothing to pull in. */
		dev->poll_resched = false;
		st->next_poll_ns = now_ns + pcnet_tx_poll_interval(dev);
		if (!st->next_poll_ns)
			st->next_poll_ns = 1;
	}
	if (dev->irq_defer_ns && now_ns >= dev->irq_defer_ns)
		dev->irq_due = true;
	pcnet_leave(dev);
}

uint64_t pcnet_next_deadline(const struct pcnet *dev)
{
	uint64_t poll = dev->st->next_poll_ns ? dev->st->next_poll_ns
					      : UINT64_MAX;
	uint64_t irq = dev->irq_defer_ns ? dev->irq_defer_ns : UINT64_MAX;

	return poll < irq ? poll : irq;
}

int pcnet_irq_level(const struct pcnet *dev)
{
	return dev->st->irq_level;
}

void pcnet_get_stats(const struct pcnet *dev, struct pcnet_stats *out)
{
	*out = dev->st->stats;
}
