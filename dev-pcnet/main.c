// SPDX-License-Identifier: MIT
/*
 * dev-pcnet: the AMD Am79C970A (PCnet-PCI II) as a device process.
 *
 *   dev-pcnet --connect PATH [--backend PATH] [--mac XX:XX:XX:XX:XX:XX]
 *             [--spin-ns N] [--stats-sock PATH] [--tx-combine on|off]
 *             [--tx-poll chip|adaptive|N] [--irq-holdoff N] [--sandbox]
 *             [--user USER[:GROUP]]
 *
 * It wraps the model library (pcnet.h) in the device side of the device
 * protocol (ipc/devsrv.h): BAR0 is the 32-byte I/O BAR, BAR1 the memory
 * BAR with the same map, INTA# goes through devsrv_set_irq(), and the
 * transmit ring poll runs from a timerfd on the devsrv thread.  The chip's
 * architectural state lives in the devsrv state region, so a successor
 * process adopts it (PCNET_RESUME) and the guest sees no reset.
 *
 * With --backend PATH the port is a vhost-user front-end
 * (vhost_frontend.c) of the back-end listening on PATH: frames go to and
 * come from the guest's own buffers, zero copy.  Without it, or while the
 * back-end is away, frames the chip transmits are dropped (counted as
 * tx_dropped) unless the chip is in loopback, which the library handles
 * itself.  The link reads as up.
 *
 * SPLITVMM_FAULT=POINT:N[:ACTION] in the environment (the crash and
 * sandbox tests, ipc/fault.h) kills the process with SIGKILL (or tries a
 * forbidden system call) at the N-th pass through fault point POINT of
 * the model (pcnet.h: reg-read, reg-write, tx-chain, rx-handback, init,
 * irq-pending).
 *
 * --sandbox enters ipc/sandbox.h's sandbox once attached: no file system
 * but sockets in the directories of --backend and --stats-sock, no
 * capabilities, a seccomp allow-list; --user USER[:GROUP] switches user
 * then.
 *
 * --stats-sock PATH serves the live counters (ipc/stats.h): requests,
 * interrupts, the chip's frame counters, the vhost-user front-end's.
 *
 * --tx-poll and --irq-holdoff are Table 3's exit-less transmit and
 * interrupt moderation (pcnet_set_tx_poll(), pcnet_set_irq_holdoff()):
 * settings of this process, so a successor sets them again over the
 * resumed chip state.
 *
 * Exit status: 0 when vmm-core closes the connection (or on SIGTERM or
 * SIGINT), 1 on any error, with one line on stderr.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "devsrv.h"
#include "fault.h"
#include "pcnet.h"
#include "sandbox.h"
#include "stats.h"
#include "vhost_frontend.h"

#define STATE_SIZE		4096u
#define CONNECT_TIMEOUT_MS	5000
#define DEFAULT_SPIN_NS		100000
#define MAX_TX_POLL_US		100000	/* --tx-poll N: up to 100 ms */
#define MAX_IRQ_HOLDOFF_US	100000
#define BAR_IO			0
#define BAR_MMIO		1

static_assert(sizeof(struct pcnet_state) <= STATE_SIZE,
	      "pcnet_state fits the state region");

struct dev_pcnet {
	struct devsrv *srv;
	struct pcnet *dev;
	struct pcnet_state *st;		/* in the state region */
	bool resumed;			/* the core handed back a region */
	int timer_fd;
	uint64_t armed;			/* timerfd deadline; 0: none */
	const char *backend;		/* --backend: vhost-user socket */
	struct vfe *fe;
	uint8_t mac[6];
	const char *stats_sock;		/* --stats-sock */
	struct sandbox sb;		/* --sandbox, --user */
	bool tx_single;			/* --tx-combine off */
	bool rdp_late;			/* --coalesce-rdp on */
	uint64_t tx_poll_ns;		/* --tx-poll N; 0: chip or adaptive */
	bool tx_poll_adaptive;		/* --tx-poll adaptive */
	uint64_t irq_holdoff_ns;	/* --irq-holdoff N; 0: off */
	/* Live counters: written on the devsrv thread, read by the stats one. */
	uint64_t reads, writes, irq_asserts, timer_runs, shadow_notes;
	int irq_level;
};

#define COUNT(d, f) __atomic_store_n(&(d)->f, (d)->f + 1, __ATOMIC_RELAXED)

