/* SPDX-License-Identifier: MIT */
/*
 * Inside the Am79C970A model: register and bit names as the datasheet
 * (AMD publication 19436) spells them, the runtime half of a device, and
 * the functions the files of the library share.
 */
#ifndef DEV_PCNET_HW_H
#define DEV_PCNET_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcnet.h"

/* I/O map, Word I/O mode (DWIO = 0). */
#define WIO_RDP		0x10
#define WIO_RAP		0x12
#define WIO_RESET	0x14
#define WIO_BDP		0x16
/* I/O map, Double Word I/O mode (DWIO = 1). */
#define DWIO_RDP	0x10
#define DWIO_RAP	0x14
#define DWIO_RESET	0x18
#define DWIO_BDP	0x1c
#define APROM_SIZE	0x10

/* CSR0: Controller Status and Control Register. */
#define CSR0_ERR	0x8000
#define CSR0_BABL	0x4000
#define CSR0_CERR	0x2000
#define CSR0_MISS	0x1000
#define CSR0_MERR	0x0800
#define CSR0_RINT	0x0400
#define CSR0_TINT	0x0200
#define CSR0_IDON	0x0100
#define CSR0_INTR	0x0080
#define CSR0_IENA	0x0040	/* INEA in LANCE documents and drivers */
#define CSR0_RXON	0x0020
#define CSR0_TXON	0x0010
#define CSR0_TDMD	0x0008
#define CSR0_STOP	0x0004
#define CSR0_STRT	0x0002
#define CSR0_INIT	0x0001
#define CSR0_W1C	(CSR0_BABL | CSR0_CERR | CSR0_MISS | CSR0_MERR | \
			 CSR0_RINT | CSR0_TINT | CSR0_IDON)

/* CSR register numbers. */
#define CSR_IADR0	1	/* init block address 15:0 */
#define CSR_IADR1	2	/* 31:16; 31:24 are upper bits for SSIZE32=0 */
#define CSR_IMDC	3	/* Interrupt Masks and Deferral Control */
#define CSR_TFC		4	/* Test and Features Control */
#define CSR_ECI1	5	/* Extended Control and Interrupt 1 */
#define CSR_RXTXLEN	6	/* RLEN/TLEN as loaded from the init block */
#define CSR_LADRF0	8	/* Logical Address Filter, 4 registers */
#define CSR_PADR0	12	/* Physical Address, 3 registers */
#define CSR_MODE	15
#define CSR_IADR0_ALIAS	16
#define CSR_IADR1_ALIAS	17
#define CSR_BADRL	24	/* receive ring base */
#define CSR_BADRU	25
#define CSR_BADXL	30	/* transmit ring base */
#define CSR_BADXU	31
#define CSR_POLL	46	/* TX poll time counter */
#define CSR_POLLINT	47	/* TX polling interval */
#define CSR_SWS		58	/* alias of BCR20 */
#define CSR_RCVRC	72	/* receive ring counter */
#define CSR_XMTRC	74
#define CSR_RCVRL	76	/* receive ring length */
#define CSR_XMTRL	78
#define CSR_DMATC	80	/* DMA transfer counter and FIFO thresholds */
#define CSR_CHIPID0	88
#define CSR_CHIPID1	89
#define CSR_BUSTO	100	/* bus timeout */
#define CSR_MISSC	112	/* missed frame count */
#define CSR_RCVCC	114	/* receive collision count */
#define CSR_RCVALGN	122
#define CSR_BMUTEST	124

/* CSR3 */
#define CSR3_BABLM	0x4000
#define CSR3_MISSM	0x1000
#define CSR3_MERRM	0x0800
#define CSR3_RINTM	0x0400
#define CSR3_TINTM	0x0200
#define CSR3_IDONM	0x0100
#define CSR3_DXSUFLO	0x0040
#define CSR3_LAPPEN	0x0020
#define CSR3_DXMT2PD	0x0010
#define CSR3_EMBA	0x0008
#define CSR3_BSWP	0x0004
#define CSR3_WMASK	0x5f7c

/* CSR4 */
#define CSR4_EN124	0x8000
#define CSR4_DMAPLUS	0x4000
#define CSR4_TIMER	0x2000
#define CSR4_DPOLL	0x1000
#define CSR4_APAD_XMT	0x0800
#define CSR4_ASTRP_RCV	0x0400
#define CSR4_MFCO	0x0200
#define CSR4_MFCOM	0x0100
#define CSR4_UINTCMD	0x0080
#define CSR4_UINT	0x0040
#define CSR4_RCVCCO	0x0020
#define CSR4_RCVCCOM	0x0010
#define CSR4_TXSTRT	0x0008
#define CSR4_TXSTRTM	0x0004
#define CSR4_JAB	0x0002
#define CSR4_JABM	0x0001
#define CSR4_W1C	(CSR4_MFCO | CSR4_UINT | CSR4_RCVCCO | CSR4_TXSTRT | \
			 CSR4_JAB)

