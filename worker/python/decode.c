/* decode.c - BOM, PEP 263 and UTF-8 checks in front of the parser.
 *
 * The common case (UTF-8, no coding line) costs one SIMD validation pass and
 * no copy. Other encodings go through iconv, the C library's converter, which
 * knows every codec name CPython users write in coding lines. */
#include "decode.h"

#include "common/lineidx.h"
#include "common/simd.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

/* The end of the line that starts at p (exclusive of its newline). */
static size_t line_end(const uint8_t *s, size_t len, size_t p)
{
    while (p < len && s[p] != '\n' && s[p] != '\r')
        p++;
    return p;
}

static size_t next_line(const uint8_t *s, size_t len, size_t e)
{
    if (e < len && s[e] == '\r')
        e++;
    if (e < len && s[e] == '\n')
        e++;
    return e;
}

/* Matches ^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+) on s[b..e). */
static bool coding_on_line(const uint8_t *s, size_t b, size_t e, char *out, size_t cap)
{
    size_t p = b;

    while (p < e && (s[p] == ' ' || s[p] == '\t' || s[p] == '\f'))
        p++;
    if (p >= e || s[p] != '#')
        return false;
    for (; p + 7 < e; p++) {
        if (memcmp(s + p, "coding", 6) != 0 || (s[p + 6] != ':' && s[p + 6] != '='))
            continue;
        size_t q = p + 7, n = 0;
        while (q < e && (s[q] == ' ' || s[q] == '\t'))
            q++;
        while (q < e && n + 1 < cap && (isalnum(s[q]) || s[q] == '-' || s[q] == '_' || s[q] == '.'))
            out[n++] = (char)tolower(s[q++]);
        out[n] = '\0';
        if (n > 0)
            return true;
    }
    return false;
}

static bool blank_or_comment(const uint8_t *s, size_t b, size_t e)
{
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\f'))
        b++;
    return b == e || s[b] == '#';
}

/* CPython's get_normal_name (Parser/tokenizer.c). */
static void normalise(char *name)
{
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = '-';
    /* "utf8" stays as written: CPython accepts it alone but not with a BOM */
    if (strcmp(name, "utf-8") == 0 || strncmp(name, "utf-8-", 6) == 0)
        strcpy(name, "utf-8");
    else if (strcmp(name, "latin-1") == 0 || strcmp(name, "iso-8859-1") == 0 ||
             strcmp(name, "iso-latin-1") == 0 || strncmp(name, "latin-1-", 8) == 0 ||
             strncmp(name, "iso-8859-1-", 11) == 0 || strncmp(name, "iso-latin-1-", 12) == 0)
        strcpy(name, "iso-8859-1");
}

void decode_coding_name(const uint8_t *src, size_t len, char *out, size_t cap)
{
    size_t e1 = line_end(src, len, 0);

    out[0] = '\0';
    if (coding_on_line(src, 0, e1, out, cap)) {
        normalise(out);
        return;
    }
    if (!blank_or_comment(src, 0, e1))
        return;
    size_t b2 = next_line(src, len, e1);
    if (b2 < len && coding_on_line(src, b2, line_end(src, len, b2), out, cap))
        normalise(out);
    else
        out[0] = '\0';
}

static bool looks_binary(const uint8_t *s, size_t len)
{
    size_t n = len < 1024 ? len : 1024;
    return memchr(s, 0, n) != NULL;
}

/* One diagnostic at byte offset off of s[0..len). */
static bool fail(diag_list_t *d, const uint8_t *s, size_t len, size_t off, const char *code,
                 const char *msg)
{
    lineidx_t idx;
    uint32_t line = 1, col = 0;

    if (lineidx_build(&idx, s, len, d->arena) == ST_OK)
        lineidx_lookup(&idx, (uint32_t)off, &line, &col);
    if (diag_add(d, line, col + 1, code, "%s", msg) == NULL)
        d->oom = true;
    return false;
}

/* Python ends a line at CR, LF or CRLF; tree-sitter only at LF. A lone CR
 * becomes LF in a copy, which keeps every offset where it was. */
