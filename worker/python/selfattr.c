/* selfattr.c - E1101 for `self.x` in the methods of a module's own classes
 * (see selfattr.h for the rules). Passes over the tree, each an explicit
 * stack: the module's bindings and attribute stores, then each class's
 * body and methods, then the classes' bases and subclasses, then the
 * reads. */
#include "worker/python/selfattr.h"

#include "common/hmap.h"
#include "common/typeset.h"
#include "worker/python/checker.h"

#include <stdbool.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#define SA_MAX_BASES 64 /* a class with more bases is not checked */

typedef struct {
    TSNode node; /* the attribute `self.x` */
    const char *name;
    uint32_t len;
    bool guarded; /* in a method with hasattr/getattr on self, or in the body of a
                     try that catches AttributeError */
} sa_read_t;

typedef struct {
    TSNode node; /* class_definition */
    const char *name;
    uint32_t len;
    bool top;       /* a direct child of the module, undecorated */
    bool open;      /* something may add members we cannot see */
    bool loose;     /* a method hands on another object's __dict__ (a
                       parameter's, a local's): it may be an instance's,
                       so attributes may come from there; methods not */
    bool shaky;     /* a base or body we cannot read (metaclass=, Generic[T]...) */
    bool dotted;    /* a base is a dotted name (m.B): from elsewhere */
    bool ext;       /* readable, but a base (or a base's base) is from elsewhere */
    bool single;    /* at most one base written (but object) */
    bool abstract;  /* a method raises NotImplementedError or is an
                       abstractmethod: left for subclasses to complete, which
                       may set the attributes it reads (not its methods) */
    bool known;     /* top, readable, bases known: its defs are sure */
    bool named;     /* known, and its name is bound by its class statement alone
                       (no other binding, no star import after it) */
    bool eligible;  /* known, closed, bases eligible: its members are all seen */
    bool callable;  /* eligible but for loose (self's or a base's): its
                       methods are all seen */
    bool xok;       /* as known, but with bases from elsewhere: the check job
                       settles its reads (summary "selfreads") */
    bool xeligible; /* xok, closed, local bases eligible or xeligible */
    bool unknown;   /* a subclass that is not eligible: no E1101 */
    bool hidden;    /* a subclass that is not known: no check of calls either */
    bool escapes;   /* a method passes self to a call */
    uint32_t bases[SA_MAX_BASES];
    uint32_t n_bases;
    hmap_t *members; /* name -> how many bindings */
    hmap_t *defs;    /* name -> index in sa_t.defs: undecorated defs of the body */
    sa_read_t *reads;
    uint32_t n_reads, cap_reads;
} sa_class_t;

typedef struct sa_insts sa_insts_t;

typedef struct {
    const lang_t *L;
    const char *src;
    arena_t *a;
    sa_class_t *cls;
    uint32_t n_cls, cap_cls;
    hmap_t *bound;      /* module-level names -> how many bindings */
    hmap_t *stored;     /* attribute names stored anywhere in the module */
    hmap_t *selfstored; /* ... those stored through a top class's method's first
                           parameter (how many times each) */
    TSNode *passed;     /* argument lists of calls `f(C, "x", ...)` (note_passed) */
    uint32_t n_passed, cap_passed;
    TSNode *defs; /* the classes' plain methods (sa_class_t.defs) */
    uint32_t n_defs, cap_defs;
    uint32_t last_star; /* end byte of the last module-level `import *`, or 0 */
    uint32_t *stars;    /* end bytes of every module-level `import *`, in order */
    uint32_t n_stars, cap_stars;
    TSNode *calls; /* every call of a bare name: `C(...)` */
    uint32_t n_calls, cap_calls;
    TSNode *assigns; /* every `x = f(...)`, x and f bare names */
    uint32_t n_assigns, cap_assigns;
    TSNode *assign_scopes; /* ... and the scope of each (scan_module's scopes) */
    uint32_t n_assign_scopes, cap_assign_scopes;
    hmap_t *rebound; /* names an identifier binds anywhere but a module-level class */
    TSNode *stack;
    size_t n_stack, cap_stack;
    TSTreeCursor cursor; /* push_children's */
    bool has_cursor;
    uint8_t *marks; /* scan_module: per stack entry, SA_TOP | SA_DECORATED | SA_PLAIN */
    size_t cap_marks;
    TSNode *scopes; /* scan_module: per stack entry, the def, class, lambda or
                       comprehension it is in (a null node: the module) */
    size_t cap_scopes;
    hmap_t *targets;     /* node id -> SA_STORE or SA_AUG: what statements write */
    hmap_t *classes;     /* called_class's: module-level class name -> index */
    sa_insts_t *walk_is; /* instance_reads: its instances, which its identifiers count */
    TSNode *guards;      /* scan_method: bodies of the trys catching AttributeError */
    uint32_t n_guards, cap_guards;
    TSNode *tested; /* scan_method: the names in `hasattr(self, "x")`, `getattr(self,
                       "x"...)`: reads of x in that method are guarded */
    uint32_t n_tested, cap_tested;
    hmap_t *modules; /* names a module-level `import X [as m]` binds */
    TSNode *dicts;   /* scan_method: x in `x.__dict__` handed on, x a name */
    uint32_t n_dicts, cap_dicts;
    TSNode *imported; /* scan_method: names its `import X [as m]` bind */
    uint32_t n_imported, cap_imported;
    TSNode walk_scope;         /* ... and the scope it walks */
    bool dynamic_setattr;      /* the module calls setattr with a computed name,
                                  on something but a method's first parameter */
    uint32_t self_setattrs;    /* calls setattr(self, computed) (scan_method) */
    uint32_t self_setattrs_fn; /* ... of a value that may be callable */
    bool dynamic_fn;           /* dynamic_setattr, and the value may be callable */
    summary_t *sum;            /* where facts for the check job go; NULL: none */
    bool stub;                 /* a .pyi: classes are read for the check job alone (their
                                  members are their bodies' names), nothing is reported */
    bool oom;
} sa_t;

/* ---- small helpers ------------------------------------------------------------ */

static const char *text(const sa_t *s, TSNode n, uint32_t *len)
{
    uint32_t b = ts_node_start_byte(n), e = ts_node_end_byte(n);
    *len = e > b ? e - b : 0;
    return s->src + b;
}

static bool text_is(const sa_t *s, TSNode n, const char *want)
{
    uint32_t len;
    const char *t = text(s, n, &len);
    return len == strlen(want) && memcmp(t, want, len) == 0;
}

/* Whether nodes a and b have the same text. */
static bool same_text(const sa_t *s, TSNode a, TSNode b)
{
    uint32_t la, lb;
    const char *ta = text(s, a, &la), *tb = text(s, b, &lb);
    return la == lb && memcmp(ta, tb, la) == 0;
}

static lang_kind_t kind(const sa_t *s, TSNode n)
{
    return lang_kind(s->L, n);
}

/* The text inside a plain string literal 'x' or "x" (no prefix, no
 * escapes read), or NULL when n is none. */
static const char *plain_str(const sa_t *s, TSNode n, uint32_t *len)
{
    const char *t;

    if (ts_node_is_null(n) || kind(s, n) != K_STRING)
        return NULL;
    t = text(s, n, len);
    if (*len < 2 || (t[0] != '\'' && t[0] != '"') || t[*len - 1] != t[0])
        return NULL;
    *len -= 2;
    return t + 1;
}

static TSNode field(const sa_t *s, TSNode n, lang_field_t f)
{
    return s->L->field_id[f] != 0 ? ts_node_child_by_field_id(n, s->L->field_id[f]) : (TSNode){0};
}

/* The base b of a class as read: in a stub, `Mapping[K, V]` is Mapping
 * and typing's Generic and Protocol are nothing (a null node). */
static TSNode base_of(const sa_t *s, TSNode b)
{
    TSNode v = b;
    uint32_t len;
    const char *t;

    if (!s->stub)
        return b;
    if (kind(s, v) == K_SUBSCRIPT)
        v = field(s, v, F_VALUE);
    if (ts_node_is_null(v) || (kind(s, v) != K_IDENTIFIER && kind(s, v) != K_ATTRIBUTE))
        return b;
    t = text(s, v, &len);
    return checker_stub_typing_base(t, len) ? (TSNode){0} : v;
}

/* Whether decorated definition p has plain decorators only
 * (checker_plain_class_decorator): a class's members are its body's. */
static bool plain_decorated(const sa_t *s, TSNode p)
{
    for (uint32_t i = 0; i < ts_node_named_child_count(p); i++) {
        TSNode d = ts_node_named_child(p, i), e;
        bool called;
        uint32_t len;
        const char *t;
        if (kind(s, d) != K_DECORATOR)
            continue;
        e = ts_node_named_child(d, 0);
        called = !ts_node_is_null(e) && kind(s, e) == K_CALL;
        if (called)
            e = field(s, e, F_FUNCTION);
        if (ts_node_is_null(e) || (kind(s, e) != K_IDENTIFIER && kind(s, e) != K_ATTRIBUTE))
            return false;
        t = text(s, e, &len);
        if (!checker_plain_class_decorator(t, len, called, s->stub))
            return false;
    }
    return true;
}

static bool same_node(TSNode a, TSNode b)
{
    return !ts_node_is_null(a) && !ts_node_is_null(b) && a.id == b.id;
}

static void push(sa_t *s, TSNode n)
{
    if (s->n_stack == s->cap_stack) {
        size_t cap = s->cap_stack ? s->cap_stack * 2 : 256;
        TSNode *grown =
            arena_realloc(s->a, s->stack, s->cap_stack * sizeof *grown, cap * sizeof *grown);
        if (grown == NULL) {
            s->oom = true;
            return;
        }
        s->stack = grown;
        s->cap_stack = cap;
    }
    s->stack[s->n_stack++] = n;
}

/* Array v (n items of size bytes, room for *cap), with room for one more:
 * v itself, or v grown (doubled; first items when empty) in s's arena.
 * NULL, s->oom set, when the arena is exhausted (v and *cap unchanged). */
static void *room(sa_t *s, void *v, uint32_t n, uint32_t *cap, size_t size, uint32_t first)
{
    uint32_t grow;
    void *grown;

    if (n < *cap)
        return v;
    grow = *cap ? *cap * 2 : first;
    if ((grown = arena_realloc(s->a, v, *cap * size, grow * size)) == NULL) {
        s->oom = true;
        return NULL;
    }
    *cap = grow;
    return grown;
}

static void note_identifier(sa_t *s, TSNode n, lang_kind_t pk, TSFieldId fid, bool top);

/* n's named children, the first on top. Through the one cursor: asking
 * for the i-th child walks the i before it, which made a module of a
 * thousand statements cost a million steps. With noting (scan_module),
 * identifiers are not pushed but noted where they stand (note_identifier:
 * n of kind k, at module level when top), their parent and field at hand. */
static void push_kids(sa_t *s, TSNode n, lang_kind_t k, bool noting, bool top)
{
    size_t base = s->n_stack;

    if (!s->has_cursor) {
        s->cursor = ts_tree_cursor_new(n);
        s->has_cursor = true;
    } else {
        ts_tree_cursor_reset(&s->cursor, n);
    }
    if (!ts_tree_cursor_goto_first_child(&s->cursor))
        return;
    do {
        TSNode c = ts_tree_cursor_current_node(&s->cursor);
        if (!ts_node_is_named(c))
            continue;
        if (noting && kind(s, c) == K_IDENTIFIER)
            note_identifier(s, c, k, ts_tree_cursor_current_field_id(&s->cursor), top);
        else
            push(s, c);
    } while (!s->oom && ts_tree_cursor_goto_next_sibling(&s->cursor));
    for (size_t i = base, j = s->n_stack; i + 1 < j; i++, j--) {
        TSNode t = s->stack[i];
        s->stack[i] = s->stack[j - 1];
        s->stack[j - 1] = t;
    }
}

static void push_children(sa_t *s, TSNode n)
{
    push_kids(s, n, K_OTHER, false, false);
}

static void count_name(sa_t *s, const char *name, uint32_t len)
{
    uint64_t v = 0;
    (void)hmap_get(s->bound, name, len, &v);
    if (hmap_put(s->bound, name, len, v + 1) != ST_OK)
        s->oom = true;
}

/* Adds name to set, counting how many times (a class's members: how many
 * bindings, so that a method bound once is known to be its def). */
static void add_name(sa_t *s, hmap_t *set, const char *name, uint32_t len)
{
    uint64_t v = 0;
    (void)hmap_get(set, name, len, &v);
    if (hmap_put(set, name, len, v + 1) != ST_OK)
        s->oom = true;
}

#define SA_STORE 1u /* a target: assigned, deleted, a loop's or with's */
#define SA_AUG 2u   /* the target of an augmented assignment (read first) */

/* Records the identifiers and attributes statement n (of kind k) writes,
 * through any tuple or list around them, as SA_STORE (SA_AUG for an
 * augmented assignment's): is_store's answer, found from the top down as
 * the walks reach each statement before its parts. */
static void mark_targets(sa_t *s, TSNode n, lang_kind_t k)
{
    size_t base = s->n_stack; /* the walk's stack, above its own entries */
    uint64_t mark = k == K_AUG_ASSIGNMENT ? SA_AUG : SA_STORE;
    TSNode t;

    if (k == K_ASSIGNMENT || k == K_AUG_ASSIGNMENT || k == K_FOR || k == K_FOR_IN_CLAUSE) {
        if (!ts_node_is_null(t = field(s, n, F_LEFT)))
            push(s, t);
    } else if (k == K_NAMED_EXPR) {
        if (!ts_node_is_null(t = field(s, n, F_NAME)))
            push(s, t);
    } else if (k == K_AS_PATTERN_TARGET || k == K_DELETE) {
        push_children(s, n);
    }
    while (s->n_stack > base && !s->oom) {
        t = s->stack[--s->n_stack];
        switch (kind(s, t)) {
        case K_IDENTIFIER:
        case K_ATTRIBUTE:
            if (hmap_put_u64(s->targets, (uint64_t)(uintptr_t)t.id, mark) != ST_OK)
                s->oom = true;
            break;
        case K_TUPLE:
        case K_LIST:
        case K_PATTERN_LIST:
        case K_TUPLE_PATTERN:
        case K_LIST_PATTERN:
        case K_PAREN_EXPR:
        case K_LIST_SPLAT_PATTERN:
        case K_LIST_SPLAT:
        case K_EXPRESSION_LIST:
            push_children(s, t);
            break;
        default:
            break;
        }
    }
    s->n_stack = base;
}

