// SPDX-License-Identifier: MIT
/*
 * End-to-end scenarios over the PCnet and the guest's small IPv4 stack
 * (lib/net.c), against a peer on the host side of the wire (a TAP in a
 * network namespace the harness made; the host kernel answers):
 *
 *   test=ping ip=A peer=B [count=N] [size=S] [arp_ms=T]
 *       ARP-resolves B (for up to T ms, default 3000), sends N echo
 *       requests of S payload bytes, needs every reply; prints round-trip
 *       times.
 *   test=udp-send ip=A peer=B [port=P] [bytes=N] [size=S]
 *       N bytes of UDP to B:P in S-byte datagrams (a sink counts them);
 *       prints datagrams, bytes and Mbit/s as the guest saw them leave.
 *   test=udp-echo ip=A peer=B [port=P] [count=N] [ms=T]
 *       answers ARP and ping meanwhile; echoes every datagram to port P
 *       back to its sender until N were echoed (the peer checks them
 *       byte-exact), within T ms.
 */
#include "net.h"
#include "scenarios.h"

static void addrs(uint32_t *ip, uint32_t *peer)
{
	const char *a = param("ip"), *b = param("peer");

	if (!a || !b || !net_parse_ip(a, ip) || !net_parse_ip(b, peer))
		fail(EXIT_USAGE, "%s needs ip=A.B.C.D and peer=A.B.C.D", test_name);
}

static void resolve(struct net *n)
{
	uint64_t ms = param_u64("arp_ms", 3000);

	if (!net_arp_resolve(n, ms))
		fail(EXIT_FAIL, "no ARP reply from the peer in %llu ms (%llu frames sent, %llu received)",
		     (unsigned long long)ms, (unsigned long long)n->st.tx_frames,
		     (unsigned long long)n->st.rx_frames);
	printf("%s: peer at %02x:%02x:%02x:%02x:%02x:%02x\n", test_name,
	       n->peer_mac[0], n->peer_mac[1], n->peer_mac[2], n->peer_mac[3],
	       n->peer_mac[4], n->peer_mac[5]);
}

void scenario_ping(void)
{
	uint64_t count = param_u64("count", 5), size = param_u64("size", 56);
	uint64_t sum = 0, min = UINT64_MAX, max = 0;
	uint32_t ip, peer;
	struct net n;

	if (!count || size > 1400)
		fail(EXIT_USAGE, "ping needs count >= 1 and size <= 1400");
	addrs(&ip, &peer);
	time_init();
	net_open(&n, ip, peer);
	resolve(&n);
	for (uint64_t i = 0; i < count; i++) {
		int64_t us = net_ping(&n, 0x5350, (uint16_t)i, (uint32_t)size, 2000);

		if (us < 0)
			fail(EXIT_FAIL, "no reply to echo request %llu",
			     (unsigned long long)i);
		printf("%s: %llu bytes from peer: icmp_seq=%llu time=%lld us\n",
		       test_name, (unsigned long long)size + 8,
		       (unsigned long long)i, (long long)us);
		sum += (uint64_t)us;
		min = (uint64_t)us < min ? (uint64_t)us : min;
		max = (uint64_t)us > max ? (uint64_t)us : max;
	}
	printf("%s: %llu replies, rtt min/avg/max %llu/%llu/%llu us, %llu interrupts\n",
	       test_name, (unsigned long long)count, (unsigned long long)min,
	       (unsigned long long)(sum / count), (unsigned long long)max,
	       (unsigned long long)n.st.irqs);
	printf("bench: ping-rtt-avg %llu us\n", (unsigned long long)(sum / count));
	net_close(&n);
}

void scenario_udp_send(void)
{
	uint64_t bytes = param_u64("bytes", 1 << 20), size = param_u64("size", 1472);
	uint16_t port = (uint16_t)param_u64("port", 9);
	static uint8_t buf[NET_MTU];
	uint64_t sent = 0, dgrams = 0, t0, us;
	uint32_t ip, peer;
	struct net n;

	if (!size || size > NET_MTU - 28)
		fail(EXIT_USAGE, "size must be 1..%u", NET_MTU - 28);
	addrs(&ip, &peer);
	time_init();
	net_open(&n, ip, peer);
	resolve(&n);
	t0 = rdtsc();
	while (sent < bytes) {
		uint32_t len = bytes - sent < size ? (uint32_t)(bytes - sent) :
						     (uint32_t)size;

		memcpy(buf, &dgrams, sizeof(dgrams));
		for (uint32_t i = 8; i < len; i++)
			buf[i] = (uint8_t)(dgrams + i);
		if (!net_udp_send(&n, 40000, port, buf, len))
			fail(EXIT_FAIL, "TX ring stuck after %llu datagrams",
			     (unsigned long long)dgrams);
		sent += len;
		dgrams++;
		net_poll(&n, 0);
	}
	/* Until the chip has handed every descriptor back. */
	for (int i = 0; i < 100; i++)
		net_poll(&n, 1000);
	us = tsc_to_us(rdtsc() - t0);
	printf("%s: %llu datagrams, %llu bytes sent in %llu us\n", test_name,
	       (unsigned long long)dgrams, (unsigned long long)sent,
	       (unsigned long long)us);
	if (us)
		printf("bench: udp-send %llu Mbit/s\n",
		       (unsigned long long)(sent * 8 / us));
	net_close(&n);
}

struct echo {
	uint16_t port;
	uint64_t echoed;
};

static struct echo echo_state;

static void echo_udp(struct net *n, uint32_t src_ip, uint16_t src_port,
		     uint16_t dst_port, const uint8_t *data, uint32_t len)
{
	static uint8_t copy[NET_MTU];

	if (dst_port != echo_state.port || src_ip != n->peer_ip)
		return;
	memcpy(copy, data, len);
	if (net_udp_send(n, dst_port, src_port, copy, len))
		echo_state.echoed++;
}

void scenario_udp_echo(void)
{
	uint64_t count = param_u64("count", 100), ms = param_u64("ms", 20000);
	uint64_t end;
	uint32_t ip, peer;
	struct net n;

	addrs(&ip, &peer);
	time_init();
	net_open(&n, ip, peer);
	echo_state.port = (uint16_t)param_u64("port", 7);
	echo_state.echoed = 0;
	n.udp = echo_udp;
	/* The peer's first datagram ARPs for us; we learn its MAC from the
	 * request (arp_input), so no resolve is needed first. */
	printf("%s: echoing UDP port %u\n", test_name, echo_state.port);
	/* Done once N were echoed and the peer has gone quiet: a peer that
	 * retried a datagram gets its echo twice, and still sends the rest. */
	end = deadline_us(ms * 1000);
	for (uint64_t quiet = 0; !deadline_passed(end);) {
		if (net_poll(&n, 10000))
			quiet = deadline_us(500000);
		else if (echo_state.echoed >= count && deadline_passed(quiet))
			break;
	}
	if (echo_state.echoed < count)
		fail(EXIT_TIMEOUT, "echoed %llu of %llu datagrams in %llu ms",
		     (unsigned long long)echo_state.echoed,
		     (unsigned long long)count, (unsigned long long)ms);
	for (int i = 0; i < 100; i++)
		net_poll(&n, 1000);
	printf("%s: echoed %llu datagrams (%llu frames in, %llu dropped)\n",
	       test_name, (unsigned long long)echo_state.echoed,
	       (unsigned long long)n.st.rx_frames,
	       (unsigned long long)n.st.rx_dropped);
	net_close(&n);
}