/* CSR5 */
#define CSR5_TOKINTD	0x8000
#define CSR5_LTINTEN	0x4000
#define CSR5_SINT	0x0800
#define CSR5_SINTE	0x0400
#define CSR5_SLPINT	0x0200
#define CSR5_SLPINTE	0x0100
#define CSR5_EXDINT	0x0080
#define CSR5_EXDINTE	0x0040
#define CSR5_MPPLBA	0x0020
#define CSR5_MPINT	0x0010
#define CSR5_MPINTE	0x0008
#define CSR5_MPEN	0x0004
#define CSR5_MPMODE	0x0002
#define CSR5_SPND	0x0001
#define CSR5_W1C	(CSR5_SINT | CSR5_SLPINT | CSR5_EXDINT | CSR5_MPINT)
#define CSR5_WMASK	(CSR5_TOKINTD | CSR5_LTINTEN | CSR5_SINTE | \
			 CSR5_SLPINTE | CSR5_EXDINTE | CSR5_MPPLBA | \
			 CSR5_MPINTE | CSR5_MPEN | CSR5_MPMODE | CSR5_SPND)

/* CSR15: Mode */
#define MODE_PROM	0x8000
#define MODE_DRCVBC	0x4000
#define MODE_DRCVPA	0x2000
#define MODE_DLNKTST	0x1000
#define MODE_DAPC	0x0800
#define MODE_MENDECL	0x0400
#define MODE_LRT	0x0200
#define MODE_PORTSEL	0x0180
#define MODE_INTL	0x0040
#define MODE_DRTY	0x0020
#define MODE_FCOLL	0x0010
#define MODE_DXMTFCS	0x0008
#define MODE_LOOP	0x0004
#define MODE_DTX	0x0002
#define MODE_DRX	0x0001

/* Chip ID: part number 0x2621 (Am79C970A), AMD's JEDEC code 0x003. */
#define CHIPID0_970A	0x1003
#define CHIPID1_970A	0x0262

/* BCR register numbers. */
#define BCR_MSRDA	0
#define BCR_MSWRA	1
#define BCR_MC		2	/* Miscellaneous Configuration */
#define BCR_LNKST	4	/* LED0: link status */
#define BCR_LED1	5
#define BCR_LED2	6
#define BCR_LED3	7
#define BCR_FDC		9	/* Full-Duplex Control */
#define BCR_BSBC	18	/* Burst and Bus Control */
#define BCR_EECAS	19	/* EEPROM Control and Status */
#define BCR_SWS		20	/* Software Style */
#define BCR_PCILAT	22
#define BCR_MIICAS	32	/* MII Control and Status */
#define BCR_MIIADDR	33
#define BCR_MIIMDR	34	/* MII Management Data */

#define BCR2_APROMWE	0x0100
#define BCR_LED_OUT	0x8000	/* LEDOUT, read only */
#define BCR_LED_FDLSE	0x0100
#define BCR_LED_LNKSE	0x0040
#define BCR9_FDEN	0x0001
#define BCR18_DWIO	0x0080
#define BCR19_PVALID	0x8000
#define BCR19_PREAD	0x4000
#define BCR20_APERREN	0x0400
#define BCR20_CSRPCNET	0x0200
#define BCR20_SSIZE32	0x0100
#define BCR20_SWSTYLE	0x00ff
#define BCR32_MIIPD	0x4000

/* Descriptor status (TMD1/RMD1 bits 31:16, as a 16-bit word). */
#define DESC_OWN	0x8000
#define DESC_ERR	0x4000
#define DESC_STP	0x0200
#define DESC_ENP	0x0100
#define TMD1_ADD_FCS	0x2000	/* NO_FCS in SWSTYLE 1 */
#define TMD1_LTINT	0x1000	/* MORE unless LTINTEN */
#define TMD1_ONE	0x0800
#define TMD1_DEF	0x0400
#define RMD1_FRAM	0x2000
#define RMD1_OFLO	0x1000
#define RMD1_CRC	0x0800
#define RMD1_BUFF	0x0400
#define RMD1_PAM	0x0040
#define RMD1_LAFM	0x0020
#define RMD1_BAM	0x0010
/* TMD2 */
#define TMD2_BUFF	0x80000000u
#define TMD2_UFLO	0x40000000u
#define TMD2_LCAR	0x08000000u
#define DESC_BCNT	0x0fff	/* two's complement byte count */

