/* cli.c - parsing of `strata check` options and rule-code selection.
 *
 * The parser is table-driven: each option names its long and short forms,
 * whether it takes a value, and a setter that validates the value. Keeping
 * validation in the setters means `--jobs=x` and `-j x` fail the same way
 * with the same message. Everything parsed lives in one arena owned by the
 * config, so a failed parse frees in one call and a successful one needs no
 * per-string bookkeeping. */
#include "cli/options.h"

#include "common/alloc.h"
#include "common/cpus.h"
#include "common/proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Positions are uint32_t in the scan, so no file may exceed this. */
#define CLI_MAX_FILE_BYTES ((size_t)UINT32_MAX)

typedef st_rc_t (*cli_setter_t)(cli_check_t *cfg, const char *flag, const char *value,
                                st_err_t *err);

typedef struct {
    const char *long_name; /* without the leading "--" */
    char short_name;       /* 0: none */
    bool takes_value;
    cli_setter_t set;
} cli_option_t;

static const char check_usage[] =
    "usage: strata check [OPTIONS] [PATH...]\n"
    "\n"
    "Check Python files (.py, .pyi) for errors. Directories are walked\n"
    "recursively, skipping hidden directories and __pycache__; a file named\n"
    "explicitly is checked whatever its extension. Without PATH, checks '.'.\n"
    "\n"
    "options:\n"
    "  --format FORMAT       output format: text (default), json, or sarif (SARIF\n"
    "                        2.1.0, for code-scanning tools)\n"
    "  -j, --jobs N          threads to use; 0 (default) means one per online CPU\n"
    "  --select CODES        report only these codes (comma-separated prefixes,\n"
    "                        e.g. F,E9,F401; ALL for every code; default ALL)\n"
    "  --ignore CODES        do not report these codes (prefixes); wins over a\n"
    "                        --select prefix of equal or shorter length\n"
    "  --exclude GLOB        skip files and directories matching GLOB (fnmatch),\n"
    "                        tried on each path component and on the whole path\n"
    "                        below PATH; repeatable; not applied to PATH itself\n"
    "  --max-file-size BYTES files larger than this get one E902 diagnostic\n"
    "                        instead of being checked (default 16777216)\n"
    "  --cache-dir DIR       where scan results are cached (default\n"
    "                        $STRATA_CACHE_DIR, else .strata-cache)\n"
    "  --no-cache            neither read nor write cached results (the\n"
    "                        measured cost of worker processes is still kept\n"
    "                        in the cache directory, when it exists)\n"
    "  --no-workers          scan in this process (default: in worker processes\n"
    "                        on this host, when their measured cost is small\n"
    "                        against the scans)\n"
    "  --workers N           start N worker processes (1 to 64) whatever the\n"
    "                        measured cost; each runs --jobs threads\n"
    "  --job-timeout SECONDS a job a worker has not answered in this long is\n"
    "                        retried on another (3 retries, then an E902 on its\n"
    "                        file); default 120\n"
    "  --durability MODE     memory (no disk), buffered (default: committed in\n"
    "                        batches) or strict (synced before going on)\n"
    "  --root DIR            a search root for module names and imports\n"
    "                        (repeatable, tried in order); default: each PATH\n"
    "                        that is not a package, else its nearest ancestor\n"
    "                        that is not, plus PATH/src in a src layout\n"
    "  --explain             print on stderr why each job that ran did (new\n"
    "                        content, a changed dependency interface, no cache\n"
    "                        entry)\n"
    "  -q, --quiet           no summary line on stderr\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Options take their value as the next argument or after '=' (--jobs=4).\n"
    "'--' ends the options.\n"
    "\n"
    "exit status: 0 no diagnostic, 1 diagnostics reported, 2 usage or internal error\n";

const char *cli_check_usage(void)
{
    return check_usage;
}

static const char graph_usage[] =
    "usage: strata graph [OPTIONS] [PATH...]\n"
    "\n"
    "Print the import graph of the Python files under PATH: each module with\n"
    "its file and the project modules it imports, the strongly connected\n"
    "components (import cycles), their layers and priorities. The files are\n"
    "scanned (through the cache) to read their imports.\n"
    "\n"
    "options:\n"
    "  --format FORMAT       json (default) or dot (Graphviz; cycles as clusters)\n"
    "  --root DIR            a search root (repeatable); see strata check --help\n"
    "  -j, --jobs N, --exclude GLOB, --max-file-size BYTES, --cache-dir DIR,\n"
    "  --no-cache, --durability MODE: as for strata check\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 printed, 2 usage or internal error\n";