/* What mark_targets recorded for n: SA_STORE, SA_AUG, or 0. */
static uint64_t target_of(const sa_t *s, TSNode n)
{
    uint64_t v = 0;

    (void)hmap_get_u64(s->targets, (uint64_t)(uintptr_t)n.id, &v);
    return v;
}

/* The identifiers a target binds (a name, or names inside tuples and
 * lists): into set, or counted as module bindings (set NULL). */
static void target_names(sa_t *s, TSNode t, hmap_t *set)
{
    size_t base = s->n_stack;

    push(s, t);
    while (s->n_stack > base && !s->oom) {
        TSNode n = s->stack[--s->n_stack];
        lang_kind_t k = kind(s, n);
        if (k == K_IDENTIFIER) {
            uint32_t len;
            const char *name = text(s, n, &len);
            if (set != NULL)
                add_name(s, set, name, len);
            else
                count_name(s, name, len);
        } else if (k == K_TUPLE || k == K_LIST || k == K_PATTERN_LIST || k == K_TUPLE_PATTERN ||
                   k == K_LIST_PATTERN || k == K_PAREN_EXPR || k == K_LIST_SPLAT_PATTERN ||
                   k == K_LIST_SPLAT || k == K_EXPRESSION_LIST) {
            push_children(s, n);
        }
    }
}

/* The names a statement binds where it stands (not inside nested defs),
 * into set (NULL: counted as module bindings). */
static void statement_names(sa_t *s, TSNode n, hmap_t *set)
{
    lang_kind_t k = kind(s, n);
    uint32_t len;
    const char *name;

    if (k == K_FUNCTION_DEF || k == K_CLASS_DEF) {
        TSNode id = field(s, n, F_NAME);
        if (!ts_node_is_null(id)) {
            name = text(s, id, &len);
            if (set != NULL)
                add_name(s, set, name, len);
            else
                count_name(s, name, len);
        }
    } else if (k == K_ASSIGNMENT || k == K_AUG_ASSIGNMENT) {
        target_names(s, field(s, n, F_LEFT), set);
        /* a = b = 1: the right side is another assignment */
        TSNode r = field(s, n, F_RIGHT);
        if (!ts_node_is_null(r) && kind(s, r) == K_ASSIGNMENT)
            statement_names(s, r, set);
    } else if (k == K_FOR) {
        target_names(s, field(s, n, F_LEFT), set);
    } else if (k == K_AS_PATTERN_TARGET) {
        target_names(s, ts_node_named_child(n, 0), set);
    } else if (k == K_IMPORT || k == K_IMPORT_FROM) {
        for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
            TSNode c = ts_node_named_child(n, i);
            if (same_node(c, field(s, n, F_MODULE_NAME)))
                continue;
            TSNode id = kind(s, c) == K_ALIASED_IMPORT ? field(s, c, F_ALIAS) : c;
            if (ts_node_is_null(id))
                continue;
            if (kind(s, id) == K_DOTTED_NAME)
                id = ts_node_named_child(id, 0);
            if (kind(s, id) != K_IDENTIFIER)
                continue;
            name = text(s, id, &len);
            if (set != NULL)
                add_name(s, set, name, len);
            else
                count_name(s, name, len);
        }
    }
}

/* Whether class c is named t[0..len). */
static bool class_is(const sa_class_t *c, const char *t, uint32_t len)
{
    return c->len == len && memcmp(c->name, t, len) == 0;
}

/* ---- pass 1: the module's bindings, classes and attribute stores ---------------------- */

static sa_class_t *add_class(sa_t *s, TSNode n, bool top)
{
    TSNode id = field(s, n, F_NAME);
    sa_class_t *c;

    if (ts_node_is_null(id) ||
        (c = room(s, s->cls, s->n_cls, &s->cap_cls, sizeof *s->cls, 16)) == NULL)
        return NULL;
    s->cls = c;
    c = &s->cls[s->n_cls++];
    memset(c, 0, sizeof *c);
    c->node = n;
    c->top = top;
    c->name = text(s, id, &c->len);
    if ((c->members = hmap_new_arena(s->a, HMAP_BYTES)) == NULL ||
        (c->defs = hmap_new_arena(s->a, HMAP_BYTES)) == NULL)
        s->oom = true;
    return c;
}

/* Whether identifier n, child of p (of kind pk) in field fid (0: none),
 * only reads its name where it stands. Conservative: a place not listed (a
 * parameter, an import, a pattern, a def's name...) counts as a binding. */
static bool plain_load(const sa_t *s, TSNode n, lang_kind_t pk, TSFieldId fid)
{
    const TSFieldId *F = s->L->field_id;

    if (target_of(s, n) != 0)
        return false;
    switch (pk) {
    case K_CALL:
        return fid == F[F_FUNCTION];
    case K_ATTRIBUTE:
        return fid == F[F_OBJECT];
    case K_SUBSCRIPT: /* `d[C]` reads both */
        return fid == F[F_VALUE] || fid == F[F_SUBSCRIPT];
    case K_AUG_ASSIGNMENT: /* the value; the target is a store */
        return fid != F[F_LEFT];
    case K_KEYWORD_ARGUMENT:
    case K_EXCEPT: /* `except E as e`: E its value, e its alias (a store) */
        return fid == F[F_VALUE];
    case K_ASSIGNMENT: /* the value or the annotation; the target is a store */
        return fid != F[F_LEFT];
    case K_NAMED_EXPR:
        return fid == F[F_VALUE];
    case K_LAMBDA:
        return fid == F[F_BODY];
    case K_ARGUMENT_LIST:
    case K_EXPRESSION_STATEMENT:
    case K_RETURN:
    case K_BINARY_OP:
    case K_COMPARISON:
    case K_BOOLEAN_OP:
    case K_NOT_OP:
    case K_UNARY_OP:
    case K_CONDITIONAL_EXPR:
    case K_PAREN_EXPR:
    case K_RAISE:
    case K_ASSERT:
    case K_YIELD:
    case K_AWAIT:
    case K_TYPE:
    case K_GENERIC_TYPE:
    case K_DECORATOR:
    case K_LIST:
    case K_TUPLE:
    case K_SET:
    case K_PAIR:
    case K_EXPRESSION_LIST:
    case K_LIST_SPLAT:
    case K_DICT_SPLAT:
    case K_IF:
    case K_ELIF:
    case K_WHILE:
    case K_IF_CLAUSE:
    case K_FOR:
    case K_FOR_IN_CLAUSE:
    case K_SLICE:
    case K_INTERPOLATION:
        return true; /* (a target among them is a store, above) */
    default:
        return false;
    }
}

static bool name_is(const sa_t *s, TSNode n, const char *want);

/* Whether fn (a call's function) is a builtin that only looks at its
 * arguments. */
static bool reader_fn(const sa_t *s, TSNode fn)
{
    static const char *const readers[] = {"getattr", "hasattr", "isinstance", "issubclass",
                                          "type",    "id",      "repr",       "str",
                                          "len",     "print",   "hash",       "super"};

    for (size_t i = 0; !ts_node_is_null(fn) && i < sizeof readers / sizeof readers[0]; i++)
        if (name_is(s, fn, readers[i]))
            return true;
    /* object.__getattribute__(self, "x") */
    return !ts_node_is_null(fn) && kind(s, fn) == K_ATTRIBUTE &&
           (name_is(s, field(s, fn, F_ATTRIBUTE), "__getattribute__") ||
            name_is(s, field(s, fn, F_ATTRIBUTE), "__getattr__"));
}

/* Whether string node t is a plain literal naming an identifier: its
 * name in *name, *len. */
static bool literal_name(const sa_t *s, TSNode t, const char **name, uint32_t *len)
{
    uint32_t n;
    const char *p;

    if (kind(s, t) != K_STRING)
        return false;
    p = text(s, t, &n);
    if (n < 3 || (p[0] != '\'' && p[0] != '"') || p[n - 1] != p[0])
        return false;
    for (uint32_t i = 1; i + 1 < n; i++)
        if (!(p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (i > 1 && p[i] >= '0' && p[i] <= '9')))
            return false;
    *name = p + 1;
    *len = n - 2;
    return true;
}

/* A call shaped as setattr's, `f(C, "x", ...)` (a name, then a literal
 * naming an identifier), may set that attribute on C (a helper such as
 * `defproperty(Attr, "localName")` calling setattr): noted in s->passed,
 * and when C names a class of the module, the literal's name is stored as
 * if assigned (passed_names). Not for readers' calls (getattr...). */
static void note_passed(sa_t *s, TSNode call)
{
    TSNode args = field(s, call, F_ARGUMENTS), *v;
    uint32_t len;
    const char *t;

    if (ts_node_is_null(args) || kind(s, args) != K_ARGUMENT_LIST ||
        ts_node_named_child_count(args) < 2 || reader_fn(s, field(s, call, F_FUNCTION)) ||
        kind(s, ts_node_named_child(args, 0)) != K_IDENTIFIER ||
        !literal_name(s, ts_node_named_child(args, 1), &t, &len))
        return;
    if ((v = room(s, s->passed, s->n_passed, &s->cap_passed, sizeof *v, 8)) == NULL)
        return;
    s->passed = v;
    s->passed[s->n_passed++] = args;
}

/* The literals of the calls note_passed kept whose first argument names a
 * class of the module: stored names. */
static void passed_names(sa_t *s)
{
    for (uint32_t k = 0; k < s->n_passed; k++) {
        uint32_t len, tlen;
        const char *name = text(s, ts_node_named_child(s->passed[k], 0), &len), *t;
        for (uint32_t i = 0; i < s->n_cls; i++)
            if (class_is(&s->cls[i], name, len) &&
                literal_name(s, ts_node_named_child(s->passed[k], 1), &t, &tlen)) {
                add_name(s, s->stored, t, tlen);
                break;
            }
    }
}

/* Notes what identifier n (child of p, of kind pk, in field fid; p at
 * module level when top) does with its name: nothing to note for a read,
 * an attribute's or a keyword's name, or a module-level class's own name
 * (counted with the module's bindings); anything else binds it. */
static void note_inst_use(sa_t *s, const char *name, uint32_t len, bool binds);

static void note_identifier(sa_t *s, TSNode n, lang_kind_t pk, TSFieldId fid, bool top)
{
    const TSFieldId *F = s->L->field_id;
    uint32_t len;
    const char *name;

    if ((pk == K_ATTRIBUTE && fid == F[F_ATTRIBUTE]) ||
        (pk == K_KEYWORD_ARGUMENT && fid == F[F_NAME]))
        return;
    if (s->walk_is != NULL) {
        name = text(s, n, &len);
        note_inst_use(s, name, len, !plain_load(s, n, pk, fid));
        return;
    }
    if ((pk == K_CLASS_DEF && fid == F[F_NAME] && top) || plain_load(s, n, pk, fid))
        return;
    name = text(s, n, &len);
    add_name(s, s->rebound, name, len);
}

/* Appends x to the node list *v (*n of *cap). */
static void node_push(sa_t *s, TSNode **v, uint32_t *n, uint32_t *cap, TSNode x)
{
    TSNode *grown = room(s, *v, *n, cap, sizeof x, 64);

    if (grown == NULL)
        return;
    *v = grown;
    (*v)[(*n)++] = x;
}

#define SA_TOP 1u       /* the node is at module level (module_level) */
#define SA_DECORATED 2u /* its parent is a decorated definition */
#define SA_GUARD 4u     /* in the body of a try catching AttributeError (instance_reads) */
#define SA_PLAIN 8u /* its parent is a class's decorated definition, plainly (plain_decorated) */

/* Array v (room for *cap items of size bytes), beside the stack: grown to
 * the stack's capacity when the stack outgrew it. NULL, s->oom set, when
 * the arena is exhausted. */
static void *beside_stack(sa_t *s, void *v, size_t *cap, size_t size)
{
    void *grown;

    if (s->n_stack <= *cap)
        return v;
    if ((grown = arena_realloc(s->a, v, *cap * size, s->cap_stack * size)) == NULL) {
        s->oom = true;
        return NULL;
    }
    *cap = s->cap_stack;
    return grown;
}

/* Marks the stack's entries from `from` up with mark. */
static void set_marks(sa_t *s, size_t from, uint8_t mark)
{
    uint8_t *v = beside_stack(s, s->marks, &s->cap_marks, sizeof *v);

    if (v == NULL)
        return;
    s->marks = v;
    for (size_t i = from; i < s->n_stack; i++)
        s->marks[i] = mark;
}

/* Sets the scope of the stack's entries from `from` up. */
static void set_scopes(sa_t *s, size_t from, TSNode scope)
{
    TSNode *v = beside_stack(s, s->scopes, &s->cap_scopes, sizeof *v);

    if (v == NULL)
        return;
    s->scopes = v;
    for (size_t i = from; i < s->n_stack; i++)
        s->scopes[i] = scope;
}

/* Whether a node of kind k opens a scope of its own (module_level's). */
static bool opens_scope(lang_kind_t k)
{
    return k == K_FUNCTION_DEF || k == K_CLASS_DEF || k == K_LAMBDA || k == K_LIST_COMP ||
           k == K_SET_COMP || k == K_DICT_COMP || k == K_GENERATOR_EXP;
}

