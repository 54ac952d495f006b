/* options.c - the command line of every subcommand: one parser, driven by
 * one table per subcommand.
 *
 * A row names an option, how its value is read (a number in a range, a size
 * with units, an address, one of a few words, or a setter), where it goes
 * in the config and what a bad value is told; so `--jobs=x` and `-j x` fail
 * alike. The subcommands' conventions predate the shared parser and users
 * see their messages, so each parser_t states its own (check's short
 * options and "--", keygen's values only as the next argument) rather than
 * the parser making them one. What `check` parses lives in one arena owned
 * by the config. The usage texts are in usage.c. */
#include "cli/options.h"

#include "common/alloc.h"
#include "common/cpus.h"
#include "common/proto.h"
#include "common/proto_client.h"
#include "coordinator/metricsd.h"
#include "run/env.h"
#include "run/remote.h"
#include "run/report_formats.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Positions are uint32_t in the scan, so no file may exceed this. */
#define CLI_MAX_FILE_BYTES ((size_t)UINT32_MAX)

typedef enum {
    OPT_FLAG,  /* no value: sets a bool */
    OPT_STR,   /* a non-empty string, borrowed from argv */
    OPT_ADDR,  /* an address: ipc://... or tcp://... */
    OPT_UINT,  /* decimal digits, from min to max */
    OPT_BYTES, /* a size (cli_parse_bytes), from min to max */
    OPT_ENUM,  /* one of names[], stored as values[] of its index */
    OPT_CALL   /* set() reads and stores it, with messages of its own */
} opt_kind_t;

/* Reads value for the option spelt flag into cfg. */
typedef st_rc_t (*opt_set_t)(void *cfg, const char *flag, const char *value, st_err_t *err);

typedef struct {
    const char *name; /* "--jobs" */
    char short_name;  /* 'j' for -j; 0: none */
    opt_kind_t kind;
    size_t offset, size; /* the field it sets in the config: FIELD() */
    size_t seen;         /* SEEN(): a bool also set when it is given; 0: none */
    uint64_t min, max;   /* OPT_UINT, OPT_BYTES */
    /* Message templates: %f the option as spelt, %v the value, %M max. */
    const char *bad;          /* a bad value */
    const char *missing;      /* no value; NULL: the parser's; "": as bad */
    const char *const *names; /* OPT_ENUM, NULL-terminated */
    const unsigned *values;
    opt_set_t set; /* OPT_CALL; for OPT_FLAG, sets the flag's meaning instead */
    bool stop;     /* nothing after it is parsed (keygen's --help) */
} opt_t;

#define FIELD(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define SEEN(type, member) .seen = offsetof(type, member) + 1

/* A subcommand's conventions and options. */
typedef struct {
    const opt_t *opts;
    size_t n_opts;
    /* check's: -j4 and -q (an attached value is the value; on a flag it is
     * an error), "--" ends the options, "-" is an argument. Elsewhere an
     * attached value on a flag makes the argument unknown. */
    bool check_style;
    bool no_attached;       /* --name=value is not accepted */
    bool empty_is_missing;  /* "--name=" and "--name ''" read as no value */
    const char *missing;    /* template for a missing value; NULL: the option's bad */
    const char *unknown;    /* template for an unknown argument starting with '-' */
    const char *unexpected; /* ... for another unknown argument */
    /* Takes the arguments no option matched (not check's unknown options);
     * NULL: they are errors. */
    st_rc_t (*other)(void *cfg, const char *arg, st_err_t *err);
    size_t given; /* offset + 1 of a uint64_t: bit i set when opts[i] is given; 0: none */
} parser_t;

#define OPTS(table) .opts = table, .n_opts = sizeof table / sizeof table[0]

/* Fails with ST_EINVAL and template t expanded (see opt_t), cut as st_fail
 * cuts a message. */
static st_rc_t fail_with(st_err_t *err, const char *t, const char *flag, const char *value,
                         uint64_t max)
{
    char msg[ST_ERR_MSG_MAX], num[24];
    size_t n = 0;

    for (; *t != '\0' && n + 1 < sizeof msg; t++) {
        const char *insert = NULL;

        if (t[0] == '%' && (t[1] == 'f' || t[1] == 'v' || t[1] == 'M')) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)max);
            insert = *++t == 'f' ? flag : *t == 'v' ? value : num;
        }
        if (insert == NULL) {
            msg[n++] = *t;
            continue;
        }
        for (; *insert != '\0' && n + 1 < sizeof msg; insert++)
            msg[n++] = *insert;
    }
    msg[n] = '\0';
    return st_fail(err, ST_EINVAL, "%s", msg);
}

