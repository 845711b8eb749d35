/* SPDX-License-Identifier: MIT */
/*
 * The test guest's network: a PCnet-PCI II driver in the Linux pcnet32
 * pattern (SWSTYLE 2, 16 TX and 32 RX descriptors, interrupts, CSR0/CSR3
 * handling) and a minimal stack over it: Ethernet, ARP, IPv4, ICMP echo and
 * UDP, IPv4 multicast groups through the chip's logical address filter.
 * Enough for the end-to-end scenarios (ping, udp-send, udp-echo,
 * multicast, rr); no fragments, no options, one peer.  Every RX buffer
 * has guard bytes after it, checked as each frame is taken: a device
 * writing past a buffer fails the test.
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include "pcnet_drv.h"

#define ETH_HLEN		14
#define ETH_P_IP		0x0800
#define ETH_P_ARP		0x0806
#define NET_MTU			1500
#define NET_MAX_FRAME		(ETH_HLEN + NET_MTU)
#define NET_MAX_GROUPS		8

struct net;

/* Called for every UDP datagram to our address. */
typedef void net_udp_fn(struct net *n, uint32_t src_ip, uint16_t src_port,
			uint16_t dst_port, const uint8_t *data, uint32_t len);

/* Called for every frame the chip hands over, before the stack looks. */
typedef void net_frame_fn(struct net *n, const uint8_t *frame, uint32_t len);

struct net_stats {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t rx_dropped;	/* not for us, bad checksum, unknown type */
	uint64_t irqs, tx_ring_full;
	uint64_t tx_chains;	/* frames sent as an STP + ENP pair */
	uint64_t rx_bad_csum;	/* IPv4, ICMP or UDP checksum wrong */
	uint64_t rx_guard_checks;	/* RX buffer guards found intact */
};

struct net {
	struct pcn p;
	uint32_t ip, peer_ip;		/* host byte order */
	uint8_t peer_mac[6];
	bool peer_known;
	net_udp_fn *udp;
	void *udp_opaque;
	net_frame_fn *frame_hook;
	/* IPv4 multicast groups joined (net_set_groups), host order */
	uint32_t groups[NET_MAX_GROUPS];
	unsigned int ngroups;
	/* last ICMP echo reply seen */
	uint16_t echo_id, echo_seq;
	bool echo_seen;
	struct net_stats st;
	/* driver state */
	void *priv;
};

/* Finds and opens the PCnet, interrupts on; @ip, @peer in host order. */
void net_open(struct net *n, uint32_t ip, uint32_t peer_ip);
/* Before net_open(): 2^@log TX descriptors (4, pcnet32's 16, to 7). */
void net_set_tx_ring(unsigned int log);
void net_close(struct net *n);
/* Handles what arrived (RX, TX completions); waits up to @us for an
 * interrupt first when nothing is pending.  Returns frames received. */
unsigned int net_poll(struct net *n, uint64_t us);
/* Resolves the peer's MAC by ARP; false after @ms. */
bool net_arp_resolve(struct net *n, uint64_t ms);
/* One ICMP echo to the peer; the reply's round trip in µs, or -1. */
int64_t net_ping(struct net *n, uint16_t id, uint16_t seq, uint32_t payload,
		 uint64_t timeout_ms);
/* One UDP datagram to the peer; false if the TX ring stayed full. */
bool net_udp_send(struct net *n, uint16_t sport, uint16_t dport,
		  const void *data, uint32_t len);
/* The same as a two-descriptor chain: STP with the Ethernet, IPv4 and
 * UDP headers, ENP with @data (one descriptor if @len is 0). */
bool net_udp_send_split(struct net *n, uint16_t sport, uint16_t dport,
			const void *data, uint32_t len);
/* One ARP request for the peer, not waited for: a reply (or the peer's
 * own request) updates peer_mac. */
void net_arp_probe(struct net *n);
/*
 * Joins exactly @count IPv4 groups (0: leaves all): the logical address
 * filter (CSR8-11) rewritten with the chip suspended (CSR5 SPND), as
 * pcnet32_set_multicast_list() does while the interface is up.  UDP to a
 * joined group reaches n->udp; other multicast the hash lets through is
 * dropped by the stack (the filter is imperfect by design).
 */
void net_set_groups(struct net *n, const uint32_t *groups, unsigned int count);
/* The Ethernet address of IPv4 group @g (RFC 1112: 01:00:5e + low 23 bits). */
void net_group_mac(uint32_t g, uint8_t mac[6]);
/* The filter bit (0-63) a multicast address hashes to: the top 6 bits of
 * the little-endian CRC-32 of the address, as the chip computes it. */
unsigned int net_ladrf_bit(const uint8_t mac[6]);
/*
 * Raw frames, for the TX benchmark (scenario txbench).  net_tx_frame()
 * queues one frame of @len bytes (no FCS) on the TX ring, false if the
 * ring is full; NET_TX_NOKICK: no TDMD (the caller kicks once per batch
 * with net_tx_kick()), NET_TX_LTINT: TMD1's LTINT on it (TINT for it
 * alone once net_tx_ltint() set CSR5 TOKINTD | LTINTEN).
 * net_tx_reclaim() takes back what the chip returned (descriptor reads,
 * no port access) and gives the number still in flight.
 */
#define NET_TX_NOKICK		0x1
#define NET_TX_LTINT		0x2
bool net_tx_frame(struct net *n, const uint8_t *frame, uint32_t len,
		  unsigned int flags);
void net_tx_kick(struct net *n);
unsigned int net_tx_reclaim(struct net *n);
unsigned int net_tx_ring_size(const struct net *n);
void net_tx_ltint(struct net *n);
/* Parses a dotted quad; false on junk. */
bool net_parse_ip(const char *s, uint32_t *ip);

#endif /* GUEST_NET_H */