/* A module-level `from m import *` (n, an import_from): its end, in
 * s->stars and s->last_star. */
static void note_star(sa_t *s, TSNode n)
{
    for (uint32_t i = 0; i < ts_node_named_child_count(n); i++)
        if (kind(s, ts_node_named_child(n, i)) == K_WILDCARD_IMPORT &&
            ts_node_end_byte(n) > s->last_star) {
            uint32_t *v = room(s, s->stars, s->n_stars, &s->cap_stars, sizeof *s->stars, 8);
            if (v != NULL) {
                s->stars = v;
                s->stars[s->n_stars++] = ts_node_end_byte(n);
            }
            s->last_star = ts_node_end_byte(n);
        }
}

/* Every node once: module-level bindings (not inside defs), `global`
 * names (a function may rebind a class), every class, every attribute
 * stored anywhere, every call of a bare name, and every identifier that
 * binds its name (note_identifier). */
static void scan_module(sa_t *s, TSNode root)
{
    /* module level is carried down the stack (marks), not found by
     * walking parents: tree-sitter finds a parent by walking down from
     * the root */
    push_kids(s, root, K_MODULE, true, true);
    set_marks(s, 0, SA_TOP);
    set_scopes(s, 0, (TSNode){0});
    while (s->n_stack > 0 && !s->oom) {
        size_t at = --s->n_stack;
        TSNode n = s->stack[at];
        uint8_t mark = s->marks[at];
        TSNode scope = s->scopes[at];
        bool top = (mark & SA_TOP) != 0;
        lang_kind_t k = kind(s, n);
        if (k == K_CLASS_DEF) {
            /* under a module-level if or try too (`if HAVE_SSL: class
               S(Base)`): bound at module level, read like the others */
            /* a decorator may replace it */
            add_class(s, n, top && (!(mark & SA_DECORATED) || (mark & SA_PLAIN)));
        } else if (k == K_GLOBAL || k == K_NONLOCAL) {
            for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
                uint32_t len;
                const char *name = text(s, ts_node_named_child(n, i), &len);
                count_name(s, name, len);
                count_name(s, name, len); /* rebound elsewhere: never once */
            }
        } else if (k == K_CALL) {
            TSNode fn = field(s, n, F_FUNCTION);
            if (!ts_node_is_null(fn) && kind(s, fn) == K_IDENTIFIER)
                node_push(s, &s->calls, &s->n_calls, &s->cap_calls, n);
            note_passed(s, n);
        } else if (k == K_ASSIGNMENT) {
            /* `x = C(...)`: x may be an instance of a class of the module */
            TSNode l = field(s, n, F_LEFT), r = field(s, n, F_RIGHT), fn;
            if (!ts_node_is_null(l) && kind(s, l) == K_IDENTIFIER && !ts_node_is_null(r) &&
                kind(s, r) == K_CALL && !ts_node_is_null(fn = field(s, r, F_FUNCTION)) &&
                kind(s, fn) == K_IDENTIFIER) {
                node_push(s, &s->assigns, &s->n_assigns, &s->cap_assigns, n);
                node_push(s, &s->assign_scopes, &s->n_assign_scopes, &s->cap_assign_scopes, scope);
            }
        }
        mark_targets(s, n, k);
        if (k == K_ATTRIBUTE && target_of(s, n) == SA_STORE) {
            TSNode a = field(s, n, F_ATTRIBUTE);
            if (!ts_node_is_null(a)) {
                uint32_t len;
                const char *name = text(s, a, &len);
                add_name(s, s->stored, name, len);
            }
        }
        /* module-level statements: those whose chain of parents reaches the
         * module through blocks of if/try/for/while/with only */
        if (k == K_FUNCTION_DEF || k == K_CLASS_DEF || k == K_ASSIGNMENT || k == K_AUG_ASSIGNMENT ||
            k == K_FOR || k == K_IMPORT || k == K_IMPORT_FROM || k == K_AS_PATTERN_TARGET) {
            if (top)
                statement_names(s, n, NULL);
            if (top && k == K_IMPORT)
                statement_names(s, n, s->modules);
            if (top && k == K_IMPORT_FROM)
                note_star(s, n);
        }
        size_t base = s->n_stack;
        uint8_t deco = 0;
        if (k == K_DECORATED_DEF)
            deco = SA_DECORATED |
                   (kind(s, field(s, n, F_DEFINITION)) == K_CLASS_DEF && plain_decorated(s, n)
                        ? SA_PLAIN
                        : 0);
        push_kids(s, n, k, true, top);
        set_marks(s, base, (uint8_t)((top && !opens_scope(k) ? SA_TOP : 0) | deco));
        set_scopes(s, base, opens_scope(k) ? n : scope);
    }
}

/* A stub's module-level statements alone (through if, else and try
 * blocks): their bindings, its classes, imports and star imports. Nothing
 * inside a def or a class statement binds a module-level name. */
static void scan_stub(sa_t *s, TSNode root)
{
    push_kids(s, root, K_MODULE, false, true);
    while (s->n_stack > 0 && !s->oom) {
        TSNode n = s->stack[--s->n_stack], def = n;
        lang_kind_t k = kind(s, n);
        if (k == K_DECORATED_DEF) {
            def = field(s, n, F_DEFINITION);
            if (ts_node_is_null(def))
                continue;
            k = kind(s, def);
        }
        if (k == K_CLASS_DEF)
            add_class(s, def, same_node(def, n) || plain_decorated(s, n));
        if (k == K_CLASS_DEF || k == K_FUNCTION_DEF || k == K_ASSIGNMENT || k == K_AUG_ASSIGNMENT ||
            k == K_IMPORT || k == K_IMPORT_FROM) {
            statement_names(s, def, NULL);
            if (k == K_IMPORT)
                statement_names(s, def, s->modules);
            if (k == K_IMPORT_FROM)
                note_star(s, n);
            continue;
        }
        push_kids(s, n, k, false, true);
    }
}

/* ---- pass 2: a class's body and methods ------------------------------------------------ */

static bool name_is(const sa_t *s, TSNode n, const char *want)
{
    return !ts_node_is_null(n) && kind(s, n) == K_IDENTIFIER && text_is(s, n, want);
}

/* Whether a decorator keeps a function a plain method whose first
 * parameter is the instance (property and its setters, cached_property,
 * abstractmethod, overload, override). */
static bool plain_decorator(const sa_t *s, TSNode dec)
{
    static const char *const ok[] = {"property",
                                     "cached_property",
                                     "functools.cached_property",
                                     "abstractmethod",
                                     "abc.abstractmethod",
                                     "overload",
                                     "typing.overload",
                                     "override",
                                     "typing.override",
                                     "typing_extensions.override"};
    TSNode e = ts_node_named_child(dec, 0);
    uint32_t len;
    const char *t;

    if (ts_node_is_null(e))
        return false;
    t = text(s, e, &len);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (len == strlen(ok[i]) && memcmp(t, ok[i], len) == 0)
            return true;
    /* x.setter, x.getter, x.deleter of a property */
    if (kind(s, e) == K_ATTRIBUTE) {
        TSNode a = field(s, e, F_ATTRIBUTE);
        return name_is(s, a, "setter") || name_is(s, a, "getter") || name_is(s, a, "deleter");
    }
    return false;
}

/* The first parameter of function f when it is a plain name (else null). */
static TSNode first_param(const sa_t *s, TSNode f)
{
    TSNode ps = field(s, f, F_PARAMETERS), p;

    if (ts_node_is_null(ps) || ts_node_named_child_count(ps) == 0)
        return (TSNode){0};
    p = ts_node_named_child(ps, 0);
    if (kind(s, p) == K_TYPED_PARAMETER)
        p = ts_node_named_child(p, 0);
    return kind(s, p) == K_IDENTIFIER ? p : (TSNode){0};
}

/* Whether an except clause catches AttributeError (or Exception,
 * BaseException, or everything). */
static bool catches_attribute_error(sa_t *s, TSNode ex)
{
    uint32_t n = ts_node_named_child_count(ex);
    size_t base = s->n_stack;
    bool any = false, named = false;

    for (uint32_t i = 0; i < n; i++) {
        TSNode c = ts_node_named_child(ex, i);
        if (kind(s, c) == K_BLOCK)
            break;
        named = true;
        push(s, c);
    }
    while (s->n_stack > base) {
        TSNode c = s->stack[--s->n_stack];
        if (kind(s, c) == K_IDENTIFIER &&
            (text_is(s, c, "AttributeError") || text_is(s, c, "Exception") ||
             text_is(s, c, "BaseException")))
            any = true;
        else if (kind(s, c) != K_CALL && kind(s, c) != K_LAMBDA)
            push_children(s, c);
    }
    return any || !named;
}

static bool try_catches(sa_t *s, TSNode n);

/* Whether n is the identifier sname[0..slen). */
static bool is_self(const sa_t *s, TSNode n, const char *sname, uint32_t slen)
{
    uint32_t len;
    const char *t;

    if (kind(s, n) != K_IDENTIFIER)
        return false;
    t = text(s, n, &len);
    return len == slen && memcmp(t, sname, len) == 0;
}

/* Whether `x.__dict__` (attr) is only read where it stands: its items
 * listed or looked up, tested with `in`, unpacked into a call, or given to
 * a builtin that copies it. Anything else (a store, update, setdefault,
 * the dict handed to other code) may add attributes to an instance. */
static bool dict_read(const sa_t *s, TSNode attr)
{
    static const char *const readers[] = {"items", "keys", "values", "get", "copy", "__contains__"};
    static const char *const copiers[] = {"dict",  "list", "sorted", "len", "repr", "str",
                                          "tuple", "set",  "iter",   "any", "all",  "frozenset"};
    TSNode p = ts_node_parent(attr);
    lang_kind_t pk = ts_node_is_null(p) ? K_OTHER : kind(s, p);

    if (pk == K_ATTRIBUTE && same_node(field(s, p, F_OBJECT), attr)) {
        TSNode m = field(s, p, F_ATTRIBUTE);
        for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
            if (!ts_node_is_null(m) && text_is(s, m, readers[i]))
                return true;
        return false;
    }
    if (pk == K_SUBSCRIPT)
        return same_node(field(s, p, F_VALUE), attr) && target_of(s, p) == 0;
    if (pk == K_COMPARISON || pk == K_DICT_SPLAT)
        return true;
    if (pk == K_ARGUMENT_LIST) {
        TSNode call = ts_node_parent(p), fn;
        if (ts_node_is_null(call) || kind(s, call) != K_CALL)
            return false;
        fn = field(s, call, F_FUNCTION);
        for (size_t i = 0; i < sizeof copiers / sizeof copiers[0]; i++)
            if (name_is(s, fn, copiers[i]))
                return true;
    }
    return false;
}

/* Whether args (an argument list) is that of a call of a builtin that
 * only looks at its arguments (getattr, isinstance, repr...). */
static bool reader_call(const sa_t *s, TSNode args)
{
    TSNode call = ts_node_is_null(args) ? args : ts_node_parent(args);
    return reader_fn(s, ts_node_is_null(call) ? call : field(s, call, F_FUNCTION));
}

static bool bound_once(const sa_t *s, const char *name, uint32_t len);

/* Whether n is a name that a module-level `import X [as m]` binds and
 * nothing else does: a module, never an instance. */
static bool module_name(const sa_t *s, TSNode n)
{
    uint32_t len;
    const char *t;

    if (ts_node_is_null(n) || kind(s, n) != K_IDENTIFIER)
        return false;
    t = text(s, n, &len);
    return hmap_get(s->modules, t, len, NULL) == ST_OK && bound_once(s, t, len);
}

/* Whether n is a literal no call can run: None, True, False, a number,
 * a string without interpolation. */
static bool plain_value(const sa_t *s, TSNode n)
{
    lang_kind_t k;

    if (ts_node_is_null(n))
        return false;
    k = kind(s, n);
    if (k == K_NONE || k == K_TRUE || k == K_FALSE || k == K_INTEGER || k == K_FLOAT)
        return true;
    return k == K_STRING && plain_str(s, n, &(uint32_t){0}) != NULL;
}

/* The name a literal second argument of setattr gives (a plain string
 * without escapes), or NULL. */
static const char *attr_literal(const sa_t *s, TSNode a1, uint32_t *len)
{
    const char *t = plain_str(s, a1, len);
    return t == NULL || memchr(t, '\\', *len) != NULL ? NULL : t;
}

/* One method: its stores of self's attributes into c's members; its reads
 * into c's reads when the method is checkable. */
