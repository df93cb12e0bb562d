/* test_snapshot.c - the index snapshot: what is written loads back to the
 * same answers (states, escaped days, digests); a flipped byte, a torn
 * file, another store, another format, a position ahead of the store or no
 * file at all is refused and leaves the index empty; a failed write leaves
 * the old snapshot in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/date.h"
#include "core/errors.h"
#include "index/snapshot.h"

#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BASE 8613800000000ull
#define COUNT 30000 /* numbers, spread over more than three blocks */
#define STORE_A "0123456789abcdef0123456789abcdef"
#define STORE_B "fedcba9876543210fedcba9876543210"

static char path[512];

static sn_number number_at(size_t i)
{
    return BASE + i * 3 + (i % 7); /* gaps, several blocks */
}

static sn_number_state state_at(size_t i)
{
    sn_number_state st;
    sn_state_init(&st, number_at(i));
    st.status = (uint8_t)(i % 5);
    st.first_is_activation = (uint8_t)(i & 1);
    st.first_day = i % 11 == 0 ? sn_day_from_civil(1950, 1, 1) /* escaped: before 1970 */
                               : sn_day_from_civil(2020, 1, 1) + (sn_day)(i % 900);
    st.last_activation_day = i % 3 == 0 ? SN_DAY_NONE : st.first_day + 10;
    st.last_cancel_day = i % 13 == 0 ? sn_day_from_civil(2200, 5, 5) : SN_DAY_NONE;
    return st;
}

static sn_numindex *filled(void)
{
    sn_numindex *ix = sn_numindex_new();
    assert_non_null(ix);
    for (size_t i = 0; i < COUNT; i++) {
        sn_number_state st = state_at(i);
        assert_int_equal(sn_numindex_load_add(ix, &st), SN_OK);
    }
    assert_int_equal(sn_numindex_load_end(ix), SN_OK);
    return ix;
}

static void same_answers(sn_numindex *a, sn_numindex *b)
{
    assert_int_equal(sn_numindex_count(a), sn_numindex_count(b));
    for (size_t i = 0; i < COUNT; i++) {
        sn_number_state x, y;
        assert_int_equal(sn_numindex_get(a, number_at(i), &x), 1);
        assert_int_equal(sn_numindex_get(b, number_at(i), &y), 1);
        assert_int_equal(x.status, y.status);
        assert_int_equal(x.first_is_activation, y.first_is_activation);
        assert_int_equal(x.first_day, y.first_day);
        assert_int_equal(x.last_activation_day, y.last_activation_day);
        assert_int_equal(x.last_cancel_day, y.last_cancel_day);
    }
    sn_number_state none;
    assert_int_equal(sn_numindex_get(b, BASE + 3 * COUNT + 100, &none), 0);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    (void)state;
    snprintf(path, sizeof(path), "%s/test_snapshot.%d.index", tmp ? tmp : "/tmp", (int)getpid());
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    char tmp[600];
    (void)state;
    unlink(path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    return 0;
}

/* Load the file at path into a new index: the code, and the index freed. */
static int load_code(const char *store, uint64_t cursor, char *err, size_t errlen)
{
    sn_snapshot_info info;
    sn_numindex *ix = sn_numindex_new();
    int rc = sn_snapshot_load(path, ix, store, cursor, &info, err, errlen);
    if (rc != SN_OK)
        assert_int_equal(sn_numindex_count(ix), 0); /* untouched */
    sn_numindex_free(ix);
    return rc;
}

static void written_snapshot_loads_the_same_answers(void **state)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info w, r;
    (void)state;
    sn_numindex *ix = filled(), *back = sn_numindex_new();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 42, &w, err, sizeof(err)), SN_OK);
    assert_int_equal(w.numbers, COUNT);
    assert_int_equal(sn_snapshot_load(path, back, STORE_A, 42, &r, err, sizeof(err)), SN_OK);
    assert_int_equal(r.position, 42);
    assert_int_equal(r.numbers, COUNT);
    assert_int_equal(r.blocks, w.blocks);
    assert_string_equal(r.store_id, STORE_A);
    same_answers(ix, back);
    uint8_t sha[32]; /* the digest maps were built from the loaded states */
    sn_number found = 0;
    sn_number_sha256(number_at(77), sha);
    assert_int_equal(sn_numindex_find_sha256(back, sha, &found), 1);
    assert_int_equal(found, number_at(77));
    sn_numindex_free(ix);
    sn_numindex_free(back);
}

static void flipped_byte_is_refused_anywhere(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    sn_numindex *ix = filled();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 7, NULL, err, sizeof(err)), SN_OK);
    sn_numindex_free(ix);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long at[] = {0, 20, 50, 64, 100, size / 2, size - 40, size - 1};
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        int c;
        fseek(f, at[k], SEEK_SET);
        c = fgetc(f);
        fseek(f, at[k], SEEK_SET);
        fputc(c ^ 0x10, f);
        fflush(f);
        assert_int_equal(load_code(STORE_A, 7, err, sizeof(err)), SN_EINVAL);
        assert_non_null(strstr(err, "checksum"));
        fseek(f, at[k], SEEK_SET);
        fputc(c, f);
        fflush(f);
    }
    fclose(f);
    assert_int_equal(load_code(STORE_A, 7, err, sizeof(err)), SN_OK); /* restored: loads */
}

static void truncated_file_is_refused(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    sn_numindex *ix = filled();
    sn_snapshot_info w;
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 7, &w, err, sizeof(err)), SN_OK);
    sn_numindex_free(ix);
    assert_int_equal(truncate(path, (off_t)w.bytes - 1), 0);
    assert_int_equal(load_code(STORE_A, 7, err, sizeof(err)), SN_EINVAL);
    assert_int_equal(truncate(path, 10), 0);
    assert_int_equal(load_code(STORE_A, 7, err, sizeof(err)), SN_EINVAL);
    assert_non_null(strstr(err, "too short"));
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(load_code(STORE_A, 7, err, sizeof(err)), SN_EINVAL);
}

