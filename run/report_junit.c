/* report_junit.c - the report as JUnit XML, written by libxml2's
 * xmlwriter.
 *
 * CI servers that know no linter still show test results, so each file
 * with diagnostics becomes a test case that fails once per diagnostic, all
 * in one test suite whose counts (tests: files, failures: diagnostics) are
 * the ones JUnit readers recompute. libxml2 escapes the markup; it cannot
 * make XML 1.0 of bytes that are not UTF-8 or of most control characters,
 * so strings are cleaned first (each such byte becomes U+FFFD). */
#include "run/report_int.h"

#include <libxml/xmlwriter.h>
#include <string.h>

/* The UTF-8 of s as libxml2 takes it, in b (reset first); NULL when out of
 * memory. */
static const xmlChar *xml_text(buf_t *b, const char *s)
{
    buf_reset(b);
    if (report__utf8_clean(b, s, strlen(s), true) != ST_OK || buf_append(b, "", 0) != ST_OK)
        return NULL;
    return b->data != NULL ? (const xmlChar *)b->data : (const xmlChar *)"";
}

/* Writes attribute name = s (cleaned); libxml2's result (< 0: failed). */
static int attr(xmlTextWriterPtr w, buf_t *b, const char *name, const char *s)
{
    const xmlChar *v = xml_text(b, s);

    return v == NULL ? -1 : xmlTextWriterWriteAttribute(w, (const xmlChar *)name, v);
}

static int attr_count(xmlTextWriterPtr w, const char *name, size_t n)
{
    char text[32];

    snprintf(text, sizeof text, "%zu", n);
    return xmlTextWriterWriteAttribute(w, (const xmlChar *)name, (const xmlChar *)text);
}

/* The counts as the suite and its parent state them. */
static int counts(xmlTextWriterPtr w, size_t files, size_t n)
{
    if (attr_count(w, "tests", files) < 0 || attr_count(w, "failures", n) < 0 ||
        attr_count(w, "errors", 0) < 0)
        return -1;
    return 0;
}

/* One <failure> for e: message "CODE message", type CODE, and the
 * concise line as its text. */
static int failure(xmlTextWriterPtr w, buf_t *b, const report_entry_t *e)
{
    char where[64];
    const xmlChar *v;

    snprintf(where, sizeof where, "line %u, col %u, ", e->line, e->col);
    if (xmlTextWriterStartElement(w, (const xmlChar *)"failure") < 0 ||
        attr(w, b, "type", e->code) < 0)
        return -1;
    buf_reset(b);
    if (report__utf8_clean(b, e->code, strlen(e->code), true) != ST_OK ||
        buf_append_byte(b, ' ') != ST_OK ||
        report__utf8_clean(b, e->message, strlen(e->message), true) != ST_OK)
        return -1;
    if (xmlTextWriterWriteAttribute(w, (const xmlChar *)"message", b->data) < 0)
        return -1;
    if (xmlTextWriterWriteString(w, (const xmlChar *)where) < 0 ||
        (v = xml_text(b, e->message)) == NULL || xmlTextWriterWriteString(w, v) < 0)
        return -1;
    return xmlTextWriterEndElement(w);
}

/* The test case of the file starting at items[*i]; advances *i past it. */
static int testcase(xmlTextWriterPtr w, buf_t *b, const report_entry_t *items, size_t n, size_t *i)
{
    const char *path = items[*i].path;

    if (xmlTextWriterStartElement(w, (const xmlChar *)"testcase") < 0 ||
        attr(w, b, "name", path) < 0 || attr(w, b, "classname", path) < 0 ||
        attr(w, b, "file", path) < 0)
        return -1;
    for (; *i < n && strcmp(items[*i].path, path) == 0; ++*i)
        if (failure(w, b, &items[*i]) < 0)
            return -1;
    return xmlTextWriterEndElement(w);
}

/* The whole document; < 0 when libxml2 failed. */
static int write_doc(xmlTextWriterPtr w, buf_t *b, const report_entry_t *items, size_t n)
{
    size_t files = 0;

    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(items[i].path, items[i - 1].path) != 0)
            files++;
    if (xmlTextWriterSetIndent(w, 1) < 0 ||
        xmlTextWriterSetIndentString(w, (const xmlChar *)"  ") < 0 ||
        xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElement(w, (const xmlChar *)"testsuites") < 0 ||
        attr(w, b, "name", "strata") < 0 || counts(w, files, n) < 0 ||
        xmlTextWriterStartElement(w, (const xmlChar *)"testsuite") < 0 ||
        attr(w, b, "name", "strata") < 0 || counts(w, files, n) < 0 ||
        attr_count(w, "skipped", 0) < 0)
        return -1;
    for (size_t i = 0; i < n;)
        if (testcase(w, b, items, n, &i) < 0)
            return -1;
    return xmlTextWriterEndDocument(w);
}

st_rc_t report__write_junit(const report_entry_t *items, size_t n, FILE *out, st_err_t *err)
{
    xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(out, NULL);
    xmlTextWriterPtr w = ob != NULL ? xmlNewTextWriter(ob) : NULL;
    buf_t b;
    int rc;

    if (w == NULL) {
        if (ob != NULL)
            xmlOutputBufferClose(ob);
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    }
    buf_init(&b);
    rc = write_doc(w, &b, items, n);
    if (rc >= 0)
        rc = xmlTextWriterFlush(w);
    xmlFreeTextWriter(w); /* closes ob, which flushes but keeps out open */
    buf_free(&b);
    if (rc < 0 || ferror(out))
        return st_fail(err, ST_EIO, "cannot write the report");
    return ST_OK;
}
