// SPDX-License-Identifier: MIT
/*
 * dev-net-backend: a vhost-user-net back-end whose frames go to the host
 * through TAP (later AF_XDP or DPDK).
 *
 *   dev-net-backend --vhost-user PATH [--server | --client]
 *                   [--host tap:NAME | af-xdp:IFACE[,queue=N] | dpdk:ARGS]
 *                   [--pcap FILE] [--busy-poll USEC] [--burst N]
 *                   [--tx-copy on|off] [--no-mrg-rxbuf] [--no-event-idx] [--no-indirect]
 *                   [--reconnect-max-ms N] [--once] [--verbose]...
 *                   [--sandbox [--user USER[:GROUP]]]
 *
 * Server mode (the default) listens on PATH and serves one front-end at a
 * time, each new one from scratch; client mode connects to PATH and, when
 * the front-end goes away or is not there yet, connects again with an
 * exponential backoff (100 ms doubling up to --reconnect-max-ms).
 * --once: exit after the first connection ends.  --tx-copy on copies
 * every transmit frame into the back-end's own buffer before the host
 * path gets it (off, the default: zero copy), to measure what zero copy
 * is worth.
 *
 * --sandbox: once the host path and the socket exist, the process enters
 * ipc/sandbox.h's sandbox (no file system but sockets in the directories
 * of PATH and --stats-sock, no capabilities: TAP and AF_XDP need theirs
 * only to open, a seccomp allow-list), as --user if given.
 * SPLITVMM_FAULT=tx:N[:ACTION] (ipc/fault.h) fires at the N-th transmit
 * burst to the host.
 *
 * Counters go to stderr on SIGUSR1 and at exit.  Exit status: 0 on
 * SIGTERM/SIGINT (or after --once), 1 on an error, with one line on
 * stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fault.h"
#include "host.h"
#include "pcap.h"
#include "sandbox.h"
#include "stats.h"
#include "vhost_backend.h"

#define DEFAULT_HOST		"tap:vnb%d"
#define BACKOFF_MIN_MS		100
#define DEFAULT_BACKOFF_MAX_MS	2000
#define WAKE_MS			500	/* bounds how late a signal is seen */

static volatile sig_atomic_t stop_requested, stats_requested;

struct options {
	const char *path;
	bool client;
	const char *host;
	const char *pcap;
	const char *stats_sock;
	unsigned reconnect_max_ms;
	bool once;
	struct sandbox sb;	/* --sandbox, --user */
	struct vb_config vb;
};

