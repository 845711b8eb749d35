/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0, configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2).  Each function's standard header lives in a 64-byte array
 * with a per-byte mask of writable bits and one of write-1-to-clear bits,
 * so bytes, words and dwords at any offset behave alike; BAR and COMMAND
 * writes are then looked at to (re)decode I/O BARs on the pio bus.
 *
 * One lock per bus: like the chipset's single CONFIG_ADDRESS latch, it
 * serialises config cycles from all vCPUs.  It is taken inside a
 * pio_dispatch() of 0xCF8/0xCFC, which calls handlers without the pio lock,
 * so re-registering a BAR from here is allowed.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdlib.h>

#include "pci.h"

/* CONFIG_ADDRESS (0xCF8) fields. */
#define CONFIG_ENABLE		0x80000000u
#define CONFIG_BUS(a)		(((a) >> 16) & 0xff)
#define CONFIG_DEVICE(a)	(((a) >> 11) & 0x1f)
#define CONFIG_FUNCTION(a)	(((a) >> 8) & 0x07)
#define CONFIG_REGISTER(a)	((a) & 0xfc)
#define CONFIG_WRITABLE		0x80fffffcu	/* 30:24 and 1:0 reserved */

#define HEADER_SIZE		PCI_STD_HEADER_SIZEOF	/* 0x40 */

/* COMMAND bits a guest may set; the rest are hardwired to 0. */
#define COMMAND_WRITABLE	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY |	\
				 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
				 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

/* STATUS error bits: set by the device, cleared by writing 1. */
#define STATUS_W1C		(PCI_STATUS_PARITY |			\
				 PCI_STATUS_SIG_TARGET_ABORT |		\
				 PCI_STATUS_REC_TARGET_ABORT |		\
				 PCI_STATUS_REC_MASTER_ABORT |		\
				 PCI_STATUS_SIG_SYSTEM_ERROR |		\
				 PCI_STATUS_DETECTED_PARITY)

#define IO_SPACE_END		0x10000u
#define MEM32_SPACE_END		0x100000000ull

struct pci_bar {
	struct pci_bar_desc desc;	/* size 0: unused or a mem64 upper half */
	uint64_t addr;			/* as last reported */
	bool want;			/* decoding requested at addr */
	bool enabled;			/* ... and actually decoding */
	bool io_registered;
	uint16_t io_base;
};

struct pci_func {
	bool present;
	struct pci_func_desc desc;
	uint8_t cfg[HEADER_SIZE];
	uint8_t wmask[HEADER_SIZE];
	uint8_t w1cmask[HEADER_SIZE];
	struct pci_bar bar[PCI_NR_BARS];
};

struct pci_bus {
	pthread_mutex_t lock;
	struct pio_bus *pio;
	uint32_t config_address;	/* the 0xCF8 latch */
	uint64_t io_next;		/* next free I/O address for BARs */
	uint64_t mem_next;		/* next free memory address for BARs */
	struct pci_func func[PCI_NR_DEVICES];
};

static const struct pci_func_desc pci_host_bridge = {
	.vendor_id = PCI_HOST_VENDOR_ID,
	.device_id = PCI_HOST_DEVICE_ID,
	.class_code = PCI_HOST_CLASS,
	.revision = 0x02,
};

unsigned pci_intx_gsi(unsigned dev, unsigned pin)
{
	return PCI_INTX_GSI_BASE + ((dev + pin - 1) & 3);
}

/* Little-endian field access to the header and its masks. */
static uint32_t le_get(const uint8_t *p, unsigned len)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void le_put(uint8_t *p, unsigned len, uint32_t v)
{
	unsigned i;

	for (i = 0; i < len; i++)
		p[i] = v >> (8 * i);
}

static uint16_t pci_command(const struct pci_func *f)
{
	return le_get(&f->cfg[PCI_COMMAND], 2);
}

static unsigned bar_offset(unsigned bar)
{
	return PCI_BASE_ADDRESS_0 + 4 * bar;
}

static uint64_t pci_bar_addr(const struct pci_func *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	uint32_t lo = le_get(&f->cfg[bar_offset(i)], 4);

	switch (b->desc.type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (uint64_t)le_get(&f->cfg[bar_offset(i + 1)], 4) << 32;
	default:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	}
}

/*
 * Whether BAR @i should decode at @addr: its space is enabled in COMMAND
 * and the address is one a guest would have assigned (0 means unassigned,
 * and a sizing pattern runs to the top of the address space).
 */
