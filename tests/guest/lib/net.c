// SPDX-License-Identifier: MIT
/*
 * The PCnet driver in the Linux pcnet32 pattern and a minimal IPv4 stack
 * (see net.h).  Runs at CPL3 like the rest of the guest; descriptors and
 * buffers live in the PCnet DMA area (pcn_dma_alloc).
 */
#include "apic.h"
#include "net.h"

#define LOG_TX		4		/* pcnet32: 16 TX, 32 RX descriptors */
#define LOG_TX_MAX	9		/* net_set_tx_ring() */
#define LOG_RX		5
#define TX_MAX		(1u << LOG_TX_MAX)
#define RX_SIZE		(1u << LOG_RX)
#define BUF_SIZE	1544		/* PKT_BUF_SKB */
/* Bytes after each RX buffer the chip must never write: BCNT says
 * BUF_SIZE, so any change there is the device overrunning the buffer. */
#define RX_GUARD	64
#define VECTOR		0x49
#define ARP_RETRY_MS	200

struct drv {
	volatile struct pcn_init_block *ib;
	volatile struct pcn_desc *rx, *tx;
	uint8_t *rxbuf[RX_SIZE], *txbuf[TX_MAX];
	unsigned int tx_log;		/* 2^tx_log TX descriptors */
	unsigned int cur_rx, cur_tx, dirty_tx;
	uint64_t irq_seen;
};

static struct drv the_drv;
static unsigned int tx_log = LOG_TX;

static unsigned int tx_size(const struct drv *d)
{
	return 1u << d->tx_log;
}

