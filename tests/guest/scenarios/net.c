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
 *   test=udp-echo ip=A peer=B [port=P] [count=N] [ms=T] [quiet_ms=Q]
 *       answers ARP and ping meanwhile; echoes every datagram to port P
 *       back to its sender until N were echoed (the peer checks them
 *       byte-exact) and the peer was quiet for Q ms (default 500),
 *       within T ms.  count=0 ms=0 serves until the VM is stopped.
 *   test=multicast ip=A peer=B join=G [port=P] [ms=T]
 *       joins group G while the NIC runs (the logical address filter
 *       rewritten under SPND), says "ready 1" to B:P; the peer sends to
 *       G, to a group hashing to G's filter bit and to one hashing
 *       elsewhere, then "end 1 K G C O".  The chip must hand over K frames
 *       of G and of C (the hash cannot tell them apart) and none of O; the
 *       stack must deliver G's K datagrams only.  Then it leaves every
 *       group ("ready 2"): nothing may come through.  Tells the peer
 *       "pass" (or "fail WHY").
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
	uint64_t quiet_ms = param_u64("quiet_ms", 500), end;
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
	for (uint64_t quiet = 0; !ms || !deadline_passed(end);) {
		if (net_poll(&n, 10000))
			quiet = deadline_us(quiet_ms * 1000);
		else if (count && echo_state.echoed >= count &&
			 deadline_passed(quiet))
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

/* ------------------------------------------------------------ multicast */

#define MC_SEEN		8

/* Per IPv4 group seen in a phase: frames the chip handed over, datagrams
 * the stack delivered. */
struct mc_seen {
	uint32_t group;
	uint64_t frames, delivered;
};

static struct {
	struct mc_seen seen[MC_SEEN];
	unsigned int nseen;
	uint64_t overflow;
	uint32_t named[3];	/* joined, colliding, other: from "end" */
	uint64_t count;
	uint64_t phase;
	bool ended;
	uint16_t port;
} mc;

static uint32_t mc_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static struct mc_seen *mc_find(uint32_t group, bool add)
{
	for (unsigned int i = 0; i < mc.nseen; i++)
		if (mc.seen[i].group == group)
			return &mc.seen[i];
	if (!add)
		return NULL;
	if (mc.nseen == MC_SEEN) {
		mc.overflow++;
		return NULL;
	}
	mc.seen[mc.nseen].group = group;
	return &mc.seen[mc.nseen++];
}

/* Every IPv4 multicast frame the chip hands over, before the stack looks:
 * what the logical address filter let through. */
static void mc_frame(struct net *n, const uint8_t *f, uint32_t len)
{
	struct mc_seen *e;

	(void)n;
	if (len < ETH_HLEN + 20 || f[0] != 0x01 || f[1] != 0x00 ||
	    f[2] != 0x5e || f[12] != 0x08 || f[13] != 0x00)
		return;
	e = mc_find(mc_get32(f + ETH_HLEN + 16), true);
	if (e)
		e->frames++;
}

/* The next blank-separated word of [*p, end) into @out. */
static bool mc_word(const uint8_t **p, const uint8_t *end, char *out,
		    unsigned int size)
{
	unsigned int k = 0;

	while (*p < end && **p == ' ')
		(*p)++;
	while (*p < end && **p != ' ' && k + 1 < size)
		out[k++] = (char)*(*p)++;
	out[k] = 0;
	return k > 0;
}

static void mc_udp(struct net *n, uint32_t src_ip, uint16_t src_port,
		   uint16_t dst_port, const uint8_t *data, uint32_t len)
{
	const uint8_t *p = data, *end = data + len;
	char w[6][20];
	uint64_t v[2];
	struct mc_seen *e;
	uint32_t ip;

	(void)src_port;
	if (dst_port != mc.port || src_ip != n->peer_ip)
		return;
	for (unsigned int i = 0; i < 6; i++)
		if (!mc_word(&p, end, w[i], sizeof(w[i])))
			w[i][0] = 0;
	if (!strcmp(w[0], "mc")) {	/* "mc GROUP SEQ", blank-padded */
		if (net_parse_ip(w[1], &ip) && (e = mc_find(ip, false)))
			e->delivered++;
		return;
	}
	if (strcmp(w[0], "end") || !parse_u64(w[1], &v[0]) ||
	    v[0] != mc.phase || !parse_u64(w[2], &v[1]))
		return;
	for (unsigned int i = 0; i < 3; i++)
		if (!net_parse_ip(w[3 + i], &mc.named[i]))
			return;
	mc.count = v[1];
	mc.ended = true;
}

static void mc_say(struct net *n, const char *msg)
{
	if (!net_udp_send(n, mc.port, mc.port, msg, (uint32_t)strlen(msg)))
		fail(EXIT_FAIL, "TX ring stuck saying '%s'", msg);
}

static unsigned int mc_bit(uint32_t group)
{
	uint8_t mac[6];

	net_group_mac(group, mac);
	return net_ladrf_bit(mac);
}

static __noreturn void mc_fail(struct net *n, const char *what)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "fail %s", what);
	mc_say(n, msg);
	for (int i = 0; i < 20; i++)
		net_poll(n, 1000);
	fail(EXIT_FAIL, "%s", what);
}

