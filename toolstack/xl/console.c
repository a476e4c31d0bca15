/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * console.c: `hvmctl console DOM`: a guest's serial or PV console on this terminal.
 *
 * The consoles are ptys: xenconsoled serves a guest's PV console and writes its pty to
 * /local/domain/D/console/tty; the device model serves an HVM guest's serial port and libxl
 * writes that pty to /local/domain/D/serial/N/tty. hvmctl opens the pty and copies bytes both
 * ways, with the terminal in raw mode, until the escape character (Ctrl-], as xl console) or
 * until the domain goes. With stdin not a terminal (a script), input ends at EOF and the output
 * keeps flowing: `hvmctl console g > log &` records a console.
 */
#include "toolstack/xl/xl.h"
#include "toolstack/xl/domains.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define ESCAPE_CHAR 0x1d    /* Ctrl-] */

static char *console_tty_path(struct xs_handle *xs, uint32_t domid, libxl_console_type type,
                              int num)
{
    char path[96];
    unsigned int len;
    char *v;

    if (type == LIBXL_CONSOLE_TYPE_SERIAL)
        snprintf(path, sizeof(path), "/local/domain/%u/serial/%d/tty", domid, num);
    else if (num == 0)
        snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
    else
        snprintf(path, sizeof(path), "/local/domain/%u/device/console/%d/tty", domid, num);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (v && !*v) {
        free(v);
        v = NULL;
    }
    return v;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            poll(&pfd, 1, 1000);
            continue;
        }
        if (w <= 0)
            return -errno;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ts_console_run(struct ts_xl *x, uint32_t domid, libxl_console_type type, int num,
                   int wait_s, bool quiet)
{
    struct termios saved, raw;
    struct xs_handle *xs;
    bool tty_in = isatty(0), in_open = true, restore = false;
    char *tty = NULL, *name;
    int fd = -1, rc = 0;
    double deadline = mono() + wait_s, last_check = 0;

    xs = xs_open(XS_OPEN_READONLY);
    if (!xs) {
        ts_err("cannot open xenstore: %s", strerror(errno));
        return -errno;
    }
    /* the pty appears once xenconsoled (PV) or the device model (serial) has one */
    for (;;) {
        tty = console_tty_path(xs, domid, type, num);
        if (tty)
            break;
        if (libxl_domain_info(x->ctx, NULL, domid)) {
            ts_err("domain %u is gone", domid);
            rc = -ENOENT;
            goto out;
        }
        if (mono() > deadline) {
            ts_err("domain %u has no %s console %d (%s)", domid,
                   type == LIBXL_CONSOLE_TYPE_SERIAL ? "serial" : "pv", num,
                   type == LIBXL_CONSOLE_TYPE_SERIAL ? "an HVM guest needs serial = \"pty\""
                                                     : "is xenconsoled running?");
            rc = -ENOENT;
            goto out;
        }
        usleep(100 * 1000);
    }
    fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        ts_err("%s: %s", tty, strerror(errno));
        goto out;
    }
    if (tcgetattr(fd, &raw) == 0) {
        cfmakeraw(&raw);
        tcsetattr(fd, TCSANOW, &raw);
    }
    name = libxl_domid_to_name(x->ctx, domid);
    if (!quiet)
        fprintf(stderr, "hvmctl: connected to %s (domain %u, %s console %d on %s)%s\r\n",
                name ? name : "?", domid, type == LIBXL_CONSOLE_TYPE_SERIAL ? "serial" : "pv",
                num, tty, tty_in ? "; Ctrl-] leaves" : "");
    free(name);
    if (tty_in && tcgetattr(0, &saved) == 0) {
        raw = saved;
        cfmakeraw(&raw);
        if (tcsetattr(0, TCSANOW, &raw) == 0)
            restore = true;
    }
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = fd, .events = POLLIN },
            { .fd = in_open ? 0 : -1, .events = POLLIN },
        };
        char buf[4096];
        ssize_t n;
        int pr = poll(pfd, 2, 500);

        if (pr < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (pr > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            n = read(fd, buf, sizeof(buf));
            if (n > 0) {
                if (write_all(1, buf, (size_t)n) < 0)
                    break;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                /* the other side closed the pty: the domain went, or its console did */
                break;
            }
        }
        if (pr > 0 && in_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            n = read(0, buf, sizeof(buf));
            if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
                in_open = false;
            } else if (n > 0) {
                char *esc = tty_in ? memchr(buf, ESCAPE_CHAR, (size_t)n) : NULL;
                if (esc) {
                    write_all(fd, buf, (size_t)(esc - buf));
                    break;
                }
                if (write_all(fd, buf, (size_t)n) < 0)
                    break;
            }
        }
        if (mono() - last_check > 1.0) {
            libxl_dominfo info;

            last_check = mono();
            libxl_dominfo_init(&info);
            if (libxl_domain_info(x->ctx, &info, domid) || info.dying || info.shutdown) {
                /* drain what is left, then leave */
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                    write_all(1, buf, (size_t)n);
                libxl_dominfo_dispose(&info);
                break;
            }
            libxl_dominfo_dispose(&info);
        }
    }
    if (restore)
        tcsetattr(0, TCSANOW, &saved);
    if (!quiet && tty_in)
        fprintf(stderr, "\r\nhvmctl: left the console of domain %u\r\n", domid);
