/* checker_int.h - what the parts of the checker share (see checker.h).
 *
 * The checker is one walk over the tree, kept in several files so that each
 * concern reads and reviews on its own (checker.c lists them). They share
 * the walk's state (checker_t), bindings and scopes, the interned names the
 * checks compare against, and the small helpers below: the tiny ones are
 * static inline, the others are defined once and carry the chk_ prefix.
 * Internal to worker/python/checker*.c; the public API is checker.h. */
#ifndef STRATA_CHECKER_INT_H
#define STRATA_CHECKER_INT_H

#include "common/intern.h"
#include "worker/python/checker.h"

#include <stdbool.h>
#include <stdint.h>
#include <tree_sitter/api.h>

/* ---- names known to the checker ------------------------------------- */

/* How many names builtin_names (checker.c) holds; they are interned first,
 * so a name id below N_BUILTINS is a builtin. */
#define N_BUILTINS ((uint32_t)161)

/* Names the checker compares against, interned right after the builtins. */
// clang-format off
#define WELL_KNOWN(X)                                                                              \
    X(ALL, "__all__")                                                                              \
    X(CLASS_, "__class__")                                                                         \
    X(PATH, "__path__")                                                                            \
    X(MODULE_, "__module__")                                                                       \
    X(QUALNAME, "__qualname__")                                                                    \
    X(UNDERSCORE, "_")                                                                             \
    X(OVERLOAD, "overload")                                                                        \
    X(LITERAL, "Literal")                                                                          \
    X(ANNOTATED, "Annotated")                                                                      \
    X(TYPEALIAS, "TypeAlias")                                                                      \
    X(CAST, "cast")                                                                                \
    X(TYPEVAR, "TypeVar")                                                                          \
    X(NAMEDTUPLE, "NamedTuple")                                                                    \
    X(TYPEDDICT, "TypedDict")                                                                      \
    X(TB_HIDE, "__tracebackhide__")                                                                \
    X(TB_INFO, "__traceback_info__")                                                               \
    X(TB_SUPP, "__traceback_supplement__")                                                         \
    X(GETATTR_, "__getattr__")                                                                     \
    X(TYPE_CHECKING, "TYPE_CHECKING")                                                              \
    X(EXTEND, "extend")                                                                            \
    X(APPEND, "append")                                                                            \
    X(BOUND, "bound")                                                                              \
    X(TYPING, "typing")                                                                            \
    X(TYPING_EXT, "typing_extensions")                                                             \
    X(ANNOTATIONS_F, "annotations")                                                                \
    X(KW_FIRST, "and")                                                                             \
    X(KW_AS, "as")                                                                                 \
    X(KW_ASSERT, "assert")                                                                         \
    X(KW_ASYNC, "async")                                                                           \
    X(KW_AWAIT, "await")                                                                           \
    X(KW_BREAK, "break")                                                                           \
    X(KW_CLASS, "class")                                                                           \
    X(KW_CONTINUE, "continue")                                                                     \
    X(KW_DEF, "def")                                                                               \
    X(KW_DEL, "del")                                                                               \
    X(KW_ELIF, "elif")                                                                             \
    X(KW_ELSE, "else")                                                                             \
    X(KW_EXCEPT, "except")                                                                         \
    X(KW_FINALLY, "finally")                                                                       \
    X(KW_FOR, "for")                                                                               \
    X(KW_FROM, "from")                                                                             \
    X(KW_GLOBAL, "global")                                                                         \
    X(KW_IF, "if") X(KW_IMPORT, "import") X(KW_IN, "in") X(KW_IS, "is") X(KW_LAMBDA, "lambda")     \
        X(KW_NONLOCAL, "nonlocal") X(KW_NOT, "not") X(KW_OR, "or") X(KW_PASS, "pass")              \
            X(KW_RAISE, "raise") X(KW_RETURN, "return") X(KW_TRY, "try") X(KW_WHILE, "while")      \
                X(KW_WITH, "with") X(KW_LAST, "yield")
// clang-format on

enum {
    WK__FIRST = N_BUILTINS - 1,
#define WK_ENUM(k, s) WK_##k,
    WELL_KNOWN(WK_ENUM)
#undef WK_ENUM
        WK__END
};

/* ---- bindings and scopes --------------------------------------------- */