const char *cli_graph_usage(void)
{
    return graph_usage;
}

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

static st_rc_t set_format(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (cfg->graph) {
        if (strcmp(value, "json") == 0)
            cfg->format = REPORT_FORMAT_JSON;
        else if (strcmp(value, "dot") == 0)
            cfg->format = REPORT_FORMAT_DOT;
        else
            return st_fail(err, ST_EINVAL, "invalid value '%s' for %s (expected json or dot)",
                           value, flag);
        return ST_OK;
    }
    if (strcmp(value, "text") == 0)
        cfg->format = REPORT_FORMAT_TEXT;
    else if (strcmp(value, "json") == 0)
        cfg->format = REPORT_FORMAT_JSON;
    else if (strcmp(value, "sarif") == 0)
        cfg->format = REPORT_FORMAT_SARIF;
    else
        return st_fail(err, ST_EINVAL, "invalid value '%s' for %s (expected text, json or sarif)",
                       value, flag);
    return ST_OK;
}

static st_rc_t set_jobs(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    size_t n;

    if (!parse_size(value, CLI_MAX_JOBS, &n))
        return st_fail(err, ST_EINVAL, "invalid value '%s' for %s (expected a number from 0 to %d)",
                       value, flag, CLI_MAX_JOBS);
    cfg->jobs = (unsigned)n;
    return ST_OK;
}

static st_rc_t set_select(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag;
    return cli_parse_codes(cfg->arena, value, &cfg->rules.select, &cfg->rules.n_select, err);
}

static st_rc_t set_ignore(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag;
    return cli_parse_codes(cfg->arena, value, &cfg->rules.ignore, &cfg->rules.n_ignore, err);
}

static st_rc_t set_exclude(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (*value == '\0')
        return st_fail(err, ST_EINVAL, "empty pattern for %s", flag);
    return push_str(cfg->arena, &cfg->exclude, &cfg->n_exclude, value, err);
}

static st_rc_t set_max_file_size(cli_check_t *cfg, const char *flag, const char *value,
                                 st_err_t *err)
{
    size_t n;

    if (!parse_size(value, CLI_MAX_FILE_BYTES, &n) || n == 0)
        return st_fail(err, ST_EINVAL, "invalid value '%s' for %s (expected bytes, from 1 to %zu)",
                       value, flag, CLI_MAX_FILE_BYTES);
    cfg->max_file_bytes = n;
    return ST_OK;
}

static st_rc_t set_cache_dir(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (*value == '\0')
        return st_fail(err, ST_EINVAL, "empty directory for %s", flag);
    cfg->cache_dir = value;
    return ST_OK;
}

static st_rc_t set_no_workers(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag, (void)value, (void)err;
    cfg->no_workers = true;
    return ST_OK;
}

static st_rc_t set_workers(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    size_t n;

    if (!parse_size(value, 64, &n) || n == 0)
        return st_fail(err, ST_EINVAL, "invalid value '%s' for %s (expected a number from 1 to 64)",
                       value, flag);
    cfg->workers = (unsigned)n;
    return ST_OK;
}

/* Seconds for --job-timeout: 1 to a day. */
static bool parse_job_timeout(const char *v, unsigned *out)
{
    size_t n;

    if (!parse_size(v, 86400, &n) || n == 0)
        return false;
    *out = (unsigned)n;
    return true;
}

static st_rc_t set_job_timeout(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (!parse_job_timeout(value, &cfg->job_timeout_s))
        return st_fail(err, ST_EINVAL,
                       "invalid value '%s' for %s (expected seconds from 1 to 86400)", value, flag);
    return ST_OK;
}

static st_rc_t set_no_cache(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag, (void)value, (void)err;
    cfg->no_cache = true;
    return ST_OK;
}

static st_rc_t set_durability(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (strcmp(value, "memory") == 0)
        cfg->durability = CAS_MEMORY;
    else if (strcmp(value, "buffered") == 0)
        cfg->durability = CAS_BUFFERED;
    else if (strcmp(value, "strict") == 0)
        cfg->durability = CAS_STRICT;
    else
        return st_fail(err, ST_EINVAL,
                       "invalid value '%s' for %s (expected memory, buffered or strict)", value,
                       flag);
    return ST_OK;
}

