/*
 * The C ABI from C: built with the machine's cc by tests/c_program.rs,
 * which compares what it prints with the Rust library's answers.
 *
 *   smoke [--corrupt FILE]... TABLE... [--questions FILE TABLE]...
 *
 * For each TABLE it prints every answer, by name, one per line:
 *   table PATH
 *   hash HEX
 *   count users N orgs N roles N permissions N resources N
 *   allow USER PERM ORG 0|1                  every user x permission x org
 *   on USER PERM ORG RESOURCE 0|1            every resource, at its org (or every org)
 *   roles USER ORG ROLE...                   the two-call pattern
 *   who PERM ORG USER...
 *   whoon PERM ORG RESOURCE USER...
 *   published ROLE ORG 0|1
 *   assign ADMIN ROLE USER ORG 0|1
 * and checks on its own what needs no reference: names and handles agree,
 * by-name answers equal by-handle ones, unknown names and handles answer
 * deny, short buffers are filled and the full length returned, and four
 * threads asking one table at once answer as one does.
 * For each FILE (a damaged table) it prints
 *   corrupt FILE open CODE MESSAGE
 *   corrupt FILE bytes CODE MESSAGE          (when the file can be read)
 * For each --questions FILE TABLE (a shared question file,
 * bindings/questions/EXAMPLE.jsonl: one JSON object a line with "user",
 * "permission", optional "org" and "resource", and the expected "allow")
 * it asks every question by names and by handles, checks each answer, and
 * prints
 *   questions FILE N ALLOWED                 the lines read, how many allow
 * Last it prints "smoke: N checks, M failed" and exits with 1 if M > 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trellis.h"

static long checks, failures;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        checks++;                                          \
        if (!(cond)) {                                     \
            failures++;                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);   \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

typedef const char *(*name_fn)(const TrellisTable *, int64_t, size_t *);
typedef int64_t (*lookup_fn)(const TrellisTable *, const char *);

/* A handle's name as a NUL-terminated copy (the table's is not terminated). */
static char *name_of(const TrellisTable *t, name_fn f, int64_t h) {
    size_t len = 12345;
    const char *p = f(t, h, &len);
    if (p == NULL) {
        return NULL;
    }
    char *s = malloc(len + 1);
    if (s == NULL) {
        abort();
    }
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* Every name of one kind, checked to lead back to its handle. */
static char **names(const TrellisTable *t, size_t n, name_fn f, lookup_fn find, const char *kind) {
    char **out = calloc(n + 1, sizeof *out);
    if (out == NULL) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = name_of(t, f, (int64_t)i);
        CHECK(out[i] != NULL, "%s %zu has no name", kind, i);
        if (out[i] != NULL && find != NULL) {
            CHECK(find(t, out[i]) == (int64_t)i, "%s `%s` does not lead back to %zu", kind, out[i], i);
        }
    }
    size_t len = 7;
    CHECK(f(t, (int64_t)n, &len) == NULL && len == 0, "%s %zu (one past the last) has a name", kind, n);
    CHECK(f(t, -1, NULL) == NULL, "%s -1 has a name", kind);
    return out;
}

static void free_names(char **v) {
    for (char **p = v; *p != NULL; p++) {
        free(*p);
    }
    free(v);
}

/* A list by the two-call pattern, checked against short buffers. */
typedef size_t (*list_fn)(const TrellisTable *, int64_t, int64_t, int64_t, int64_t *, size_t);

static size_t roles_adapter(const TrellisTable *t, int64_t a, int64_t b, int64_t c, int64_t *out, size_t cap) {
    (void)c;
    return trellis_roles(t, a, b, out, cap);
}
static size_t who_adapter(const TrellisTable *t, int64_t a, int64_t b, int64_t c, int64_t *out, size_t cap) {
    (void)c;
    return trellis_who(t, a, b, out, cap);
}

