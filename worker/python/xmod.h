/* xmod.h - the check job: cross-module diagnostics and interfaces of an SCC.
 *
 * One check job per strongly connected component of the import graph. It is
 * a pure function from an input document to a result document (both
 * msgpack), so that it can be cached under a digest of its inputs and run in
 * any process. Its inputs are the local summaries of the component's files
 * (summary.h), how each of their imports resolved (the scheduler decides
 * that), and the interfaces of the project modules they import from outside
 * the component. It outputs each module's interface, for the jobs of the
 * modules that import it, and the diagnostics that need more than one file:
 *   E0401 import-error        "Unable to import 'a.b'"
 *   E0611 no-name-in-module   "No name 'x' in module 'a.b'"
 *   E1101 no-member           "Module 'a.b' has no 'x' member"
 *   E1120 no-value-for-parameter  "No value for argument 'x' in function call"
 *   E1121 too-many-function-args  "Too many positional arguments for function call"
 *   E1123 unexpected-keyword-arg  "Unexpected keyword argument 'k' in function call"
 *   R0401 cyclic-import       "Cyclic import (a -> b -> a)"
 *   F821 for a name the scan could only call F405 (star imports resolved
 *   exactly showed that no star-imported module defines it).
 * Precision first: whenever the facts are uncertain (an open interface, a
 * decorated function, a name bound twice, a guarded use), it says nothing.
 *
 * Input document (a msgpack map):
 *   "v": CHECK_INPUT_VERSION
 *   "modules": array, one entry per file of the component, sorted by name
 *       then file: a map
 *       "name":    dotted module name
 *       "file":    uint, an opaque index echoed in the result
 *       "pkg":     bool, the file is a package's __init__
 *       "stub":    true when the file is a stub (.pyi); absent: false
 *       "open":    true when another module replaces this one in sys.modules
 *                  at run time (its interface is then open); absent: false
 *       "export":  bool, the file is its module's preferred one (a stub wins
 *                  over the .py beside it): only then is its interface the
 *                  module's
 *       "subs":    [str], the module's direct submodules (last components)
 *       "summary": the scan result's summary map, unchanged
 *       "res":     array, one [kind, abs] per entry of summary "imports", in
 *                  order: kind a res_kind_t (scheduler/resolve.h: 0 project,
 *                  1 stdlib, 2 external, 3 unresolved, 4 __future__,
 *                  5 a top-level package the environment lacks), abs the
 *                  absolute dotted module name the import names ("" for
 *                  __future__)
 *   "ifaces": array of interface maps (below) of the project modules outside
 *       the component that its imports reach: each import's module, the
 *       packages above it, and `M.n` for `from M import n` when that is a
 *       submodule. Sorted by name. A project module absent from both
 *       "modules" and "ifaces" is unknown: nothing is said about it.
 *
 * Interface (a msgpack map, canonical: the same module gives the same bytes):
 *   "name":  dotted module name
 *   "open":  bool, any attribute may exist (a module-level __getattr__, a
 *            dynamic namespace, a star import from outside the project or
 *            from an open module, a source module's star import from a
 *            private stub such as _struct: typeshed lists its names in
 *            the public module's stub)
 *   "stub":  true when the module's file is a stub (.pyi); absent: false.
 *            A stub leaves out private names (`_x`): one missing from it is
 *            unknown, not reported
 *   "all":   [str] (a static __all__) or nil
 *   "subs":  [str], direct submodules, sorted
 *   "classes": [[name, [member, ...], [[method, sig], ...]?], ...]
 *            sorted by name, present only when some: the classes
 *            defined here whose members are all
 *            seen (none of them or their bases may gain members we cannot
 *            see: __getattr__, setattr on self, a written __dict__, a
 *            decorator or metaclass, a mixin's name, a base from a stub
 *            or unknown), each with the names its instances may have
 *            (its own, its bases', sorted, each once: xmod_classes.c),
 *            and the plain methods they run with their signatures
 *            without self (an undecorated def, not a placeholder, the
 *            class's own or the one base's that has the name), sorted;
 *            absent when none
 *   "names": [[name, kind, sig, ref, overloads?], ...] sorted by name; kind 0 function,
 *            1 class, 2 variable, 3 module (ref: its absolute name), 4
 *            unknown; sig nil or [flags, [[param, pkind, has_default], ...]]
 *            as in summary.h (for a class: its __init__ without self, when
 *            known for sure); ref nil unless kind 3; overloads, present
 *            only for a function bound by @overload defs: [sig, ...] their
 *            signatures (sig is then the implementation's, or nil in a
 *            stub)
 *
 * Result document (a msgpack map):
 *   "v": CHECK_RESULT_VERSION
 *   "modules": array in input order, each a map
 *       "file":  the input's file index
 *       "iface": the interface map, or nil when "export" was false
 *       "diags": [[line, col, code, message], ...] (common/mpdiag.h) sorted
 *                by (line, col, code), after the file's `# noqa` comments
 *                (summary "noqa")
 *       "drop":  [[line, col], ...] positions of the scan's F405 diagnostics
 *                that are now settled (dropped, or replaced by an F821 in
 *                "diags")
 *
 * Each of these documents has one encoder and one decoder, in this module:
 * the input's encoder is check_input_* (its decoder is check_run's own),
 * the interface's is the job's and check_namespace_iface's (its decoder
 * check_iface_read), the result's is the job's (its decoder
 * check_result_decode). Diagnostics are common/mpdiag.h arrays; summaries
 * and signatures are read and written by summary.h. The files: xmod.c the
 * job and its model's helpers (xmod_int.h), xmod_input.c the input,
 * xmod_iface.c interfaces, xmod_rules.c the per-file rules and noqa,
 * xmod_cycles.c R0401, xmod_result.c the result. */
