// SPDX-License-Identifier: MIT
/*
 * refdev-fakecore REFDEV: plays vmm-core's part of the device protocol to
 * a real refdev process, without KVM, to check ipc/devsrv.c where the
 * guest cannot reach: ring wrap-around, program order of posted writes
 * against reads, refused accesses and messages, a broken ring, a corrupt
 * I/O region, hang-up, SIGTERM, and restarts that find posted writes and
 * a request in flight left by the process before, and a device's own
 * work source polled only while it spins (devsrv_ops.poll).
 *
 * Prints "ok  ..." or "FAIL ..." per check; exit 0 only if none failed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doorbell.h"
#include "dp_msg.h"
#include "msg.h"
#include "refdev.h"
#include "ring.h"

#define RAM_SIZE	(1u << 20)
#define STATE_SIZE	4096u
#define WAIT_MS		3000
#define NR_VCPUS	1u

struct core {
	const char *refdev;
	char path[108];
	int lsock, conn;
	pid_t pid;
	int err_fd;			/* the refdev's stderr, a memfd */
	int fds[DP_WELCOME_FDS + NR_VCPUS];
	int ram_fd;
	uint32_t io_size;
	uint8_t *io, *ram;
	struct dp_io_header *hdr;
	struct dp_slot *slot;
	struct ipc_ring ring;
	uint32_t seq;
	uint64_t features;		/* granted in WELCOME */
	struct dp_shadow *shadow;
	const char *spin_ns;		/* refdev --spin-ns, NULL: its default */
	int fails;
};

/* refdev --mailbox: two words of guest RAM the device polls. */
#define MAILBOX_GPA	0x8000u

