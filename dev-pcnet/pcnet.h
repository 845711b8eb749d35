/* SPDX-License-Identifier: MIT */
/*
 * AMD Am79C970A (PCnet-PCI II) model: the whole API of the library.
 *
 * A device author sees register access for the two BARs, a few callbacks
 * (interrupt line, frame out, clock), a frame-in entry, the link and the
 * timer.  The chip's architectural state is a plain, pointer-free struct
 * the caller allocates (so it can live in a shared-memory region that
 * outlives the process); everything else is private to the library.
 *
 * Threading: one caller at a time per device (the process serializes).
 * Entry points called from inside a callback of the same device (re-entry)
 * are refused: reads return all ones, writes are ignored, pcnet_receive()
 * returns PCNET_RX_DROPPED.
 */
#ifndef DEV_PCNET_PCNET_H
#define DEV_PCNET_PCNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;

/* PCI identity of the Am79C970A. */
#define PCNET_PCI_VENDOR_ID	0x1022
#define PCNET_PCI_DEVICE_ID	0x2000
#define PCNET_PCI_REVISION	0x10
#define PCNET_PCI_CLASS		0x020000	/* Ethernet controller */
#define PCNET_PCI_INT_PIN	1		/* INTA# */
#define PCNET_IO_BAR_SIZE	0x20		/* BAR0, I/O */
#define PCNET_MMIO_BAR_SIZE	0x20		/* BAR1, memory, same map */

/*
 * Longest frame, without the FCS, that the model hands to the port or takes
 * from it.  Longer transmit chains end in BUFF/UFLO; longer received frames
 * are dropped before they touch guest memory.
 */
#define PCNET_MAX_FRAME		1536

#define PCNET_STATE_MAGIC	0x544e4350u	/* "PCNT" */
#define PCNET_STATE_VERSION	4
#define PCNET_NR_CSR		128
#define PCNET_NR_BCR		36		/* BCR0..BCR34, one spare */
#define PCNET_NR_MII		32

struct pcnet_stats {
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t tx_dropped;	/* the port said PCNET_TX_DROPPED */
	uint64_t tx_errors;	/* BUFF/UFLO/LCAR descriptors */
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_filtered;
	uint64_t rx_missed;	/* MISS: no receive descriptor */
	uint64_t rx_overflows;	/* BUFF/OFLO: chain ran out */
	uint64_t rx_dropped;	/* not receiving, oversize, link down */
	uint64_t dma_faults;	/* DMA outside guest RAM: MERR */
	uint64_t reentries;	/* refused re-entrant calls */
	uint64_t torn_resumes;	/* resumed over an update in progress */
};

/*
 * Architectural state.  Plain data only, fixed layout: it may sit in a
 * shared-memory region and be adopted by a restarted process
 * (PCNET_RESUME).  Callers must not write it while the device exists.
 */
struct pcnet_state {
	uint32_t magic;			/* PCNET_STATE_MAGIC */
	uint32_t version;		/* PCNET_STATE_VERSION */
	uint32_t size;			/* sizeof(struct pcnet_state) */
	uint32_t rap;			/* Register Address Port */

	uint16_t csr[PCNET_NR_CSR];	/* CSRs with storage (see regs.c) */
	uint16_t bcr[PCNET_NR_BCR];
	uint16_t mii[PCNET_NR_MII];	/* the external PHY's registers */
	uint8_t aprom[16];
	uint8_t mac[6];			/* the EEPROM's address, for H_RESET */
	uint8_t pad0[2];

	uint8_t irq_level;		/* INTA as last driven */
	uint8_t link_up;
	uint8_t mii_link_latch;		/* BMSR link went down, not yet read */
	uint8_t pci_master_abort;	/* for PCI status bit 13 (RMABORT) */

	uint32_t rdra;			/* receive ring base (CSR24/25) */
	uint32_t tdra;			/* transmit ring base (CSR30/31) */
	uint32_t rx_len;		/* descriptors in the ring; 0: none */
	uint32_t tx_len;
	uint32_t rx_idx;		/* current descriptor, 0..len-1 */
	uint32_t tx_idx;

	/*
	 * Descriptors being handed back when the process died: a restarted
	 * process completes them, so no ring stalls (count 0: none).  A
	 * received frame's hand-back is journalled whole (the last
	 * descriptor's RMD1 bits and MCNT): its successor finishes it.
	 */
	uint32_t tx_inflight_start;
	uint32_t tx_inflight_count;
	uint32_t rx_inflight_start;
	uint32_t rx_inflight_count;
	uint16_t rx_inflight_end;
	uint16_t rx_inflight_mcnt;
	/*
	 * Transmit descriptors the port still holds (PCNET_TX_PENDING): from
	 * tx_pend_start, tx_pend_count of them, all still OWN.  A restarted
	 * process hands them back as sent.
	 */
	uint32_t tx_pend_start;
	uint32_t tx_pend_count;

