/*
** file.c -- whole-file reads with a size cap, read-only file mappings (the model
** files), and the monotonic clock.
*/
#include "core.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

pp_status pp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                       char **detail) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (detail) *detail = pp_asprintf("%s: %s", path, strerror(errno));
        return errno == ENOENT ? PARAPET_ERR_NOT_FOUND : PARAPET_ERR_IO;
    }
    pp_buf b;
    pp_buf_init(&b);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (b.len + n > max_bytes) {
            fclose(f);
            pp_buf_free(&b);
            if (detail)
                *detail = pp_asprintf("%s: larger than the limit of %zu bytes", path, max_bytes);
            return PARAPET_ERR_TOO_LARGE;
        }
        pp_buf_put(&b, tmp, n);
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        pp_buf_free(&b);
        if (detail) *detail = pp_asprintf("%s: read error", path);
        return PARAPET_ERR_IO;
    }
    char *p = pp_buf_detach(&b, len);
    if (!p) return PARAPET_ERR_NOMEM;
    *out = p;
    return PARAPET_OK;
}

pp_status pp_map_file(const char *path, const void **data, size_t *len, char **detail) {
    static const unsigned char empty[1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (detail) *detail = pp_asprintf("%s: %s", path, strerror(e));
        return e == ENOENT ? PARAPET_ERR_NOT_FOUND : PARAPET_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        if (detail) *detail = pp_asprintf("%s: not a regular file", path);
        return PARAPET_ERR_IO;
    }
    size_t n = (size_t)sb.st_size;
    const void *m = empty;
    if (n > 0) {
        void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            if (detail) *detail = pp_asprintf("%s: mmap: %s", path, strerror(e));
            return PARAPET_ERR_IO;
        }
        m = p;
    }
    close(fd);
    *data = m;
    *len = n;
    return PARAPET_OK;
}

void pp_unmap_file(const void *data, size_t len) {
    if (data && len) munmap((void *)data, len);
}

uint64_t pp_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
