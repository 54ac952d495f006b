// ruff_wasm.mjs - times ruff's WebAssembly build on the corpus, one thread.
//
// The speed bar compares `strata check --jobs 1` with ruff's wasm build, whose
// Workspace.check is timed without node's start-up, without module loading
// and without reading files: every file is read and decoded to a string
// first, then one Workspace (built once, outside the timer) checks each
// source in turn. Each repetition is timed on its own. The first one is the
// cold run the bar names (about 3 s here), but most of it is V8
// compiling the wasm module lazily, function by function, on first call:
// with `node --liftoff-only` the first pass takes about 0.6 s and a warm
// pass about 0.4 s. So both the first (cold) and the best (warm) are
// reported, and the reader of the numbers should know which is which.
//
// Usage: node bench/ruff_wasm.mjs [--select F401,F811,...] [--reps N]
//                                 [--list FILE | FILE...]
// With neither --list nor files, the list comes from bench/stdlib_files.sh.
// Prints one JSON object on stdout: seconds (best), first_seconds, all
// repetitions, files, bytes, diagnostics per code (from the last repetition).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(top, '.deps', 'node', 'node_modules', '@astral-sh', 'ruff-wasm-nodejs');

function usage(msg) {
    process.stderr.write(`ruff_wasm: ${msg}\n` +
        'usage: node bench/ruff_wasm.mjs [--select CODES] [--reps N] [--list FILE | FILE...]\n');
    process.exit(2);
}

function parseArgs(argv) {
    const opts = { select: ['F401', 'F811', 'F821', 'F841'], reps: 1, list: null, files: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) usage(`${a} needs a value`);
            return argv[++i];
        };
        if (a === '--select') opts.select = next().split(',').filter((s) => s.length > 0);
        else if (a === '--reps') opts.reps = Number.parseInt(next(), 10);
        else if (a === '--list') opts.list = next();
        else if (a === '-h' || a === '--help') usage('help');
        else if (a.startsWith('--')) usage(`unknown option ${a}`);
        else opts.files.push(a);
    }
    if (!(opts.reps >= 1)) usage('--reps must be >= 1');
    return opts;
}

function corpusFiles(opts) {
    if (opts.files.length > 0) return opts.files;
    const text = opts.list !== null
        ? readFileSync(opts.list, 'utf8')
        : execFileSync(join(top, 'bench', 'stdlib_files.sh'), { encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'] });
    return text.split('\n').filter((l) => l.length > 0);
}

function main() {
    const opts = parseArgs(process.argv.slice(2));
    const require = createRequire(import.meta.url);
    let ruff;
    try {
        ruff = require(pkgDir);
    } catch (e) {
        process.stderr.write(`ruff_wasm: cannot load ${pkgDir} (run scripts/bench-deps.sh): ` +
            `${e.message}\n`);
        process.exit(2);
    }
    const paths = corpusFiles(opts);
    let bytes = 0;
    const sources = paths.map((p) => {
        const buf = readFileSync(p);
        bytes += buf.length;
        return buf.toString('utf8');
    });

    const workspace = new ruff.Workspace({ lint: { select: opts.select } },
        ruff.PositionEncoding.Utf8);
    const times = [];
    let counts = {};
    let failures = 0;
    for (let r = 0; r < opts.reps; r++) {
        counts = {};
        failures = 0;
        const t0 = process.hrtime.bigint();
        for (const src of sources) {
            let diags;
            try {
                diags = workspace.check(src);
            } catch (e) {
                failures++;
                continue;
            }
            for (const d of diags) {
                const code = d.code === null ? 'null' : d.code;
                counts[code] = (counts[code] || 0) + 1;
            }
        }
        times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const sorted = Object.fromEntries(Object.entries(counts).sort());
    const out = {
        tool: 'ruff-wasm',
        version: ruff.Workspace.version(),
        select: opts.select,
        seconds: Math.min(...times),
        first_seconds: times[0],
        runs: times,
        files: sources.length,
        bytes,
        mb_per_s: bytes / 1e6 / Math.min(...times),
        check_failures: failures,
        diagnostics: sorted,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
}

main();