static struct devsrv *volatile stop_target;	/* for the signal handler */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keeps the timerfd on the library's next deadline (absolute). */
static void timer_rearm(struct dev_pcnet *d)
{
	uint64_t when = pcnet_next_deadline(d->dev);
	struct itimerspec its = { 0 };

	if (when == UINT64_MAX)
		when = 0;
	if (when == d->armed)
		return;
	if (when) {
		its.it_value.tv_sec = (time_t)(when / 1000000000u);
		its.it_value.tv_nsec = (long)(when % 1000000000u);
		/* 0 would disarm: a deadline at the epoch is simply due. */
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		fprintf(stderr, "dev-pcnet: timerfd_settime: %s\n",
			strerror(errno));
		return;
	}
	d->armed = when;
}

static void on_timer(void *opaque, int fd)
{
	struct dev_pcnet *d = opaque;
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		fprintf(stderr, "dev-pcnet: timerfd read: %s\n",
			strerror(errno));
	d->armed = 0;
	COUNT(d, timer_runs);
	pcnet_timer(d->dev, now_ns());
	if (d->fe)
		vfe_sync(d->fe);
	timer_rearm(d);
}

/* pcnet_ops */
static void op_set_irq(void *opaque, int level)
{
	struct dev_pcnet *d = opaque;

	if (level && !d->irq_level)
		COUNT(d, irq_asserts);
	d->irq_level = level;
	devsrv_set_irq(d->srv, level != 0);
}

static enum pcnet_tx_result op_tx(void *opaque, const struct pcnet_seg *seg,
				  unsigned int nseg, uint32_t len,
				  unsigned int flags)
{
	struct dev_pcnet *d = opaque;

	if (!d->fe)
		return PCNET_TX_DROPPED;	/* no backend */
	return vfe_tx(d->fe, seg, nseg, len, flags);
}

static uint64_t op_now_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

/* Also after calls the front-end makes (a completion, a frame in). */
static void op_deadline_changed(void *opaque)
{
	timer_rearm(opaque);
}

static struct dp_shadow_reg shadow_reg(const struct pcnet_shadow_reg *r,
				       uint8_t flags)
{
	return (struct dp_shadow_reg){
		/* The memory BAR decodes the I/O BAR's map. */
		.bars = 1u << BAR_IO | 1u << BAR_MMIO, .size = r->size,
		.flags = flags, .offset = r->offset, .index = r->rap,
		.value = r->value, .token = r->token,
		.quiet_mask = r->quiet_mask, .quiet_value = r->quiet_value,
	};
}

/* The chip's side-effect-free registers, for the core to answer. */
static void op_regs_changed(void *opaque)
{
	struct dev_pcnet *d = opaque;
	struct dp_shadow_reg idx, regs[PCNET_SHADOW_MAX];
	struct pcnet_shadow sh;

	if (!d->dev || !d->srv || !devsrv_shadow_on(d->srv))
		return;
	pcnet_shadow(d->dev, &sh);
	idx = shadow_reg(&sh.rap, DP_SHADOW_F_VALID);
	idx.index = sh.rap.value;
	idx.value = PCNET_RAP_MASK;
	for (unsigned i = 0; i < sh.n; i++)
		regs[i] = shadow_reg(&sh.reg[i], DP_SHADOW_F_VALID |
				     (sh.reg[i].indexed ? DP_SHADOW_F_INDEXED : 0) |
				     (sh.reg[i].note ? DP_SHADOW_F_NOTE : 0) |
				     (sh.reg[i].quiet_mask || sh.reg[i].quiet_value ?
				      DP_SHADOW_F_QUIET : 0));
	devsrv_shadow_publish(d->srv, &idx, regs, sh.n);
}

static const struct pcnet_ops pcnet_ops = {
	.set_irq = op_set_irq,
	.tx = op_tx,
	.now_ns = op_now_ns,
	.deadline_changed = op_deadline_changed,
	.regs_changed = op_regs_changed,
};

/* devsrv_ops */
static uint64_t srv_read(void *opaque, unsigned bar, uint64_t offset,
			 unsigned size)
{
	struct dev_pcnet *d = opaque;
	uint64_t v;

	COUNT(d, reads);
	if (size > 4)
		return ~0ull;	/* the chip decodes up to doublewords */
	if (bar == BAR_IO)
		v = pcnet_io_read(d->dev, (uint32_t)offset, size);
	else if (bar == BAR_MMIO)
		v = pcnet_mmio_read(d->dev, offset, size);
	else
		return ~0ull;
	if (d->fe)
		vfe_sync(d->fe);
	timer_rearm(d);
	return v;
}