static st_rc_t set_quiet(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag, (void)value, (void)err;
    cfg->quiet = true;
    return ST_OK;
}

static st_rc_t set_root(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    if (*value == '\0')
        return st_fail(err, ST_EINVAL, "empty directory for %s", flag);
    return push_str(cfg->arena, &cfg->roots, &cfg->n_roots, value, err);
}

static st_rc_t set_explain(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag, (void)value, (void)err;
    cfg->explain = true;
    return ST_OK;
}

static st_rc_t set_help(cli_check_t *cfg, const char *flag, const char *value, st_err_t *err)
{
    (void)flag, (void)value, (void)err;
    cfg->help = true;
    return ST_OK;
}

static const cli_option_t options[] = {
    {"format", 0, true, set_format},           {"jobs", 'j', true, set_jobs},
    {"select", 0, true, set_select},           {"ignore", 0, true, set_ignore},
    {"exclude", 0, true, set_exclude},         {"max-file-size", 0, true, set_max_file_size},
    {"cache-dir", 0, true, set_cache_dir},     {"no-cache", 0, false, set_no_cache},
    {"no-workers", 0, false, set_no_workers},  {"workers", 0, true, set_workers},
    {"job-timeout", 0, true, set_job_timeout}, {"durability", 0, true, set_durability},
    {"quiet", 'q', false, set_quiet},          {"root", 0, true, set_root},
    {"explain", 0, false, set_explain},        {"help", 'h', false, set_help},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

/* The option named by a long flag body ("jobs=4" matches "jobs"), or NULL. */
static const cli_option_t *find_long(const char *body, const char **inline_value)
{
    size_t len = strcspn(body, "=");

    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strlen(options[i].long_name) == len && memcmp(options[i].long_name, body, len) == 0) {
            *inline_value = body[len] == '=' ? body + len + 1 : NULL;
            return &options[i];
        }
    }
    return NULL;
}

/* The option named by a short flag ("-j4" matches 'j' with value "4"). */
static const cli_option_t *find_short(const char *arg, const char **inline_value)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].short_name != 0 && options[i].short_name == arg[1]) {
            *inline_value = arg[2] != '\0' ? arg + 2 : NULL;
            return &options[i];
        }
    }
    return NULL;
}

/* Applies argv[*i], an option, consuming its value (inline or argv[*i+1]). */
static st_rc_t parse_option(cli_check_t *cfg, int argc, char *const *argv, int *i, st_err_t *err)
{
    const char *arg = argv[*i];
    const char *value = NULL;
    const cli_option_t *opt;
    char name[40]; /* the flag as the user spelt it, without any "=value" */

    opt = arg[1] == '-' ? find_long(arg + 2, &value) : find_short(arg, &value);
    if (opt == NULL)
        return st_fail(err, ST_EINVAL, "unknown option '%s'", arg);
    if (arg[1] == '-')
        snprintf(name, sizeof name, "--%s", opt->long_name);
    else
        snprintf(name, sizeof name, "-%c", opt->short_name);
    if (!opt->takes_value) {
        if (value != NULL)
            return st_fail(err, ST_EINVAL, "option '%s' takes no value", name);
        return opt->set(cfg, name, NULL, err);
    }
    if (value == NULL) {
        if (*i + 1 >= argc)
            return st_fail(err, ST_EINVAL, "option '%s' needs a value", name);
        value = argv[++*i];
    }
    return opt->set(cfg, name, value, err);
}

/* Walks argv: options anywhere, "--" ends them, "-" alone is a path. */
static st_rc_t parse_args(cli_check_t *cfg, int argc, char *const *argv, st_err_t *err)
{
    bool options_done = false;
    st_rc_t rc;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];

        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0')
            rc = parse_option(cfg, argc, argv, &i, err);
        else
            rc = push_str(cfg->arena, &cfg->paths, &cfg->n_paths, arg, err);
        if (rc != ST_OK)
            return rc;
    }
    if (cfg->n_paths == 0)
        return push_str(cfg->arena, &cfg->paths, &cfg->n_paths, ".", err);
    return ST_OK;
}