	uint64_t next_poll_ns;		/* TX ring poll deadline; 0: none */
	/*
	 * Non-zero while an entry point runs.  A successor that finds it
	 * set knows the state may be torn: the operation is rolled forward
	 * (the core re-delivers the register access it was serving, the
	 * descriptor journals above finish their hand-backs, the ring poll
	 * runs again) and counted in stats.torn_resumes.
	 */
	uint32_t busy;
	uint32_t pad1;
	struct pcnet_stats stats;
};

/*
 * Fault injection for the crash tests: when set, called at named points
 * in the middle of operations ("reg-read", "reg-write", "tx-chain",
 * "rx-handback", "init", "irq-pending"); the hook may kill the process
 * there.  NULL (the default) costs one load per point.
 */
extern void (*pcnet_fault_hook)(const char *point);

/* One piece of a transmitted frame. */
struct pcnet_seg {
	uint64_t gpa;		/* guest-physical, or PCNET_SEG_NO_GPA */
	const void *host;	/* valid for len bytes during the callback */
	uint32_t len;
};

/* Bytes the device supplies itself (APAD_XMT padding, bounce copies). */
#define PCNET_SEG_NO_GPA	UINT64_MAX

/* tx flags: the frame's last 4 bytes are an FCS the guest built. */
#define PCNET_TX_FCS_INCLUDED	(1u << 0)

enum pcnet_tx_result {
	PCNET_TX_ACCEPTED = 0,
	PCNET_TX_DROPPED,	/* lost on the wire: counted, not an error */
	/*
	 * The port keeps the frame's guest buffers (zero copy) and calls
	 * pcnet_tx_complete() with pcnet_tx_seq() later; until then the
	 * descriptors stay owned by the chip.  Pieces without a GPA
	 * (PCNET_SEG_NO_GPA) must be copied during the callback.
	 */
	PCNET_TX_PENDING,
};

enum pcnet_rx_result {
	PCNET_RX_DELIVERED = 0,
	PCNET_RX_FILTERED,	/* address filter said no */
	PCNET_RX_NO_BUFFER,	/* no descriptor owned: MISS */
	PCNET_RX_OVERFLOW,	/* chain ran out: stored with BUFF/OFLO */
	PCNET_RX_DROPPED,	/* receiver off, too long, link down, MERR */
};

struct pcnet_ops {
	/* Drive INTA# to @level (1 asserted).  Called on changes only. */
	void (*set_irq)(void *opaque, int level);
	/*
	 * A frame leaves the chip: @nseg pieces in order, total @len bytes,
	 * PCNET_TX_* @flags.  Host pointers are valid only during the call,
	 * guest buffers (pieces with a GPA) until the frame is complete:
	 * on return for ACCEPTED and DROPPED, at pcnet_tx_complete() for
	 * PENDING.
	 */
	enum pcnet_tx_result (*tx)(void *opaque, const struct pcnet_seg *seg,
				   unsigned int nseg, uint32_t len,
				   unsigned int flags);
	/*
	 * Monotonic nanoseconds (the TX ring poll and the interrupt hold-off
	 * are scheduled with it).
	 */
	uint64_t (*now_ns)(void *opaque);
	/*
	 * Optional: pcnet_next_deadline() changed.  Called on the way out of
	 * any entry point, also those a port calls on its own (a completion
	 * that raised a deferred interrupt), so the caller's timer follows.
	 * It may only read the device (pcnet_next_deadline()).
	 */
	void (*deadline_changed)(void *opaque);
	/*
	 * Optional: what register reads answer may have changed.  Called on
	 * the way out of any entry point and before INTA# changes, so that a
	 * copy kept from pcnet_shadow() is never older than the interrupt
	 * that tells of it.  It may only read the device (pcnet_shadow()).
	 */
	void (*regs_changed)(void *opaque);
};

struct pcnet_config {
	const struct guest_mem *mem;	/* the only way to guest RAM */
	uint8_t mac[6];			/* goes to the APROM */
};

struct pcnet;

/* pcnet_create() flags: adopt @st if it holds a valid state. */
#define PCNET_RESUME		(1u << 0)

/*
 * Creates a device over caller-allocated @st.  Returns 0 (fresh state,
 * hardware reset done), 1 (valid state resumed) or -errno; *@out is set on
 * success and freed with pcnet_destroy().
 */
