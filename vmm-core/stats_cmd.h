/* SPDX-License-Identifier: MIT */
#ifndef VMM_STATS_CMD_H
#define VMM_STATS_CMD_H

/* `vmm-core stats ...` (argv[0] is "stats"): the exit status. */
int stats_cmd(int argc, char **argv);

#endif
