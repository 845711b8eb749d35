// SPDX-License-Identifier: MIT
/*
 * The small in-core devices of a PC that a guest expects: the COM1 console,
 * the i8042's reset line, the POST port, and a test exit port compatible
 * with QEMU's isa-debug-exit.  The PIC, PIT and speaker port live in KVM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "pci.h"
#include "pio.h"
#include "serial.h"
#include "testdev.h"
#include "vm.h"

#define I8042_DATA		0x60
#define I8042_COMMAND		0x64
#define I8042_CMD_RESET		0xfe	/* pulse the CPU reset line */
#define POST_PORT		0x80

static struct termios saved_tio;
static bool tio_saved;
static pthread_t input_thread;
static bool input_started;
static int input_stop_fd = -1;

static void exit_port_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
			  unsigned len, bool is_write, void *opaque)
{
	struct vm *vm = opaque;
	uint32_t v;

	(void)vcpu;
	(void)offset;
	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	v = pio_get(data, len);
	vm_request_end(vm, VM_END_EXIT_DEVICE, v,
		       "guest wrote 0x%x to the exit port", v);
}

static void i8042_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		      unsigned len, bool is_write, void *opaque)
{
	struct vm *vm = opaque;

	(void)vcpu;
	(void)offset;
	if (!is_write) {
		/* Status: both buffers empty, so a reset write never waits. */
		memset(data, 0, len);
		return;
	}
	if (data[0] == I8042_CMD_RESET)
		vm_request_end(vm, VM_END_RESET, 0, "reset through the i8042");
}

static void post_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		     unsigned len, bool is_write, void *opaque)
{
	(void)vcpu;
	(void)offset;
	(void)opaque;
	/* Old drivers write here for a short delay; nothing to do. */
	if (!is_write)
		memset(data, 0xff, len);
}

static void write_all(int fd, const uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* console gone: the guest must not notice */
		buf += w;
		n -= (size_t)w;
	}
}

static void serial_tx(void *opaque, const uint8_t *buf, size_t n)
{
	struct vm *vm = opaque;

	if (vm->serial_out_fd >= 0)
		write_all(vm->serial_out_fd, buf, n);
}

/* Feeds stdin to the UART, waiting for FIFO space rather than dropping. */
static void *input_main(void *arg)
{
	struct vm *vm = arg;
	uint8_t buf[256];

	pthread_setname_np(pthread_self(), "serial-in");
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = input_stop_fd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if (p[1].revents)
			return NULL;
		if (!p[0].revents)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0)
			return NULL;	/* EOF: no more input, keep running */
		for (size_t off = 0; off < (size_t)n;) {
			struct pollfd q[2] = {
				{ .fd = serial_rx_eventfd(vm->serial), .events = POLLIN },
				{ .fd = input_stop_fd, .events = POLLIN },
			};
			uint64_t ev;

			off += serial_receive(vm->serial, buf + off, (size_t)n - off);
			if (off == (size_t)n)
				break;
			if (poll(q, 2, -1) < 0 && errno != EINTR)
				return NULL;
			if (q[1].revents)
				return NULL;
			if (read(q[0].fd, &ev, sizeof(ev)) < 0 && errno != EAGAIN)
				return NULL;
		}
	}
}

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static int start_console_input(struct vm *vm)
{
	struct termios raw;
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	input_stop_fd = pfd[0];
	vm->console_stop_wfd = pfd[1];
	/* Raw input, so keys reach the guest as typed; ^C still stops us. */
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		raw = saved_tio;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw)) {
			tio_saved = true;
			atexit(restore_tty);
		}
	}
	return 0;
}

int platform_start(struct vm *vm)
{
	if (vm->opt->serial != SERIAL_STDIO)
		return 0;
	if (pthread_create(&input_thread, NULL, input_main, vm)) {
		fprintf(stderr, "vmm-core: console input thread: %s\n",
			strerror(errno));
		return -1;
	}
	input_started = true;
	return 0;
}

static int setup_serial(struct vm *vm)
{
	struct serial_config cfg = {
		.irq = { .set_level = vm_set_irq, .opaque = vm,
			 .gsi = SERIAL_COM1_IRQ },
		.tx = serial_tx,
		.tx_opaque = vm,
	};

	switch (vm->opt->serial) {
	case SERIAL_STDIO:
		vm->serial_out_fd = STDOUT_FILENO;
		break;
	case SERIAL_FILE:
		vm->serial_out_fd = open(vm->opt->serial_path,
					 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
					 0644);
		if (vm->serial_out_fd < 0) {
			fprintf(stderr, "vmm-core: --serial file:%s: %s\n",
				vm->opt->serial_path, strerror(errno));
			return -1;
		}
		break;
	case SERIAL_NONE:
		break;
	}
	vm->serial = serial_new(&cfg);
	if (!vm->serial ||
	    pio_register(vm->pio, SERIAL_COM1_BASE, SERIAL_NR_PORTS, serial_pio,
			 vm->serial))
		return -1;
	if (vm->opt->serial == SERIAL_STDIO && start_console_input(vm)) {
		fprintf(stderr, "vmm-core: console input: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int platform_init(struct vm *vm)
{
	vm->console_stop_wfd = -1;
	if (pio_register(vm->pio, I8042_COMMAND, 1, i8042_pio, vm) ||
	    pio_register(vm->pio, POST_PORT, 1, post_pio, vm)) {
		fprintf(stderr, "vmm-core: cannot register platform ports\n");
		return -1;
	}
	if (vm->opt->exit_port >= 0 &&
	    pio_register(vm->pio, (uint16_t)vm->opt->exit_port, 4,
			 exit_port_pio, vm)) {
		fprintf(stderr,
			"vmm-core: --exit-port 0x%x collides with another device\n",
			vm->opt->exit_port);
		return -1;
	}
	if (setup_serial(vm))
		return -1;
	vm->pci = pci_bus_new(vm->pio);
	if (!vm->pci) {
		fprintf(stderr, "vmm-core: cannot create the PCI bus\n");
		return -1;
	}
	if (vm->opt->testdev) {
		struct irq_line l = { .set_level = vm_set_irq, .opaque = vm };

		vm->testdev = testdev_create(vm->pci, l);
		if (!vm->testdev) {
			fprintf(stderr, "vmm-core: cannot add the test device\n");
			return -1;
		}
	}
	return 0;
}

void platform_fini(struct vm *vm)
{
	if (input_started) {
		if (write(vm->console_stop_wfd, "x", 1) < 0)
			pthread_cancel(input_thread);
		pthread_join(input_thread, NULL);
		input_started = false;
	}
	restore_tty();
	tio_saved = false;
	if (vm->console_stop_wfd >= 0)
		close(vm->console_stop_wfd);
	if (input_stop_fd >= 0)
		close(input_stop_fd);
	input_stop_fd = -1;
	if (vm->pci)
		pci_bus_free(vm->pci);
	if (vm->testdev)
		testdev_free(vm->testdev);
	if (vm->serial)
		serial_free(vm->serial);
	if (vm->serial_out_fd > STDERR_FILENO)
		close(vm->serial_out_fd);
}
