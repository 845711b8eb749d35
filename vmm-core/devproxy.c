// SPDX-License-Identifier: MIT
/*
 * Locking.  d->lock guards the connection state, the connection fd and the
 * message sequence number; it is taken by the monitor thread, by vCPU
 * threads that give up on a dead device, and by the bar_moved hook (which
 * runs under the PCI bus lock, so nothing here calls into the PCI bus while
 * holding d->lock).  The hot path (a vCPU's ring and slot) takes no lock:
 * each vCPU owns its ring's producer side and its slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "devproto.h"
#include "devproxy.h"
#include "doorbell.h"
#include "dp_msg.h"
#include "msg.h"
#include "pci.h"
#include "ring.h"
#include "vm.h"

#define HANDSHAKE_TIMEOUT_MS	5000	/* per message of the set-up */
#define WAIT_SLICE_MS		50	/* a parked vCPU re-checks this often */
#define MONITOR_SLICE_MS	100

enum dev_state {
	DEV_WAITING,		/* never attached yet */
	DEV_ATTACHED,
	DEV_DISCONNECTED,	/* gone since disconnect_ns; vCPUs park */
	DEV_ABSENT,		/* gone too long: a removed function */
};

struct bar_ctx {
	struct devproxy *d;
	unsigned index;
};

struct devproxy {
	struct vm *vm;
	const char *path;
	char name[DP_NAME_LEN];
	int listen_fd;
	int stop_fd;		/* eventfd: the monitor thread stops */
	pthread_t monitor;
	bool monitor_started;

	pthread_mutex_t lock;
	int state;		/* enum dev_state; atomic loads outside lock */
	uint64_t disconnect_ns;
	int conn_fd;
	uint32_t seq;
	uint64_t bar_addr[6];
	bool bar_enabled[6];
	uint64_t zone_at[6];	/* registered coalesced PIO zone, 0: none */

	/* From the first HELLO; a reconnecting device must match it. */
	struct dp_hello hello;
	uint64_t features;
	int pci_dev;
	unsigned gsi;
	struct bar_ctx bar_ctx[6];

	/* Outlive every device process. */
	int state_fd;
	uint32_t state_size;
	int io_fd;
	uint32_t io_size;
	uint8_t *io;
	struct dp_slot *slots;
	struct ipc_ring *posted;	/* producer side, one per vCPU */
	const struct dp_shadow *shadow;	/* with DP_F_SHADOW_READS, else NULL */
	int kick_fd, irq_fd, resample_fd;
	/* KVM's resample fd when the pump stands between (-1: KVM signals
	 * resample_fd itself); atomic, the pump reads it. */
	int eoi_fd;
	int *done_fd;			/* one per vCPU */
	uint32_t generation;

	uint64_t spin_ns;
	uint64_t timeout_ns;
	struct devproxy_stats stats;	/* relaxed atomic counters */
};

#define STAT_INC(d, f) __atomic_add_fetch(&(d)->stats.f, 1, __ATOMIC_RELAXED)

static void logf_(struct devproxy *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct devproxy *d, const char *fmt, ...)
{
	char line[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vmm-core: device %s (%s): %s\n",
		d->name[0] ? d->name : "?", d->path, line);
}

static int get_state(struct devproxy *d)
{
	return __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
}

