// SPDX-License-Identifier: MIT
/*
 * test=rr ip=A peer=B [port=7] [ms=T] [count=N] [timeout_ms=20]
 *         [ping_every=16] [stall_ms=5000] [canary_kib=1024] [arp_ms=3000]
 *
 * Request/response over the PCnet for the crash-isolation tests, which
 * kill dev-pcnet and dev-net-backend while it runs: what a kill may cost
 * is lost or repeated frames and a pause, never wrong bytes, writes to
 * guest memory outside the buffers, or a hang.
 *
 * Exchange i (i = 0, 1, ...) sends a UDP datagram from port 40007 to
 * B:port and waits up to timeout_ms for its echo (tests/e2e/net-peer.py
 * rr-server).  Payload: the sequence number i as 8 bytes, little-endian,
 * then pattern(i, offset); 16 to 1400 bytes, the length varying with i.
 * Odd i go out as a two-descriptor TX chain (headers, then payload), so
 * that a kill can land between the two.  Every ping_every-th exchange
 * (i % ping_every == ping_every - 1) is an ICMP echo instead, and has no
 * datagram.  An echo must be byte-exact (else fail at once, naming seq and
 * offset); one for a seq already answered is a duplicate, one for an
 * earlier unanswered seq is late.  No echo in time: lost, and on to i + 1.
 * Runs count exchanges or ms milliseconds, whichever ends first (0: no
 * limit; one of them must be set), then says "rr-done" to the peer.
 *
 * Also fails if the time between two successful exchanges (the start of
 * the run counts as one) exceeds stall_ms, if a canary array of
 * canary_kib KiB outside the DMA area changes (checked every 256
 * exchanges and at the end), if any frame arrives with a bad checksum,
 * and (lib/net.c) if the device writes past an RX buffer.
 */
#include "net.h"
#include "scenarios.h"

#define RR_SPORT	40007
#define RR_MIN_LEN	16
#define RR_MAX_LEN	1400
#define RR_WINDOW	65536		/* seqs whose answered bit is kept */
#define PING_ID		0x5252
#define PING_PAYLOAD	56
#define CANARY_MAX_KIB	1024
#define CANARY_EVERY	256
/* Losses in a row before asking for the peer's MAC again: a peer that
 * came back with another address would otherwise never be reached. */
#define REARP_AFTER	4

/* guest.ld places .canary at 2 MiB, below the DMA area at 4 MiB. */
static uint64_t canary[CANARY_MAX_KIB * 1024 / 8]
	__attribute__((section(".canary"), aligned(4096)));

static struct {
	uint16_t port;
	uint64_t ping_every;
	uint64_t cur;		/* the last seq sent; all before it were too */
	bool waiting;		/* for cur's echo, within its timeout */
	bool cur_answered;
	uint64_t dups, late;
	uint8_t answered[RR_WINDOW / 8];
	uint8_t buf[RR_MAX_LEN];
} rr;

static uint32_t rr_len(uint64_t seq)
{
	return RR_MIN_LEN + (uint32_t)((seq * 397) % (RR_MAX_LEN - RR_MIN_LEN + 1));
}

static uint8_t rr_byte(uint64_t seq, uint32_t off)
{
	uint32_t x = (uint32_t)seq * 2654435761u ^ off * 40503u;

	return (uint8_t)(x ^ x >> 11 ^ x >> 19);
}

static bool is_ping(uint64_t seq)
{
	return rr.ping_every && seq % rr.ping_every == rr.ping_every - 1;
}

static uint64_t canary_word(uint64_t off)
{
	return (off + 1) * 0x9e3779b97f4a7c15ull ^ off << 29;
}

/* Through volatile: only a device can change the array, behind the
 * compiler's back, so it must not prove the check redundant. */
static void canary_fill(uint64_t bytes)
{
	volatile uint64_t *c = canary;

	for (uint64_t i = 0; i < bytes / 8; i++)
		c[i] = canary_word(i * 8);
}

static void canary_check(uint64_t bytes)
{
	volatile uint64_t *c = canary;

	for (uint64_t i = 0; i < bytes / 8; i++) {
		uint64_t got = c[i], want = canary_word(i * 8);
		unsigned int k = 0;

		if (got == want)
			continue;
		while (((got ^ want) >> (8 * k) & 0xff) == 0)
			k++;
		fail(EXIT_FAIL,
		     "canary damaged at offset 0x%llx (address %p): 0x%02x, want 0x%02x",
		     (unsigned long long)(i * 8 + k), (void *)((uint8_t *)canary + i * 8 + k),
		     (unsigned int)(got >> (8 * k) & 0xff),
		     (unsigned int)(want >> (8 * k) & 0xff));
	}
}