static void srv_write(void *opaque, unsigned bar, uint64_t offset,
		      unsigned size, uint64_t value)
{
	struct dev_pcnet *d = opaque;

	COUNT(d, writes);
	if (size > 4)
		return;
	if (bar == BAR_IO)
		pcnet_io_write(d->dev, (uint32_t)offset, size, (uint32_t)value);
	else if (bar == BAR_MMIO)
		pcnet_mmio_write(d->dev, offset, size, (uint32_t)value);
	else
		return;
	if (d->fe)
		vfe_sync(d->fe);
	timer_rearm(d);
}

static void srv_attached(void *opaque, void *state, size_t state_size,
			 bool resumed)
{
	struct dev_pcnet *d = opaque;

	/* devsrv checked that the core gave at least STATE_SIZE bytes. */
	(void)state_size;
	d->st = state;
	d->resumed = resumed;
}

/* The core answered a CSR0 read from the shadow (the entry with note). */
static void srv_shadow_read(void *opaque, unsigned bar, uint64_t offset,
			    unsigned size, uint32_t value, uint32_t token)
{
	struct dev_pcnet *d = opaque;

	(void)bar;
	(void)offset;
	(void)size;
	COUNT(d, shadow_notes);
	pcnet_shadow_note(d->dev, value, token);
}

/* While devsrv spins: the back-end's used rings, looked at, not called. */
static unsigned srv_poll(void *opaque)
{
	struct dev_pcnet *d = opaque;
	unsigned n;

	if (!d->fe)
		return 0;
	n = vfe_poll(d->fe);
	if (n)
		timer_rearm(d);
	return n;
}

static bool srv_before_sleep(void *opaque)
{
	struct dev_pcnet *d = opaque;

	return d->fe && vfe_before_sleep(d->fe);
}

static const struct devsrv_ops srv_ops = {
	.read = srv_read,
	.write = srv_write,
	.attached = srv_attached,
	.shadow_read = srv_shadow_read,
	.poll = srv_poll,
	.before_sleep = srv_before_sleep,
};

static void on_signal(int sig)
{
	(void)sig;
	if (stop_target)
		devsrv_stop(stop_target);
}

static void catch_signals(struct devsrv *srv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	stop_target = srv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A station address is unicast. */
	return (mac[0] & 1) ? -1 : 0;
}

/* A decimal count of microseconds in [@min, @max], as nanoseconds. */
static int parse_us(const char *s, unsigned long long min,
		    unsigned long long max, uint64_t *ns)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*ns = v * 1000u;
	return 0;
}

static int parse_on_off(const char *opt, const char *arg, bool *on)
{
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		fprintf(stderr, "dev-pcnet: %s: '%s' is not on or off\n", opt, arg);
		return -1;
	}
	*on = !strcmp(arg, "on");
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dev-pcnet --connect PATH [--backend PATH] [--mac XX:XX:XX:XX:XX:XX] [--spin-ns N] [--stats-sock PATH] [--tx-combine on|off] [--coalesce-rdp on|off] [--tx-poll chip|adaptive|N] [--irq-holdoff N] [--sandbox] [--user USER[:GROUP]]\n");
}

