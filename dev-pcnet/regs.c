// SPDX-License-Identifier: MIT
/*
 * Registers: the I/O map in its two layouts (WIO, DWIO), RAP/RDP/BDP,
 * APROM, the CSRs and BCRs with their reset values and access rules, and
 * the CSR0 commands INIT, STRT, STOP and TDMD.
 */
#include <string.h>

#include "pcnet_hw.h"

/* Time base of CSR46/47: the chip counts its 33 MHz clock. */
#define CLK_MHZ		33

/*
 * CSRs with storage.  Registers not listed read as zero and ignore writes
 * (the datasheet leaves them undefined or reserved).
 */
static bool csr_implemented(unsigned int rap)
{
	switch (rap) {
	case 0 ... 6:
	case 8 ... 47:
	case 58:
	case 60 ... 67:
	case 72: case 74: case 76: case 78:
	case 80: case 82: case 84 ... 86:
	case 88: case 89:
	case 94: case 100: case 112: case 114: case 122: case 124:
		return true;
	default:
		return false;
	}
}

static bool bcr_implemented(unsigned int rap)
{
	switch (rap) {
	case BCR_MSRDA: case BCR_MSWRA: case BCR_MC:
	case BCR_LNKST: case BCR_LED1: case BCR_LED2: case BCR_LED3:
	case BCR_FDC: case BCR_BSBC: case BCR_EECAS: case BCR_SWS:
	case BCR_PCILAT: case BCR_MIICAS: case BCR_MIIADDR: case BCR_MIIMDR:
		return true;
	default:
		return false;
	}
}

uint32_t pcnet_poll_interval_ns(const struct pcnet_state *st)
{
	/* POLLINT counts down from its value; 0 means the full 65536. */
	uint32_t ticks = POLL_TICKS - st->csr[CSR_POLLINT];

	if (!st->csr[CSR_POLLINT])
		ticks = POLL_TICKS;
	return ticks * 1000u / CLK_MHZ;
}

uint64_t pcnet_clock(const struct pcnet *dev)
{
	return dev->ops.now_ns ? dev->ops.now_ns(dev->opaque) : 0;
}

/*
 * The interval the ring poll runs at: the chip's, or the process's
 * --tx-poll setting (pcnet_set_tx_poll()).  Adaptive never goes past the
 * chip's interval: an idle guest costs no more wake-ups than the chip.
 */
uint64_t pcnet_tx_poll_interval(const struct pcnet *dev)
{
	uint64_t chip = pcnet_poll_interval_ns(dev->st);

	if (!dev->poll_min_ns)
		return chip;
	if (!dev->poll_adaptive)
		return dev->poll_min_ns;
	if (dev->poll_min_ns >= chip)
		return chip;
	if (dev->poll_cur_ns < dev->poll_min_ns)
		return dev->poll_min_ns;
	return dev->poll_cur_ns < chip ? dev->poll_cur_ns : chip;
}

/* Adaptive: the guest is sending (TDMD, frames found): poll fast again. */
void pcnet_poll_hurry(struct pcnet *dev)
{
	if (!dev->poll_adaptive || dev->poll_cur_ns <= dev->poll_min_ns)
		return;
	dev->poll_cur_ns = dev->poll_min_ns;
	dev->poll_resched = true;
}

/*
 * TXDPOLL: the ring is polled while transmitting and not disabled, under
 * every --tx-poll mode.
 */
void pcnet_poll_schedule(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	bool active = (st->csr[0] & CSR0_TXON) && !pcnet_stopped(st) &&
		      !pcnet_suspended(st) && !(st->csr[CSR_TFC] & CSR4_DPOLL);
	uint64_t when;

	if (!active) {
		st->next_poll_ns = 0;
		dev->poll_resched = false;
		return;
	}
	if (st->next_poll_ns && !dev->poll_resched)
		return;
	dev->poll_resched = false;
	when = pcnet_clock(dev) + pcnet_tx_poll_interval(dev);
	if (!when)
		when = 1;
	/* A shorter interval only moves a scheduled poll earlier. */
	if (!st->next_poll_ns || when < st->next_poll_ns)
		st->next_poll_ns = when;
}

