/* usage.c - the usage texts of every subcommand, as `--help` prints them.
 *
 * Kept as written rather than generated from the option tables of
 * options.c: their layout follows no single rule, and users and tests read
 * them as they are. */
#include "cli/options.h"

static const char check_usage[] =
    "usage: strata check [OPTIONS] [PATH...]\n"
    "\n"
    "Check Python files (.py, .pyi) for errors. Directories are walked\n"
    "recursively, skipping hidden directories, __pycache__ and what git ignores;\n"
    "a file named explicitly is checked whatever its extension. Only the files\n"
    "named are reported; their imports resolve against the whole project under\n"
    "their roots. Without PATH, checks '.'; '-' checks standard input.\n"
    "\n"
    "options:\n"
    "  --output-format FMT   how diagnostics are printed (alias: --format):\n"
    "                        full (with the source line; default on a terminal),\n"
    "                        concise (one line each; default otherwise; also\n"
    "                        'text'), grouped (by file), json, json-lines, sarif\n"
    "                        (SARIF 2.1.0), github (workflow annotations), gitlab\n"
    "                        (Code Quality), junit (JUnit XML) or pylint\n"
    "  --output-file PATH    write the report to PATH instead of stdout (the\n"
    "                        summary stays on stderr)\n"
    "  --statistics          print the number of diagnostics per code, most\n"
    "                        frequent first, instead of the diagnostics\n"
    "  --exit-zero           exit 0 even when diagnostics are reported (errors\n"
    "                        still exit 2)\n"
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
    "  --respect-gitignore   leave out files git ignores (.gitignore, .git/info/\n"
    "                        exclude, global excludes); the default\n"
    "  --no-respect-gitignore  check them too\n"
    "  --show-files          print the files that would be checked, one a line,\n"
    "                        and exit 0\n"
    "  --stdin-filename PATH check standard input (PATH '-') as the file PATH of\n"
    "                        the project\n"
    "  --explain             print on stderr why each job that ran did (new\n"
    "                        content, a changed dependency interface, no cache\n"
    "                        entry)\n"
    "  --config FILE         read only this configuration file (strata.toml,\n"
    "                        .strata.toml or a pyproject.toml's [tool.strata]);\n"
    "                        default: the closest one above each file\n"
    "  --isolated            read no configuration file\n"
    "  --python PATH         the Python interpreter (or a virtual environment's\n"
    "                        directory) whose installed packages imports are\n"
    "                        checked against; default: $VIRTUAL_ENV, else .venv\n"
    "                        or venv in the project, else python3 on PATH (see\n"
    "                        strata env)\n"
    "  --python-version X.Y  the Python version checked for (3.0 to 3.99);\n"
    "                        default: the interpreter's, else 3.12\n"
    "  --python-platform NAME  the platform checked for, as sys.platform names\n"
    "                        it (linux, darwin, win32...); default: the\n"
    "                        interpreter's, else this host's\n"
    "  --no-python           look for no interpreter: the standard library from\n"
    "                        the stubs alone, installed packages unknown\n"
    "  --no-environment      no stubs and no interpreter: imports of the standard\n"
    "                        library and of installed packages stay unknown\n"
    "  -q, --quiet           no summary line on stderr\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Options take their value as the next argument or after '=' (--jobs=4).\n"
    "'--' ends the options. Settings are also read from the closest\n"
    ".strata.toml, strata.toml or pyproject.toml ([tool.strata]) above each\n"
    "file; options win over them (see strata config).\n"
    "\n"
    "exit status: 0 no diagnostic, 1 diagnostics reported (0 with --exit-zero), 2 usage or\n"
    "internal error\n";

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
    "  --python PATH, --python-version X.Y, --python-platform NAME, --no-python,\n"
    "  --no-environment: accepted; the graph has the project's modules only\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 printed, 2 usage or internal error\n";

const char *cli_graph_usage(void)
{
    return graph_usage;
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
    "  --output-format, --format, --output-file, --statistics, --exit-zero,\n"
    "  --select, --ignore, --quiet, --exclude, --root, --max-file-size,\n"
    "  --config, --isolated  as for strata check (configuration files are\n"
    "                        read here, as strata check reads them)\n"
    "  --python, --python-version, --python-platform, --no-python,\n"
    "  --no-environment      as for strata check: the environment is found\n"
    "                        here and the coordinator checks against it (it\n"
    "                        asks this client where library modules are and\n"
    "                        for the contents it lacks); with\n"
    "                        --no-environment, imports of the standard library\n"
    "                        and of installed packages stay unknown\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 no diagnostic, 1 diagnostics reported, 2 usage error, or\n"
    "the coordinator refused the batch or stopped answering\n";

const char *cli_submit_usage(void)
{
    return submit_usage;
}

static const char keygen_usage[] =
    "usage: strata keygen [--dir DIR] [--name NAME] [--force]\n"
    "\n"
    "Write a CurveZMQ key pair: DIR/NAME.key (public and secret key, mode 0600:\n"
    "keep it on the machine that uses it) and DIR/NAME.pub (the public key:\n"
    "copy it into the coordinator's allowlist directory). DIR defaults to '.',\n"
    "NAME to 'strata'. An existing pair is kept unless --force.\n"
    "\n"
    "exit status: 0 written, 2 usage or I/O error\n";

const char *cli_keygen_usage(void)
{
    return keygen_usage;
}