static bool normalise_cr(arena_t *a, diag_list_t *d, const char **text, uint32_t len)
{
    const char *s = *text, *cr = memchr(s, '\r', len);
    char *copy = NULL;

    for (; cr != NULL; cr = memchr(cr + 1, '\r', len - (size_t)(cr + 1 - s))) {
        size_t i = (size_t)(cr - s);
        if (i + 1 < len && s[i + 1] == '\n')
            continue;
        if (copy == NULL) {
            if ((copy = arena_alloc(a, len)) == NULL) {
                d->oom = true;
                return false;
            }
            memcpy(copy, s, len);
        }
        copy[i] = '\n';
        if (i + 1 >= len)
            break;
    }
    if (copy != NULL)
        *text = copy;
    return true;
}

static bool transcode(const uint8_t *s, size_t len, const char *enc, arena_t *a, diag_list_t *d,
                      const char **text, uint32_t *text_len)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    size_t cap, in_left = len, out_left;
    char *out, *in = (char *)s, *o;

    if (cd == (iconv_t)-1) {
        if (diag_add(d, 1, 1, "E999", "SyntaxError: unknown encoding: %s", enc) == NULL)
            d->oom = true;
        return false;
    }
    if (!st_mul_size(len, 4, &cap) || !st_add_size(cap, 1, &cap) ||
        (out = arena_alloc(a, cap)) == NULL) {
        iconv_close(cd);
        d->oom = true;
        return false;
    }
    o = out;
    out_left = cap;
    if (iconv(cd, &in, &in_left, &o, &out_left) == (size_t)-1) {
        iconv_close(cd);
        char msg[160];
        snprintf(msg, sizeof msg,
                 "SyntaxError: (unicode error) '%s' codec can't decode byte 0x%02x", enc,
                 *(uint8_t *)in);
        return fail(d, s, len, (size_t)((uint8_t *)in - s), "E999", msg);
    }
    iconv_close(cd);
    *text = out;
    *text_len = (uint32_t)(cap - out_left);
    return normalise_cr(a, d, text, *text_len);
}

bool decode_source(const uint8_t *src, size_t len, size_t max_bytes, arena_t *a, diag_list_t *diags,
                   const char **text, uint32_t *text_len)
{
    bool bom = len >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF;
    char enc[64];
    size_t bad;
    const uint8_t *nul;

    if (max_bytes == 0 || max_bytes > DECODE_MAX_BYTES)
        max_bytes = DECODE_MAX_BYTES;
    if (len > max_bytes) {
        if (diag_add(diags, 1, 1, "E902",
                     "file too large: %zu bytes (limit %zu, see --max-file-size)", len,
                     max_bytes) == NULL)
            diags->oom = true;
        return false;
    }
    if (bom) {
        src += 3;
        len -= 3;
    }
    if ((nul = memchr(src, 0, len)) != NULL) {
        if (looks_binary(src, len))
            return fail(diags, src, len, (size_t)(nul - src), "E902",
                        "binary file (NUL bytes), not Python source");
        return fail(diags, src, len, (size_t)(nul - src), "E999",
                    "SyntaxError: source code cannot contain null bytes");
    }
    decode_coding_name(src, len, enc, sizeof enc);
    if (enc[0] != '\0' && strcmp(enc, "utf-8") != 0) {
        if (bom) {
            if (diag_add(diags, 1, 1, "E999", "SyntaxError: encoding problem: %s with BOM", enc) ==
                NULL)
                diags->oom = true;
            return false;
        }
        return transcode(src, len, enc, a, diags, text, text_len);
    }
    if (!simd_utf8_valid(src, len, &bad)) {
        char msg[96];
        snprintf(msg, sizeof msg,
                 "SyntaxError: (unicode error) 'utf-8' codec can't decode byte 0x%02x", src[bad]);
        return fail(diags, src, len, bad, "E999", msg);
    }
    *text = (const char *)src;
    *text_len = (uint32_t)len;
    return normalise_cr(a, diags, text, *text_len);
}