void net_set_tx_ring(unsigned int log)
{
	if (log < LOG_TX || log > LOG_TX_MAX)
		fail(EXIT_USAGE, "TX ring of 2^%u descriptors: %u to %u only",
		     log, LOG_TX, LOG_TX_MAX);
	tx_log = log;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* The Internet checksum (RFC 1071) of @len bytes, folded, not inverted. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

bool net_parse_ip(const char *s, uint32_t *ip)
{
	uint32_t v = 0;

	for (int k = 0; k < 4; k++) {
		uint32_t part = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			part = part * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (!digits || part > 255)
			return false;
		v = v << 8 | part;
		if (k < 3 && *s++ != '.')
			return false;
	}
	if (*s && *s != ' ')
		return false;
	*ip = v;
	return true;
}

/* ------------------------------------------------------------ driver */

/* Differs per buffer and per byte, so a stray copy of another buffer's
 * guard does not pass for this one's. */
static uint8_t guard_byte(unsigned int buf, unsigned int k)
{
	return (uint8_t)(0xa5 ^ (buf * 29) ^ (k * 7));
}

static void check_guard(struct net *n, unsigned int i)
{
	const struct drv *d = n->priv;
	const uint8_t *g = d->rxbuf[i] + BUF_SIZE;

	for (unsigned int k = 0; k < RX_GUARD; k++)
		if (g[k] != guard_byte(i, k))
			fail(EXIT_FAIL,
			     "the device wrote past RX buffer %u (guard byte %u is 0x%02x, want 0x%02x)",
			     i, k, g[k], guard_byte(i, k));
	n->st.rx_guard_checks++;
}

static void give_rx(struct drv *d, unsigned int i)
{
	uint8_t *g = d->rxbuf[i] + BUF_SIZE;

	for (unsigned int k = 0; k < RX_GUARD; k++)
		g[k] = guard_byte(i, k);
	d->rx[i].base = pcn_bus(d->rxbuf[i]);
	d->rx[i].length = (uint16_t)-BUF_SIZE;
	d->rx[i].misc = 0;
	pcn_wmb();
	d->rx[i].status = D_OWN;
}

void net_open(struct net *n, uint32_t ip, uint32_t peer_ip)
{
	struct drv *d = &the_drv;
	struct pcn *p = &n->p;
	uint16_t csr0 = 0;

	memset(n, 0, sizeof(*n));
	memset(d, 0, sizeof(*d));
	n->priv = d;
	n->ip = ip;
	n->peer_ip = peer_ip;
	pcn_find(p);
	d->ib = pcn_dma_alloc(p, sizeof(*d->ib), 16);
	d->rx = pcn_dma_alloc(p, RX_SIZE * sizeof(*d->rx), 16);
	d->tx_log = tx_log;
	d->tx = pcn_dma_alloc(p, tx_size(d) * sizeof(*d->tx), 16);
	for (unsigned int i = 0; i < RX_SIZE; i++)
		d->rxbuf[i] = pcn_dma_alloc(p, BUF_SIZE + RX_GUARD, 16);
	for (unsigned int i = 0; i < tx_size(d); i++)
		d->txbuf[i] = pcn_dma_alloc(p, BUF_SIZE, 16);
	pcn_route_irq(p, VECTOR);

	/* pcnet32_probe1() and pcnet32_open(), shortened. */
	pcn_reset(p);
	pcn_bcr_wr(p, 20, 2);		/* SWSTYLE 2: 32-bit structures */
	for (unsigned int i = 0; i < 3; i++) {
		uint16_t v = pcn_csr_rd(p, 12 + i);

		p->mac[2 * i] = v & 0xff;
		p->mac[2 * i + 1] = v >> 8;
	}
	for (unsigned int i = 0; i < RX_SIZE; i++)
		give_rx(d, i);
	d->ib->mode = 0;
	d->ib->tlen_rlen = (uint16_t)(d->tx_log << 12 | LOG_RX << 4);
	memcpy((void *)d->ib->phys_addr, p->mac, 6);
	d->ib->filter[0] = d->ib->filter[1] = 0;
	d->ib->rx_ring = pcn_bus((const void *)d->rx);
	d->ib->tx_ring = pcn_bus((const void *)d->tx);
	pcn_wmb();
	pcn_csr_wr(p, 1, pcn_bus((const void *)d->ib) & 0xffff);
	pcn_csr_wr(p, 2, pcn_bus((const void *)d->ib) >> 16);
	pcn_csr_wr(p, 4, 0x0915);
	pcn_csr_wr(p, 0, C0_INIT);
	for (unsigned int i = 0; i < 10000 && !(csr0 & C0_IDON); i++)
		csr0 = pcn_csr_rd(p, 0);
	if (!(csr0 & C0_IDON))
		fail(EXIT_FAIL, "no IDON after INIT (CSR0 0x%04x)", csr0);
	d->irq_seen = irq_count_of(VECTOR);
	pcn_csr_wr(p, 0, C0_IDON | C0_STRT | C0_IENA);
	printf("%s: %02x:%02x:%02x:%02x:%02x:%02x ip %u.%u.%u.%u peer %u.%u.%u.%u\n",
	       test_name, p->mac[0], p->mac[1], p->mac[2], p->mac[3],
	       p->mac[4], p->mac[5], ip >> 24, (ip >> 16) & 0xff,
	       (ip >> 8) & 0xff, ip & 0xff, peer_ip >> 24,
	       (peer_ip >> 16) & 0xff, (peer_ip >> 8) & 0xff, peer_ip & 0xff);
}

void net_close(struct net *n)
{
	pcn_csr_wr(&n->p, 0, C0_STOP);
	irq_mask(&n->p.route);
}

void net_group_mac(uint32_t g, uint8_t mac[6])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (g >> 16) & 0x7f;
	mac[4] = (g >> 8) & 0xff;
	mac[5] = g & 0xff;
}

