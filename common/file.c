/* file.c - small files read whole and replaced atomically (see file.h). */
#include "common/file.h"

#include "common/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

st_rc_t file_replace(const char *path, const void *data, size_t len, st_err_t *err)
{
    char tmp[PATH_MAX + 16];
    const uint8_t *p = data;
    size_t done = 0;
    int fd, e = 0;
    bool ok;

    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return st_fail(err, ST_EIO, "%s: name too long", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return st_fail(err, ST_EIO, "%s: %s", tmp, strerror(errno));
    (void)fchmod(fd, 0644);
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    ok = done == len;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return st_fail(err, ST_EIO, "%s: %s", path, strerror(e != 0 ? e : EIO));
    }
    return ST_OK;
}

bool file_read_all(const char *path, size_t max, uint8_t **data, size_t *len)
{
    struct stat st;
    uint8_t *p = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);

    if (fd < 0)
        return false;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > max || (p = st_malloc((size_t)st.st_size)) == NULL) {
        close(fd);
        return false;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        st_free(p);
        return false;
    }
    *data = p;
    *len = got;
    return true;
}