out:
    if (fd >= 0)
        close(fd);
    free(tty);
    xs_close(xs);
    return rc;
}

static const char console_usage[] =
    "usage: hvmctl console DOM [--type serial|pv] [--num N] [--wait SECONDS] [-q]\n"
    "       hvmctl console --web DOM [--listen ADDRESS:PORT] | --web --vnc HOST:PORT\n"
    "Attach this terminal to a guest's console; Ctrl-] leaves.\n"
    "  DOM            a domain name or id\n"
    "  --type TYPE    serial: the emulated serial port of an HVM guest (the default for HVM);\n"
    "                 pv: the Xen PV console (the default for PV and PVH guests)\n"
    "  --num N        which console of that type (default 0)\n"
    "  --wait SECS    how long to wait for the console to appear (default 10)\n"
    "  -q, --quiet    no connect/leave messages\n"
    "  --web          the guest's screen in a web browser instead: noVNC through websockify\n"
    "                 on 127.0.0.1:6080+N (N: the VNC display), the URL printed; Ctrl-C ends it\n"
    "  --listen A:P   --web on address A, port P (another machine can then open it)\n"
    "  --vnc H:P      --web for the VNC server at H:P (DOM may be left out)\n"
    "With stdin not a terminal, input ends at EOF and output keeps flowing until the domain goes.\n";

int cmd_console(int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' },
        { "num", required_argument, NULL, 'n' },
        { "wait", required_argument, NULL, 'w' },
        { "quiet", no_argument, NULL, 'q' },
        { "web", no_argument, NULL, 'W' },
        { "listen", required_argument, NULL, 'L' },
        { "vnc", required_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    libxl_console_type type = LIBXL_CONSOLE_TYPE_UNKNOWN;
    struct ts_xl x;
    uint32_t domid;
    long num = 0, wait_s = 10;
    bool quiet = false, web = false;
    const char *listen = NULL, *vnc = NULL;
    int opt, rc;

    optind = 0;     /* glibc: start over (the command may not be the first parse) */
    while ((opt = getopt_long(argc, argv, "t:n:w:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (!strcmp(optarg, "serial"))
                type = LIBXL_CONSOLE_TYPE_SERIAL;
            else if (!strcmp(optarg, "pv"))
                type = LIBXL_CONSOLE_TYPE_PV;
            else {
                ts_err("console: --type %s: serial or pv", optarg);
                return 2;
            }
            break;
        case 'n':
            if (ts_parse_long(optarg, &num) < 0 || num < 0 || num > 64) {
                ts_err("console: --num %s: a console number from 0", optarg);
                return 2;
            }
            break;
        case 'w':
            if (ts_parse_long(optarg, &wait_s) < 0 || wait_s < 0 || wait_s > 3600) {
                ts_err("console: --wait %s: seconds", optarg);
                return 2;
            }
            break;
        case 'q':
            quiet = true;
            break;
        case 'W':
            web = true;
            break;
        case 'L':
            listen = optarg;
            break;
        case 'V':
            vnc = optarg;
            break;
        case 'h':
            return ts_usage(console_usage, 0);
        default:
            return ts_usage(console_usage, 2);
        }
    }
    if ((listen || vnc) && !web)
        return ts_usage(console_usage, 2);
    if (web && vnc && optind == argc)
        return ts_web_console(NULL, 0, vnc, listen); /* a VNC server named directly */
    if (optind != argc - 1) {
        return ts_usage(console_usage, 2);
    }
    if (ts_xl_open(&x, NULL, 0) < 0)
        return 1;
    rc = ts_find_domain(&x, argv[optind], &domid);
    if (rc == 0 && web) {
        ts_xl_close(&x);
        return ts_web_console(argv[optind], domid, vnc, listen);
    }
    if (rc == 0) {
        if (type == LIBXL_CONSOLE_TYPE_UNKNOWN)
            type = ts_domain_type(&x, domid) == LIBXL_DOMAIN_TYPE_HVM ? LIBXL_CONSOLE_TYPE_SERIAL
                                                                       : LIBXL_CONSOLE_TYPE_PV;
        rc = ts_console_run(&x, domid, type, (int)num, (int)wait_s, quiet);
    }
    ts_xl_close(&x);
    return rc ? 1 : 0;
}