/* Ring counters: two's complement, the datasheet's CSR72-78 encoding. */
static uint16_t ring_len_view(uint32_t len)
{
	return (uint16_t)-len;
}

static uint16_t ring_counter_view(uint32_t len, uint32_t idx)
{
	return len ? (uint16_t)-(len - idx) : 0;
}

static uint32_t ring_counter_set(uint32_t len, uint16_t val)
{
	uint32_t left = (uint16_t)-val;

	return len ? (len - left % len) % len : 0;
}

static void stop(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;

	/* DMA ceases: what the port holds is forgotten (see pcnet.h). */
	pcnet_tx_forget_pending(dev, true);
	dev->rx_epoch++;
	/* Setting STOP clears every other CSR0 bit, IENA included. */
	st->csr[0] = CSR0_STOP;
	dev->csr0_read = dev->csr0_again = 0;
	st->csr[CSR_TFC] &= ~(CSR4_W1C | CSR4_UINTCMD);
	st->csr[CSR_ECI1] &= ~(CSR5_W1C | CSR5_SPND);
	st->next_poll_ns = 0;
}

static void start(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint16_t mode = st->csr[CSR_MODE];

	st->csr[0] &= ~CSR0_STOP;
	st->csr[0] |= CSR0_STRT;
	if (!(mode & MODE_DTX))
		st->csr[0] |= CSR0_TXON;
	if (!(mode & MODE_DRX))
		st->csr[0] |= CSR0_RXON;
}

static void csr0_write(struct pcnet *dev, uint16_t val)
{
	struct pcnet_state *st = dev->st;
	uint16_t old = st->csr[0];
	/* Read, and raised again since: the guest has not seen it yet. */
	uint16_t keep = dev->csr0_read & dev->csr0_again;

	st->csr[0] &= ~(val & CSR0_W1C & ~keep);
	dev->csr0_read &= (uint16_t)~val;
	dev->csr0_again &= (uint16_t)~val;
	st->csr[0] = (st->csr[0] & ~CSR0_IENA) | (val & CSR0_IENA);

	/* STOP, STRT and INIT set together: STOP overrides the other two. */
	if ((val & (CSR0_STOP | CSR0_STRT | CSR0_INIT)) ==
	    (CSR0_STOP | CSR0_STRT | CSR0_INIT))
		val &= ~(CSR0_STRT | CSR0_INIT);
	if (val & CSR0_STOP) {
		stop(dev);
		old = st->csr[0];
	}
	if ((val & CSR0_INIT) && !(old & CSR0_INIT))
		pcnet_init_block(dev);
	/* An init block the chip could not read leaves nothing to start. */
	if ((val & CSR0_STRT) && !(old & CSR0_STRT) && !dev->fault)
		start(dev);
	if ((val & CSR0_TDMD) && (st->csr[0] & CSR0_TXON)) {
		st->csr[0] |= CSR0_TDMD;
		pcnet_poll_hurry(dev);
		pcnet_tx_poll(dev);
	}
}

static uint16_t csr0_status(const struct pcnet_state *st)
{
	uint16_t v = st->csr[0] & ~CSR0_ERR;

	if (v & (CSR0_BABL | CSR0_CERR | CSR0_MISS | CSR0_MERR))
		v |= CSR0_ERR;
	return v;
}

uint16_t pcnet_csr_read(struct pcnet *dev, unsigned int rap)
{
	if (rap == 0) {
		pcnet_update_irq(dev);
		dev->csr0_read = dev->st->csr[0] & (CSR0_TINT | CSR0_RINT);
		dev->csr0_again = 0;
	}
	return pcnet_csr_peek(dev->st, rap);
}