unsigned int net_ladrf_bit(const uint8_t mac[6])
{
	uint32_t crc = 0xffffffffu;	/* ether_crc_le(): no final inversion */

	for (unsigned int i = 0; i < 6; i++) {
		crc ^= mac[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return crc >> 26;
}

#define C5_SPND		0x0001

void net_set_groups(struct net *n, const uint32_t *groups, unsigned int count)
{
	struct pcn *p = &n->p;
	uint16_t ladrf[4] = { 0 }, csr5;
	uint8_t mac[6];
	bool suspended = false;

	if (count > NET_MAX_GROUPS)
		fail(EXIT_USAGE, "at most %u groups", NET_MAX_GROUPS);
	for (unsigned int i = 0; i < count; i++) {
		unsigned int bit;

		net_group_mac(groups[i], mac);
		bit = net_ladrf_bit(mac);
		ladrf[bit >> 4] |= (uint16_t)(1u << (bit & 15));
		n->groups[i] = groups[i];
	}
	n->ngroups = count;
	/* pcnet32_suspend(): SPND, then wait for the chip to confirm it. */
	csr5 = pcn_csr_rd(p, 5);
	pcn_csr_wr(p, 5, csr5 | C5_SPND);
	for (unsigned int i = 0; i < 100; i++) {
		if (pcn_csr_rd(p, 5) & C5_SPND) {
			suspended = true;
			break;
		}
		udelay(10);
	}
	if (!suspended)
		fail(EXIT_FAIL, "the chip did not enter suspend (CSR5 0x%04x)",
		     pcn_csr_rd(p, 5));
	/* pcnet32_load_multicast(): CSR8-11, 16 filter bits each. */
	for (unsigned int i = 0; i < 4; i++)
		pcn_csr_wr(p, 8 + i, ladrf[i]);
	for (unsigned int i = 0; i < 4; i++)
		pcn_check(p, "LADRF word", pcn_csr_rd(p, 8 + i), ladrf[i]);
	csr5 = pcn_csr_rd(p, 5);
	pcn_csr_wr(p, 5, csr5 & ~C5_SPND);
}

static bool joined(const struct net *n, uint32_t dst)
{
	for (unsigned int i = 0; i < n->ngroups; i++)
		if (n->groups[i] == dst)
			return true;
	return false;
}

/*
 * Queues one frame of @alen bytes at @a, followed by @blen bytes at @b if
 * @b is not NULL: then as a two-descriptor chain (STP with @a, ENP with
 * @b).  The chip may start on a chain as soon as it owns the STP
 * descriptor, so that one's OWN is set last (datasheet, "Transmit
 * Descriptor Table Entry"), as pcnet32 does with fragments.
 */
static bool send_chain(struct net *n, const uint8_t *a, uint32_t alen,
		       const uint8_t *b, uint32_t blen, unsigned int flags)
{
	struct drv *d = n->priv;
	unsigned int need = b ? 2 : 1;
	unsigned int s0 = d->cur_tx % tx_size(d);
	unsigned int s1 = (d->cur_tx + 1) % tx_size(d);
	volatile struct pcn_desc *t0 = &d->tx[s0], *t1 = &d->tx[s1];

	if (d->cur_tx - d->dirty_tx > tx_size(d) - need) {
		n->st.tx_ring_full++;
		return false;
	}
	memcpy(d->txbuf[s0], a, alen);
	t0->base = pcn_bus(d->txbuf[s0]);
	t0->length = (uint16_t)-alen;
	t0->misc = 0;
	if (b) {
		memcpy(d->txbuf[s1], b, blen);
		t1->base = pcn_bus(d->txbuf[s1]);
		t1->length = (uint16_t)-blen;
		t1->misc = 0;
		pcn_wmb();
		t1->status = D_OWN | D_ENP;
		pcn_wmb();
		t0->status = D_OWN | D_STP;
		n->st.tx_chains++;
	} else {
		pcn_wmb();
		t0->status = D_OWN | D_STP | D_ENP |
			     (flags & NET_TX_LTINT ? T_LTINT : 0);
	}
	pcn_wmb();
	d->cur_tx += need;
	n->st.tx_frames++;
	n->st.tx_bytes += alen + blen;
	/* pcnet32_start_xmit(): CSR0 = IENA | TDMD. */
	if (!(flags & NET_TX_NOKICK))
		net_tx_kick(n);
	return true;
}

static bool send_frame(struct net *n, const uint8_t *frame, uint32_t len)
{
	return send_chain(n, frame, len, NULL, 0, 0);
}

void net_tx_kick(struct net *n)
{
	pcn_csr_wr(&n->p, 0, C0_IENA | C0_TDMD);
}

bool net_tx_frame(struct net *n, const uint8_t *frame, uint32_t len,
		  unsigned int flags)
{
	if (len < ETH_HLEN || len > NET_MAX_FRAME)
		return false;
	return send_chain(n, frame, len, NULL, 0, flags);
}

/* pcnet32_tx(): descriptors the chip handed back, read from memory only. */
unsigned int net_tx_reclaim(struct net *n)
{
	struct drv *d = n->priv;

	while (d->dirty_tx != d->cur_tx &&
	       !(d->tx[d->dirty_tx % tx_size(d)].status & D_OWN))
		d->dirty_tx++;
	return d->cur_tx - d->dirty_tx;
}

unsigned int net_tx_ring_size(const struct net *n)
{
	const struct drv *d = n->priv;

	return tx_size(d);
}

void net_tx_ltint(struct net *n)
{
	uint16_t csr5 = pcn_csr_rd(&n->p, 5);

	/* CSR5 TOKINTD | LTINTEN (datasheet bits 15, 14). */
	pcn_csr_wr(&n->p, 5, (uint16_t)(csr5 | 0xc000));
}

static void input(struct net *n, const uint8_t *f, uint32_t len);

/* The RX ring and TX completions: pcnet32_rx() and pcnet32_tx(). */
static unsigned int service(struct net *n)
{
	struct drv *d = n->priv;
	unsigned int got = 0;

	net_tx_reclaim(n);
	for (unsigned int k = 0; k < RX_SIZE; k++) {
		volatile struct pcn_desc *r = &d->rx[d->cur_rx];
		uint16_t st = r->status;

		if (st & D_OWN)
			break;
		check_guard(n, d->cur_rx);
		if ((st & (D_ERR | D_STP | D_ENP)) == (D_STP | D_ENP)) {
			uint32_t mcnt = r->misc & 0xfff;

			if (mcnt >= ETH_HLEN + 4 && mcnt <= BUF_SIZE) {
				n->st.rx_frames++;
				n->st.rx_bytes += mcnt - 4;
				if (n->frame_hook)
					n->frame_hook(n, d->rxbuf[d->cur_rx],
						      mcnt - 4);
				input(n, d->rxbuf[d->cur_rx], mcnt - 4);
				got++;
			} else {
				n->st.rx_dropped++;
			}
		} else {
			n->st.rx_dropped++;
		}
		give_rx(d, d->cur_rx);
		d->cur_rx = (d->cur_rx + 1) % RX_SIZE;
	}
	return got;
}

static bool work_pending(struct net *n)
{
	struct drv *d = n->priv;

	return !(d->rx[d->cur_rx].status & D_OWN) ||
	       irq_count_of(VECTOR) != d->irq_seen;
}

unsigned int net_poll(struct net *n, uint64_t us)
{
	struct drv *d = n->priv;
	struct pcn *p = &n->p;
	unsigned int got;

	if (us && !work_pending(n))
		wait_until(work_pending(n), us);
	if (irq_count_of(VECTOR) != d->irq_seen) {
		/* pcnet32_interrupt(): ack the causes, IENA off until the
		 * poll is done (napi), then EOI.  No cause (ERR, MERR, RINT,
		 * TINT, IDON): not ours (IRQ_NONE), so not counted. */
		uint16_t csr0 = pcn_csr_rd(p, 0);

		d->irq_seen = irq_count_of(VECTOR);
		if (csr0 & 0x8f00)
			n->st.irqs++;
		pcn_csr_wr(p, 0, csr0 & ~0x004f);
		lapic_eoi();
		got = service(n);
		pcn_csr_wr(p, 0, C0_IENA);
		return got;
	}
	return service(n);
}

/* ------------------------------------------------------------- stack */

static void eth_header(struct net *n, uint8_t *f, const uint8_t *dst,
		       uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, n->p.mac, 6);
	put16(f + 12, type);
}

static void arp_send(struct net *n, uint16_t op, const uint8_t *tha,
		     uint32_t tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[60] = { 0 };
	uint8_t *a = f + ETH_HLEN;

	eth_header(n, f, op == 1 ? bcast : tha, ETH_P_ARP);
	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, n->p.mac, 6);
	put32(a + 14, n->ip);
	if (op == 2)
		memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	send_frame(n, f, sizeof(f));
}