static void set_state(struct devproxy *d, int s)
{
	__atomic_store_n(&d->state, s, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ messages */

/* Sends under d->lock on @fd (the connection, or one being set up). */
static int send_msg(struct devproxy *d, int fd, void *msg, enum dp_msg_type t,
		    uint32_t size, const int *fds, unsigned nfds)
{
	dp_hdr_init(msg, t, size, d->seq++);
	return ipc_msg_send(fd, msg, size, fds, nfds);
}

static void send_error(struct devproxy *d, int fd, uint32_t seq,
		       uint16_t type, int code, const char *text)
{
	struct dp_error e;

	dp_error_init(&e, seq, type, code, text);
	ipc_msg_send(fd, &e, sizeof(e), NULL, 0);
	(void)d;
}

/* Waits up to @ms for one message on @fd; length, 0 on hang-up, -errno. */
static ssize_t recv_timed(int fd, void *buf, size_t cap, int *fds,
			  unsigned max_fds, unsigned *nfds, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return ipc_msg_recv(fd, buf, cap, fds, max_fds, nfds);
}

/* ------------------------------------------------------------ I/O path */

static void kick(struct devproxy *d)
{
	struct ipc_doorbell db = {
		.fd = d->kick_fd,
		.need_wake = &((struct dp_io_header *)d->io)->device_need_kick,
	};

	if (__atomic_load_n(db.need_wake, __ATOMIC_SEQ_CST))
		STAT_INC(d, kicks);
	ipc_doorbell_ring(&db);
}

static bool slot_answered(void *opaque)
{
	struct dp_slot *s = opaque;

	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == DP_SLOT_RESPONSE;
}

/*
 * The device is gone for good (or was never there): a removed PCI function
 * reads all-ones and ignores writes.  Called with a request in the slot;
 * returns true if the vCPU should give up on it.
 */
static bool give_up(struct devproxy *d, struct dp_slot *s)
{
	bool gone = false;
	uint64_t now = ipc_now_ns();

	pthread_mutex_lock(&d->lock);
	if (d->state == DEV_DISCONNECTED && now - d->disconnect_ns > d->timeout_ns) {
		set_state(d, DEV_ABSENT);
		logf_(d, "gone for %u ms: its function now reads as removed",
		      d->vm->opt->device_timeout_ms);
	}
	if (d->state == DEV_ABSENT &&
	    __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == DP_SLOT_REQUEST) {
		__atomic_store_n(&s->state, DP_SLOT_IDLE, __ATOMIC_RELEASE);
		gone = true;
	}
	pthread_mutex_unlock(&d->lock);
	return gone;
}

/* One synchronous access through vCPU @i's slot; false if unanswered. */
static bool slot_access(struct devproxy *d, unsigned i, unsigned bar,
			uint64_t offset, unsigned len, bool is_write,
			uint64_t *data)
{
	struct dp_slot *s = &d->slots[i];
	struct ipc_doorbell db = { .fd = d->done_fd[i], .need_wake = &s->core_need_wake };

	s->dir = is_write ? DP_DIR_WRITE : DP_DIR_READ;
	s->size = (uint8_t)len;
	s->bar = (uint8_t)bar;
	s->offset = offset;
	s->data = is_write ? *data : 0;
	s->seq++;
	__atomic_store_n(&s->state, DP_SLOT_REQUEST, __ATOMIC_RELEASE);
	kick(d);

	for (uint64_t spin = d->spin_ns;; spin = 0) {
		enum ipc_wait_result r = ipc_doorbell_wait(&db, slot_answered, s,
							   spin, WAIT_SLICE_MS);

		if (r == IPC_WAIT_READY)
			break;
		STAT_INC(d, wait_slices);
		if (vm_ending(d->vm))
			return false;
		if (get_state(d) != DEV_ATTACHED && give_up(d, s))
			return false;
	}
	*data = s->data;
	__atomic_store_n(&s->state, DP_SLOT_IDLE, __ATOMIC_RELEASE);
	return true;
}

static void check_timeout(struct devproxy *d);

/*
 * Queues @e on the posted ring @vcpu produces to; false if it is full.
 * vCPU 0's ring has a second producer, the pump (vm.h), hence the lock
 * there.  The pump cannot use vCPU 0's slot for a write that does not
 * fit, so it waits for room instead: the device drains the ring unless it
 * is dead, and then it comes back or is declared gone.
 */
static bool post(struct devproxy *d, struct vcpu *vcpu,
		 const struct dp_posted *e)
{
	struct vm *vm = d->vm;
	bool shared = vm->pump_on && vcpu->id == 0, done;

	for (;;) {
		if (shared)
			pthread_mutex_lock(&vm->posted_lock);
		done = ipc_ring_produce(&d->posted[vcpu->id], e, 1) == 1;
		if (shared)
			pthread_mutex_unlock(&vm->posted_lock);
		if (done || !vcpu->is_pump)
			return done;
		kick(d);
		check_timeout(d);
		if (vm_ending(vm) || get_state(d) == DEV_ABSENT)
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
	}
}

/*
 * A read answered from the device's shadow (PROTOCOL.md §3.4), without a
 * round trip: true with *@out set.  Only when every posted entry the
 * device has not executed yet leaves the shadow as it is (a write to the
 * index register, whose value this then takes from the last such write,
 * a write the shadow calls quiet, a note or an EOI: dp_shadow_pending()),
 * all on one ring; the device publishes before it frees the entries it
 * executed, so with the ring tails read first, the shadow reflects every
 * other access of this vCPU before this read.
 */
static bool shadow_answer(struct devproxy *d, struct vcpu *vcpu, unsigned bar,
			  uint64_t offset, unsigned len, uint64_t *out)
{
	const struct dp_shadow_reg *r;
	struct dp_shadow snap;
	uint32_t busy = UINT32_MAX, tail = 0, pending = 0, index;
	bool tracked = false, quiet = false;

	if (!d->shadow || get_state(d) != DEV_ATTACHED)
		return false;
	for (uint32_t i = 0; i < d->vm->ncpus; i++) {
		struct spsc_ring *rs = d->posted[i].sh;
		uint32_t h = __atomic_load_n(&rs->head, __ATOMIC_ACQUIRE);
		uint32_t t = __atomic_load_n(&rs->tail, __ATOMIC_ACQUIRE);

		if (h == t)
			continue;
		if (busy != UINT32_MAX || h - t > DP_POSTED_ENTRIES)
			return false;
		busy = i;
		tail = t;
		pending = h - t;
	}
	if (!dp_shadow_load(d->shadow, &snap))
		return false;
	index = snap.index.index;
	for (uint32_t k = 0; k < pending; k++) {
		const struct dp_posted *e = ipc_ring_elem(&d->posted[busy], tail + k);
		struct dp_posted c = {
			.bar = __atomic_load_n(&e->bar, __ATOMIC_RELAXED),
			.size = __atomic_load_n(&e->size, __ATOMIC_RELAXED),
			.offset = __atomic_load_n(&e->offset, __ATOMIC_RELAXED),
			.data = __atomic_load_n(&e->data, __ATOMIC_RELAXED),
		};

		switch (dp_shadow_pending(&snap, &c, &index)) {
		case DP_PENDING_NONE:
			break;
		case DP_PENDING_QUIET:	/* PCnet: TDMD, IENA as it is */
			quiet = true;
			/* fall through */
		case DP_PENDING_INDEX:
			tracked = true;
			break;
		default:
			return false;
		}
	}
	if (dp_shadow_decodes(&snap.index, bar, offset, len)) {
		*out = index;
	} else {
		r = dp_shadow_find(&snap, bar, offset, len, index);
		if (!r)
			return false;
		if (r->flags & DP_SHADOW_F_NOTE) {
			struct dp_posted note = {
				.bar = DP_POSTED_SHADOW_READ, .size = (uint8_t)len,
				.note_bar = (uint8_t)bar, .offset = (uint32_t)offset,
				.data = r->value | (uint64_t)r->token << 32,
			};

			/* No room for the note: the device must see the read. */
			if (!post(d, vcpu, &note))
				return false;
		}
		*out = r->value;
	}
	if (tracked)
		STAT_INC(d, shadow_tracked);
	if (quiet)
		STAT_INC(d, shadow_quiet);
	return true;
}

/*
 * A write to the shadow's index register (PCnet's RAP) is posted without
 * a doorbell: it changes nothing the device does or shows until another
 * access comes (the shadow's contract: the core answers reads across it),
 * and that one kicks, or is answered here with the index tracked.  Half
 * of pcnet32's writes are RAP writes, and each kick is a device wake-up.
 */
static bool index_write(struct devproxy *d, unsigned bar, uint64_t offset,
			unsigned len)
{
	struct dp_shadow_reg index;

	/* The index entry alone: this runs for every posted write. */
	return d->shadow && dp_shadow_load_index(d->shadow, &index) &&
	       dp_shadow_decodes(&index, bar, offset, len);
}

/*
 * One guest access to BAR @bar at @offset: @data holds @len bytes, little
 * endian, written by the guest or to be filled in for it.
 */
static void dev_access(struct devproxy *d, struct vcpu *vcpu, unsigned bar,
		       uint64_t offset, uint8_t *data, unsigned len,
		       bool is_write)
{
	uint64_t v = 0;

	if (is_write)
		memcpy(&v, data, len);
	if (!vcpu || vcpu->id >= d->vm->ncpus || get_state(d) == DEV_ABSENT)
		goto removed;
	if (is_write && (d->features & DP_F_POSTED_WRITES) &&
	    !(d->hello.bar[bar].flags & DP_BAR_F_SYNC_WRITES) &&
	    offset <= UINT32_MAX) {
		struct dp_posted e = {
			.bar = (uint8_t)bar, .size = (uint8_t)len,
			.offset = (uint32_t)offset, .data = v,
		};

		if (post(d, vcpu, &e)) {
			STAT_INC(d, posted_writes);
			if (index_write(d, bar, offset, len))
				STAT_INC(d, quiet_writes);
			else
				kick(d);
			return;
		}
		if (vcpu->is_pump)
			goto removed;	/* gone while the ring stayed full */
		/* Ring full: the write waits its turn in the slot instead. */
	}
	if (!is_write && shadow_answer(d, vcpu, bar, offset, len, &v)) {
		STAT_INC(d, shadow_reads);
		memcpy(data, &v, len);
		return;
	}
	if (is_write)
		STAT_INC(d, sync_writes);
	else
		STAT_INC(d, reads);
	if (!slot_access(d, vcpu->id, bar, offset, len, is_write, &v))
		goto removed;
	if (!is_write)
		memcpy(data, &v, len);
	return;
removed:
	STAT_INC(d, absent);
	if (!is_write)
		memset(data, 0xff, len);
}

static void bar_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		    unsigned len, bool is_write, void *opaque)
{
	struct bar_ctx *b = opaque;

	/* Port I/O is 1, 2 or 4 bytes (KVM's io.size). */
	dev_access(b->d, vcpu, b->index, offset, data, len, is_write);
}

bool devproxy_mmio(struct vm *vm, struct vcpu *vcpu, uint64_t gpa,
		   uint8_t *data, unsigned len, bool is_write)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct devproxy *d = vm->devices[i];

		for (unsigned b = 0; d && b < 6; b++) {
			uint64_t size = d->hello.bar[b].size, base;
			bool en;

			if (d->hello.bar[b].type != DP_BAR_MEM32 &&
			    d->hello.bar[b].type != DP_BAR_MEM64)
				continue;
			pthread_mutex_lock(&d->lock);
			base = d->bar_addr[b];
			en = d->bar_enabled[b];
			pthread_mutex_unlock(&d->lock);
			if (!en || gpa < base || gpa - base >= size ||
			    len > size - (gpa - base))
				continue;
			dev_access(d, vcpu, b, gpa - base, data, len, is_write);
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------- PCI and set-up */

/*
 * Keeps KVM's coalesced PIO zone of an I/O BAR where the BAR is: the
 * device's side-effect-free ports (coalesce_off/len in its HELLO) are then
 * written without an exit, and vcpu.c delivers the writes at the next one.
 * Called with d->lock held.
 */
static void coalesce_zone(struct devproxy *d, unsigned bar, uint64_t addr,
			  bool enabled)
{
	const struct dp_bar_desc *b = &d->hello.bar[bar];
	struct kvm_coalesced_mmio_zone z = { .size = b->coalesce_len, .pio = 1 };

	/* A queued write is a posted one: the pump never waits in a slot
	 * (vCPU 0 owns it), so without posted writes nothing is coalesced. */
	if (!d->vm->coalesced || b->type != DP_BAR_IO || !b->coalesce_len ||
	    !(d->features & DP_F_POSTED_WRITES))
		return;
	if (d->zone_at[bar]) {
		z.addr = d->zone_at[bar];
		ioctl(d->vm->vm_fd, KVM_UNREGISTER_COALESCED_MMIO, &z);
		d->zone_at[bar] = 0;
	}
	if (!enabled || !addr)
		return;
	z.addr = addr + b->coalesce_off;
	if (ioctl(d->vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &z))
		logf_(d, "KVM_REGISTER_COALESCED_MMIO (pio 0x%llx+%u): %s; those writes will exit",
		      (unsigned long long)z.addr, z.size, strerror(errno));
	else
		d->zone_at[bar] = z.addr;
}

static void bar_moved(void *opaque, unsigned bar, uint64_t old_addr,
		      uint64_t new_addr, bool enabled)
{
	struct devproxy *d = opaque;
	struct dp_bar m = { .index = bar, .enabled = enabled, .addr = new_addr };

	(void)old_addr;
	pthread_mutex_lock(&d->lock);
	d->bar_addr[bar] = new_addr;
	d->bar_enabled[bar] = enabled;
	coalesce_zone(d, bar, new_addr, enabled);
	if (d->conn_fd >= 0 && get_state(d) == DEV_ATTACHED)
		send_msg(d, d->conn_fd, &m, DP_MSG_BAR, sizeof(m), NULL, 0);
	pthread_mutex_unlock(&d->lock);
}

static int add_pci_function(struct devproxy *d)
{
	struct pci_func_desc f = {
		.vendor_id = d->hello.vendor_id,
		.device_id = d->hello.device_id,
		.subsys_vendor_id = d->hello.subsys_vendor_id,
		.subsys_id = d->hello.subsys_id,
		.class_code = d->hello.class_code,
		.revision = d->hello.revision,
		.int_pin = d->hello.int_pin,
		.opaque = d,
		.bar_moved = bar_moved,
	};
	static const enum pci_bar_type type[] = {
		[DP_BAR_UNUSED] = PCI_BAR_UNUSED, [DP_BAR_IO] = PCI_BAR_IO,
		[DP_BAR_MEM32] = PCI_BAR_MEM32, [DP_BAR_MEM64] = PCI_BAR_MEM64,
	};
	int dev;

	for (unsigned i = 0; i < 6; i++) {
		const struct dp_bar_desc *b = &d->hello.bar[i];

		d->bar_ctx[i] = (struct bar_ctx){ .d = d, .index = i };
		f.bar[i].size = b->size;
		f.bar[i].type = type[b->type];	/* dp_msg_check bounds it */
		f.bar[i].prefetchable = b->flags & DP_BAR_F_PREFETCH;
		if (b->type == DP_BAR_IO) {
			f.bar[i].pio = bar_pio;
			f.bar[i].pio_opaque = &d->bar_ctx[i];
		}
	}
	dev = pci_add_function(d->vm->pci, &f);
	if (dev < 0) {
		logf_(d, "cannot add its PCI function: %s", strerror(-dev));
		return -1;
	}
	d->pci_dev = dev;
	d->gsi = d->hello.int_pin ? pci_intx_gsi(dev, d->hello.int_pin) : 0;
	for (unsigned i = 0; i < 6; i++) {
		uint64_t a;
		bool en;

		if (d->hello.bar[i].size && !pci_bar_get(d->vm->pci, dev, i, &a, &en)) {
			pthread_mutex_lock(&d->lock);
			d->bar_addr[i] = a;
			d->bar_enabled[i] = en;
			coalesce_zone(d, i, a, en);
			pthread_mutex_unlock(&d->lock);
		}
	}
	return 0;
}

static int make_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	/* Sealed so that a device can trust the size it maps. */
	if (ftruncate(fd, (off_t)size) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A coalesced write of this device may acknowledge its interrupt. */
static bool acks_coalesced(const struct dp_hello *h)
{
	for (unsigned i = 0; i < 6; i++)
		if (h->bar[i].flags & DP_BAR_F_COALESCED_ACK)
			return true;
	return false;
}

/* The resources that outlive device processes, made at the first attach. */
static int make_resources(struct devproxy *d)
{
	unsigned n = d->vm->ncpus;
	uint32_t slot_off, posted_off, stride;
	struct dp_io_header *h;

	dp_io_layout(n, &slot_off, &posted_off, &stride, &d->io_size);
	d->state_size = (d->hello.state_size + 4095u) & ~4095u;
	if (!d->state_size)
		d->state_size = 4096;
	d->state_fd = make_memfd("device-state", d->state_size);
	d->io_fd = make_memfd("device-io", d->io_size);
	if (d->state_fd < 0 || d->io_fd < 0)
		goto sys_err;
	d->io = mmap(NULL, d->io_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     d->io_fd, 0);
	if (d->io == MAP_FAILED) {
		d->io = NULL;
		goto sys_err;
	}
	h = (struct dp_io_header *)d->io;
	*h = (struct dp_io_header){
		.magic = DP_IO_MAGIC, .version = DP_VERSION, .nr_vcpus = n,
		.posted_entries = DP_POSTED_ENTRIES, .slot_offset = slot_off,
		.posted_offset = posted_off, .posted_stride = stride,
		.shadow_offset = dp_io_shadow_offset(n),
	};
	d->slots = (struct dp_slot *)(d->io + slot_off);
	if (d->features & DP_F_SHADOW_READS)
		d->shadow = (const struct dp_shadow *)(d->io + h->shadow_offset);
	d->posted = calloc(n, sizeof(*d->posted));
	d->done_fd = malloc(n * sizeof(int));
	if (!d->posted || !d->done_fd)
		goto sys_err;
	for (unsigned i = 0; i < n; i++)
		d->done_fd[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *r = d->io + posted_off + (size_t)i * stride;

		if (ipc_ring_format(r, stride, DP_POSTED_ENTRIES,
				    sizeof(struct dp_posted)) ||
		    ipc_ring_attach_producer(&d->posted[i], r, stride,
					     DP_POSTED_ENTRIES,
					     sizeof(struct dp_posted))) {
			logf_(d, "I/O region layout is inconsistent");
			return -1;
		}
		d->done_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->done_fd[i] < 0)
			goto sys_err;
	}
	d->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->kick_fd < 0 || d->irq_fd < 0 || d->resample_fd < 0)
		goto sys_err;
	if (d->hello.int_pin) {
		/* Level-triggered INTx as VFIO does it: KVM deasserts at EOI
		 * and tells the device through the resample fd.  If the
		 * guest's interrupt acknowledge may be a coalesced write,
		 * KVM tells the pump, which first forwards what is still
		 * queued and then tells the device. */
		int eoi = -1;
		struct kvm_irqfd irqfd = {
			.fd = (uint32_t)d->irq_fd, .gsi = d->gsi,
			.flags = KVM_IRQFD_FLAG_RESAMPLE,
			.resamplefd = (uint32_t)d->resample_fd,
		};

		if (d->vm->pump_on && acks_coalesced(&d->hello) &&
		    (d->features & DP_F_POSTED_WRITES)) {
			eoi = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (eoi < 0)
				goto sys_err;
			irqfd.resamplefd = (uint32_t)eoi;
		}

		if (ioctl(d->vm->vm_fd, KVM_IRQFD, &irqfd)) {
			logf_(d, "KVM_IRQFD (resample) for GSI %u: %s", d->gsi,
			      strerror(errno));
			if (eoi >= 0)
				close(eoi);
			return -1;
		}
		__atomic_store_n(&d->eoi_fd, eoi, __ATOMIC_RELEASE);
	}
	return 0;
sys_err:
	logf_(d, "setting up its shared resources: %s", strerror(errno));
	return -1;
}

/* A reconnecting device must be the one on the bus. */
static bool same_device(const struct dp_hello *a, const struct dp_hello *b)
{
	return a->vendor_id == b->vendor_id && a->device_id == b->device_id &&
	       a->subsys_vendor_id == b->subsys_vendor_id &&
	       a->subsys_id == b->subsys_id && a->class_code == b->class_code &&
	       a->revision == b->revision && a->int_pin == b->int_pin &&
	       a->state_size == b->state_size &&
	       !memcmp(a->bar, b->bar, sizeof(a->bar));
}

/* Sends WELCOME, the MEM_REGIONs, the BARs and READY, under d->lock. */
static int send_setup(struct devproxy *d, int fd)
{
	unsigned n = d->vm->ncpus, nfds = dp_welcome_nfds(n);
	const struct guest_mem *gm = &d->vm->gm;
	struct dp_welcome w = {
		.version = DP_VERSION, .nr_vcpus = n, .features = d->features,
		.io_size = d->io_size, .state_size = d->state_size,
		.generation = d->generation, .nr_mem_regions = gm->nr,
		.pci_devfn = (uint32_t)d->pci_dev << 3, .gsi = d->gsi,
	};
	int fds[DP_MAX_FDS];
	struct dp_ready ready;
	int err;

	fds[DP_FD_STATE] = d->state_fd;
	fds[DP_FD_IO] = d->io_fd;
	fds[DP_FD_KICK] = d->kick_fd;
	fds[DP_FD_IRQ] = d->irq_fd;
	fds[DP_FD_RESAMPLE] = d->resample_fd;
	for (unsigned i = 0; i < n; i++)
		fds[DP_WELCOME_FDS + i] = d->done_fd[i];
	err = send_msg(d, fd, &w, DP_MSG_WELCOME, sizeof(w), fds, nfds);
	for (unsigned i = 0; !err && i < gm->nr; i++) {
		struct dp_mem_region m = {
			.gpa = gm->r[i].gpa, .size = gm->r[i].size,
			.fd_offset = gm->r[i].fd_offset,
		};

		err = send_msg(d, fd, &m, DP_MSG_MEM_REGION, sizeof(m),
			       &gm->r[i].fd, 1);
	}
	for (unsigned i = 0; !err && i < 6; i++) {
		struct dp_bar b = {
			.index = i, .enabled = d->bar_enabled[i],
			.addr = d->bar_addr[i],
		};

		if (d->hello.bar[i].size)
			err = send_msg(d, fd, &b, DP_MSG_BAR, sizeof(b), NULL, 0);
	}
	if (!err)
		err = send_msg(d, fd, &ready, DP_MSG_READY, sizeof(ready), NULL, 0);
	return err;
}

/*
 * Runs the set-up on a fresh connection.  0 when the device is attached
 * (d->conn_fd = @fd), -1 when the connection was refused (@fd is closed).
 */
static int attach(struct devproxy *d, int fd)
{
	union {
		struct dp_hdr h;
		struct dp_hello hello;
		struct dp_error e;
		uint8_t raw[DP_MAX_MSG];
	} m;
	int fds[4];
	unsigned nfds;
	char err[160];
	ssize_t len;
	int rc;

	ipc_fault("attach");
	len = recv_timed(fd, &m, sizeof(m), fds, 4, &nfds, HANDSHAKE_TIMEOUT_MS);
	if (len <= 0) {
		logf_(d, "a connection sent no HELLO: %s",
		      len == 0 ? "closed" : strerror((int)-len));
		goto refuse;
	}
	rc = dp_msg_check(DP_SIDE_CORE, &m, (size_t)len, nfds, err, sizeof(err));
	if (!rc && m.h.type != DP_MSG_HELLO) {
		rc = -EPROTO;
		snprintf(err, sizeof(err), "expected HELLO, got message type %u",
			 m.h.type);
	}
	ipc_close_fds(fds, nfds);
	if (rc) {
		logf_(d, "refused a connection: %s", err);
		send_error(d, fd, len >= (ssize_t)sizeof(m.h) ? m.h.seq : 0,
			   len >= (ssize_t)sizeof(m.h) ? m.h.type : 0, -rc, err);
		goto refuse;
	}
	m.hello.name[DP_NAME_LEN - 1] = '\0';
	if (d->generation == 0) {
		d->hello = m.hello;
		snprintf(d->name, sizeof(d->name), "%s", m.hello.name);
		d->features = m.hello.features & DP_F_KNOWN;
		if (!d->vm->opt->posted_writes)
			d->features &= ~DP_F_POSTED_WRITES;
		if (!d->vm->opt->shadow_reads)
			d->features &= ~DP_F_SHADOW_READS;
		if (add_pci_function(d) || make_resources(d)) {
			send_error(d, fd, m.h.seq, DP_MSG_HELLO, EIO,
				   "the core could not add this device");
			close(fd);
			return -2;	/* fatal at start-up */
		}
	} else if (!same_device(&d->hello, &m.hello)) {
		logf_(d, "refused a reconnect: its description differs from the attached device's");
		send_error(d, fd, m.h.seq, DP_MSG_HELLO, EEXIST,
			   "device description differs from the attached device");
		goto refuse;
	}

	pthread_mutex_lock(&d->lock);
	/* From here the device may serve slots, so vCPUs must stop giving
	 * up on them: a device coming back is "disconnected" until READY. */
	if (d->state == DEV_ABSENT || d->state == DEV_DISCONNECTED) {
		set_state(d, DEV_DISCONNECTED);
		d->disconnect_ns = ipc_now_ns();
	}
	d->generation++;
	rc = send_setup(d, fd);
	pthread_mutex_unlock(&d->lock);
	if (rc) {
		logf_(d, "sending the set-up failed: %s", strerror(-rc));
		goto refuse;
	}
	len = recv_timed(fd, &m, sizeof(m), fds, 4, &nfds, HANDSHAKE_TIMEOUT_MS);
	if (len > 0) {
		rc = dp_msg_check(DP_SIDE_CORE, &m, (size_t)len, nfds, err,
				  sizeof(err));
		ipc_close_fds(fds, nfds);
		if (!rc && m.h.type == DP_MSG_ERROR) {
			m.e.text[DP_ERROR_TEXT_LEN - 1] = '\0';
			logf_(d, "the device refused the set-up: %s", m.e.text);
			goto refuse;
		}
		if (!rc && m.h.type != DP_MSG_READY) {
			rc = -EPROTO;
			snprintf(err, sizeof(err), "expected READY, got type %u",
				 m.h.type);
		}
		if (rc) {
			logf_(d, "refused a connection: %s", err);
			send_error(d, fd, m.h.seq, m.h.type, -rc, err);
			goto refuse;
		}
	} else {
		logf_(d, "no READY from the device: %s",
		      len == 0 ? "closed" : strerror((int)-len));
		goto refuse;
	}

	pthread_mutex_lock(&d->lock);
	d->conn_fd = fd;
	set_state(d, DEV_ATTACHED);
	pthread_mutex_unlock(&d->lock);
	if (d->generation > 1 || d->vm->opt->verbose)
		logf_(d, "attached (generation %u) as PCI 00:%02x.0, GSI %u",
		      d->generation, d->pci_dev, d->gsi);
	return 0;
refuse:
	close(fd);
	return -1;
}

/* The device hung up or broke the protocol. */
static void disconnect(struct devproxy *d, const char *why)
{
	pthread_mutex_lock(&d->lock);
	close(d->conn_fd);
	d->conn_fd = -1;
	d->disconnect_ns = ipc_now_ns();
	set_state(d, DEV_DISCONNECTED);
	pthread_mutex_unlock(&d->lock);
	logf_(d, "disconnected (%s); vCPUs that need it wait up to %u ms for a restart",
	      why, d->vm->opt->device_timeout_ms);
}

/* A message from an attached device. */
static void conn_message(struct devproxy *d)
{
	union {
		struct dp_hdr h;
		struct dp_error e;
		uint8_t raw[DP_MAX_MSG];
	} m;
	int fds[4];
	unsigned nfds;
	char err[160];
	ssize_t len = ipc_msg_recv(d->conn_fd, &m, sizeof(m), fds, 4, &nfds);
	int rc;

	if (len == -EAGAIN || len == -EINTR)
		return;
	if (len <= 0) {
		disconnect(d, len == 0 ? "closed" : strerror((int)-len));
		return;
	}
	rc = dp_msg_check(DP_SIDE_CORE, &m, (size_t)len, nfds, err, sizeof(err));
	ipc_close_fds(fds, nfds);
	if (!rc && m.h.type == DP_MSG_ERROR) {
		m.e.text[DP_ERROR_TEXT_LEN - 1] = '\0';
		logf_(d, "device reports: %s", m.e.text);
		return;
	}
	if (!rc) {
		rc = -EOPNOTSUPP;
		snprintf(err, sizeof(err), "message type %u is not expected now",
			 m.h.type);
	}
	logf_(d, "refused a message: %s", err);
	pthread_mutex_lock(&d->lock);
	send_error(d, d->conn_fd, len >= (ssize_t)sizeof(m.h) ? m.h.seq : 0,
		   len >= (ssize_t)sizeof(m.h) ? m.h.type : 0, -rc, err);
	pthread_mutex_unlock(&d->lock);
}

static void check_timeout(struct devproxy *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->state == DEV_DISCONNECTED &&
	    ipc_now_ns() - d->disconnect_ns > d->timeout_ns) {
		set_state(d, DEV_ABSENT);
		logf_(d, "gone for %u ms: its function now reads as removed",
		      d->vm->opt->device_timeout_ms);
	}
	pthread_mutex_unlock(&d->lock);
}

