/* SPDX-License-Identifier: MIT */
/*
 * The sandbox each process enters once its set-up is done (--sandbox):
 *
 *   1. no new privileges (PR_SET_NO_NEW_PRIVS);
 *   2. the file system locked down with Landlock: nothing may be opened,
 *      created or removed anywhere, except that sockets may be made and
 *      removed in the directories of the process's own socket paths;
 *   3. optionally a switch to another uid/gid (--user), supplementary
 *      groups dropped;
 *   4. every capability dropped: effective, permitted, inheritable,
 *      ambient and the bounding set;
 *   5. a seccomp allow-list per process (libseccomp), applied to all its
 *      threads at once; anything else kills the whole process (SIGSYS).
 *      vmm-core's vCPU threads add a second, narrower filter of their own
 *      (sandbox_enter_vcpu).
 *
 * Landlock and capabilities are per thread: a process enters the sandbox
 * before it starts any thread, so that every later thread inherits it.
 * The only exception is DPDK's EAL, whose threads predate the back-end's
 * sandbox: they get the seccomp filter (all threads) but keep the file
 * system and, when the process stays root, their capabilities.
 *
 * SPLITVMM_SANDBOX_DEBUG=1 in the environment turns a forbidden system
 * call into a line on stderr naming its number, then exit status 159, for
 * finding what a new code path needs.
 */
#ifndef SPLITVMM_SANDBOX_H
#define SPLITVMM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SANDBOX_MAX_DIRS	8

enum sandbox_profile {
	SANDBOX_VMM_CORE,
	SANDBOX_DEV_PCNET,
	SANDBOX_NET_BACKEND,
	SANDBOX_NET_BACKEND_DPDK,	/* the back-end with DPDK's EAL inside */
};

struct sandbox {
	bool on;			/* --sandbox */
	bool set_user;			/* --user */
	uid_t uid;
	gid_t gid;
	unsigned n_dirs;
	char *dirs[SANDBOX_MAX_DIRS];	/* socket directories, absolute */
};

/* --user USER[:GROUP], names or numbers; the group defaults to the user's
 * primary one.  0, or -1 with a message in err. */
int sandbox_parse_user(struct sandbox *sb, const char *spec, char *err,
		       size_t errlen);

/* The process makes or removes a socket at PATH after entering: its
 * directory stays writable for sockets.  0, or -1 with a message. */
int sandbox_allow_socket(struct sandbox *sb, const char *path, char *err,
			 size_t errlen);

/* With --user, hands a socket the process bound to that user, so that a
 * peer running as the same user can connect.  0, or -1 with a message. */
int sandbox_own_socket(const struct sandbox *sb, const char *path, char *err,
		       size_t errlen);

/* Enters the sandbox (steps 1-5 above) when sb->on; nothing otherwise.
 * 0, or -1 with a message in err (the caller exits: half a sandbox is
 * not one). */
int sandbox_enter(const struct sandbox *sb, enum sandbox_profile profile,
		  char *err, size_t errlen);

/* A vCPU thread's own filter on top of vmm-core's: KVM_RUN and what the
 * exit handlers need, no new files, sockets or threads.  Call at the top
 * of each vCPU thread when sb->on. */
int sandbox_enter_vcpu(const struct sandbox *sb, char *err, size_t errlen);

/* Whether this kernel can lock the file system down (Landlock); for
 * tests, which skip with the reason in err otherwise. */
bool sandbox_fs_supported(char *err, size_t errlen);

void sandbox_free(struct sandbox *sb);

#endif
