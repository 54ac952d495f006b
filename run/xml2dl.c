/* xml2dl.c - libxml2, loaded on first use (common/dynlib.h says why): the
 * functions strata calls (the JUnit report, run/report_junit.c, and the
 * tests that read it back), each forwarding to libxml2's own. A run with
 * another output format never loads libxml2 and ICU. */
#include "common/dynlib.h"

#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlwriter.h>

#ifndef STRATA_XML2_SONAME
#error "STRATA_XML2_SONAME: CMake defines it (the SONAME of the libxml2 found)"
#endif

static dynlib_t lib = DYNLIB_INIT(STRATA_XML2_SONAME, "libxml2");

DYNLIB_SLOT(xmlOutputBufferCreateFile);
xmlOutputBufferPtr xmlOutputBufferCreateFile(FILE *file, xmlCharEncodingHandlerPtr encoder)
{
    return DYNLIB_CALL(lib, xmlOutputBufferCreateFile)(file, encoder);
}

DYNLIB_SLOT(xmlOutputBufferClose);
int xmlOutputBufferClose(xmlOutputBufferPtr out)
{
    return DYNLIB_CALL(lib, xmlOutputBufferClose)(out);
}

DYNLIB_SLOT(xmlNewTextWriter);
xmlTextWriterPtr xmlNewTextWriter(xmlOutputBufferPtr out)
{
    return DYNLIB_CALL(lib, xmlNewTextWriter)(out);
}

DYNLIB_SLOT(xmlFreeTextWriter);
void xmlFreeTextWriter(xmlTextWriterPtr writer)
{
    DYNLIB_CALL(lib, xmlFreeTextWriter)(writer);
}

DYNLIB_SLOT(xmlTextWriterSetIndent);
int xmlTextWriterSetIndent(xmlTextWriterPtr writer, int indent)
{
    return DYNLIB_CALL(lib, xmlTextWriterSetIndent)(writer, indent);
}

DYNLIB_SLOT(xmlTextWriterSetIndentString);
int xmlTextWriterSetIndentString(xmlTextWriterPtr writer, const xmlChar *str)
{
    return DYNLIB_CALL(lib, xmlTextWriterSetIndentString)(writer, str);
}

DYNLIB_SLOT(xmlTextWriterStartDocument);
int xmlTextWriterStartDocument(xmlTextWriterPtr writer, const char *version, const char *encoding,
                               const char *standalone)
{
    return DYNLIB_CALL(lib, xmlTextWriterStartDocument)(writer, version, encoding, standalone);
}

DYNLIB_SLOT(xmlTextWriterEndDocument);
int xmlTextWriterEndDocument(xmlTextWriterPtr writer)
{
    return DYNLIB_CALL(lib, xmlTextWriterEndDocument)(writer);
}

DYNLIB_SLOT(xmlTextWriterStartElement);
int xmlTextWriterStartElement(xmlTextWriterPtr writer, const xmlChar *name)
{
    return DYNLIB_CALL(lib, xmlTextWriterStartElement)(writer, name);
}

DYNLIB_SLOT(xmlTextWriterEndElement);
int xmlTextWriterEndElement(xmlTextWriterPtr writer)
{
    return DYNLIB_CALL(lib, xmlTextWriterEndElement)(writer);
}

DYNLIB_SLOT(xmlTextWriterWriteAttribute);
int xmlTextWriterWriteAttribute(xmlTextWriterPtr writer, const xmlChar *name,
                                const xmlChar *content)
{
    return DYNLIB_CALL(lib, xmlTextWriterWriteAttribute)(writer, name, content);
}

DYNLIB_SLOT(xmlTextWriterWriteString);
int xmlTextWriterWriteString(xmlTextWriterPtr writer, const xmlChar *content)
{
    return DYNLIB_CALL(lib, xmlTextWriterWriteString)(writer, content);
}

DYNLIB_SLOT(xmlTextWriterFlush);
int xmlTextWriterFlush(xmlTextWriterPtr writer)
{
    return DYNLIB_CALL(lib, xmlTextWriterFlush)(writer);
}

DYNLIB_SLOT(xmlReadMemory);
xmlDocPtr xmlReadMemory(const char *buffer, int size, const char *URL, const char *encoding,
                        int options)
{
    return DYNLIB_CALL(lib, xmlReadMemory)(buffer, size, URL, encoding, options);
}

DYNLIB_SLOT(xmlFreeDoc);
void xmlFreeDoc(xmlDocPtr cur)
{
    DYNLIB_CALL(lib, xmlFreeDoc)(cur);
}
