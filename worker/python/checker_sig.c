/* checker_sig.c - the signatures the summary gives a function: its
 * parameters, the decorators that leave them alone, and its overloads.
 *
 * A cross-module check trusts a signature only when it is the one callers
 * get, so anything that may change it (a decorator it does not know) marks
 * it SUM_SIG_DECORATED. Some decorators are known to return the function
 * itself: typing's final, type_check_only and no_type_check, and the
 * deprecated(...) of typing_extensions and warnings; they leave it sure.
 *
 * A run of `@overload` defs describes one function with several
 * signatures; in a .py file the implementation follows. The summary gives
 * the def its implementation's signature (none in a stub, where there is
 * no implementation) and the list of the overloads' signatures, so a check
 * can ask whether any overload accepts a call. When it is not sure what
 * the overloads are (another decorator on one, async on some only), it
 * gives what it gave before overloads were understood: the last def's
 * signature, and the name rebound. */
#include "worker/python/checker_int.h"

#include <string.h>

#define MAX_OVERLOADS 64
#define MAX_PARAMS 64

static bool is_async(const checker_t *c, TSNode def)
{
    uint32_t len;
    const char *t;

    if (ts_node_child_count(def) == 0 || ts_node_is_named(ts_node_child(def, 0)))
        return false;
    t = text(c, ts_node_child(def, 0), &len);
    return len == 5 && memcmp(t, "async", 5) == 0;
}

static bool name_is(const checker_t *c, uint32_t id, const char *want)
{
    const char *s = chk_name_str(c, id);
    return s != NULL && strcmp(s, want) == 0;
}

/* The modules whose decorators named below are known. */
static bool is_known_module(checker_t *c, uint32_t id)
{
    return id == WK_TYPING || id == WK_TYPING_EXT || name_is(c, id, "warnings");
}

/* A decorator that returns the function it decorates: `final`,
 * `type_check_only`, `no_type_check` or `deprecated("...")`, imported from
 * typing, typing_extensions or warnings, or spelled through the module. */
static bool is_neutral_decorator(checker_t *c, TSNode e)
{
    bool call = kind(c, e) == K_CALL;
    uint32_t real = UINT32_MAX;
    binding_t *b;

    if (call)
        e = field(c, e, F_FUNCTION);
    if (kind(c, e) == K_IDENTIFIER) {
        b = chk_lookup_quiet(c, name_id(c, e));
        if (b != NULL && b->kind == B_FROM && is_known_module(c, b->module))
            real = b->real;
    } else if (kind(c, e) == K_ATTRIBUTE && kind(c, first_child(e)) == K_IDENTIFIER) {
        b = chk_lookup_quiet(c, name_id(c, first_child(e)));
        if (b != NULL && b->kind == B_IMPORT && is_known_module(c, b->full))
            real = name_id(c, last_child(e));
    }
    if (real == UINT32_MAX)
        return false;
    if (call)
        return name_is(c, real, "deprecated");
    return name_is(c, real, "final") || name_is(c, real, "type_check_only") ||
           name_is(c, real, "no_type_check");
}

/* SUM_SIG_DECORATED when a decorator may change the signature; *n_decs
 * counts the decorators. */
static int decorator_flags(checker_t *c, TSNode decorated, uint32_t *n_decs)
{
    int flags = 0;

    *n_decs = 0;
    if (ts_node_is_null(decorated))
        return 0;
    FOR_KIDS(c, decorated, cu)
    {
        TSNode d = KID(cu), e;
        if (kind(c, d) != K_DECORATOR)
            continue;
        ++*n_decs;
        e = first_named(d);
        if (!chk_is_typing(c, e, WK_OVERLOAD) && !is_neutral_decorator(c, e))
            flags |= SUM_SIG_DECORATED;
    }
    return flags;
}

/* `__x`: positional-only in a stub by the convention before PEP 570. */
static bool is_private_name(const char *s)
{
    size_t n = strlen(s);
    return n > 2 && s[0] == '_' && s[1] == '_' && !(s[n - 1] == '_' && s[n - 2] == '_');
}

/* In a stub without `/`: the leading `__x` parameters (after self or cls
 * in a method) are positional-only, and so is that first one. */
static void stub_posonly(sum_param_t *params, uint32_t n, bool method)
{
    uint32_t last = UINT32_MAX;

    for (uint32_t i = 0; i < n && params[i].kind == SUM_P_NORMAL; i++) {
        if (is_private_name(params[i].name))
            last = i;
        else if (i != 0 || !method)
            break;
    }
    for (uint32_t i = 0; last != UINT32_MAX && i <= last; i++)
        params[i].kind = SUM_P_POSONLY;
}

