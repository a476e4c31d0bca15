/*
 * hvmctl.c: the entry point: one table of commands, dispatch by name, nothing else.
 * The commands live in their own files (domains.h: domains, consoles).
 */
#include <stdio.h>
#include <string.h>

#include "toolstack/domains.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "create", cmd_create, "build a guest from an xl.cfg file (PV, PVH, HVM)" },
    { "list", cmd_list, "the domains, their state and device model" },
    { "console", cmd_console, "attach to a guest's serial or PV console" },
    { "pause", cmd_pause, "pause a guest" },
    { "unpause", cmd_unpause, "resume a paused guest" },
    { "shutdown", cmd_shutdown, "ask a guest to power off" },
    { "reboot", cmd_reboot, "ask a guest to reboot" },
    { "destroy", cmd_destroy, "end a guest at once" },
    { "cd-insert", cmd_cd_insert, "put an image into a guest's CD-ROM drive" },
    { "cd-eject", cmd_cd_eject, "empty a guest's CD-ROM drive" },
    { "log", cmd_log, "print a guest's device model log" },
};

static void usage(FILE *f)
{
    size_t i;

    fputs("usage: hvmctl COMMAND [ARGS]   (hvmctl COMMAND --help for its own)\n", f);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hvmctl: no command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
