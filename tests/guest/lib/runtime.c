// SPDX-License-Identifier: MIT
/*
 * The exit convention, shared by every scenario and by the CPL0 exception
 * handler, so that one binary gives the same result under QEMU and our VMM:
 *
 *   exit(0)  prints "TEST PASS <name>" and resets through the i8042 (QEMU
 *            with -no-reboot and our VMM both exit 0 on reset).
 *   code!=0  prints "TEST FAIL <name>: <reason>" and writes code to the
 *            isa-debug-exit port 0xf4 (QEMU exits with (code << 1) | 1).
 *
 * Either way the CPU then halts with interrupts off.
 */
#include "guest.h"

const char *test_name = "(none)";

static void start_line(void)
{
	/* A failure may interrupt a half-written line. */
	if (!serial_at_line_start())
		serial_putc('\n');
}

static __noreturn void finish_fail(int code)
{
	printf("\n");
	serial_flush();
	outl(PORT_DEBUG_EXIT, code ? (uint32_t)code : EXIT_FAIL);
	sys_halt();
}

void fail(int code, const char *fmt, ...)
{
	va_list ap;

	start_line();
	printf("TEST FAIL %s: ", test_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	finish_fail(code);
}

void exit(int code)
{
	if (code)
		fail(code, "exit code %d", code);
	start_line();
	printf("TEST PASS %s\n", test_name);
	serial_flush();
	outb(PORT_I8042_CMD, I8042_RESET);
	sys_halt();
}

/* Pushed by exc_common in boot/entry.S, lowest address first. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "exc15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "exc22", "exc23",
	"exc24", "exc25", "exc26", "exc27", "#HV", "#VC", "#SX", "exc31",
};

void exception_handler(const struct exc_frame *f);

/* Runs at CPL0 (emulated, slow) and never returns. */
void exception_handler(const struct exc_frame *f)
{
	static volatile int nested;
	uint64_t cr2;

	if (nested++) {
		outl(PORT_DEBUG_EXIT, EXIT_EXCEPTION);
		return;		/* exc_common halts */
	}
	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	start_line();
	printf("TEST FAIL %s: exception %llu %s error 0x%llx rip 0x%llx cs 0x%llx "
	       "rflags 0x%llx rsp 0x%llx cr2 0x%llx\n",
	       test_name, (unsigned long long)f->vector,
	       exc_names[f->vector & 31], (unsigned long long)f->error,
	       (unsigned long long)f->rip, (unsigned long long)f->cs,
	       (unsigned long long)f->rflags, (unsigned long long)f->rsp,
	       (unsigned long long)cr2);
	printf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
	       "  rsi %016llx rdi %016llx rbp %016llx\n",
	       (unsigned long long)f->rax, (unsigned long long)f->rbx,
	       (unsigned long long)f->rcx, (unsigned long long)f->rdx,
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi,
	       (unsigned long long)f->rbp);
	serial_flush();
	outl(PORT_DEBUG_EXIT, EXIT_EXCEPTION);
}