static st_rc_t parse_check_or_graph(int argc, char *const *argv, bool graph, cli_check_t *out,
                                    st_err_t *err)
{
    cli_check_t cfg = {.durability = CAS_BUFFERED, .graph = graph};
    st_rc_t rc;

    if ((cfg.arena = arena_new(4096)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory parsing arguments");
    rc = parse_args(&cfg, argc, argv, err);
    if (rc != ST_OK) {
        cli_check_free(&cfg);
        return rc;
    }
    if (cfg.help) {
        arena_t *a = cfg.arena;
        cfg = (cli_check_t){.arena = a, .help = true, .durability = CAS_BUFFERED, .graph = graph};
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

static const char cache_usage[] =
    "usage: strata cache ACTION [OPTIONS]\n"
    "\n"
    "Inspect or maintain the cache of scan results.\n"
    "\n"
    "actions:\n"
    "  stats                 entries, bytes, hit rate, disk reads, evictions and\n"
    "                        corruptions, per tier (memory, disk)\n"
    "  verify                check the database, read and verify every entry,\n"
    "                        remove the corrupt ones; prints what it did\n"
    "  gc --max-size SIZE    evict least recently used entries until the cache\n"
    "                        holds at most SIZE (bytes, or with K, M, G, T: 100M)\n"
    "  clear                 remove every entry\n"
    "\n"
    "options:\n"
    "  --cache-dir DIR       the cache (default $STRATA_CACHE_DIR, else\n"
    "                        .strata-cache)\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 done, 2 usage or internal error\n";

const char *cli_cache_usage(void)
{
    return cache_usage;
}

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

/* The value of option argv[*i] named name ("--name V" or "--name=V"); NULL
 * when argv[*i] is not that option. */
static const char *cache_option(int argc, char *const *argv, int *i, const char *name,
                                bool *missing)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);

    *missing = false;
    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* One argument after the action. */
static st_rc_t cache_arg(cli_cache_t *c, int argc, char *const *argv, int *i, bool *has_size,
                         st_err_t *err)
{
    const char *arg = argv[*i], *v;
    bool missing;

    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        c->help = true;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--cache-dir", &missing)) != NULL || missing) {
        if (v == NULL || *v == '\0')
            return st_fail(err, ST_EINVAL, "option '--cache-dir' needs a directory");
        c->cache_dir = v;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--max-size", &missing)) != NULL || missing) {
        if (v == NULL)
            return st_fail(err, ST_EINVAL, "option '--max-size' needs a value");
        if (!cli_parse_bytes(v, &c->max_size))
            return st_fail(err, ST_EINVAL,
                           "invalid value '%s' for --max-size (expected bytes, or a number "
                           "with K, M, G or T: 100M, 2G)",
                           v);
        *has_size = true;
        return ST_OK;
    }
    if (arg[0] == '-')
        return st_fail(err, ST_EINVAL, "unknown option '%s'", arg);
    return st_fail(err, ST_EINVAL, "unexpected argument '%s'", arg);
}

st_rc_t cli_parse_cache(int argc, char *const *argv, cli_cache_t *out, st_err_t *err)
{
    cli_cache_t c = {0};
    bool has_size = false;
    st_rc_t rc;

    if (argc < 1)
        return st_fail(err, ST_EINVAL, "missing action (stats, verify, gc or clear)");
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        *out = (cli_cache_t){.help = true};
        return ST_OK;
    }
    if ((rc = cache_action(argv[0], &c.action, err)) != ST_OK)
        return rc;
    for (int i = 1; i < argc; i++)
        if ((rc = cache_arg(&c, argc, argv, &i, &has_size, err)) != ST_OK)
            return rc;
    if (!c.help && c.action == CLI_CACHE_GC && !has_size)
        return st_fail(err, ST_EINVAL, "gc needs --max-size SIZE (e.g. 100M)");
    if (c.action != CLI_CACHE_GC && has_size)
        return st_fail(err, ST_EINVAL, "--max-size is for gc only");
    *out = c;
    return ST_OK;
}

static const char worker_usage[] =
    "usage: strata worker --connect ADDR [--threads N] [--cpuset LIST] [--numa-node N]\n"
    "                     [--cache-dir DIR | --no-cache] [--job-limit SECONDS]\n"
    "\n"
    "Run jobs for a coordinator: connect to it, say which analyzer version\n"
    "this is and how many threads it has, run the scan and check jobs it\n"
    "sends, send the results back. It says on stderr when a coordinator\n"
    "answers; when the coordinator goes away, the worker reconnects with a\n"
    "growing delay (at most 5 s) and says so on stderr. SIGTERM or SIGINT:\n"
    "say goodbye, finish the running jobs, exit 0, with a last line on stderr\n"
    "saying how many jobs ran and how many the local cache answered.\n"
    "\n"
    "A job this worker has run before is answered from its local cache (a\n"
    "job is a pure function of its input): in memory, and with --cache-dir on\n"
    "disk too, so that a restarted worker keeps its results. A damaged or\n"
    "unreadable cache only costs running the jobs again.\n"
    "\n"
    "options:\n"
    "  --connect ADDR        the coordinator: ipc:///path or tcp://host:port\n"
    "  --threads N           analysis threads; 0 (default) means one per\n"
    "                        online CPU; each is pinned to a core (round-robin\n"
    "                        when there are more threads than cores)\n"
    "  --cpuset LIST         only these CPUs: 0-3,8 (or hwloc's 0xf bitmap)\n"
    "  --numa-node N         only the cores of NUMA node N; memory bound there\n"
    "  --server-key FILE     the coordinator's public key (its .pub): talk\n"
    "                        CurveZMQ, as a coordinator started with keys asks\n"
    "  --key FILE            this worker's key pair (a .key of strata keygen);\n"
    "                        its .pub must be in the coordinator's allowlist\n"
    "  --cache-dir DIR       keep the local cache on disk in DIR too (created)\n"
    "  --cache-mem SIZE      the local cache's memory budget (default 64M)\n"
    "  --no-cache            no local cache: run every job\n"
    "  --job-limit SECONDS   a job running longer means its thread is stuck:\n"
    "                        exit with status 3, naming the job on stderr, so\n"
    "                        that the worker is restarted (default 240)\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 stopped by a signal, 2 usage error, refused by the\n"
    "coordinator (another analyzer version), or internal error, 3 a job ran\n"
    "past --job-limit\n";

const char *cli_worker_usage(void)
{
    return worker_usage;
}

/* The local cache's and the job limit's arguments of `strata worker`:
 * ST_ENOENT when arg is none of them. */
static st_rc_t worker_cache_arg(cli_worker_t *w, int argc, char *const *argv, int *i, st_err_t *err)
{
    const char *v;
    bool missing;
    uint64_t bytes;
    size_t n;

    if (strcmp(argv[*i], "--no-cache") == 0) {
        w->no_cache = true;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--cache-dir", &missing)) != NULL || missing) {
        if (v == NULL || *v == '\0')
            return st_fail(err, ST_EINVAL, "option '--cache-dir' needs a directory");
        w->cache_dir = v;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--cache-mem", &missing)) != NULL || missing) {
        if (v == NULL || !cli_parse_bytes(v, &bytes) || bytes == 0)
            return st_fail(err, ST_EINVAL,
                           "invalid value for --cache-mem (expected a size such as 64M)");
        w->cache_mem = (size_t)bytes;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--job-limit", &missing)) != NULL || missing) {
        if (v == NULL || !parse_size(v, PROTO_MAX_JOB_LIMIT_S, &n) || n == 0)
            return st_fail(err, ST_EINVAL,
                           "invalid value for --job-limit (expected seconds from 1 to %d)",
                           PROTO_MAX_JOB_LIMIT_S);
        w->job_limit_s = (unsigned)n;
        return ST_OK;
    }
    return ST_ENOENT;
}

/* One argument of `strata worker`. */
static st_rc_t worker_arg(cli_worker_t *w, int argc, char *const *argv, int *i, st_err_t *err)
{
    const char *arg = argv[*i], *v;
    bool missing;
    size_t n;
    st_rc_t rc;

    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        w->help = true;
        return ST_OK;
    }
    if ((rc = worker_cache_arg(w, argc, argv, i, err)) != ST_ENOENT)
        return rc;
    if ((v = cache_option(argc, argv, i, "--connect", &missing)) != NULL || missing) {
        if (v == NULL || (strncmp(v, "ipc://", 6) != 0 && strncmp(v, "tcp://", 6) != 0) ||
            v[6] == '\0')
            return st_fail(err, ST_EINVAL,
                           "option '--connect' needs an address: ipc:///path or tcp://host:port");
        w->connect = v;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--threads", &missing)) != NULL || missing) {
        if (v == NULL || !parse_size(v, CLI_MAX_JOBS, &n))
            return st_fail(err, ST_EINVAL,
                           "invalid value for --threads (expected a number from 0 to %d)",
                           CLI_MAX_JOBS);
        w->threads = (unsigned)n;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--cpuset", &missing)) != NULL || missing) {
        if (v == NULL || *v == '\0')
            return st_fail(err, ST_EINVAL, "option '--cpuset' needs a CPU list (0-3,8)");
        w->cpuset = v;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--server-key", &missing)) != NULL || missing) {
        if (v == NULL || *v == '\0')
            return st_fail(err, ST_EINVAL, "option '--server-key' needs a file");
        w->server_key = v;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--key", &missing)) != NULL || missing) {
        if (v == NULL || *v == '\0')
            return st_fail(err, ST_EINVAL, "option '--key' needs a file");
        w->key = v;
        return ST_OK;
    }
    if ((v = cache_option(argc, argv, i, "--numa-node", &missing)) != NULL || missing) {
        if (v == NULL || !parse_size(v, 1023, &n))
            return st_fail(err, ST_EINVAL,
                           "invalid value for --numa-node (expected a number from 0 to 1023)");
        w->numa_only = true;
        w->numa_node = (unsigned)n;
        return ST_OK;
    }
    if (arg[0] == '-')
        return st_fail(err, ST_EINVAL, "unknown option '%s'", arg);
    return st_fail(err, ST_EINVAL, "unexpected argument '%s'", arg);
}