uint16_t pcnet_csr_peek(const struct pcnet_state *st, unsigned int rap)
{
	switch (rap) {
	case 0:
		return csr0_status(st);
	case CSR_IADR0_ALIAS:
		return st->csr[CSR_IADR0];
	case CSR_IADR1_ALIAS:
		return st->csr[CSR_IADR1];
	case CSR_BADRL:
		return (uint16_t)st->rdra;
	case CSR_BADRU:
		return (uint16_t)(st->rdra >> 16);
	case CSR_BADXL:
		return (uint16_t)st->tdra;
	case CSR_BADXU:
		return (uint16_t)(st->tdra >> 16);
	case CSR_SWS:
		return st->bcr[BCR_SWS];
	case CSR_RCVRC:
		return ring_counter_view(st->rx_len, st->rx_idx);
	case CSR_XMTRC:
		return ring_counter_view(st->tx_len, st->tx_idx);
	case CSR_RCVRL:
		return ring_len_view(st->rx_len);
	case CSR_XMTRL:
		return ring_len_view(st->tx_len);
	case CSR_CHIPID0:
		return CHIPID0_970A;
	case CSR_CHIPID1:
		return CHIPID1_970A;
	default:
		return csr_implemented(rap) ? st->csr[rap] : 0;
	}
}

static void csr4_write(struct pcnet_state *st, uint16_t val)
{
	uint16_t v = st->csr[CSR_TFC];

	v = (v & CSR4_W1C & ~val) | (val & ~(CSR4_W1C | CSR4_UINTCMD));
	/* UINTCMD raises UINT at once; the command bit does not stick. */
	if (val & CSR4_UINTCMD)
		v |= CSR4_UINT;
	st->csr[CSR_TFC] = v;
}

static void csr5_write(struct pcnet_state *st, uint16_t val)
{
	uint16_t v = st->csr[CSR_ECI1];

	st->csr[CSR_ECI1] = (v & CSR5_W1C & ~val) | (val & CSR5_WMASK);
}

void pcnet_csr_write(struct pcnet *dev, unsigned int rap, uint16_t val)
{
	struct pcnet_state *st = dev->st;

	switch (rap) {
	case 0:
		csr0_write(dev, val);
		return;
	case CSR_IMDC:
		st->csr[CSR_IMDC] = val & CSR3_WMASK;
		return;
	case CSR_TFC:
		csr4_write(st, val);
		return;
	case CSR_ECI1:
		csr5_write(st, val);
		if (st->csr[CSR_ECI1] & CSR5_SPND)
			dev->rx_epoch++;
		return;
	case CSR_RXTXLEN:
	case CSR_CHIPID0:
	case CSR_CHIPID1:
		return;
	}
	if (!csr_implemented(rap))
		return;
	/* The rest is writable only while the chip is stopped or suspended. */
	if (!pcnet_stopped(st) && !pcnet_suspended(st))
		return;

	switch (rap) {
	case CSR_IADR0_ALIAS:
		st->csr[CSR_IADR0] = val;
		break;
	case CSR_IADR1_ALIAS:
		st->csr[CSR_IADR1] = val;
		break;
	case CSR_BADRL:
		st->rdra = (st->rdra & 0xffff0000u) | val;
		break;
	case CSR_BADRU:
		st->rdra = (st->rdra & 0xffffu) | (uint32_t)val << 16;
		break;
	case CSR_BADXL:
		st->tdra = (st->tdra & 0xffff0000u) | val;
		break;
	case CSR_BADXU:
		st->tdra = (st->tdra & 0xffffu) | (uint32_t)val << 16;
		break;
	case CSR_SWS:
		pcnet_bcr_write(dev, BCR_SWS, val);
		break;
	case CSR_RCVRC:
		st->rx_idx = ring_counter_set(st->rx_len, val);
		break;
	case CSR_XMTRC:
		st->tx_idx = ring_counter_set(st->tx_len, val);
		break;
	case CSR_RCVRL:
		/* A length of 0 means no ring: nothing is ever owned. */
		st->rx_len = (uint16_t)-val;
		if (st->rx_idx >= st->rx_len)
			st->rx_idx = 0;
		break;
	case CSR_XMTRL:
		st->tx_len = (uint16_t)-val;
		if (st->tx_idx >= st->tx_len)
			st->tx_idx = 0;
		break;
	default:
		st->csr[rap] = val;
		break;
	}
}