#define PHY_ADDR	0	/* where the external PHY answers */
#define MIN_FRAME	60	/* shortest frame on the wire, without FCS */
#define FCS_LEN		4
#define POLL_TICKS	65536	/* TX poll interval with POLLINT 0 */
#define TX_MAX_SEGS	32	/* beyond this a frame is copied */

#define TX_MAX_PENDING	512	/* the longest ring: a frame per descriptor */

/* A frame the port holds (PCNET_TX_PENDING). */
struct tx_pending {
	uint32_t seq;
	uint32_t start;		/* first descriptor */
	uint32_t count;		/* descriptors */
	uint32_t len;
	uint16_t enp_status;
	bool done;
	uint8_t result;		/* enum pcnet_tx_result once done */
};

struct pcnet {
	struct pcnet_state *st;
	uint32_t tx_batch;		/* frames per ring poll; 0: no cap */
	const struct guest_mem *mem;
	struct pcnet_ops ops;
	void *opaque;
	unsigned int depth;	/* > 0 while an entry point runs */
	bool fault;		/* a DMA of the current operation failed */
	struct pcnet_seg seg[TX_MAX_SEGS + 1];
	/* Loopback and long chains: one frame plus padding and FCS. */
	uint8_t bounce[PCNET_MAX_FRAME + FCS_LEN];
	/* Zero-copy transmit: frames the port holds, oldest at pend_head. */
	struct tx_pending pend[TX_MAX_PENDING];
	uint32_t pend_head;
	uint32_t npend;
	uint32_t tx_seq;	/* of the frame being handed out */
	/*
	 * A late acknowledge (pcnet_raise()): the TINT/RINT the last CSR0
	 * read returned, and those raised again since that read.
	 */
	uint16_t csr0_read;
	uint16_t csr0_again;
	/* TINT and RINT raises so far: a shadowed CSR0 read's token. */
	uint16_t tint_raises;
	uint16_t rint_raises;
	uint32_t rx_epoch;	/* see pcnet_rx_epoch() */

	/*
	 * Process settings (pcnet_set_tx_poll(), pcnet_set_irq_holdoff()),
	 * kept out of the state region: the driver cannot see them but by
	 * timing, and a successor process brings its own.
	 */
	uint64_t poll_min_ns;	/* fixed interval or adaptive floor; 0: chip */
	uint64_t poll_cur_ns;	/* adaptive: the interval now */
	bool poll_adaptive;
	bool poll_resched;	/* the interval shrank: pull the deadline in */
	bool irq_seen;		/* irq_last_ns holds an assertion */
	bool irq_due;		/* pcnet_timer() found irq_defer_ns due */
	uint64_t irq_holdoff_ns;
	uint64_t irq_last_ns;	/* when INTA# was last asserted */
	uint64_t irq_defer_ns;	/* a held-off assertion is due; 0: none */
	uint64_t deadline_told;	/* last deadline ops.deadline_changed saw */
	struct pcnet_tune_stats tune;
};

/*
 * Sets TINT or RINT in CSR0.  A driver acknowledges with the value it
 * read; that write may reach us late (posted, or queued by KVM), after
 * the guest already queued more descriptors that completed meanwhile, and
 * then must not clear what the guest has not seen: a cause the last CSR0
 * read returned and that was raised again since survives that one
 * acknowledge (csr0_write()).  Clearing what nobody read still works.
 */
static inline void pcnet_raise(struct pcnet *dev, uint16_t cause)
{
	dev->st->csr[0] |= cause;
	dev->csr0_again |= cause;
	if (cause & CSR0_TINT)
		dev->tint_raises++;
	if (cause & CSR0_RINT)
		dev->rint_raises++;
}

/* Decoded descriptor, independent of SWSTYLE. */
struct pcnet_desc {
	uint32_t addr;		/* buffer address */
	uint16_t status;	/* TMD1/RMD1 bits 31:16 */
	uint16_t len;		/* buffer length from BCNT */
};

/* pcnet.c: every entry point runs between these (re-entry guard, IRQ). */
bool pcnet_enter(struct pcnet *dev);
void pcnet_leave(struct pcnet *dev);