static void arp_input(struct net *n, const uint8_t *a, uint32_t len)
{
	uint32_t spa, tpa;

	if (len < 28 || get16(a) != 1 || get16(a + 2) != ETH_P_IP ||
	    a[4] != 6 || a[5] != 4) {
		n->st.rx_dropped++;
		return;
	}
	spa = get32(a + 14);
	tpa = get32(a + 24);
	if (spa == n->peer_ip) {
		memcpy(n->peer_mac, a + 8, 6);
		n->peer_known = true;
	}
	if (get16(a + 6) == 1 && tpa == n->ip)
		arp_send(n, 2, a + 8, spa);
}

/* Builds Ethernet + IPv4 headers for @plen payload bytes; returns the
 * payload's place. */
static uint8_t *ip_header(struct net *n, uint8_t *f, uint8_t proto,
			  uint32_t dst, uint32_t plen)
{
	static uint16_t ident;
	uint8_t *ip = f + ETH_HLEN;

	eth_header(n, f, n->peer_mac, ETH_P_IP);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + plen));
	put16(ip + 4, ident++);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, n->ip);
	put32(ip + 16, dst);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	return ip + 20;
}

static void icmp_input(struct net *n, const uint8_t *ip, const uint8_t *icmp,
		       uint32_t len)
{
	uint8_t f[NET_MAX_FRAME];
	uint8_t *r;

	if (len < 8) {
		n->st.rx_dropped++;
		return;
	}
	if (csum_fold(csum_add(0, icmp, len))) {
		n->st.rx_dropped++;
		n->st.rx_bad_csum++;
		return;
	}
	if (icmp[0] == 0) {		/* echo reply */
		n->echo_id = get16(icmp + 4);
		n->echo_seq = get16(icmp + 6);
		n->echo_seen = true;
		return;
	}
	if (icmp[0] != 8 || !n->peer_known || get32(ip + 12) != n->peer_ip)
		return;
	r = ip_header(n, f, 1, get32(ip + 12), len);
	memcpy(r, icmp, len);
	r[0] = 0;
	put16(r + 2, 0);
	put16(r + 2, csum_fold(csum_add(0, r, len)));
	send_frame(n, f, ETH_HLEN + 20 + len);
}