static int64_t *two_calls(const TrellisTable *t, list_fn f, int64_t a, int64_t b, int64_t c, size_t *n) {
    *n = f(t, a, b, c, NULL, 0);
    size_t cap = *n + 1;
    int64_t *buf = malloc(cap * sizeof *buf);
    if (buf == NULL) {
        abort();
    }
    for (size_t i = 0; i < cap; i++) {
        buf[i] = -99;
    }
    CHECK(f(t, a, b, c, buf, *n) == *n, "second call changes the length");
    CHECK(buf[*n] == -99, "wrote past the length asked");
    if (*n > 1) {
        int64_t first = buf[0];
        for (size_t i = 0; i < cap; i++) {
            buf[i] = -99;
        }
        CHECK(f(t, a, b, c, buf, *n - 1) == *n, "a short buffer changes the length");
        CHECK(buf[*n - 1] == -99 && buf[0] == first, "a short buffer is overrun or not filled");
        f(t, a, b, c, buf, *n);
    }
    return buf;
}

struct shared {
    const TrellisTable *t;
    size_t users, perms, orgs;
    const unsigned char *expected;
    long mismatches;
};

static void *ask_all(void *arg) {
    struct shared *s = arg;
    long bad = 0;
    for (int round = 0; round < 20; round++) {
        size_t k = 0;
        for (size_t u = 0; u < s->users; u++)
            for (size_t p = 0; p < s->perms; p++)
                for (size_t x = 0; x < s->orgs; x++, k++)
                    bad += trellis_allow(s->t, (int64_t)u, (int64_t)p, (int64_t)x) != s->expected[k];
    }
    s->mismatches = bad;
    return NULL;
}