static void scan_method(sa_t *s, sa_class_t *c, TSNode f, bool checkable)
{
    TSNode self = first_param(s, f), body = field(s, f, F_BODY);
    uint32_t slen, slen0, reads0 = c->n_reads;
    uint32_t sets0 = s->self_setattrs, fn0 = s->self_setattrs_fn;
    bool rebound = false;
    const char *sname;
    size_t base = s->n_stack;

    if (ts_node_is_null(self) || ts_node_is_null(body))
        return;
    sname = text(s, self, &slen);
    s->n_guards = 0;
    s->n_tested = 0;
    s->n_dicts = 0;
    s->n_imported = 0;
    push(s, body);
    while (s->n_stack > base && !s->oom) {
        TSNode n = s->stack[--s->n_stack];
        lang_kind_t k = kind(s, n);
        uint32_t len;
        const char *t;

        if (k == K_IDENTIFIER) {
            /* the name first: a parent is dear to find */
            TSNode p = is_self(s, n, sname, slen) ? ts_node_parent(n) : (TSNode){0};
            lang_kind_t pk = ts_node_is_null(p) ? K_OTHER : kind(s, p);
            if (!ts_node_is_null(p) &&
                (target_of(s, n) != 0 || pk == K_PARAMETERS || pk == K_LAMBDA_PARAMETERS ||
                 pk == K_DEFAULT_PARAMETER || pk == K_TYPED_PARAMETER ||
                 pk == K_TYPED_DEFAULT_PARAMETER || pk == K_GLOBAL || pk == K_NONLOCAL ||
                 ((pk == K_FUNCTION_DEF || pk == K_CLASS_DEF) &&
                  same_node(field(s, p, F_NAME), n))))
                rebound = true; /* rebound or shadowed: self may be anything */
            if ((pk == K_ARGUMENT_LIST || pk == K_KEYWORD_ARGUMENT) && !c->escapes &&
                !reader_call(s, pk == K_ARGUMENT_LIST ? p : ts_node_parent(p)))
                c->escapes = true;
            continue;
        }
        if (k == K_CALL) {
            TSNode fn = field(s, n, F_FUNCTION), args = field(s, n, F_ARGUMENTS);
            TSNode a0 = ts_node_is_null(args) ? (TSNode){0} : ts_node_named_child(args, 0);
            bool on_self = !ts_node_is_null(a0) && is_self(s, a0, sname, slen);
            /* exec with namespaces of its own does not see self; one
               without runs in this method's (an eval's expression would
               need a call to set an attribute: loose, below) */
            bool bare = ts_node_is_null(args) || ts_node_named_child_count(args) < 2;
            bool bare_exec = name_is(s, fn, "exec") && bare;
            if (name_is(s, fn, "setattr") || name_is(s, fn, "delattr") || name_is(s, fn, "vars") ||
                bare_exec)
                c->open = c->open || on_self || bare_exec;
            if (name_is(s, fn, "setattr") && on_self &&
                attr_literal(s, ts_node_named_child(args, 1), &slen0) == NULL) {
                s->self_setattrs++; /* (the class is open: its instances too) */
                s->self_setattrs_fn += !plain_value(s, ts_node_named_child(args, 2));
            }
            /* this method's namespace, self in it, handed on (to exec,
               say): attributes may come from there, methods hardly */
            if (name_is(s, fn, "locals") || (name_is(s, fn, "eval") && bare))
                c->loose = true;
            if ((name_is(s, fn, "hasattr") || name_is(s, fn, "getattr")) && on_self) {
                /* a literal name guards its own reads; a computed one
                   makes getattr a read of anything and hasattr a test of
                   anything */
                uint32_t tl;
                TSNode a1 = ts_node_named_child(args, 1);
                if (plain_str(s, a1, &tl) != NULL) {
                    TSNode *grown =
                        room(s, s->tested, s->n_tested, &s->cap_tested, sizeof *s->tested, 4);
                    if (grown == NULL)
                        return;
                    s->tested = grown;
                    s->tested[s->n_tested++] = a1;
                } else if (name_is(s, fn, "hasattr")) {
                    checkable = false;
                }
            }
        } else if (k == K_IMPORT) {
            for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
                TSNode m = ts_node_named_child(n, i);
                TSNode id = kind(s, m) == K_ALIASED_IMPORT ? field(s, m, F_ALIAS) : m;
                if (!ts_node_is_null(id) && kind(s, id) == K_DOTTED_NAME)
                    id = ts_node_named_child(id, 0);
                if (!ts_node_is_null(id) && kind(s, id) == K_IDENTIFIER)
                    node_push(s, &s->imported, &s->n_imported, &s->cap_imported, id);
            }
            continue;
        } else if (k == K_TRY && try_catches(s, n) && !ts_node_is_null(field(s, n, F_BODY))) {
            TSNode *grown = room(s, s->guards, s->n_guards, &s->cap_guards, sizeof *s->guards, 8);
            if (grown == NULL)
                return;
            s->guards = grown;
            s->guards[s->n_guards++] = field(s, n, F_BODY);
        } else if (k == K_ATTRIBUTE) {
            TSNode obj = field(s, n, F_OBJECT), a = field(s, n, F_ATTRIBUTE);
            if (!ts_node_is_null(a) && text_is(s, a, "__dict__") && !dict_read(s, n) &&
                !module_name(s, obj)) {
                if (kind(s, obj) == K_IDENTIFIER) /* a module imported below? */
                    node_push(s, &s->dicts, &s->n_dicts, &s->cap_dicts, obj);
                else
                    c->open = true;
            }
            if (!ts_node_is_null(obj) && !ts_node_is_null(a) && is_self(s, obj, sname, slen)) {
                t = text(s, a, &len);
                if (target_of(s, n) == SA_STORE) {
                    add_name(s, c->members, t, len);
                    if (c->top)
                        add_name(s, s->selfstored, t, len);
                } else {
                    sa_read_t *grown =
                        room(s, c->reads, c->n_reads, &c->cap_reads, sizeof *c->reads, 16);
                    if (grown == NULL)
                        return;
                    c->reads = grown;
                    c->reads[c->n_reads++] = (sa_read_t){.node = n, .name = t, .len = len};
                }
                continue; /* obj is self: nothing below to see */
            }
        }
        push_children(s, n);
    }
    s->n_stack = base;
    /* `x.__dict__` handed on: self's opens the class; a module's, when
       the method imports x, is no instance's; another may be one */
    for (uint32_t d = 0; d < s->n_dicts && !c->open; d++) {
        bool module = false;
        for (uint32_t i = 0; i < s->n_imported && !module; i++)
            module = same_text(s, s->dicts[d], s->imported[i]);
        if (is_self(s, s->dicts[d], sname, slen))
            c->open = true;
        else if (!module)
            c->loose = true;
    }
    if (rebound) {
        c->n_reads = reads0; /* stores counted, reads dropped */
        /* a setattr on a `self` of a nested def or class is not surely
           on this one's: the module's computed setattrs stay dynamic */
        s->self_setattrs = sets0;
        s->self_setattrs_fn = fn0;
    }
    for (uint32_t r = reads0; r < c->n_reads; r++) {
        uint32_t at = ts_node_start_byte(c->reads[r].node);
        c->reads[r].guarded = !checkable;
        for (uint32_t g = 0; g < s->n_guards && !c->reads[r].guarded; g++)
            c->reads[r].guarded =
                at >= ts_node_start_byte(s->guards[g]) && at < ts_node_end_byte(s->guards[g]);
        for (uint32_t g = 0; g < s->n_tested && !c->reads[r].guarded; g++) {
            uint32_t tl;
            const char *tn = plain_str(s, s->tested[g], &tl);
            c->reads[r].guarded = tl == c->reads[r].len && memcmp(tn, c->reads[r].name, tl) == 0;
        }
    }
}

/* __slots__ = a literal tuple or list of strings (or one string): each a
 * member; anything else opens the class. */
static void slots(sa_t *s, sa_class_t *c, TSNode value)
{
    lang_kind_t k = kind(s, value);
    uint32_t n;

    if (k == K_STRING) {
        n = 1;
    } else if (k == K_TUPLE || k == K_LIST || k == K_PAREN_EXPR || k == K_EXPRESSION_LIST) {
        n = ts_node_named_child_count(value);
    } else {
        c->open = true;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        TSNode str = k == K_STRING ? value : ts_node_named_child(value, i);
        uint32_t len;
        const char *t = plain_str(s, str, &len);
        if (t == NULL) {
            c->open = true;
            return;
        }
        add_name(s, c->members, t, len);
    }
}

/* A class body: members bound there, methods, what opens the class. */
/* Records def (undecorated, directly in the class body) as c's method
 * named by id. */
static void add_def(sa_t *s, sa_class_t *c, TSNode id, TSNode def)
{
    uint32_t len, at = s->n_defs;
    const char *name = text(s, id, &len);

    node_push(s, &s->defs, &s->n_defs, &s->cap_defs, def);
    if (!s->oom && hmap_put(c->defs, name, len, at) != ST_OK)
        s->oom = true;
}

/* Whether attribute n is a dotted name: identifiers joined by dots. */
static bool dotted_name(const sa_t *s, TSNode n)
{
    while (kind(s, n) == K_ATTRIBUTE) {
        if (ts_node_is_null(field(s, n, F_ATTRIBUTE)))
            return false;
        n = field(s, n, F_OBJECT);
    }
    return kind(s, n) == K_IDENTIFIER;
}

/* Whether keyword argument k is `metaclass=ABCMeta` (or abc.ABCMeta):
 * abc's metaclass gives instances nothing (its own names are private or
 * dunders, or class methods such as register). */
static bool abc_meta(const sa_t *s, TSNode k)
{
    TSNode v = field(s, k, F_VALUE);

    if (!name_is(s, field(s, k, F_NAME), "metaclass") || ts_node_is_null(v))
        return false;
    return name_is(s, v, "ABCMeta") ||
           (kind(s, v) == K_ATTRIBUTE && name_is(s, field(s, v, F_OBJECT), "abc") &&
            name_is(s, field(s, v, F_ATTRIBUTE), "ABCMeta"));
}

static bool placeholder_body(const sa_t *s, TSNode def);

/* Whether def's body is a placeholder (placeholder_body) that raises
 * NotImplementedError: its class is there to be completed by subclasses. */
static bool raises_not_implemented(const sa_t *s, TSNode def)
{
    TSNode body = field(s, def, F_BODY);
    uint32_t n = ts_node_is_null(body) ? 0 : ts_node_named_child_count(body);

    for (uint32_t i = 0; i < n; i++) {
        TSNode st = ts_node_named_child(body, i);
        uint32_t len;
        const char *t;
        if (kind(s, st) != K_RAISE)
            continue;
        t = text(s, st, &len);
        if (memmem(t, len, "NotImplementedError", 19) != NULL)
            return placeholder_body(s, def);
    }
    return false;
}

static void scan_class(sa_t *s, sa_class_t *c)
{
    TSNode body = field(s, c->node, F_BODY), sup = field(s, c->node, F_SUPERCLASSES);
    size_t base = s->n_stack;

    if (ts_node_is_null(body)) {
        c->open = c->shaky = true;
        return;
    }
    if (!ts_node_is_null(sup))
        for (uint32_t i = 0; i < ts_node_named_child_count(sup); i++) {
            TSNode b = base_of(s, ts_node_named_child(sup, i));
            if (ts_node_is_null(b))
                continue;
            if (kind(s, b) == K_ATTRIBUTE && dotted_name(s, b))
                c->dotted = true;
            else if (kind(s, b) == K_KEYWORD_ARGUMENT && abc_meta(s, b))
                continue;
            else if (kind(s, b) != K_IDENTIFIER)
                c->open = c->shaky = true; /* metaclass=, Generic[T], *bases */
        }
    push(s, body);
    while (s->n_stack > base && !s->oom) {
        TSNode n = s->stack[--s->n_stack];
        lang_kind_t k = kind(s, n);
        TSNode def = n;
        bool checkable = true;

        if (k == K_DECORATED_DEF) {
            def = field(s, n, F_DEFINITION);
            for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
                TSNode d = ts_node_named_child(n, i);
                uint32_t dl;
                const char *dt;
                if (kind(s, d) != K_DECORATOR)
                    continue;
                if (!plain_decorator(s, d))
                    checkable = false;
                dt = text(s, d, &dl);
                if (memmem(dt, dl, "abstractmethod", 14) != NULL)
                    c->abstract = true;
            }
            if (ts_node_is_null(def))
                continue;
            k = kind(s, def);
        }
        if (k == K_FUNCTION_DEF) {
            if (raises_not_implemented(s, def))
                c->abstract = true;
            TSNode id = field(s, def, F_NAME);
            statement_names(s, def, c->members);
            if (same_node(def, n) && same_node(ts_node_parent(def), body) && !ts_node_is_null(id))
                add_def(s, c, id, def);
            if (name_is(s, id, "__getattr__") || name_is(s, id, "__getattribute__"))
                c->open = true;
            if (!s->stub) /* (a stub's bodies are `...`) */
                scan_method(s, c, def, checkable);
            continue;
        }
        if (k == K_CLASS_DEF) {
            statement_names(s, def, c->members);
            continue;
        }
        if (k == K_ASSIGNMENT) {
            TSNode left = field(s, n, F_LEFT);
            if (name_is(s, left, "__slots__")) {
                TSNode v = field(s, n, F_RIGHT);
                if (ts_node_is_null(v))
                    c->open = true;
                else
                    slots(s, c, v);
            }
        }
        if (k == K_ASSIGNMENT || k == K_AUG_ASSIGNMENT || k == K_FOR || k == K_IMPORT ||
            k == K_IMPORT_FROM || k == K_AS_PATTERN_TARGET)
            statement_names(s, n, c->members);
        if (k == K_NAMED_EXPR)
            target_names(s, field(s, n, F_NAME), c->members);
        if (k == K_CALL) {
            TSNode fn = field(s, n, F_FUNCTION);
            if (name_is(s, fn, "locals") || name_is(s, fn, "vars") || name_is(s, fn, "exec") ||
                name_is(s, fn, "setattr"))
                c->open = true;
        }
        if (k == K_LAMBDA || k == K_LIST_COMP || k == K_SET_COMP || k == K_DICT_COMP ||
            k == K_GENERATOR_EXP)
            continue; /* their own scopes: nothing bound in the class */
        push_children(s, n);
    }
    s->n_stack = base;
}

/* ---- pass 3: which classes are known, with their bases ----------------------------- */

static int32_t class_index(const sa_t *s, const char *name, uint32_t len, uint32_t before)
{
    for (uint32_t i = 0; i < before; i++)
        if (s->cls[i].top && class_is(&s->cls[i], name, len))
            return (int32_t)i;
    return -1;
}

/* Whether some class statement of the module (decorated, nested...)
 * binds name. */
static bool class_named(const sa_t *s, const char *name, uint32_t len)
{
    for (uint32_t i = 0; i < s->n_cls; i++)
        if (class_is(&s->cls[i], name, len))
            return true;
    return false;
}