typedef enum {
    B_BUILTIN,
    B_ARGUMENT,
    B_BINDING,
    B_ASSIGNMENT,
    B_NAMEDEXPR,
    B_ANNOTATION,
    B_EXPORT,
    B_FUNCTION,
    B_CLASS,
    B_IMPORT,
    B_SUBMODULE,
    B_FROM,
    B_STAR,
    B_FUTURE
} bkind_t;

typedef enum { SC_MODULE, SC_CLASS, SC_FUNCTION, SC_GENERATOR } sckind_t;

typedef struct scope scope_t;
typedef struct redef redef_t;

typedef struct binding {
    uint32_t name;
    uint8_t kind;
    bool parent_is_for;  /* bound as a for-loop target (F402) */
    bool overload;       /* a def decorated with typing's overload */
    bool rebound;        /* module level: not the name's first binding (summary) */
    bool is_global;      /* a `global` declaration, or a binding of a declared name */
    bool global_bound;   /* module level: a function or class binds it via `global` */
    uint32_t line, col;  /* the source's position, 1-based line, 0-based col */
    uint32_t fnode;      /* branch the source sits in (different forks) */
    const scope_t *used; /* scope the last use came from; NULL when unused */
    uint32_t used_line, used_col;
    uint32_t full;        /* imports: full dotted name (interned) */
    uint32_t module;      /* from-imports: module as written, dots included */
    uint32_t real;        /* from-imports: the imported name */
    int32_t import_index; /* entry in the summary's imports, or -1 */
    bool alias_import;    /* `x = m`, m an import: x is what m is (the summary's) */
    redef_t *redefined;   /* rebindings in nested scopes (imports only) */
    uint32_t *exports;    /* __all__ */
    uint32_t n_exports;
    bool exports_dynamic; /* __all__ is built in a way we do not follow */
    TSNode def;           /* functions and classes: their node (for the summary) */
    TSNode decorated;     /* the decorated_definition around def, if any */
    scope_t *body;        /* classes: their scope */
    /* summary only (checker_summary.c) */
    bool dead;                 /* bound in a stub's branch the target does not take */
    struct binding *live_prev; /* dead: the binding the summary keeps instead, or NULL */
    struct binding *ovl_prev;  /* a def after an overload: the overload before it */
    struct binding *sum_all;   /* __all__: the summary's, when a dead branch changed it */
} binding_t;

struct redef {
    redef_t *next;
    uint32_t line, col;
    bool is_for;
};

typedef struct {
    uint32_t name;
    binding_t *b;
} slot_t;

#define SLOT_EMPTY UINT32_MAX
#define SLOT_TOMB (UINT32_MAX - 1)

struct scope {
    uint8_t kind;
    bool import_starred;
    bool uses_locals;
    uint32_t cap;  /* power of two */
    uint32_t fill; /* live + tombstones */
    uint32_t live;
    slot_t *slots;
};

/* A branch point for "different forks": an if or a try, and its parts. */
typedef struct {
    uint32_t parent;
    uint32_t depth;
    bool is_fork;
} fnode_t;

typedef enum { D_FUNCTION, D_LAMBDA, D_STRING_ANN, D_ANN_EXPR, D_TYPE_COMMENT } dkind_t;

typedef enum { ANN_NONE = 0, ANN_STRING = 1, ANN_BARE = 2 } annstate_t;

typedef struct {
    uint8_t kind;
    TSNode node;
    scope_t **stack;
    uint32_t depth;
    uint32_t fnode;
    uint32_t cond;             /* enclosing if/while/ifexp count (del is ignored there) */
    uint32_t not_taken, taken; /* checker_t's, where the node sits */
    uint32_t versioned;        /* checker_t's */
    const char *src;           /* text the node's positions and names refer to */
    bool override;             /* report everything at (oline, ocol) */
    uint32_t oline, ocol;
    uint32_t eline, ecol; /* string annotations: where a syntax error is reported */
} defer_t;

/* The use of a builtin, as pyflakes' Builtin binding records it. */
typedef struct {
    const scope_t *by;
    uint32_t line, col;
} builtin_use_t;

#define CURSOR_BLOCK CHECKER_CURSOR_BLOCK
#define CURSOR_BLOCKS CHECKER_CURSOR_BLOCKS

/* The exceptions whose handlers guard a try body's uses (summary). */
enum { GX_ATTRIBUTE, GX_NAME, GX_IMPORT, GX_MODULE_NOT_FOUND, GX_EXCEPTION, GX_BASE, GX__N };