static void foreign_ahead_and_missing_are_refused(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    assert_int_equal(load_code(STORE_A, 7, err, sizeof(err)), SN_ENOTFOUND);
    sn_numindex *ix = filled();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 9, NULL, err, sizeof(err)), SN_OK);
    sn_numindex_free(ix);
    assert_int_equal(load_code(STORE_B, 9, err, sizeof(err)), SN_EINVAL);
    assert_non_null(strstr(err, "foreign"));
    assert_int_equal(load_code(STORE_A, 8, err, sizeof(err)), SN_EINVAL); /* store behind */
    assert_non_null(strstr(err, "ahead"));
    assert_int_equal(load_code(STORE_A, 9, err, sizeof(err)), SN_OK);
    assert_int_equal(load_code(STORE_A, 1000, err, sizeof(err)), SN_OK); /* changes since */
}

/* Another format version, with a checksum that matches it. */
static void other_format_is_refused(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    sn_numindex *ix = filled();
    sn_snapshot_info w;
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 3, &w, err, sizeof(err)), SN_OK);
    sn_numindex_free(ix);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    uint8_t *all = malloc(w.bytes);
    assert_int_equal(fread(all, 1, w.bytes, f), w.bytes);
    uint32_t format = SN_SNAPSHOT_FORMAT + 1;
    memcpy(all + 8, &format, 4);
    crypto_generichash(all + w.bytes - 32, 32, all, w.bytes - 32, NULL, 0);
    rewind(f);
    assert_int_equal(fwrite(all, 1, w.bytes, f), w.bytes);
    fclose(f);
    free(all);
    assert_int_equal(load_code(STORE_A, 3, err, sizeof(err)), SN_EINVAL);
    assert_non_null(strstr(err, "format version"));
}

static void failed_write_keeps_the_old_snapshot(void **state)
{
    char err[SN_ERRMSG_MAX], tmp[600];
    (void)state;
    sn_numindex *ix = filled();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 5, NULL, err, sizeof(err)), SN_OK);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(mkdir(tmp, 0700), 0); /* PATH.tmp cannot be opened for writing */
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 6, NULL, err, sizeof(err)), SN_EIO);
    rmdir(tmp);
    sn_snapshot_info r;
    sn_numindex *back = sn_numindex_new();
    assert_int_equal(sn_snapshot_load(path, back, STORE_A, 6, &r, err, sizeof(err)), SN_OK);
    assert_int_equal(r.position, 5);
    same_answers(ix, back);
    sn_numindex_free(back);
    assert_int_equal(
        sn_snapshot_write("/nonexistent-folder/x.index", ix, STORE_A, 5, NULL, err, sizeof(err)),
        SN_EIO);
    sn_numindex_free(ix);
}

/* Blocks added before the write: the 64 shards of 64 directory slots
 * double at 48 blocks each, about 3,072, so they do during the write. */
#define GROWN_BEFORE 2800

typedef struct {
    sn_numindex *ix;
    atomic_int stop;
    size_t added;
} grower;

/* New numbers in new blocks, one at a time, until told: the directory
 * grows under the snapshot's feet. */
static void *grow_blocks(void *arg)
{
    grower *g = arg;
    for (size_t i = 0; !atomic_load(&g->stop) && i < 200000; i++, g->added++) {
        sn_number_state st;
        sn_state_init(&st, BASE + 100000000ull + i * 10000); /* a new block each */
        st.status = 1;
        st.first_day = sn_day_from_civil(2021, 1, 1);
        assert_int_equal(sn_numindex_put(g->ix, &st), SN_OK);
    }
    return NULL;
}

static void written_while_the_index_grows_holds_every_earlier_number(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    for (int round = 0; round < 20; round++) {
        grower g = {filled(), 0, 0};
        pthread_t tid;
        assert_int_equal(pthread_create(&tid, NULL, grow_blocks, &g), 0);
        while (g.added < GROWN_BEFORE) /* the directory nears its first doubling */
            sched_yield();
        assert_int_equal(sn_snapshot_write(path, g.ix, STORE_A, 1, NULL, err, sizeof(err)), SN_OK);
        atomic_store(&g.stop, 1);
        pthread_join(tid, NULL);
        sn_numindex *back = sn_numindex_new();
        sn_snapshot_info r;
        assert_int_equal(sn_snapshot_load(path, back, STORE_A, 1, &r, err, sizeof(err)), SN_OK);
        for (size_t i = 0; i < COUNT; i++) { /* every number there before the write began */
            sn_number_state x, y;
            assert_int_equal(sn_numindex_get(g.ix, number_at(i), &x), 1);
            assert_int_equal(sn_numindex_get(back, number_at(i), &y), 1);
            assert_int_equal(x.first_day, y.first_day);
        }
        for (size_t i = 0; i < GROWN_BEFORE; i++) {
            sn_number_state y;
            assert_int_equal(sn_numindex_get(back, BASE + 100000000ull + i * 10000, &y), 1);
        }
        assert_true(r.numbers >= COUNT + GROWN_BEFORE);
        sn_numindex_free(back);
        sn_numindex_free(g.ix);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(written_snapshot_loads_the_same_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(flipped_byte_is_refused_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_ahead_and_missing_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(other_format_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_write_keeps_the_old_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(written_while_the_index_grows_holds_every_earlier_number,
                                        setup, teardown),
    };
    return sn_run_tests(tests);
}
