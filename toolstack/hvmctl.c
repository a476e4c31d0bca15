/* hvmctl: the hvmd toolstack's command line. One row per command in the table below; each
 * command lives in its own files and gets argv with argv[0] = its name. Return 0 on success,
 * 1 on failure, 2 on a usage error. */
#include "toolstack/net.h"

#include <stdio.h>
#include <string.h>

struct hvmctl_cmd {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *synopsis;
    const char *help;
};

static const struct hvmctl_cmd commands[] = {
    { "network", net_cmd_main, "up|down|show|check [NAME...]", "dom0's network: bridge, route and NAT topologies" },
    { "vif", vif_cmd_main, "add|remove|list|hotplug ...", "plumb a guest's vif or tap into a network" },
};

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: hvmctl COMMAND [ARGS...]    (hvmctl COMMAND --help for more)\n\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %-30s %s\n", commands[i].name, commands[i].synopsis, commands[i].help);
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
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "hvmctl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