typedef struct {
    const checker_input_t *in;
    const lang_t *L;
    arena_t *a;
    diag_list_t *diags;
    summary_t *sum;
    intern_t *names;
    const char *src; /* current text: the file, or a string annotation */

    scope_t **stack;
    uint32_t depth, stack_cap;

    defer_t *deferred;
    size_t n_deferred, cap_deferred;
    scope_t **fscopes; /* function scopes to check for F841 at the end */
    size_t n_fscopes, cap_fscopes;
    scope_t **dead; /* popped scopes, for F401 and F822 */
    size_t n_dead, cap_dead;

    fnode_t *fnodes;
    uint32_t n_fnodes, cap_fnodes, cur_fnode;

    bool *except_stack; /* per try body: does a handler catch NameError */
    uint32_t n_except, cap_except;

    builtin_use_t *builtin_use; /* last use of each builtin: scope and position */
    bool *builtin_deleted;
    uint32_t id_locals, id_print, id_nameerror, id_notimpl;

    uint32_t cond;          /* if/while/ifexp nesting */
    uint32_t not_taken;     /* stubs: branches around the walk the target does not take */
    uint32_t taken;         /* stubs: branches around it the target surely takes (in cond) */
    uint32_t versioned;     /* sources: if statements around the walk that test
                               sys.version_info or sys.platform */
    uint32_t type_checking; /* bodies of `if TYPE_CHECKING:` around the walk */
    uint32_t loop;          /* loop bodies of the current function or class */
    uint32_t fblocks;       /* statically nested blocks of the current code unit */
    uint32_t rec;           /* recursion depth */
    uint32_t max_rec;
    uint8_t ann; /* annstate_t */
    bool in_deferred;
    bool in_fstring;
    bool futures_allowed;
    bool annotations_future;
    bool override;
    uint32_t oline, ocol;
    bool oom;
    bool too_deep;
    TSTree **ann_trees;
    size_t n_ann_trees, cap_ann_trees;
    checker_cursors_t *curs; /* one cursor per open child loop */
    uint32_t n_curs_used;
    TSNode export_value; /* value of the assignment whose targets are being bound */
    bool in_for;         /* statements being visited sit directly in a for loop */
    int32_t last_use;    /* summary use recorded by the last name or attribute load */

    /* summary: guarded and stored uses, dynamic namespaces */
    uint32_t id_hasattr, id_getattr, id_globals, id_vars, id_exec;
    uint32_t id_guard_exc[GX__N]; /* exceptions whose handler guards a try body */
    uint32_t try_guard;           /* try bodies whose handlers catch a guard exception */
    uint32_t try_import;          /* try bodies whose handlers catch ImportError */
    uint32_t in_handler;          /* except clauses being walked */
    uint32_t in_test;             /* tests being visited (if/while/ifexp, boolean operands) */
    uint32_t *guards;             /* names hasattr()/getattr() tested in the open tests */
    size_t n_guards, cap_guards;
    bool use_store;   /* the attribute being visited is a target */
    uint32_t *gextra; /* names bound via `global` without a module binding */
    uint32_t *gextra_line;
    size_t n_gextra, cap_gextra, n_gextra_line, cap_gextra_line;
    /* F405s in functions: the function's scope, the name, the summary's index */
    scope_t **star_scope;
    uint32_t *star_name, *star_index;
    size_t n_star_scope, cap_star_scope, n_star_name, cap_star_name, n_star_index, cap_star_index;
} checker_t;

/* Appends val to arr (n items, room for cap) in the arena, growing it; on
 * failure c->oom is set and val dropped. */
#define PUSH(c, arr, n, cap, val)                                                                  \
    do {                                                                                           \
        size_t cap_ = (cap);                                                                       \
        if (chk_grow((c), (void **)&(arr), &cap_, (size_t)(n) + 1, sizeof *(arr))) {               \
            (cap) = cap_;                                                                          \
            (arr)[(n)++] = (val);                                                                  \
        }                                                                                          \
    } while (0)

/* A diagnostic at node n, or where the string annotation being checked
 * sits. */
#define REPORT(c, n, code, ...)                                                                    \
    do {                                                                                           \
        uint32_t l_, k_;                                                                           \
        node_pos((c), (n), &l_, &k_);                                                              \
        if (diag_add((c)->diags, l_, k_ + 1, (code), __VA_ARGS__) == NULL)                         \
            (c)->oom = true;                                                                       \
    } while (0)

