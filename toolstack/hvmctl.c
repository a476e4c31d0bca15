/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl: the hvmd toolstack's command line. One row per command in the table below; each
 * command lives in its own files (net.h: network and vifs; domains.h: domains and consoles) and
 * gets argv with argv[0] = its name. Return 0 on success, 1 on failure, 2 on a usage error. */
#include "toolstack/xl/domains.h"
#include "toolstack/net/net.h"
#include "toolstack/run/run.h"

#include <stdio.h>
#include <string.h>

struct hvmctl_cmd {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *synopsis;
    const char *help;
};

static const struct hvmctl_cmd commands[] = {
    { "create", cmd_create, "CFG [KEY=VALUE...] [-c]", "build a guest from an xl.cfg file (PV, PVH, HVM)" },
    { "check", cmd_check, "CFG... [KEY=VALUE...]", "check xl.cfg files without Xen (exit 0 good, 1 bad, 2 cannot tell)" },
    { "list", cmd_list, "[--json]", "the domains, their state and device model" },
    { "console", cmd_console, "DOM [--type T|--web]", "a guest's serial or PV console; --web: its screen in a browser" },
    { "pause", cmd_pause, "DOM", "pause a guest" },
    { "unpause", cmd_unpause, "DOM", "resume a paused guest" },
    { "shutdown", cmd_shutdown, "DOM [-F]", "ask a guest to power off" },
    { "reboot", cmd_reboot, "DOM", "ask a guest to reboot" },
    { "destroy", cmd_destroy, "DOM", "end a guest at once" },
    { "save", cmd_save, "[-c] DOM FILE", "save a guest's memory and devices to FILE (xl's format)" },
    { "restore", cmd_restore, "[-p] FILE", "run the guest FILE holds where it was" },
    { "migrate", cmd_migrate, "DOM HOST [-s SSH]", "move a running guest to another dom0 (xl's protocol)" },
    { "migrate-receive", cmd_migrate_receive, "[-p]", "the receiving end of hvmctl/xl migrate" },
    { "cd-insert", cmd_cd_insert, "DOM VDEV FILE", "put an image into a guest's CD-ROM drive" },
    { "cd-eject", cmd_cd_eject, "DOM VDEV", "empty a guest's CD-ROM drive" },
    { "log", cmd_log, "DOM", "print a guest's device model log" },
    { "run", cmd_run, "CFG... --expect REGEX...", "boot test for CI: a verdict from the guest's consoles" },
    { "network", net_cmd_main, "up|down|show|check [NAME...]", "dom0's network: bridge, route and NAT topologies" },
    { "vif", vif_cmd_main, "add|remove|list|hotplug ...", "plumb a guest's vif or tap into a network" },
};

#ifndef HVMD_VERSION /* the Makefile passes debian/changelog's */
#define HVMD_VERSION "0.1"
#endif

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: hvmctl COMMAND [ARGS...]    (hvmctl COMMAND --help for more)\n\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %-30s %s\n", commands[i].name, commands[i].synopsis, commands[i].help);
    fprintf(f, "\n  --version                                what hvmctl this is\n");
    fprintf(f, "\nSee hvmctl(1).\n");
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    size_t i;

    base = base ? base + 1 : argv[0];
    /* as a libxl vif script: /usr/lib/hvmd/vif-hvmctl, or hvmctl itself given as script= */
    if (!strcmp(base, "vif-hvmctl") || vif_is_hotplug_call(argc, argv))
        return vif_hotplug_main(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("hvmctl %s\n", HVMD_VERSION);
        return 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    ts_err("unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
