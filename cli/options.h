/* options.h - the options of every subcommand (check, graph, cache, worker,
 * coordinator, submit, keygen), parsed from argv into a config each.
 *
 * Parsing is separate from running so that every flag, every bad value and
 * the rule-selection semantics can be unit-tested without touching files or
 * threads. Flags follow the ruff/flake8 conventions users already know:
 * `--flag value` and `--flag=value`, comma-separated rule codes where a
 * prefix selects a family (`F` is every F-code, `F4` every F4xx), and an
 * `--ignore` wins over a `--select` that is no more specific. A bad flag or
 * value is an error with a message for stderr; the caller exits 2. */
#ifndef STRATA_CLI_OPTIONS_H
#define STRATA_CLI_OPTIONS_H

#include "common/arena.h"
#include "common/cas/cas.h"
#include "common/status.h"
#include "run/report.h"
#include "run/report_formats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_JOBS 1024
#define CLI_MAX_CODE_LEN 16

/* The parsed command line of `strata check`. Every string and array lives in
 * `arena`, owned by the config and freed by cli_check_free; `paths` point
 * into argv (borrowed: argv outlives the run). */
typedef struct {
    arena_t *arena;
    const char **paths;
    size_t n_paths;
    const char **exclude; /* fnmatch globs, see walk.h */
    size_t n_exclude;
    report_rules_t rules;
    report_format_t format;  /* --output-format/--format; see format_given */
    bool format_given;       /* a format was chosen; else full on a terminal, concise otherwise */
    const char *output_file; /* --output-file (borrowed from argv); NULL: stdout */
    bool statistics;         /* --statistics: counts per code instead of diagnostics */
    bool exit_zero;          /* --exit-zero: diagnostics alone exit 0 */
    unsigned jobs;           /* >= 1 after parsing: 0/absent became online CPUs */
    size_t max_file_bytes;   /* 0: the scan's default */
    const char *cache_dir;   /* --cache-dir (borrowed from argv); NULL: default */
    bool no_cache;           /* --no-cache */
    bool no_workers;         /* --no-workers: scan in this process only */
    unsigned workers;        /* --workers N: worker processes; 0: the default */
    unsigned job_timeout_s;  /* --job-timeout: seconds a worker may take on a job
                                before it is retried elsewhere; 0: the default */
    cas_durability_t durability; /* --durability; default CAS_BUFFERED */
    bool quiet;
    const char **roots; /* --root DIR, repeatable, in order (borrowed from argv) */
    size_t n_roots;
    bool explain;       /* --explain: say why each job ran */
    const char *config; /* --config FILE: the one configuration (borrowed) */
    bool isolated;      /* --isolated: no configuration file */
    /* --respect-gitignore (default) / --no-respect-gitignore, or
     * `respect-gitignore` in a configuration: the walk leaves out what git
     * ignores (run/walk.h) */
    bool respect_gitignore;
    const char *target_version; /* `target-version` of the run's configuration; NULL: none */
    /* The Python environment (run/env.h), strings borrowed from argv: */
    const char *python;          /* --python PATH: an interpreter or a venv; NULL: none */
    bool no_python;              /* --no-python: no interpreter (the stubs alone) */
    bool no_environment;         /* --no-environment: no stubs, no interpreter, no
                                    library module: such imports stay unknown */
    const char *python_version;  /* --python-version X.Y (checked); NULL: none */
    const char *python_platform; /* --python-platform NAME (checked); NULL: none */
    /* ... and from the run's configuration (in its set's arena): */
    const char *python_config;   /* `python`, made absolute; NULL: none */
    const char *platform_config; /* `python-platform`; NULL: none */
    const char *config_dir;      /* the directory of the configuration governing the
                                    first PATH (absolute); NULL: none */
    bool show_files;             /* --show-files: print the files to check, exit 0 */
    const char *stdin_filename;  /* --stdin-filename PATH (borrowed): the name of
                                    the source read from standard input */
    /* The team cache (run/remote.h): */
    const char *remote_cache;     /* --remote-cache URL (checked); NULL: none */
    bool remote_cache_upload;     /* --remote-cache-upload: send computed results */
    const char *remote_auth_file; /* --remote-cache-auth-file: the Authorization value */
    const char *remote_ca;        /* --remote-cache-ca: certificates to trust */
    unsigned remote_timeout_ms;   /* --remote-cache-timeout; 0: the default */
    uint64_t given_;              /* private: the flags given, see cli_check_given */
    bool graph;                   /* parsed for `strata graph`: --format is dot or json */
    bool help;                    /* --help given: print usage, exit 0; nothing else is set */
} cli_check_t;

