/* summary.h - the local summary of one file, for cross-module checks.
 *
 * What later stages need to know about a module without reading it again:
 * its imports (as written, with relative level and position), its top-level
 * definitions and their signatures, its classes and their members, __all__,
 * a module-level __getattr__, and how it uses the names it imports (attribute
 * chains and call shapes). The checker fills it while it walks the tree; the
 * scan encodes it into the "summary" map of its result. The summary depends on
 * the content only (and, for a stub, the scan's target), never on the file's
 * path, so identical files share it.
 *
 * In a stub (.pyi), what the summary records follows the branches of
 * module- and class-level ifs that the scan's target takes (decided tests
 * of sys.version_info and sys.platform, checker_target.c): a branch not
 * taken contributes no import, use, def, class, member or __all__ change,
 * and a binding in the branch taken is not conditional for being there.
 *
 * Encoding (msgpack map, keys in this order):
 *   "imports": [[kind, level, module, name, asname, line, col, flags], ...]
 *       kind 0 `import m`, 1 `from m import n`, 2 `from m import *`,
 *       3 `from __future__ import n`; module without leading dots; name and
 *       asname "" when absent; flags bit 0 not at module level, bit 1 inside
 *       try/if (conditional), bit 2 in the body (or the else clause) of a try with a
 *       handler for ImportError, ModuleNotFoundError, Exception,
 *       BaseException or everything, bit 3 in the body of `if TYPE_CHECKING:` or `if
 *       x.TYPE_CHECKING:` (never runs), bit 4 in an except clause (a
 *       fallback that runs when something else failed), bit 5 in a
 *       source, in a branch of an if statement that tests sys.version_info
 *       or sys.platform (whether it runs depends on the Python running it),
 *       bit 6 a repeat of another import for a name bound to it (`x =
 *       m`, see summary_alias_import: nothing is reported about it); a stub's branch
 *       its target surely takes is not conditional
 *   "defs":  [[name, kind, line, sig, flags, overloads?], ...] top-level
 *       bindings (`NAME: T` without value is one, as stubs declare names), and
 *       names a function (or class body) declares `global` and binds (kind
 *       2, at the `global` statement, or at the binding for a builtin's
 *       name; a declaration that is only read is not a def); kind 0
 *       function, 1 class, 2 variable, 3 import; sig an index into "sigs" or
 *       -1; flags bit 0 SUM_DEF_REBOUND: the name has more than one binding
 *       at module level (two defs, a def and an assignment, an import and a
 *       def, both branches of an if, an augmented assignment), is a for-loop
 *       target there, or is also bound by a function through `global`, so
 *       no single signature is sure (a `del` in between starts over; an
 *       annotation without value is no binding); overloads, present (the
 *       6th element) only for a function bound by a run of `@overload` defs
 *       (typing's or typing_extensions' overload, alone on each) and then
 *       by nothing but its implementation: [sig, ...] the overloads'
 *       signatures in source order, and sig the implementation's, -1 in a
 *       stub (no implementation). Such a run is no rebinding. A run with
 *       another decorator on one overload, or async on some only, is as
 *       any other rebinding: REBOUND, the last def's sig, no list
 *   "sigs":  [[flags, [[name, pkind, has_default], ...]], ...] pkind 0
 *       positional-only (also, in a stub without `/`, the leading `__x`
 *       parameters, after self or cls in a method: the convention before
 *       PEP 570), 1 positional-or-keyword, 2 *args, 3 keyword-only,
 *       4 **kwargs; flags bit 0 decorated (signature may not be the real
 *       one: a decorator other than overload, typing's or
 *       typing_extensions' final, type_check_only, no_type_check, or the
 *       deprecated(...) of typing_extensions or warnings), bit 1 async,
 *       bit 2 an overload (decorated with overload)
 *   "classes": [[name, line, [base dotted names], [[member, kind, sig,
 *       overloads?]...], flags, attrs?, plain?], ...]; a member's
 *       overloads as a def's; flags bit 0 the class is decorated, bit 1 it
 *       has a metaclass= or other keyword (or a **mapping) in its bases,
 *       bit 2 SUM_CLASS_GLOBAL_ENUM it is decorated with enum's
 *       global_enum, which makes its members module attributes too, bit 3
 *       SUM_CLASS_SEEN the scan's instance checks (selfattr.h) read the
 *       class and its bases are names (local classes or dotted names from
 *       elsewhere): attrs and plain, then present: attrs lists every
 *       member they found (body bindings, __slots__, attributes stored
 *       through the first parameter in its methods, and names the module
 *       stores on anything but a method's first parameter), plain the
 *       names of its undecorated defs directly in its body, each the
 *       name's only binding there and not a placeholder (a docstring,
 *       pass, ..., raise NotImplementedError): their members' signatures
 *       are the methods' own; bit 4 SUM_CLASS_OPEN something may add
 *       members they cannot see (__getattr__, setattr on self, a written
 *       __dict__, a mixin's name, a setattr with a computed name in the
 *       module)
 *   "all":   [names] or nil when the module has no static __all__
 *   "getattr": bool, a module-level __getattr__ is defined
 *   "dynamic": bool, the module may write its own namespace in ways the
 *       summary cannot follow: a call of the builtin globals() anywhere
 *       (but one that only reads it: `name in globals()`,
 *       `globals().get(k)`, `.keys()`, `.items()`, `.values()`, `.copy()`),
 *       vars() without argument or exec() called at module level (not in a
 *       class body or comprehension), or an assignment (=, augmented, for or
 *       with target) to a subscript of `sys.modules` anywhere; an import
 *       hook installed anywhere (`sys.meta_path` or `sys.path_hooks`
 *       assigned, or its append/insert/extend called: a hook can make any
 *       submodule appear); a call of enum's `global_enum` or of an attribute
 *       `_convert_` (both copy enum members into a module's namespace; a
 *       class decorated with `global_enum` is flagged instead, see
 *       "classes"). Builtins only when not shadowed by a binding
 *       the call can see
 *   "replaces": [names] the modules the file replaces at run time by
 *       assigning `sys.modules["a.b"] = x` (a plain string key; `sys` as
 *       spelled); absent when none. Such an assignment does not make the
 *       file "dynamic" (only one with another key does): the project opens
 *       the modules named, and counts them as existing
 *   "selfreads": [[class_line, name, line, col, call?, instance?], ...] reads of
 *       `self.name` (col 0-based) in the methods of a SEEN class (line
 *       class_line) whose bases leave the module, that neither the class,
 *       its bases in the module nor its subclasses there give, with
 *       nothing local that could add it (selfattr.h): E1101 when the
 *       bases from elsewhere are closed and lack it too; call, when the
 *       read is the callee of a call that unpacks nothing: [npos, [keyword
 *       names]], checked against the method the bases give, else nil;
 *       instance true when the read is of `x` after `x = C(...)` (selfattr.h)
 *       rather than of self: then only when no base binds __new__; absent
 *       when none
 *   "dead":  [names] a stub's module-level names bound only in branches
 *       of version or platform tests its target does not take (another
 *       version's or platform's): they may exist, so a missing one is
 *       unknown rather than absent (a star import there adds nothing:
 *       os.path's `from ntpath import *` on linux); absent when none
 *   "uses":  [[import_index, [attr, ...], line, col, flags], ...] loads of
 *       imported names, with the attribute chain that follows them; flags
 *       bit 0 SUM_USE_STORE: the chain's last attribute is assigned,
 *       augmented or deleted (`m.x = 1`, `m.x += 1`, `del m.x`, a for or
 *       with target; not `m.x: int` without value); bit 1 SUM_USE_GUARDED:
 *       inside the body (not the handlers, else or finally) of a try whose
 *       handlers name AttributeError, NameError, ImportError,
 *       ModuleNotFoundError, Exception or BaseException (alone or in a
 *       tuple) or catch everything; or after a call of the builtin
 *       hasattr(n, a) or getattr(n, a, default) with n the use's base name
 *       or an attribute chain starting from it (hasattr(n.sub, a)),
 *       where the call sits in the test of an if/elif/while (guards that
 *       body, not elif/else), the test of a conditional expression (guards
 *       both branches) or an operand of and/or (guards the later operands).
 *       A function body is deferred: guards around its def do not count;
 *       bit 2 SUM_USE_VERSIONED: in a source, in a branch of an if
 *       statement testing sys.version_info or sys.platform (a function
 *       defined there included)
 *   "calls": [[use_index, npos, [keyword names], star, dstar], ...] calls whose
 *       callee is such a use
 *   "stars": [[name, line, col, in_all], ...] every name the scan reported
 *       as F405 (before `# noqa`), at the F405's position (col 1-based, as
 *       in the diagnostic); in_all true for the F405s reported on __all__;
 *       local (a 5th element, true, or absent) when the F405 is in a
 *       function that binds the name too (later, a loop carrying it): it
 *       is never undefined
 *   "noqa":  [[first_line, last_line, codes], ...] the lines a `# noqa`
 *       comment covers, as the scan applies it: its line and every line
 *       joined with it by a multi-line string or backslashes (tokens.h:
 *       tokens_line_groups; brackets do not join), codes nil for every code,
 *       else [str] matched as prefixes; sorted by first line; a file-wide
 *       `# flake8: noqa` or `# ruff: noqa` is the only entry,
 *       [1, 4294967295, nil]. pylint's pragmas for the cross-module codes
 *       (`# pylint: disable=no-member`, the other symbols of E0401, E0611,
 *       E1101, E1120, E1121, E1123 and R0401, those codes, or all) are
 *       ranges of those codes too: after code, its line (group); alone on a
 *       line, to the end of its block (of the file at column 0);
 *       `disable-next=`, the next line. `# type: ignore` and `# pyright:
 *       ignore` (with or without [codes]) are ranges of E0401, E0611,
 *       E1101, E1120, E1121 and E1123: their line (group); a `# type:
 *       ignore` alone on a line before any statement, [1, 4294967295] */
