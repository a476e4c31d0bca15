/* SPDX-License-Identifier: GPL-2.0-only */
/* A fuzz target's inputs for unit tests (tests/lib/corpus.h). */
#include "tests/lib/corpus.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned fx_corpus_read(const char *dir, struct fx_input *in, unsigned n, unsigned max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return n;
    while (n < max && (e = readdir(d))) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
            st.st_size > (1 << 20))
            continue;
        int fd = open(path, O_RDONLY);
        uint8_t *p = malloc((size_t)st.st_size);
        if (fd < 0 || !p || read(fd, p, (size_t)st.st_size) != st.st_size) {
            fprintf(stderr, "cannot read %s\n", path);
            abort();
        }
        close(fd);
        in[n].data = p;
        in[n].size = (size_t)st.st_size;
        n++;
    }
    closedir(d);
    return n;
}