static uint32_t udp_pseudo(uint32_t src, uint32_t dst, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       17 + len;
}

static void udp_input(struct net *n, const uint8_t *ip, const uint8_t *u,
		      uint32_t len)
{
	uint32_t ulen;

	if (len < 8 || (ulen = get16(u + 4)) < 8 || ulen > len) {
		n->st.rx_dropped++;
		return;
	}
	if (get16(u + 6) &&
	    csum_fold(csum_add(udp_pseudo(get32(ip + 12), get32(ip + 16), ulen),
			       u, ulen))) {
		n->st.rx_dropped++;
		n->st.rx_bad_csum++;
		return;
	}
	if (n->udp)
		n->udp(n, get32(ip + 12), get16(u), get16(u + 2), u + 8,
		       ulen - 8);
}

static void input(struct net *n, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_HLEN;
	uint32_t ihl, tot;

	if (get16(f + 12) == ETH_P_ARP) {
		arp_input(n, ip, len - ETH_HLEN);
		return;
	}
	if (get16(f + 12) != ETH_P_IP || len < ETH_HLEN + 20 ||
	    (ip[0] >> 4) != 4) {
		n->st.rx_dropped++;
		return;
	}
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	if (ihl >= 20 && tot >= ihl && tot <= len - ETH_HLEN &&
	    csum_fold(csum_add(0, ip, ihl)))
		n->st.rx_bad_csum++;
	if (ihl < 20 || tot < ihl || tot > len - ETH_HLEN ||
	    csum_fold(csum_add(0, ip, ihl)) ||
	    (get32(ip + 16) != n->ip && !joined(n, get32(ip + 16))) ||
	    (get16(ip + 6) & 0x3fff)) {	/* fragments: not for us */
		n->st.rx_dropped++;
		return;
	}
	if (get32(ip + 16) != n->ip && ip[9] != 17) {	/* groups: UDP only */
		n->st.rx_dropped++;
		return;
	}
	if (ip[9] == 1)
		icmp_input(n, ip, ip + ihl, tot - ihl);
	else if (ip[9] == 17)
		udp_input(n, ip, ip + ihl, tot - ihl);
	else
		n->st.rx_dropped++;
}

