/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd-qmp SOCKET COMMAND...: a tiny QMP client for the bed's dom0 (which has no socat or
 * python): connect to the device model's QMP socket (/var/run/xen/qmp-libxenstat-D is the one
 * libxl leaves alone), read the greeting, negotiate capabilities, send each COMMAND (a JSON
 * object on one line) and print its answer. Events are skipped. Exit 0 if every command
 * returned, 1 if one answered an error, 2 on a connection problem; 10 s in all at most. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char buf[65536];
static size_t len;

/* The next line from FD (without its end), skipping events; NULL at the end. */
static char *next_answer(int fd)
{
    for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            static char line[65536];
            size_t n = (size_t)(nl - buf);
            memcpy(line, buf, n);
            line[n] = 0;
            if (n && line[n - 1] == '\r')
                line[n - 1] = 0;
            memmove(buf, nl + 1, len - n - 1);
            len -= n + 1;
            /* an event: hvmd puts "event" first, QEMU "timestamp" */
            if (strncmp(line, "{\"event\"", 8) && strncmp(line, "{ \"event\"", 9) &&
                strncmp(line, "{\"timestamp\"", 12))
                return line;
            continue;
        }
        if (len == sizeof(buf))
            return NULL;
        ssize_t r = read(fd, buf + len, sizeof(buf) - len);
        if (r <= 0)
            return NULL;
        len += (size_t)r;
    }
}

static int send_line(int fd, const char *s)
{
    size_t n = strlen(s);
    return write(fd, s, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: hvmd-qmp SOCKET COMMAND...\n");
        return 2;
    }
    alarm(10);
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror(argv[1]);
        return 2;
    }
    char *l = next_answer(fd);
    if (!l || !strstr(l, "\"QMP\"")) {
        fprintf(stderr, "hvmd-qmp: no QMP greeting\n");
        return 2;
    }
    if (send_line(fd, "{\"execute\": \"qmp_capabilities\"}") < 0 || !(l = next_answer(fd)) ||
        !strstr(l, "\"return\"")) {
        fprintf(stderr, "hvmd-qmp: capabilities not negotiated\n");
        return 2;
    }
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        if (send_line(fd, argv[i]) < 0 || !(l = next_answer(fd))) {
            fprintf(stderr, "hvmd-qmp: no answer to %s\n", argv[i]);
            return 2;
        }
        printf("%s\n", l);
        if (!strstr(l, "\"return\""))
            rc = 1;
    }
    close(fd);
    return rc;
}
