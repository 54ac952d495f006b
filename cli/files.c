/* files.c - the files a check reads and reports (see files.h). Standard
 * input is read whole before anything else (a pipe can be read once, and
 * the run reads a file twice with a cache: to hash it, then to scan it). */
#include "cli/files.h"

#include "common/clock.h"

#include "common/alloc.h"
#include "run/exec.h"
#include "run/scope.h"
#include "worker/python/scan.h"

#include <string.h>
#include <unistd.h>

static size_t count_named(const walk_list_t *l)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n_files; i++)
        n += !l->files[i].context;
    return n;
}

/* Reads standard input into the list's arena, at most max + 1 bytes. */
static st_rc_t read_stdin(cli_files_t *f, size_t max, st_err_t *err)
{
    uint8_t *buf;
    size_t len;
    st_err_t e = {0};
    st_rc_t rc;

    if ((rc = exec_read_fd(STDIN_FILENO, 65536, max, f->list.arena, &buf, &len, &e)) != ST_OK)
        return st_fail(err, rc, "standard input: %s", e.msg);
    f->stdin_data = buf;
    f->stdin_len = len;
    f->has_stdin = true;
    return ST_OK;
}

/* Whether the check reads standard input; ST_EINVAL when other paths are
 * named with it. */
static st_rc_t wants_stdin(const cli_check_t *cfg, bool *yes, st_err_t *err)
{
    bool dash = false, other = false;

    for (size_t i = 0; i < cfg->n_paths; i++) {
        if (strcmp(cfg->paths[i], "-") == 0)
            dash = true;
        else if (!(cfg->stdin_filename != NULL && cfg->n_paths == 1 &&
                   strcmp(cfg->paths[i], ".") == 0))
            other = true; /* "." alone is the default when no PATH is given */
    }
    *yes = dash || cfg->stdin_filename != NULL;
    if (*yes && other)
        return st_fail(err, ST_EINVAL, "standard input ('-') is checked alone: no other PATH");
    return ST_OK;
}

/* Standard input as the one named file, and (context) the project around
 * the name it is checked as. */
static st_rc_t gather_stdin(const cli_check_t *cfg, bool context, const walk_opts_t *wopts,
                            cli_files_t *out, st_err_t *err)
{
    const char *name = cfg->stdin_filename != NULL ? cfg->stdin_filename : "-";
    size_t max = cfg->max_file_bytes != 0 ? cfg->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;
    const char **dirs;
    size_t n_dirs = 0;
    st_rc_t rc;

    if ((rc = walk_paths(NULL, 0, wopts, &out->list, err)) != ST_OK)
        return rc;
    out->list.files = arena_calloc(out->list.arena, 1, sizeof *out->list.files);
    if (out->list.files == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    out->list.files[0] = (walk_entry_t){.path = name};
    out->list.n_files = 1;
    out->stdin_path = name;
    if ((rc = read_stdin(out, max, err)) != ST_OK)
        return rc;
    out->list.files[0].size = out->stdin_len;
    if (!context || cfg->stdin_filename == NULL)
        return ST_OK; /* "-" is checked alone */
    if ((rc = scope_roots(&out->list, &name, 1, cfg->roots, cfg->n_roots, &dirs, &n_dirs, err)) !=
        ST_OK)
        return rc;
    return scope_add_context(&out->list, dirs, n_dirs, wopts, err);
}

st_rc_t cli_files_gather(const cli_check_t *cfg, config_set_t *conf, bool context, cli_files_t *out,
                         st_err_t *err)
{
    walk_opts_t wopts = {.exclude = cfg->exclude,
                         .n_exclude = cfg->n_exclude,
                         .skip = conf != NULL ? config_skip : NULL,
                         .skip_ctx = conf,
                         .respect_gitignore = cfg->respect_gitignore};
    cli_files_t f = {0};
    const char **dirs;
    size_t n_dirs = 0;
    bool from_stdin = false;
    st_rc_t rc;

    if ((rc = wants_stdin(cfg, &from_stdin, err)) != ST_OK)
        return rc;
    f.stamped_since_ns = clock_wall_ms() * 1000000u;
    if (from_stdin)
        rc = gather_stdin(cfg, context, &wopts, &f, err);
    else if ((rc = walk_paths(cfg->paths, cfg->n_paths, &wopts, &f.list, err)) == ST_OK &&
             context && f.list.n_missing == 0)
        rc = scope_roots(&f.list, cfg->paths, cfg->n_paths, cfg->roots, cfg->n_roots, &dirs,
                         &n_dirs, err);
    if (rc == ST_OK && !from_stdin && n_dirs > 0)
        rc = scope_add_context(&f.list, dirs, n_dirs, &wopts, err);
    if (rc != ST_OK) {
        walk_list_free(&f.list);
        return rc;
    }
    f.n_named = count_named(&f.list);
    *out = f;
    out->args = f.has_stdin ? &out->stdin_path : cfg->paths; /* in *out: it moves */
    out->n_args = f.has_stdin ? 1 : cfg->n_paths;
    return ST_OK;
}

void cli_files_show(const cli_files_t *files, FILE *out)
{
    for (size_t i = 0; i < files->list.n_files; i++)
        if (!files->list.files[i].context)
            fprintf(out, "%s\n", files->list.files[i].path);
}

void cli_files_free(cli_files_t *files)
{
    if (files == NULL)
        return;
    walk_list_free(&files->list);
    *files = (cli_files_t){0};
}
