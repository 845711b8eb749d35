// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the PCnet-PCI II scenarios: see pcnet_drv.h.
 */
#include "apic.h"
#include "pcnet_drv.h"

#define IRQ_WAIT_US	1000000

struct pcn_match {
	struct pci_dev pci;
	bool found;
};

static void match(const struct pci_dev *d, void *arg)
{
	struct pcn_match *m = arg;

	if (d->vendor == PCN_VENDOR && d->device == PCN_DEVICE && !m->found) {
		m->pci = *d;
		m->found = true;
	}
}

static bool dma_area_is_ram(void)
{
	const struct hvm_memmap_entry *e;
	uint32_t n;

	e = bootinfo_memmap(&n);
	if (!e)
		return true;	/* no map: trust the usual 64 MiB */
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type == HVM_MEMMAP_TYPE_RAM &&
		    e[i].addr <= PCN_DMA_BASE &&
		    e[i].addr + e[i].size >= PCN_DMA_BASE + PCN_DMA_SIZE)
			return true;
	}
	return false;
}

void pcn_find(struct pcn *p)
{
	struct pcn_match m = { .found = false };
	const char *model = param("model");
	struct pci_bar bar;
	uint16_t cmd;

	*p = (struct pcn){ .dma_next = PCN_DMA_BASE };
	if (model && !strcmp(model, "qemu"))
		p->qemu = true;
	else if (model && strcmp(model, "datasheet"))
		fail(EXIT_USAGE, "model=%s: expected qemu or datasheet", model);
	pci_scan_bus0(match, &m);
	if (!m.found)
		fail(EXIT_FAIL, "no PCnet-PCI II %04x:%04x on bus 0",
		     PCN_VENDOR, PCN_DEVICE);
	p->pci = m.pci;
	pci_bar_probe(&p->pci, 0, &bar);
	if (bar.type != PCI_BAR_TYPE_IO || bar.size < 0x20 || !bar.addr)
		fail(EXIT_FAIL, "PCnet BAR0 is not a placed 32-byte I/O BAR");
	p->io = (uint16_t)bar.addr;
	/* pci_enable_device() and pci_set_master(). */
	cmd = pci_read16(&p->pci, PCI_COMMAND);
	pci_write16(&p->pci, PCI_COMMAND, cmd | PCI_COMMAND_IO |
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!(pci_read16(&p->pci, PCI_COMMAND) & PCI_COMMAND_MASTER))
		fail(EXIT_FAIL, "PCI COMMAND bus master does not stick");
	if (!dma_area_is_ram())
		fail(EXIT_FAIL, "0x%x-0x%x is not RAM in the memory map",
		     PCN_DMA_BASE, PCN_DMA_BASE + PCN_DMA_SIZE);
	memset(phys(PCN_DMA_BASE), 0, PCN_DMA_SIZE);
	printf("%s: 00:%02x.0 io 0x%x rev %02x%s\n", test_name, p->pci.dev,
	       p->io, p->pci.rev, p->qemu ? " (expecting QEMU's model)" : "");
}

void pcn_route_irq(struct pcn *p, uint8_t vector)
{
	const char *why;

	if (!mp_get(&why))
		fail(EXIT_FAIL, "%s", why);
	if (!p->pci.irq_pin)
		fail(EXIT_FAIL, "PCnet has no interrupt pin");
	if (mp_route_pci(0, p->pci.dev, p->pci.irq_pin, &p->route))
		fail(EXIT_FAIL, "MP table does not route 00:%02x.0 INT%c",
		     p->pci.dev, 'A' + p->pci.irq_pin - 1);
	if (irq_register(&p->route, vector))
		fail(EXIT_FAIL, "gsi %u is on no I/O APIC", p->route.gsi);
	p->vector = vector;
	printf("%s: INT%c -> gsi %u (%s) vector 0x%x\n", test_name,
	       'A' + p->pci.irq_pin - 1, p->route.gsi,
	       p->route.level ? "level" : "edge", vector);
}

void *pcn_dma_alloc(struct pcn *p, uint32_t size, uint32_t align)
{
	uint32_t a = (p->dma_next + align - 1) & ~(align - 1);

	if (a + size > PCN_DMA_BASE + PCN_DMA_SIZE)
		fail(EXIT_FAIL, "DMA area exhausted");
	p->dma_next = a + size;
	return phys(a);
}