static void rr_udp(struct net *n, uint32_t src_ip, uint16_t src_port,
		   uint16_t dst_port, const uint8_t *data, uint32_t len)
{
	uint32_t want, bit;
	uint64_t seq = 0;

	if (dst_port != RR_SPORT || src_port != rr.port || src_ip != n->peer_ip)
		return;
	if (len < 8)
		fail(EXIT_FAIL, "a %u-byte echo, too short for its seq", len);
	for (int k = 7; k >= 0; k--)
		seq = seq << 8 | data[k];
	if (seq > rr.cur || is_ping(seq))
		fail(EXIT_FAIL, "an echo of seq %llu, which was never sent (the seq bytes are wrong?)",
		     (unsigned long long)seq);
	want = rr_len(seq);
	for (uint32_t k = 8; k < len && k < want; k++)
		if (data[k] != rr_byte(seq, k))
			fail(EXIT_FAIL, "seq %llu: byte at offset %u is 0x%02x, want 0x%02x",
			     (unsigned long long)seq, k, data[k], rr_byte(seq, k));
	if (len != want)
		fail(EXIT_FAIL, "seq %llu: %u bytes came back, %u sent (differs from offset %u)",
		     (unsigned long long)seq, len, want, len < want ? len : want);
	if (seq + RR_WINDOW <= rr.cur) {	/* too old to tell: not a dup */
		rr.late++;
		return;
	}
	bit = (uint32_t)(seq % RR_WINDOW);
	if (rr.answered[bit / 8] & (1u << (bit % 8))) {
		rr.dups++;
		return;
	}
	rr.answered[bit / 8] |= (uint8_t)(1u << (bit % 8));
	if (seq == rr.cur && rr.waiting)
		rr.cur_answered = true;
	else
		rr.late++;
}

static bool udp_exchange(struct net *n, uint64_t seq, uint64_t timeout_ms)
{
	uint32_t len = rr_len(seq), bit = (uint32_t)(seq % RR_WINDOW);
	uint64_t end;
	bool sent;

	for (int k = 0; k < 8; k++)
		rr.buf[k] = (uint8_t)(seq >> (8 * k));
	for (uint32_t k = 8; k < len; k++)
		rr.buf[k] = rr_byte(seq, k);
	rr.answered[bit / 8] &= (uint8_t)~(1u << (bit % 8));
	rr.cur = seq;
	rr.cur_answered = false;
	rr.waiting = true;
	sent = seq & 1 ? net_udp_send_split(n, RR_SPORT, rr.port, rr.buf, len) :
			 net_udp_send(n, RR_SPORT, rr.port, rr.buf, len);
	end = deadline_us(timeout_ms * 1000);
	/* Not sent: the ring stayed full for 1 s, lost too. */
	while (sent && !rr.cur_answered && !deadline_passed(end))
		net_poll(n, 1000);
	rr.waiting = false;	/* an echo from now on is late */
	return rr.cur_answered;
}

static void rr_resolve(struct net *n)
{
	uint64_t ms = param_u64("arp_ms", 3000);

	if (!net_arp_resolve(n, ms))
		fail(EXIT_FAIL, "no ARP reply from the peer in %llu ms",
		     (unsigned long long)ms);
}

static uint64_t ms_of(uint64_t cycles)
{
	return tsc_to_us(cycles) / 1000;
}

static void check_csum(const struct net *n)
{
	if (n->st.rx_bad_csum)
		fail(EXIT_FAIL, "%llu frames came with a bad IPv4/ICMP/UDP checksum (corrupted on the way in)",
		     (unsigned long long)n->st.rx_bad_csum);
}

