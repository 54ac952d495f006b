/* progress.c - the progress line: counters and a drawing thread. */
#include "run/progress.h"

#include "common/alloc.h"
#include "common/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_BAR 20 /* cells of the bar */

struct progress {
    atomic_size_t v[PROGRESS_N];
    FILE *tty;
    char label[32];
    pthread_t thread;
    bool running; /* the drawing thread was started */
    bool stop;    /* under lock */
    bool drawn;   /* a line is on the terminal (the drawing thread's) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

bool progress_wanted(FILE *f, bool quiet)
{
    const char *term = getenv("TERM");

    if (quiet || f == NULL || !isatty(fileno(f)))
        return false;
    return term == NULL || strcmp(term, "dumb") != 0;
}

void progress_add(progress_t *self, progress_counter_t c, size_t n)
{
    if (self != NULL && c < PROGRESS_N)
        atomic_fetch_add_explicit(&self->v[c], n, memory_order_relaxed);
}

void progress_set(progress_t *self, progress_counter_t c, size_t n)
{
    if (self != NULL && c < PROGRESS_N)
        atomic_store_explicit(&self->v[c], n, memory_order_relaxed);
}

size_t progress_get(const progress_t *self, progress_counter_t c)
{
    if (self == NULL || c >= PROGRESS_N)
        return 0;
    return atomic_load_explicit(&((progress_t *)self)->v[c], memory_order_relaxed);
}

/* Appends to out[*len..cap), truncating; *len stays < cap. */
static void put(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len + 1 >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

void progress_format(const char *label, const size_t v[PROGRESS_N], unsigned width, char *out,
                     size_t cap)
{
    size_t len = 0, done, total, cells;
    bool checking = v[PROGRESS_COMPS] > 0;

    if (cap == 0)
        return;
    out[0] = '\0';
    if (width == 0)
        width = 80;
    done = checking ? v[PROGRESS_CHECKED] : v[PROGRESS_SCANNED];
    total = checking ? v[PROGRESS_COMPS] : v[PROGRESS_FILES];
    if (done > total)
        done = total;
    cells = total == 0 ? 0 : done * PROGRESS_BAR / total;
    if (v[PROGRESS_QUEUED] > 0) {
        put(out, cap, &len, "%s: waiting, %zu batch%s ahead", label, v[PROGRESS_QUEUED],
            v[PROGRESS_QUEUED] == 1 ? "" : "es");
        goto fit;
    }
    put(out, cap, &len, "%s [", label);
    for (size_t i = 0; i < PROGRESS_BAR; i++)
        put(out, cap, &len, "%c", i < cells ? '#' : '.');
    put(out, cap, &len, "] ");
    if (checking)
        put(out, cap, &len, "%zu/%zu checks, %zu files", v[PROGRESS_CHECKED], v[PROGRESS_COMPS],
            v[PROGRESS_FILES]);
    else
        put(out, cap, &len, "%zu/%zu files", v[PROGRESS_SCANNED], v[PROGRESS_FILES]);
    if (v[PROGRESS_CACHED] > 0)
        put(out, cap, &len, " (%zu cached)", v[PROGRESS_CACHED]);
    if (!checking && v[PROGRESS_CHECKED] > 0) /* a count without a total */
        put(out, cap, &len, ", %zu checks", v[PROGRESS_CHECKED]);
    if (v[PROGRESS_WORKERS] > 0)
        put(out, cap, &len, ", %zu worker%s", v[PROGRESS_WORKERS],
            v[PROGRESS_WORKERS] == 1 ? "" : "s");
fit: /* one line: never as wide as the terminal, which would wrap */
    if (len >= width)
        out[width - 1] = '\0';
}

static unsigned tty_width(FILE *tty)
{
    struct winsize ws;

    if (ioctl(fileno(tty), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static void draw(progress_t *self)
{
    size_t v[PROGRESS_N];
    char line[512];

    for (int c = 0; c < PROGRESS_N; c++)
        v[c] = progress_get(self, (progress_counter_t)c);
    progress_format(self->label, v, tty_width(self->tty), line, sizeof line);
    pthread_mutex_lock(&self->lock);
    if (!self->stop) {
        fprintf(self->tty, "\r%s\033[K", line);
        fflush(self->tty);
        self->drawn = true;
    }
    pthread_mutex_unlock(&self->lock);
}

void progress_clear(progress_t *self)
{
    if (self == NULL || !self->running)
        return;
    pthread_mutex_lock(&self->lock);
    if (self->drawn) {
        fputs("\r\033[K", self->tty);
        fflush(self->tty);
        self->drawn = false;
    }
    pthread_mutex_unlock(&self->lock);
}

/* Waits until ms from now or a stop; true when stopped. */
static bool wait_ms(progress_t *self, unsigned ms)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, ms);
    bool stop;

    pthread_mutex_lock(&self->lock);
    while (!self->stop)
        if (pthread_cond_timedwait(&self->cond, &self->lock, &until) != 0)
            break;
    stop = self->stop;
    pthread_mutex_unlock(&self->lock);
    return stop;
}

static void *draw_thread(void *arg)
{
    progress_t *self = arg;

    if (wait_ms(self, PROGRESS_DELAY_MS))
        return NULL;
    do
        draw(self);
    while (!wait_ms(self, PROGRESS_TICK_MS));
    return NULL;
}

progress_t *progress_new(FILE *tty, const char *label)
{
    progress_t *self = st_calloc(1, sizeof *self);

    if (self == NULL)
        return NULL;
    for (int c = 0; c < PROGRESS_N; c++)
        atomic_init(&self->v[c], 0);
    snprintf(self->label, sizeof self->label, "%s", label != NULL ? label : "strata");
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    self->tty = tty;
    if (tty != NULL)
        self->running = pthread_create(&self->thread, NULL, draw_thread, self) == 0;
    return self;
}

void progress_destroy(progress_t **self_p)
{
    progress_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    if (self->running) {
        pthread_mutex_lock(&self->lock);
        self->stop = true;
        pthread_cond_signal(&self->cond);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
        if (self->drawn) {
            fputs("\r\033[K", self->tty);
            fflush(self->tty);
        }
    }
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->cond);
    st_free(self);
    *self_p = NULL;
}
