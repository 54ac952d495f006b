/* lang.h - the tree-sitter Python grammar seen as node kinds and fields.
 *
 * tree-sitter names node types by strings and numbers them per grammar
 * build; the analysis switches on a small enum instead, so that a grammar
 * update changes this table and nothing else. The table is built once per
 * process (lang_get is thread-safe) and maps every symbol, aliases included,
 * to a kind; symbols the analysis does not care about map to K_OTHER. */
#ifndef STRATA_LANG_H
#define STRATA_LANG_H

#include <stdint.h>
#include <tree_sitter/api.h>

// clang-format off
#define LANG_KINDS(X) \
    X(MODULE, "module") \
    X(BLOCK, "block") \
    X(EXPRESSION_STATEMENT, "expression_statement") \
    X(ASSIGNMENT, "assignment") \
    X(AUG_ASSIGNMENT, "augmented_assignment") \
    X(IDENTIFIER, "identifier") \
    X(ATTRIBUTE, "attribute") \
    X(SUBSCRIPT, "subscript") \
    X(CALL, "call") \
    X(ARGUMENT_LIST, "argument_list") \
    X(KEYWORD_ARGUMENT, "keyword_argument") \
    X(LIST_SPLAT, "list_splat") \
    X(DICT_SPLAT, "dictionary_splat") \
    X(PAREN_LIST_SPLAT, "parenthesized_list_splat") \
    X(PAREN_EXPR, "parenthesized_expression") \
    X(TUPLE, "tuple") \
    X(LIST, "list") \
    X(SET, "set") \
    X(DICTIONARY, "dictionary") \
    X(PAIR, "pair") \
    X(LIST_COMP, "list_comprehension") \
    X(SET_COMP, "set_comprehension") \
    X(DICT_COMP, "dictionary_comprehension") \
    X(GENERATOR_EXP, "generator_expression") \
    X(FOR_IN_CLAUSE, "for_in_clause") \
    X(IF_CLAUSE, "if_clause") \
    X(LAMBDA, "lambda") \
    X(LAMBDA_PARAMETERS, "lambda_parameters") \
    X(PARAMETERS, "parameters") \
    X(DEFAULT_PARAMETER, "default_parameter") \
    X(TYPED_PARAMETER, "typed_parameter") \
    X(TYPED_DEFAULT_PARAMETER, "typed_default_parameter") \
    X(LIST_SPLAT_PATTERN, "list_splat_pattern") \
    X(DICT_SPLAT_PATTERN, "dictionary_splat_pattern") \
    X(TUPLE_PATTERN, "tuple_pattern") \
    X(LIST_PATTERN, "list_pattern") \
    X(PATTERN_LIST, "pattern_list") \
    X(EXPRESSION_LIST, "expression_list") \
    X(KEYWORD_SEPARATOR, "keyword_separator") \
    X(POSITIONAL_SEPARATOR, "positional_separator") \
    X(FUNCTION_DEF, "function_definition") \
    X(CLASS_DEF, "class_definition") \
    X(DECORATED_DEF, "decorated_definition") \
    X(DECORATOR, "decorator") \
    X(IF, "if_statement") \
    X(ELIF, "elif_clause") \
    X(ELSE, "else_clause") \
    X(FOR, "for_statement") \
    X(WHILE, "while_statement") \
    X(TRY, "try_statement") \
    X(EXCEPT, "except_clause") \
    X(EXCEPT_GROUP, "except_group_clause") \
    X(FINALLY, "finally_clause") \
    X(WITH, "with_statement") \
    X(WITH_CLAUSE, "with_clause") \
    X(WITH_ITEM, "with_item") \
    X(AS_PATTERN, "as_pattern") \
    X(AS_PATTERN_TARGET, "as_pattern_target") \
    X(MATCH, "match_statement") \
    X(CASE_CLAUSE, "case_clause") \
    X(CASE_PATTERN, "case_pattern") \
    X(DOTTED_NAME, "dotted_name") \
    X(SPLAT_PATTERN, "splat_pattern") \
    X(CLASS_PATTERN, "class_pattern") \
    X(KEYWORD_PATTERN, "keyword_pattern") \
    X(DICT_PATTERN, "dict_pattern") \
    X(UNION_PATTERN, "union_pattern") \
    X(COMPLEX_PATTERN, "complex_pattern") \
    X(IMPORT, "import_statement") \
    X(IMPORT_FROM, "import_from_statement") \
    X(FUTURE_IMPORT, "future_import_statement") \
    X(ALIASED_IMPORT, "aliased_import") \
    X(RELATIVE_IMPORT, "relative_import") \
    X(IMPORT_PREFIX, "import_prefix") \
    X(WILDCARD_IMPORT, "wildcard_import") \
    X(GLOBAL, "global_statement") \
    X(NONLOCAL, "nonlocal_statement") \
    X(DELETE, "delete_statement") \
    X(RETURN, "return_statement") \
    X(YIELD, "yield") \
    X(AWAIT, "await") \
    X(RAISE, "raise_statement") \
    X(ASSERT, "assert_statement") \
    X(PASS, "pass_statement") \
    X(BREAK, "break_statement") \
    X(CONTINUE, "continue_statement") \
    X(PRINT, "print_statement") \
    X(EXEC, "exec_statement") \
    X(STRING, "string") \
    X(CONCAT_STRING, "concatenated_string") \
    X(INTERPOLATION, "interpolation") \
    X(FORMAT_SPECIFIER, "format_specifier") \
    X(FORMAT_EXPRESSION, "format_expression") \
    X(STRING_START, "string_start") \
    X(STRING_CONTENT, "string_content") \
    X(STRING_END, "string_end") \
    X(ESCAPE_SEQUENCE, "escape_sequence") \
    X(ESCAPE_INTERPOLATION, "escape_interpolation") \
    X(INTEGER, "integer") \
    X(FLOAT, "float") \
    X(TRUE, "true") \
    X(FALSE, "false") \
    X(NONE, "none") \
    X(ELLIPSIS, "ellipsis") \
    X(COMMENT, "comment") \
    X(COMPARISON, "comparison_operator") \
    X(NAMED_EXPR, "named_expression") \
    X(CONDITIONAL_EXPR, "conditional_expression") \
    X(BOOLEAN_OP, "boolean_operator") \
    X(BINARY_OP, "binary_operator") \
    X(UNARY_OP, "unary_operator") \
    X(NOT_OP, "not_operator") \
    X(TYPE, "type") \
    X(TYPE_ALIAS, "type_alias_statement") \
    X(TYPE_PARAMETER, "type_parameter") \
    X(SLICE, "slice") \
    X(ERROR, "ERROR") \
    X(LINE_CONTINUATION, "line_continuation") \
    X(CHEVRON, "chevron") \
    X(GENERIC_TYPE, "generic_type")
