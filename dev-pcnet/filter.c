// SPDX-License-Identifier: MIT
/*
 * Receive address filter: physical address (PADR, CSR12-14) unless
 * DRCVPA, broadcast unless DRCVBC, logical address filter for multicast
 * (LADRF, CSR8-11: CRC-32 of the destination, top 6 bits index the 64
 * filter bits), or everything with PROM.  Also the CRC-32 used for the
 * hash and for the FCS.
 */
#include <string.h>

#include "pcnet_hw.h"

#define CRC32_POLY	0xedb88320u	/* IEEE 802.3, bit-reversed */

static uint32_t crc_table[256];

__attribute__((constructor)) static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32_POLY : c >> 1;
		crc_table[i] = c;
	}
}

/* Reflected CRC-32 without pre- or post-inversion (callers do that). */
uint32_t pcnet_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--)
		crc = (crc >> 8) ^ crc_table[(crc ^ *p++) & 0xff];
	return crc;
}

static bool ladrf_hit(const struct pcnet_state *st, const uint8_t dst[6])
{
	unsigned int bit = pcnet_crc32(0xffffffffu, dst, 6) >> 26;

	return st->csr[CSR_LADRF0 + bit / 16] & (1u << (bit % 16));
}

enum pcnet_match pcnet_address_match(const struct pcnet_state *st,
				     const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t mode = st->csr[CSR_MODE];
	uint8_t padr[6];

	if (mode & MODE_PROM)
		return MATCH_PROM;
	for (unsigned int i = 0; i < 3; i++) {
		padr[2 * i] = (uint8_t)st->csr[CSR_PADR0 + i];
		padr[2 * i + 1] = (uint8_t)(st->csr[CSR_PADR0 + i] >> 8);
	}
	if (!(mode & MODE_DRCVPA) && !memcmp(dst, padr, 6))
		return MATCH_PAM;
	/*
	 * A broadcast is accepted as such (BAM) unless DRCVBC; only then may
	 * the logical filter take it (LAFM), as the datasheet notes.
	 */
	if (!memcmp(dst, bcast, 6) && !(mode & MODE_DRCVBC))
		return MATCH_BAM;
	if ((dst[0] & 1) && ladrf_hit(st, dst))
		return MATCH_LAFM;
	return MATCH_NONE;
}
