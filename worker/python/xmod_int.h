/* xmod_int.h - what the files of the check job share (see xmod.h).
 *
 * The job decodes its input into one model (below) whose strings are all
 * interned, so that names compare as ids; every file of the job reads and
 * fills that model through a ctx_t. Internal to worker/python/xmod*.c: the
 * shared functions are xmod__*, the rest of each file static. */
#ifndef STRATA_XMOD_INT_H
#define STRATA_XMOD_INT_H

#include "common/hmap.h"
#include "common/intern.h"
#include "common/mpread.h"
#include "worker/python/diag.h"
#include "worker/python/summary.h"
#include "worker/python/xmod.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

enum { E_FUNC = 0, E_CLASS = 1, E_VAR = 2, E_MOD = 3, E_UNKNOWN = 4 };
enum { R_PROJECT = 0, R_STDLIB = 1, R_EXTERNAL = 2, R_UNRESOLVED = 3, R_FUTURE = 4, R_MISSING = 5 };

#define NONE INTERN_NONE

/* ---- the model ------------------------------------------------------------ */

typedef struct {
    const char *s; /* interned, NUL-terminated */
    uint32_t len;
    uint32_t id;
} nm_t;

typedef struct {
    nm_t name;
    uint8_t kind;
    bool dflt;
} param_t;

typedef struct {
    uint8_t flags;
    uint32_t n;
    param_t *p;
} csig_t;

typedef struct {
    nm_t name;
    uint8_t kind;
    const csig_t *sig; /* NULL: none */
    uint32_t ref;      /* module id for E_MOD, else NONE */
    /* a function bound by overloads: their signatures (a call is wrong
     * only when none accepts it); NULL: not overloaded */
    const csig_t *const *ovl;
    uint32_t n_ovl;
} ent_t;

/* What instances of a class may have: the names of the class and of all
 * its bases, sorted (xmod__nm_cmp), each once; only for a class whose
 * members are all seen (xmod_classes.c). */
typedef struct {
    nm_t name;
    const csig_t *sig; /* without self */
} xmeth_t;

typedef struct {
    nm_t *mem;
    uint32_t n;
    xmeth_t *meth; /* the plain methods its instances run, sorted by name */
    uint32_t n_meth;
    bool stub; /* a class on the way is a stub's, which leaves private
                  names out: a missing `_x` may exist */
} xfact_t;

typedef struct {
    nm_t name;
    xfact_t fact;
} xcls_t;

typedef struct {
    nm_t name;
    bool open, has_all;
    bool stub;       /* from a .pyi: a missing private name is unknown */
    xcls_t *classes; /* closed classes defined here, sorted by name */
    uint32_t n_classes;
    nm_t *all;
    uint32_t n_all;
    nm_t *subs;
    uint32_t n_subs;
    ent_t *names;
    uint32_t n_names;
} iface_t;

typedef struct {
    uint8_t kind, level, flags, res;
    uint32_t module, name, asname, abs, line, col;
    uint32_t bound; /* the name the import binds, or NONE */
} imp_t;

typedef struct {
    uint32_t name, line;
    uint8_t kind, flags;
    int64_t sig;
    const csig_t *ctor; /* classes: the sure constructor signature */
    const csig_t **ovl; /* the overloads' signatures; NULL: not overloaded */
    uint32_t n_ovl;
} def_t;

typedef struct {
    uint32_t name;
    uint8_t kind;
    int64_t sig;
} member_t;

enum { FACT_WAITING = 0, FACT_OK = 1, FACT_NONE = 2 };

typedef struct {
    uint32_t name, line, n_bases, n_members;
    uint32_t *bases;
    member_t *members;
    uint8_t flags;
    const csig_t *ctor; /* the sure constructor signature, or NULL */
    nm_t *attrs;        /* with SUM_CLASS_SEEN: every member the scan found */
    uint32_t n_attrs;
    nm_t *plain; /* ... and its plain methods, sorted */
    uint32_t n_plain;
    uint8_t fst;  /* FACT_*: whether fact is known yet, or never */
    xfact_t fact; /* FACT_OK: its members and its bases' */
} cls_t;

typedef struct {
    int64_t imp;
    uint32_t *chain;
    uint32_t n, line, col;
    uint8_t flags;
} use_t;

typedef struct {
    int64_t use;
    uint32_t npos, nkw;
    uint32_t *kw;
    bool star, dstar;
} call_t;

typedef struct {
    uint32_t cls_line, line, col; /* col 0-based */
    nm_t name;
    call_t call; /* when is_call: its shape (call.use unused) */
    bool is_call;
    bool instance; /* of `x = C(...)`, not self: C's bases bind no __new__ */
} selfread_t;

