// SPDX-License-Identifier: MIT
/*
 * refdev: the reference out-of-process device (register map in refdev.h).
 *
 *   refdev --connect PATH [--spin-ns N] [--coalesce-go] [--mailbox GPA]
 *
 * --coalesce-go declares DMA_GO coalescable (HELLO coalesce_off/len): the
 * core may deliver it late, within its pump's bound (PROTOCOL.md).
 * --mailbox: two 32-bit words in guest RAM at GPA, a work source of the
 * device's own (as a virtqueue is dev-pcnet's), looked at only through
 * devsrv_ops.poll while devsrv spins: a value in the first word is moved
 * to the second, the first cleared.
 *
 * It exists to exercise ipc/devsrv.c and vmm-core's device proxy from a
 * test guest: posted writes against synchronous reads, DMA into guest RAM
 * with bounds checks, a level-triggered INTx, and a state region that lets
 * a killed process be replaced without the guest noticing.
 *
 * Exit status: 0 when vmm-core closes the connection (or on SIGTERM), 1 on
 * any error, with one line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devsrv.h"
#include "refdev.h"

#define REFDEV_STATE_MAGIC	0x53464552u	/* "REFS" */
#define REFDEV_STATE_SIZE	4096u
#define REFDEV_NR_REGS		(REFDEV_BAR0_SIZE / 4)
#define CONNECT_TIMEOUT_MS	5000
#define DEFAULT_SPIN_NS		100000

/* In the state region: everything a successor process needs. */
struct refdev_state {
	uint32_t magic;			/* REFDEV_STATE_MAGIC once set up */
	uint32_t reg[REFDEV_NR_REGS];	/* by offset / 4; ID is not stored */
};

struct refdev {
	struct refdev_state *st;
	struct devsrv *srv;
	bool resumed;
	bool mailbox;
	uint64_t mailbox_gpa;
};

static struct devsrv *volatile stop_target;	/* for the signal handler */

static uint64_t rd_read(void *opaque, unsigned bar, uint64_t offset,
			unsigned size)
{
	struct refdev *d = opaque;
	unsigned idx = (unsigned)(offset / 4), shift = (unsigned)(offset % 4) * 8;
	uint32_t v;

	(void)bar;	/* devsrv only passes accesses inside BAR0 */
	if (idx >= REFDEV_NR_REGS)
		return ~0ull;
	v = idx == REFDEV_ID / 4 ? REFDEV_ID_VAL : d->st->reg[idx];
	/* A narrower read gets the bytes of the register it falls in. */
	return (v >> shift) & (size >= 4 ? 0xffffffffu : (1u << size * 8) - 1);
}

/*
 * Every register as a 32-bit read answers it, for the core to answer
 * itself (DP_F_SHADOW_READS): WRITES changes with every write, so a
 * guest that reads it back checks that the core answers only once the
 * writes before the read are done.  Narrower reads go to the device.
 */
static void publish(struct refdev *d)
{
	struct dp_shadow_reg regs[REFDEV_NR_REGS];
	static const struct dp_shadow_reg no_index;

	for (unsigned i = 0; i < REFDEV_NR_REGS; i++)
		regs[i] = (struct dp_shadow_reg){
			.bars = 1, .size = 4, .flags = DP_SHADOW_F_VALID,
			.offset = i * 4, .value = (uint32_t)rd_read(d, 0, i * 4, 4),
		};
	devsrv_shadow_publish(d->srv, &no_index, regs, REFDEV_NR_REGS);
}