int pcnet_create(struct pcnet **out, struct pcnet_state *st,
		 const struct pcnet_config *cfg, const struct pcnet_ops *ops,
		 void *opaque, unsigned int flags);
void pcnet_destroy(struct pcnet *dev);

/* The guest-memory map changed (regions added or remapped). */
void pcnet_set_guest_mem(struct pcnet *dev, const struct guest_mem *mem);

/* H_RESET: PCI RST#, a VM reset. */
void pcnet_hard_reset(struct pcnet *dev);

/*
 * The 32-byte I/O BAR: offset 0..31, size 1, 2 or 4.  Accesses the chip
 * does not decode read as all ones and write nothing.
 */
uint32_t pcnet_io_read(struct pcnet *dev, uint32_t offset, unsigned int size);
void pcnet_io_write(struct pcnet *dev, uint32_t offset, unsigned int size,
		    uint32_t value);
/* The memory BAR maps the same resources at the same offsets. */
uint32_t pcnet_mmio_read(struct pcnet *dev, uint64_t offset,
			 unsigned int size);
void pcnet_mmio_write(struct pcnet *dev, uint64_t offset, unsigned int size,
		      uint32_t value);

/* A frame from the network (no FCS; shorter than 60 bytes is padded). */
enum pcnet_rx_result pcnet_receive(struct pcnet *dev, const struct iovec *iov,
				   unsigned int iovcnt);
/* Whether a frame arriving now would find a receive descriptor. */
bool pcnet_rx_ready(struct pcnet *dev);

/*
 * Zero-copy transmit.  Inside ops.tx: the sequence number of the frame
 * being handed out.  Later: the port is done with frame @seq (@r is
 * PCNET_TX_ACCEPTED or PCNET_TX_DROPPED).  Descriptors are handed back in
 * ring order, so a frame completed before an older one waits for it.
 * Returns 0, or -ENOENT for a frame the chip no longer waits for (STOP,
 * INIT or a reset forgot it: those descriptors are never written back;
 * after STOP and STRT the chip sends them again), -EBUSY on re-entry.
 */
uint32_t pcnet_tx_seq(const struct pcnet *dev);
int pcnet_tx_complete(struct pcnet *dev, uint32_t seq,
		      enum pcnet_tx_result r);
/* Frames handed out as PENDING and not complete yet. */
unsigned int pcnet_tx_pending(const struct pcnet *dev);

/*
 * Zero-copy receive.  pcnet_rx_buffers() lists the receive buffers the
 * chip owns, in ring order from the current descriptor plus @skip, without
 * taking them: at most @max, at most a ring's worth, stopping at the first
 * descriptor not owned and before a buffer outside guest RAM or of length
 * 0.  Nothing while the receiver is off (stopped, suspended, RXON clear,
 * loopback, link down).  A descriptor ring outside RAM is a master abort
 * (MERR), as any descriptor fetch.
 *
 * pcnet_rx_complete(): a frame of @len bytes (no FCS) has been written into
 * the first @nbufs of the buffers listed from skip 0, laid out as the chip
 * lays it out (every buffer full but the last).  The chip filters it,
 * pads it to 60 bytes and appends the FCS in place (they must fit in the
 * @nbufs buffers, otherwise the last gets BUFF/OFLO), and hands the
 * descriptors back as pcnet_receive() does.  If a descriptor is no longer
 * owned or no longer points where it did (the guest rewrote the ring), the
 * frame is PCNET_RX_DROPPED and nothing is written.  FILTERED and DROPPED
 * leave every descriptor owned and the current one where it was.
 */
struct pcnet_rx_buf {
	uint64_t gpa;
	uint32_t len;
	uint32_t idx;		/* descriptor index in the ring */
};
unsigned int pcnet_rx_buffers(struct pcnet *dev, unsigned int skip,
			      struct pcnet_rx_buf *out, unsigned int max);
enum pcnet_rx_result pcnet_rx_complete(struct pcnet *dev,
				       const struct pcnet_rx_buf *bufs,
				       unsigned int nbufs, uint32_t len);
/*
 * Changes whenever buffers listed before may have been taken back by the
 * driver: STOP, INIT, S_RESET, H_RESET, SPND, a master abort.  A port
 * that still has listed buffers must make sure nothing writes them after
 * such a change.
 */
uint32_t pcnet_rx_epoch(const struct pcnet *dev);
/* The current receive descriptor, and the ring's length (0: no ring). */
uint32_t pcnet_rx_position(const struct pcnet *dev, uint32_t *ring_len);