static void usage(FILE *f)
{
	fputs("usage: dev-net-backend --vhost-user PATH [--server | --client]\n"
	      "         [--host tap:NAME | af-xdp:IFACE[,queue=N] | dpdk:ARGS]\n"
	      "         [--pcap FILE] [--busy-poll USEC] [--burst N]\n"
	      "         [--tx-copy on|off] [--no-mrg-rxbuf] [--no-event-idx] [--no-indirect]\n"
	      "         [--reconnect-max-ms N] [--once] [--stats-sock PATH]\n"
	      "         [--verbose]... [--sandbox [--user USER[:GROUP]]]\n"
	      "  --host        host path (default " DEFAULT_HOST ": a new TAP)\n"
	      "  --server      listen on PATH (default); --client: connect to it,\n"
	      "                reconnecting with backoff when the peer goes away\n"
	      "  --pcap FILE   record every frame, both directions (libpcap)\n"
	      "  --busy-poll   keep polling the rings USEC after the last work\n"
	      "  --burst N     frames per batch (1..32, default 32)\n"
	      "  --tx-copy on  copy each transmit frame out of guest RAM first\n"
	      "                (default off: the host path reads guest RAM)\n"
	      "  --stats-sock PATH  serve live counters there ('vmm-core stats PATH');\n"
	      "                SIGUSR1 prints them to stderr\n"
	      "  --sandbox     after set-up: no files, no capabilities, a seccomp\n"
	      "                allow-list; --user: and run as that user\n", f);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_requested = 1;
	else
		stop_requested = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() returns EINTR and the loop looks. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int parse_uint(const char *opt, const char *s, unsigned long max,
		      unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max || s[0] == '-') {
		fprintf(stderr, "dev-net-backend: %s: '%s' is not a number up to %lu\n",
			opt, s, max);
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { O_PCAP = 256, O_BUSY, O_BURST, O_NO_MRG, O_NO_EVIDX, O_NO_INDIR,
	       O_RECONNECT, O_ONCE, O_SERVER, O_CLIENT, O_STATS, O_SANDBOX,
	       O_USER, O_TX_COPY };
	static const struct option longopts[] = {
		{ "vhost-user", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		{ "server", no_argument, NULL, O_SERVER },
		{ "client", no_argument, NULL, O_CLIENT },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "busy-poll", required_argument, NULL, O_BUSY },
		{ "burst", required_argument, NULL, O_BURST },
		{ "tx-copy", required_argument, NULL, O_TX_COPY },
		{ "no-mrg-rxbuf", no_argument, NULL, O_NO_MRG },
		{ "no-event-idx", no_argument, NULL, O_NO_EVIDX },
		{ "no-indirect", no_argument, NULL, O_NO_INDIR },
		{ "reconnect-max-ms", required_argument, NULL, O_RECONNECT },
		{ "once", no_argument, NULL, O_ONCE },
		{ "stats-sock", required_argument, NULL, O_STATS },
		{ "sandbox", no_argument, NULL, O_SANDBOX },
		{ "user", required_argument, NULL, O_USER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long v;
	char err[256];
	int c;

	memset(o, 0, sizeof(*o));
	o->host = DEFAULT_HOST;
	o->reconnect_max_ms = DEFAULT_BACKOFF_MAX_MS;
	vb_config_default(&o->vb);
	while ((c = getopt_long(argc, argv, "s:H:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->path = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case O_SERVER:
			o->client = false;
			break;
		case O_CLIENT:
			o->client = true;
			break;
		case O_PCAP:
			o->pcap = optarg;
			break;
		case O_BUSY:
			if (parse_uint("--busy-poll", optarg, 10000000, &v))
				return -1;
			o->vb.busy_poll_ns = v * 1000;
			break;
		case O_BURST:
			if (parse_uint("--burst", optarg, HOST_BURST, &v))
				return -1;
			if (!v) {
				fprintf(stderr, "dev-net-backend: --burst: 1..%d\n",
					HOST_BURST);
				return -1;
			}
			o->vb.burst = (unsigned)v;
			break;
		case O_TX_COPY:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "dev-net-backend: --tx-copy: '%s' is not on or off\n",
					optarg);
				return -1;
			}
			o->vb.tx_copy = !strcmp(optarg, "on");
			break;
		case O_NO_MRG:
			o->vb.mrg_rxbuf = false;
			break;
		case O_NO_EVIDX:
			o->vb.event_idx = false;
			break;
		case O_NO_INDIR:
			o->vb.indirect = false;
			break;
		case O_RECONNECT:
			if (parse_uint("--reconnect-max-ms", optarg, 3600000, &v))
				return -1;
			o->reconnect_max_ms = v < BACKOFF_MIN_MS ?
					      BACKOFF_MIN_MS : (unsigned)v;
			break;
		case O_ONCE:
			o->once = true;
			break;
		case O_STATS:
			o->stats_sock = optarg;
			break;
		case O_SANDBOX:
			o->sb.on = true;
			break;
		case O_USER:
			if (sandbox_parse_user(&o->sb, optarg, err, sizeof(err))) {
				fprintf(stderr, "dev-net-backend: %s\n", err);
				return -1;
			}
			break;
		case 'v':
			o->vb.verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dev-net-backend: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!o->path) {
		fprintf(stderr, "dev-net-backend: --vhost-user PATH is required\n");
		return -1;
	}
	if (o->sb.set_user && !o->sb.on) {
		fprintf(stderr, "dev-net-backend: --user needs --sandbox\n");
		return -1;
	}
	return 0;
}

static int fill_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		fprintf(stderr, "dev-net-backend: socket path too long: %s\n",
			path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int s;

	if (fill_addr(path, &sun))
		return -1;
	/* A stale socket of an earlier run is replaced; anything else is
	 * not ours to remove. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(s, 1)) {
		fprintf(stderr, "dev-net-backend: listen on %s: %s\n", path,
			strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* Waits for a front-end; the socket, or -1 when asked to stop. */
static int accept_one(int ls)
{
	while (!stop_requested) {
		struct pollfd p = { .fd = ls, .events = POLLIN };
		int s;

		if (poll(&p, 1, WAKE_MS) <= 0)
			continue;
		s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (s >= 0)
			return s;
		if (errno != EINTR && errno != ECONNABORTED) {
			fprintf(stderr, "dev-net-backend: accept: %s\n",
				strerror(errno));
			return -1;
		}
	}
	return -1;
}

/* Connects to the front-end, with backoff; the socket, or -1 on stop. */
static int connect_retry(const char *path, unsigned max_ms)
{
	unsigned delay = BACKOFF_MIN_MS;
	struct sockaddr_un sun;
	bool said = false;

	if (fill_addr(path, &sun))
		return -1;
	while (!stop_requested) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s < 0) {
			fprintf(stderr, "dev-net-backend: socket: %s\n",
				strerror(errno));
			return -1;
		}
		if (!connect(s, (struct sockaddr *)&sun, sizeof(sun)))
			return s;
		if (!said)
			fprintf(stderr, "dev-net-backend: %s: %s; retrying (backoff up to %u ms)\n",
				path, strerror(errno), max_ms);
		said = true;
		close(s);
		usleep(delay * 1000u);
		delay = delay * 2 > max_ms ? max_ms : delay * 2;
	}
	return -1;
}

static void stats_snapshot(FILE *f, void *opaque)
{
	vb_write_counters(opaque, f);
}

/* Serves one connection; -1 when the host path failed for good. */
static int serve(struct vhost_backend *vb, int sock)
{
	int status = 0;

	vb_attach(vb, sock);
	fprintf(stderr, "dev-net-backend: front-end connected\n");
	while (!stop_requested) {
		int rc = vb_poll(vb, WAKE_MS);

		if (stats_requested) {
			stats_requested = 0;
			vb_print_stats(vb, stderr);
		}
		if (vb_host_failed(vb)) {
			fprintf(stderr, "dev-net-backend: the host path failed; exiting\n");
			status = -1;
			break;
		}
		if (rc == -ENOTCONN)
			break;
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "dev-net-backend: poll: %s\n",
				strerror(-rc));
			break;
		}
	}
	vb_detach(vb);
	fprintf(stderr, "dev-net-backend: front-end disconnected\n");
	return status;
}

