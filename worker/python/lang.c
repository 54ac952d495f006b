/* lang.c - builds the symbol -> kind table of lang.h once per process. */
#include "lang.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static lang_t lang_table;
static const lang_t *lang_ready;
static pthread_once_t lang_once = PTHREAD_ONCE_INIT;

static const char *const kind_names[K__COUNT] = {[K_OTHER] = "",
#define LANG_NAME(k, s) [K_##k] = s,
                                                 LANG_KINDS(LANG_NAME)
#undef LANG_NAME
};

static const char *const field_names[F__COUNT] = {[F_NONE] = "",
#define LANG_FNAME(k, s) [F_##k] = s,
                                                  LANG_FIELDS(LANG_FNAME)
#undef LANG_FNAME
};

static lang_kind_t kind_by_name(const char *name)
{
    for (int k = 1; k < K__COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return (lang_kind_t)k;
    return K_OTHER;
}

static void lang_build(void)
{
    const TSLanguage *L = tree_sitter_python();
    uint32_t version = ts_language_version(L);
    uint32_t count = ts_language_symbol_count(L);

    if (version < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION ||
        version > TREE_SITTER_LANGUAGE_VERSION || count > UINT16_MAX)
        return;
    lang_table.kind_of = calloc(count, 1);
    if (lang_table.kind_of == NULL)
        return;
    lang_table.language = L;
    lang_table.symbol_count = (uint16_t)count;
    for (uint32_t s = 0; s < count; s++) {
        const char *name = ts_language_symbol_name(L, (TSSymbol)s);
        TSSymbolType type = ts_language_symbol_type(L, (TSSymbol)s);
        if (name != NULL && (type == TSSymbolTypeRegular || strcmp(name, "ERROR") == 0))
            lang_table.kind_of[s] = (uint8_t)kind_by_name(name);
    }
    for (int f = 1; f < F__COUNT; f++) {
        TSFieldId id =
            ts_language_field_id_for_name(L, field_names[f], (uint32_t)strlen(field_names[f]));
        lang_table.field_id[f] = id;
        if (id != 0 && id < 256)
            lang_table.field_of[id] = (uint8_t)f;
    }
    lang_ready = &lang_table;
}

const lang_t *lang_get(void)
{
    pthread_once(&lang_once, lang_build);
    return lang_ready;
}