static bool pci_bar_valid(const struct pci_func *f, unsigned i, uint64_t addr)
{
	const struct pci_bar *b = &f->bar[i];
	uint16_t cmd = pci_command(f);
	uint64_t size = b->desc.size;

	if (!addr)
		return false;
	switch (b->desc.type) {
	case PCI_BAR_IO:
		return (cmd & PCI_COMMAND_IO) && addr + size <= IO_SPACE_END;
	case PCI_BAR_MEM32:
		return (cmd & PCI_COMMAND_MEMORY) &&
		       addr + size < MEM32_SPACE_END;
	case PCI_BAR_MEM64:
		return (cmd & PCI_COMMAND_MEMORY) &&
		       addr + (size - 1) != UINT64_MAX;
	default:
		return false;
	}
}

static void pci_bar_unmap(struct pci_bus *bus, struct pci_bar *b)
{
	if (!b->io_registered)
		return;
	pio_unregister(bus->pio, b->io_base);
	b->io_registered = false;
}

/* Memory BARs always "map": decoding them is the bar_moved hook's job. */
static bool pci_bar_map(struct pci_bus *bus, struct pci_bar *b, uint64_t addr)
{
	if (b->desc.type != PCI_BAR_IO)
		return true;
	if (pio_register(bus->pio, addr, b->desc.size, b->desc.pio,
			 b->desc.pio_opaque))
		return false;
	b->io_registered = true;
	b->io_base = addr;
	return true;
}

/* Bring every BAR's decoding in line with the header after a write. */
static void pci_update_bars(struct pci_bus *bus, struct pci_func *f)
{
	unsigned i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &f->bar[i];
		uint64_t addr, old;
		bool want;

		if (!b->desc.size)
			continue;
		addr = pci_bar_addr(f, i);
		want = pci_bar_valid(f, i, addr);
		if (addr == b->addr && want == b->want)
			continue;
		old = b->addr;
		pci_bar_unmap(bus, b);
		b->addr = addr;
		b->want = want;
		b->enabled = want && pci_bar_map(bus, b, addr);
		if (f->desc.bar_moved)
			f->desc.bar_moved(f->desc.opaque, i, old, addr,
					  b->enabled);
	}
}

static uint32_t pci_cfg_read(struct pci_func *f, unsigned off, unsigned len)
{
	if (off < HEADER_SIZE)
		return le_get(&f->cfg[off], len);
	if (f->desc.cfg_read)
		return f->desc.cfg_read(f->desc.opaque, off, len);
	return 0;
}

static bool overlaps(unsigned off, unsigned len, unsigned start, unsigned end)
{
	return off < end && off + len > start;
}

