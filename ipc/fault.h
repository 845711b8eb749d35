/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the crash and sandbox tests, one mechanism for every
 * process:
 *
 *   SPLITVMM_FAULT=POINT:N[:ACTION]
 *
 * At the N-th pass through fault point POINT (each process names its
 * points: dev-pcnet the model's, vmm-core "pio" in a vCPU thread and
 * "attach" when a device attaches, dev-net-backend "tx"), ACTION is
 * carried out:
 *
 *   kill     SIGKILL (the default): a crash at that very instant;
 *   syscall  socket(AF_INET): forbidden in every sandbox, so the process
 *            dies of SIGSYS; without the sandbox it succeeds and the
 *            process goes on;
 *   memfd    memfd_create(): vmm-core's device threads may, its vCPU
 *            threads may not;
 *   open     open("/etc/hostname") for reading: the sandbox's file-system
 *            lockdown refuses it (EACCES) and the process goes on.
 *
 * Each action is announced by one line on stderr first, and its outcome
 * after, if the process survives it.
 */
#ifndef SPLITVMM_FAULT_H
#define SPLITVMM_FAULT_H

/* Reads SPLITVMM_FAULT; PROG prefixes the messages.  0, or -1 after a
 * line on stderr about a malformed value. */
int ipc_fault_setup(const char *prog);

/* A pass through POINT.  Cheap when nothing is armed. */
void ipc_fault(const char *point);

#endif