static void dma_go(struct refdev *d, uint32_t seed)
{
	uint32_t addr = d->st->reg[REFDEV_DMA_ADDR / 4];
	uint32_t len = d->st->reg[REFDEV_DMA_LEN / 4];
	uint8_t *p;

	if (!len)
		return;
	p = guest_mem_ptr(devsrv_guest_mem(d->srv), addr, len);
	if (!p) {
		d->st->reg[REFDEV_STATUS / 4] |= REFDEV_STATUS_DMA_FAULT;
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		p[i] = REFDEV_DMA_BYTE(i, seed);
}

static void rd_write(void *opaque, unsigned bar, uint64_t offset,
		     unsigned size, uint64_t value)
{
	struct refdev *d = opaque;
	uint32_t v = (uint32_t)value;

	(void)bar;
	d->st->reg[REFDEV_WRITES / 4]++;
	/* The registers are 32-bit: a narrower or unaligned write is dropped. */
	if (size != 4 || offset % 4)
		return;
	switch (offset) {
	case REFDEV_SCRATCH:
	case REFDEV_DMA_ADDR:
	case REFDEV_DMA_LEN:
		d->st->reg[offset / 4] = v;
		break;
	case REFDEV_IRQ:
		d->st->reg[REFDEV_IRQ / 4] = v & 1;
		publish(d);	/* before the interrupt that tells of it */
		devsrv_set_irq(d->srv, v & 1);
		break;
	case REFDEV_DMA_GO:
		dma_go(d, v);
		break;
	case REFDEV_STATUS:
		d->st->reg[REFDEV_STATUS / 4] &= ~v;
		break;
	default:	/* ID, WRITES: read-only */
		break;
	}
	publish(d);
}

static void rd_attached(void *opaque, void *state, size_t state_size,
			bool resumed)
{
	struct refdev *d = opaque;

	/* devsrv checked that the core gave at least REFDEV_STATE_SIZE. */
	(void)state_size;
	d->st = state;
	d->resumed = resumed && d->st->magic == REFDEV_STATE_MAGIC;
	if (!d->resumed) {
		memset(d->st, 0, sizeof(*d->st));
		d->st->magic = REFDEV_STATE_MAGIC;
	}
}

static uint32_t *mailbox(struct refdev *d)
{
	if (!d->mailbox)
		return NULL;
	return guest_mem_ptr(devsrv_guest_mem(d->srv), d->mailbox_gpa, 8);
}

static unsigned rd_poll(void *opaque)
{
	uint32_t *m = mailbox(opaque), v;

	if (!m || !(v = __atomic_load_n(&m[0], __ATOMIC_ACQUIRE)))
		return 0;
	__atomic_store_n(&m[0], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&m[1], v, __ATOMIC_RELEASE);
	return 1;
}

static bool rd_before_sleep(void *opaque)
{
	uint32_t *m = mailbox(opaque);

	return m && __atomic_load_n(&m[0], __ATOMIC_ACQUIRE);
}

static const struct devsrv_ops refdev_ops = {
	.read = rd_read,
	.write = rd_write,
	.attached = rd_attached,
	.poll = rd_poll,
	.before_sleep = rd_before_sleep,
};

static void on_signal(int sig)
{
	(void)sig;
	if (stop_target)
		devsrv_stop(stop_target);
}

#define USAGE "usage: refdev --connect PATH [--spin-ns N] [--coalesce-go] [--mailbox GPA]\n"

static int parse_args(int argc, char **argv, struct devsrv_config *cfg,
		      bool *coalesce_go, struct refdev *d)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "spin-ns", required_argument, NULL, 's' },
		{ "coalesce-go", no_argument, NULL, 'g' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg->sock_path = optarg;
			break;
		case 'g':
			*coalesce_go = true;
			break;
		case 'm':
			errno = 0;
			d->mailbox_gpa = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || *optarg == '-' ||
			    d->mailbox_gpa % 4) {
				fprintf(stderr, "refdev: --mailbox: '%s' is not an aligned address\n",
					optarg);
				return -1;
			}
			d->mailbox = true;
			break;
		case 's':
			errno = 0;
			cfg->spin_ns = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || *optarg == '-') {
				fprintf(stderr, "refdev: --spin-ns: '%s' is not a number\n",
					optarg);
				return -1;
			}
			break;
		default:
			fputs(USAGE, stderr);
			return -1;
		}
	}
	if (optind != argc || !cfg->sock_path) {
		fputs(USAGE, stderr);
		return -1;
	}
	return 0;
}

static void describe(struct dp_hello *h, bool coalesce_go)
{
	memset(h, 0, sizeof(*h));
	h->version = DP_VERSION;
	h->state_size = REFDEV_STATE_SIZE;
	h->features = DP_F_POSTED_WRITES | DP_F_SHADOW_READS;
	h->vendor_id = REFDEV_VENDOR;
	h->device_id = REFDEV_DEVICE;
	h->subsys_vendor_id = REFDEV_VENDOR;
	h->subsys_id = REFDEV_DEVICE;
	h->class_code = REFDEV_CLASS;
	h->int_pin = 1;
	snprintf(h->name, sizeof(h->name), "refdev");
	h->bar[0] = (struct dp_bar_desc){ .size = REFDEV_BAR0_SIZE,
					  .type = DP_BAR_IO };
	if (coalesce_go) {
		h->bar[0].coalesce_off = REFDEV_DMA_GO;
		h->bar[0].coalesce_len = 4;
	}
}

static void catch_signals(struct devsrv *srv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	stop_target = srv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int main(int argc, char **argv)
{
	struct devsrv_config cfg = {
		.connect_timeout_ms = CONNECT_TIMEOUT_MS,
		.spin_ns = DEFAULT_SPIN_NS,
	};
	struct refdev d = { 0 };
	bool coalesce_go = false;
	char err[256];
	int rc;

	if (parse_args(argc, argv, &cfg, &coalesce_go, &d))
		return 1;
	describe(&cfg.hello, coalesce_go);
	if (devsrv_connect(&d.srv, &cfg, &refdev_ops, &d, err, sizeof(err))) {
		fprintf(stderr, "refdev: %s\n", err);
		return 1;
	}
	catch_signals(d.srv);
	publish(&d);
	/* The line stays as the killed process left it. */
	if (d.st->reg[REFDEV_IRQ / 4])
		devsrv_set_irq(d.srv, true);
	fprintf(stderr, "refdev: attached generation %u, %s\n",
		devsrv_welcome(d.srv)->generation,
		d.resumed ? "resumed" : "fresh");
	rc = devsrv_run(d.srv);
	stop_target = NULL;
	devsrv_free(d.srv);
	if (rc < 0)
		return 1;	/* devsrv said why */
	return 0;
}