void pcnet_set_link(struct pcnet *dev, bool up);
bool pcnet_link(const struct pcnet *dev);

/*
 * Send combining (on by default): a ring poll sends every frame the chip
 * owns, up to a ring's worth.  @frames > 0 caps a poll at that many (1:
 * the naive device, one frame per TDMD or poll, the next once the port
 * completed it); 0 restores the default.  A setting of the process, not
 * chip state: the driver cannot tell but by timing.
 */
void pcnet_set_tx_batch(struct pcnet *dev, uint32_t frames);
/*
 * Exit-less transmit: the TX ring poll's interval.  @min_ns 0 and not
 * @adaptive: the chip's (CSR47 POLLINT, the default).  @min_ns > 0, not
 * @adaptive: every @min_ns instead.  @adaptive: @min_ns (0: the default
 * floor) while polls find frames, doubling per empty timer poll up to the
 * chip's interval; a TDMD or any frame found drops it to the floor again.
 * In every mode the chip polls only when it would (TXON, not TXDPOLL, not
 * stopped or suspended).  A setting of the process, not chip state: a
 * restarted process sets it again and starts at the floor.
 */
#define PCNET_TX_POLL_FLOOR_NS	20000u
void pcnet_set_tx_poll(struct pcnet *dev, uint64_t min_ns, bool adaptive);
/*
 * Interrupt moderation: INTA# going from deasserted to asserted less than
 * @ns after its previous assertion is deferred to that assertion plus @ns
 * (causes arriving meanwhile merge into it; if they are all cleared by
 * then, nothing is raised).  Deasserting is never delayed.  0 (the
 * default) turns it off.  A setting of the process, as above.
 */
void pcnet_set_irq_holdoff(struct pcnet *dev, uint64_t ns);
/* Counters of the two settings above; the process's, not in the state. */
struct pcnet_tune_stats {
	uint64_t tx_timer_polls;	/* ring polls the timer ran */
	uint64_t tx_timer_busy;		/* ... that found frames */
	uint64_t tx_timer_frames;	/* frames they sent: no TDMD needed */
	uint64_t irq_deferred;		/* assertions held off */
	uint64_t irq_cancelled;		/* ... and acked before they were due */
};
void pcnet_get_tune_stats(const struct pcnet *dev,
			  struct pcnet_tune_stats *out);
/* Runs what is due at @now_ns (the TX ring poll, a deferred interrupt). */
void pcnet_timer(struct pcnet *dev, uint64_t now_ns);
/* Next absolute deadline for pcnet_timer(), UINT64_MAX if none. */
uint64_t pcnet_next_deadline(const struct pcnet *dev);

/*
 * Register reads a VMM may answer without the device: what reads of the
 * I/O BAR (the memory BAR decodes the same) answer now, for reads that
 * change nothing.  rap: the RAP port, its value now (a write to it
 * changes nothing else and keeps PCNET_RAP_MASK).  reg[]: RDP while RAP
 * selects CSR0, CSR3 or CSR4, and RDP and BDP at the RAP now, each only
 * where a read has no effect: RESET resets, BCR34 reads the PHY.  A
 * CSR0 read records what it returned (the late acknowledge, see
 * pcnet_raise()): its entry has @note, and a read answered from it must
 * be told with pcnet_shadow_note() before the driver's next access.
 */
#define PCNET_SHADOW_MAX	5
#define PCNET_RAP_MASK		0xffu
struct pcnet_shadow_reg {
	uint32_t offset;	/* in the I/O BAR */
	uint8_t size;
	bool indexed;		/* holds only while RAP == rap */
	bool note;
	uint8_t rap;
	uint32_t value;		/* the answer; for the RAP port, RAP now */
	uint32_t token;		/* @note: for pcnet_shadow_note() */
	/* A write of v with (v & ~quiet_mask) == quiet_value changes no
	 * shadowed value but through the chip's later work (0 0: none). */
	uint16_t quiet_mask, quiet_value;
};
struct pcnet_shadow {
	struct pcnet_shadow_reg rap;
	unsigned int n;
	struct pcnet_shadow_reg reg[PCNET_SHADOW_MAX];
};
void pcnet_shadow(const struct pcnet *dev, struct pcnet_shadow *out);
/* A CSR0 read that got @value from an entry with @token. */
void pcnet_shadow_note(struct pcnet *dev, uint32_t value, uint32_t token);

/* Current INTA# level (for a resample handler). */
int pcnet_irq_level(const struct pcnet *dev);
void pcnet_get_stats(const struct pcnet *dev, struct pcnet_stats *out);

#endif