/* regs.c */
uint16_t pcnet_csr_read(struct pcnet *dev, unsigned int rap);
/* What a read would answer, without its effects (BCR34 excluded). */
uint16_t pcnet_csr_peek(const struct pcnet_state *st, unsigned int rap);
uint16_t pcnet_bcr_peek(const struct pcnet_state *st, unsigned int rap);
void pcnet_csr_write(struct pcnet *dev, unsigned int rap, uint16_t val);
uint16_t pcnet_bcr_read(struct pcnet *dev, unsigned int rap);
void pcnet_bcr_write(struct pcnet *dev, unsigned int rap, uint16_t val);
void pcnet_s_reset(struct pcnet *dev);
void pcnet_h_reset(struct pcnet *dev);
uint32_t pcnet_poll_interval_ns(const struct pcnet_state *st);
uint64_t pcnet_tx_poll_interval(const struct pcnet *dev);
void pcnet_poll_hurry(struct pcnet *dev);
void pcnet_poll_schedule(struct pcnet *dev);
uint64_t pcnet_clock(const struct pcnet *dev);

/* initblock.c */
void pcnet_init_block(struct pcnet *dev);
unsigned int pcnet_swstyle(const struct pcnet_state *st);
bool pcnet_ssize32(const struct pcnet_state *st);
uint32_t pcnet_bus_addr(const struct pcnet_state *st, uint32_t addr);

/* descriptors.c */
void pcnet_dma_fault(struct pcnet *dev);
bool pcnet_dma_read(struct pcnet *dev, uint64_t gpa, void *dst, size_t len);
bool pcnet_dma_write(struct pcnet *dev, uint64_t gpa, const void *src,
		     size_t len);
void *pcnet_dma_map(struct pcnet *dev, uint64_t gpa, size_t len);
int pcnet_desc_load(struct pcnet *dev, uint32_t base, uint32_t idx,
		    struct pcnet_desc *d);
bool pcnet_desc_probe(struct pcnet *dev, uint32_t base, uint32_t idx);
bool pcnet_tmd_store(struct pcnet *dev, uint32_t idx, uint16_t set,
		     uint16_t clear, uint32_t tmd2);
bool pcnet_rmd_store(struct pcnet *dev, uint32_t idx, uint16_t set,
		     uint16_t clear, uint16_t mcnt);

/* transmit.c */
/* Returns the frames it took from the ring (sent or ended in error). */
uint32_t pcnet_tx_poll(struct pcnet *dev);
/* STOP, INIT, resets, faults: the port's buffers are forgotten. */
void pcnet_tx_forget_pending(struct pcnet *dev, bool rewind);
void pcnet_tx_resume_fixup(struct pcnet *dev);

/* receive.c: a frame from the port or from the loopback path. */
#define RX_LOOPBACK	(1u << 0)	/* no padding, no link check */
#define RX_FCS_PRESENT	(1u << 1)	/* last 4 bytes are an FCS */
#define RX_FCS_CHECK	(1u << 2)	/* ... to be checked (CRC bit) */
enum pcnet_rx_result pcnet_rx_frame(struct pcnet *dev,
				    const struct iovec *iov,
				    unsigned int iovcnt, size_t len,
				    unsigned int flags);
bool pcnet_rx_owned(struct pcnet *dev);
void pcnet_rx_resume_fixup(struct pcnet *dev);

/* filter.c */
enum pcnet_match {
	MATCH_NONE = 0,
	MATCH_PROM,
	MATCH_PAM,
	MATCH_BAM,
	MATCH_LAFM,
};
enum pcnet_match pcnet_address_match(const struct pcnet_state *st,
				     const uint8_t dst[6]);
uint32_t pcnet_crc32(uint32_t crc, const void *buf, size_t len);

/* loopback.c */
bool pcnet_loopback(const struct pcnet_state *st);
bool pcnet_loopback_internal(const struct pcnet_state *st);
void pcnet_loopback_deliver(struct pcnet *dev, const struct pcnet_seg *seg,
			    unsigned int nseg, uint32_t len, bool fcs_by_chip);

/* interrupts.c */
void pcnet_update_irq(struct pcnet *dev);

/* mii.c */
void pcnet_mii_reset(struct pcnet_state *st);
uint16_t pcnet_mii_read(struct pcnet *dev, unsigned int phyad,
			unsigned int regad);
void pcnet_mii_write(struct pcnet *dev, unsigned int phyad,
		     unsigned int regad, uint16_t val);
void pcnet_mii_link_change(struct pcnet_state *st, bool up);

static inline uint16_t pcnet_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pcnet_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline bool pcnet_stopped(const struct pcnet_state *st)
{
	return st->csr[0] & CSR0_STOP;
}

static inline bool pcnet_suspended(const struct pcnet_state *st)
{
	return st->csr[CSR_ECI1] & CSR5_SPND;
}

/* A fault-injection point (pcnet.h, pcnet_fault_hook). */
#define PCNET_FAULT(point)						\
	do {								\
		if (pcnet_fault_hook)					\
			pcnet_fault_hook(point);			\
	} while (0)

#endif