st_rc_t cli_parse_worker(int argc, char *const *argv, cli_worker_t *out, st_err_t *err)
{
    cli_worker_t w = {0};
    st_rc_t rc;

    for (int i = 0; i < argc; i++)
        if ((rc = worker_arg(&w, argc, argv, &i, err)) != ST_OK)
            return rc;
    if (!w.help && w.connect == NULL)
        return st_fail(err, ST_EINVAL, "missing --connect ADDR");
    if (!w.help && (w.server_key == NULL) != (w.key == NULL))
        return st_fail(err, ST_EINVAL, "--server-key and --key go together");
    if (!w.help && w.no_cache && (w.cache_dir != NULL || w.cache_mem != 0))
        return st_fail(err, ST_EINVAL, "--no-cache goes with neither --cache-dir nor --cache-mem");
    *out = w;
    return ST_OK;
}

/* ---- strata coordinator -------------------------------------------------- */

static const char coordinator_usage[] =
    "usage: strata coordinator --bind ADDR [--workers-bind ADDR] [--cache-dir DIR]\n"
    "                          [--keys DIR --allow DIR] [--insecure] [--jobs N]\n"
    "\n"
    "Run a cluster's coordinator: clients (strata submit) connect to --bind,\n"
    "workers (strata worker --connect) to --workers-bind. Batches are served one\n"
    "after another; the coordinator keeps the files' contents and the results\n"
    "in its cache, so a client uploads only what it has never seen, and\n"
    "unchanged files cost no scan. With no worker connected, it scans in this\n"
    "process. One line per batch on stderr. SIGTERM or SIGINT: stop, exit 0.\n"
    "\n"
    "options:\n"
    "  --bind ADDR           clients' address: tcp://HOST:PORT or ipc:///path\n"
    "  --workers-bind ADDR   workers' address; default: PORT+1 on the same host\n"
    "                        for tcp, /path.workers for ipc\n"
    "  --cache-dir DIR       the cache (default $STRATA_CACHE_DIR, else\n"
    "                        .strata-cache)\n"
    "  --keys DIR            authenticate clients and workers with CurveZMQ:\n"
    "                        the coordinator's pair is DIR/coordinator.key\n"
    "                        (strata keygen --dir DIR --name coordinator)\n"
    "  --allow DIR           the public keys (*.pub) of the clients and workers\n"
    "                        it accepts\n"
    "  --insecure            allow binding an address other than loopback or\n"
    "                        ipc:// without authentication\n"
    "  --jobs N              threads for the check jobs (default: online CPUs)\n"
    "  --job-timeout SECONDS a job a worker has not answered in this long is\n"
    "                        retried on another (3 retries, then an E902 on its\n"
    "                        file); default 120\n"
    "  --max-client-batches N\n"
    "                        batches one client (a key, or an address\n"
    "                        without keys) may have queued or running\n"
    "                        (default 4); more are refused with a message\n"
    "  --max-client-bytes SIZE\n"
    "                        bytes one client may have waiting here: its\n"
    "                        queued submissions and the uploads not yet\n"
    "                        stored (default 256M; K, M, G suffixes)\n"
    "  --max-client-files N  files one client may have queued or running,\n"
    "                        in one submission or several (default 50000)\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Bad messages are dropped and counted; the log names the peer of a few of\n"
    "them (10 lines per peer a minute, 5 a second in all) and then the count.\n"
    "\n"
    "exit status: 0 stopped by a signal, 2 usage error or cannot bind\n";

