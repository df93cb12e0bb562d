/*
 * store_fixture.h - a scratch SQLite store for the unit tests and the
 * benchmarks that open one: its path under $TMPDIR (or /tmp) named after
 * the program and its pid, and the removal of every file SQLite and the
 * store make beside it (-wal, -shm, .key). No cmocka here: bench/ uses it.
 */
#ifndef SN_TEST_STORE_FIXTURE_H
#define SN_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* path = "$TMPDIR/sn-NAME-PID.db" (cut to size, as snprintf does). */
static inline void sn_test_store_path(char *path, size_t size, const char *name)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/sn-%s-%d.db", dir != NULL && dir[0] != '\0' ? dir : "/tmp", name,
             (int)getpid());
}

/* Remove the store at path and the files beside it (those missing are
 * skipped). */
static inline void sn_test_store_remove(const char *path)
{
    static const char *const beside[] = {"-wal", "-shm", ".key"};
    char p[4200];
    unlink(path);
    for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, beside[i]);
        unlink(p);
    }
}

#endif
