/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the VNC server (dm/vnc.c on libvncserver): hostile client bytes on a
 * connected socket, from the protocol version on, against a fakexen machine whose i8042 and
 * PS/2 mouse take the keys and pointer events that get through.
 *
 * Input: one byte of set-up (bit 0: password=on with the password "pw" set; bit 1: the German
 * layout), then everything the client sends. The client's end is shut for writing after it,
 * so the server meets end-of-file instead of waiting for the rest of a message; what the
 * server sends is read and dropped. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/vnc.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

static struct fakexen *fx;
static struct machine m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    int sv[2];

    if (!fx) {
        log_set_sink(fuzz_quiet, NULL);
        log_set_level(LOG_DEBUG);
        fx = fx_new(1 << 20);
        if (!fx || machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
            return 0;
        /* the guest's mouse reports, so pointer events reach it */
        fx_out(fx, 0x64, 1, 0xd4);
        fx_out(fx, 0x60, 1, 0xf4);
    }
    if (size < 1 || size > 65536)
        return 0;
    struct vnc *v = vnc_new_unlistened(&fx->vm, (data[0] & 2) ? "de" : NULL, data[0] & 1);
    if (!v)
        return 0;
    if (data[0] & 1 && vnc_set_password(v, "pw", err, sizeof(err)) < 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        goto out;
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    /* the whole input first, then end-of-file: the server never waits for more */
    size_t off = 1;
    while (off < size) {
        ssize_t w = send(sv[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    if (vnc_add_client(v, sv[0]) == 0) {
        for (int i = 0; i < 2000 && vnc_clients(v); i++) {
            loop_run_once(fx->loop, 0);
            fuzz_drain(sv[1]);
        }
    }
    /* the guest reads what arrived */
    for (int i = 0; i < 256 && (fx_in(fx, 0x64, 1) & 1); i++)
        fx_in(fx, 0x60, 1);
    close(sv[1]);
out:
    vnc_free(v);
    return 0;
}
