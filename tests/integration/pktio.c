// SPDX-License-Identifier: MIT
/*
 * pktio: a tiny AF_PACKET tool for the backend's TAP tests.
 *
 *   pktio send IFACE COUNT [LEN [PPS]]
 *                                    sends COUNT broadcast frames of LEN
 *                                    bytes (default 60), EtherType 0x88b5,
 *                                    each carrying its sequence number, at
 *                                    most PPS a second (0: no limit)
 *   pktio count IFACE SECONDS [N]    counts the frames arriving on IFACE
 *                                    (not those it sends) for SECONDS, or
 *                                    until N arrived; prints
 *                                    "frames F bytes B"
 *
 * Exit status 0, or 1 with one line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TEST_ETHERTYPE	0x88b5
#define MAX_LEN		9000

static int die(const char *what)
{
	fprintf(stderr, "pktio: %s: %s\n", what, strerror(errno));
	return 1;
}

static int open_on(const char *ifname, struct sockaddr_ll *sll)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (s < 0)
		return -1;
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(ETH_P_ALL);
	sll->sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll->sll_ifindex ||
	    bind(s, (struct sockaddr *)sll, sizeof(*sll)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int do_send(const char *ifname, unsigned long count, unsigned long len,
		   unsigned long pps)
{
	static uint8_t frame[MAX_LEN];
	uint64_t start = now_us();
	struct sockaddr_ll sll;
	unsigned long i;
	int s;

	if (len < 60 || len > MAX_LEN) {
		fprintf(stderr, "pktio: LEN must be 60..%d\n", MAX_LEN);
		return 1;
	}
	s = open_on(ifname, &sll);
	if (s < 0)
		return die(ifname);
	memset(frame, 0xff, 6);				/* broadcast */
	memcpy(frame + 6, "\x02\x00\x00\x00\x5e\x01", 6);	/* local */
	frame[12] = TEST_ETHERTYPE >> 8;
	frame[13] = TEST_ETHERTYPE & 0xff;
	for (i = 14; i < len; i++)
		frame[i] = (uint8_t)i;
	for (i = 0; i < count; i++) {
		uint32_t seq = htonl((uint32_t)i);

		/* Paced in steps of 16 frames: frame i leaves no earlier
		 * than i / pps seconds after the first. */
		if (pps && !(i % 16)) {
			uint64_t due = start + (uint64_t)i * 1000000 / pps;
			uint64_t now = now_us();

			if (due > now)
				usleep((useconds_t)(due - now));
		}
		memcpy(frame + 14, &seq, sizeof(seq));
		if (send(s, frame, len, 0) != (ssize_t)len) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(1000);
				i--;
				continue;
			}
			close(s);
			return die("send");
		}
	}
	close(s);
	return 0;
}

static int do_count(const char *ifname, unsigned long secs, unsigned long want)
{
	static uint8_t buf[65536];
	uint64_t end = now_ms() + secs * 1000, frames = 0, bytes = 0;
	struct sockaddr_ll sll;
	int s = open_on(ifname, &sll);

	if (s < 0)
		return die(ifname);
	for (;;) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		uint64_t now = now_ms();
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r;

		if (now >= end || (want && frames >= want))
			break;
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR) {
			close(s);
			return die("poll");
		}
		if (!(pfd.revents & POLLIN))
			continue;
		r = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (r < 0)
			continue;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		frames++;
		bytes += (uint64_t)r;
	}
	close(s);
	printf("frames %llu bytes %llu\n", (unsigned long long)frames,
	       (unsigned long long)bytes);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], strtoul(argv[3], NULL, 0),
			       argc > 4 ? strtoul(argv[4], NULL, 0) : 60,
			       argc > 5 ? strtoul(argv[5], NULL, 0) : 0);
	if (argc >= 4 && !strcmp(argv[1], "count"))
		return do_count(argv[2], strtoul(argv[3], NULL, 0),
				argc > 4 ? strtoul(argv[4], NULL, 0) : 0);
	fprintf(stderr, "usage: pktio send IFACE COUNT [LEN [PPS]] | "
		"pktio count IFACE SECONDS [N]\n");
	return 2;
}
