/* cpus.c - the CPUs this process may use (cpus.h says which numbers).
 *
 * Where the quota is: /proc/self/cgroup names the process's cgroup in each
 * hierarchy ("0::/path" for v2; "N:cpu,cpuacct:/path" for v1's cpu
 * controller), /proc/self/mountinfo where that hierarchy is mounted and
 * which of its directories the mount shows (a container sees its own
 * cgroup as the mount's root). The files read are the kernel's one-line
 * formats; anything unexpected means "no quota known", never an error. */
#include "common/cpus.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line of root + path, without its newline, into out; false
 * when it cannot be read. */
static bool read_line(const char *root, const char *path, char *out, size_t cap)
{
    char full[PATH_MAX];
    FILE *f;
    bool ok;

    if (snprintf(full, sizeof full, "%s%s", root, path) >= (int)sizeof full ||
        (f = fopen(full, "re")) == NULL)
        return false;
    ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok;
}

/* Whether word is one of the comma-separated items of list. */
static bool has_item(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

/* The process's cgroup path in the v2 hierarchy (v2) or in the v1
 * hierarchy with the cpu controller, into out. */
static bool own_cgroup(const char *root, bool v2, char *out, size_t cap)
{
    char full[PATH_MAX], line[PATH_MAX + 256];
    FILE *f;
    bool found = false;

    if (snprintf(full, sizeof full, "%s/proc/self/cgroup", root) >= (int)sizeof full ||
        (f = fopen(full, "re")) == NULL)
        return false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *c1 = strchr(line, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        char *path = c2 + 1;
        *c1 = '\0'; /* line: the hierarchy's number */
        *c2 = '\0'; /* c1 + 1: its controllers */
        path[strcspn(path, "\n")] = '\0';
        if (v2 ? strcmp(line, "0") == 0 && c1 + 1 == c2 : has_item(c1 + 1, "cpu"))
            found = snprintf(out, cap, "%s", path) < (int)cap;
    }
    fclose(f);
    return found && out[0] == '/';
}

/* Where the hierarchy is mounted (v2: fstype cgroup2; v1: cgroup with the
 * cpu controller among its super options), and the cgroup directory the
 * mount shows as its root. */
static bool hierarchy_mount(const char *root, bool v2, char *mnt, char *mroot, size_t cap)
{
    char full[PATH_MAX], line[3 * PATH_MAX];
    FILE *f;
    bool found = false;

    if (snprintf(full, sizeof full, "%s/proc/self/mountinfo", root) >= (int)sizeof full ||
        (f = fopen(full, "re")) == NULL)
        return false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        /* id parent maj:min root mountpoint options [optional...] - fstype source super */
        char *field[6] = {0}, *save = NULL, *tok, *dash = strstr(line, " - ");
        char *fstype, *super;
        int n = 0;
        if (dash == NULL)
            continue;
        *dash = '\0';
        for (tok = strtok_r(line, " ", &save); tok != NULL && n < 6;
             tok = strtok_r(NULL, " ", &save))
            field[n++] = tok;
        save = NULL;
        fstype = strtok_r(dash + 3, " ", &save);
        (void)strtok_r(NULL, " ", &save); /* the source */
        super = strtok_r(NULL, " \n", &save);
        if (n < 5 || fstype == NULL)
            continue;
        if (v2 ? strcmp(fstype, "cgroup2") != 0
               : strcmp(fstype, "cgroup") != 0 || super == NULL || !has_item(super, "cpu"))
            continue;
        found = snprintf(mroot, cap, "%s", field[3]) < (int)cap &&
                snprintf(mnt, cap, "%s", field[4]) < (int)cap;
    }
    fclose(f);
    return found;
}

/* The quota set in the cgroup directory dir (absolute, under root) as a
 * number of CPUs, or 0 when none is. */
static double dir_quota(const char *root, const char *dir, bool v2)
{
    char path[PATH_MAX], line[128];
    char *end;

    if (v2) {
        double quota, period;
        if (snprintf(path, sizeof path, "%s/cpu.max", dir) >= (int)sizeof path ||
            !read_line(root, path, line, sizeof line) || strncmp(line, "max", 3) == 0)
            return 0;
        quota = strtod(line, &end);
        period = end != line ? strtod(end, NULL) : 0;
        return quota > 0 && period > 0 ? quota / period : 0;
    }
    long long quota, period;
    if (snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= (int)sizeof path ||
        !read_line(root, path, line, sizeof line))
        return 0;
    quota = strtoll(line, &end, 10);
    if (end == line || quota <= 0 ||
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= (int)sizeof path ||
        !read_line(root, path, line, sizeof line))
        return 0;
    period = strtoll(line, &end, 10);
    return end != line && period > 0 ? (double)quota / (double)period : 0;
}

/* The smallest quota from the process's cgroup up to the mount's root in
 * one hierarchy; 0 when none is set. */
static double hierarchy_quota(const char *root, bool v2)
{
    char cg[PATH_MAX], mnt[PATH_MAX], mroot[PATH_MAX], dir[2 * PATH_MAX];
    const char *rel;
    double least = 0;
    size_t base;

    if (!own_cgroup(root, v2, cg, sizeof cg) || !hierarchy_mount(root, v2, mnt, mroot, sizeof mnt))
        return 0;
    /* the mount shows mroot: the process's path below it */
    rel = cg;
    if (strcmp(mroot, "/") != 0) {
        size_t n = strlen(mroot);
        if (strncmp(cg, mroot, n) != 0 || (cg[n] != '/' && cg[n] != '\0'))
            return 0; /* outside what the mount shows */
        rel = cg + n;
    }
    if (snprintf(dir, sizeof dir, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel) >= (int)sizeof dir)
        return 0;
    base = strlen(mnt);
    for (;;) {
        double q = dir_quota(root, dir, v2);
        if (q > 0 && (least == 0 || q < least))
            least = q;
        char *slash = strrchr(dir, '/');
        if (strlen(dir) <= base || slash == NULL || (size_t)(slash - dir) < base)
            break;
        *slash = '\0';
    }
    return least;
}

unsigned cpus_cgroup_limit(const char *root)
{
    double q = hierarchy_quota(root, true);

    if (q == 0)
        q = hierarchy_quota(root, false);
    if (q <= 0)
        return 0;
    if (q > 65536)
        return 65536;
    unsigned n = (unsigned)q;
    return (double)n < q ? n + 1 : (n == 0 ? 1 : n);
}

static unsigned usable;
static pthread_once_t usable_once = PTHREAD_ONCE_INIT;

static void find_usable(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = online < 1 ? 1 : (unsigned)online, limit;
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        unsigned allowed = (unsigned)CPU_COUNT(&set);
        if (allowed >= 1 && allowed < n)
            n = allowed;
    }
    if ((limit = cpus_cgroup_limit("")) >= 1 && limit < n)
        n = limit;
    usable = n;
}

unsigned cpus_online(unsigned max)
{
    pthread_once(&usable_once, find_usable);
    return usable > max ? max : usable;
}
