/* test_cpus.c - the cgroup CPU quota, read from fake /proc and /sys trees
 * laid out as the kernel and container engines lay them out: cgroup v2
 * inside a container (its own cgroup is the mount's root), v2 on a host
 * with a quota on a parent, v1 as Docker mounts it (the container's
 * directory as the mount's root), and what is no quota. */
#include "test.h"

#include "common/cpus.h"
#include "tests/run/tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes text to root + path, making its directories. */
static void put(const char *root, const char *path, const char *text)
{
    char full[512];
    FILE *f;

    snprintf(full, sizeof full, "%s%s", root, path);
    for (char *p = full + strlen(root) + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(full, 0755);
            *p = '/';
        }
    f = fopen(full, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

static const char v2_mounts[] =
    "24 29 0:22 / /proc rw,nosuid - proc proc rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(cpus_cgroup_v2_in_a_container)
{
    char root[64];

    REQUIRE(tmpdir_make(root)); /* stands for / */
    put(root, "/proc/self/cgroup", "0::/\n");
    put(root, "/proc/self/mountinfo", v2_mounts);
    put(root, "/sys/fs/cgroup/cpu.max", "150000 100000\n"); /* --cpus=1.5 */
    CHECK_EQ_INT(cpus_cgroup_limit(root), 2);
    put(root, "/sys/fs/cgroup/cpu.max", "100000 100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 1);
    put(root, "/sys/fs/cgroup/cpu.max", "10000 100000\n"); /* a tenth: still one */
    CHECK_EQ_INT(cpus_cgroup_limit(root), 1);
    put(root, "/sys/fs/cgroup/cpu.max", "max 100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0);
    tmpdir_remove(root);
}

TEST(cpus_cgroup_v2_the_least_on_the_way_up)
{
    char root[64];

    REQUIRE(tmpdir_make(root)); /* stands for / */
    put(root, "/proc/self/cgroup", "0::/system.slice/strata.service\n");
    put(root, "/proc/self/mountinfo", v2_mounts);
    put(root, "/sys/fs/cgroup/system.slice/strata.service/cpu.max", "max 100000\n");
    put(root, "/sys/fs/cgroup/system.slice/cpu.max", "300000 100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 3);
    put(root, "/sys/fs/cgroup/system.slice/strata.service/cpu.max", "200000 100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 2);
    tmpdir_remove(root);
}

TEST(cpus_cgroup_v1_as_docker_mounts_it)
{
    char root[64];

    REQUIRE(tmpdir_make(root)); /* stands for / */
    put(root, "/proc/self/cgroup",
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");
    put(root, "/proc/self/mountinfo",
        "660 651 0:58 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
        "661 651 0:59 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup "
        "rw,cpu,cpuacct\n");
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "250000\n");
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 3);
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n"); /* none */
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0);
    tmpdir_remove(root);
}

TEST(cpus_cgroup_nothing_to_read_is_no_quota)
{
    char root[64];

    REQUIRE(tmpdir_make(root));               /* stands for / */
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0); /* no /proc at all */
    put(root, "/proc/self/cgroup", "garbage\n");
    put(root, "/proc/self/mountinfo", "garbage without a dash\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0);
    put(root, "/proc/self/cgroup", "0::/\n");
    put(root, "/proc/self/mountinfo", v2_mounts);
    put(root, "/sys/fs/cgroup/cpu.max", "nonsense\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0);
    put(root, "/sys/fs/cgroup/cpu.max", "0 100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0);
    /* a cgroup outside what the mount shows */
    put(root, "/proc/self/cgroup", "4:cpu:/elsewhere\n");
    put(root, "/proc/self/mountinfo",
        "1 1 0:1 /docker/abc /sys/fs/cgroup/cpu ro - cgroup c rw,cpu\n");
    put(root, "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "100000\n");
    put(root, "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
    CHECK_EQ_INT(cpus_cgroup_limit(root), 0);
    tmpdir_remove(root);
}

TEST(cpus_online_is_within_bounds)
{
    unsigned n = cpus_online(1024);

    CHECK(n >= 1);
    CHECK(n <= (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    CHECK_EQ_INT(cpus_online(1), 1);
}
