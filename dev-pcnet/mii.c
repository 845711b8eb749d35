// SPDX-License-Identifier: MIT
/*
 * MII management through BCR32-34: BCR33 holds PHYAD (9:5) and REGAD
 * (4:0), BCR34 reads or writes that PHY register.  One external PHY
 * answers at PHY_ADDR, with the identity of an AMD Am79C874; every other
 * address floats (0xffff), as an empty MDIO bus reads.  The PHY reports
 * the port's link, latched low in BMSR as IEEE 802.3 clause 22 says, and
 * auto-negotiation completes as soon as the link is up.
 */
#include "pcnet_hw.h"

#define MII_BMCR	0
#define MII_BMSR	1
#define MII_PHYSID1	2
#define MII_PHYSID2	3
#define MII_ADVERTISE	4
#define MII_LPA		5
#define MII_EXPANSION	6

#define BMCR_RESET	0x8000
#define BMCR_LOOPBACK	0x4000
#define BMCR_SPEED100	0x2000
#define BMCR_ANENABLE	0x1000
#define BMCR_PDOWN	0x0800
#define BMCR_ISOLATE	0x0400
#define BMCR_ANRESTART	0x0200
#define BMCR_FULLDPLX	0x0100

#define BMSR_100FULL	0x4000
#define BMSR_100HALF	0x2000
#define BMSR_10FULL	0x1000
#define BMSR_10HALF	0x0800
#define BMSR_MFPS	0x0040	/* preamble suppression */
#define BMSR_ANEGCOMPLETE 0x0020
#define BMSR_ANEGCAPABLE 0x0008
#define BMSR_LSTATUS	0x0004
#define BMSR_ERCAP	0x0001

#define PHY_ID1		0x0022	/* Am79C874 */
#define PHY_ID2		0x561b
#define ADV_DEFAULT	0x01e1	/* 100/10 full/half, 802.3 selector */
#define LPA_ACK		0x4000
#define EXP_LPANEG	0x0001

void pcnet_mii_reset(struct pcnet_state *st)
{
	for (unsigned int i = 0; i < PCNET_NR_MII; i++)
		st->mii[i] = 0;
	st->mii[MII_BMCR] = BMCR_ANENABLE | BMCR_SPEED100 | BMCR_FULLDPLX;
	st->mii[MII_ADVERTISE] = ADV_DEFAULT;
	st->mii_link_latch = 0;
}

void pcnet_mii_link_change(struct pcnet_state *st, bool up)
{
	if (!up)
		st->mii_link_latch = 1;
}

static bool phy_link(const struct pcnet_state *st)
{
	return st->link_up &&
	       !(st->mii[MII_BMCR] & (BMCR_ISOLATE | BMCR_PDOWN));
}

uint16_t pcnet_mii_read(struct pcnet *dev, unsigned int phyad,
			unsigned int regad)
{
	struct pcnet_state *st = dev->st;
	bool an = st->mii[MII_BMCR] & BMCR_ANENABLE;
	uint16_t v;

	if (phyad != PHY_ADDR)
		return 0xffff;
	switch (regad) {
	case MII_BMSR:
		v = BMSR_100FULL | BMSR_100HALF | BMSR_10FULL | BMSR_10HALF |
		    BMSR_MFPS | BMSR_ANEGCAPABLE | BMSR_ERCAP;
		/* Link status latches low until read. */
		if (phy_link(st) && !st->mii_link_latch) {
			v |= BMSR_LSTATUS;
			if (an)
				v |= BMSR_ANEGCOMPLETE;
		}
		st->mii_link_latch = 0;
		return v;
	case MII_PHYSID1:
		return PHY_ID1;
	case MII_PHYSID2:
		return PHY_ID2;
	case MII_LPA:
		return phy_link(st) && an ? LPA_ACK | ADV_DEFAULT : 0;
	case MII_EXPANSION:
		return phy_link(st) && an ? EXP_LPANEG : 0;
	default:
		return regad < PCNET_NR_MII ? st->mii[regad] : 0;
	}
}

void pcnet_mii_write(struct pcnet *dev, unsigned int phyad,
		     unsigned int regad, uint16_t val)
{
	struct pcnet_state *st = dev->st;

	if (phyad != PHY_ADDR)
		return;
	switch (regad) {
	case MII_BMCR:
		if (val & BMCR_RESET) {
			uint8_t latch = st->mii_link_latch;

			pcnet_mii_reset(st);
			st->mii_link_latch = latch;
			return;
		}
		/* Restart completes at once; both bits clear themselves. */
		st->mii[MII_BMCR] = val & ~(BMCR_RESET | BMCR_ANRESTART);
		break;
	case MII_ADVERTISE:
		st->mii[MII_ADVERTISE] = val;
		break;
	default:
		/* Status and identity are read only; the rest is not there. */
		break;
	}
}
