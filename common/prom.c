/* prom.c - the Prometheus text format writer (see prom.h).
 *
 * Numbers are printed with the C locale's printf, which never groups
 * digits: integers as integers, so that counters of bytes do not read as
 * 1.2e+09, and a real value in the fewest of 15 or 17 significant digits
 * that reads back to the same double (0.05, not 0.050000000000000003). */
#include "common/prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(prom_type_t type)
{
    switch (type) {
    case PROM_COUNTER:
        return "counter";
    case PROM_GAUGE:
        return "gauge";
    case PROM_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

/* s escaped: backslash and newline always, the double quote in a label
 * value (in_label). */
static st_rc_t escaped(buf_t *b, const char *s, int in_label)
{
    st_rc_t rc = ST_OK;

    for (; *s != '\0' && rc == ST_OK; s++) {
        if (*s == '\\')
            rc = buf_append(b, "\\\\", 2);
        else if (*s == '\n')
            rc = buf_append(b, "\\n", 2);
        else if (*s == '"' && in_label)
            rc = buf_append(b, "\\\"", 2);
        else
            rc = buf_append_byte(b, (uint8_t)*s);
    }
    return rc;
}

st_rc_t prom_family(buf_t *b, const char *name, prom_type_t type, const char *help)
{
    st_rc_t rc = buf_printf(b, "# HELP %s ", name);

    if (rc == ST_OK)
        rc = escaped(b, help, 0);
    if (rc == ST_OK)
        rc = buf_printf(b, "\n# TYPE %s %s\n", name, type_name(type));
    return rc;
}

/* name{labels} (no braces without labels), before the value. */
static st_rc_t series(buf_t *b, const char *name, const prom_label_t *labels, size_t n)
{
    st_rc_t rc = buf_append(b, name, strlen(name));

    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        rc = buf_printf(b, "%c%s=\"", i == 0 ? '{' : ',', labels[i].name);
        if (rc == ST_OK)
            rc = escaped(b, labels[i].value, 1);
        if (rc == ST_OK)
            rc = buf_append_byte(b, '"');
    }
    if (rc == ST_OK && n > 0)
        rc = buf_append_byte(b, '}');
    return rc;
}

st_rc_t prom_sample(buf_t *b, const char *name, const prom_label_t *labels, size_t n,
                    uint64_t value)
{
    st_rc_t rc = series(b, name, labels, n);

    return rc == ST_OK ? buf_printf(b, " %llu\n", (unsigned long long)value) : rc;
}

/* A finite v in out: 15 significant digits when they read back exactly. */
static void shortest(char *out, size_t cap, double v)
{
    snprintf(out, cap, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, cap, "%.17g", v);
}

/* A real value as Prometheus spells it. */
static st_rc_t real(buf_t *b, double v)
{
    char text[64];

    if (isnan(v))
        return buf_printf(b, "NaN");
    if (isinf(v))
        return buf_printf(b, v > 0 ? "+Inf" : "-Inf");
    shortest(text, sizeof text, v);
    return buf_append(b, text, strlen(text));
}

st_rc_t prom_sample_real(buf_t *b, const char *name, const prom_label_t *labels, size_t n,
                         double value)
{
    st_rc_t rc = series(b, name, labels, n);

    if (rc == ST_OK)
        rc = buf_append_byte(b, ' ');
    if (rc == ST_OK)
        rc = real(b, value);
    return rc == ST_OK ? buf_append_byte(b, '\n') : rc;
}

st_rc_t prom_histogram(buf_t *b, const char *name, const double *bounds, const uint64_t *cumulative,
                       size_t n_bounds, uint64_t count, double sum)
{
    char series_name[128], le[64];
    uint64_t last = 0;
    st_rc_t rc = ST_OK;

    if ((size_t)snprintf(series_name, sizeof series_name, "%s_bucket", name) >= sizeof series_name)
        return ST_EINVAL;
    for (size_t i = 0; i < n_bounds && rc == ST_OK; i++) {
        uint64_t c = cumulative[i];
        c = c < last ? last : c > count ? count : c;
        last = c;
        shortest(le, sizeof le, bounds[i]);
        rc = prom_sample(b, series_name, &(prom_label_t){"le", le}, 1, c);
    }
    if (rc == ST_OK)
        rc = prom_sample(b, series_name, &(prom_label_t){"le", "+Inf"}, 1, count);
    snprintf(series_name, sizeof series_name, "%s_sum", name);
    if (rc == ST_OK)
        rc = prom_sample_real(b, series_name, NULL, 0, sum);
    snprintf(series_name, sizeof series_name, "%s_count", name);
    if (rc == ST_OK)
        rc = prom_sample(b, series_name, NULL, 0, count);
    return rc;
}
