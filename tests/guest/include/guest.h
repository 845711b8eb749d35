/* SPDX-License-Identifier: MIT */
/*
 * The test guest's library, for code running at CPL3: console, exit,
 * command line, time, strings. Hardware helpers live in pci.h, mptable.h,
 * apic.h and smp.h.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))

/* Exit codes; QEMU's isa-debug-exit turns code into status (code << 1) | 1. */
#define EXIT_PASS	0
#define EXIT_FAIL	1	/* a check failed */
#define EXIT_TIMEOUT	2	/* a bounded wait ran out */
#define EXIT_USAGE	4	/* bad or missing test= / parameters */
#define EXIT_EXCEPTION	5	/* CPU exception (printed by the CPL0 handler) */

/* Ports of the devices every scenario relies on. */
#define PORT_DEBUG_EXIT	0xf4	/* isa-debug-exit, 32-bit write */
#define PORT_I8042_CMD	0x64
#define I8042_RESET	0xfe	/* pulse the CPU reset line */

/* serial.c: COM1, polled. Lines end in "\n" only. */
void serial_init(void);
void serial_putc(char c);
void serial_flush(void);
bool serial_at_line_start(void);
int serial_getc(void);	/* -1 if nothing received */

/* printf.c: %d %i %u %x %X %p %s %c %%, flags - 0, width, .precision,
 * length hh h l ll z. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __printf(1, 2);

/* string.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
bool parse_u64(const char *s, uint64_t *out);

/* runtime.c: the exit convention. */
extern const char *test_name;
void exit(int code) __noreturn;
void fail(int code, const char *fmt, ...) __printf(2, 3) __noreturn;

/* cmdline.c: "test=NAME key=value flag", separated by spaces. */
void cmdline_init(const char *s);
const char *cmdline(void);
const char *param(const char *key);	/* NULL if absent, "" for a bare flag */
uint64_t param_u64(const char *key, uint64_t def);	/* fails on junk */

/* bootinfo.c: the PVH start info (struct hvm_start_info). */
struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define HVM_MEMMAP_TYPE_RAM	1

bool bootinfo_valid(void);
uint32_t bootinfo_paddr(void);
uint32_t bootinfo_version(void);
const char *bootinfo_cmdline(void);
/* Entries, or NULL if version < 1, absent or not readable. */
const struct hvm_memmap_entry *bootinfo_memmap(uint32_t *count);
uint64_t bootinfo_rsdp(void);
/* True if CPL3 may read [addr, addr + len): below 4 GiB, not our CPL0 data. */
bool phys_readable(uint64_t addr, uint64_t len);

/* time.c: TSC calibrated once against PIT channel 2; every wait has a
 * deadline. */
void time_init(void);
uint64_t tsc_khz(void);
const char *tsc_source(void);
uint64_t tsc_from_us(uint64_t us);
uint64_t tsc_to_us(uint64_t cycles);
uint64_t deadline_us(uint64_t us);
bool deadline_passed(uint64_t deadline);
void udelay(uint64_t us);

/* Spin until cond is true; false if timeout_us passed first. */
#define wait_until(cond, timeout_us)                                   \
	({                                                             \
		uint64_t __dl = deadline_us(timeout_us);               \
		bool __ok;                                             \
		for (;;) {                                             \
			if (cond) {                                    \
				__ok = true;                           \
				break;                                 \
			}                                              \
			if (deadline_passed(__dl)) {                   \
				__ok = (cond);                         \
				break;                                 \
			}                                              \
			cpu_relax();                                   \
		}                                                      \
		__ok;                                                  \
	})

#endif /* GUEST_GUEST_H */