#ifndef STRATA_SUMMARY_H
#define STRATA_SUMMARY_H

#include "common/arena.h"
#include "common/mpread.h"
#include "common/status.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct summary summary_t;

enum { SUM_IMPORT = 0, SUM_FROM = 1, SUM_STAR = 2, SUM_FUTURE = 3 };
enum {
    SUM_NESTED = 1,
    SUM_CONDITIONAL = 2,
    SUM_GUARDED = 4,
    SUM_TYPE_CHECKING = 8,
    SUM_HANDLER = 16,
    SUM_VERSIONED = 32,
    SUM_ALIAS = 64
};
enum { SUM_DEF_FUNCTION = 0, SUM_DEF_CLASS = 1, SUM_DEF_VARIABLE = 2, SUM_DEF_IMPORT = 3 };
enum { SUM_P_POSONLY = 0, SUM_P_NORMAL = 1, SUM_P_VARARGS = 2, SUM_P_KWONLY = 3, SUM_P_KWARGS = 4 };
enum { SUM_SIG_DECORATED = 1, SUM_SIG_ASYNC = 2, SUM_SIG_OVERLOAD = 4 };
enum { SUM_DEF_REBOUND = 1 };
enum {
    SUM_CLASS_DECORATED = 1,
    SUM_CLASS_KEYWORDS = 2,
    SUM_CLASS_GLOBAL_ENUM = 4,
    SUM_CLASS_SEEN = 8,
    SUM_CLASS_OPEN = 16
};
enum { SUM_USE_STORE = 1, SUM_USE_GUARDED = 2, SUM_USE_VERSIONED = 4 };