typedef struct {
    uint32_t name, line, col;
    bool in_all;
    bool local; /* its function binds the name too: never undefined */
} star_t;

typedef struct {
    uint32_t first, last, n;
    const char **codes; /* NULL: every code */
} noqa_t;

typedef struct {
    nm_t name;
    uint32_t file;
    bool pkg, export, has_summary, has_res;
    bool replaced; /* another module replaces it in sys.modules: open */
    nm_t *dead;    /* names bound only in a stub's branches not taken: unknown */
    uint32_t n_dead;
    bool stub; /* a .pyi */
    nm_t *subs;
    uint32_t n_subs;
    imp_t *imps;
    uint32_t n_imps, n_res;
    def_t *defs;
    uint32_t n_defs;
    csig_t *sigs;
    uint32_t n_sigs;
    cls_t *classes;
    uint32_t n_classes;
    nm_t *all;
    uint32_t n_all;
    bool has_all, getattr, dynamic;
    use_t *uses;
    uint32_t n_uses;
    call_t *calls;
    uint32_t n_calls;
    star_t *stars;
    uint32_t n_stars;
    noqa_t *noqa;
    uint32_t n_noqa;
    selfread_t *selfreads;
    uint32_t n_selfreads;
    hmap_t *bound;       /* bound name id -> import index (NONE: ambiguous) */
    uint32_t *star_from; /* star imports, one per distinct module */
    uint32_t n_star_from;
    /* results */
    diag_list_t diags;
    check_pos_t *drop;
    uint32_t n_drop, cap_drop;
} file_t;

typedef struct {
    uint32_t name;
    iface_t *iface; /* the current (then final) interface; NULL: none */
    file_t *file;   /* the export file of a component module, else NULL */
} mod_t;

typedef struct {
    arena_t *a;
    intern_t *in;
    bool oom;
    file_t *files;
    uint32_t n_files;
    iface_t *ext;
    uint32_t n_ext;
    mod_t *mods; /* component modules first (n_comp), then external ones */
    uint32_t n_mods, n_comp;
    hmap_t *by_name; /* module name id -> index in mods */
    hmap_t *stores;  /* "module id, name id" assigned somewhere in the component */
    hmap_t *r0401;   /* "file index, line" that already has an R0401 */
    nm_t python;     /* the interpreter named in E0401s of missing packages ("": none) */
} ctx_t;

/* ---- xmod.c: the model's helpers ------------------------------------------------ */

/* n*size bytes of the job's arena; NULL (and c->oom set) when exhausted. */
void *xmod__alloc_n(ctx_t *c, size_t n, size_t size);
/* The name of an id ("" for NONE or an unknown id). */
nm_t xmod__nm_of(const ctx_t *c, uint32_t id);
/* Interns s; ST_ENOMEM sets c->oom; any other failure is ST_ECORRUPT. */
st_rc_t xmod__intern_id(ctx_t *c, const char *s, size_t len, uint32_t *id);
/* A decoded string (summary.h), interned; errors as xmod__intern_id. */
st_rc_t xmod__str_id(ctx_t *c, sum_str_t s, uint32_t *id);
st_rc_t xmod__str_nm(ctx_t *c, sum_str_t s, nm_t *out);
/* n decoded strings, interned, into an array of the arena. */
st_rc_t xmod__str_nms(ctx_t *c, const sum_str_t *v, uint32_t n, nm_t **out);
/* A decoded signature into the model's. */
st_rc_t xmod__sig(ctx_t *c, const sum_sig_t *s, csig_t *g);
int xmod__nm_cmp(const nm_t *a, const nm_t *b);
int xmod__ent_qcmp(const void *pa, const void *pb);
/* qsort/bsearch orders of methods and classes of facts: by name. */
int xmod__xmeth_qcmp(const void *pa, const void *pb);
int xmod__xcls_qcmp(const void *pa, const void *pb);
/* Sorts names and drops duplicates; returns the new count. */
uint32_t xmod__nm_sort_unique(nm_t *v, uint32_t n);
bool xmod__nm_in(const nm_t *v, uint32_t n, const nm_t *key);
const ent_t *xmod__iface_find(const iface_t *f, const nm_t *name);
/* The id of "prefix.name"; NONE when absent and add is false. */
uint32_t xmod__join_id(ctx_t *c, uint32_t prefix, uint32_t name, bool add);
uint32_t xmod__top_id(ctx_t *c, uint32_t dotted);
mod_t *xmod__mod_get(const ctx_t *c, uint32_t name);
iface_t *xmod__mod_iface(const ctx_t *c, uint32_t name);
bool xmod__is_dunder(const nm_t *n);
/* Whether a name missing from interface f may still exist: f is a stub and
 * the name is private (`_x`, not a dunder), which stubs leave out. */