static int parse_args(int argc, char **argv, struct devsrv_config *cfg,
		      struct dev_pcnet *d)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'b' },
		{ "mac", required_argument, NULL, 'm' },
		{ "spin-ns", required_argument, NULL, 's' },
		{ "stats-sock", required_argument, NULL, 'S' },
		{ "tx-combine", required_argument, NULL, 'T' },
		{ "coalesce-rdp", required_argument, NULL, 'R' },
		{ "tx-poll", required_argument, NULL, 'P' },
		{ "irq-holdoff", required_argument, NULL, 'H' },
		{ "sandbox", no_argument, NULL, 'X' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end, err[256];
	bool on;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'X':
			d->sb.on = true;
			break;
		case 'u':
			if (sandbox_parse_user(&d->sb, optarg, err, sizeof(err))) {
				fprintf(stderr, "dev-pcnet: %s\n", err);
				return -1;
			}
			break;
		case 'c':
			cfg->sock_path = optarg;
			break;
		case 'b':
			d->backend = optarg;
			break;
		case 'S':
			d->stats_sock = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, d->mac)) {
				fprintf(stderr, "dev-pcnet: --mac: '%s' is not a unicast address XX:XX:XX:XX:XX:XX\n",
					optarg);
				return -1;
			}
			break;
		case 's':
			errno = 0;
			cfg->spin_ns = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || *optarg == '-') {
				fprintf(stderr, "dev-pcnet: --spin-ns: '%s' is not a number\n",
					optarg);
				return -1;
			}
			break;
		case 'T':	/* off: one frame per ring poll (Table 3's baseline) */
			if (parse_on_off("--tx-combine", optarg, &on))
				return -1;
			d->tx_single = !on;
			break;
		case 'R':	/* off: only RAP and BDP writes may be late */
			if (parse_on_off("--coalesce-rdp", optarg, &d->rdp_late))
				return -1;
			break;
		case 'P':	/* exit-less transmit: the ring poll's pace */
			d->tx_poll_ns = 0;
			d->tx_poll_adaptive = !strcmp(optarg, "adaptive");
			if (d->tx_poll_adaptive || !strcmp(optarg, "chip"))
				break;
			if (parse_us(optarg, 1, MAX_TX_POLL_US, &d->tx_poll_ns)) {
				fprintf(stderr, "dev-pcnet: --tx-poll: '%s' is not chip, adaptive or microseconds 1..%u\n",
					optarg, MAX_TX_POLL_US);
				return -1;
			}
			break;
		case 'H':	/* interrupt moderation */
			if (parse_us(optarg, 0, MAX_IRQ_HOLDOFF_US,
				     &d->irq_holdoff_ns)) {
				fprintf(stderr, "dev-pcnet: --irq-holdoff: '%s' is not microseconds 0..%u\n",
					optarg, MAX_IRQ_HOLDOFF_US);
				return -1;
			}
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -1;
		}
	}
	if (optind != argc || !cfg->sock_path) {
		usage();
		return -1;
	}
	if (d->sb.set_user && !d->sb.on) {
		fprintf(stderr, "dev-pcnet: --user needs --sandbox\n");
		return -1;
	}
	return 0;
}

static void stats_snapshot(FILE *f, void *opaque)
{
	struct dev_pcnet *d = opaque;
	struct pcnet_tune_stats ts;
	struct pcnet_stats ps;
	struct vfe_stats vs;

	ipc_stat(f, "requests.reads", __atomic_load_n(&d->reads, __ATOMIC_RELAXED));
	ipc_stat(f, "requests.writes", __atomic_load_n(&d->writes, __ATOMIC_RELAXED));
	ipc_stat(f, "requests.shadow_notes",
		 __atomic_load_n(&d->shadow_notes, __ATOMIC_RELAXED));
	ipc_stat(f, "interrupts.asserted",
		 __atomic_load_n(&d->irq_asserts, __ATOMIC_RELAXED));
	ipc_stat(f, "timer.runs", __atomic_load_n(&d->timer_runs, __ATOMIC_RELAXED));
	/* Written on the devsrv thread, read unlocked as the chip's below. */
	pcnet_get_tune_stats(d->dev, &ts);
	ipc_stat(f, "interrupts.deferred", ts.irq_deferred);
	ipc_stat(f, "interrupts.cancelled", ts.irq_cancelled);
	ipc_stat(f, "tx_poll.timer_polls", ts.tx_timer_polls);
	ipc_stat(f, "tx_poll.found_frames", ts.tx_timer_busy);
	ipc_stat(f, "tx_poll.frames", ts.tx_timer_frames);
	pcnet_get_stats(d->dev, &ps);
	ipc_stat(f, "chip.tx.frames", ps.tx_frames);
	ipc_stat(f, "chip.tx.bytes", ps.tx_bytes);
	ipc_stat(f, "chip.tx.dropped", ps.tx_dropped);
	ipc_stat(f, "chip.tx.errors", ps.tx_errors);
	ipc_stat(f, "chip.rx.frames", ps.rx_frames);
	ipc_stat(f, "chip.rx.bytes", ps.rx_bytes);
	ipc_stat(f, "chip.rx.drop.filtered", ps.rx_filtered);
	ipc_stat(f, "chip.rx.drop.missed", ps.rx_missed);
	ipc_stat(f, "chip.rx.drop.overflow", ps.rx_overflows);
	ipc_stat(f, "chip.rx.drop.other", ps.rx_dropped);
	ipc_stat(f, "chip.dma_faults", ps.dma_faults);
	ipc_stat(f, "state.torn_resumes", ps.torn_resumes);
	if (!d->fe)
		return;
	vfe_get_stats(d->fe, &vs);
	ipc_stat(f, "vhost.connected", vfe_connected(d->fe));
	ipc_stat(f, "vhost.connects", vs.connects);
	ipc_stat(f, "vhost.tx.chains", vs.tx_chains);
	ipc_stat(f, "vhost.tx.used", vs.tx_used);
	ipc_stat(f, "vhost.tx.pieces_copied", vs.tx_copied);
	ipc_stat(f, "vhost.tx.drop.queue_full", vs.tx_full);
	ipc_stat(f, "vhost.rx.zero_copy", vs.rx_zero_copy);
	ipc_stat(f, "vhost.rx.moved", vs.rx_copied);
	ipc_stat(f, "vhost.rx.drop.filtered", vs.rx_filtered);
	ipc_stat(f, "vhost.rx.drop.other", vs.rx_dropped);
	ipc_stat(f, "vhost.rx.queue_stops", vs.rx_ring_stops);
}