const char *cli_coordinator_usage(void)
{
    return coordinator_usage;
}

static bool is_endpoint(const char *v)
{
    return v != NULL && (strncmp(v, "ipc://", 6) == 0 || strncmp(v, "tcp://", 6) == 0) &&
           v[6] != '\0';
}

st_rc_t cli_parse_coordinator(int argc, char *const *argv, cli_coordinator_t *out, st_err_t *err)
{
    cli_coordinator_t c = {0};

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *v;
        bool missing;
        const char **slot = NULL;
        static const char *const names[] = {"--bind",  "--workers-bind", "--cache-dir",  "--keys",
                                            "--allow", "--jobs",         "--job-timeout"};
        const char **slots[] = {
            &c.bind, &c.workers_bind, &c.cache_dir, &c.keys_dir, &c.allow_dir, NULL, NULL};

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            c.help = true;
            continue;
        }
        if (strcmp(arg, "--insecure") == 0) {
            c.insecure = true;
            continue;
        }
        if ((v = cache_option(argc, argv, &i, "--max-client-bytes", &missing)) != NULL || missing) {
            if (v == NULL || !cli_parse_bytes(v, &c.client_bytes) || c.client_bytes == 0)
                return st_fail(err, ST_EINVAL,
                               "option '--max-client-bytes' needs a size (bytes, or with K, "
                               "M, G: 256M)");
            continue;
        }
        if ((v = cache_option(argc, argv, &i, "--max-client-batches", &missing)) != NULL ||
            missing || (v = cache_option(argc, argv, &i, "--max-client-files", &missing)) != NULL ||
            missing) {
            bool batches = strncmp(arg, "--max-client-batches", 20) == 0;
            size_t n;
            if (v == NULL || !parse_size(v, batches ? 64 : PROTO_MAX_FILES, &n) || n == 0)
                return st_fail(err, ST_EINVAL, "option '%s' needs a number 1..%u",
                               batches ? "--max-client-batches" : "--max-client-files",
                               batches ? 64u : PROTO_MAX_FILES);
            if (batches)
                c.client_batches = (unsigned)n;
            else
                c.client_files = (unsigned)n;
            continue;
        }
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            if ((v = cache_option(argc, argv, &i, names[k], &missing)) == NULL && !missing)
                continue;
            if (v == NULL || v[0] == '\0')
                return st_fail(err, ST_EINVAL, "option '%s' needs a value", names[k]);
            if (k < 2 && !is_endpoint(v))
                return st_fail(err, ST_EINVAL,
                               "option '%s' needs an address: ipc:///path or tcp://host:port",
                               names[k]);
            if (slots[k] == NULL && k == 6) {
                if (!parse_job_timeout(v, &c.job_timeout_s))
                    return st_fail(err, ST_EINVAL,
                                   "option '--job-timeout' needs seconds, 1 to 86400");
            } else if (slots[k] == NULL) {
                char *end;
                unsigned long n = strtoul(v, &end, 10);
                if (*end != '\0' || v[0] == '-' || n > CLI_MAX_JOBS)
                    return st_fail(err, ST_EINVAL, "option '--jobs' needs a number 0..%d",
                                   CLI_MAX_JOBS);
                c.jobs = (unsigned)n;
            } else {
                *slots[k] = v;
            }
            slot = slots[k] != NULL ? slots[k] : &c.bind; /* matched */
            break;
        }
        if (slot == NULL)
            return st_fail(err, ST_EINVAL, "unknown argument '%s'", arg);
    }
    if (c.help) {
        *out = c;
        return ST_OK;
    }
    if (c.bind == NULL)
        return st_fail(err, ST_EINVAL, "missing --bind ADDR");
    if ((c.keys_dir == NULL) != (c.allow_dir == NULL))
        return st_fail(err, ST_EINVAL, "--keys and --allow go together");
    *out = c;
    return ST_OK;
}