bool net_arp_resolve(struct net *n, uint64_t ms)
{
	uint64_t end = deadline_us(ms * 1000);

	while (!n->peer_known && !deadline_passed(end)) {
		uint64_t retry = deadline_us(ARP_RETRY_MS * 1000);

		net_arp_probe(n);
		while (!n->peer_known && !deadline_passed(retry) &&
		       !deadline_passed(end))
			net_poll(n, 10000);
	}
	return n->peer_known;
}

int64_t net_ping(struct net *n, uint16_t id, uint16_t seq, uint32_t payload,
		 uint64_t timeout_ms)
{
	uint8_t f[NET_MAX_FRAME];
	uint32_t len = 8 + payload;
	uint64_t t0, end;
	uint8_t *icmp;

	if (len > NET_MTU - 20 || !n->peer_known)
		return -1;
	icmp = ip_header(n, f, 1, n->peer_ip, len);
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	for (uint32_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(i + seq);
	put16(icmp + 2, csum_fold(csum_add(0, icmp, len)));
	n->echo_seen = false;
	t0 = rdtsc();
	if (!send_frame(n, f, ETH_HLEN + 20 + len))
		return -1;
	end = deadline_us(timeout_ms * 1000);
	while (!deadline_passed(end)) {
		net_poll(n, 10000);
		if (n->echo_seen && n->echo_id == id && n->echo_seq == seq)
			return (int64_t)tsc_to_us(rdtsc() - t0);
	}
	return -1;
}

static bool udp_send(struct net *n, uint16_t sport, uint16_t dport,
		     const void *data, uint32_t len, bool split)
{
	uint8_t f[NET_MAX_FRAME];
	const uint32_t hlen = ETH_HLEN + 20 + 8;
	uint8_t *u;
	uint64_t end;
	bool sent;

	if (len + 8 > NET_MTU - 20 || !n->peer_known)
		return false;
	u = ip_header(n, f, 17, n->peer_ip, 8 + len);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	/* The header is 8 bytes, even: the sum goes on over the data. */
	put16(u + 6, csum_fold(csum_add(csum_add(udp_pseudo(n->ip, n->peer_ip,
							      8 + len), u, 8),
					data, len)) ?: 0xffff);
	if (!split)
		memcpy(u + 8, data, len);
	/* A full ring drains as the chip sends: wait for it, bounded. */
	end = deadline_us(1000000);
	for (;;) {
		sent = split ? send_chain(n, f, hlen, data, len, 0) :
			       send_frame(n, f, hlen + len);
		if (sent)
			return true;
		if (deadline_passed(end))
			return false;
		net_poll(n, 1000);
	}
}

bool net_udp_send(struct net *n, uint16_t sport, uint16_t dport,
		  const void *data, uint32_t len)
{
	return udp_send(n, sport, dport, data, len, false);
}

bool net_udp_send_split(struct net *n, uint16_t sport, uint16_t dport,
			const void *data, uint32_t len)
{
	/* An empty second buffer would be a zero-length descriptor. */
	return udp_send(n, sport, dport, data, len, len > 0);
}

void net_arp_probe(struct net *n)
{
	arp_send(n, 1, NULL, n->peer_ip);
}
