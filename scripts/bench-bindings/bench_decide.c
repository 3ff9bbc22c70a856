/* Per-decision cost of the C ABI (scripts/bench-bindings.sh; not a test).
 *
 *   cc -O2 -I bindings/c/include bench_decide.c -L DIR -ltrellis -o bench_decide
 *   ./bench_decide TABLE QUESTIONS.tsv [PASSES]
 *
 * QUESTIONS: `user TAB permission TAB org TAB resource` a line (org or
 * resource empty for none). Two loops over every question, each timed
 * PASSES times (default 7): by handle (names looked up once beforehand,
 * then trellis_allow_on) and by name (trellis_allow_names). Prints
 * `c KIND LABEL MEDIAN_NS ALLOWED` per loop, as the Rust example does
 * (TRELLIS_BENCH_ONLY=LABEL: that loop alone, PASSES may be 0). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trellis.h"

typedef struct {
    char *user, *perm, *org, *res; /* org and res NULL for none */
    int64_t u, p, x, q;
} Question;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char *field(char **line) {
    char *start = *line, *tab = strchr(start, '\t');
    if (tab) {
        *tab = 0;
        *line = tab + 1;
    } else {
        *line = start + strlen(start);
    }
    return start;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_decide TABLE QUESTIONS.tsv [PASSES]\n");
        return 2;
    }
    int passes = argc > 3 ? atoi(argv[3]) : 7;
    if (passes < 0 || passes > 100) passes = 7;
    /* TRELLIS_BENCH_ONLY=LABEL: that loop alone (valgrind's counts). */
    const char *only = getenv("TRELLIS_BENCH_ONLY");
    TrellisError err;
    TrellisTable *t = trellis_table_open(argv[1], &err);
    if (!t) {
        fprintf(stderr, "bench_decide: %s\n", err.message);
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    size_t n = 0, cap = 1024;
    Question *qs = malloc(cap * sizeof *qs);
    char *line = NULL;
    size_t len = 0;
    while (getline(&line, &len, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        if (n == cap) qs = realloc(qs, (cap *= 2) * sizeof *qs);
        char *copy = strdup(line), *rest = copy;
        Question *q = &qs[n++];
        q->user = field(&rest);
        q->perm = field(&rest);
        q->org = field(&rest);
        q->res = field(&rest);
        if (!*q->org) q->org = NULL;
        if (!*q->res) q->res = NULL;
        q->u = trellis_user(t, q->user);
        q->p = trellis_permission(t, q->perm);
        q->q = q->res ? trellis_resource(t, q->res) : TRELLIS_NO_RESOURCE;
        q->x = q->org ? trellis_org(t, q->org) : trellis_resource_org(t, q->q);
    }
    free(line);
    fclose(f);

    double times[100];
    for (int kind = 0; kind < 2; kind++) {
        const char *label = kind == 0 ? "trellis_allow_on" : "trellis_allow_names";
        if (only && strcmp(only, label) != 0) continue;
        if (passes == 0) continue;
        size_t allowed = 0;
        /* pass -1 is untimed, for the caches */
        for (int pass = -1; pass < passes; pass++) {
            allowed = 0;
            double start = now_ns();
            if (kind == 0) {
                for (size_t i = 0; i < n; i++)
                    allowed += trellis_allow_on(t, qs[i].u, qs[i].p, qs[i].x, qs[i].q);
            } else {
                for (size_t i = 0; i < n; i++)
                    allowed += trellis_allow_names(t, qs[i].user, qs[i].perm, qs[i].org, qs[i].res);
            }
            if (pass >= 0) times[pass] = (now_ns() - start) / (double)n;
        }
        qsort(times, (size_t)passes, sizeof times[0], cmp);
        printf("c %s %s %.1f %zu\n", kind == 0 ? "handle" : "name", label, times[passes / 2], allowed);
    }
    trellis_table_free(t);
    return 0;
}