int main(int argc, char **argv)
{
	struct host_path *host = NULL;
	struct pcap_writer *pcap = NULL;
	struct vhost_backend *vb = NULL;
	struct ipc_stats *stats = NULL;
	struct options o;
	char err[256];
	int ls = -1, status = 1;

	if (parse_options(argc, argv, &o) || ipc_fault_setup("dev-net-backend"))
		return 1;
	if (o.sb.on &&
	    (sandbox_allow_socket(&o.sb, o.path, err, sizeof(err)) ||
	     (o.stats_sock && sandbox_allow_socket(&o.sb, o.stats_sock, err, sizeof(err))))) {
		fprintf(stderr, "dev-net-backend: --sandbox: %s\n", err);
		sandbox_free(&o.sb);
		return 1;
	}
	catch_signals();
	if (host_open(o.host, &host, err, sizeof(err))) {
		fprintf(stderr, "dev-net-backend: %s\n", err);
		return 1;
	}
	if (o.pcap) {
		pcap = pcap_open(o.pcap, err, sizeof(err));
		if (!pcap) {
			fprintf(stderr, "dev-net-backend: %s\n", err);
			goto out;
		}
		o.vb.pcap = pcap;
	}
	vb = vb_create(host, &o.vb);
	if (!vb) {
		fprintf(stderr, "dev-net-backend: out of memory\n");
		goto out;
	}
	if (!o.client) {
		ls = listen_on(o.path);
		if (ls < 0)
			goto out;
		if (sandbox_own_socket(&o.sb, o.path, err, sizeof(err))) {
			fprintf(stderr, "dev-net-backend: %s\n", err);
			goto out;
		}
	}
	/* Set up: the host path and the socket exist.  DPDK's EAL has its
	 * own threads and needs more (sandbox.h). */
	if (sandbox_enter(&o.sb, strncmp(o.host, "dpdk:", 5) ?
			  SANDBOX_NET_BACKEND : SANDBOX_NET_BACKEND_DPDK,
			  err, sizeof(err))) {
		fprintf(stderr, "dev-net-backend: --sandbox: %s\n", err);
		goto out;
	}
	if (o.stats_sock &&
	    ipc_stats_start(o.stats_sock, "dev-net-backend", stats_snapshot, vb,
			    &stats, err, sizeof(err))) {
		fprintf(stderr, "dev-net-backend: %s\n", err);
		goto out;
	}
	fprintf(stderr, "dev-net-backend: %s on %s, host path %s%s%s\n",
		o.client ? "connecting to" : "listening", o.path, host->name,
		o.vb.tx_copy ? ", transmit copied" : "",
		o.sb.on ? ", sandboxed" : "");
	status = 0;
	while (!stop_requested) {
		int s = o.client ? connect_retry(o.path, o.reconnect_max_ms)
				 : accept_one(ls);

		if (s < 0) {
			if (!stop_requested)
				status = 1;
			break;
		}
		if (serve(vb, s)) {
			status = 1;
			break;
		}
		pcap_flush(pcap);
		if (o.once)
			break;
	}
	vb_print_stats(vb, stderr);
out:
	ipc_stats_stop(stats);
	if (ls >= 0) {
		close(ls);
		unlink(o.path);
	}
	vb_destroy(vb);
	pcap_close(pcap);
	host_close(host);
	sandbox_free(&o.sb);
	return status;
}
