// SPDX-License-Identifier: MIT
/*
 * Loopback (CSR15 LOOP, INTL): with LOOP the receiver takes the frames
 * the transmitter sends and nothing from the network.  INTL keeps them
 * inside the chip; without INTL they also go out on the port (external
 * loopback: the transceiver reflects them).
 *
 * When the chip generates the FCS the receiver gets it appended; when the
 * driver supplies it (DXMTFCS, no ADD_FCS) the last four bytes are the
 * FCS and the receiver checks them, setting CRC on a mismatch: the
 * datasheet's way to test the FCS logic.  The frame is gathered in a
 * bounce buffer sized for the longest frame plus its FCS, so appending
 * can never run past it (QEMU CVE-2015-7504).
 */
#include <string.h>

#include "pcnet_hw.h"

bool pcnet_loopback(const struct pcnet_state *st)
{
	return st->csr[CSR_MODE] & MODE_LOOP;
}

bool pcnet_loopback_internal(const struct pcnet_state *st)
{
	return (st->csr[CSR_MODE] & (MODE_LOOP | MODE_INTL)) ==
	       (MODE_LOOP | MODE_INTL);
}

void pcnet_loopback_deliver(struct pcnet *dev, const struct pcnet_seg *seg,
			    unsigned int nseg, uint32_t len, bool fcs_by_chip)
{
	unsigned int flags = RX_LOOPBACK | RX_FCS_PRESENT;
	struct iovec iov;
	uint32_t off = 0;

	if (len > PCNET_MAX_FRAME)
		return;
	/* A bounced frame is already in place. */
	if (!(nseg == 1 && seg[0].host == dev->bounce)) {
		for (unsigned int i = 0; i < nseg; i++) {
			if (seg[i].len > len - off)
				return;
			memmove(dev->bounce + off, seg[i].host, seg[i].len);
			off += seg[i].len;
		}
	}
	if (fcs_by_chip) {
		uint32_t fcs = ~pcnet_crc32(0xffffffffu, dev->bounce, len);

		for (unsigned int i = 0; i < FCS_LEN; i++)
			dev->bounce[len + i] = (uint8_t)(fcs >> (8 * i));
		len += FCS_LEN;
	} else {
		flags |= RX_FCS_CHECK;
	}
	iov = (struct iovec){ .iov_base = dev->bounce, .iov_len = len };
	pcnet_rx_frame(dev, &iov, 1, len, flags);
}