// clang-format on

typedef enum {
    K_OTHER = 0,
#define LANG_ENUM(k, s) K_##k,
    LANG_KINDS(LANG_ENUM)
#undef LANG_ENUM
        K__COUNT
} lang_kind_t;

// clang-format off
#define LANG_FIELDS(X) \
    X(LEFT, "left") \
    X(RIGHT, "right") \
    X(TYPE, "type") \
    X(VALUE, "value") \
    X(NAME, "name") \
    X(ALIAS, "alias") \
    X(BODY, "body") \
    X(CONDITION, "condition") \
    X(CONSEQUENCE, "consequence") \
    X(ALTERNATIVE, "alternative") \
    X(FUNCTION, "function") \
    X(ARGUMENTS, "arguments") \
    X(OBJECT, "object") \
    X(ATTRIBUTE, "attribute") \
    X(PARAMETERS, "parameters") \
    X(RETURN_TYPE, "return_type") \
    X(SUPERCLASSES, "superclasses") \
    X(DEFINITION, "definition") \
    X(MODULE_NAME, "module_name") \
    X(KEY, "key") \
    X(SUBJECT, "subject") \
    X(GUARD, "guard") \
    X(OPERATOR, "operator") \
    X(OPERATORS, "operators") \
    X(ARGUMENT, "argument") \
    X(CAUSE, "cause") \
    X(EXPRESSION, "expression") \
    X(SUBSCRIPT, "subscript") \
    X(TYPE_PARAMETERS, "type_parameters") \
    X(CODE, "code") \
    X(FORMAT_SPECIFIER, "format_specifier")
// clang-format on

typedef enum {
    F_NONE = 0,
#define LANG_FENUM(k, s) F_##k,
    LANG_FIELDS(LANG_FENUM)
#undef LANG_FENUM
        F__COUNT
} lang_field_t;

typedef struct {
    const TSLanguage *language;
    uint16_t symbol_count;
    uint8_t *kind_of;             /* symbol -> lang_kind_t */
    TSFieldId field_id[F__COUNT]; /* lang_field_t -> grammar field id (0: absent) */
    uint8_t field_of[256];        /* grammar field id -> lang_field_t */
} lang_t;

/* The process-wide table; NULL if the grammar's ABI is not the one the
 * linked tree-sitter runtime reads. Thread-safe, never freed. */
const lang_t *lang_get(void);

static inline lang_kind_t lang_kind(const lang_t *L, TSNode n)
{
    TSSymbol s = ts_node_symbol(n);
    return s < L->symbol_count ? (lang_kind_t)L->kind_of[s] : K_OTHER;
}

const TSLanguage *tree_sitter_python(void);

#endif