static bool bound_once(const sa_t *s, const char *name, uint32_t len)
{
    uint64_t v = 0;
    return hmap_get(s->bound, name, len, &v) == ST_OK && v == 1;
}

static bool is_mixin(const sa_class_t *c)
{
    for (uint32_t i = 0; i + 5 <= c->len; i++)
        if (strncasecmp(c->name + i, "mixin", 5) == 0)
            return true;
    return false;
}

/* Whether a module-level star import ends in (from, to]: it may have bound
 * any name again in between. */
static bool star_between(const sa_t *s, uint32_t from, uint32_t to)
{
    for (uint32_t k = 0; k < s->n_stars; k++)
        if (s->stars[k] > from && s->stars[k] <= to)
            return true;
    return false;
}

/* Classes in source order: a base is an earlier class, so one pass
 * settles eligibility. A class's own methods see self as an instance of
 * the class statement's class whatever its name is bound to later (the
 * Python fallback of a C accelerator, `from _c import *` at the end): a
 * class known for its own methods needs no sure name; a base named in a
 * class statement does (bound once, no star import in between), and so
 * does a class that calls name (named). */
static void settle(sa_t *s)
{
    for (uint32_t i = 0; i < s->n_cls; i++) {
        sa_class_t *c = &s->cls[i];
        TSNode sup = field(s, c->node, F_SUPERCLASSES);
        uint32_t at = ts_node_start_byte(c->node);
        bool ok = c->top && !c->shaky, ext = c->dotted;
        bool closed = !c->open && !is_mixin(c), callable = closed;

        closed = closed && !c->loose;

        if (ok && !ts_node_is_null(sup)) {
            uint32_t n = ts_node_named_child_count(sup);
            for (uint32_t k = 0; ok && k < n; k++) {
                TSNode b = base_of(s, ts_node_named_child(sup, k));
                uint32_t len;
                const char *t;
                int32_t j;
                if (ts_node_is_null(b))
                    continue;
                t = text(s, b, &len);
                if (len == 6 && memcmp(t, "object", 6) == 0 &&
                    hmap_get(s->bound, t, len, NULL) != ST_OK)
                    continue;
                if (kind(s, b) != K_IDENTIFIER)
                    continue; /* a dotted name: elsewhere's (ext); metaclass=ABCMeta */
                j = class_index(s, t, len, i);
                if (j < 0 && hmap_get(s->bound, t, len, NULL) == ST_OK && !class_named(s, t, len)) {
                    ext = true; /* an import, say: the check job resolves it */
                    continue;
                }
                if (j < 0 || !(s->cls[j].known || s->cls[j].xok) || !bound_once(s, t, len) ||
                    star_between(s, ts_node_start_byte(s->cls[j].node), at) ||
                    c->n_bases == SA_MAX_BASES) {
                    ok = false;
                    continue;
                }
                c->bases[c->n_bases++] = (uint32_t)j;
                ext = ext || s->cls[j].ext;
                closed = closed && (s->cls[j].eligible || s->cls[j].xeligible);
                callable = callable && s->cls[j].callable;
            }
        }
        c->ext = ok && ext;
        c->xok = ok && ext;
        c->single = ts_node_is_null(sup) || ts_node_named_child_count(sup) <= 1;
        c->xeligible = c->xok && closed;
        ok = ok && !ext;
        c->known = ok;
        /* a star import after the class may bind its name again */
        c->named = (c->known || c->xok) && bound_once(s, c->name, c->len) &&
                   !star_between(s, at, UINT32_MAX);
        c->eligible = ok && closed;
        c->callable = ok && callable;
    }
}

/* Whether class d has a (direct or not) base a. */
static bool derives(const sa_t *s, uint32_t d, uint32_t a)
{
    /* bases are earlier classes: a bounded walk, no recursion */
    uint32_t stack[SA_MAX_BASES * 4], n = 0;

    stack[n++] = d;
    for (uint32_t steps = 0; n > 0 && steps < s->n_cls * SA_MAX_BASES; steps++) {
        uint32_t x = stack[--n];
        if (x == a)
            return true;
        for (uint32_t k = 0; k < s->cls[x].n_bases && n < sizeof stack / sizeof stack[0]; k++)
            stack[n++] = s->cls[x].bases[k];
    }
    return false;
}

/* A class some class we cannot see through derives from (a subclass with
 * a base from elsewhere, decorated, nested...) says nothing. */
static void mark_unknown(sa_t *s)
{
    for (uint32_t i = 0; i < s->n_cls; i++) {
        sa_class_t *sub = &s->cls[i];
        TSNode sup = field(s, sub->node, F_SUPERCLASSES);
        if (sub->eligible || ts_node_is_null(sup))
            continue; /* (a known subclass is in the members) */
        for (uint32_t k = 0; k < ts_node_named_child_count(sup); k++) {
            TSNode b = ts_node_named_child(sup, k);
            uint32_t len;
            const char *t = text(s, b, &len);
            for (uint32_t j = 0; j < s->n_cls; j++)
                if (class_is(&s->cls[j], t, len))
                    for (uint32_t m = 0; m < s->n_cls; m++)
                        if ((s->cls[m].known || s->cls[m].xok) && derives(s, j, m)) {
                            s->cls[m].unknown = true;
                            s->cls[m].hidden = s->cls[m].hidden || !(sub->known || sub->xok);
                        }
        }
    }
}

/* Whether name is a member of class i, of one of its bases, or of a class
 * deriving from it. */
static bool has_member(const sa_t *s, uint32_t i, const char *name, uint32_t len)
{
    for (uint32_t j = 0; j < s->n_cls; j++)
        if ((s->cls[j].known || s->cls[j].xok) && (derives(s, i, j) || derives(s, j, i)) &&
            hmap_get(s->cls[j].members, name, len, NULL) == ST_OK)
            return true;
    /* a mixin's host: another base of a class deriving from i (the
       seldom way: names missing along i's line) */
    for (uint32_t j = 0; j < s->n_cls; j++) {
        if (!(s->cls[j].known || s->cls[j].xok) ||
            hmap_get(s->cls[j].members, name, len, NULL) != ST_OK)
            continue;
        for (uint32_t k = 0; k < s->n_cls; k++)
            if (k != i && (s->cls[k].known || s->cls[k].xok) && derives(s, k, i) &&
                derives(s, k, j))
                return true;
    }
    return false;
}

/* Whether some class of the module is named as base b is. */
static bool names_class(const sa_t *s, TSNode b)
{
    uint32_t len;
    const char *t;

    if (kind(s, b) != K_IDENTIFIER)
        return false;
    t = text(s, b, &len);
    for (uint32_t j = 0; j < s->n_cls; j++)
        if (class_is(&s->cls[j], t, len))
            return true;
    return false;
}

/* Whether a class of the module named as base b is, or one of its bases
 * (by name, along every line), has name; or may (open, unreadable). */
static bool base_has(sa_t *s, TSNode b, const char *name, uint32_t len)
{
    size_t base = s->n_stack;
    uint32_t steps = 0;
    bool has = false;

    push(s, b);
    while (s->n_stack > base && !has && !s->oom) {
        TSNode n = s->stack[--s->n_stack];
        uint32_t bl;
        const char *bt = text(s, n, &bl);
        bool found = false;
        if (kind(s, n) == K_KEYWORD_ARGUMENT || text_is(s, n, "object") || text_is(s, n, "abc.ABC"))
            continue; /* (a metaclass but abc's makes its class shaky) */
        if (kind(s, n) != K_IDENTIFIER || ++steps > SA_MAX_BASES * 4) {
            has = true; /* a base we cannot follow */
            continue;
        }
        for (uint32_t j = 0; j < s->n_cls && !has; j++) {
            TSNode sup;
            if (!class_is(&s->cls[j], bt, bl))
                continue;
            found = true;
            has = s->cls[j].open || s->cls[j].shaky ||
                  hmap_get(s->cls[j].members, name, len, NULL) == ST_OK;
            sup = field(s, s->cls[j].node, F_SUPERCLASSES);
            for (uint32_t k = 0;
                 !has && !ts_node_is_null(sup) && k < ts_node_named_child_count(sup); k++)
                push(s, ts_node_named_child(sup, k));
        }
        has = has || !found; /* from elsewhere */
    }
    s->n_stack = base;
    return has;
}

/* Whether a method that class i calls on self and lacks (name) is lacking
 * for the instances of its subclasses too: every class of the module
 * deriving from i by name (nested and decorated ones included) is read
 * whole (closed, no base but the module's classes) and lacks name. A
 * subclass elsewhere is not seen (pylint's and pyright's view too). */
static bool subs_lack(sa_t *s, uint32_t i, const char *name, uint32_t len)
{
    bool *in = arena_alloc(s->a, s->n_cls * sizeof *in), grew = true;

    if (in == NULL) {
        s->oom = true;
        return false;
    }
    memset(in, 0, s->n_cls * sizeof *in);
    in[i] = true;
    while (grew) {
        grew = false;
        for (uint32_t x = 0; x < s->n_cls; x++) {
            TSNode sup = field(s, s->cls[x].node, F_SUPERCLASSES);
            if (in[x] || ts_node_is_null(sup))
                continue;
            for (uint32_t k = 0; k < ts_node_named_child_count(sup) && !in[x]; k++) {
                TSNode b = ts_node_named_child(sup, k);
                uint32_t bl;
                const char *bt;
                if (kind(s, b) != K_IDENTIFIER)
                    continue;
                bt = text(s, b, &bl);
                for (uint32_t j = 0; j < s->n_cls && !in[x]; j++)
                    in[x] = in[j] && class_is(&s->cls[j], bt, bl);
            }
            grew = grew || in[x];
        }
    }
    for (uint32_t x = 0; x < s->n_cls; x++) {
        TSNode sup = field(s, s->cls[x].node, F_SUPERCLASSES);
        if (!in[x] || x == i)
            continue;
        if (s->cls[x].open || s->cls[x].shaky || s->cls[x].dotted ||
            hmap_get(s->cls[x].members, name, len, NULL) == ST_OK)
            return false;
        for (uint32_t k = 0; k < ts_node_named_child_count(sup); k++) {
            TSNode b = ts_node_named_child(sup, k);
            if (!text_is(s, b, "object") && !names_class(s, b))
                return false; /* a base from elsewhere may bring it */
            if (kind(s, b) == K_IDENTIFIER && base_has(s, b, name, len))
                return false; /* a mixin's host brings it */
        }
    }
    return true;
}

/* ---- pass 4: the reports -------------------------------------------------------------- */

#define SA_MAX_DEFS 16 /* defs a call may run: more, and it is not checked */

/* The def of class k's plain method name[0..len) (an undecorated def
 * directly in its body, the name's only binding there), or a null node. */
static TSNode plain_def(const sa_t *s, const sa_class_t *k, const char *name, uint32_t len)
{
    uint64_t v;

    if (hmap_get(k->members, name, len, &v) != ST_OK || v != 1 ||
        hmap_get(k->defs, name, len, &v) != ST_OK || v >= s->n_defs)
        return (TSNode){0};
    return s->defs[v];
}

/* Whether owner, i or one of its bases, surely comes before every class
 * from elsewhere in i's MRO: i's bases are all the module's, or the way
 * from i up to owner is through classes of one base each. */
static bool mro_sure(const sa_t *s, uint32_t i, uint32_t owner)
{
    if (!s->cls[i].ext)
        return true;
    for (uint32_t x = i, steps = 0; x != owner; steps++) {
        if (steps > s->n_cls || !s->cls[x].single || s->cls[x].n_bases != 1)
            return false;
        x = s->cls[x].bases[0];
    }
    return true;
}

/* The defs `self.name(...)` in class i may run into out (at most
 * SA_MAX_DEFS): the one of the class among i and its bases that binds the
 * name and derives from every other that does, then those of the
 * subclasses of i that bind it again; each a plain def. 0 when any
 * binding is something else. */
static uint32_t methods_of(const sa_t *s, uint32_t i, const char *name, uint32_t len, TSNode *out)
{
    uint32_t n = 1;
    int32_t owner = -1;

    for (uint32_t j = 0; j < s->n_cls; j++) {
        const sa_class_t *k = &s->cls[j];
        TSNode def;
        if (!(k->known || k->xok) || hmap_get(k->members, name, len, NULL) != ST_OK ||
            !(j == i || derives(s, j, i) || derives(s, i, j)))
            continue; /* (an unrelated class's binding is none of ours) */
        if (ts_node_is_null(def = plain_def(s, k, name, len)))
            return 0;
        if (j != i && derives(s, j, i)) { /* a subclass runs its own */
            if (n == SA_MAX_DEFS)
                return 0;
            out[n++] = def;
        } else if (j == i || derives(s, i, j)) {
            /* a class comes before its bases in every MRO: the most
               derived binding runs; two unrelated bases binding it, and
               which comes first is C3's to say */
            if (owner >= 0 && !derives(s, j, (uint32_t)owner)) {
                if (derives(s, (uint32_t)owner, j))
                    continue;
                return 0;
            }
            owner = (int32_t)j;
            out[0] = def;
        }
    }
    return owner < 0 || !mro_sure(s, i, (uint32_t)owner) ? 0 : n;
}

/* Whether a method's body only says it is to be overridden (a docstring,
 * pass, ..., raise NotImplementedError): its signature is not the one its
 * callers expect. */
static bool placeholder_body(const sa_t *s, TSNode def)
{
    TSNode body = field(s, def, F_BODY);
    uint32_t n = ts_node_is_null(body) ? 0 : ts_node_named_child_count(body);

    for (uint32_t i = 0; i < n; i++) {
        TSNode st = ts_node_named_child(body, i);
        lang_kind_t k = kind(s, st);
        if (k == K_PASS)
            continue;
        if (k == K_EXPRESSION_STATEMENT && ts_node_named_child_count(st) == 1) {
            lang_kind_t e = kind(s, ts_node_named_child(st, 0));
            if (e == K_STRING || e == K_ELLIPSIS)
                continue;
        }
        if (k == K_RAISE) {
            uint32_t len;
            const char *t = text(s, st, &len);
            if (len >= 25 && memmem(t, len, "NotImplementedError", 19) != NULL)
                continue;
        }
        return false;
    }
    return true;
}

