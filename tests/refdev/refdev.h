/* SPDX-License-Identifier: MIT */
/*
 * The reference device (tests/refdev): a PCI function served out of
 * process through ipc/devsrv.h, and the register map the test guest
 * (tests/guest/scenarios/refdev.c) drives it with.  Freestanding: the
 * guest includes this too, so nothing here but constants.
 *
 * I/O BAR0, 32 bytes, 32-bit registers:
 *
 *   0x00 ID        RO  REFDEV_ID_VAL
 *   0x04 SCRATCH   RW
 *   0x08 IRQ       RW  write 1 asserts INTA#, 0 deasserts; reads the level
 *   0x0c DMA_ADDR  RW  guest-physical address
 *   0x10 DMA_LEN   RW  bytes
 *   0x14 DMA_GO    WO  fills [DMA_ADDR, +DMA_LEN) with (i * 7 + value) & 0xff;
 *                      a range outside guest RAM sets STATUS_DMA_FAULT
 *   0x18 STATUS    W1C bit 0: the last DMA faulted
 *   0x1c WRITES    RO  register writes executed since the first attach
 *
 * Every register lives in the state region, so a refdev killed and
 * started again continues with the same values.
 */
#ifndef TESTS_REFDEV_H
#define TESTS_REFDEV_H

#define REFDEV_VENDOR		0x1234
#define REFDEV_DEVICE		0x5602
#define REFDEV_CLASS		0xff0000
#define REFDEV_BAR0_SIZE	32

#define REFDEV_ID		0x00
#define REFDEV_SCRATCH		0x04
#define REFDEV_IRQ		0x08
#define REFDEV_DMA_ADDR		0x0c
#define REFDEV_DMA_LEN		0x10
#define REFDEV_DMA_GO		0x14
#define REFDEV_STATUS		0x18
#define REFDEV_WRITES		0x1c

#define REFDEV_ID_VAL		0x56454452u	/* "REDV" */
#define REFDEV_STATUS_DMA_FAULT	0x1u

/* The byte DMA_GO stores at index i of the range, for seed s. */
#define REFDEV_DMA_BYTE(i, s)	((unsigned char)((i) * 7u + (s)))

#endif /* TESTS_REFDEV_H */