static void threads(const TrellisTable *t, size_t users, size_t perms, size_t orgs, const unsigned char *expected) {
    enum { N = 4 };
    pthread_t th[N];
    struct shared s[N];
    for (int i = 0; i < N; i++) {
        s[i] = (struct shared){t, users, perms, orgs, expected, 0};
        CHECK(pthread_create(&th[i], NULL, ask_all, &s[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK(s[i].mismatches == 0, "thread %d: %ld answers differ", i, s[i].mismatches);
    }
}

static void unknowns(const TrellisTable *t, int64_t u, int64_t p, int64_t x) {
    const int64_t bad[] = {TRELLIS_NOT_FOUND, TRELLIS_NO_RESOURCE, INT64_MIN, INT64_MAX, (int64_t)1 << 40, 4294967295};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t b = bad[i];
        CHECK(!trellis_allow(t, b, p, x), "allow with user %lld", (long long)b);
        CHECK(!trellis_allow(t, u, b, x), "allow with permission %lld", (long long)b);
        CHECK(!trellis_allow(t, u, p, b), "allow with org %lld", (long long)b);
        if (b != TRELLIS_NO_RESOURCE) {
            CHECK(!trellis_allow_on(t, u, p, x, b), "allow_on with resource %lld", (long long)b);
        }
        CHECK(trellis_roles(t, b, x, NULL, 0) == 0, "roles of user %lld", (long long)b);
        CHECK(trellis_who(t, b, x, NULL, 0) == 0, "who of permission %lld", (long long)b);
        CHECK(!trellis_published(t, b, x), "published role %lld", (long long)b);
        CHECK(!trellis_can_assign(t, b, b, b, b), "can_assign %lld", (long long)b);
        CHECK(trellis_resource_org(t, b) == TRELLIS_NOT_FOUND, "resource_org of %lld", (long long)b);
    }
    CHECK(trellis_user(t, "no-such-user") == TRELLIS_NOT_FOUND, "unknown user found");
    CHECK(trellis_org(t, "no-such-org") == TRELLIS_NOT_FOUND, "unknown org found");
    CHECK(trellis_role(t, "no-such-role") == TRELLIS_NOT_FOUND, "unknown role found");
    CHECK(trellis_permission(t, "no:such") == TRELLIS_NOT_FOUND, "unknown permission found");
    CHECK(trellis_permission(t, "nocolon") == TRELLIS_NOT_FOUND, "permission without colon found");
    CHECK(trellis_resource(t, "no-such-resource") == TRELLIS_NOT_FOUND, "unknown resource found");
    CHECK(trellis_dimension(t, "no-such-dimension") == TRELLIS_NOT_FOUND, "unknown dimension found");
    CHECK(trellis_user(t, "") == TRELLIS_NOT_FOUND, "empty user found");
    CHECK(trellis_user(t, "\xff\xfe") == TRELLIS_NOT_FOUND, "non-UTF-8 user found");
    CHECK(trellis_user(t, NULL) == TRELLIS_NOT_FOUND, "NULL user found");
    CHECK(trellis_user(NULL, "x") == TRELLIS_NOT_FOUND, "user found in NULL");
    CHECK(!trellis_allow(NULL, u, p, x), "NULL table allows");
    CHECK(trellis_roles(NULL, u, x, NULL, 0) == 0, "NULL table has roles");
    CHECK(trellis_table_input_hash(NULL) == 0, "NULL table has a hash");
    CHECK(trellis_user_count(NULL) == 0, "NULL table has users");
    CHECK(!trellis_allow_names(t, "no-such-user", "no:such", "no-such-org", NULL), "unknown names allowed");
    CHECK(!trellis_allow_names(t, NULL, NULL, NULL, NULL), "NULL names allowed");
    CHECK(!trellis_allow_names(NULL, "a", "b:c", "d", NULL), "names allowed in NULL");
    TrellisAssignmentResources none = {TRELLIS_NOT_FOUND, NULL, 0};
    CHECK(!trellis_can_assign_with(t, u, 0, u, x, &none, 1), "can_assign_with an unknown dimension");
    CHECK(!trellis_can_assign_with(t, u, 0, u, x, NULL, 3), "can_assign_with NULL entries and a count");
}

static void table(const char *path) {
    TrellisError err;
    memset(&err, 0x55, sizeof err);
    TrellisTable *t = trellis_table_open(path, &err);
    CHECK(t != NULL, "cannot open %s: %d %s", path, (int)err.code, err.message);
    if (t == NULL) {
        return;
    }
    CHECK(err.code == TRELLIS_STATUS_OK && err.message[0] == '\0', "success leaves an error");
    printf("table %s\n", path);
    printf("hash %016llx\n", (unsigned long long)trellis_table_input_hash(t));
    size_t nu = trellis_user_count(t), nx = trellis_org_count(t), nr = trellis_role_count(t);
    size_t np = trellis_permission_count(t), nq = trellis_resource_count(t);
    printf("count users %zu orgs %zu roles %zu permissions %zu resources %zu\n", nu, nx, nr, np, nq);
    char **users = names(t, nu, trellis_user_name, trellis_user, "user");
    char **orgs = names(t, nx, trellis_org_name, trellis_org, "org");
    char **roles = names(t, nr, trellis_role_name, trellis_role, "role");
    char **perms = names(t, np, trellis_permission_name, trellis_permission, "permission");
    char **res = names(t, nq, trellis_resource_name, trellis_resource, "resource");

    unsigned char *expected = malloc(nu * np * nx + 1);
    if (expected == NULL) {
        abort();
    }
    size_t k = 0;
    for (size_t u = 0; u < nu; u++)
        for (size_t p = 0; p < np; p++)
            for (size_t x = 0; x < nx; x++, k++) {
                bool a = trellis_allow(t, (int64_t)u, (int64_t)p, (int64_t)x);
                expected[k] = a;
                printf("allow %s %s %s %d\n", users[u], perms[p], orgs[x], a);
                CHECK(trellis_allow_names(t, users[u], perms[p], orgs[x], NULL) == a,
                      "by name differs: %s %s %s", users[u], perms[p], orgs[x]);
                CHECK(trellis_allow_on(t, (int64_t)u, (int64_t)p, (int64_t)x, TRELLIS_NO_RESOURCE) == a,
                      "allow_on without resource differs: %s %s %s", users[u], perms[p], orgs[x]);
            }

    for (size_t q = 0; q < nq; q++) {
        int64_t home = trellis_resource_org(t, (int64_t)q);
        int64_t dim = trellis_resource_dimension(t, (int64_t)q);
        char *dim_name = name_of(t, trellis_dimension_name, dim);
        CHECK(dim_name != NULL && trellis_dimension(t, dim_name) == dim, "resource %s: dimension", res[q]);
        free(dim_name);
        for (size_t x = 0; x < nx; x++) {
            if (home != TRELLIS_NOT_FOUND && home != (int64_t)x) {
                for (size_t u = 0; u < nu; u++)
                    for (size_t p = 0; p < np; p++)
                        CHECK(!trellis_allow_on(t, (int64_t)u, (int64_t)p, (int64_t)x, (int64_t)q),
                              "%s allowed on %s away from its org", users[u], res[q]);
                continue;
            }
            for (size_t u = 0; u < nu; u++)
                for (size_t p = 0; p < np; p++) {
                    bool a = trellis_allow_on(t, (int64_t)u, (int64_t)p, (int64_t)x, (int64_t)q);
                    printf("on %s %s %s %s %d\n", users[u], perms[p], orgs[x], res[q], a);
                    CHECK(trellis_allow_names(t, users[u], perms[p], orgs[x], res[q]) == a,
                          "by name differs: %s %s %s %s", users[u], perms[p], orgs[x], res[q]);
                    if (home != TRELLIS_NOT_FOUND) {
                        CHECK(trellis_allow_names(t, users[u], perms[p], NULL, res[q]) == a,
                              "by name without org differs: %s %s %s", users[u], perms[p], res[q]);
                    }
                }
            for (size_t p = 0; p < np; p++) {
                size_t n;
                int64_t *who = two_calls(t, trellis_who_on, (int64_t)p, (int64_t)x, (int64_t)q, &n);
                printf("whoon %s %s %s", perms[p], orgs[x], res[q]);
                for (size_t i = 0; i < n; i++) printf(" %s", users[who[i]]);
                printf("\n");
                free(who);
            }
        }
    }

    for (size_t u = 0; u < nu; u++)
        for (size_t x = 0; x < nx; x++) {
            size_t n;
            int64_t *held = two_calls(t, roles_adapter, (int64_t)u, (int64_t)x, 0, &n);
            printf("roles %s %s", users[u], orgs[x]);
            for (size_t i = 0; i < n; i++) printf(" %s", roles[held[i]]);
            printf("\n");
            free(held);
        }
    for (size_t p = 0; p < np; p++)
        for (size_t x = 0; x < nx; x++) {
            size_t n;
            int64_t *who = two_calls(t, who_adapter, (int64_t)p, (int64_t)x, 0, &n);
            printf("who %s %s", perms[p], orgs[x]);
            for (size_t i = 0; i < n; i++) printf(" %s", users[who[i]]);
            printf("\n");
            free(who);
        }
    for (size_t r = 0; r < nr; r++)
        for (size_t x = 0; x < nx; x++)
            printf("published %s %s %d\n", roles[r], orgs[x], trellis_published(t, (int64_t)r, (int64_t)x));
    for (size_t a = 0; a < nu; a++)
        for (size_t r = 0; r < nr; r++)
            for (size_t u = 0; u < nu; u++)
                for (size_t x = 0; x < nx; x++) {
                    bool ok = trellis_can_assign(t, (int64_t)a, (int64_t)r, (int64_t)u, (int64_t)x);
                    printf("assign %s %s %s %s %d\n", users[a], roles[r], users[u], orgs[x], ok);
                    CHECK(trellis_can_assign_with(t, (int64_t)a, (int64_t)r, (int64_t)u, (int64_t)x, NULL, 0) == ok,
                          "can_assign_with nothing differs");
                }

    if (nu > 0 && np > 0 && nx > 0) {
        unknowns(t, 0, 0, 0);
        threads(t, nu, np, nx, expected);
    }
    free(expected);
    free_names(users);
    free_names(orgs);
    free_names(roles);
    free_names(perms);
    free_names(res);
    trellis_table_free(t);
}

static void corrupt(const char *path) {
    TrellisError err;
    memset(&err, 0x55, sizeof err);
    TrellisTable *t = trellis_table_open(path, &err);
    CHECK(t == NULL, "%s opened", path);
    CHECK(err.code != TRELLIS_STATUS_OK && err.message[0] != '\0', "%s: no error reported", path);
    CHECK(memchr(err.message, '\0', sizeof err.message) != NULL, "%s: message not terminated", path);
    printf("corrupt %s open %d %s\n", path, (int)err.code, err.message);
    trellis_table_free(t);
    CHECK(trellis_table_open(path, NULL) == NULL, "%s opened without an error report", path);

    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return;
    }
    unsigned char *bytes = malloc(1 << 20);
    if (bytes == NULL) {
        abort();
    }
    size_t len = fread(bytes, 1, 1 << 20, f);
    int unreadable = ferror(f);
    fclose(f);
    if (!unreadable) {
        memset(&err, 0x55, sizeof err);
        t = trellis_table_from_bytes(bytes, len, &err);
        CHECK(t == NULL, "%s opened from bytes", path);
        CHECK(err.code != TRELLIS_STATUS_OK && err.message[0] != '\0', "%s: no error from bytes", path);
        printf("corrupt %s bytes %d %s\n", path, (int)err.code, err.message);
        trellis_table_free(t);
    }
    free(bytes);
}

/* The string value of `"key":"..."` in a flat JSON object, unescaped into
 * out (the question files hold plain names: \" and \\ are the escapes
 * read; any other escape fails the check). 1 if found, 0 if absent. */
static int json_string(const char *line, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(line, pattern);
    if (p == NULL) {
        return 0;
    }
    p += strlen(pattern);
    size_t n = 0;
    for (; *p != '\0' && *p != '"'; p++) {
        if (*p == '\\') {
            p++;
            CHECK(*p == '"' || *p == '\\', "unsupported escape \\%c in %s", *p, line);
        }
        if (n + 1 < cap) {
            out[n++] = *p;
        }
    }
    CHECK(*p == '"', "unterminated string for %s in %s", key, line);
    out[n] = '\0';
    return 1;
}

/* Every question of a shared question file, asked of the table at `path`
 * by names (trellis_allow_names) and by handles (trellis_allow_on). */
static void questions(const char *file, const char *path) {
    TrellisError err;
    TrellisTable *t = trellis_table_open(path, &err);
    CHECK(t != NULL, "questions: %s does not open: %s", path, err.message);
    FILE *f = fopen(file, "r");
    CHECK(f != NULL, "questions: cannot read %s", file);
    if (t == NULL || f == NULL) {
        if (f != NULL) {
            fclose(f);
        }
        trellis_table_free(t);
        return;
    }
    char line[4096], user[512], perm[512], org[512], res[512];
    long n = 0, allowed = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '\n' || line[0] == '\0') {
            continue;
        }
        n++;
        CHECK(strchr(line, '\n') != NULL, "%s:%ld: line too long", file, n);
        int ok = json_string(line, "user", user, sizeof user) && json_string(line, "permission", perm, sizeof perm);
        CHECK(ok, "%s:%ld: no user or permission", file, n);
        int has_org = json_string(line, "org", org, sizeof org);
        int has_res = json_string(line, "resource", res, sizeof res);
        int expected = strstr(line, "\"allow\":true") != NULL;
        CHECK(expected || strstr(line, "\"allow\":false") != NULL, "%s:%ld: no allow", file, n);
        allowed += expected;

        bool by_name = trellis_allow_names(t, user, perm, has_org ? org : NULL, has_res ? res : NULL);
        CHECK(by_name == (bool)expected, "%s:%ld: by name %d, expected %d: %s", file, n, by_name, expected, line);

        int64_t q = has_res ? trellis_resource(t, res) : TRELLIS_NO_RESOURCE;
        int64_t x = has_org ? trellis_org(t, org) : (q >= 0 ? trellis_resource_org(t, q) : TRELLIS_NOT_FOUND);
        bool by_handle = trellis_allow_on(t, trellis_user(t, user), trellis_permission(t, perm), x, q);
        CHECK(by_handle == (bool)expected, "%s:%ld: by handle %d, expected %d: %s", file, n, by_handle, expected, line);
    }
    fclose(f);
    trellis_table_free(t);
    CHECK(n > 0, "questions: %s is empty", file);
    printf("questions %s %ld %ld\n", file, n, allowed);
}

int main(int argc, char **argv) {
    CHECK(trellis_format_version() == 3, "format version %u", trellis_format_version());
    TrellisError err;
    CHECK(trellis_table_open(NULL, &err) == NULL && err.code == TRELLIS_STATUS_NULL_ARGUMENT, "open(NULL)");
    CHECK(trellis_table_from_bytes(NULL, 10, &err) == NULL && err.code == TRELLIS_STATUS_NULL_ARGUMENT,
          "from_bytes(NULL, 10)");
    CHECK(trellis_table_from_bytes(NULL, 0, &err) == NULL && err.code != TRELLIS_STATUS_OK, "from_bytes(NULL, 0)");
    trellis_table_free(NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--corrupt") == 0 && i + 1 < argc) {
            corrupt(argv[++i]);
        } else if (strcmp(argv[i], "--questions") == 0 && i + 2 < argc) {
            questions(argv[i + 1], argv[i + 2]);
            i += 2;
        } else {
            table(argv[i]);
        }
    }
    printf("smoke: %ld checks, %ld failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
