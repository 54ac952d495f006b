/* scan_target.h - the Python a stub's version and platform branches are
 * decided for.
 *
 * typeshed's stubs describe every version and platform at once, in
 * `if sys.version_info >= (3, 10):` and `if sys.platform == "win32":`
 * branches; a type checker keeps the branch its target takes. A scan of a
 * .pyi does the same, so its result depends on the target: the target is a
 * scan option, travels in the scan job's input and is part of a stub's scan
 * key (worker/jobkey.h). A .py file's scan never reads it, so .py keys do
 * not include it and one project cache serves every target.
 *
 * The run fills it from its environment (the interpreter's version and
 * sys.platform, or --python-version / --python-platform). A zero major
 * means "unset": SCAN_TARGET_DEFAULT_MAJOR.MINOR, and an empty platform
 * SCAN_TARGET_DEFAULT_PLATFORM; scan_target_resolve makes that explicit,
 * so an unset and a spelled-out default give the same keys and results. */
#ifndef STRATA_SCAN_TARGET_H
#define STRATA_SCAN_TARGET_H

#include <stdint.h>
#include <string.h>

#define SCAN_TARGET_DEFAULT_MAJOR 3
#define SCAN_TARGET_DEFAULT_MINOR 12
#define SCAN_TARGET_DEFAULT_PLATFORM "linux"
#define SCAN_TARGET_MAX_PLATFORM 32 /* bytes with the NUL, as run/env.h's ENV_MAX_PLATFORM */

typedef struct {
    uint8_t major, minor;                    /* 3, 12; major 0: the default */
    char platform[SCAN_TARGET_MAX_PLATFORM]; /* sys.platform; "": the default */
} scan_target_t;

/* t with the defaults filled in, its platform NUL-terminated; t may be
 * NULL (the default target). */
static inline scan_target_t scan_target_resolve(const scan_target_t *t)
{
    scan_target_t r = {.major = SCAN_TARGET_DEFAULT_MAJOR, .minor = SCAN_TARGET_DEFAULT_MINOR};

    if (t != NULL && t->major != 0) {
        r.major = t->major;
        r.minor = t->minor;
    }
    if (t != NULL && t->platform[0] != '\0')
        memcpy(r.platform, t->platform, sizeof r.platform);
    else
        memcpy(r.platform, SCAN_TARGET_DEFAULT_PLATFORM, sizeof SCAN_TARGET_DEFAULT_PLATFORM);
    r.platform[sizeof r.platform - 1] = '\0';
    return r;
}

#endif