static void *monitor(void *opaque)
{
	struct devproxy *d = opaque;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = d->stop_fd, .events = POLLIN },
			{ .fd = d->listen_fd, .events = POLLIN },
			{ .fd = d->conn_fd, .events = POLLIN },
		};
		int r = poll(p, d->conn_fd >= 0 ? 3 : 2, MONITOR_SLICE_MS);

		if (r < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (d->conn_fd >= 0 && p[2].revents)
			conn_message(d);
		if (p[1].revents & POLLIN) {
			int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0 && d->conn_fd >= 0) {
				send_error(d, fd, 0, 0, EBUSY,
					   "a device is attached on this socket");
				close(fd);
			} else if (fd >= 0) {
				attach(d, fd);
			}
		}
		check_timeout(d);
	}
	return NULL;
}

static int listen_on(struct devproxy *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", d->path);
	if (!lstat(d->path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vmm-core: --device-sock %s: exists and is not a socket\n",
				d->path);
			return -1;
		}
		unlink(d->path);	/* a stale socket of an earlier run */
	}
	d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0 || bind(d->listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(d->listen_fd, 4)) {
		fprintf(stderr, "vmm-core: --device-sock %s: %s\n", d->path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static struct devproxy *devproxy_new(struct vm *vm, const char *path)
{
	struct devproxy *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->vm = vm;
	d->path = path;
	d->listen_fd = d->stop_fd = d->conn_fd = -1;
	d->state_fd = d->io_fd = -1;
	d->kick_fd = d->irq_fd = d->resample_fd = d->eoi_fd = -1;
	d->state = DEV_WAITING;
	d->spin_ns = vm->opt->device_spin_ns;
	d->timeout_ns = (uint64_t)vm->opt->device_timeout_ms * 1000000u;
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

static void devproxy_free(struct devproxy *d)
{
	if (d->monitor_started) {
		ipc_eventfd_signal(d->stop_fd);
		pthread_join(d->monitor, NULL);
	}
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->path);
	}
	if (d->io)
		munmap(d->io, d->io_size);
	if (d->done_fd)
		ipc_close_fds(d->done_fd, d->vm->ncpus);
	free(d->done_fd);
	free(d->posted);
	{
		int fds[] = { d->stop_fd, d->conn_fd, d->state_fd, d->io_fd,
			      d->kick_fd, d->irq_fd, d->resample_fd,
			      d->eoi_fd };

		ipc_close_fds(fds, sizeof(fds) / sizeof(fds[0]));
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Accepts connections on @d until one attaches or @deadline passes. */
static int wait_first(struct devproxy *d, uint64_t deadline)
{
	for (;;) {
		uint64_t now = ipc_now_ns();
		struct pollfd p = { .fd = d->listen_fd, .events = POLLIN };
		int r, fd;

		if (now >= deadline)
			break;
		r = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		r = attach(d, fd);
		if (r == 0)
			return 0;
		if (r == -2)
			return -1;	/* already said why */
	}
	fprintf(stderr, "vmm-core: --device-sock %s: no device attached within %u ms (start the device process with --connect %s)\n",
		d->path, d->vm->opt->device_wait_ms, d->path);
	return -1;
}

int devproxy_listen_all(struct vm *vm)
{
	const struct vmm_options *o = vm->opt;

	if (!o->nr_devices)
		return 0;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE) <= 0) {
		fprintf(stderr, "vmm-core: this KVM lacks irqfd resampling, which out-of-process devices need for INTx\n");
		return -1;
	}
	vm->devices = calloc(o->nr_devices, sizeof(*vm->devices));
	if (!vm->devices)
		return -1;
	/* Listen on all first, so devices may start in any order. */
	for (unsigned i = 0; i < o->nr_devices; i++) {
		vm->devices[i] = devproxy_new(vm, o->device_sock[i]);
		vm->nr_devices = i + 1;
		if (!vm->devices[i] || listen_on(vm->devices[i]))
			return -1;
	}
	return 0;
}

int devproxy_wait_all(struct vm *vm)
{
	const struct vmm_options *o = vm->opt;
	uint64_t deadline;

	if (!o->nr_devices)
		return 0;
	deadline = ipc_now_ns() + (uint64_t)o->device_wait_ms * 1000000u;
	for (unsigned i = 0; i < o->nr_devices; i++) {
		struct devproxy *d = vm->devices[i];

		if (wait_first(d, deadline))
			return -1;
	}
	return 0;
}

int devproxy_start_monitors(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct devproxy *d = vm->devices[i];

		d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->stop_fd < 0 ||
		    pthread_create(&d->monitor, NULL, monitor, d)) {
			fprintf(stderr, "vmm-core: device monitor thread: %s\n",
				strerror(errno));
			return -1;
		}
		d->monitor_started = true;
	}
	return 0;
}