static void pci_cfg_write(struct pci_bus *bus, struct pci_func *f,
			  unsigned off, unsigned len, uint32_t val)
{
	unsigned i;

	if (off >= HEADER_SIZE) {
		if (f->desc.cfg_write)
			f->desc.cfg_write(f->desc.opaque, off, len, val);
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned o = off + i;
		uint8_t v = val >> (8 * i);

		f->cfg[o] = (f->cfg[o] & ~f->wmask[o]) | (v & f->wmask[o]);
		f->cfg[o] &= ~(v & f->w1cmask[o]);
	}
	if (overlaps(off, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    overlaps(off, len, PCI_BASE_ADDRESS_0, PCI_CARDBUS_CIS))
		pci_update_bars(bus, f);
}

/* The function CONFIG_ADDRESS selects, or NULL (nothing answers). */
static struct pci_func *pci_config_target(struct pci_bus *bus, unsigned *reg)
{
	uint32_t a = bus->config_address;
	struct pci_func *f;

	if (!(a & CONFIG_ENABLE) || CONFIG_BUS(a) != 0 ||
	    CONFIG_FUNCTION(a) != 0)
		return NULL;
	f = &bus->func[CONFIG_DEVICE(a)];
	if (!f->present)
		return NULL;
	*reg = CONFIG_REGISTER(a);
	return f;
}

/*
 * CONFIG_ADDRESS is a dword register; byte and word cycles to 0xCF8-0xCFB
 * are ordinary I/O that nothing here answers.
 */
static void pci_config_address_pio(struct vcpu *vcpu, uint16_t offset,
				   uint8_t *data, unsigned len, bool is_write,
				   void *opaque)
{
	struct pci_bus *bus = opaque;

	(void)vcpu;
	if (offset != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write)
		bus->config_address = pio_get(data, len) & CONFIG_WRITABLE;
	else
		pio_put(data, len, bus->config_address);
	pthread_mutex_unlock(&bus->lock);
}

/* CONFIG_DATA: byte lanes 0xCFC-0xCFF select bytes of the dword. */
static void pci_config_data_pio(struct vcpu *vcpu, uint16_t offset,
				uint8_t *data, unsigned len, bool is_write,
				void *opaque)
{
	struct pci_bus *bus = opaque;
	struct pci_func *f;
	unsigned reg = 0;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	f = offset + len <= 4 ? pci_config_target(bus, &reg) : NULL;
	if (!f) {
		/* Master abort: reads float high, writes vanish. */
		if (!is_write)
			memset(data, 0xff, len);
	} else if (is_write) {
		pci_cfg_write(bus, f, reg + offset, len, pio_get(data, len));
	} else {
		pio_put(data, len, pci_cfg_read(f, reg + offset, len));
	}
	pthread_mutex_unlock(&bus->lock);
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int pci_check_bar(const struct pci_func_desc *d, unsigned i)
{
	const struct pci_bar_desc *b = &d->bar[i];

	if (!b->size)
		return 0;
	if (!is_pow2(b->size))
		return -EINVAL;
	switch (b->type) {
	case PCI_BAR_IO:
		return b->size >= 4 && b->pio ? 0 : -EINVAL;
	case PCI_BAR_MEM32:
		return b->size >= 16 ? 0 : -EINVAL;
	case PCI_BAR_MEM64:
		/* The upper half takes the next slot, which must be free. */
		if (b->size < 16 || i + 1 >= PCI_NR_BARS || d->bar[i + 1].size)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static int pci_check_desc(const struct pci_func_desc *d)
{
	unsigned i;
	int ret;

	if (d->int_pin > 4 || d->class_code > 0xffffff)
		return -EINVAL;
	for (i = 0; i < PCI_NR_BARS; i++) {
		ret = pci_check_bar(d, i);
		if (ret)
			return ret;
		if (d->bar[i].size && d->bar[i].type == PCI_BAR_MEM64)
			i++;
	}
	return 0;
}

/* Naturally aligned placement in [*next, end); advances *next. */
static int pci_place(uint64_t *next, uint64_t end, uint64_t size,
		     uint64_t *addr)
{
	uint64_t a = (*next + size - 1) & ~(size - 1);

	if (a < *next || a > end || size > end - a)
		return -ENOSPC;
	*addr = a;
	*next = a + size;
	return 0;
}

/* Sets up BAR @i at @addr: header value, sizing mask, decode state. */
static void pci_init_bar(struct pci_func *f, unsigned i, uint64_t addr)
{
	const struct pci_bar_desc *d = &f->desc.bar[i];
	uint8_t *cfg = &f->cfg[bar_offset(i)];
	uint8_t *wmask = &f->wmask[bar_offset(i)];
	uint64_t mask = ~(d->size - 1);
	uint32_t type = 0;

	if (d->type == PCI_BAR_IO) {
		type = PCI_BASE_ADDRESS_SPACE_IO;
		mask &= PCI_BASE_ADDRESS_IO_MASK;
	} else {
		mask &= PCI_BASE_ADDRESS_MEM_MASK;
		if (d->type == PCI_BAR_MEM64)
			type |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		if (d->prefetchable)
			type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	}
	le_put(cfg, 4, (uint32_t)addr | type);
	le_put(wmask, 4, (uint32_t)mask);
	if (d->type == PCI_BAR_MEM64) {
		le_put(cfg + 4, 4, addr >> 32);
		le_put(wmask + 4, 4, mask >> 32);
	}
	f->bar[i].desc = *d;
	f->bar[i].addr = addr;
	f->bar[i].want = true;
}

/*
 * Firmware's job: place every BAR, route the interrupt, enable decoding.
 * Works on copies of the window cursors so a failure changes nothing.
 */
static int pci_init_func(struct pci_bus *bus, struct pci_func *f,
			 const struct pci_func_desc *d, unsigned dev)
{
	uint64_t io = bus->io_next, mem = bus->mem_next;
	uint64_t addr[PCI_NR_BARS] = { 0 };
	unsigned i;
	int ret;

	for (i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar_desc *b = &d->bar[i];

		if (!b->size)
			continue;
		if (b->type == PCI_BAR_IO)
			ret = pci_place(&io, PCI_IO_WINDOW_END, b->size,
					&addr[i]);
		else
			ret = pci_place(&mem, PCI_MEM_WINDOW_END, b->size,
					&addr[i]);
		if (ret)
			return ret;
	}

	memset(f, 0, sizeof(*f));
	f->desc = *d;
	le_put(&f->cfg[PCI_VENDOR_ID], 2, d->vendor_id);
	le_put(&f->cfg[PCI_DEVICE_ID], 2, d->device_id);
	le_put(&f->cfg[PCI_COMMAND], 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	le_put(&f->wmask[PCI_COMMAND], 2, COMMAND_WRITABLE);
	le_put(&f->w1cmask[PCI_STATUS], 2, STATUS_W1C);
	le_put(&f->cfg[PCI_CLASS_REVISION], 4,
	       (d->class_code << 8) | d->revision);
	f->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	f->wmask[PCI_LATENCY_TIMER] = 0xff;
	f->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	le_put(&f->cfg[PCI_SUBSYSTEM_VENDOR_ID], 2, d->subsys_vendor_id);
	le_put(&f->cfg[PCI_SUBSYSTEM_ID], 2, d->subsys_id);
	f->cfg[PCI_INTERRUPT_PIN] = d->int_pin;
	if (d->int_pin)
		f->cfg[PCI_INTERRUPT_LINE] = pci_intx_gsi(dev, d->int_pin);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;

	for (i = 0; i < PCI_NR_BARS; i++) {
		if (!d->bar[i].size)
			continue;
		pci_init_bar(f, i, addr[i]);
		f->bar[i].enabled = pci_bar_map(bus, &f->bar[i], addr[i]);
		if (!f->bar[i].enabled) {
			ret = -EBUSY;
			goto err_unmap;
		}
	}
	f->present = true;
	bus->io_next = io;
	bus->mem_next = mem;
	return 0;

err_unmap:
	for (i = 0; i < PCI_NR_BARS; i++)
		pci_bar_unmap(bus, &f->bar[i]);
	memset(f, 0, sizeof(*f));
	return ret;
}

int pci_add_function(struct pci_bus *bus, const struct pci_func_desc *desc)
{
	unsigned dev;
	int ret;

	ret = pci_check_desc(desc);
	if (ret)
		return ret;

	pthread_mutex_lock(&bus->lock);
	for (dev = 1; dev < PCI_NR_DEVICES; dev++)
		if (!bus->func[dev].present)
			break;
	if (dev == PCI_NR_DEVICES)
		ret = -ENOSPC;
	else
		ret = pci_init_func(bus, &bus->func[dev], desc, dev);
	pthread_mutex_unlock(&bus->lock);
	return ret ? ret : (int)dev;
}

int pci_bar_get(struct pci_bus *bus, unsigned dev, unsigned bar,
		uint64_t *addr, bool *enabled)
{
	const struct pci_bar *b;
	int ret = -ENOENT;

	if (dev >= PCI_NR_DEVICES || bar >= PCI_NR_BARS)
		return -ENOENT;
	pthread_mutex_lock(&bus->lock);
	b = &bus->func[dev].bar[bar];
	if (bus->func[dev].present && b->desc.size) {
		*addr = b->addr;
		*enabled = b->enabled;
		ret = 0;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void pci_set_status(struct pci_bus *bus, unsigned dev, uint16_t bits)
{
	struct pci_func *f;

	if (dev >= PCI_NR_DEVICES)
		return;
	pthread_mutex_lock(&bus->lock);
	f = &bus->func[dev];
	if (f->present)
		le_put(&f->cfg[PCI_STATUS], 2,
		       le_get(&f->cfg[PCI_STATUS], 2) | (bits & STATUS_W1C));
	pthread_mutex_unlock(&bus->lock);
}

size_t pci_intx_routes(struct pci_bus *bus, struct pci_intx_route *out,
		       size_t max)
{
	size_t n = 0;
	unsigned dev;

	pthread_mutex_lock(&bus->lock);
	for (dev = 0; dev < PCI_NR_DEVICES; dev++) {
		const struct pci_func *f = &bus->func[dev];

		if (!f->present || !f->desc.int_pin)
			continue;
		if (n < max)
			out[n] = (struct pci_intx_route){
				.dev = dev,
				.pin = f->desc.int_pin,
				.gsi = pci_intx_gsi(dev, f->desc.int_pin),
			};
		n++;
	}
	pthread_mutex_unlock(&bus->lock);
	return n;
}

struct pci_bus *pci_bus_new(struct pio_bus *pio)
{
	struct pci_bus *bus;

	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return NULL;
	if (pthread_mutex_init(&bus->lock, NULL))
		goto err_free;
	bus->pio = pio;
	bus->io_next = PCI_IO_WINDOW_BASE;
	bus->mem_next = PCI_MEM_WINDOW_BASE;
	if (pci_init_func(bus, &bus->func[0], &pci_host_bridge, 0))
		goto err_mutex;
	if (pio_register(pio, PCI_CONFIG_ADDRESS, 4, pci_config_address_pio,
			 bus))
		goto err_mutex;
	if (pio_register(pio, PCI_CONFIG_DATA, 4, pci_config_data_pio, bus))
		goto err_address;
	return bus;

err_address:
	pio_unregister(pio, PCI_CONFIG_ADDRESS);
err_mutex:
	pthread_mutex_destroy(&bus->lock);
err_free:
	free(bus);
	return NULL;
}

void pci_bus_free(struct pci_bus *bus)
{
	unsigned dev, i;

	if (!bus)
		return;
	pio_unregister(bus->pio, PCI_CONFIG_DATA);
	pio_unregister(bus->pio, PCI_CONFIG_ADDRESS);
	for (dev = 0; dev < PCI_NR_DEVICES; dev++)
		for (i = 0; i < PCI_NR_BARS; i++)
			pci_bar_unmap(bus, &bus->func[dev].bar[i]);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}
