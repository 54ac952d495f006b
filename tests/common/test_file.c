/* test_file.c - small files replaced atomically and read whole, and what
 * reading refuses. */
#include "test.h"

#include "common/alloc.h"
#include "common/file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries of dir besides . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

TEST(file_replace_then_read)
{
    char dir[] = "/tmp/strata-file-XXXXXX", path[128], link[128], fifo[128], empty[128];
    st_err_t err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    struct stat st;

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/f", dir);
    REQUIRE(file_replace(path, "first", 5, &err) == ST_OK);
    REQUIRE(file_replace(path, "second!", 7, &err) == ST_OK);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK_EQ_INT(count_entries(dir), 1); /* no temporary file left */
    REQUIRE(file_read_all(path, 64, &data, &len));
    CHECK_EQ_INT(len, 7);
    CHECK(memcmp(data, "second!", 7) == 0);
    st_free(data);

    /* too large for the caller's limit */
    CHECK(!file_read_all(path, 6, &data, &len));
    /* a link to it, a FIFO (must not block), an empty file, nothing */
    snprintf(link, sizeof link, "%s/l", dir);
    REQUIRE(symlink(path, link) == 0);
    CHECK(!file_read_all(link, 64, &data, &len));
    snprintf(fifo, sizeof fifo, "%s/p", dir);
    REQUIRE(mkfifo(fifo, 0644) == 0);
    CHECK(!file_read_all(fifo, 64, &data, &len));
    snprintf(empty, sizeof empty, "%s/e", dir);
    REQUIRE(file_replace(empty, "", 0, &err) == ST_OK);
    CHECK(!file_read_all(empty, 64, &data, &len));
    CHECK(!file_read_all(dir, 64, &data, &len));
    unlink(link);
    unlink(fifo);
    unlink(empty);

    /* a directory that does not exist: an error naming the file */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such", dir);
    CHECK(file_replace(missing, "x", 1, &err) == ST_EIO);
    CHECK(strstr(err.msg, "no/such") != NULL);
    unlink(path);
    CHECK(rmdir(dir) == 0);
}