/* LEDOUT: any enabled status that is true. */
static uint16_t led_read(const struct pcnet_state *st, unsigned int rap)
{
	uint16_t v = st->bcr[rap] & ~BCR_LED_OUT;
	bool fd = st->link_up && (st->bcr[BCR_FDC] & BCR9_FDEN);

	if (((v & BCR_LED_LNKSE) && st->link_up) ||
	    ((v & BCR_LED_FDLSE) && fd))
		v |= BCR_LED_OUT;
	return v;
}

uint16_t pcnet_bcr_read(struct pcnet *dev, unsigned int rap)
{
	struct pcnet_state *st = dev->st;

	if (rap == BCR_MIIMDR)
		return pcnet_mii_read(dev, st->bcr[BCR_MIIADDR] >> 5 & 0x1f,
				      st->bcr[BCR_MIIADDR] & 0x1f);
	return pcnet_bcr_peek(st, rap);
}

uint16_t pcnet_bcr_peek(const struct pcnet_state *st, unsigned int rap)
{
	switch (rap) {
	case BCR_LNKST:
	case BCR_LED1:
	case BCR_LED2:
	case BCR_LED3:
		return led_read(st, rap);
	case BCR_MIIMDR:
		return 0;	/* the PHY's: only a real read tells */
	default:
		return bcr_implemented(rap) ? st->bcr[rap] : 0;
	}
}

static void swstyle_write(struct pcnet_state *st, uint16_t val)
{
	uint16_t style = val & BCR20_SWSTYLE;
	uint16_t v;

	/* Reserved styles leave the current one in place. */
	if (style > 3)
		style = st->bcr[BCR_SWS] & BCR20_SWSTYLE;
	v = style | (val & BCR20_APERREN);
	switch (style) {
	case 0:
		v |= BCR20_CSRPCNET;
		break;
	case 1:
		v |= BCR20_SSIZE32;
		break;
	default:
		v |= BCR20_SSIZE32 | BCR20_CSRPCNET;
		break;
	}
	st->bcr[BCR_SWS] = v;
}

static void aprom_to_padr(struct pcnet_state *st)
{
	for (unsigned int i = 0; i < 3; i++)
		st->csr[CSR_PADR0 + i] = pcnet_le16(&st->aprom[2 * i]);
}

void pcnet_bcr_write(struct pcnet *dev, unsigned int rap, uint16_t val)
{
	struct pcnet_state *st = dev->st;

	switch (rap) {
	case BCR_MC:
	case BCR_PCILAT:
		st->bcr[rap] = val;
		break;
	case BCR_LNKST:
	case BCR_LED1:
	case BCR_LED2:
	case BCR_LED3:
		st->bcr[rap] = val & ~BCR_LED_OUT;
		break;
	case BCR_FDC:
		st->bcr[rap] = val & 0x0007;
		break;
	case BCR_BSBC:
		/* DWIO is set by the access pattern only. */
		st->bcr[rap] = (val & ~BCR18_DWIO) |
			       (st->bcr[rap] & BCR18_DWIO);
		break;
	case BCR_EECAS:
		/* PREAD: reload from the (emulated) EEPROM, then clear. */
		if (val & BCR19_PREAD)
			aprom_to_padr(st);
		st->bcr[rap] = (val & ~(BCR19_PVALID | BCR19_PREAD)) |
			       (st->bcr[rap] & BCR19_PVALID);
		break;
	case BCR_SWS:
		if (pcnet_stopped(st) || pcnet_suspended(st))
			swstyle_write(st, val);
		break;
	case BCR_MIICAS:
		st->bcr[rap] = (val & ~BCR32_MIIPD) | BCR32_MIIPD;
		break;
	case BCR_MIIADDR:
		st->bcr[rap] = val & 0x03ff;
		break;
	case BCR_MIIMDR:
		pcnet_mii_write(dev, st->bcr[BCR_MIIADDR] >> 5 & 0x1f,
				st->bcr[BCR_MIIADDR] & 0x1f, val);
		break;
	default:
		/* BCR0/1 are read only; the rest is not decoded. */
		break;
	}
}