static void check(struct core *c, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(struct core *c, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		c->fails++;
}

static __attribute__((noreturn)) void die(const char *what)
{
	fprintf(stderr, "refdev-fakecore: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ms(void)
{
	return ipc_now_ns() / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* ----------------------------------------------------- the shared parts */

static void make_shared(struct core *c)
{
	uint32_t slot, posted, stride;
	int memfd_state, memfd_io;

	dp_io_layout(NR_VCPUS, &slot, &posted, &stride, &c->io_size);
	memfd_state = memfd_create("state", MFD_CLOEXEC);
	memfd_io = memfd_create("io", MFD_CLOEXEC);
	c->ram_fd = memfd_create("ram", MFD_CLOEXEC);
	if (memfd_state < 0 || memfd_io < 0 || c->ram_fd < 0 ||
	    ftruncate(memfd_state, STATE_SIZE) || ftruncate(memfd_io, c->io_size) ||
	    ftruncate(c->ram_fd, RAM_SIZE))
		die("memfd");
	c->fds[DP_FD_STATE] = memfd_state;
	c->fds[DP_FD_IO] = memfd_io;
	for (unsigned i = DP_FD_KICK; i < DP_WELCOME_FDS + NR_VCPUS; i++) {
		c->fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->fds[i] < 0)
			die("eventfd");
	}
	c->io = mmap(NULL, c->io_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     memfd_io, 0);
	c->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->ram_fd, 0);
	if (c->io == MAP_FAILED || c->ram == MAP_FAILED)
		die("mmap");
	c->hdr = (struct dp_io_header *)c->io;
	*c->hdr = (struct dp_io_header){
		.magic = DP_IO_MAGIC, .version = DP_VERSION,
		.nr_vcpus = NR_VCPUS, .posted_entries = DP_POSTED_ENTRIES,
		.slot_offset = slot, .posted_offset = posted,
		.posted_stride = stride,
		.shadow_offset = dp_io_shadow_offset(NR_VCPUS),
	};
	c->slot = (struct dp_slot *)(c->io + slot);
	c->shadow = (struct dp_shadow *)(c->io + dp_io_shadow_offset(NR_VCPUS));
	c->features = DP_F_POSTED_WRITES | DP_F_SHADOW_READS;
	if (ipc_ring_format(c->io + posted, stride, DP_POSTED_ENTRIES,
			    sizeof(struct dp_posted)) ||
	    ipc_ring_attach_producer(&c->ring, c->io + posted, stride,
				     DP_POSTED_ENTRIES, sizeof(struct dp_posted)))
		die("ring");
}

static void kick(struct core *c)
{
	struct ipc_doorbell db = { c->fds[DP_FD_KICK], &c->hdr->device_need_kick };

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ipc_doorbell_ring(&db);
}

static bool posted(struct core *c, uint16_t off, uint32_t val)
{
	struct dp_posted p = { .bar = 0, .size = 4, .offset = off, .data = val };
	uint64_t dl = now_ms() + WAIT_MS;

	while (!ipc_ring_produce(&c->ring, &p, 1)) {
		kick(c);
		if (now_ms() > dl)
			return false;
	}
	kick(c);
	return true;
}

/* One synchronous access through the slot; all-ones if none came. */
static uint64_t access_slot(struct core *c, unsigned dir, unsigned bar,
			    unsigned size, uint64_t off, uint64_t data)
{
	struct pollfd p = { .fd = c->fds[DP_WELCOME_FDS], .events = POLLIN };
	uint64_t dl = now_ms() + WAIT_MS;

	c->slot->dir = (uint8_t)dir;
	c->slot->bar = (uint8_t)bar;
	c->slot->size = (uint8_t)size;
	c->slot->offset = off;
	c->slot->data = data;
	c->slot->seq++;
	__atomic_store_n(&c->slot->core_need_wake, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->slot->state, DP_SLOT_REQUEST, __ATOMIC_RELEASE);
	kick(c);
	while (__atomic_load_n(&c->slot->state, __ATOMIC_ACQUIRE) !=
	       DP_SLOT_RESPONSE) {
		if (now_ms() > dl)
			return 0xdeadull << 48;	/* not all-ones: a timeout */
		poll(&p, 1, 50);
		ipc_eventfd_drain(p.fd);
	}
	data = c->slot->data;
	__atomic_store_n(&c->slot->state, DP_SLOT_IDLE, __ATOMIC_RELEASE);
	return data;
}

static uint32_t rd(struct core *c, uint16_t off)
{
	return (uint32_t)access_slot(c, DP_DIR_READ, 0, 4, off, 0);
}

/* True if @fd became readable within @ms (and drains it). */
static bool signalled(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && ipc_eventfd_drain(fd) > 0;
}

/* ------------------------------------------------------ the connection */

static void spawn(struct core *c)
{
	if (ftruncate(c->err_fd, 0) || lseek(c->err_fd, 0, SEEK_SET))
		die("stderr memfd");
	c->pid = fork();
	if (c->pid < 0)
		die("fork");
	if (!c->pid) {
		dup2(c->err_fd, 2);
		if (c->spin_ns)
			execl(c->refdev, "refdev", "--connect", c->path,
			      "--mailbox", "0x8000", "--spin-ns", c->spin_ns,
			      (char *)NULL);
		else
			execl(c->refdev, "refdev", "--connect", c->path,
			      (char *)NULL);
		_exit(127);
	}
}

static const char *refdev_said(struct core *c)
{
	static char buf[2048];
	ssize_t n = pread(c->err_fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The refdev's exit status, or -1 if it did not exit within @ms. */
static int reap(struct core *c, int ms)
{
	uint64_t dl = now_ms() + (uint64_t)ms;
	int st;

	for (;;) {
		pid_t r = waitpid(c->pid, &st, WNOHANG);

		if (r == c->pid)
			break;
		if (now_ms() > dl) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &st, 0);
			return -1;
		}
		sleep_ms(10);
	}
	c->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static ssize_t recv_msg(struct core *c, void *buf, int ms)
{
	struct pollfd p = { .fd = c->conn, .events = POLLIN };
	int fds[4];
	unsigned nfds;
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	n = ipc_msg_recv(c->conn, buf, DP_MAX_MSG, fds, 4, &nfds);
	ipc_close_fds(fds, nfds);
	return n;
}

static uint16_t recv_type(struct core *c, int32_t *code)
{
	_Alignas(8) uint8_t buf[DP_MAX_MSG];
	const struct dp_error *e = (const void *)buf;
	ssize_t n = recv_msg(c, buf, WAIT_MS);

	if (n < (ssize_t)sizeof(struct dp_hdr) ||
	    dp_msg_check(DP_SIDE_CORE, buf, (size_t)n, 0, NULL, 0))
		return 0;
	if (code)
		*code = e->hdr.type == DP_MSG_ERROR ? e->code : 0;
	return e->hdr.type;
}

static void send_plain(struct core *c, void *m, enum dp_msg_type t, size_t len,
		       const int *fds, unsigned nfds)
{
	dp_hdr_init(m, t, (uint32_t)len, c->seq++);
	if (ipc_msg_send(c->conn, m, len, fds, nfds))
		die("send");
}

static void send_bar(struct core *c, uint32_t index, uint64_t addr)
{
	struct dp_bar b = { .index = index, .enabled = 1, .addr = addr };

	send_plain(c, &b, DP_MSG_BAR, sizeof(b), NULL, 0);
}

/* Accepts a refdev and runs the set-up; returns the device's last word. */
static uint16_t attach(struct core *c, uint32_t generation)
{
	_Alignas(8) uint8_t buf[DP_MAX_MSG];
	const struct dp_hello *h = (const void *)buf;
	struct dp_welcome w = {
		.version = DP_VERSION, .nr_vcpus = NR_VCPUS,
		.features = c->features, .io_size = c->io_size,
		.state_size = STATE_SIZE, .generation = generation,
		.nr_mem_regions = 1, .pci_devfn = 8, .gsi = 17,
	};
	struct dp_mem_region m = { .gpa = 0, .size = RAM_SIZE };
	struct dp_ready r;
	struct pollfd p = { .fd = c->lsock, .events = POLLIN };
	ssize_t n;

	spawn(c);
	if (poll(&p, 1, WAIT_MS) != 1)
		return 0;
	c->conn = accept4(c->lsock, NULL, NULL, SOCK_CLOEXEC);
	if (c->conn < 0)
		die("accept");
	n = recv_msg(c, buf, WAIT_MS);
	check(c, n == sizeof(*h) &&
	      !dp_msg_check(DP_SIDE_CORE, buf, (size_t)n, 0, NULL, 0) &&
	      h->hdr.type == DP_MSG_HELLO && h->vendor_id == REFDEV_VENDOR &&
	      h->device_id == REFDEV_DEVICE && h->bar[0].size == REFDEV_BAR0_SIZE,
	      "gen %u: valid HELLO for 1234:5602 with a 32-byte BAR0",
	      generation);
	send_plain(c, &w, DP_MSG_WELCOME, sizeof(w), c->fds,
		   DP_WELCOME_FDS + NR_VCPUS);
	send_plain(c, &m, DP_MSG_MEM_REGION, sizeof(m), &c->ram_fd, 1);
	send_bar(c, 0, 0xc000);
	send_plain(c, &r, DP_MSG_READY, sizeof(r), NULL, 0);
	return recv_type(c, NULL);
}

static void hang_up(struct core *c)
{
	close(c->conn);
	c->conn = -1;
}

/* ------------------------------------------------------------- checks */

static void check_order(struct core *c)
{
	bool in_order = true;
	uint32_t w0 = rd(c, REFDEV_WRITES), v;

	v = rd(c, REFDEV_ID);
	check(c, v == REFDEV_ID_VAL, "ID reads REDV (0x%x, WRITES 0x%x)", v, w0);
	/* Eight times round the ring, with a read now and then. */
	for (uint32_t i = 0; i < 8 * DP_POSTED_ENTRIES && in_order; i++) {
		if (!posted(c, REFDEV_SCRATCH, i))
			in_order = false;
		if (i % 97 == 0 && (v = rd(c, REFDEV_SCRATCH)) != i)
			in_order = false;
	}
	check(c, in_order, "posted writes land before the read after them, across ring wrap");
	v = rd(c, REFDEV_WRITES) - w0;
	check(c, v == 8 * DP_POSTED_ENTRIES, "WRITES counted %u of %u posted writes",
	      v, 8 * DP_POSTED_ENTRIES);
	check(c, rd(c, REFDEV_SCRATCH + 1) == (8 * DP_POSTED_ENTRIES - 1) >> 8,
	      "a 4-byte read at offset 5 gets SCRATCH's upper bytes");
	check(c, (uint8_t)access_slot(c, DP_DIR_READ, 0, 1, REFDEV_SCRATCH, 0) ==
	      (uint8_t)(8 * DP_POSTED_ENTRIES - 1), "a byte read of SCRATCH");
}

/* Shadow register @off of a stable snapshot; false if none in time. */
static bool shadow_get(struct core *c, uint32_t off, uint32_t *val)
{
	uint64_t dl = now_ms() + WAIT_MS;
	struct dp_shadow snap;
	const struct dp_shadow_reg *r;

	while (now_ms() < dl) {
		if (!dp_shadow_load(c->shadow, &snap))
			continue;
		r = dp_shadow_find(&snap, 0, off, 4, 0);
		if (r) {
			*val = r->value;
			return true;
		}
	}
	return false;
}

/*
 * What vmm-core relies on to answer reads itself: once the ring's tail
 * passed a posted write, the shadow shows its effect.
 */
static void check_shadow(struct core *c)
{
	uint32_t w0 = 0, v = 0, bad = 0;
	struct dp_posted note = {
		.bar = DP_POSTED_SHADOW_READ, .size = 4, .note_bar = 0,
		.offset = REFDEV_SCRATCH, .data = 1,
	};

	bool ok = shadow_get(c, REFDEV_WRITES, &w0) && shadow_get(c, REFDEV_ID, &v);

	check(c, ok && v == REFDEV_ID_VAL, "the shadow holds ID (0x%x)", v);
	for (uint32_t i = 0; i < 2000 && !bad; i++) {
		uint64_t dl = now_ms() + WAIT_MS;

		if (!posted(c, REFDEV_SCRATCH, 0x5000 + i))
			bad = 1;
		while (ipc_ring_used_producer(&c->ring) && now_ms() < dl)
			;
		if (!shadow_get(c, REFDEV_SCRATCH, &v) || v != 0x5000 + i ||
		    !shadow_get(c, REFDEV_WRITES, &w0) ||
		    w0 != rd(c, REFDEV_WRITES))
			bad = i + 1;
	}
	check(c, !bad, "a freed posted write is in the shadow (write %u)", bad);
	/* Notes: one for a BAR the device lacks is refused, a good one taken. */
	ipc_ring_produce(&c->ring, &note, 1);
	note.note_bar = 3;
	ipc_ring_produce(&c->ring, &note, 1);
	kick(c);
	check(c, rd(c, REFDEV_SCRATCH) == 0x5000 + 1999,
	      "the device serves on after shadow-read notes");
}

static void check_dma(struct core *c)
{
	bool ok = true;

	posted(c, REFDEV_DMA_ADDR, 0x1000);
	posted(c, REFDEV_DMA_LEN, 256);
	posted(c, REFDEV_DMA_GO, 3);
	check(c, rd(c, REFDEV_STATUS) == 0, "DMA into RAM: STATUS 0");
	for (unsigned i = 0; i < 256; i++)
		ok &= c->ram[0x1000 + i] == REFDEV_DMA_BYTE(i, 3);
	check(c, ok && !c->ram[0x1100] && !c->ram[0xfff],
	      "DMA wrote exactly its range");
	posted(c, REFDEV_DMA_ADDR, RAM_SIZE - 16);
	posted(c, REFDEV_DMA_LEN, 32);
	posted(c, REFDEV_DMA_GO, 3);
	check(c, rd(c, REFDEV_STATUS) == REFDEV_STATUS_DMA_FAULT &&
	      !c->ram[RAM_SIZE - 16], "DMA past the end of RAM: fault, nothing written");
	access_slot(c, DP_DIR_WRITE, 0, 4, REFDEV_STATUS, REFDEV_STATUS_DMA_FAULT);
	check(c, rd(c, REFDEV_STATUS) == 0, "STATUS cleared by a synchronous write of 1");
}

static void check_irq(struct core *c)
{
	int irq = c->fds[DP_FD_IRQ], resample = c->fds[DP_FD_RESAMPLE];

	ipc_eventfd_drain(irq);
	posted(c, REFDEV_IRQ, 1);
	check(c, signalled(irq, WAIT_MS), "IRQ=1 signals the irqfd");
	ipc_eventfd_signal(resample);
	check(c, signalled(irq, WAIT_MS), "a resample while asserted signals it again");
	/* The deassert is still in the ring when the resample comes. */
	posted(c, REFDEV_IRQ, 0);
	ipc_eventfd_signal(resample);
	check(c, !signalled(irq, 300), "a resample after IRQ=0 does not");
}

static void check_refusals(struct core *c)
{
	const uint64_t ones = ~0ull;
	static const char junk[24] = "not a protocol message";
	struct dp_ready r;
	int32_t code = 0;
	uint16_t t;

	check(c, access_slot(c, DP_DIR_READ, 3, 4, 0, 0) == ones,
	      "read of a BAR not described: all-ones");
	check(c, access_slot(c, DP_DIR_READ, 0, 4, 30, 0) == ones,
	      "read across the end of BAR0: all-ones");
	check(c, access_slot(c, DP_DIR_READ, 0, 8, 0, 0) == ones,
	      "8-byte read of an I/O BAR: all-ones");
	check(c, access_slot(c, 7, 0, 4, 0, 0) == ones, "bad direction: all-ones");
	access_slot(c, DP_DIR_WRITE, 0, 3, REFDEV_SCRATCH, 1);
	check(c, rd(c, REFDEV_SCRATCH) == 8 * DP_POSTED_ENTRIES - 1,
	      "a 3-byte write is dropped");
	if (ipc_msg_send(c->conn, junk, sizeof(junk), NULL, 0))
		die("send");
	t = recv_type(c, &code);
	check(c, t == DP_MSG_ERROR && code == EPROTO,
	      "junk on the socket: ERROR EPROTO (type %u code %d)", t, code);
	send_plain(c, &r, DP_MSG_READY, sizeof(r), NULL, 0);
	t = recv_type(c, &code);
	check(c, t == DP_MSG_ERROR && code == EOPNOTSUPP,
	      "READY while serving: ERROR EOPNOTSUPP (type %u code %d)", t, code);
	send_bar(c, 3, 0xd000);
	t = recv_type(c, &code);
	check(c, t == DP_MSG_ERROR && code == EINVAL,
	      "BAR for an index not described: ERROR EINVAL (type %u code %d)",
	      t, code);
	send_bar(c, 0, 0xd000);
	check(c, rd(c, REFDEV_ID) == REFDEV_ID_VAL, "still serving after all that");
}

static void check_broken_ring(struct core *c)
{
	uint32_t head = c->ring.sh->head;

	/* A head far beyond the tail: the device must stop trusting it. */
	__atomic_store_n(&c->ring.sh->head, head + 100000, __ATOMIC_RELEASE);
	kick(c);
	check(c, rd(c, REFDEV_ID) == REFDEV_ID_VAL,
	      "a broken ring is ignored, the slot still served");
	__atomic_store_n(&c->ring.sh->head, head, __ATOMIC_RELEASE);
}

static void session1(struct core *c)
{
	int st;

	check(c, attach(c, 1) == DP_MSG_READY, "gen 1: READY from the device");
	check_order(c);
	check_dma(c);
	check_irq(c);
	check_refusals(c);
	check_shadow(c);
	check_broken_ring(c);
	hang_up(c);
	st = reap(c, WAIT_MS);
	check(c, st == 0, "hang-up: refdev exits 0 (%d)", st);
	check(c, strstr(refdev_said(c), "attached generation 1, fresh") &&
	      strstr(refdev_said(c), "ring"), "refdev said fresh, and logged the broken ring");
}

/* Work left in shared memory by a process that died is done by the next. */
static void session2(struct core *c)
{
	int st;

	posted(c, REFDEV_SCRATCH, 0x77777777);
	check(c, attach(c, 2) == DP_MSG_READY, "gen 2: READY from the device");
	check(c, rd(c, REFDEV_SCRATCH) == 0x77777777,
	      "gen 2: a posted write queued while no device ran is executed");
	kill(c->pid, SIGTERM);
	st = reap(c, WAIT_MS);
	check(c, st == 0, "SIGTERM: refdev exits 0 (%d)", st);
	check(c, strstr(refdev_said(c), "attached generation 2, resumed") != NULL,
	      "gen 2: refdev resumed");
	hang_up(c);

	check(c, attach(c, 3) == DP_MSG_READY, "gen 3: READY from the device");
	kill(c->pid, SIGKILL);
	reap(c, WAIT_MS);
	hang_up(c);
	c->slot->dir = DP_DIR_READ;
	c->slot->size = 4;
	c->slot->bar = 0;
	c->slot->offset = REFDEV_SCRATCH;
	__atomic_store_n(&c->slot->state, DP_SLOT_REQUEST, __ATOMIC_RELEASE);
	check(c, attach(c, 4) == DP_MSG_READY, "gen 4: READY from the device");
	sleep_ms(200);
	check(c, __atomic_load_n(&c->slot->state, __ATOMIC_ACQUIRE) ==
	      DP_SLOT_RESPONSE && c->slot->data == 0x77777777,
	      "gen 4: the request in flight at the kill is served");
	c->slot->state = DP_SLOT_IDLE;
	kill(c->pid, SIGKILL);
	reap(c, WAIT_MS);
	hang_up(c);

	/* Not granted: the device leaves the shadow alone. */
	memset(c->shadow, 0, sizeof(*c->shadow));
	c->features = DP_F_POSTED_WRITES;
	check(c, attach(c, 5) == DP_MSG_READY, "gen 5, no shadow: READY");
	posted(c, REFDEV_SCRATCH, 5);
	check(c, rd(c, REFDEV_SCRATCH) == 5 && !c->shadow->seq && !c->shadow->nr,
	      "gen 5: without DP_F_SHADOW_READS nothing is published");
	c->features = DP_F_POSTED_WRITES | DP_F_SHADOW_READS;
	kill(c->pid, SIGKILL);
	reap(c, WAIT_MS);
	hang_up(c);
}

/* A region that is not what the protocol says: refused, ERROR sent. */
static void session3(struct core *c)
{
	uint16_t t;
	int st;

	c->hdr->magic ^= 1;
	t = attach(c, 6);
	check(c, t == DP_MSG_ERROR, "corrupt I/O region header: ERROR instead of READY");
	st = reap(c, WAIT_MS);
	check(c, st == 1 && strstr(refdev_said(c), "refdev: I/O region: bad magic"),
	      "corrupt I/O region header: refdev exits 1 saying why (%d)", st);
	c->hdr->magic ^= 1;
	hang_up(c);
}

static uint32_t *mailbox_word(struct core *c, unsigned i)
{
	return (uint32_t *)(c->ram + MAILBOX_GPA) + i;
}

/* The mailbox's answer, or 0 if none came within @ms. */
static uint32_t mailbox_answer(struct core *c, int ms)
{
	uint64_t dl = now_ms() + (uint64_t)ms;
	uint32_t v;

	while (!(v = __atomic_load_n(mailbox_word(c, 1), __ATOMIC_ACQUIRE)) &&
	       now_ms() < dl)
		sleep_ms(1);
	return v;
}

static void mailbox_post(struct core *c, uint32_t v)
{
	__atomic_store_n(mailbox_word(c, 1), 0, __ATOMIC_RELAXED);
	__atomic_store_n(mailbox_word(c, 0), v, __ATOMIC_RELEASE);
}

/*
 * devsrv_ops.poll: a spinning loop looks at the device's own sources with
 * no kick; a sleeping one does not (it sleeps), nor one that never spins.
 */
static void session4(struct core *c)
{
	uint64_t dl;

	c->spin_ns = "2000000000";	/* 2 s: spinning through the check */
	check(c, attach(c, 7) == DP_MSG_READY, "gen 7, spinning: READY");
	posted(c, REFDEV_SCRATCH, 7);	/* work: the loop spins from here */
	mailbox_post(c, 0x1111);
	check(c, mailbox_answer(c, 1000) == 0x1111 &&
	      !__atomic_load_n(mailbox_word(c, 0), __ATOMIC_ACQUIRE),
	      "gen 7: a spinning device polls its own source, no kick");
	kill(c->pid, SIGKILL);
	reap(c, WAIT_MS);
	hang_up(c);

	c->spin_ns = "100000";		/* 100 us, then asleep */
	ipc_eventfd_drain(c->fds[DP_FD_KICK]);	/* no wake-up left over */
	check(c, attach(c, 8) == DP_MSG_READY, "gen 8, short spin: READY");
	dl = now_ms() + WAIT_MS;
	while (!__atomic_load_n(&c->hdr->device_need_kick, __ATOMIC_ACQUIRE) &&
	       now_ms() < dl)
		sleep_ms(1);
	sleep_ms(20);
	mailbox_post(c, 0x2222);
	check(c, __atomic_load_n(&c->hdr->device_need_kick, __ATOMIC_ACQUIRE) &&
	      !mailbox_answer(c, 200),
	      "gen 8: asleep (need-kick set), the device does not poll");
	posted(c, REFDEV_SCRATCH, 8);
	check(c, mailbox_answer(c, 1000) == 0x2222,
	      "gen 8: woken by a kick, it polls again");
	kill(c->pid, SIGKILL);
	reap(c, WAIT_MS);
	hang_up(c);

	c->spin_ns = "0";		/* doorbells sleep: no polling at all */
	check(c, attach(c, 9) == DP_MSG_READY, "gen 9, no spin: READY");
	mailbox_post(c, 0x3333);
	posted(c, REFDEV_SCRATCH, 9);
	check(c, rd(c, REFDEV_SCRATCH) == 9 && !mailbox_answer(c, 200),
	      "gen 9: with --spin-ns 0 the device's poll is never called");
	kill(c->pid, SIGKILL);
	reap(c, WAIT_MS);
	hang_up(c);
	c->spin_ns = NULL;
}

int main(int argc, char **argv)
{
	struct core c = { .lsock = -1, .conn = -1, .pid = -1 };
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (argc != 2) {
		fprintf(stderr, "usage: refdev-fakecore REFDEV\n");
		return 2;
	}
	c.refdev = argv[1];
	signal(SIGPIPE, SIG_IGN);
	snprintf(c.path, sizeof(c.path), "/tmp/refdev-fakecore.%d.sock",
		 (int)getpid());
	memcpy(a.sun_path, c.path, sizeof(c.path));
	c.lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	unlink(c.path);
	if (c.lsock < 0 || bind(c.lsock, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(c.lsock, 1))
		die("listen");
	c.err_fd = memfd_create("refdev-stderr", MFD_CLOEXEC);
	if (c.err_fd < 0)
		die("memfd");
	make_shared(&c);
	session1(&c);
	session2(&c);
	session3(&c);
	session4(&c);
	unlink(c.path);
	printf("%d failed\n", c.fails);
	return c.fails ? 1 : 0;
}