#ifndef STRATA_XMOD_H
#define STRATA_XMOD_H

#include "common/arena.h"
#include "common/digest.h"
#include "common/mpbuf.h"
#include "common/mpread.h"
#include "common/status.h"
#include "worker/python/scan.h"
#include "worker/python/summary.h"

#include <stddef.h>
#include <stdint.h>

#define CHECK_INPUT_VERSION 1
#define CHECK_RESULT_VERSION 1

/* Runs a check job. input is untrusted (it may come off the wire): every
 * count and length is checked, a malformed document is ST_ECORRUPT. On ST_OK
 * *out points into arena a. ST_ENOMEM when a's limit is hit. */
st_rc_t check_run(span_t input, arena_t *a, span_t *out, st_err_t *err);

typedef struct {
    uint32_t line, col;
} check_pos_t;

/* One module's part of a result, decoded; everything points into the arena
 * given to check_result_decode (iface into the result bytes). */
typedef struct {
    uint32_t file;
    span_t iface; /* the interface map's bytes; len 0 when nil */
    scan_diag_t *diags;
    size_t n_diags;
    check_pos_t *drop;
    size_t n_drop;
} check_module_t;

/* Decodes a result document (untrusted: ST_ECORRUPT when malformed). */
st_rc_t check_result_decode(span_t result, arena_t *a, check_module_t **mods, size_t *n,
                            st_err_t *err);

/* The interface of a namespace package (a directory without __init__): no
 * names, not open, the given direct submodules (sorted by the caller). In
 * arena a. */
st_rc_t check_namespace_iface(const char *name, const char *const *subs, size_t n_subs, arena_t *a,
                              span_t *out, st_err_t *err);

/* ---- reading an interface ---------------------------------------------------- */

enum {
    CHECK_NAME_FUNCTION = 0,
    CHECK_NAME_CLASS = 1,
    CHECK_NAME_VARIABLE = 2,
    CHECK_NAME_MODULE = 3,
    CHECK_NAME_UNKNOWN = 4
};