static void describe(struct dp_hello *h, bool rdp)
{
	memset(h, 0, sizeof(*h));
	h->version = DP_VERSION;
	h->state_size = STATE_SIZE;
	h->features = DP_F_POSTED_WRITES | DP_F_SHADOW_READS;
	h->vendor_id = PCNET_PCI_VENDOR_ID;
	h->device_id = PCNET_PCI_DEVICE_ID;
	/* No EEPROM-loaded subsystem IDs: 0, as on a bare board. */
	h->subsys_vendor_id = 0;
	h->subsys_id = 0;
	h->class_code = PCNET_PCI_CLASS;
	h->revision = PCNET_PCI_REVISION;
	h->int_pin = PCNET_PCI_INT_PIN;
	snprintf(h->name, sizeof(h->name), "pcnet");
	/*
	 * Writes to 0x12-0x17 may arrive late (KVM coalesced PIO): WIO RAP,
	 * WIO RESET (writes ignored), WIO BDP and DWIO RAP.  Selecting a
	 * register or writing a BCR has no effect the guest can see before
	 * its next access to the chip, which delivers them first.  With
	 * --coalesce-rdp on (off by default), WIO RDP and DWIO RDP (0x10) too:
	 * the core delivers them within its pump period and before the EOI,
	 * the chip itself starts a TDMD's poll and drops INTA# after an
	 * acknowledge only some time later, and a late acknowledge spares
	 * what the guest has not read (pcnet_raise()).
	 */
	h->bar[BAR_IO] = (struct dp_bar_desc){ .size = PCNET_IO_BAR_SIZE,
					       .type = DP_BAR_IO,
					       .flags = rdp ? DP_BAR_F_COALESCED_ACK : 0,
					       .coalesce_off = rdp ? 0x10 : 0x12,
					       .coalesce_len = rdp ? 8 : 6 };
	h->bar[BAR_MMIO] = (struct dp_bar_desc){ .size = PCNET_MMIO_BAR_SIZE,
						 .type = DP_BAR_MEM32 };
}