/* How cfg says the report is written (borrowed strings: cfg's). */
static inline report_output_t cli_report_output(const cli_check_t *cfg)
{
    return (report_output_t){.format = cfg->format,
                             .format_given = cfg->format_given,
                             .statistics = cfg->statistics,
                             .output_file = cfg->output_file};
}

/* Parses the arguments that follow `check` (argv[0] is the first of them).
 * ST_OK: *out is filled and owns its arena (free with cli_check_free).
 * ST_EINVAL: a bad flag or value; err->msg says which, in words fit for
 * stderr after "strata check: "; *out is untouched. ST_ENOMEM: out of memory.
 * Single-threaded (reads sysconf for the CPU count). */
st_rc_t cli_parse_check(int argc, char *const *argv, cli_check_t *out, st_err_t *err);

/* The same for `strata graph`: the options of check, with --format dot or
 * json (default json). */
st_rc_t cli_parse_graph(int argc, char *const *argv, cli_check_t *out, st_err_t *err);

/* The usage text of `strata graph`, static. */
const char *cli_graph_usage(void);

/* True when the flag named (long form, "--jobs") was given on the command
 * line that cfg was parsed from: a configuration file does not override it. */
bool cli_check_given(const cli_check_t *cfg, const char *flag);

/* Sets the option named flag ("--jobs"; a flag takes "true" or "false") from
 * a configuration file's value, read and checked as the command line reads
 * it; messages name the option as shown (the key). ST_EINVAL: a bad value,
 * or flag is not one of check's. Strings are borrowed. */
st_rc_t cli_check_set(cli_check_t *cfg, const char *flag, const char *shown, const char *value,
                      st_err_t *err);

/* Frees the config's arena and zeroes it; accepts a zeroed config. */
void cli_check_free(cli_check_t *cfg);

/* Adds the comma-separated codes of `list` to *codes (growing in arena a),
 * each upper-case letters then digits, or "ALL". ST_EINVAL with a message
 * naming the bad code (an empty item is bad too); ST_ENOMEM. On error the
 * list may hold the codes before the bad one. */
st_rc_t cli_parse_codes(arena_t *a, const char *list, const char ***codes, size_t *n,
                        st_err_t *err);

/* The usage text of `strata check`, static. */
const char *cli_check_usage(void);

/* Parses a size: digits, then optionally K, M, G or T (powers of 1024, either
 * case, optionally followed by "B" or "iB"): "512", "100M", "2G", "1KiB".
 * False for anything else, for 0 of anything being fine, and for values
 * past UINT64_MAX. */
bool cli_parse_bytes(const char *s, uint64_t *out);

typedef enum {
    CLI_CACHE_STATS = 0,
    CLI_CACHE_VERIFY = 1,
    CLI_CACHE_GC = 2,
    CLI_CACHE_CLEAR = 3
} cli_cache_action_t;

/* The parsed command line of `strata cache ACTION [OPTIONS]`; strings are
 * borrowed from argv. */
typedef struct {
    cli_cache_action_t action;
    const char *cache_dir; /* NULL: default, see cas_dir_default */
    uint64_t max_size;     /* gc: --max-size, required */
    bool help;             /* --help: print usage, exit 0 */
} cli_cache_t;

/* Parses the arguments after `cache` (argv[0] is the action). ST_EINVAL with
 * a message for stderr after "strata cache: " for a missing or unknown
 * action, an unknown option, a missing or bad value, --max-size on another
 * action than gc or missing on gc, or a stray argument; *out untouched then.
 * Pure apart from that. */
st_rc_t cli_parse_cache(int argc, char *const *argv, cli_cache_t *out, st_err_t *err);

/* The usage text of `strata cache`, static. */
const char *cli_cache_usage(void);