/* Reads one parameter p into *out (kind_ the kind of a plain one, moved
 * to keyword-only past *args); false when it names nothing. */
static bool read_param(checker_t *c, TSNode p, lang_kind_t k, int *kind_, sum_param_t *out)
{
    TSNode nm = chk_param_name(c, p);
    uint32_t len;

    if (ts_node_is_null(nm))
        return false;
    TSNode inner = k == K_TYPED_PARAMETER ? first_named(p) : p;
    lang_kind_t ik = kind(c, inner);
    out->name = text(c, nm, &len);
    if ((out->name = arena_strndup(c->a, out->name, len)) == NULL) {
        c->oom = true;
        return false;
    }
    out->has_default = k == K_DEFAULT_PARAMETER || k == K_TYPED_DEFAULT_PARAMETER;
    if (ik == K_LIST_SPLAT_PATTERN) {
        out->kind = SUM_P_VARARGS;
        *kind_ = SUM_P_KWONLY;
    } else if (ik == K_DICT_SPLAT_PATTERN) {
        out->kind = SUM_P_KWARGS;
    } else {
        out->kind = (uint8_t)*kind_;
    }
    return true;
}

/* The signature of def into the summary; its index, or -1. */
static int32_t add_sig(checker_t *c, const binding_t *b, bool method)
{
    sum_param_t params[MAX_PARAMS];
    uint32_t n = 0, n_decs;
    int kind_ = SUM_P_NORMAL, flags = decorator_flags(c, b->decorated, &n_decs);
    bool slash = false;
    TSNode ps = field(c, b->def, F_PARAMETERS);

    if (b->overload)
        flags |= SUM_SIG_OVERLOAD;
    if (is_async(c, b->def))
        flags |= SUM_SIG_ASYNC;
    if (!ts_node_is_null(ps)) {
        FOR_KIDS(c, ps, cu)
        {
            TSNode p = KID(cu);
            lang_kind_t k = kind(c, p);
            if (k == K_POSITIONAL_SEPARATOR) {
                for (uint32_t i = 0; i < n; i++)
                    params[i].kind = SUM_P_POSONLY;
                slash = true;
            } else if (k == K_KEYWORD_SEPARATOR) {
                kind_ = SUM_P_KWONLY;
            } else if (n < MAX_PARAMS && read_param(c, p, k, &kind_, &params[n])) {
                n++;
            }
        }
    }
    if (c->in->is_stub && !slash)
        stub_posonly(params, n, method);
    return summary_add_sig(c->sum, flags, params, n);
}

/* Is the run of overloads ending at last one the summary can list: each
 * decorated by overload alone, all async or none, at most MAX_OVERLOADS?
 * Fills run[] in source order. */
static bool overload_run(checker_t *c, const binding_t *last, const binding_t **run, uint32_t *n)
{
    const binding_t *o;
    uint32_t k = 0, n_decs;

    for (o = last; o != NULL && k < MAX_OVERLOADS; o = o->ovl_prev)
        run[k++] = o;
    if (o != NULL)
        return false;
    for (uint32_t i = 0; i < k; i++) {
        decorator_flags(c, run[i]->decorated, &n_decs);
        if (n_decs != 1 || is_async(c, run[i]->def) != is_async(c, run[0]->def))
            return false;
    }
    for (uint32_t i = 0; i < k / 2; i++) { /* source order */
        o = run[i];
        run[i] = run[k - 1 - i];
        run[k - 1 - i] = o;
    }
    *n = k;
    return true;
}

void chk_def_sig(checker_t *c, const binding_t *b, bool method, chk_defsig_t *out)
{
    const binding_t *run[MAX_OVERLOADS];
    const binding_t *last = b->overload ? b : b->ovl_prev;
    uint32_t n = 0;

    out->n_ovl = 0;
    out->ovl = NULL;
    out->rebound = false;
    if (last == NULL) {
        out->sig = add_sig(c, b, method);
        return;
    }
    if (!overload_run(c, last, run, &n)) { /* as before overloads were understood */
        out->sig = add_sig(c, b, method);
        out->rebound = b->ovl_prev != NULL;
        return;
    }
    if ((out->ovl = arena_alloc(c->a, n * sizeof *out->ovl)) == NULL) {
        c->oom = true;
        out->sig = -1;
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        out->ovl[i] = add_sig(c, run[i], method);
    out->n_ovl = n;
    out->sig = b->overload ? -1 : add_sig(c, b, method); /* a stub: no implementation */
}