/* One entry of "names". Strings point into the document. */
typedef struct {
    sum_str_t name;
    uint8_t kind; /* CHECK_NAME_* */
    bool has_sig;
    sum_sig_t sig;
    bool has_ref;
    sum_str_t ref;  /* when has_ref: an absolute module name */
    sum_sig_t *ovl; /* a function's overloads; NULL (n_ovl 0): none */
    uint32_t n_ovl;
} check_iface_name_t;

/* One entry of "classes". */
typedef struct {
    sum_str_t name;
    sum_str_t *members;
    uint32_t n_members;
    sum_str_t *meth_names; /* its methods, beside their signatures */
    sum_sig_t *meth_sigs;
    uint32_t n_meths;
} check_iface_class_t;

/* An interface map as written (not sorted, duplicates kept). Strings point
 * into the document, arrays into the arena given to check_iface_read. */
typedef struct {
    sum_str_t name; /* never empty */
    bool open, has_all;
    bool stub; /* the module's file is a stub (.pyi) */
    sum_str_t *all;
    uint32_t n_all;
    sum_str_t *subs;
    uint32_t n_subs;
    check_iface_name_t *names;
    uint32_t n_names;
    check_iface_class_t *classes;
    uint32_t n_classes;
} check_iface_t;

/* Reads the interface map at r's position (untrusted: every count checked,
 * strings at most SUMMARY_MAX_NAME bytes) and moves r past it. ST_ECORRUPT
 * when malformed (r stays where the failing read was), ST_ENOMEM when a is
 * exhausted; *out may be partly filled on error. */
st_rc_t check_iface_read(mpread_t *r, arena_t *a, check_iface_t *out);

/* ---- writing an input ----------------------------------------------------------
 *
 * The input document (above) is written in its order: check_input_begin;
 * for each module check_input_module, as many check_input_sub as it said,
 * check_input_summary, check_input_res and as many check_input_resolved;
 * then check_input_ifaces and as many check_input_iface. The counts given
 * must match the calls made. Nothing here fails on its own: the writes go to
 * w, whose mpbuf_status says at the end whether they all fit.
 *
 * The *_key variants write the document a check job's cache key is the
 * digest of instead: the same, with each summary replaced by (a bin of) the
 * scan key of its file, and each interface by [name, bin of its SHA-256]. */

typedef struct {
    const char *name; /* dotted module name */
    uint32_t file;    /* the index echoed in the result */
    bool pkg, export;
    bool replaced;   /* another module puts something else in sys.modules under
                        this name: its interface is open */
    bool stub;       /* the file is a stub (.pyi) */
    uint32_t n_subs; /* check_input_sub calls to follow */
} check_input_module_t;

void check_input_begin(mpbuf_t *w, uint32_t n_modules);
/* The same with the interpreter of the environment (NULL: none), named in
 * the E0401s of imports of packages it lacks (res kind 5). */
void check_input_begin_env(mpbuf_t *w, uint32_t n_modules, const char *python);
void check_input_module(mpbuf_t *w, const check_input_module_t *m);
/* A direct submodule's last component. */
void check_input_sub(mpbuf_t *w, const char *sub);
/* The summary map's bytes (the scan result's, as they are). */
void check_input_summary(mpbuf_t *w, span_t summary);
void check_input_summary_key(mpbuf_t *w, const digest_t *scan_key);
void check_input_res(mpbuf_t *w, uint32_t n_imports);
/* kind a res_kind_t (scheduler/resolve.h), abs the absolute module name. */
void check_input_resolved(mpbuf_t *w, uint32_t kind, const char *abs);
void check_input_ifaces(mpbuf_t *w, uint32_t n_ifaces);
/* An interface map's bytes (a result's "iface", or check_namespace_iface's). */
void check_input_iface(mpbuf_t *w, span_t iface);
void check_input_iface_key(mpbuf_t *w, const char *name, const digest_t *iface_digest);

#endif