/* Loops cu over the children of n, with a cursor from the pool
 * (checker_scope.c's child loops); KID(cu) is the current child. */
#define FOR_KIDS(c, n, cu)                                                                         \
    for (TSTreeCursor *cu = chk_kid_first((c), (n)); cu; cu = chk_kid_next((c), cu))
#define KID(cu) ts_tree_cursor_current_node(cu)

/* The statement or expression that stores a name (chk_handle_store). */
typedef enum {
    ST_ASSIGN,
    ST_AUG,
    ST_ANN_VALUE,
    ST_ANN_NOVALUE,
    ST_FOR,
    ST_COMP,
    ST_NAMED,
    ST_WITH,
    ST_EXCEPT,
    ST_MATCH
} store_ctx_t;

/* What the parts of a string literal say (chk_string_info). */
typedef struct {
    bool is_f;
    bool is_bytes;
    bool has_interp;
    bool has_escape;
    TSNode content; /* the single string_content child, if any */
    uint32_t n_content;
} strinfo_t;

/* A stub's if statement while its branches are walked (checker_target.c):
 * which branch the target takes, as far as the tests are decided. */
typedef struct {
    bool decide;        /* a stub's module or class level, not inside a dead branch */
    bool taken;         /* a branch before is taken whenever it is reached */
    bool certain;       /* every test before was decided */
    bool dead, decided; /* the current branch */
} branch_t;

/* Longest attribute chain a use of an imported name records. */
#define MAX_CHAIN 16

/* ---- shared between the files ----------------------------------------- */

/* checker_scope.c: helpers, scopes, forks, child loops, bindings, loads and stores, deferral */
bool chk_grow(checker_t *c, void **items, size_t *cap, size_t need, size_t elem);
uint32_t chk_intern_bytes(checker_t *c, const char *s, size_t len);
const char *chk_name_str(const checker_t *c, uint32_t id);
void chk_syntax_error(checker_t *c, TSNode n, const char *msg);
void chk_scope_set(checker_t *c, scope_t *s, uint32_t name, binding_t *b);
binding_t *chk_scope_pop(scope_t *s, uint32_t name);
void chk_push_scope(checker_t *c, sckind_t k);
void chk_pop_scope(checker_t *c);
bool chk_module_has(const checker_t *c, const scope_t *s, uint32_t name);
bool chk_scope_has(const checker_t *c, const scope_t *s, uint32_t name);
uint32_t chk_fnode_new(checker_t *c, uint32_t parent, bool is_fork);
TSTreeCursor *chk_kid_first(checker_t *c, TSNode n);
TSTreeCursor *chk_kid_next(checker_t *c, TSTreeCursor *cu);
binding_t *chk_binding_new(checker_t *c, uint32_t name, bkind_t k, TSNode src);
void chk_add_binding(checker_t *c, uint32_t line, uint32_t col, binding_t *v);
void chk_star_sources(checker_t *c, scope_t *const *scopes, uint32_t n_scopes, const scope_t *user,
                      char *from, size_t cap);
binding_t *chk_handle_load(checker_t *c, TSNode n, uint32_t name);
bool chk_is_always_used(uint32_t name);
binding_t *chk_handle_store(checker_t *c, TSNode n, uint32_t name, store_ctx_t ctx, bool nested,
                            bool literal, TSNode value);
void chk_handle_delete(checker_t *c, TSNode n, uint32_t name);
void chk_defer(checker_t *c, dkind_t k, TSNode n);
void chk_defer_annotation(checker_t *c, TSNode s, TSNode report);

/* checker_walk.c: string literals, helpers of the walk, annotations, dispatch */
void chk_string_info(const checker_t *c, TSNode s, strinfo_t *si);
void chk_visit_kids(checker_t *c, TSNode n);
TSNode chk_unparen(const checker_t *c, TSNode n);
bool chk_is_paren_target(const checker_t *c, TSNode n);
void chk_add_export_strings(checker_t *c, TSNode seq, binding_t *b);
bool chk_is_seq_literal(const checker_t *c, TSNode n);
void chk_collect_exports(checker_t *c, TSNode value, binding_t *b);
binding_t *chk_lookup_quiet(const checker_t *c, uint32_t name);
bool chk_is_typing(checker_t *c, TSNode n, uint32_t want);
bool chk_is_name_or_attr(checker_t *c, TSNode n, uint32_t want);
void chk_visit_in(checker_t *c, TSNode n, annstate_t ann);
bool chk_is_plain_str(const checker_t *c, TSNode n);
void chk_handle_annotation(checker_t *c, TSNode n, TSNode report);
void chk_string_annotation(checker_t *c, TSNode s, uint32_t eline, uint32_t ecol);
void chk_type_comment(checker_t *c, TSNode n);
void chk_visit(checker_t *c, TSNode n);