typedef struct {
    const char *name;
    uint8_t kind;
    bool has_default;
} sum_param_t;

/* A new empty summary in arena a; NULL when a is exhausted. */
summary_t *summary_new(arena_t *a);

/* Each add copies nothing the caller must keep: strings are copied into the
 * summary's arena. Returns the index of the new entry, or -1 when the arena
 * is exhausted (the summary then reports ST_ENOMEM at pack time). */
int32_t summary_add_import(summary_t *s, int kind, int level, const char *module, size_t mlen,
                           const char *name, size_t nlen, const char *asname, size_t alen,
                           uint32_t line, uint32_t col, int flags);
/* `x = m` at module level, m bound by import index: the same import again,
 * binding x (so that x is the module or name m is: os.pyi's
 * `path = _path`). Returns the new index, or -1. */
int32_t summary_alias_import(summary_t *s, int32_t index, const char *asname, size_t alen);
int32_t summary_add_sig(summary_t *s, int flags, const sum_param_t *params, uint32_t n);
int32_t summary_add_def(summary_t *s, const char *name, size_t len, int kind, uint32_t line,
                        int32_t sig, int flags);
/* flags: SUM_CLASS_* bits. */
int32_t summary_add_class(summary_t *s, const char *name, size_t len, uint32_t line, int flags);
void summary_class_add_base(summary_t *s, int32_t cls, const char *dotted, size_t len);
void summary_class_add_member(summary_t *s, int32_t cls, const char *name, size_t len, int kind,
                              int32_t sig);
