/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for what `hvmctl restore` and `hvmctl migrate-receive` read before libxl
 * does (toolstack/xl/image.c): a saved-image header with its configuration, from a file or a
 * migration's sender, then the handshake messages a peer sends. Input: the bytes of the stream
 * (at most 60000, what a pipe holds without a reader). A header that is accepted must hold a
 * NUL-terminated configuration no longer than what was read; nothing may read past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/xl/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[200], *json = NULL;
    int fds[2];

    if (size > 60000 || pipe(fds) < 0)
        return 0;
    if (size && ts_write_all(fds[1], data, size) < 0)
        abort();
    close(fds[1]);
    if (ts_image_read_header(fds[0], &json, why, sizeof(why)) == 0) {
        if (!json || strlen(json) + 53 > size)
            abort();
        free(json);
        /* then what a receiver reads from its sender, and a sender from its receiver */
        for (int m = TS_MIG_BANNER; m <= TS_MIG_REPORT; m++)
            if (ts_mig_expect(fds[0], (enum ts_mig_msg)m, why, sizeof(why)) < 0)
                break;
    } else if (json) {
        abort();
    }
    close(fds[0]);
    return 0;
}