/* RAP, then the data port @data (RDP or BDP): a read, or a write of @val. */
static uint16_t indexed(struct pcn *p, unsigned int reg, uint16_t data,
			bool wr, uint16_t val)
{
	uint64_t t0 = rdtsc();
	uint16_t v = 0;

	if (p->dwio) {
		outl(p->io + PCN_DWIO_RAP, reg);
		if (wr)
			outl(p->io + data, val);
		else
			v = inl(p->io + data) & 0xffff;
	} else {
		outw(p->io + PCN_WIO_RAP, reg);
		if (wr)
			outw(p->io + data, val);
		else
			v = inw(p->io + data);
	}
	if (wr) {
		p->io_wr_cycles += rdtsc() - t0;
		p->io_writes++;
	} else {
		p->io_rd_cycles += rdtsc() - t0;
		p->io_reads++;
	}
	return v;
}

uint16_t pcn_csr_rd(struct pcn *p, unsigned int reg)
{
	return indexed(p, reg, p->dwio ? PCN_DWIO_RDP : PCN_WIO_RDP, false, 0);
}

void pcn_csr_wr(struct pcn *p, unsigned int reg, uint16_t val)
{
	indexed(p, reg, p->dwio ? PCN_DWIO_RDP : PCN_WIO_RDP, true, val);
}

uint16_t pcn_bcr_rd(struct pcn *p, unsigned int reg)
{
	return indexed(p, reg, p->dwio ? PCN_DWIO_BDP : PCN_WIO_BDP, false, 0);
}

void pcn_bcr_wr(struct pcn *p, unsigned int reg, uint16_t val)
{
	indexed(p, reg, p->dwio ? PCN_DWIO_BDP : PCN_WIO_BDP, true, val);
}

uint16_t pcn_rap_rd(struct pcn *p)
{
	if (p->dwio)
		return inl(p->io + PCN_DWIO_RAP) & 0xffff;
	return inw(p->io + PCN_WIO_RAP);
}

void pcn_rap_wr(struct pcn *p, uint16_t val)
{
	if (p->dwio)
		outl(p->io + PCN_DWIO_RAP, val);
	else
		outw(p->io + PCN_WIO_RAP, val);
}

void pcn_reset(struct pcn *p)
{
	if (p->dwio)
		(void)inl(p->io + PCN_DWIO_RESET);
	else
		(void)inw(p->io + PCN_WIO_RESET);
}

void pcn_check(struct pcn *p, const char *what, uint32_t got, uint32_t want)
{
	p->checks++;
	if (got != want)
		fail(EXIT_FAIL, "%s reads 0x%x, expected 0x%x%s", what, got,
		     want, p->qemu ? " (QEMU model)" : "");
}

void pcn_check2(struct pcn *p, const char *what, uint32_t got,
		uint32_t want, uint32_t qemu_want)
{
	pcn_check(p, what, got, p->qemu ? qemu_want : want);
}

void pcn_frame(uint8_t *buf, uint32_t len, unsigned int n,
	       const uint8_t mac[6])
{
	memcpy(buf, mac, 6);
	memcpy(buf + 6, mac, 6);
	buf[12] = 0x88;		/* 0x88b5: IEEE local experimental */
	buf[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(n * 31 + i * 7 + (i >> 8));
	if (len > 14)
		buf[14] = (uint8_t)n;
}

uint32_t pcn_crc_raw(const uint8_t *buf, uint32_t len)
{
	uint32_t crc = 0xffffffffu;

	for (uint32_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

void pcn_check_frame(struct pcn *p, const char *who, const uint8_t *got,
		     uint32_t mcnt, const uint8_t *sent, uint32_t len)
{
	uint32_t crc = pcn_crc_raw(sent, len), fcs = 0, want;

	pcn_check(p, "RMD MCNT", mcnt, len + 4);
	for (uint32_t i = 0; i < len; i++) {
		if (got[i] != sent[i])
			fail(EXIT_FAIL, "%s: %u-byte frame differs at byte %u: 0x%02x, sent 0x%02x",
			     who, len, i, got[i], sent[i]);
	}
	for (int i = 0; i < 4; i++)
		fcs |= (uint32_t)got[len + i] << (8 * i);
	/*
	 * Datasheet "Loopback Operation" and "Transmit/Receive FCS": the
	 * chip appends the frame's FCS, the complemented CRC-32 sent least
	 * significant byte first.  QEMU (hw/net/pcnet.c, loopback path of
	 * pcnet_receive) stores the uncomplemented CRC register byte
	 * swapped (htonl) instead.
	 */
	want = p->qemu ? __builtin_bswap32(crc) : ~crc;
	pcn_check(p, "loopback FCS", fcs, want);
}

void pcn_wait_irq(struct pcn *p, uint64_t seen, const char *what)
{
	if (!wait_until(irq_count_of(p->vector) != seen, IRQ_WAIT_US))
		fail(EXIT_TIMEOUT, "%s: no interrupt on vector 0x%x (CSR0 0x%x)",
		     what, p->vector, pcn_csr_rd(p, 0));
}