/* The index of the class named name[0..len) whose statement is on line,
 * or -1. */
int32_t summary_find_class(const summary_t *s, const char *name, size_t len, uint32_t line);
/* What the instance checks found of class cls: SUM_CLASS_SEEN, with
 * SUM_CLASS_OPEN when open, and its members (n names, copied). */
void summary_class_seen(summary_t *s, int32_t cls, bool open, const char *const *attrs,
                        const uint32_t *lens, uint32_t n);
/* The plain methods (n names, copied) of class cls, after summary_class_seen. */
void summary_class_plain(summary_t *s, int32_t cls, const char *const *names, const uint32_t *lens,
                         uint32_t n);
/* A read of `self.name` at (line, col 0-based) in a method of the SEEN
 * class on class_line, for the check job to settle. */
void summary_add_selfread(summary_t *s, uint32_t class_line, const char *name, size_t len,
                          uint32_t line, uint32_t col);
/* The last selfread is a read of an instance made by calling the class,
 * not of self: the class's bases must bind no __new__. */
void summary_selfread_instance(summary_t *s);
/* The last selfread is the callee of a call of npos positional arguments
 * and nkw keywords, unpacking nothing. */
void summary_selfread_call(summary_t *s, uint32_t npos, const char *const *kw,
                           const uint32_t *kwlens, uint32_t nkw);
/* The overloads (n signature indices, copied) of def, or of the member
 * last added to cls. */
void summary_set_overloads(summary_t *s, int32_t def, const int32_t *sigs, uint32_t n);
void summary_class_set_overloads(summary_t *s, int32_t cls, const int32_t *sigs, uint32_t n);
void summary_set_all(summary_t *s, const char *const *names, const uint32_t *lens, uint32_t n);
void summary_set_getattr(summary_t *s);
void summary_set_dynamic(summary_t *s);
/* A module the file replaces in sys.modules (once per name). */
void summary_add_replace(summary_t *s, const char *name, size_t len);
/* A stub's module-level name bound only in branches its target does not
 * take (once per name). */
void summary_add_dead(summary_t *s, const char *name, size_t len);
/* flags: SUM_USE_* bits. */
int32_t summary_add_use(summary_t *s, int32_t import_index, const char *const *chain,
                        const uint32_t *lens, uint32_t n, uint32_t line, uint32_t col, int flags);
void summary_add_call(summary_t *s, int32_t use, uint32_t npos, const char *const *kw,
                      const uint32_t *kwlens, uint32_t nkw, bool star, bool dstar);
/* An F405 of the scan at (line, col), the diagnostic's own position. */
void summary_add_star(summary_t *s, const char *name, size_t len, uint32_t line, uint32_t col,
                      bool in_all);
/* F405 number index is of a name its function binds too (later: a loop
 * carries it), so it is not undefined whatever the star imports say. */
void summary_star_set_local(summary_t *s, uint32_t index);
uint32_t summary_n_stars(const summary_t *s);
/* A `# noqa` range; codes NULL (n 0) for every code. Ranges must be added
 * in order of first line. */