int main(int argc, char **argv)
{
	struct devsrv_config cfg = {
		.connect_timeout_ms = CONNECT_TIMEOUT_MS,
		.spin_ns = DEFAULT_SPIN_NS,
	};
	struct dev_pcnet d = {
		.timer_fd = -1,
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	};
	struct ipc_stats *stats = NULL;
	uint64_t torn_before;
	struct pcnet_config pc;
	char err[256];
	int rc;

	if (parse_args(argc, argv, &cfg, &d) || ipc_fault_setup("dev-pcnet"))
		return 1;
	pcnet_fault_hook = ipc_fault;
	/* The directories are resolved now: the sandbox sees no paths. */
	if (d.sb.on &&
	    ((d.backend && sandbox_allow_socket(&d.sb, d.backend, err, sizeof(err))) ||
	     (d.stats_sock && sandbox_allow_socket(&d.sb, d.stats_sock, err, sizeof(err))))) {
		fprintf(stderr, "dev-pcnet: --sandbox: %s\n", err);
		sandbox_free(&d.sb);
		return 1;
	}
	describe(&cfg.hello, d.rdp_late);
	d.timer_fd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (d.timer_fd < 0) {
		fprintf(stderr, "dev-pcnet: timerfd_create: %s\n",
			strerror(errno));
		return 1;
	}
	if (devsrv_connect(&d.srv, &cfg, &srv_ops, &d, err, sizeof(err))) {
		fprintf(stderr, "dev-pcnet: %s\n", err);
		close(d.timer_fd);
		return 1;
	}
	if (!d.st) {
		fprintf(stderr, "dev-pcnet: the core gave no state region\n");
		rc = -1;
		goto out;
	}

	torn_before = d.resumed ? d.st->stats.torn_resumes : 0;
	memset(&pc, 0, sizeof(pc));
	pc.mem = devsrv_guest_mem(d.srv);
	memcpy(pc.mac, d.mac, sizeof(pc.mac));
	rc = pcnet_create(&d.dev, d.st, &pc, &pcnet_ops, &d,
			  d.resumed ? PCNET_RESUME : 0);
	if (rc < 0) {
		fprintf(stderr, "dev-pcnet: pcnet_create: %s\n", strerror(-rc));
		goto out;
	}
	/* A successor drives INTA# as its predecessor left it. */
	pcnet_set_tx_batch(d.dev, d.tx_single ? 1 : 0);
	/* Process settings, not in the state: set again after a resume. */
	pcnet_set_tx_poll(d.dev, d.tx_poll_ns, d.tx_poll_adaptive);
	pcnet_set_irq_holdoff(d.dev, d.irq_holdoff_ns);
	op_regs_changed(&d);
	devsrv_set_irq(d.srv, pcnet_irq_level(d.dev) != 0);
	if (devsrv_add_fd(d.srv, d.timer_fd, on_timer, &d)) {
		fprintf(stderr, "dev-pcnet: cannot watch the poll timer\n");
		rc = -1;
		goto out;
	}
	if (d.backend) {
		d.fe = vfe_new(d.srv, d.backend);
		if (!d.fe) {
			fprintf(stderr, "dev-pcnet: cannot set up the vhost-user front-end\n");
			rc = -1;
			goto out;
		}
	}
	/* Set up: from here on the process only serves its fds.  Before any
	 * thread exists, so that the stats thread inherits the sandbox. */
	if (sandbox_enter(&d.sb, SANDBOX_DEV_PCNET, err, sizeof(err))) {
		fprintf(stderr, "dev-pcnet: --sandbox: %s\n", err);
		rc = -1;
		goto out;
	}
	if (d.fe)
		vfe_attach(d.fe, d.dev);
	timer_rearm(&d);
	catch_signals(d.srv);
	fprintf(stderr, "dev-pcnet: attached generation %u, %s%s, %02x:%02x:%02x:%02x:%02x:%02x%s\n",
		devsrv_welcome(d.srv)->generation,
		rc == 1 ? "state resumed" : "fresh state",
		rc == 1 && d.st->stats.torn_resumes != torn_before ?
			" (an update was in progress: rolled forward)" : "",
		d.st->mac[0],
		d.st->mac[1], d.st->mac[2], d.st->mac[3], d.st->mac[4],
		d.st->mac[5], d.sb.on ? ", sandboxed" : "");
	if (d.stats_sock &&
	    ipc_stats_start(d.stats_sock, "dev-pcnet", stats_snapshot, &d,
			    &stats, err, sizeof(err))) {
		fprintf(stderr, "dev-pcnet: %s\n", err);
		rc = -1;
		goto out;
	}
	rc = devsrv_run(d.srv);
	ipc_stats_stop(stats);
	stats = NULL;
	stop_target = NULL;
	if (d.fe) {
		struct vfe_stats vs;

		vfe_get_stats(d.fe, &vs);
		fprintf(stderr, "dev-pcnet: vhost-user: %llu connects; TX %llu chains zero copy (%llu pieces copied, %llu dropped full); RX %llu in place, %llu moved, %llu filtered, %llu dropped; %llu receive queue stops\n",
			(unsigned long long)vs.connects,
			(unsigned long long)vs.tx_chains,
			(unsigned long long)vs.tx_copied,
			(unsigned long long)vs.tx_full,
			(unsigned long long)vs.rx_zero_copy,
			(unsigned long long)vs.rx_copied,
			(unsigned long long)vs.rx_filtered,
			(unsigned long long)vs.rx_dropped,
			(unsigned long long)vs.rx_ring_stops);
	}
	devsrv_del_fd(d.srv, d.timer_fd);
out:
	vfe_free(d.fe);
	if (d.dev)
		pcnet_destroy(d.dev);
	devsrv_free(d.srv);
	close(d.timer_fd);
	sandbox_free(&d.sb);
	return rc < 0 ? 1 : 0;
}