/*
 * One phase: "ready N", the peer's burst, its "end N ...".  With @joined
 * the chip must pass the joined and the colliding group, the stack only
 * the joined one; without, nothing passes.
 */
static void mc_phase(struct net *n, uint64_t phase, bool joined, uint64_t ms)
{
	static const char *const names[3] = { "joined", "colliding", "other" };
	uint64_t want_frames[3], want_delivered[3], end;
	char msg[96];

	memset(mc.seen, 0, sizeof(mc.seen));
	mc.nseen = 0;
	mc.overflow = 0;
	mc.ended = false;
	mc.phase = phase;
	snprintf(msg, sizeof(msg), "ready %llu", (unsigned long long)phase);
	end = deadline_us(ms * 1000);
	/* Said again every half second until the burst or "end" comes: the
	 * peer may not listen yet (it answers a repeated "ready" once). */
	while (!mc.ended && !mc.nseen && !deadline_passed(end)) {
		uint64_t again = deadline_us(500000);

		mc_say(n, msg);
		while (!mc.ended && !mc.nseen && !deadline_passed(again))
			net_poll(n, 10000);
	}
	while (!mc.ended && !deadline_passed(end))
		net_poll(n, 10000);
	if (!mc.ended)
		fail(EXIT_TIMEOUT, "no 'end %llu' from the peer in %llu ms",
		     (unsigned long long)phase, (unsigned long long)ms);
	for (int i = 0; i < 20; i++)
		net_poll(n, 1000);
	if (mc_bit(mc.named[1]) != mc_bit(mc.named[0]) ||
	    mc_bit(mc.named[2]) == mc_bit(mc.named[0]))
		mc_fail(n, "the peer's groups do not hash as it claims");
	want_frames[0] = want_frames[1] = joined ? mc.count : 0;
	want_delivered[0] = joined ? mc.count : 0;
	want_frames[2] = want_delivered[1] = want_delivered[2] = 0;
	for (unsigned int i = 0; i < 3; i++) {
		uint32_t g = mc.named[i];
		struct mc_seen *e = mc_find(g, false);
		uint64_t fr = e ? e->frames : 0, dl = e ? e->delivered : 0;

		printf("%s: phase %llu: %s %u.%u.%u.%u (filter bit %u): %llu of %llu frames passed the chip, %llu delivered\n",
		       test_name, (unsigned long long)phase, names[i], g >> 24,
		       (g >> 16) & 0xff, (g >> 8) & 0xff, g & 0xff, mc_bit(g),
		       (unsigned long long)fr, (unsigned long long)mc.count,
		       (unsigned long long)dl);
		if (fr != want_frames[i] || dl != want_delivered[i]) {
			snprintf(msg, sizeof(msg),
				 "phase %llu %s group: %llu frames %llu delivered, want %llu and %llu",
				 (unsigned long long)phase, names[i],
				 (unsigned long long)fr, (unsigned long long)dl,
				 (unsigned long long)want_frames[i],
				 (unsigned long long)want_delivered[i]);
			mc_fail(n, msg);
		}
	}
	if (mc.nseen > 3 || mc.overflow)
		mc_fail(n, "frames to groups the peer did not send to");
}

void scenario_multicast(void)
{
	uint64_t ms = param_u64("ms", 20000);
	const char *j = param("join");
	uint32_t ip, peer, group;
	struct net n;

	addrs(&ip, &peer);
	if (!j || !net_parse_ip(j, &group) || (group >> 28) != 0xe)
		fail(EXIT_USAGE, "multicast needs join=GROUP (224.0.0.0/4)");
	time_init();
	net_open(&n, ip, peer);
	memset(&mc, 0, sizeof(mc));
	mc.port = (uint16_t)param_u64("port", 4950);
	n.udp = mc_udp;
	n.frame_hook = mc_frame;
	resolve(&n);
	/* ip maddr add: joined while the interface is up. */
	net_set_groups(&n, &group, 1);
	printf("%s: joined %s, filter bit %u\n", test_name, j, mc_bit(group));
	mc_phase(&n, 1, true, ms);
	net_set_groups(&n, NULL, 0);
	printf("%s: left every group\n", test_name);
	mc_phase(&n, 2, false, ms);
	mc_say(&n, "pass 2 phases");
	for (int i = 0; i < 20; i++)
		net_poll(&n, 1000);
	net_close(&n);
}