void summary_add_noqa(summary_t *s, uint32_t first, uint32_t last, const char *const *codes,
                      const uint32_t *lens, uint32_t n);
/* Whether a range added so far silences code on line (every code, or one
 * of its codes a prefix of code), as the cross-module checks read them. */
bool summary_noqa_covers(const summary_t *s, uint32_t line, const char *code);

/* Moves columns on padded lines back to the file's own (scan.c's padded
 * reparse, tokens.h): on line lines[k], widths[k] spaces were inserted at
 * the line's start. Import, use and star columns, like the diagnostics'. */
void summary_unpad_columns(summary_t *s, const uint32_t *lines, const uint32_t *widths, uint32_t n);

/* Writes the summary as the msgpack map described above. */
st_rc_t summary_pack(const summary_t *s, msgpack_packer *pk);

/* A signature of "sigs", written piecewise: its head, then n_params
 * parameters. The interface map (xmod.h) holds signatures in this format
 * too: this is their one encoder, summary_read_sig their decoder. */
void summary_pack_sig(msgpack_packer *pk, uint8_t flags, uint32_t n_params);
void summary_pack_param(msgpack_packer *pk, const char *name, size_t len, uint8_t kind,
                        bool has_default);

/* ---- reading a summary ------------------------------------------------------
 *
 * The one decoder of the map above, for bytes that crossed a process
 * boundary: every count is checked against the bytes left before it
 * allocates, every index between tables against its table, every number
 * against its range, and a string is at most SUMMARY_MAX_NAME bytes. A tuple
 * may hold more elements than listed (they are skipped), so the format can
 * grow at the end of one; "defs" and "uses" may lack their flags (0), and
 * "classes" theirs (SUM_CLASS_FLAGS_UNKNOWN: an older summary, decorators
 * unknown); defs and members their overloads (none, as a nil list). Unknown
 * keys are skipped; an absent key is an empty table.
 *
 * Decoded strings point into the document (not NUL-terminated) and arrays
 * into the arena given, so both live as long as the shorter of the two. */

#define SUMMARY_MAX_NAME 4096 /* bytes of one string; longer is corrupt */
enum { SUM_CLASS_FLAGS_UNKNOWN = 0x80 };

typedef struct {
    const char *s; /* into the document; "" when empty */
    uint32_t len;
} sum_str_t;

typedef struct {
    sum_str_t name;
    uint8_t kind; /* SUM_P_* */
    bool has_default;
} sum_rparam_t;

typedef struct {
    uint8_t flags; /* SUM_SIG_* */
    uint32_t n;
    sum_rparam_t *p;
} sum_sig_t;

typedef struct {
    uint8_t kind, level, flags; /* SUM_IMPORT..SUM_FUTURE; SUM_NESTED... bits */
    sum_str_t module, name, asname;
    uint32_t line, col; /* col 0-based */
} sum_import_t;

typedef struct {
    sum_str_t name;
    uint8_t kind, flags; /* SUM_DEF_*; SUM_DEF_REBOUND */
    uint32_t line;
    int64_t sig;  /* index into sigs, or -1 */
    int64_t *ovl; /* the overloads' indices into sigs; NULL: not overloaded */
    uint32_t n_ovl;
} sum_def_t;

typedef struct {
    sum_str_t name;
    uint8_t kind;
    int64_t sig;  /* index into sigs, or -1 */
    int64_t *ovl; /* as sum_def_t's */
    uint32_t n_ovl;
} sum_member_t;

typedef struct {
    sum_str_t name;
    uint32_t line;
    sum_str_t *bases;
    uint32_t n_bases;
    sum_member_t *members;
    uint32_t n_members;
    uint8_t flags;    /* SUM_CLASS_* bits, or SUM_CLASS_FLAGS_UNKNOWN */
    sum_str_t *attrs; /* with SUM_CLASS_SEEN: every member found */
    uint32_t n_attrs;
    sum_str_t *plain; /* with SUM_CLASS_SEEN: its plain methods */
    uint32_t n_plain;
} sum_class_t;