/* ---- strata submit ------------------------------------------------------------ */

static const char submit_usage[] =
    "usage: strata submit --coordinator ADDR [--keys DIR --server-key FILE]\n"
    "                     [--timeout SECONDS] [CHECK OPTIONS] PATH...\n"
    "\n"
    "Check Python files on a cluster: walk and hash the files here, send the\n"
    "list to the coordinator, upload (zstd) only the contents it asks for,\n"
    "wait for the results and print them exactly as strata check does (same\n"
    "formats, rules and exit status).\n"
    "\n"
    "options:\n"
    "  --coordinator ADDR    the coordinator: tcp://host:port or ipc:///path\n"
    "  --keys DIR            authenticate with CurveZMQ: this client's pair is\n"
    "                        DIR/client.key (strata keygen --dir DIR --name\n"
    "                        client; put DIR/client.pub in the coordinator's\n"
    "                        allowlist)\n"
    "  --server-key FILE     the coordinator's public key (coordinator.pub)\n"
    "  --timeout SECONDS     give up when the coordinator says nothing for this\n"
    "                        long (default 5)\n"
    "  --format, --select, --ignore, --quiet, --exclude, --root,\n"
    "  --max-file-size       as for strata check\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 no diagnostic, 1 diagnostics reported, 2 usage error, or\n"
    "the coordinator refused the batch or stopped answering\n";