void scenario_rr(void)
{
	uint64_t count = param_u64("count", 0), ms = param_u64("ms", 0);
	uint64_t timeout_ms = param_u64("timeout_ms", 20);
	uint64_t stall_ms = param_u64("stall_ms", 5000);
	uint64_t canary_bytes = param_u64("canary_kib", 1024) * 1024;
	uint64_t i, lost = 0, pings = 0, streak = 0, checks = 0;
	uint64_t t0, last_ok, max_gap = 0, next_report, end = 0, now;
	const char *a = param("ip"), *b = param("peer");
	uint32_t ip, peer;
	struct net n;

	if (!a || !b || !net_parse_ip(a, &ip) || !net_parse_ip(b, &peer))
		fail(EXIT_USAGE, "rr needs ip=A.B.C.D and peer=A.B.C.D");
	if (!count && !ms)
		fail(EXIT_USAGE, "rr needs count=N or ms=T (or both)");
	if (!timeout_ms || !stall_ms || canary_bytes > sizeof(canary))
		fail(EXIT_USAGE, "rr needs timeout_ms >= 1, stall_ms >= 1, canary_kib <= %u",
		     CANARY_MAX_KIB);
	memset(&rr, 0, sizeof(rr));
	rr.port = (uint16_t)param_u64("port", 7);
	rr.ping_every = param_u64("ping_every", 16);
	canary_fill(canary_bytes);
	time_init();
	net_open(&n, ip, peer);
	n.udp = rr_udp;
	rr_resolve(&n);
	printf("rr: to port %u, %llu ms timeout, a ping every %llu, canary %llu KiB at %p\n",
	       rr.port, (unsigned long long)timeout_ms,
	       (unsigned long long)rr.ping_every,
	       (unsigned long long)canary_bytes / 1024, (void *)canary);
	t0 = last_ok = rdtsc();
	next_report = t0 + tsc_from_us(1000000);
	if (ms)
		end = deadline_us(ms * 1000);
	for (i = 0; (!count || i < count) && (!ms || !deadline_passed(end)); i++) {
		bool ok;

		if (is_ping(i)) {
			ok = net_ping(&n, PING_ID, (uint16_t)i, PING_PAYLOAD,
				      timeout_ms) >= 0;
			pings++;
		} else {
			ok = udp_exchange(&n, i, timeout_ms);
		}
		now = rdtsc();
		if (ok) {
			if (now - last_ok > max_gap)
				max_gap = now - last_ok;
			last_ok = now;
			streak = 0;
		} else {
			lost++;
			/* The MAC is kept meanwhile: a reply refreshes it. */
			if (++streak % REARP_AFTER == 0)
				net_arp_probe(&n);
		}
		if (ms_of(now - last_ok) > stall_ms)
			fail(EXIT_FAIL, "no successful exchange for %llu ms (stall_ms %llu) at seq %llu, %llu lost",
			     (unsigned long long)ms_of(now - last_ok),
			     (unsigned long long)stall_ms,
			     (unsigned long long)i, (unsigned long long)lost);
		check_csum(&n);
		if ((i + 1) % CANARY_EVERY == 0) {
			canary_check(canary_bytes);
			checks++;
		}
		if (now >= next_report) {
			printf("rr: %llu exchanges, %llu lost, %llu duplicates, late %llu, max stall %llu ms\n",
			       (unsigned long long)i + 1, (unsigned long long)lost,
			       (unsigned long long)rr.dups,
			       (unsigned long long)rr.late,
			       (unsigned long long)ms_of(max_gap));
			next_report = now + tsc_from_us(1000000);
		}
	}
	/* Tells the peer to write its log; said a few times, as any frame
	 * may be lost, and late echoes are still taken meanwhile. */
	for (int k = 0; k < 3; k++) {
		net_udp_send(&n, RR_SPORT, rr.port, "rr-done", 7);
		for (int w = 0; w < 20; w++)
			net_poll(&n, 1000);
	}
	check_csum(&n);
	canary_check(canary_bytes);
	checks++;
	printf("rr: %llu frames sent (%llu as 2-descriptor chains), %llu received, %llu dropped; %llu RX guard checks, %llu canary checks\n",
	       (unsigned long long)n.st.tx_frames,
	       (unsigned long long)n.st.tx_chains,
	       (unsigned long long)n.st.rx_frames,
	       (unsigned long long)n.st.rx_dropped,
	       (unsigned long long)n.st.rx_guard_checks,
	       (unsigned long long)checks);
	printf("rr: %llu exchanges (%llu pings), %llu lost, %llu duplicates, %llu late, max stall %llu ms, canary intact, RX guards intact\n",
	       (unsigned long long)i, (unsigned long long)pings,
	       (unsigned long long)lost, (unsigned long long)rr.dups,
	       (unsigned long long)rr.late, (unsigned long long)ms_of(max_gap));
	printf("bench: rr-lost %llu\n", (unsigned long long)lost);
	printf("bench: rr-dups %llu\n", (unsigned long long)rr.dups);
	printf("bench: rr-max-stall-ms %llu\n", (unsigned long long)ms_of(max_gap));
	net_close(&n);
}