/* The name a parameter binds, or a null node. */
static TSNode param_name(const sa_t *s, TSNode p)
{
    lang_kind_t k = kind(s, p);

    if (k == K_IDENTIFIER)
        return p;
    if (k == K_DEFAULT_PARAMETER || k == K_TYPED_DEFAULT_PARAMETER)
        return field(s, p, F_NAME);
    if (k == K_TYPED_PARAMETER && ts_node_named_child_count(p) > 0) {
        TSNode in = ts_node_named_child(p, 0);
        return kind(s, in) == K_IDENTIFIER ? in : (TSNode){0};
    }
    return (TSNode){0};
}

#define SA_MAX_PARAMS 64

typedef struct {
    TSNode name;
    bool required, posonly, kwonly, bound;
} sa_param_t;

/* What a call makes of one def it may run: no report (code NULL), or
 * pylint's code with the name its message quotes. */
typedef struct {
    const char *code;
    const char *name;
    uint32_t len;
} sa_verdict_t;

/* Checks `self.m(...)` (call) against def, a method it may run: pylint's
 * E1121, E1123 and E1120 for a method call, the first one found into *v.
 * False when it cannot tell: the call unpacks (*a, **k), a parameter is
 * not plain, a keyword names a positional-only parameter. */
static bool call_verdict(const sa_t *s, TSNode call, TSNode def, sa_verdict_t *v)
{
    TSNode ps = field(s, def, F_PARAMETERS), args = field(s, call, F_ARGUMENTS);
    sa_param_t p[SA_MAX_PARAMS];
    uint32_t n = 0, n_pos = 0, n_positional = 0,
             np = ts_node_is_null(ps) ? 0 : ts_node_named_child_count(ps);
    bool varargs = false, varkw = false, kwonly = false, seen_self = false;

    *v = (sa_verdict_t){0};
    if (ts_node_is_null(args) || kind(s, args) != K_ARGUMENT_LIST)
        return false; /* f(x for x in y) and the like */
    for (uint32_t i = 0; i < np; i++) {
        TSNode q = ts_node_named_child(ps, i);
        lang_kind_t k = kind(s, q);
        TSNode inner = k == K_TYPED_PARAMETER && ts_node_named_child_count(q) > 0
                           ? ts_node_named_child(q, 0)
                           : q;
        lang_kind_t ik = kind(s, inner);
        if (k == K_POSITIONAL_SEPARATOR) {
            for (uint32_t j = 0; j < n; j++)
                p[j].posonly = true;
            continue;
        }
        if (k == K_KEYWORD_SEPARATOR) {
            kwonly = true;
            continue;
        }
        if (ik == K_LIST_SPLAT_PATTERN) {
            varargs = kwonly = true;
            continue;
        }
        if (ik == K_DICT_SPLAT_PATTERN) {
            varkw = true;
            continue;
        }
        TSNode nm = param_name(s, q);
        if (ts_node_is_null(nm) || n == SA_MAX_PARAMS)
            return false; /* a parameter we do not know */
        if (!seen_self) {
            seen_self = true; /* self: bound by the call */
            continue;
        }
        p[n] = (sa_param_t){
            .name = nm, .required = k == K_IDENTIFIER || k == K_TYPED_PARAMETER, .kwonly = kwonly};
        n_positional += !kwonly;
        n++;
    }
    if (!seen_self)
        return false;
    uint32_t na = ts_node_named_child_count(args);
    for (uint32_t i = 0; i < na; i++) {
        TSNode a = ts_node_named_child(args, i);
        lang_kind_t k = kind(s, a);
        if (k == K_LIST_SPLAT || k == K_DICT_SPLAT || strstr(ts_node_type(a), "splat") != NULL)
            return false; /* how many: unknown */
    }
    for (uint32_t i = 0; i < na; i++) {
        TSNode a = ts_node_named_child(args, i);
        if (kind(s, a) == K_COMMENT)
            continue; /* a comment between the arguments is none */
        if (kind(s, a) == K_KEYWORD_ARGUMENT) {
            TSNode kn = field(s, a, F_NAME);
            uint32_t klen = 0, plen;
            const char *kt = ts_node_is_null(kn) ? "" : text(s, kn, &klen);
            bool found = false;
            if (ts_node_is_null(kn))
                return false;
            for (uint32_t j = 0; j < n && !found; j++) {
                const char *pt = text(s, p[j].name, &plen);
                if (plen == klen && memcmp(pt, kt, klen) == 0) {
                    if (p[j].posonly)
                        return false; /* pylint's E3102, not one of ours */
                    found = p[j].bound = true;
                }
            }
            if (!found && !varkw) { /* one report per call, as pylint's first */
                *v = (sa_verdict_t){.code = "E1123", .name = kt, .len = klen};
                return true;
            }
            continue;
        }
        if (n_pos < n_positional) {
            uint32_t j = 0;
            for (uint32_t seen = 0; j < n; j++)
                if (!p[j].kwonly && seen++ == n_pos)
                    break;
            if (j < n)
                p[j].bound = true;
        }
        n_pos++;
    }
    if (n_pos > n_positional && !varargs) {
        v->code = "E1121";
        return true;
    }
    for (uint32_t j = 0; j < n; j++) {
        uint32_t plen;
        const char *pt = text(s, p[j].name, &plen);
        if (!p[j].required || p[j].bound || p[j].kwonly)
            continue; /* a missing keyword-only one is pylint's E1125 */
        *v = (sa_verdict_t){.code = "E1120", .name = pt, .len = plen};
        return true;
    }
    return true;
}

/* pylint's report of verdict v for a call at `at` of a method or of a
 * constructor (what: "method" or "constructor"). */
static void add_call_report(sa_t *s, diag_list_t *d, TSPoint at, const sa_verdict_t *v,
                            const char *what)
{
    diag_t *g;

    if (strcmp(v->code, "E1121") == 0)
        g = diag_add(d, at.row + 1, at.column + 1, v->code,
                     "Too many positional arguments for %s call", what);
    else if (strcmp(v->code, "E1123") == 0)
        g = diag_add(d, at.row + 1, at.column + 1, v->code,
                     "Unexpected keyword argument '%.*s' in %s call", (int)v->len, v->name, what);
    else
        g = diag_add(d, at.row + 1, at.column + 1, v->code,
                     "No value for argument '%.*s' in %s call", (int)v->len, v->name, what);
    if (g == NULL)
        s->oom = true;
}

/* `self.m(...)` (call) of class i: reported when every def it may run
 * (methods_of) says the same, none a placeholder. */
static bool same_verdict(const sa_verdict_t *a, const sa_verdict_t *b)
{
    return strcmp(a->code, b->code) == 0 &&
           (a->name == NULL ||
            (b->name != NULL && a->len == b->len && memcmp(a->name, b->name, a->len) == 0));
}

/* What `x.m(...)` (call, m read by e) makes of class i's defs of m
 * (methods_of): true, with the report into *v, when every def it may run
 * rejects it the same way, none a placeholder. */
static bool method_call_verdict(const sa_t *s, uint32_t i, const sa_read_t *e, TSNode call,
                                sa_verdict_t *v)
{
    TSNode defs[SA_MAX_DEFS];
    uint32_t n = methods_of(s, i, e->name, e->len, defs);
    sa_verdict_t w;

    for (uint32_t k = 0; k < n; k++) {
        if (placeholder_body(s, defs[k]) || !call_verdict(s, call, defs[k], &w) || w.code == NULL)
            return false;
        if (k == 0)
            *v = w;
        else if (!same_verdict(v, &w))
            return false;
    }
    return n > 0;
}

/* `self.m(...)` (call) of class i: reported when method_call_verdict says so. */
static void check_call(sa_t *s, uint32_t i, const sa_read_t *e, TSNode call, diag_list_t *d)
{
    sa_verdict_t v;

    if (method_call_verdict(s, i, e, call, &v))
        add_call_report(s, d, ts_node_start_point(call), &v, "method");
}

/* The def `C(...)` runs to make an instance of class i: the __init__ of the
 * first class along its bases that has one, each a known class with one
 * base at most (two: C3's order to follow, not done); a null node when
 * that is not sure: a __new__ on the way, an __init__ that is not a plain
 * def, or none before object (whose signature is not checked). */
static TSNode constructor_def(const sa_t *s, uint32_t i)
{
    for (uint32_t steps = 0; steps < s->n_cls; steps++) {
        const sa_class_t *k = &s->cls[i];
        if (!k->known || hmap_get(k->members, "__new__", 7, NULL) == ST_OK)
            break;
        if (hmap_get(k->members, "__init__", 8, NULL) == ST_OK)
            return plain_def(s, k, "__init__", 8);
        if (k->n_bases != 1)
            break;
        i = k->bases[0];
    }
    return (TSNode){0};
}

/* `C(...)` for every call of a bare name that is a known class of the
 * module, bound by its class statement alone (no identifier anywhere
 * binds the name again: a parameter, a local, an import...: s->rebound,
 * noted by scan_module), checked against the __init__ it runs
 * (constructor_def), as pylint's "... in constructor call". */
/* The index of the known module-level class a call of the bare name
 * name[0..len) surely makes: the class statement is the only binding of
 * the name (no identifier anywhere binds it again: a parameter, a local,
 * an import...: s->rebound, noted by scan_module). -1 when none. */
static int64_t called_class(sa_t *s, const char *name, uint32_t len)
{
    uint64_t v;

    if (s->classes == NULL) { /* the module-level classes by name (class_index's first) */
        if ((s->classes = hmap_new_arena(s->a, HMAP_BYTES)) == NULL) {
            s->oom = true;
            return -1;
        }
        for (uint32_t i = s->n_cls; i > 0; i--)
            if (s->cls[i - 1].top &&
                hmap_put(s->classes, s->cls[i - 1].name, s->cls[i - 1].len, i - 1) != ST_OK)
                s->oom = true;
    }
    if (hmap_get(s->classes, name, len, &v) != ST_OK || !s->cls[v].named ||
        !bound_once(s, name, len) || hmap_get(s->rebound, name, len, NULL) == ST_OK)
        return -1;
    return (int64_t)v;
}

static void defer_call(sa_t *s, TSNode read);

/* Whether class i's __init__ comes from a base in another module: no
 * class of the module on the way (one base each, the last with one base
 * written, from elsewhere) binds __init__ or __new__. The check job
 * then settles `C(...)` against the __init__ its fact has. */
static bool constructor_elsewhere(const sa_t *s, uint32_t i)
{
    for (uint32_t steps = 0; steps < s->n_cls; steps++) {
        const sa_class_t *k = &s->cls[i];
        if (!(k->known || k->xok) || !k->single ||
            hmap_get(k->members, "__new__", 7, NULL) == ST_OK ||
            hmap_get(k->members, "__init__", 8, NULL) == ST_OK)
            return false;
        if (k->n_bases == 0)
            return k->xok;
        i = k->bases[0];
    }
    return false;
}

static void check_constructors(sa_t *s, diag_list_t *d)
{
    if (s->n_calls == 0 || s->n_cls == 0)
        return;
    for (uint32_t k = 0; k < s->n_calls && !s->oom; k++) {
        TSNode call = s->calls[k], def, fn = field(s, call, F_FUNCTION);
        uint32_t len;
        const char *name = text(s, fn, &len);
        int64_t i = called_class(s, name, len);
        sa_verdict_t v;
        if (i < 0)
            continue;
        if (s->sum != NULL && constructor_elsewhere(s, (uint32_t)i)) {
            TSPoint p = ts_node_start_point(call);
            summary_add_selfread(s->sum, ts_node_start_point(s->cls[i].node).row + 1, "__init__", 8,
                                 p.row + 1, p.column);
            summary_selfread_instance(s->sum);
            defer_call(s, fn);
            continue;
        }
        if (ts_node_is_null(def = constructor_def(s, (uint32_t)i)) ||
            !call_verdict(s, call, def, &v) || v.code == NULL)
            continue;
        add_call_report(s, d, ts_node_start_point(call), &v, "constructor");
    }
}

/* Whether read (`self.m`) is the callee of a call (a parent is dear to
 * find: only for reads about to be reported). */
static bool is_callee(const sa_t *s, TSNode read)
{
    TSNode call = ts_node_parent(read);
    return !ts_node_is_null(call) && kind(s, call) == K_CALL &&
           same_node(field(s, call, F_FUNCTION), read);
}

/* When read (`self.m`) is the callee of a call that unpacks nothing, the
 * call's shape goes with the last selfread (a parent is dear to find:
 * only for the reads deferred). */
static void defer_call(sa_t *s, TSNode read)
{
    TSNode call = ts_node_parent(read), args;
    const char *kw[64];
    uint32_t kwl[64], nkw = 0, npos = 0;

    if (ts_node_is_null(call) || kind(s, call) != K_CALL ||
        !same_node(field(s, call, F_FUNCTION), read) ||
        ts_node_is_null(args = field(s, call, F_ARGUMENTS)))
        return;
    if (kind(s, args) != K_ARGUMENT_LIST) { /* f(x for x in y) */
        summary_selfread_call(s->sum, 1, NULL, NULL, 0);
        return;
    }
    for (uint32_t i = 0; i < ts_node_named_child_count(args); i++) {
        TSNode a = ts_node_named_child(args, i);
        lang_kind_t k = kind(s, a);
        if (k == K_COMMENT)
            continue;
        if (k == K_LIST_SPLAT || k == K_DICT_SPLAT || strstr(ts_node_type(a), "splat") != NULL)
            return; /* how many: unknown */
        if (k == K_KEYWORD_ARGUMENT) {
            TSNode kn = field(s, a, F_NAME);
            if (ts_node_is_null(kn) || nkw == sizeof kw / sizeof kw[0])
                return;
            kw[nkw] = text(s, kn, &kwl[nkw]);
            nkw++;
        } else {
            npos++;
        }
    }
    summary_selfread_call(s->sum, npos, kw, kwl, nkw);
}

