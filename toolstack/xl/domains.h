/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domains.h: hvmctl's domain commands (entry points for the command table in hvmctl.c).
 * Each takes the command's own argv (argv[0] is the command name) and returns the exit status:
 * 0 done, 1 failed (the reason printed), 2 a usage error.
 */
#ifndef HVMCTL_DOMAINS_H
#define HVMCTL_DOMAINS_H

#include "toolstack/xl/xl.h"

int cmd_create(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_save(int argc, char **argv);      /* xl/saverestore.c */
int cmd_restore(int argc, char **argv);
int cmd_migrate(int argc, char **argv);   /* xl/migrate.c */
int cmd_migrate_receive(int argc, char **argv);
/* the libxl JSON configuration at fd's saved-image header into dc: 0, or a negative errno
 * with the reason in why (xl/saverestore.c) */
int ts_read_config(struct ts_xl *x, int fd, libxl_domain_config *dc, char *why, size_t whylen);
/* Forks a monitor (as hvmctl create's) for DOMID, a domain built here by restore or a
 * migration: it carries out on_poweroff / on_reboot / on_crash and logs to
 * LOG_DIR/hvmctl-NAME.log. 0 once it watches the domain, or a negative errno (said). No libxl
 * context may be open in the caller across this call. (xl/domain.c) */
int ts_monitor_adopt(const struct ts_settings *s, uint32_t domid, const char *name, int verbose);
int cmd_cd_insert(int argc, char **argv);
int cmd_cd_eject(int argc, char **argv);
int cmd_log(int argc, char **argv);

/* the console loop, also for `hvmctl create -c` */
int ts_console_run(struct ts_xl *x, uint32_t domid, libxl_console_type type, int num,
                   int wait_s, bool quiet);
/* `console --web`: noVNC through websockify on LISTEN (NULL: 127.0.0.1:6080+display) for the
 * VNC server of DOM (DOMID) or, if VNC is given, at VNC (HOST:PORT); returns only on failure */
int ts_web_console(const char *dom, uint32_t domid, const char *vnc, const char *listen);
int ts_split_hostport(const char *s, char *host, size_t hostlen, unsigned *port);

#endif