typedef struct {
    uint32_t class_line;
    sum_str_t name;
    uint32_t line, col; /* col 0-based */
    bool instance;      /* of an instance made by calling the class */
    bool call;          /* the callee of a call of npos, kw[0..nkw) */
    uint32_t npos;
    sum_str_t *kw;
    uint32_t nkw;
} sum_selfread_t;

typedef struct {
    int64_t imp; /* index into imports */
    sum_str_t *chain;
    uint32_t n, line, col; /* col 0-based */
    uint8_t flags;         /* SUM_USE_* */
} sum_use_t;

typedef struct {
    int64_t use; /* index into uses */
    uint32_t npos;
    sum_str_t *kw;
    uint32_t nkw;
    bool star, dstar;
} sum_call_t;

typedef struct {
    sum_str_t name;
    uint32_t line, col; /* the F405's, col 1-based */
    bool in_all;
    bool local; /* its function binds the name too: never undefined */
} sum_star_t;

typedef struct {
    uint32_t first, last;
    sum_str_t *codes; /* NULL: every code */
    uint32_t n;
} sum_noqa_t;

typedef struct {
    sum_import_t *imports;
    uint32_t n_imports;
    sum_def_t *defs;
    uint32_t n_defs;
    sum_sig_t *sigs;
    uint32_t n_sigs;
    sum_class_t *classes;
    uint32_t n_classes;
    bool has_all; /* a static __all__: all[0..n_all) */
    sum_str_t *all;
    uint32_t n_all;
    bool getattr, dynamic;
    sum_str_t *replaces; /* modules replaced in sys.modules */
    uint32_t n_replaces;
    sum_str_t *dead; /* a stub's names bound only in branches not taken */
    uint32_t n_dead;
    sum_use_t *uses;
    uint32_t n_uses;
    sum_call_t *calls;
    uint32_t n_calls;
    sum_star_t *stars;
    uint32_t n_stars;
    sum_noqa_t *noqa;
    uint32_t n_noqa;
    sum_selfread_t *selfreads;
    uint32_t n_selfreads;
} summary_doc_t;

/* Reads the summary map at r's position into *out, arrays in arena a, and
 * moves r past it. ST_ECORRUPT when malformed (r then stays where the
 * failing read was, for the caller's message), ST_ENOMEM when a is
 * exhausted; *out may be partly filled on error. */
st_rc_t summary_read(mpread_t *r, arena_t *a, summary_doc_t *out);

/* One string of a summary (at most SUMMARY_MAX_NAME bytes), and an array
 * of them (in arena a), at r's position: the check job's documents hold
 * names as the summary does. Errors as summary_read. */
st_rc_t summary_read_str(mpread_t *r, sum_str_t *out);
st_rc_t summary_read_strs(mpread_t *r, arena_t *a, sum_str_t **v, uint32_t *n);

/* Reads one signature ([flags, [[name, pkind, has_default], ...]]) at r's
 * position, as summary_read does: the interface map (xmod.h) holds them in
 * this format too. Errors as summary_read. */
st_rc_t summary_read_sig(mpread_t *r, arena_t *a, sum_sig_t *out);

/* Only the "imports" of a summary's bytes (the first such key), checked as
 * summary_read checks them; the other keys are skipped, not checked. No
 * "imports": none. Errors as summary_read; nothing is returned on error. */
st_rc_t summary_decode_imports(span_t sum, arena_t *a, sum_import_t **imports, uint32_t *n);

/* Only the "replaces" of a summary's bytes, checked as summary_read
 * checks them (strings into sum, the array in a); none when absent.
 * Errors as summary_read; nothing is returned on error. */
st_rc_t summary_decode_replaces(span_t sum, arena_t *a, sum_str_t **names, uint32_t *n);

/* Whether a summary says its module's namespace is made at run time: a
 * "dynamic" namespace (import hooks, sys.modules, globals()) or a module
 * __getattr__. A value that is not a bool is not true; false when the bytes
 * do not decode. */
bool summary_is_dynamic(span_t sum);

#endif
