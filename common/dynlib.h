/* dynlib.h - shared libraries loaded on first use.
 *
 * libzmq, libgit2 and libxml2, with what they load in turn (libstdc++, ICU,
 * Kerberos, mbedTLS, libssh2...), cost a process about 10 ms at start-up
 * while the dynamic loader maps and relocates them: more than a warm
 * re-check of a 600-file project costs in all. Most runs need none of them:
 * a re-check answered by the cache opens no socket, reads no ignore file
 * outside a git work tree and writes no XML. So strata does not link them.
 * A file per library (worker/zmqdl.c, run/git2dl.c, run/xml2dl.c) defines
 * the functions strata calls, with the library's own prototypes (its header
 * is included, so the compiler checks them), each forwarding to the real
 * one, which dynlib_fn looks up with dlopen and dlsym the first time it is
 * called and keeps.
 *
 * The library's file name is its SONAME, found by CMake from the library
 * it would have linked (`STRATA_<LIB>_SONAME`), so the same ABI is loaded.
 * A library that cannot be loaded, or lacks a symbol, is an installation
 * error, as a missing library at start-up would have been: the message
 * names it and what to install, and the process exits with status 2.
 * Thread-safe: dlopen counts references, and each function's address is
 * published with release/acquire atomics. */
#ifndef STRATA_DYNLIB_H
#define STRATA_DYNLIB_H

typedef struct {
    const char *soname;  /* e.g. "libzmq.so.5" */
    const char *package; /* what provides it, for the message: "libzmq5" */
    void *handle;        /* dlopen's; NULL until first use (atomic) */
} dynlib_t;

#define DYNLIB_INIT(soname, package)                                                               \
    {                                                                                              \
        soname, package, NULL                                                                      \
    }

/* The address of name in lib, loaded on first use; *slot caches it (a
 * static NULL pointer per function). Exits with status 2, saying why,
 * when lib or name cannot be found. */
void *dynlib_fn(dynlib_t *lib, const char *name, void **slot);

/* name of lib as a function of name's own type (its prototype must be in
 * scope): DYNLIB_CALL(lib, zmq_close)(socket). */
#define DYNLIB_CALL(lib, name) ((__typeof__(&name))dynlib_fn(&(lib), #name, &dynlib_slot_##name))

/* The slot of one forwarded function; one per function per file. */
#define DYNLIB_SLOT(name) static void *dynlib_slot_##name

#endif