/* The reads of class i, whose bases leave the module, that nothing in
 * the module gives: the check job reports them when the bases from
 * elsewhere lack them too (summary "selfreads"). */
static void defer_reads(sa_t *s, uint32_t i)
{
    const sa_class_t *c = &s->cls[i];
    uint32_t cline = ts_node_start_point(c->node).row + 1;

    if (s->sum == NULL || !c->xeligible)
        return;
    for (uint32_t r = 0; r < c->n_reads; r++) {
        const sa_read_t *e = &c->reads[r];
        TSPoint p = ts_node_start_point(e->node);
        if (e->guarded || (e->len >= 2 && e->name[0] == '_' && e->name[1] == '_') ||
            hmap_get(s->stored, e->name, e->len, NULL) == ST_OK ||
            has_member(s, i, e->name, e->len) ||
            ((c->abstract || c->unknown) && !is_callee(s, e->node)) ||
            (c->unknown && !subs_lack(s, i, e->name, e->len)))
            continue;
        summary_add_selfread(s->sum, cline, e->name, e->len, p.row + 1, p.column);
        if (!c->hidden) /* (a subclass we cannot see through may override it) */
            defer_call(s, e->node);
    }
}

typedef struct {
    const char *s;
    uint32_t len;
} sa_name_t;

static int name_cmp(const void *pa, const void *pb)
{
    const sa_name_t *a = pa, *b = pb;
    int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* What the check job needs to know of the module's classes as bases of
 * classes elsewhere: for each class read through (known or xok), its
 * members, with the names the module stores on anything but a method's
 * first parameter (`obj.x = 1` may be `C.x = 1`; setattr(o, "x", v)),
 * sorted (the same file gives the same summary), and whether something
 * may add members (SUM_CLASS_OPEN). */
static void export_classes(sa_t *s)
{
    sa_name_t *foreign = NULL, *v;
    const char **names;
    uint32_t *lens, n_foreign = 0, cap = 0;
    hmap_iter_t it = HMAP_ITER_INIT;

    if (s->sum == NULL || s->n_cls == 0)
        return;
    /* a name stored more often than through self (each walk counts each
       store once) */
    while (hmap_next(s->stored, &it)) {
        uint64_t own = 0;
        (void)hmap_get(s->selfstored, it.key.ptr, it.key.len, &own);
        if (it.val <= own)
            continue;
        if ((v = room(s, foreign, n_foreign, &cap, sizeof *foreign, 16)) == NULL)
            return;
        foreign = v;
        foreign[n_foreign++] = (sa_name_t){(const char *)it.key.ptr, (uint32_t)it.key.len};
    }
    for (uint32_t i = 0; i < s->n_cls && !s->oom; i++) {
        const sa_class_t *c = &s->cls[i];
        size_t want = n_foreign + hmap_count(c->members);
        uint32_t n = 0;
        int32_t k;
        if (!(c->known || c->xok) ||
            (k = summary_find_class(s->sum, c->name, c->len,
                                    ts_node_start_point(c->node).row + 1)) < 0)
            continue;
        v = arena_alloc(s->a, (want ? want : 1) * sizeof *v);
        names = arena_alloc(s->a, (want ? want : 1) * sizeof *names);
        lens = arena_alloc(s->a, (want ? want : 1) * sizeof *lens);
        if (v == NULL || names == NULL || lens == NULL) {
            s->oom = true;
            return;
        }
        it = (hmap_iter_t)HMAP_ITER_INIT;
        while (hmap_next(c->members, &it) && n < want)
            v[n++] = (sa_name_t){(const char *)it.key.ptr, (uint32_t)it.key.len};
        for (uint32_t f = 0; f < n_foreign && n < want; f++)
            if (hmap_get(c->members, foreign[f].s, foreign[f].len, NULL) != ST_OK)
                v[n++] = foreign[f];
        qsort(v, n, sizeof *v, name_cmp);
        for (uint32_t j = 0; j < n; j++) {
            names[j] = v[j].s;
            lens[j] = v[j].len;
        }
        summary_class_seen(s->sum, k, c->open || c->loose || is_mixin(c) || s->dynamic_setattr,
                           names, lens, n);
        /* its plain methods, whose signatures are theirs */
        n = 0;
        it = (hmap_iter_t)HMAP_ITER_INIT;
        while (hmap_next(c->defs, &it) && n < want) {
            TSNode def = plain_def(s, c, (const char *)it.key.ptr, (uint32_t)it.key.len);
            if (!ts_node_is_null(def) && !placeholder_body(s, def))
                v[n++] = (sa_name_t){(const char *)it.key.ptr, (uint32_t)it.key.len};
        }
        qsort(v, n, sizeof *v, name_cmp);
        for (uint32_t j = 0; j < n; j++) {
            names[j] = v[j].s;
            lens[j] = v[j].len;
        }
        summary_class_plain(s->sum, k, names, lens, n);
    }
}

static void report(sa_t *s, diag_list_t *d)
{
    for (uint32_t i = 0; i < s->n_cls && !s->oom; i++) {
        sa_class_t *c = &s->cls[i];
        if (c->xok)
            defer_reads(s, i); /* the check job settles what no local class has */
        if (!(c->known || c->xok))
            continue;
        for (uint32_t r = 0; r < c->n_reads && !s->oom; r++) {
            const sa_read_t *e = &c->reads[r];
            TSPoint p = ts_node_start_point(e->node);
            if ((e->len >= 2 && e->name[0] == '_' && e->name[1] == '_') ||
                hmap_get(s->stored, e->name, e->len, NULL) == ST_OK)
                continue;
            if (has_member(s, i, e->name, e->len)) {
                TSNode call = ts_node_parent(e->node);
                /* (a subclass we cannot see through may override it) */
                if (!c->hidden && !ts_node_is_null(call) && kind(s, call) == K_CALL &&
                    same_node(field(s, call, F_FUNCTION), e->node))
                    check_call(s, i, e, call, d);
                continue;
            }
            if (e->guarded || !(c->eligible || (c->callable && is_callee(s, e->node))))
                continue; /* (an xok class is never eligible) */
            /* an attribute may be a subclass's to set; a method it calls
               must be somewhere along the way of some instance */
            if ((c->unknown || c->abstract) &&
                (!is_callee(s, e->node) || (c->unknown && !subs_lack(s, i, e->name, e->len))))
                continue;
            if (diag_add(d, p.row + 1, p.column + 1, "E1101",
                         "Instance of '%.*s' has no '%.*s' member", (int)c->len, c->name,
                         (int)e->len, e->name) == NULL)
                s->oom = true;
        }
    }
}

/* ---- pass 5: instances made by constructor calls ---------------------------------- */

/* A name every binding of which, in its scope, is `x = C(...)`: x is an
 * instance of exactly one of those classes (theirs and their bases bind no
 * __new__, none has a metaclass), its type set, wherever it is read within
 * that scope: the function it is in (nested scopes included: they read it
 * through their closure), or the whole module. A binding `x = f(...)` of
 * anything else puts TYPESET_UNKNOWN in the set. */
typedef struct {
    const char *name;
    uint32_t len;
    typeset_t types; /* the classes (typeset_class_id of their index) */
    uint32_t ctors;  /* the `x = f(...)` assignments binding it in scope */
    uint32_t binds;  /* identifiers binding the name in the scope (instance_reads) */
    bool escapes;    /* read otherwise than `x.a`: other code may set its attributes */
    TSNode scope;    /* its function, or the module */
    bool off;        /* hasattr/isinstance/setattr... on it, its __dict__ or __class__ written */
} sa_inst_t;

typedef struct {
    TSNode node; /* the attribute `x.a` */
    TSNode call; /* the call `x.a(...)` it is the callee of, or a null node */
    uint32_t inst;
    bool guarded; /* in a try that catches AttributeError */
} sa_iread_t;

struct sa_insts {
    sa_inst_t *v;
    uint32_t n, cap;
    hmap_t *by_name; /* inst_key -> index in v */
    hmap_t *names;   /* the names of v */
    sa_iread_t *reads;
    uint32_t n_reads, cap_reads;
    /* setattr with a name that is not a literal: an instance other code
       may see (it escapes, or its class passes self to a call) may have
       any attribute */
    bool dynamic_setattr;
    bool dynamic_fn; /* sa_t's */
};

#define SA_MAX_INST_NAME 200 /* a longer name is not followed */

/* The key of name[0..len) in scope: the scope's node id, then the name;
 * its length, 0 when the name is too long. */
static size_t inst_key(TSNode scope, const char *name, uint32_t len,
                       char key[sizeof(uintptr_t) + SA_MAX_INST_NAME])
{
    uintptr_t id = (uintptr_t)scope.id;

    if (len > SA_MAX_INST_NAME)
        return 0;
    memcpy(key, &id, sizeof id);
    memcpy(key + sizeof id, name, len);
    return sizeof id + len;
}

/* Whether class i or one of its bases binds name[0..len). */
static bool mro_has(const sa_t *s, uint32_t i, const char *name, uint32_t len)
{
    for (uint32_t j = 0; j < s->n_cls; j++)
        if ((s->cls[j].known || s->cls[j].xok) && (j == i || derives(s, i, j)) &&
            hmap_get(s->cls[j].members, name, len, NULL) == ST_OK)
            return true;
    return false;
}

/* The scope assignment k of s->assigns binds its name in: its function,
 * or the module (root). A null node in a class body (a class attribute). */
static TSNode binding_scope(const sa_t *s, uint32_t k, TSNode root)
{
    TSNode scope = k < s->n_assign_scopes ? s->assign_scopes[k] : (TSNode){0};

    if (ts_node_is_null(scope))
        return root;
    return kind(s, scope) == K_FUNCTION_DEF ? scope : (TSNode){0};
}

/* Whether the module may bind its names in ways no identifier shows: a
 * star import, or globals(), vars(), locals() or exec called anywhere. */
static bool module_dynamic(const sa_t *s)
{
    if (s->last_star != 0)
        return true;
    for (uint32_t k = 0; k < s->n_calls; k++) {
        TSNode fn = field(s, s->calls[k], F_FUNCTION);
        if (name_is(s, fn, "globals") || name_is(s, fn, "vars") || name_is(s, fn, "locals") ||
            name_is(s, fn, "exec"))
            return true;
    }
    return false;
}

/* The names setattr(o, "name", v) stores (into s->stored); true when a
 * call of setattr names its attribute otherwise (any name may be set) on
 * something but a method's first parameter. */
static bool setattr_names(sa_t *s)
{
    uint32_t computed = 0, computed_fn = 0;

    for (uint32_t k = 0; k < s->n_calls && !s->oom; k++) {
        TSNode call = s->calls[k], args = field(s, call, F_ARGUMENTS);
        uint32_t len;
        const char *t;
        if (!name_is(s, field(s, call, F_FUNCTION), "setattr"))
            continue;
        t = attr_literal(s, ts_node_is_null(args) ? args : ts_node_named_child(args, 1), &len);
        if (t != NULL) {
            add_name(s, s->stored, t, len);
            continue;
        }
        computed++;
        computed_fn += !plain_value(s, ts_node_named_child(args, 2));
    }
    /* setattr(self, computed) opens its class (scan_method): no other */
    s->dynamic_fn = computed_fn > s->self_setattrs_fn;
    return computed > s->self_setattrs;
}

/* Whether `C(...)` (call) surely makes an instance of exactly the class
 * *cls of the module, all of whose members are seen (or all its methods:
 * callable). */
static bool fresh_instance(sa_t *s, TSNode call, uint32_t *cls)
{
    uint32_t clen;
    const char *cname = text(s, field(s, call, F_FUNCTION), &clen);
    int64_t i = called_class(s, cname, clen);

    if (i < 0 || !(s->cls[i].eligible || s->cls[i].xeligible || s->cls[i].callable))
        return false;
    for (uint32_t j = 0; j < s->n_cls; j++)
        if ((s->cls[j].known || s->cls[j].xok) &&
            (j == (uint32_t)i || derives(s, (uint32_t)i, j)) &&
            hmap_get(s->cls[j].members, "__new__", 7, NULL) == ST_OK)
            return false;
    *cls = (uint32_t)i;
    return true;
}

/* The entry of name[0..len) in scope, made when make; -1 when none. */
static int64_t inst_entry(sa_t *s, sa_insts_t *is, TSNode scope, const char *name, uint32_t len,
                          bool make)
{
    char key[sizeof(uintptr_t) + SA_MAX_INST_NAME];
    size_t klen = inst_key(scope, name, len, key);
    sa_inst_t *grown;
    uint64_t v;

    if (klen == 0)
        return -1;
    if (hmap_get(is->by_name, key, klen, &v) == ST_OK)
        return (int64_t)v;
    if (!make || (grown = room(s, is->v, is->n, &is->cap, sizeof *is->v, 16)) == NULL)
        return -1;
    is->v = grown;
    is->v[is->n] = (sa_inst_t){.name = name, .len = len, .scope = scope};
    typeset_init(&is->v[is->n].types);
    if (hmap_put(is->by_name, key, klen, is->n) != ST_OK ||
        hmap_put(is->names, name, len, 1) != ST_OK)
        s->oom = true;
    return (int64_t)is->n++;
}

/* The instances the module's `x = f(...)` assignments make, into is: the
 * names bound by a constructor call of a fresh class (fresh_instance),
 * then every other such binding of those names adds TYPESET_UNKNOWN. */
static void find_instances(sa_t *s, TSNode root, sa_insts_t *is)
{
    int dyn = -1; /* module_dynamic, asked once when needed */

    for (int pass = 0; pass < 2 && !s->oom; pass++) {
        for (uint32_t k = 0; k < s->n_assigns && !s->oom; k++) {
            TSNode a = s->assigns[k], scope;
            uint32_t len, cls = 0;
            const char *name = text(s, field(s, a, F_LEFT), &len);
            bool fresh = fresh_instance(s, field(s, a, F_RIGHT), &cls);
            int64_t e;

            if (fresh != (pass == 0) ||
                (pass == 1 && hmap_get(is->names, name, len, NULL) != ST_OK))
                continue;
            if (ts_node_is_null(scope = binding_scope(s, k, root)))
                continue;
            if (pass == 0 && same_node(scope, root)) {
                /* a function may read the builtin of that name before the
                   binding runs */
                if (checker_is_builtin(name, len))
                    continue;
                if (dyn < 0)
                    dyn = module_dynamic(s);
                if (dyn)
                    continue;
            }
            if ((e = inst_entry(s, is, scope, name, len, pass == 0)) < 0)
                continue;
            is->v[e].ctors++;
            if (typeset_add(&is->v[e].types, fresh ? typeset_class_id(cls) : TYPESET_UNKNOWN,
                            s->a) != ST_OK)
                s->oom = true;
        }
    }
}

/* The instance of scope that identifier n names where it stands, or -1. */
static int64_t inst_of(const sa_t *s, const sa_insts_t *is, TSNode scope, TSNode n)
{
    uint64_t v;
    uint32_t len;
    const char *t;

    char key[sizeof(uintptr_t) + SA_MAX_INST_NAME];
    size_t klen;

    if (ts_node_is_null(n) || kind(s, n) != K_IDENTIFIER)
        return -1;
    t = text(s, n, &len);
    if ((klen = inst_key(scope, t, len, key)) == 0 || hmap_get(is->by_name, key, klen, &v) != ST_OK)
        return -1;
    return (int64_t)v;
}

/* An identifier of the scope instance_reads walks binds name[0..len), or
 * reads it where it stands (not as `x.a`: those it takes itself): for an
 * instance's name, a binding counted, or a use that lets it escape
 * (note_identifier). */
static void note_inst_use(sa_t *s, const char *name, uint32_t len, bool binds)
{
    char key[sizeof(uintptr_t) + SA_MAX_INST_NAME];
    size_t klen = inst_key(s->walk_scope, name, len, key);
    uint64_t v;

    if (klen == 0 || hmap_get(s->walk_is->by_name, key, klen, &v) != ST_OK)
        return;
    if (binds)
        s->walk_is->v[v].binds++;
    else
        s->walk_is->v[v].escapes = true;
}

/* Whether try statement n has a handler that catches AttributeError. */
static bool try_catches(sa_t *s, TSNode n)
{
    for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
        TSNode c = ts_node_named_child(n, i);
        lang_kind_t k = kind(s, c);
        if ((k == K_EXCEPT || k == K_EXCEPT_GROUP) && catches_attribute_error(s, c))
            return true;
    }
    return false;
}

