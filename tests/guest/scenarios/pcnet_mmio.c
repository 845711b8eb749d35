// SPDX-License-Identifier: MIT
/*
 * test=pcnet-mmio [model=qemu]: the PCnet-PCI II's memory BAR (BAR1, 32
 * bytes) maps the same resources as its I/O BAR (datasheet "I/O Resource
 * Map": the memory space is decoded like the I/O space), so what one side
 * writes the other reads: the APROM, RAP, RDP (CSR88 chip ID, CSR1 as
 * storage), BDP, and the software reset by reading RESET.  Under vmm-core
 * it proves that accesses to a device's memory BAR reach the device
 * process like its ports do.
 */
#include "pcnet_drv.h"
#include "scenarios.h"

static uint16_t mmio_rd16(uint64_t a)
{
	return *(volatile uint16_t *)phys(a);
}

static void mmio_wr16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)phys(a) = v;
}

void scenario_pcnet_mmio(void)
{
	struct pcn pcn, *p = &pcn;
	struct pci_bar bar;
	uint64_t m;

	pcn_find(p);
	pci_bar_probe(&p->pci, 1, &bar);
	if (bar.type != PCI_BAR_TYPE_MEM32 || bar.size != 0x20 || !bar.addr)
		fail(EXIT_FAIL, "PCnet BAR1 is not a placed 32-byte memory BAR");
	m = bar.addr;
	printf("pcnet-mmio: BAR1 memory at 0x%llx\n", (unsigned long long)m);

	/* S_RESET through memory, then the chip is stopped (CSR0 = STOP). */
	(void)mmio_rd16(m + PCN_WIO_RESET);
	mmio_wr16(m + PCN_WIO_RAP, 0);
	pcn_check(p, "CSR0 after RESET read through BAR1",
		  mmio_rd16(m + PCN_WIO_RDP), C0_STOP);
	pcn_check(p, "CSR0 through the ports", pcn_csr_rd(p, 0), C0_STOP);

	for (unsigned int i = 0; i < 16; i += 2)
		pcn_check(p, "APROM word through BAR1", mmio_rd16(m + i),
			  inw(p->io + i));

	mmio_wr16(m + PCN_WIO_RAP, 88);
	pcn_check(p, "RAP written through BAR1, read by port",
		  inw(p->io + PCN_WIO_RAP), 88);
	pcn_check(p, "CSR88 through BAR1", mmio_rd16(m + PCN_WIO_RDP), 0x1003);
	mmio_wr16(m + PCN_WIO_RAP, 89);
	pcn_check(p, "CSR89 through BAR1", mmio_rd16(m + PCN_WIO_RDP), 0x0262);

	/* CSR1 (IADR[15:0]) is plain storage while the chip is stopped. */
	mmio_wr16(m + PCN_WIO_RAP, 1);
	mmio_wr16(m + PCN_WIO_RDP, 0x1234);
	pcn_check(p, "CSR1 written through BAR1, read by port",
		  pcn_csr_rd(p, 1), 0x1234);
	pcn_csr_wr(p, 1, 0xabcd);
	mmio_wr16(m + PCN_WIO_RAP, 1);
	pcn_check(p, "CSR1 written by port, read through BAR1",
		  mmio_rd16(m + PCN_WIO_RDP), 0xabcd);

	/* BCR20 (SWSTYLE) through BDP. */
	mmio_wr16(m + PCN_WIO_RAP, 20);
	mmio_wr16(m + PCN_WIO_BDP, 2);
	pcn_check(p, "BCR20 written through BAR1, read by port",
		  pcn_bcr_rd(p, 20) & 0xff, 2);
	printf("pcnet-mmio: BAR1 and BAR0 agree, %u register values checked\n",
	       p->checks);
}