void pcnet_s_reset(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;
	uint16_t portsel = st->csr[CSR_MODE] & MODE_PORTSEL;

	pcnet_tx_forget_pending(dev, true);
	dev->rx_epoch++;
	dev->csr0_read = dev->csr0_again = 0;
	st->rap = 0;
	st->csr[0] = CSR0_STOP;
	st->csr[CSR_IMDC] = 0;
	st->csr[CSR_TFC] = CSR4_MFCOM | CSR4_RCVCCOM | CSR4_TXSTRTM |
			   CSR4_JABM;
	st->csr[CSR_ECI1] = 0;
	st->csr[CSR_MODE] = portsel;
	st->csr[CSR_DMATC] = 0x1410;
	st->csr[CSR_BUSTO] = 0x0200;
	st->csr[CSR_MISSC] = 0;
	st->csr[CSR_RCVCC] = 0;
	st->csr[CSR_RCVALGN] = 0;
	st->csr[CSR_BMUTEST] = 0;
	st->next_poll_ns = 0;
}

static void aprom_build(struct pcnet_state *st)
{
	uint16_t sum = 0;

	memcpy(st->aprom, st->mac, 6);
	memset(st->aprom + 6, 0, 10);
	st->aprom[9] = 0x11;		/* hardware ID: PCI */
	st->aprom[14] = 'W';		/* AMD driver signature */
	st->aprom[15] = 'W';
	/* Checksum over bytes 0-11 and 14-15, stored at 12-13. */
	for (unsigned int i = 0; i < 16; i++)
		sum += st->aprom[i];
	st->aprom[12] = (uint8_t)sum;
	st->aprom[13] = (uint8_t)(sum >> 8);
}

void pcnet_h_reset(struct pcnet *dev)
{
	struct pcnet_state *st = dev->st;

	memset(st->csr, 0, sizeof(st->csr));
	memset(st->bcr, 0, sizeof(st->bcr));
	st->bcr[BCR_MSRDA] = 0x0005;
	st->bcr[BCR_MSWRA] = 0x0005;
	st->bcr[BCR_MC] = 0x0002;
	st->bcr[BCR_LNKST] = 0x00c0;
	st->bcr[BCR_LED1] = 0x0084;
	st->bcr[BCR_LED2] = 0x0088;
	st->bcr[BCR_LED3] = 0x0090;
	st->bcr[BCR_BSBC] = 0x9001;
	st->bcr[BCR_EECAS] = 0x0002;
	st->bcr[BCR_SWS] = BCR20_CSRPCNET;
	st->bcr[BCR_PCILAT] = 0xff06;
	st->bcr[BCR_MIICAS] = BCR32_MIIPD;
	aprom_build(st);
	aprom_to_padr(st);
	pcnet_mii_reset(st);
	st->rdra = st->tdra = 0;
	st->rx_len = st->tx_len = 0;
	st->rx_idx = st->tx_idx = 0;
	st->tx_inflight_count = st->rx_inflight_count = 0;
	st->pci_master_abort = 0;
	pcnet_s_reset(dev);
}