/* Attribute n (`x.a`, callee of call or not) of instance x: a read, or
 * what makes x unknown (its __class__ assigned, its __dict__ written). */
static void inst_attr(sa_t *s, sa_insts_t *is, uint32_t x, TSNode n, TSNode call, uint8_t mark)
{
    TSNode a = field(s, n, F_ATTRIBUTE);
    sa_iread_t *grown;

    if (ts_node_is_null(a))
        return;
    if (text_is(s, a, "__class__") && target_of(s, n) == SA_STORE) {
        is->v[x].off = true;
        return;
    }
    if (text_is(s, a, "__dict__") && !dict_read(s, n)) {
        is->v[x].off = true;
        return;
    }
    if (target_of(s, n) == SA_STORE ||
        (grown = room(s, is->reads, is->n_reads, &is->cap_reads, sizeof *is->reads, 16)) == NULL)
        return;
    is->reads = grown;
    is->reads[is->n_reads++] =
        (sa_iread_t){.node = n, .call = call, .inst = x, .guarded = (mark & SA_GUARD) != 0};
}

/* The reads `x.a` of the instances bound in scope (a node), and what
 * makes an instance unknown: hasattr, getattr, setattr, delattr,
 * isinstance or vars on it, its __class__ assigned, its __dict__ used
 * otherwise than read. */
static void instance_reads(sa_t *s, TSNode scope, sa_insts_t *is)
{
    static const char *const guards[] = {"hasattr", "getattr",    "setattr",
                                         "delattr", "isinstance", "vars"};

    s->walk_is = is;
    s->walk_scope = scope;
    push(s, scope);
    set_marks(s, 0, 0);
    while (s->n_stack > 0 && !s->oom) {
        size_t at = --s->n_stack, base;
        TSNode n = s->stack[at];
        uint8_t mark = s->marks[at];
        lang_kind_t k = kind(s, n);
        int64_t x;

        if (k == K_ATTRIBUTE && (x = inst_of(s, is, scope, field(s, n, F_OBJECT))) >= 0) {
            inst_attr(s, is, (uint32_t)x, n, (TSNode){0}, mark);
            continue;
        }
        if (k == K_CALL) {
            TSNode fn = field(s, n, F_FUNCTION), args = field(s, n, F_ARGUMENTS);
            TSNode a0 = ts_node_is_null(args) ? (TSNode){0} : ts_node_named_child(args, 0);
            for (size_t g = 0; g < sizeof guards / sizeof guards[0]; g++)
                if (name_is(s, fn, guards[g]) && (x = inst_of(s, is, scope, a0)) >= 0)
                    is->v[x].off = true;
            /* `x.m(...)`: the read knows its call (a parent is dear to find) */
            if (!ts_node_is_null(fn) && kind(s, fn) == K_ATTRIBUTE && !ts_node_is_null(args) &&
                (x = inst_of(s, is, scope, field(s, fn, F_OBJECT))) >= 0) {
                inst_attr(s, is, (uint32_t)x, fn, n, mark);
                base = s->n_stack;
                push(s, args);
                set_marks(s, base, mark);
                continue;
            }
        }
        base = s->n_stack;
        push_kids(s, n, k, true, false); /* identifiers counted where they bind */
        set_marks(s, base, mark);
        if (k == K_TRY && try_catches(s, n)) { /* its body, not its handlers */
            TSNode body = field(s, n, F_BODY);
            for (size_t e = base; e < s->n_stack && !ts_node_is_null(body); e++)
                if (same_node(s->stack[e], body))
                    s->marks[e] |= SA_GUARD;
        }
    }
    s->n_stack = 0;
    s->walk_is = NULL;
}

/* Whether a method of class i or of a base passes self to a call. */
static bool escapes(const sa_t *s, uint32_t i)
{
    for (uint32_t j = 0; j < s->n_cls; j++)
        if ((s->cls[j].known || s->cls[j].xok) && (j == i || derives(s, i, j)) && s->cls[j].escapes)
            return true;
    return false;
}

/* Whether every binding of instance x is known: each a constructor call
 * of a fresh class (at module level, no identifier elsewhere binds the
 * name either). */
static bool inst_known(const sa_t *s, const sa_inst_t *x, TSNode root)
{
    uint64_t v = 0;

    if (x->off || x->binds != x->ctors || typeset_contains(&x->types, TYPESET_UNKNOWN))
        return false;
    return !same_node(x->scope, root) ||
           (hmap_get(s->rebound, x->name, x->len, &v) == ST_OK && v == x->ctors);
}

/* One read `x.a` of an instance: E1101 when no class of its type set has
 * a (naming the first), else a call `x.a(...)` checked against each
 * class's defs, reported when all reject it the same way. */
static void check_instance_read(sa_t *s, const sa_insts_t *is, const sa_iread_t *e, TSNode root,
                                diag_list_t *d)
{
    const sa_inst_t *x = &is->v[e->inst];
    TSNode call = e->call;
    sa_read_t rd = {.node = e->node};
    TSPoint p = ts_node_start_point(e->node);
    sa_verdict_t first = {0}, v;
    typeset_iter_t it;
    uint32_t id, n = 0, owners = 0, named = UINT32_MAX;
    bool escaped = x->escapes, agree = true;

    rd.name = text(s, field(s, e->node, F_ATTRIBUTE), &rd.len);
    if (!inst_known(s, x, root) || (rd.len >= 2 && rd.name[0] == '_' && rd.name[1] == '_') ||
        hmap_get(s->stored, rd.name, rd.len, NULL) == ST_OK)
        return;
    bool is_call = !ts_node_is_null(call);
    for (typeset_iterate(&x->types, &it); typeset_next(&it, &id); n++) {
        uint32_t c = id - TYPESET_FIRST_CLASS;
        if (named == UINT32_MAX)
            named = c;
        escaped = escaped || escapes(s, c);
        if (!mro_has(s, c, rd.name, rd.len))
            continue;
        owners++;
        if (!is_call || !agree)
            continue;
        if (!method_call_verdict(s, c, &rd, call, &v))
            agree = false;
        else if (owners == 1)
            first = v;
        else
            agree = same_verdict(&first, &v);
    }
    if (owners > 0) {
        /* every class has it: the call, when all say the same */
        if (is_call && agree && owners == n)
            add_call_report(s, d, ts_node_start_point(call), &first, "method");
        return;
    }
    /* a computed setattr on something it may be: any attribute, and a
       method unless every value set is a plain literal */
    if (n == 0 || e->guarded || (escaped && (is_call ? is->dynamic_fn : is->dynamic_setattr)))
        return;
    if (s->cls[named].xok) {
        /* its bases from elsewhere may have it: the check job says, for
           an instance of that class alone (no __new__ along its bases) */
        if (n == 1 && s->sum != NULL) {
            summary_add_selfread(s->sum, ts_node_start_point(s->cls[named].node).row + 1, rd.name,
                                 rd.len, p.row + 1, p.column);
            summary_selfread_instance(s->sum);
            defer_call(s, e->node);
        }
        return;
    }
    for (typeset_iterate(&x->types, &it); typeset_next(&it, &id);)
        if (s->cls[id - TYPESET_FIRST_CLASS].xok ||
            (!s->cls[id - TYPESET_FIRST_CLASS].eligible && !is_call))
            return; /* the check job would have to say; attributes may
                       come from a __dict__ handed on (loose) */
    if (diag_add(d, p.row + 1, p.column + 1, "E1101", "Instance of '%.*s' has no '%.*s' member",
                 (int)s->cls[named].len, s->cls[named].name, (int)rd.len, rd.name) == NULL)
        s->oom = true;
}

/* E1101 and the call checks for reads of instances (pass 5). */
static void check_instances(sa_t *s, TSNode root, diag_list_t *d)
{
    sa_insts_t is = {0};
    hmap_t *walked;

    if (s->n_assigns == 0 || s->n_cls == 0)
        return;
    if ((is.by_name = hmap_new_arena(s->a, HMAP_BYTES)) == NULL ||
        (is.names = hmap_new_arena(s->a, HMAP_BYTES)) == NULL) {
        s->oom = true;
        return;
    }
    find_instances(s, root, &is);
    if (is.n == 0 || s->oom)
        return;
    is.dynamic_setattr = s->dynamic_setattr;
    is.dynamic_fn = s->dynamic_fn;
    /* each scope once, for the instances bound there */
    if ((walked = hmap_new_arena(s->a, HMAP_U64)) == NULL) {
        s->oom = true;
        return;
    }
    for (uint32_t k = 0; k < is.n && !s->oom; k++) {
        uint64_t id = (uint64_t)(uintptr_t)is.v[k].scope.id;
        if (hmap_get_u64(walked, id, NULL) == ST_OK)
            continue;
        if (hmap_put_u64(walked, id, 1) != ST_OK)
            s->oom = true;
        instance_reads(s, is.v[k].scope, &is);
    }
    for (uint32_t r = 0; r < is.n_reads && !s->oom; r++)
        check_instance_read(s, &is, &is.reads[r], root, d);
}

st_rc_t selfattr_check(const lang_t *L, TSNode root, const char *src, bool stub, arena_t *a,
                       diag_list_t *d, summary_t *sum)
{
    sa_t s = {.L = L, .src = src, .a = a, .sum = sum, .stub = stub};

    if (stub && sum == NULL)
        return ST_OK; /* a stub's classes are for the check job alone */

    if ((s.bound = hmap_new_arena(a, HMAP_BYTES)) == NULL ||
        (s.stored = hmap_new_arena(a, HMAP_BYTES)) == NULL ||
        (s.selfstored = hmap_new_arena(a, HMAP_BYTES)) == NULL ||
        (s.rebound = hmap_new_arena(a, HMAP_BYTES)) == NULL ||
        (s.modules = hmap_new_arena(a, HMAP_BYTES)) == NULL ||
        (s.targets = hmap_new_arena(a, HMAP_U64)) == NULL)
        return ST_ENOMEM;
    if (stub)
        scan_stub(&s, root);
    else
        scan_module(&s, root);
    /* every class: nested and decorated ones are only read as
       subclasses (subs_lack, base_has) */
    for (uint32_t i = 0; i < s.n_cls && !s.oom; i++)
        scan_class(&s, &s.cls[i]);
    if (!s.oom) {
        settle(&s);
        mark_unknown(&s);
        s.dynamic_setattr = setattr_names(&s);
        passed_names(&s);
        if (!stub)
            report(&s, d);
        export_classes(&s);
        if (!stub) {
            check_constructors(&s, d);
            check_instances(&s, root, d);
        }
    }
    if (s.has_cursor)
        ts_tree_cursor_delete(&s.cursor);
    return s.oom ? ST_ENOMEM : ST_OK;
}