/* The parsed command line of `strata worker`; connect is borrowed from argv. */
typedef struct {
    const char *connect; /* --connect ADDR (required): ipc:// or tcp:// */
    unsigned threads;    /* --threads N; 0: one per online CPU */
    const char *cpuset;  /* --cpuset LIST (borrowed); NULL: every allowed CPU */
    bool numa_only;      /* --numa-node N given */
    unsigned numa_node;
    const char *server_key;   /* --server-key FILE: the coordinator's .pub (CurveZMQ) */
    const char *key;          /* --key FILE: this worker's .key (strata keygen) */
    const char *cache_dir;    /* --cache-dir DIR: the local cache's disk tier; NULL: memory */
    size_t cache_mem;         /* --cache-mem SIZE: its memory budget in bytes; 0: default */
    bool no_cache;            /* --no-cache: no local cache */
    unsigned job_limit_s;     /* --job-limit SECONDS: a stuck job ends the worker; 0: default */
    const char *metrics_bind; /* --metrics-bind HOST:PORT (checked); NULL: none */
    bool help;                /* --help: print usage, exit 0 */
} cli_worker_t;

/* Parses the arguments after `worker`. ST_EINVAL with a message for stderr
 * after "strata worker: " for an unknown option, a missing or bad value, a
 * missing --connect, an address that is not ipc:// or tcp://, or a stray
 * argument; *out untouched then. Pure. */
st_rc_t cli_parse_worker(int argc, char *const *argv, cli_worker_t *out, st_err_t *err);

/* The usage text of `strata worker`, static. */
const char *cli_worker_usage(void);

/* The parsed command line of `strata coordinator`; strings borrowed from
 * argv. */
typedef struct {
    const char *bind;         /* --bind ADDR (required): ipc:// or tcp:// */
    const char *workers_bind; /* --workers-bind ADDR; NULL: derived from bind */
    const char *cache_dir;    /* --cache-dir DIR; NULL: default */
    const char *keys_dir;     /* --keys DIR (DIR/coordinator.key) */
    const char *allow_dir;    /* --allow DIR (*.pub); required with --keys */
    bool insecure;            /* --insecure */
    unsigned jobs;            /* --jobs N: check threads; 0: online CPUs */
    unsigned job_timeout_s;   /* --job-timeout SECONDS; 0: the dispatcher's default */
    unsigned client_batches;  /* --max-client-batches N; 0: the daemon's default */
    uint64_t client_bytes;    /* --max-client-bytes SIZE; 0: the daemon's default */
    unsigned client_files;    /* --max-client-files N; 0: the daemon's default */
    const char *metrics_bind; /* --metrics-bind HOST:PORT (checked); NULL: none */
    bool help;
} cli_coordinator_t;

/* Parses the arguments after `coordinator`. ST_EINVAL with a message for
 * stderr after "strata coordinator: " for an unknown option, a missing or
 * bad value, a missing --bind, an address that is not ipc:// or tcp://,
 * --keys without --allow or the reverse, or a stray argument. Pure. */
st_rc_t cli_parse_coordinator(int argc, char *const *argv, cli_coordinator_t *out, st_err_t *err);
const char *cli_coordinator_usage(void);

/* The parsed command line of `strata submit`: its own options, and the
 * check options (output, rules, paths) parsed by cli_parse_check from the
 * other arguments. Free with cli_submit_free. */
typedef struct {
    const char *coordinator; /* --coordinator ADDR (required) */
    const char *keys_dir;    /* --keys DIR: this client's pair is DIR/client.key */
    const char *server_key;  /* --server-key FILE: the coordinator's .pub */
    unsigned timeout_ms;     /* --timeout SECONDS (default 5): silence allowed */
    cli_check_t check;
    char **rest_; /* private: the arguments handed to cli_parse_check */
    bool help;
} cli_submit_t;

/* Parses the arguments after `submit`. ST_EINVAL with a message for
 * stderr after "strata submit: " for a bad option (its own or check's), a
 * missing --coordinator, --keys without --server-key or the reverse;
 * ST_ENOMEM. *out untouched on error. */
st_rc_t cli_parse_submit(int argc, char *const *argv, cli_submit_t *out, st_err_t *err);
void cli_submit_free(cli_submit_t *cfg);
const char *cli_submit_usage(void);

/* The parsed command line of `strata keygen`; strings borrowed from argv. */
typedef struct {
    const char *dir;  /* --dir DIR; default "." */
    const char *name; /* --name NAME; default "strata" */
    bool force;       /* --force: replace an existing pair */
    bool help;        /* --help: print usage, exit 0; what follows is not read */
} cli_keygen_t;

/* Parses the arguments after `keygen`. ST_EINVAL with a message for stderr
 * after "strata keygen: " for an unknown argument or a missing or empty
 * value; *out untouched then. Pure. */
st_rc_t cli_parse_keygen(int argc, char *const *argv, cli_keygen_t *out, st_err_t *err);
const char *cli_keygen_usage(void);

#endif