/* Strict decimal: digits only, no sign, no overflow past max. */
static bool parse_size(const char *s, size_t max, size_t *out)
{
    size_t v = 0;

    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (max - (size_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return true;
}

static bool is_endpoint(const char *v)
{
    return (strncmp(v, "ipc://", 6) == 0 || strncmp(v, "tcp://", 6) == 0) && v[6] != '\0';
}

/* Stores an unsigned or 64-bit field of the config. */
static void store_uint(void *cfg, const opt_t *o, uint64_t v)
{
    char *at = (char *)cfg + o->offset;
    unsigned u = (unsigned)v;

    if (o->size == sizeof u)
        memcpy(at, &u, sizeof u);
    else
        memcpy(at, &v, sizeof v);
}

/* The number of value for OPT_UINT and OPT_BYTES; false when bad. */
static bool read_number(const opt_t *o, const char *value, uint64_t *out)
{
    size_t n;

    if (o->kind == OPT_UINT) {
        if (!parse_size(value, (size_t)o->max, &n))
            return false;
        *out = n;
    } else if (!cli_parse_bytes(value, out) || *out > o->max) {
        return false;
    }
    return *out >= o->min;
}

/* The value of the word value among o's names; false when none. */
static bool enum_value(const opt_t *o, const char *value, uint64_t *out)
{
    for (size_t i = 0; o->names[i] != NULL; i++) {
        if (strcmp(o->names[i], value) == 0) {
            *out = o->values[i];
            return true;
        }
    }
    return false;
}

/* Reads and stores the value of option o (NULL for a flag). */
static st_rc_t set_value(const opt_t *o, void *cfg, const char *flag, const char *value,
                         st_err_t *err)
{
    char *at = (char *)cfg + o->offset;
    bool ok = true;
    uint64_t n = 0;

    if (o->kind == OPT_FLAG && o->set != NULL) /* a flag that clears */
        return o->set(cfg, flag, NULL, err);
    if (o->kind == OPT_FLAG)
        *(bool *)at = true;
    else if (o->kind == OPT_STR || o->kind == OPT_ADDR)
        ok = o->kind == OPT_STR ? *value != '\0' : is_endpoint(value);
    else if (o->kind == OPT_UINT || o->kind == OPT_BYTES)
        ok = read_number(o, value, &n);
    else if (o->kind == OPT_CALL)
        return o->set(cfg, flag, value, err);
    else if (o->kind == OPT_ENUM)
        ok = enum_value(o, value, &n);
    if (!ok)
        return fail_with(err, o->bad, flag, value, o->max);
    if (o->kind == OPT_STR || o->kind == OPT_ADDR)
        memcpy(at, &value, sizeof value);
    else if (o->kind != OPT_FLAG)
        store_uint(cfg, o, n);
    if (o->seen != 0)
        *(bool *)((char *)cfg + o->seen - 1) = true;
    return ST_OK;
}

/* The option arg names, and its attached value ("--jobs=4", "-j4"), if any. */
static const opt_t *find_opt(const parser_t *p, const char *arg, const char **value)
{
    size_t len = p->no_attached ? strlen(arg) : strcspn(arg, "=");

    *value = NULL;
    if (arg[0] != '-' || arg[1] == '\0')
        return NULL;
    for (size_t i = 0; i < p->n_opts; i++) {
        const opt_t *o = &p->opts[i];

        if (arg[1] != '-' && o->short_name != 0 && o->short_name == arg[1]) {
            *value = arg[2] != '\0' ? arg + 2 : NULL;
            return o;
        }
        if (arg[1] == '-' && strlen(o->name) == len && memcmp(o->name, arg, len) == 0) {
            *value = arg[len] == '=' ? arg + len + 1 : NULL;
            return o;
        }
    }
    return NULL;
}

/* Applies option o at argv[*i], taking its value (attached, else the next
 * argument). */
static st_rc_t take_opt(const parser_t *p, const opt_t *o, void *cfg, int argc, char *const *argv,
                        int *i, const char *value, st_err_t *err)
{
    char short_flag[3] = {'-', o->short_name, '\0'};
    const char *flag = argv[*i][1] == '-' ? o->name : short_flag;
    const char *missing = o->missing != NULL ? o->missing : p->missing;

    if (o->kind == OPT_FLAG) {
        if (value != NULL)
            return fail_with(err, "option '%f' takes no value", flag, value, 0);
        return set_value(o, cfg, flag, NULL, err);
    }
    if (value == NULL && *i + 1 < argc)
        value = argv[++*i];
    if (value == NULL || (p->empty_is_missing && *value == '\0'))
        return fail_with(err, missing == NULL || *missing == '\0' ? o->bad : missing, flag, "",
                         o->max);
    return set_value(o, cfg, flag, value, err);
}

/* An argument no option matched. */
static st_rc_t take_other(const parser_t *p, void *cfg, const char *arg, bool options_done,
                          st_err_t *err)
{
    bool dash = !options_done && arg[0] == '-' && (arg[1] != '\0' || !p->check_style);

    if (p->other != NULL && !(dash && p->check_style))
        return p->other(cfg, arg, err);
    return fail_with(err, dash ? p->unknown : p->unexpected, NULL, arg, 0);
}

/* Parses argv[0..argc) into cfg by p's table and conventions. */
static st_rc_t parse_opts(const parser_t *p, void *cfg, int argc, char *const *argv, st_err_t *err)
{
    bool options_done = false;

    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        const opt_t *o;
        st_rc_t rc;

        if (p->check_style && !options_done && strcmp(argv[i], "--") == 0) {
            options_done = true;
            continue;
        }
        o = options_done ? NULL : find_opt(p, argv[i], &value);
        if (o != NULL && o->kind == OPT_FLAG && value != NULL && !p->check_style)
            o = NULL;
        rc = o != NULL ? take_opt(p, o, cfg, argc, argv, &i, value, err)
                       : take_other(p, cfg, argv[i], options_done, err);
        if (rc == ST_OK && o != NULL && p->given != 0 && o - p->opts < 64)
            *(uint64_t *)((char *)cfg + p->given - 1) |= UINT64_C(1) << (o - p->opts);
        if (rc != ST_OK || (o != NULL && o->stop))
            return rc;
    }
    return ST_OK;
}

/* ---- strata check and strata graph -------------------------------------- */

/* Appends item to a growing array of strings in arena a. */
static st_rc_t push_str(arena_t *a, const char ***items, size_t *n, const char *item, st_err_t *err)
{
    const char **grown;
    size_t old_bytes, new_bytes;

    /* Capacity is the next power of two >= n: grow when n is one. */
    if (*n == 0 || (*n & (*n - 1)) == 0) {
        if (!st_mul_size(*n, sizeof **items, &old_bytes) ||
            !st_mul_size(*n == 0 ? 1 : *n * 2, sizeof **items, &new_bytes))
            return st_fail(err, ST_ELIMIT, "too many arguments");
        grown = arena_realloc(a, (void *)*items, old_bytes, new_bytes);
        if (grown == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory parsing arguments");
        *items = grown;
    }
    (*items)[(*n)++] = item;
    return ST_OK;
}

static bool valid_code(const char *s, size_t len)
{
    size_t i = 0;

    if (len == 3 && memcmp(s, "ALL", 3) == 0)
        return true;
    if (len == 0 || len > CLI_MAX_CODE_LEN)
        return false;
    while (i < len && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    if (i == 0)
        return false;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i == len;
}

st_rc_t cli_parse_codes(arena_t *a, const char *list, const char ***codes, size_t *n, st_err_t *err)
{
    const char *p = list;

    for (;;) {
        size_t len = strcspn(p, ",");
        char *code;

        if (!valid_code(p, len))
            return st_fail(err, ST_EINVAL,
                           "invalid rule code '%.*s' in '%s' (expected a code or prefix "
                           "such as F, F4, F401, or ALL)",
                           (int)len, p, list);
        /* "ALL" is the empty prefix: it matches every code. */
        code = arena_strndup(a, p, len == 3 && memcmp(p, "ALL", 3) == 0 ? 0 : len);
        if (code == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory parsing arguments");
        if (push_str(a, codes, n, code, err) != ST_OK)
            return err != NULL ? err->code : ST_ENOMEM;
        if (p[len] == '\0')
            return ST_OK;
        p += len + 1;
    }
}

bool cli_parse_bytes(const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    uint64_t v = 0;
    unsigned shift = 0;
    const char *u;

    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s != '\0') {
        if (*s == ' ' || (u = strchr(units, *s & ~0x20)) == NULL)
            return false;
        shift = 10 * (unsigned)(u - units + 1);
        s++;
        if (strcmp(s, "") != 0 && strcasecmp(s, "B") != 0 && strcasecmp(s, "iB") != 0)
            return false;
        if (v > (UINT64_MAX >> shift))
            return false;
    }
    *out = v << shift;
    return true;
}

static const opt_t graph_format = {.kind = OPT_ENUM,
                                   FIELD(cli_check_t, format),
                                   .names = (const char *const[]){"json", "dot", NULL},
                                   .values =
                                       (const unsigned[]){REPORT_FORMAT_JSON, REPORT_FORMAT_DOT},
                                   .bad = "invalid value '%v' for %f (expected json or dot)"};

/* --output-format and --format: a report format (report_format_parse, as
 * the configuration file's key), or json/dot for `strata graph`. */
static st_rc_t set_format(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    cli_check_t *c = cfg;
    report_format_t f;

    if (c->graph)
        return set_value(&graph_format, cfg, flag, value, err);
    if (report_format_parse(value, &f, NULL) != ST_OK)
        return st_fail(err, ST_EINVAL, "invalid value '%s' for %s (expected %s)", value, flag,
                       report_format_names());
    c->format = f;
    c->format_given = true;
    return ST_OK;
}

static st_rc_t set_select(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    cli_check_t *c = cfg;

    (void)flag;
    return cli_parse_codes(c->arena, value, &c->rules.select, &c->rules.n_select, err);
}

static st_rc_t set_ignore(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    cli_check_t *c = cfg;

    (void)flag;
    return cli_parse_codes(c->arena, value, &c->rules.ignore, &c->rules.n_ignore, err);
}

static st_rc_t set_exclude(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    cli_check_t *c = cfg;

    if (*value == '\0')
        return st_fail(err, ST_EINVAL, "empty pattern for %s", flag);
    return push_str(c->arena, &c->exclude, &c->n_exclude, value, err);
}

static st_rc_t set_root(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    cli_check_t *c = cfg;

    if (*value == '\0')
        return st_fail(err, ST_EINVAL, "empty directory for %s", flag);
    return push_str(c->arena, &c->roots, &c->n_roots, value, err);
}

static st_rc_t set_no_gitignore(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag, (void)value, (void)err;
    ((cli_check_t *)cfg)->respect_gitignore = false;
    return ST_OK;
}

static st_rc_t set_python_version(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    unsigned major, minor;

    if (!env_parse_version(value, &major, &minor))
        return st_fail(err, ST_EINVAL,
                       "invalid value '%.40s' for %s (expected 3.0 to 3.99, such as 3.12)", value,
                       flag);
    ((cli_check_t *)cfg)->python_version = value;
    return ST_OK;
}

static st_rc_t set_python_platform(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (!env_valid_platform(value))
        return st_fail(err, ST_EINVAL,
                       "invalid value '%.40s' for %s (expected a sys.platform value such as "
                       "linux, darwin or win32)",
                       value, flag);
    ((cli_check_t *)cfg)->python_platform = value;
    return ST_OK;
}

static st_rc_t set_remote_cache(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (rcache_check_url(value, err) != ST_OK) {
        if (strcmp(flag, "--remote-cache") != 0) {
            char msg[ST_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return st_fail(err, ST_EINVAL, "%s (%s)", msg, flag);
        }
        return ST_EINVAL;
    }
    ((cli_check_t *)cfg)->remote_cache = value;
    return ST_OK;
}

/* Seconds, with up to three decimals: 0.5, 2, 10.25; 0.001 to 600. */
static st_rc_t set_remote_timeout(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    unsigned long whole = 0, frac = 0, scale = 1000;
    const char *p = value;

    while (*p >= '0' && *p <= '9' && whole <= 600)
        whole = whole * 10 + (unsigned long)(*p++ - '0');
    if (*p == '.' && p[1] != '\0') {
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
            scale /= 10;
            frac += (unsigned long)(*p - '0') * scale;
        }
    }
    if (p == value || *p != '\0' || whole * 1000 + frac == 0 || whole * 1000 + frac > 600000)
        return st_fail(err, ST_EINVAL,
                       "invalid value '%.40s' for %s (expected seconds from 0.001 to 600)", value,
                       flag);
    ((cli_check_t *)cfg)->remote_timeout_ms = (unsigned)(whole * 1000 + frac);
    return ST_OK;
}

static st_rc_t add_path(void *cfg, const char *arg, st_err_t *err)
{
    cli_check_t *c = cfg;
    return push_str(c->arena, &c->paths, &c->n_paths, arg, err);
}

static const opt_t check_opts[] = {
    {"--format", .kind = OPT_CALL, .set = set_format},
    {"--output-format", .kind = OPT_CALL, .set = set_format},
    {"--output-file", .kind = OPT_STR, FIELD(cli_check_t, output_file), .bad = "empty path for %f"},
    {"--statistics", .kind = OPT_FLAG, FIELD(cli_check_t, statistics)},
    {"--exit-zero", .kind = OPT_FLAG, FIELD(cli_check_t, exit_zero)},
    {"--jobs", 'j', OPT_UINT, FIELD(cli_check_t, jobs), .max = CLI_MAX_JOBS,
     .bad = "invalid value '%v' for %f (expected a number from 0 to %M)"},
    {"--select", .kind = OPT_CALL, .set = set_select},
    {"--ignore", .kind = OPT_CALL, .set = set_ignore},
    {"--exclude", .kind = OPT_CALL, .set = set_exclude},
    {"--max-file-size", .kind = OPT_UINT, FIELD(cli_check_t, max_file_bytes), .min = 1,
     .max = CLI_MAX_FILE_BYTES, .bad = "invalid value '%v' for %f (expected bytes, from 1 to %M)"},
    {"--cache-dir", .kind = OPT_STR, FIELD(cli_check_t, cache_dir),
     .bad = "empty directory for %f"},
    {"--no-cache", .kind = OPT_FLAG, FIELD(cli_check_t, no_cache)},
    {"--no-workers", .kind = OPT_FLAG, FIELD(cli_check_t, no_workers)},
    {"--workers", .kind = OPT_UINT, FIELD(cli_check_t, workers), .min = 1, .max = 64,
     .bad = "invalid value '%v' for %f (expected a number from 1 to %M)"},
    {"--job-timeout", .kind = OPT_UINT, FIELD(cli_check_t, job_timeout_s), .min = 1, .max = 86400,
     .bad = "invalid value '%v' for %f (expected seconds from 1 to %M)"},
    {"--durability", .kind = OPT_ENUM, FIELD(cli_check_t, durability),
     .names = (const char *const[]){"memory", "buffered", "strict", NULL},
     .values = (const unsigned[]){CAS_MEMORY, CAS_BUFFERED, CAS_STRICT},
     .bad = "invalid value '%v' for %f (expected memory, buffered or strict)"},
    {"--quiet", 'q', OPT_FLAG, FIELD(cli_check_t, quiet)},
    {"--root", .kind = OPT_CALL, .set = set_root},
    {"--explain", .kind = OPT_FLAG, FIELD(cli_check_t, explain)},
    {"--respect-gitignore", .kind = OPT_FLAG, FIELD(cli_check_t, respect_gitignore)},
    {"--no-respect-gitignore", .kind = OPT_FLAG, .set = set_no_gitignore},
    {"--show-files", .kind = OPT_FLAG, FIELD(cli_check_t, show_files)},
    {"--stdin-filename", .kind = OPT_STR, FIELD(cli_check_t, stdin_filename),
     .bad = "empty path for %f"},
    {"--help", 'h', OPT_FLAG, FIELD(cli_check_t, help)},
    {"--config", .kind = OPT_STR, FIELD(cli_check_t, config), .bad = "empty file name for %f"},
    {"--isolated", .kind = OPT_FLAG, FIELD(cli_check_t, isolated)},
    {"--python", .kind = OPT_STR, FIELD(cli_check_t, python), .bad = "empty path for %f"},
    {"--python-version", .kind = OPT_CALL, .set = set_python_version},
    {"--python-platform", .kind = OPT_CALL, .set = set_python_platform},
    {"--no-python", .kind = OPT_FLAG, FIELD(cli_check_t, no_python)},
    {"--no-environment", .kind = OPT_FLAG, FIELD(cli_check_t, no_environment)},
    {"--remote-cache", .kind = OPT_CALL, .set = set_remote_cache},
    {"--remote-cache-upload", .kind = OPT_FLAG, FIELD(cli_check_t, remote_cache_upload)},
    {"--remote-cache-auth-file", .kind = OPT_STR, FIELD(cli_check_t, remote_auth_file),
     .bad = "empty file name for %f"},
    {"--remote-cache-ca", .kind = OPT_STR, FIELD(cli_check_t, remote_ca),
     .bad = "empty file name for %f"},
    {"--remote-cache-timeout", .kind = OPT_CALL, .set = set_remote_timeout},
};

static const parser_t check_parser = {OPTS(check_opts),
                                      .check_style = true,
                                      .missing = "option '%f' needs a value",
                                      .unknown = "unknown option '%v'",
                                      .other = add_path,
                                      .given = offsetof(cli_check_t, given_) + 1};

static const opt_t *check_opt(const char *flag)
{
    for (size_t i = 0; i < sizeof check_opts / sizeof check_opts[0]; i++)
        if (strcmp(check_opts[i].name, flag) == 0)
            return &check_opts[i];
    return NULL;
}

bool cli_check_given(const cli_check_t *cfg, const char *flag)
{
    const opt_t *o = check_opt(flag);
    size_t i = o != NULL ? (size_t)(o - check_opts) : 64;

    return i < 64 && (cfg->given_ & (UINT64_C(1) << i)) != 0;
}

st_rc_t cli_check_set(cli_check_t *cfg, const char *flag, const char *shown, const char *value,
                      st_err_t *err)
{
    const opt_t *o = check_opt(flag);

    if (o == NULL)
        return st_fail(err, ST_EINVAL, "no option %s", flag);
    if (o->kind != OPT_FLAG)
        return set_value(o, cfg, shown, value, err);
    *(bool *)((char *)cfg + o->offset) = strcmp(value, "true") == 0;
    return ST_OK;
}

static st_rc_t parse_check_or_graph(int argc, char *const *argv, bool graph, cli_check_t *out,
                                    st_err_t *err)
{
    cli_check_t cfg = {.durability = CAS_BUFFERED, .graph = graph, .respect_gitignore = true};
    st_rc_t rc;

    if ((cfg.arena = arena_new(4096)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory parsing arguments");
    rc = parse_opts(&check_parser, &cfg, argc, argv, err);
    if (rc == ST_OK && cfg.config != NULL && cfg.isolated)
        rc = st_fail(err, ST_EINVAL, "--config and --isolated exclude each other");
    if (rc == ST_OK && cfg.n_paths == 0)
        rc = add_path(&cfg, ".", err);
    if (rc != ST_OK) {
        cli_check_free(&cfg);
        return rc;
    }
    if (cfg.help) {
        arena_t *a = cfg.arena;
        cfg = (cli_check_t){.arena = a,
                            .help = true,
                            .durability = CAS_BUFFERED,
                            .graph = graph,
                            .respect_gitignore = true};
    }
    if (cfg.jobs == 0)
        cfg.jobs = cpus_online(CLI_MAX_JOBS);
    *out = cfg;
    return ST_OK;
}

st_rc_t cli_parse_check(int argc, char *const *argv, cli_check_t *out, st_err_t *err)
{
    return parse_check_or_graph(argc, argv, false, out, err);
}

st_rc_t cli_parse_graph(int argc, char *const *argv, cli_check_t *out, st_err_t *err)
{
    return parse_check_or_graph(argc, argv, true, out, err);
}

void cli_check_free(cli_check_t *cfg)
{
    if (cfg == NULL)
        return;
    arena_destroy(&cfg->arena);
    *cfg = (cli_check_t){0};
}

/* ---- strata cache ------------------------------------------------------- */

typedef struct {
    cli_cache_t c;
    bool has_size; /* --max-size given */
} cache_args_t;

static const opt_t cache_opts[] = {
    {"--help", 'h', OPT_FLAG, FIELD(cache_args_t, c.help)},
    {"--cache-dir", .kind = OPT_STR, FIELD(cache_args_t, c.cache_dir),
     .bad = "option '%f' needs a directory", .missing = ""},
    {"--max-size", .kind = OPT_BYTES, FIELD(cache_args_t, c.max_size), SEEN(cache_args_t, has_size),
     .max = UINT64_MAX,
     .bad = "invalid value '%v' for %f (expected bytes, or a number with K, M, G or T: 100M, 2G)"},
};

static const parser_t cache_parser = {OPTS(cache_opts), .missing = "option '%f' needs a value",
                                      .unknown = "unknown option '%v'",
                                      .unexpected = "unexpected argument '%v'"};

static st_rc_t cache_action(const char *name, cli_cache_action_t *out, st_err_t *err)
{
    static const char *const names[] = {"stats", "verify", "gc", "clear"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (cli_cache_action_t)i;
            return ST_OK;
        }
    }
    return st_fail(err, ST_EINVAL, "unknown action '%s' (expected stats, verify, gc or clear)",
                   name);
}

st_rc_t cli_parse_cache(int argc, char *const *argv, cli_cache_t *out, st_err_t *err)
{
    cache_args_t a = {{0}, false};
    st_rc_t rc;

    if (argc < 1)
        return st_fail(err, ST_EINVAL, "missing action (stats, verify, gc or clear)");
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        *out = (cli_cache_t){.help = true};
        return ST_OK;
    }
    if ((rc = cache_action(argv[0], &a.c.action, err)) != ST_OK ||
        (rc = parse_opts(&cache_parser, &a, argc - 1, argv + 1, err)) != ST_OK)
        return rc;
    if (!a.c.help && a.c.action == CLI_CACHE_GC && !a.has_size)
        return st_fail(err, ST_EINVAL, "gc needs --max-size SIZE (e.g. 100M)");
    if (a.c.action != CLI_CACHE_GC && a.has_size)
        return st_fail(err, ST_EINVAL, "--max-size is for gc only");
    *out = a.c;
    return ST_OK;
}

/* ---- strata worker ------------------------------------------------------- */

static const opt_t worker_opts[] = {
    {"--help", 'h', OPT_FLAG, FIELD(cli_worker_t, help)},
    {"--no-cache", .kind = OPT_FLAG, FIELD(cli_worker_t, no_cache)},
    {"--cache-dir", .kind = OPT_STR, FIELD(cli_worker_t, cache_dir),
     .bad = "option '%f' needs a directory"},
    {"--cache-mem", .kind = OPT_BYTES, FIELD(cli_worker_t, cache_mem), .min = 1, .max = SIZE_MAX,
     .bad = "invalid value for %f (expected a size such as 64M)"},
    {"--job-limit", .kind = OPT_UINT, FIELD(cli_worker_t, job_limit_s), .min = 1,
     .max = PROTO_MAX_JOB_LIMIT_S, .bad = "invalid value for %f (expected seconds from 1 to %M)"},
    {"--connect", .kind = OPT_ADDR, FIELD(cli_worker_t, connect),
     .bad = "option '%f' needs an address: ipc:///path or tcp://host:port"},
    {"--threads", .kind = OPT_UINT, FIELD(cli_worker_t, threads), .max = CLI_MAX_JOBS,
     .bad = "invalid value for %f (expected a number from 0 to %M)"},
    {"--cpuset", .kind = OPT_STR, FIELD(cli_worker_t, cpuset),
     .bad = "option '%f' needs a CPU list (0-3,8)"},
    {"--server-key", .kind = OPT_STR, FIELD(cli_worker_t, server_key),
     .bad = "option '%f' needs a file"},
    {"--key", .kind = OPT_STR, FIELD(cli_worker_t, key), .bad = "option '%f' needs a file"},
    {"--numa-node", .kind = OPT_UINT, FIELD(cli_worker_t, numa_node), SEEN(cli_worker_t, numa_only),
     .max = 1023, .bad = "invalid value for %f (expected a number from 0 to %M)"},
    {"--metrics-bind", .kind = OPT_STR, FIELD(cli_worker_t, metrics_bind),
     .bad = "option '%f' needs an address: HOST:PORT"},
};

/* --metrics-bind's HOST:PORT, checked before anything starts. */
static st_rc_t check_metrics_bind(const char *bind, st_err_t *err)
{
    char host[256];
    uint16_t port;

    return bind == NULL ? ST_OK : metricsd_parse_bind(bind, host, sizeof host, &port, err);
}

static const parser_t worker_parser = {OPTS(worker_opts), .unknown = "unknown option '%v'",
                                       .unexpected = "unexpected argument '%v'"};

st_rc_t cli_parse_worker(int argc, char *const *argv, cli_worker_t *out, st_err_t *err)
{
    cli_worker_t w = {0};
    st_rc_t rc;

    if ((rc = parse_opts(&worker_parser, &w, argc, argv, err)) != ST_OK)
        return rc;
    if (!w.help && w.connect == NULL)
        return st_fail(err, ST_EINVAL, "missing --connect ADDR");
    if (!w.help && (w.server_key == NULL) != (w.key == NULL))
        return st_fail(err, ST_EINVAL, "--server-key and --key go together");
    if (!w.help && w.no_cache && (w.cache_dir != NULL || w.cache_mem != 0))
        return st_fail(err, ST_EINVAL, "--no-cache goes with neither --cache-dir nor --cache-mem");
    if (!w.help && (rc = check_metrics_bind(w.metrics_bind, err)) != ST_OK)
        return rc;
    *out = w;
    return ST_OK;
}

/* ---- strata coordinator -------------------------------------------------- */

/* --jobs of the coordinator reads as strtoul does (leading blanks and '+'
 * pass), as it always has. */
static st_rc_t set_coordinator_jobs(void *cfg, const char *flag, const char *value, st_err_t *err)
{
    char *end;
    unsigned long n = strtoul(value, &end, 10);

    (void)flag;
    if (*end != '\0' || value[0] == '-' || n > CLI_MAX_JOBS)
        return st_fail(err, ST_EINVAL, "option '--jobs' needs a number 0..%d", CLI_MAX_JOBS);
    ((cli_coordinator_t *)cfg)->jobs = (unsigned)n;
    return ST_OK;
}

#define COORD_ADDRESS "option '%f' needs an address: ipc:///path or tcp://host:port"
#define COORD_VALUE "option '%f' needs a value"

static const opt_t coordinator_opts[] = {
    {"--help", 'h', OPT_FLAG, FIELD(cli_coordinator_t, help)},
    {"--insecure", .kind = OPT_FLAG, FIELD(cli_coordinator_t, insecure)},
    {"--max-client-bytes", .kind = OPT_BYTES, FIELD(cli_coordinator_t, client_bytes), .min = 1,
     .max = UINT64_MAX, .bad = "option '%f' needs a size (bytes, or with K, M, G: 256M)",
     .missing = ""},
    {"--max-client-batches", .kind = OPT_UINT, FIELD(cli_coordinator_t, client_batches), .min = 1,
     .max = 64, .bad = "option '%f' needs a number 1..%M", .missing = ""},
    {"--max-client-files", .kind = OPT_UINT, FIELD(cli_coordinator_t, client_files), .min = 1,
     .max = PROTO_MAX_FILES, .bad = "option '%f' needs a number 1..%M", .missing = ""},
    {"--bind", .kind = OPT_ADDR, FIELD(cli_coordinator_t, bind), .bad = COORD_ADDRESS},
    {"--workers-bind", .kind = OPT_ADDR, FIELD(cli_coordinator_t, workers_bind),
     .bad = COORD_ADDRESS},
    {"--cache-dir", .kind = OPT_STR, FIELD(cli_coordinator_t, cache_dir), .bad = COORD_VALUE},
    {"--keys", .kind = OPT_STR, FIELD(cli_coordinator_t, keys_dir), .bad = COORD_VALUE},
    {"--allow", .kind = OPT_STR, FIELD(cli_coordinator_t, allow_dir), .bad = COORD_VALUE},
    {"--jobs", .kind = OPT_CALL, .set = set_coordinator_jobs},
    {"--job-timeout", .kind = OPT_UINT, FIELD(cli_coordinator_t, job_timeout_s), .min = 1,
     .max = 86400, .bad = "option '%f' needs seconds, 1 to %M"},
    {"--metrics-bind", .kind = OPT_STR, FIELD(cli_coordinator_t, metrics_bind),
     .bad = "option '%f' needs an address: HOST:PORT"},
};

static const parser_t coordinator_parser = {
    OPTS(coordinator_opts), .empty_is_missing = true, .missing = COORD_VALUE,
    .unknown = "unknown argument '%v'", .unexpected = "unknown argument '%v'"};

st_rc_t cli_parse_coordinator(int argc, char *const *argv, cli_coordinator_t *out, st_err_t *err)
{
    cli_coordinator_t c = {0};
    st_rc_t rc;

    if ((rc = parse_opts(&coordinator_parser, &c, argc, argv, err)) != ST_OK)
        return rc;
    if (!c.help && c.bind == NULL)
        return st_fail(err, ST_EINVAL, "missing --bind ADDR");
    if (!c.help && (c.keys_dir == NULL) != (c.allow_dir == NULL))
        return st_fail(err, ST_EINVAL, "--keys and --allow go together");
    if (!c.help && (rc = check_metrics_bind(c.metrics_bind, err)) != ST_OK)
        return rc;
    *out = c;
    return ST_OK;
}

/* ---- strata submit ------------------------------------------------------- */

typedef struct {
    cli_submit_t s;
    unsigned timeout_s;
    char **rest; /* what no option of submit took, for cli_parse_check */
    int n_rest;
} submit_args_t;

static st_rc_t add_rest(void *cfg, const char *arg, st_err_t *err)
{
    submit_args_t *a = cfg;

    (void)err;
    a->rest[a->n_rest++] = (char *)arg;
    return ST_OK;
}

static const opt_t submit_opts[] = {
    {"--coordinator", .kind = OPT_ADDR, FIELD(submit_args_t, s.coordinator),
     .bad = "option '%f' needs an address: ipc:///path or tcp://host:port"},
    {"--keys", .kind = OPT_STR, FIELD(submit_args_t, s.keys_dir),
     .bad = "option '%f' needs a value"},
    {"--server-key", .kind = OPT_STR, FIELD(submit_args_t, s.server_key),
     .bad = "option '%f' needs a value"},
    {"--timeout", .kind = OPT_UINT, FIELD(submit_args_t, timeout_s), .min = 1, .max = 86400,
     .bad = "option '%f' needs seconds, 1 to %M"},
    {"--help", 'h', OPT_FLAG, FIELD(submit_args_t, s.help)},
};

static const parser_t submit_parser = {OPTS(submit_opts), .other = add_rest};

void cli_submit_free(cli_submit_t *cfg)
{
    cli_check_free(&cfg->check);
    st_free(cfg->rest_);
    cfg->rest_ = NULL;
}

st_rc_t cli_parse_submit(int argc, char *const *argv, cli_submit_t *out, st_err_t *err)
{
    submit_args_t a = {.timeout_s = 5, .rest = st_calloc((size_t)argc + 1, sizeof *a.rest)};
    st_rc_t rc;

    if (a.rest == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    if ((rc = parse_opts(&submit_parser, &a, argc, argv, err)) != ST_OK)
        goto fail;
    a.s.timeout_ms = a.timeout_s * 1000u;
    if (a.s.help) {
        st_free(a.rest);
        *out = a.s;
        return ST_OK;
    }
    if (a.s.coordinator == NULL) {
        rc = st_fail(err, ST_EINVAL, "missing --coordinator ADDR");
        goto fail;
    }
    if ((a.s.keys_dir == NULL) != (a.s.server_key == NULL)) {
        rc = st_fail(err, ST_EINVAL, "--keys and --server-key go together");
        goto fail;
    }
    if ((rc = cli_parse_check(a.n_rest, a.rest, &a.s.check, err)) != ST_OK)
        goto fail;
    a.s.rest_ = a.rest;
    *out = a.s;
    return ST_OK;
fail:
    st_free(a.rest);
    return rc;
}

/* ---- strata keygen ------------------------------------------------------- */

static const opt_t keygen_opts[] = {
    {"--help", 'h', OPT_FLAG, FIELD(cli_keygen_t, help), .stop = true},
    {"--force", .kind = OPT_FLAG, FIELD(cli_keygen_t, force)},
    {"--dir", .kind = OPT_STR, FIELD(cli_keygen_t, dir), .bad = "missing value for '%f'"},
    {"--name", .kind = OPT_STR, FIELD(cli_keygen_t, name), .bad = "missing value for '%f'"},
};

static const parser_t keygen_parser = {OPTS(keygen_opts), .no_attached = true,
                                       .empty_is_missing = true, .unknown = "unknown argument '%v'",
                                       .unexpected = "unknown argument '%v'"};

st_rc_t cli_parse_keygen(int argc, char *const *argv, cli_keygen_t *out, st_err_t *err)
{
    cli_keygen_t k = {.dir = ".", .name = "strata"};
    st_rc_t rc;

    if ((rc = parse_opts(&keygen_parser, &k, argc, argv, err)) != ST_OK)
        return rc;
    *out = k;
    return ST_OK;
}