void devproxy_stop_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i])
			devproxy_free(vm->devices[i]);
	free(vm->devices);
	vm->devices = NULL;
	vm->nr_devices = 0;
}

int devproxy_eoi_fd(struct devproxy *d)
{
	return __atomic_load_n(&d->eoi_fd, __ATOMIC_ACQUIRE);
}

/*
 * The guest's EOI, after the pump forwarded the writes queued before it: in
 * the posted ring behind them, so that the device looks at its line only
 * once they took effect.  A resample eventfd would race them: the device
 * could answer it late, after the next interrupt was raised and
 * acknowledged with writes still queued, and re-raise that one for nothing.
 */
void devproxy_eoi(struct devproxy *d)
{
	static const struct dp_posted eoi = { .bar = DP_POSTED_EOI };

	ipc_eventfd_drain(d->eoi_fd);
	/* Left in the ring for a successor, it is answered like any EOI. */
	if (post(d, &d->vm->pump_vcpu, &eoi))
		kick(d);
}

void devproxy_get_stats(const struct devproxy *d, struct devproxy_stats *out)
{
	out->reads = __atomic_load_n(&d->stats.reads, __ATOMIC_RELAXED);
	out->sync_writes = __atomic_load_n(&d->stats.sync_writes, __ATOMIC_RELAXED);
	out->posted_writes = __atomic_load_n(&d->stats.posted_writes, __ATOMIC_RELAXED);
	out->kicks = __atomic_load_n(&d->stats.kicks, __ATOMIC_RELAXED);
	out->wait_slices = __atomic_load_n(&d->stats.wait_slices, __ATOMIC_RELAXED);
	out->absent = __atomic_load_n(&d->stats.absent, __ATOMIC_RELAXED);
	out->shadow_reads = __atomic_load_n(&d->stats.shadow_reads, __ATOMIC_RELAXED);
	out->shadow_tracked = __atomic_load_n(&d->stats.shadow_tracked, __ATOMIC_RELAXED);
	out->shadow_quiet = __atomic_load_n(&d->stats.shadow_quiet, __ATOMIC_RELAXED);
	out->quiet_writes = __atomic_load_n(&d->stats.quiet_writes, __ATOMIC_RELAXED);
	out->generation = d->generation;
}