const char *cli_submit_usage(void)
{
    return submit_usage;
}

void cli_submit_free(cli_submit_t *cfg)
{
    cli_check_free(&cfg->check);
    st_free(cfg->rest_);
    cfg->rest_ = NULL;
}

st_rc_t cli_parse_submit(int argc, char *const *argv, cli_submit_t *out, st_err_t *err)
{
    cli_submit_t s = {.timeout_ms = 5000};
    char **rest = st_calloc((size_t)argc + 1, sizeof *rest);
    int n = 0;
    st_rc_t rc;

    if (rest == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *v;
        bool missing;
        if ((v = cache_option(argc, argv, &i, "--coordinator", &missing)) != NULL || missing) {
            if (!is_endpoint(v)) {
                st_free(rest);
                return st_fail(err, ST_EINVAL,
                               "option '--coordinator' needs an address: "
                               "ipc:///path or tcp://host:port");
            }
            s.coordinator = v;
        } else if ((v = cache_option(argc, argv, &i, "--keys", &missing)) != NULL || missing) {
            if (v == NULL || v[0] == '\0') {
                st_free(rest);
                return st_fail(err, ST_EINVAL, "option '--keys' needs a value");
            }
            s.keys_dir = v;
        } else if ((v = cache_option(argc, argv, &i, "--server-key", &missing)) != NULL ||
                   missing) {
            if (v == NULL || v[0] == '\0') {
                st_free(rest);
                return st_fail(err, ST_EINVAL, "option '--server-key' needs a value");
            }
            s.server_key = v;
        } else if ((v = cache_option(argc, argv, &i, "--timeout", &missing)) != NULL || missing) {
            char *end;
            unsigned long secs = v != NULL ? strtoul(v, &end, 10) : 0;
            if (v == NULL || v[0] < '0' || v[0] > '9' || *end != '\0' || secs < 1 || secs > 86400) {
                st_free(rest);
                return st_fail(err, ST_EINVAL, "option '--timeout' needs seconds, 1 to 86400");
            }
            s.timeout_ms = (unsigned)secs * 1000u;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            s.help = true;
        } else {
            rest[n++] = argv[i];
        }
    }
    if (s.help) {
        st_free(rest);
        *out = s;
        return ST_OK;
    }
    if (s.coordinator == NULL) {
        st_free(rest);
        return st_fail(err, ST_EINVAL, "missing --coordinator ADDR");
    }
    if ((s.keys_dir == NULL) != (s.server_key == NULL)) {
        st_free(rest);
        return st_fail(err, ST_EINVAL, "--keys and --server-key go together");
    }
    if ((rc = cli_parse_check(n, rest, &s.check, err)) != ST_OK) {
        st_free(rest);
        return rc;
    }
    s.rest_ = rest;
    *out = s;
    return ST_OK;
}