bool xmod__stub_omits(const iface_t *f, const nm_t *n);
bool xmod__is_sub(ctx_t *c, const iface_t *f, uint32_t mod, const nm_t *name);

/* ---- xmod_input.c: the input into the model ------------------------------------- */

/* Decodes the whole input document (ST_ECORRUPT, ST_ENOMEM with c->oom). */
st_rc_t xmod__read_input(ctx_t *c, mpread_t *r);
/* Indexes the decoded model: modules, bindings, star imports, constructors. */
st_rc_t xmod__prepare(ctx_t *c);
const imp_t *xmod__binding_import(const file_t *f, uint32_t name);

/* ---- xmod_iface.c: interfaces ------------------------------------------------------- */

/* An interface map into the model, made canonical on the way in. */
st_rc_t xmod__read_iface(ctx_t *c, mpread_t *r, iface_t *f);
/* Writes the canonical interface map; reads c only for module names' refs. */
void xmod__pack_iface(const ctx_t *c, msgpack_packer *pk, const iface_t *f);
ent_t xmod__import_ent(ctx_t *c, const imp_t *m);
bool xmod__star_provides(ctx_t *c, const iface_t *f, uint32_t m, const nm_t *name);
const iface_t *xmod__star_source(ctx_t *c, const imp_t *m, uint32_t self);
st_rc_t xmod__compute_ifaces(ctx_t *c);

/* ---- xmod_rules.c: the per-file rules, noqa ------------------------------------------ */

void xmod__report(ctx_t *c, file_t *f, uint32_t line, uint32_t col, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
uint32_t xmod__col1(uint32_t col);
st_rc_t xmod__collect_stores(ctx_t *c);
/* E0401, E0611, E1101, E1120/E1121/E1123, settled F405s of one file. */
void xmod__check_file(ctx_t *c, file_t *f);
/* noqa, then the diagnostics and drops sorted. */
void xmod__finish_file(ctx_t *c, file_t *f);

/* Walks chain[0..n) from what import m binds, through modules only (a
 * project module's): where it ends. */
typedef enum {
    W_STOP,    /* nothing known */
    W_MODULE,  /* the chain ends on a known module */
    W_ENTRY,   /* the chain ends on a name of a module */
    W_MISSING, /* chain[at] is not an attribute of closed module mod */
} walk_kind_t;

typedef struct {
    walk_kind_t kind;
    uint32_t mod; /* W_MODULE: it; W_ENTRY, W_MISSING: the module holding the name */
    uint32_t at;  /* chain index of the entry or the missing name */
    ent_t ent;
} walk_t;

walk_t xmod__walk(ctx_t *c, const imp_t *m, const uint32_t *chain, uint32_t n);

/* A call's arguments bound to a signature as Python binds them. */
typedef struct {
    bool checked;  /* the signature was small enough to bind */
    bool too_many; /* more positional arguments than slots */
    bool kwargs;   /* the signature takes **kwargs */
    bool *bound;   /* per parameter: given a value */
} bind_t;

bind_t xmod__bind_call(ctx_t *c, const csig_t *g, const call_t *k);
/* Whether keyword kw names a parameter of g that takes a keyword. */
bool xmod__takes_keyword(const csig_t *g, uint32_t kw);
/* Whether parameter i of g needs a value the call did not give (a
 * keyword-only one is pylint's E1125 missing-kwoa, not one of ours). */
bool xmod__unbound(const csig_t *g, const bind_t *b, uint32_t i);
/* Whether the component assigns attribute name of module mod. */
bool xmod__stored(ctx_t *c, uint32_t mod, uint32_t name);

/* ---- xmod_classes.c: class facts, self's reads ------------------------------------------ */

/* The facts of the component's classes, and its modules' interfaces'
 * "classes"; after xmod__compute_ifaces and xmod__collect_stores. */
st_rc_t xmod__class_facts(ctx_t *c);
/* E1101 for the reads of self the scan left to the job (summary
 * "selfreads"). */
void xmod__check_selfreads(ctx_t *c, file_t *f);

/* ---- xmod_cycles.c, xmod_result.c ------------------------------------------------------ */

st_rc_t xmod__check_cycles(ctx_t *c);
st_rc_t xmod__encode(const ctx_t *c, span_t *out);

#endif
