/* dynlib.c - shared libraries loaded on first use (see dynlib.h). */
#include "common/dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* An installation error: said once, then the process ends as the dynamic
 * loader would have ended it at start-up, only with a clearer message. */
static void missing(const dynlib_t *lib, const char *what)
{
    const char *why = dlerror();

    fprintf(stderr, "strata: cannot load %s%s%s (%s); install the package %s\n", lib->soname,
            what != NULL ? ": no " : "", what != NULL ? what : "", why != NULL ? why : "not found",
            lib->package);
    fflush(NULL);
    _exit(2); /* from any thread: no exit handlers while the others run */
}

void *dynlib_fn(dynlib_t *lib, const char *name, void **slot)
{
    void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    void *handle;
    int saved = errno; /* zmq_errno() and the like read it after the call */

    if (fn != NULL)
        return fn;
    if ((handle = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE)) == NULL) {
        /* two threads may both open it: dlopen counts, the handle is one */
        if ((handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
            missing(lib, NULL);
        __atomic_store_n(&lib->handle, handle, __ATOMIC_RELEASE);
    }
    if ((fn = dlsym(handle, name)) == NULL)
        missing(lib, name);
    __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    errno = saved;
    return fn;
}