/* checker_defs.c: imports, functions and classes */
void chk_visit_import(checker_t *c, TSNode n);
void chk_visit_import_from(checker_t *c, TSNode n, bool future);
TSNode chk_param_name(const checker_t *c, TSNode p);
bool chk_is_global_enum(checker_t *c, TSNode f);
void chk_note_enum_export(checker_t *c, TSNode f);
void chk_visit_function(checker_t *c, TSNode n, TSNode decorated);
void chk_visit_class(checker_t *c, TSNode n, TSNode decorated);
void chk_visit_lambda(checker_t *c, TSNode n);
void chk_visit_comments(checker_t *c, TSNode n);
void chk_run_function(checker_t *c, TSNode n, bool is_lambda);

/* checker_stmt.c: statements, match, assignments */
void chk_visit_block(checker_t *c, TSNode block, bool in_for);
void chk_visit_module(checker_t *c, TSNode root);
bool chk_is_nonempty_tuple(const checker_t *c, TSNode n);
void chk_check_if_tuple(checker_t *c, TSNode test, TSNode at);
void chk_visit_test(checker_t *c, TSNode test);
void chk_visit_if(checker_t *c, TSNode n);
void chk_visit_loop(checker_t *c, TSNode n, bool is_for);
void chk_visit_try(checker_t *c, TSNode n);
void chk_visit_with(checker_t *c, TSNode n);
void chk_visit_global(checker_t *c, TSNode n);
void chk_visit_delete_target(checker_t *c, TSNode n);
void chk_visit_match(checker_t *c, TSNode n);
void chk_visit_target(checker_t *c, TSNode n, store_ctx_t ctx, bool nested, bool literal);
void chk_visit_assignment(checker_t *c, TSNode n);
void chk_visit_aug_assignment(checker_t *c, TSNode n);

/* checker_expr.c: expressions */
void chk_visit_comprehension(checker_t *c, TSNode n);
void chk_visit_strings(checker_t *c, TSNode n);
void chk_visit_comparison(checker_t *c, TSNode n);
void chk_visit_subscript(checker_t *c, TSNode n);
void chk_visit_generic_type(checker_t *c, TSNode n);
void chk_visit_call(checker_t *c, TSNode n);
void chk_visit_raise(checker_t *c, TSNode n);
void chk_visit_attribute(checker_t *c, TSNode n);
void chk_check_number(checker_t *c, TSNode n);
void chk_visit_conditional(checker_t *c, TSNode n);
void chk_visit_boolean(checker_t *c, TSNode n);
void chk_visit_print(checker_t *c, TSNode n);
void chk_visit_binary_op(checker_t *c, TSNode n);

/* checker_dict.c: repeated dictionary keys (F601, F602) */
void chk_dict_keys(checker_t *c, TSNode n);

/* checker_format.c: format strings (F50x, F52x) */
void chk_percent_format(checker_t *c, TSNode n, TSNode left, TSNode right);
void chk_dot_format(checker_t *c, TSNode call, TSNode func, TSNode args);

/* checker_target.c: a stub's version and platform tests */
int chk_target_test(checker_t *c, TSNode test);
void chk_branch_enter(checker_t *c, branch_t *br, TSNode test, bool is_else);
void chk_branch_leave(checker_t *c, branch_t *br);
/* Whether test is one a stub's branch is decided by (sys.version_info,
 * sys.platform), whatever it decides: in a source, which branch runs
 * depends on the Python that runs it. */
bool chk_is_target_test(checker_t *c, TSNode test);

/* checker_sig.c: a def's signature and overloads, for the summary */
typedef struct {
    int32_t sig;  /* index into the summary's sigs, or -1 */
    int32_t *ovl; /* the overloads' signatures, in source order; NULL: none */
    uint32_t n_ovl;
    bool rebound; /* overloads the summary cannot list: the name counts as rebound */
} chk_defsig_t;
void chk_def_sig(checker_t *c, const binding_t *b, bool method, chk_defsig_t *out);

/* checker_summary.c: the local summary */
void chk_summary_binding(checker_t *c, scope_t *target, binding_t *old, binding_t *v);
void chk_summary_star(checker_t *c, uint32_t name, uint32_t line, uint32_t col, bool in_all);
void chk_summary_import(checker_t *c, binding_t *b, int kind_, int level, uint32_t module,
                        uint32_t name, uint32_t asname, TSNode stmt);
uint32_t chk_summary_builtin_call(checker_t *c, uint32_t id, TSNode args);
void chk_record_use(checker_t *c, const binding_t *b, TSNode base, const TSNode *attrs, uint32_t n,
                    bool store);
void chk_record_call(checker_t *c, TSNode args);
binding_t *chk_summary_all(binding_t *b);
void chk_build_summary(checker_t *c, scope_t *module);

/* ---- small helpers ----------------------------------------------------- */

static inline TSNode field(const checker_t *c, TSNode n, lang_field_t f)
{
    return ts_node_child_by_field_id(n, c->L->field_id[f]);
}

/* First and last child: O(1)-ish where field lookups walk a field map. The
 * grammar puts these fields first or last in every production. */
static inline TSNode first_child(TSNode n)
{
    return ts_node_child(n, 0);
}

static inline TSNode last_child(TSNode n)
{
    uint32_t k = ts_node_child_count(n);
    while (k > 0) {
        TSNode ch = ts_node_child(n, --k);
        if (!ts_node_is_extra(ch))
            return ch;
    }
    return (TSNode){0};
}

static inline lang_kind_t kind(const checker_t *c, TSNode n)
{
    return lang_kind(c->L, n);
}

static inline const char *text(const checker_t *c, TSNode n, uint32_t *len)
{
    uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
    *len = e - s;
    return c->src + s;
}

/* The id of an identifier node. tree-sitter's error recovery sometimes
 * reads a keyword as a name (`else:` alone becomes an annotation); CPython
 * never does, so that is a syntax error. */
static inline uint32_t name_id(checker_t *c, TSNode n)
{
    uint32_t len, id;
    const char *s = text(c, n, &len);

    id = chk_intern_bytes(c, s, len);
    if (id >= WK_KW_FIRST && id <= WK_KW_LAST)
        chk_syntax_error(c, n, "invalid syntax");
    return id;
}

/* Line (1-based) and column (0-based bytes) of a node, or of the string
 * annotation being checked. */
static inline void node_pos(const checker_t *c, TSNode n, uint32_t *line, uint32_t *col)
{
    if (c->override) {
        *line = c->oline;
        *col = c->ocol;
        return;
    }
    TSPoint p = ts_node_start_point(n);
    *line = p.row + 1;
    *col = p.column;
}

static inline bool is_importation(const binding_t *b)
{
    return b->kind >= B_IMPORT;
}

static inline bool is_definition(const binding_t *b)
{
    return b->kind == B_BUILTIN || b->kind == B_FUNCTION || b->kind == B_CLASS || is_importation(b);
}

static inline bool is_assignment(const binding_t *b)
{
    return b->kind == B_ASSIGNMENT || b->kind == B_NAMEDEXPR;
}

static inline uint32_t slot_hash(uint32_t name, uint32_t cap)
{
    return (uint32_t)((name * 2654435761u) >> 7) & (cap - 1);
}

static inline binding_t *scope_get(const scope_t *s, uint32_t name)
{
    if (s->cap == 0)
        return NULL;
    for (uint32_t i = slot_hash(name, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].name == name)
            return s->slots[i].b;
        if (s->slots[i].name == SLOT_EMPTY)
            return NULL;
    }
}

static inline scope_t *cur(const checker_t *c)
{
    return c->stack[c->depth - 1];
}

static inline void mark_used(checker_t *c, binding_t *b, uint32_t line, uint32_t col)
{
    b->used = cur(c);
    b->used_line = line;
    b->used_col = col;
}

static inline TSNode first_named(TSNode n)
{
    return ts_node_named_child_count(n) > 0 ? ts_node_named_child(n, 0) : (TSNode){0};
}

#endif
