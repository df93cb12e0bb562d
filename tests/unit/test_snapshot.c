/* test_snapshot.c - the index snapshot: what is written loads back to the
 * same answers (states, escaped days, every hashed lookup, from the saved
 * digest tables, with the numbers of the side map saved beside them, also
 * while the index grows and its tables merge under the writing); a flipped
 * byte (in the states or the digest tables), a torn file, another store,
 * another format (the one before the digest tables too), a position ahead
 * of the store, digest tables that are not ones digests.c makes (kinds
 * that disagree, a position past the block ids, ...), or no
 * file at all is refused and leaves the index empty; a snapshot without
 * digest tables builds them, one with them loads into an index without;
 * a failed write leaves the old snapshot in place; the saved tables are
 * served from the file's mapping until a merge replaces them, and the
 * padding that aligns them is checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/date.h"
#include "core/errors.h"
#include "index/blocks.h"
#include "index/snapshot.h"

#include <pthread.h>
#include <sched.h>
#include <openssl/evp.h>
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

/* The file at path read whole into *all: its size. */
static size_t read_all(uint8_t **all)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    rewind(f);
    *all = malloc(size);
    assert_non_null(*all);
    assert_int_equal(fread(*all, 1, size, f), size);
    fclose(f);
    return size;
}

/* The checksum of all[0..size) put in its last 32 bytes (SHA-256). */
static void seal(uint8_t *all, size_t size)
{
    assert_int_equal(EVP_Digest(all, size - 32, all + size - 32, NULL, EVP_sha256(), NULL), 1);
}

/* all[0..size) written over path with a checksum that matches it. */
static void write_all(uint8_t *all, size_t size)
{
    seal(all, size);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(all, 1, size, f), size);
    fclose(f);
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
    seal(all, w.bytes);
    rewind(f);
    assert_int_equal(fwrite(all, 1, w.bytes, f), w.bytes);
    fclose(f);
    free(all);
    assert_int_equal(load_code(STORE_A, 3, err, sizeof(err)), SN_EINVAL);
    assert_non_null(strstr(err, "format version"));
    uint8_t *again; /* the formats before: no digest tables (1), byte-wide entries (2), ... */
    size_t size = read_all(&again);
    for (format = 1; format < SN_SNAPSHOT_FORMAT; format++) {
        char want[32];
        memcpy(again + 8, &format, 4);
        write_all(again, size);
        assert_int_equal(load_code(STORE_A, 3, err, sizeof(err)), SN_EINVAL);
        snprintf(want, sizeof(want), "format version %u,", format);
        assert_non_null(strstr(err, want));
    }
    free(again);
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
    atomic_size_t added; /* read by the writing thread while this one adds */
} grower;

/* New numbers in new blocks, one at a time, until told: the directory
 * grows under the snapshot's feet. */
static void *grow_blocks(void *arg)
{
    grower *g = arg;
    for (size_t i = 0; !atomic_load(&g->stop) && i < 200000; i++, atomic_fetch_add(&g->added, 1)) {
        sn_number_state st;
        sn_state_init(&st, BASE + 100000000ull + i * 10000); /* a new block each */
        st.status = 1;
        st.first_day = sn_day_from_civil(2021, 1, 1);
        assert_int_equal(sn_numindex_put(g->ix, &st), SN_OK);
    }
    return NULL;
}

/* The index grows (and its digest tables merge) while the snapshot is
 * written: every number there before is in it, and every number whose
 * state it holds is found by its digest after a load (the tables and the
 * side maps' numbers are taken after the states). */
static void written_while_the_index_grows_holds_every_earlier_number(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    for (int round = 0; round < 20; round++) {
        grower g = {filled(), 0, 0};
        pthread_t tid;
        sn_digests_set_side_min(sn_numindex_digests(g.ix), 512); /* merges while it writes */
        assert_int_equal(pthread_create(&tid, NULL, grow_blocks, &g), 0);
        while (atomic_load(&g.added) < GROWN_BEFORE) /* the directory nears its first doubling */
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
        size_t saved = 0; /* a saved state's number is found by its digests too */
        for (size_t i = 0; i < atomic_load(&g.added); i++) {
            sn_number n = BASE + 100000000ull + i * 10000, found = 0;
            sn_number_state y;
            uint8_t sha[32];
            if (sn_numindex_get(back, n, &y) != 1)
                continue;
            saved++;
            sn_number_sha256(n, sha);
            assert_int_equal(sn_numindex_find_sha256(back, sha, &found), 1);
            assert_int_equal(found, n);
        }
        assert_int_equal(saved, r.numbers - COUNT);
        sn_numindex_free(back);
        sn_numindex_free(g.ix);
    }
}

/* ---- the digest tables ------------------------------------------------------ */

#define EXTRA 700 /* numbers put after the tables were built: the side map's */

static sn_number extra_at(size_t j)
{
    return BASE + 50000000ull + j * 7; /* new blocks */
}

/* filled(), then EXTRA numbers put one at a time (in the side map). */
static sn_numindex *filled_and_added(void)
{
    sn_numindex *ix = filled();
    for (size_t j = 0; j < EXTRA; j++) {
        sn_number_state st;
        sn_state_init(&st, extra_at(j));
        st.status = 1;
        st.first_day = sn_day_from_civil(2022, 2, 2);
        assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    }
    return ix;
}

/* Number n is found by its SHA-256, MD5 and SM3 in ix (or, found 0, by none). */
static void finds(sn_numindex *ix, sn_number n, int found)
{
    uint8_t sha[32], md5[16], sm3[32];
    sn_number a = 0, b = 0, c = 0;
    sn_number_sha256(n, sha);
    sn_number_md5(n, md5);
    sn_number_sm3(n, sm3);
    assert_int_equal(sn_numindex_find_sha256(ix, sha, &a), found);
    assert_int_equal(sn_numindex_find_md5(ix, md5, &b), found);
    assert_int_equal(sn_numindex_find_sm3(ix, sm3, &c), found);
    if (found)
        assert_true(a == n && b == n && c == n);
}

static int cmp_number(const void *x, const void *y)
{
    sn_number a = *(const sn_number *)x, b = *(const sn_number *)y;
    return a < b ? -1 : a > b;
}

/* The range check of n's SHA-256 prefix lists the same numbers in a and b. */
static void same_range(sn_numindex *a, sn_numindex *b, sn_number n)
{
    uint8_t sha[32];
    sn_number x[64], y[64];
    size_t nx = 0, ny = 0;
    sn_number_sha256(n, sha);
    uint32_t prefix = (uint32_t)sha[0] << 12 | (uint32_t)sha[1] << 4 | sha[2] >> 4;
    assert_int_equal(sn_numindex_range_sha256(a, prefix, x, 64, &nx), SN_OK);
    assert_int_equal(sn_numindex_range_sha256(b, prefix, y, 64, &ny), SN_OK);
    assert_true(nx >= 1);
    assert_int_equal(nx, ny);
    qsort(x, nx, sizeof(x[0]), cmp_number);
    qsort(y, ny, sizeof(y[0]), cmp_number);
    assert_memory_equal(x, y, nx * sizeof(x[0]));
}

static void digest_tables_load_back_to_the_same_lookups(void **state)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info w, r;
    (void)state;
    sn_numindex *ix = filled_and_added(), *back = sn_numindex_new();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 42, &w, err, sizeof(err)), SN_OK);
    assert_true(w.digest_bytes > 3 * 3 * COUNT); /* the merged tables, over 3 bytes an entry */
    assert_int_equal(sn_snapshot_load(path, back, STORE_A, 42, &r, err, sizeof(err)), SN_OK);
    assert_int_equal(r.digest_bytes, w.digest_bytes);
    assert_int_equal(sn_digests_count(sn_numindex_digests(back)), COUNT + EXTRA);
    for (size_t i = 0; i < COUNT; i++) {
        finds(back, number_at(i), 1);
        if (i % 97 == 0)
            same_range(ix, back, number_at(i));
    }
    for (size_t j = 0; j < EXTRA; j++) /* in no table: added back at load */
        finds(back, extra_at(j), 1);
    same_range(ix, back, extra_at(3));
    finds(back, BASE + 3 * COUNT + 100, 0);
    sn_numindex_free(ix);
    sn_numindex_free(back);
}

/* The side maps are saved after the tables, each kind's entries (key,
 * number) after its count: a load puts them back as they were. A key 0
 * (never stored) or a count past the part is refused. */
static void saved_side_maps_are_checked(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    sn_numindex *ix = filled_and_added();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 1, NULL, err, sizeof(err)), SN_OK);
    sn_numindex_free(ix);
    uint8_t *all, *bad;
    size_t size = read_all(&all), sm3 = size - 40 - EXTRA * 16; /* SM3's entries end the part */
    uint64_t count, key = 0, big = UINT64_MAX / 16;
    memcpy(&count, all + sm3 - 8, 8);
    assert_int_equal(count, EXTRA);
    assert_non_null(bad = malloc(size));
    for (int how = 0; how < 2; how++) {
        memcpy(bad, all, size);
        if (how == 0)
            memcpy(bad + sm3 + 16 * 9, &key, 8); /* the tenth entry's key */
        else
            memcpy(bad + sm3 - 8, &big, 8);
        write_all(bad, size);
        assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_EINVAL);
        assert_non_null(strstr(err, "digest tables"));
    }
    write_all(all, size); /* as written: loads */
    assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_OK);
    free(bad);
    free(all);
}

/* Where the digest part of all[0..size) starts, and its header's fields. */
typedef struct {
    size_t at, first, ents; /* the part; SHA-256's offsets and entries */
    uint64_t count, nids;
    uint32_t pos_bits, k, fp_bits, bits; /* bits: of an entry, packed one after another */
} digest_part;

static digest_part part_of(const uint8_t *all, size_t size)
{
    digest_part d;
    uint64_t len;
    memcpy(&len, all + size - 40, 8);
    assert_true(len > 32 && len < size);
    d.at = size - 40 - (size_t)len;
    memcpy(&d.count, all + d.at, 8);
    memcpy(&d.nids, all + d.at + 8, 8);
    memcpy(&d.pos_bits, all + d.at + 16, 4);
    memcpy(&d.k, all + d.at + 20, 4);
    memcpy(&d.fp_bits, all + d.at + 24, 4);
    memcpy(&d.bits, all + d.at + 28, 4);
    d.first = d.at + 32 + (size_t)d.nids * 8;
    d.ents = d.first + (((size_t)1 << d.k) + 1) * 4;
    return d;
}

/* Entry i of the table whose entries start at all[ents] (bit by bit). */
static uint64_t entry_at(const uint8_t *all, const digest_part *d, size_t ents, size_t i)
{
    uint64_t v = 0;
    for (unsigned b = 0; b < d->bits; b++) {
        size_t bit = i * d->bits + b;
        v |= (uint64_t)(all[ents + bit / 8] >> (bit % 8) & 1) << b;
    }
    return v;
}

/* Entry i of the table whose entries start at all[ents] set to v. */
static void entry_set(uint8_t *all, const digest_part *d, size_t ents, size_t i, uint64_t v)
{
    for (unsigned b = 0; b < d->bits; b++) {
        size_t bit = i * d->bits + b;
        all[ents + bit / 8] = (uint8_t)((all[ents + bit / 8] & ~(1u << (bit % 8))) |
                                        (unsigned)(v >> b & 1) << (bit % 8));
    }
}

/* The number of SHA-256 entry i. */
static sn_number entry_number(const uint8_t *all, const digest_part *d, size_t i)
{
    uint64_t v = entry_at(all, d, d->ents, i), id;
    uint64_t pos = v & ((UINT64_C(1) << d->pos_bits) - 1);
    memcpy(&id, all + d->at + 32 + (pos / SN_BLOCK_NUMBERS) * 8, 8);
    return id * SN_BLOCK_NUMBERS + pos % SN_BLOCK_NUMBERS;
}

/* A snapshot of filled() at position 1, read whole: *d its digest part. */
static size_t written_whole(uint8_t **all, digest_part *d)
{
    char err[SN_ERRMSG_MAX];
    sn_numindex *ix = filled();
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 1, NULL, err, sizeof(err)), SN_OK);
    sn_numindex_free(ix);
    size_t size = read_all(all);
    *d = part_of(*all, size);
    assert_int_equal(d->count, COUNT);
    return size;
}

/* Served as saved: an entry's fingerprint changed (checksum made to match)
 * loses that number's SHA-256 lookup, which a rebuild would not. */
static void saved_tables_are_served_not_rebuilt(void **state)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info r;
    uint8_t *all;
    digest_part d;
    (void)state;
    size_t size = written_whole(&all, &d);
    sn_number n = entry_number(all, &d, 5);
    entry_set(all, &d, d.ents, 5, entry_at(all, &d, d.ents, 5) ^ UINT64_C(1) << (d.bits - 1));
    write_all(all, size);
    free(all);
    sn_numindex *back = sn_numindex_new();
    assert_int_equal(sn_snapshot_load(path, back, STORE_A, 1, &r, err, sizeof(err)), SN_OK);
    uint8_t sha[32], md5[16];
    sn_number found = 0;
    sn_number_sha256(n, sha);
    sn_number_md5(n, md5);
    assert_int_equal(sn_numindex_find_sha256(back, sha, &found), 0);
    assert_int_equal(sn_numindex_find_md5(back, md5, &found), 1);
    assert_int_equal(found, n);
    sn_numindex_free(back);
}

/* A flipped byte in the digest part: the checksum refuses it. */
static void flipped_byte_in_the_digest_tables_is_refused(void **state)
{
    char err[SN_ERRMSG_MAX];
    uint8_t *all;
    digest_part d;
    (void)state;
    size_t size = written_whole(&all, &d);
    size_t at[] = {d.at, d.first + 3, d.ents + 11, d.ents + (size - 40 - d.ents) / 2, size - 41};
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        fseek(f, (long)at[k], SEEK_SET);
        fputc(all[at[k]] ^ 0x04, f);
        fclose(f);
        assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_EINVAL);
        assert_non_null(strstr(err, "checksum"));
        f = fopen(path, "r+b");
        fseek(f, (long)at[k], SEEK_SET);
        fputc(all[at[k]], f);
        fclose(f);
    }
    free(all);
    assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_OK);
}

/* A position the SHA-256 table of d does not hold. */
static uint64_t unused_position(const uint8_t *all, const digest_part *d)
{
    uint64_t end = d->nids * SN_BLOCK_NUMBERS, mask = (UINT64_C(1) << d->pos_bits) - 1;
    uint8_t *used = calloc((size_t)end, 1);
    assert_non_null(used);
    for (size_t i = 0; i < d->count; i++) {
        used[entry_at(all, d, d->ents, i) & mask] = 1;
    }
    uint64_t p = 0;
    while (p < end && used[p])
        p++;
    free(used);
    assert_true(p < end);
    return p;
}

/* Where the entries of kind (0 SHA-256, 1 MD5, 2 SM3) start in all. */
static size_t ents_of(const digest_part *d, int kind)
{
    size_t table = (size_t)((d->count * d->bits + 63) / 64 * 8) + (((size_t)1 << d->k) + 1) * 4;
    return d->ents + (size_t)kind * table; /* a kind's entries, then the next one's offsets */
}

/* Entry 0 of the MD5 table of d given position p (its fingerprint kept). */
static void move_md5_entry(uint8_t *all, const digest_part *d, uint64_t p)
{
    size_t md5 = ents_of(d, 1);
    uint64_t mask = (UINT64_C(1) << d->pos_bits) - 1;
    entry_set(all, d, md5, 0, (entry_at(all, d, md5, 0) & ~mask) | p);
}

/* The entry of SHA-256's entry 0's position, in every kind, moved past
 * the block ids: the kinds still agree, a lookup would read past the ids. */
static void move_past_the_ids(uint8_t *all, const digest_part *d)
{
    uint64_t mask = (UINT64_C(1) << d->pos_bits) - 1, end = d->nids * SN_BLOCK_NUMBERS;
    uint64_t p = entry_at(all, d, d->ents, 0) & mask;
    assert_true(end <= mask);
    for (int kind = 0; kind < 3; kind++) {
        size_t ents = ents_of(d, kind), i = 0;
        while (i < d->count && (entry_at(all, d, ents, i) & mask) != p)
            i++;
        assert_true(i < d->count);
        entry_set(all, d, ents, i, (entry_at(all, d, ents, i) & ~mask) | end);
    }
}

/* Tables digests.c would not make (checksum made to match): refused, the
 * index left empty. */
static void tables_that_do_not_read_back_are_refused(void **state)
{
    char err[SN_ERRMSG_MAX];
    uint8_t *all, *bad;
    digest_part d;
    (void)state;
    size_t size = written_whole(&all, &d);
    bad = malloc(size);
    assert_non_null(bad);
    for (int how = 0; how < 8; how++) {
        memcpy(bad, all, size);
        uint32_t v;
        if (how == 0) /* one position twice in the SHA-256 table */
            entry_set(bad, &d, d.ents, 1, entry_at(bad, &d, d.ents, 0));
        else if (how == 1) { /* another shape */
            v = d.k + 1;
            memcpy(bad + d.at + 20, &v, 4);
        } else if (how == 2) { /* a bucket offset going back */
            v = 0;
            memcpy(bad + d.first + 4 * 100, &v, 4);
        } else if (how == 3) { /* the part's length past the file */
            uint64_t len = size;
            memcpy(bad + size - 40, &len, 8);
        } else if (how == 4) { /* block ids out of order */
            memcpy(bad + d.at + 32, bad + d.at + 40, 8);
        } else if (how == 5) { /* the MD5 table holds a number the SHA-256 one does not */
            move_md5_entry(bad, &d, unused_position(all, &d));
        } else if (how == 6) { /* a position past the block ids, in all three kinds */
            move_past_the_ids(bad, &d);
        } else { /* fingerprints two bits shorter than the buckets need (entries to match) */
            v = d.fp_bits - 2;
            memcpy(bad + d.at + 24, &v, 4);
            v = d.bits - 2;
            memcpy(bad + d.at + 28, &v, 4);
        }
        write_all(bad, size);
        assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_EINVAL);
        assert_non_null(strstr(err, how == 3 ? "do not read back" : "digest tables"));
    }
    free(bad);
    write_all(all, size); /* as written: loads */
    free(all);
    assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_OK);
}

/* The line of /proc/self/maps naming the file at p (NULL: none), in
 * line[len]; *offset its offset in the file. */
static const char *mapped_line(const char *p, char *line, size_t len, unsigned long long *offset)
{
    FILE *f = fopen("/proc/self/maps", "r");
    const char *found = NULL;
    assert_non_null(f);
    while (found == NULL && fgets(line, (int)len, f) != NULL)
        if (strstr(line, p) != NULL) {
            assert_int_equal(sscanf(line, "%*s %*s %llx", offset), 1);
            found = line;
        }
    fclose(f);
    return found;
}

/* The saved tables are served where they lie in the file: only their part
 * stays mapped after the load, a snapshot renamed over the file (and the
 * file then removed) leaves them answering, and the merge that replaces
 * them lets the mapping go. */
static void tables_are_served_from_the_file_until_a_merge(void **state)
{
    char err[SN_ERRMSG_MAX], line[1024];
    unsigned long long offset = 0;
    sn_snapshot_info r;
    uint8_t *all;
    digest_part d;
    (void)state;
    size_t size = written_whole(&all, &d);
    free(all);
    assert_int_equal(d.at % 8, 0);
    sn_numindex *back = sn_numindex_new();
    assert_int_equal(sn_snapshot_load(path, back, STORE_A, 1, &r, err, sizeof(err)), SN_OK);
    assert_non_null(mapped_line(path, line, sizeof(line), &offset));
    long page = sysconf(_SC_PAGESIZE);
    assert_int_equal(offset, d.at / (size_t)page * (size_t)page); /* not the states' part */
    assert_true(offset > 0 && offset < size);
    assert_int_equal(sn_snapshot_write(path, back, STORE_A, 2, NULL, err, sizeof(err)), SN_OK);
    assert_int_equal(unlink(path), 0);
    assert_non_null(mapped_line(path, line, sizeof(line), &offset));
    assert_non_null(strstr(line, "(deleted)")); /* the first file, kept by the tables */
    for (size_t i = 0; i < COUNT; i += 3)
        finds(back, number_at(i), 1);
    sn_digests *dg = sn_numindex_digests(back);
    sn_digests_set_side_min(dg, 1);
    for (size_t j = 0; j < COUNT / SN_DIGEST_SIDE_SHARE + 1; j++) { /* past the merge mark */
        sn_number_state st;
        sn_state_init(&st, extra_at(j));
        st.status = 1;
        st.first_day = sn_day_from_civil(2022, 2, 2);
        assert_int_equal(sn_numindex_put(back, &st), SN_OK);
    }
    sn_digests_settle(dg);
    assert_true(sn_digests_merges(dg, NULL) >= 1);
    assert_null(mapped_line(path, line, sizeof(line), &offset));
    for (size_t i = 0; i < COUNT; i += 3)
        finds(back, number_at(i), 1);
    finds(back, extra_at(7), 1);
    sn_numindex_free(back);
}

/* Tables a merge grew past a doubling of their buckets without hashing
 * (their fingerprints one bit shorter than a build's) are saved and load
 * back: 131,072 numbers (2^12 buckets of 32) and 9,000 more put one at a
 * time, merged. */
static void tables_split_by_a_merge_load(void **state)
{
    enum { N = 32 << 12, MORE = 9000 };
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info r;
    unsigned long rehashed = 99;
    (void)state;
    sn_numindex *ix = sn_numindex_new(), *back = sn_numindex_new();
    for (size_t i = 0; i < N; i++) {
        sn_number_state st = state_at(i);
        assert_int_equal(sn_numindex_load_add(ix, &st), SN_OK);
    }
    assert_int_equal(sn_numindex_load_end(ix), SN_OK);
    sn_digests *dg = sn_numindex_digests(ix);
    sn_digests_set_side_min(dg, 1);
    for (size_t j = 0; j < MORE; j++) {
        sn_number_state st = state_at(N + j);
        assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    }
    sn_digests_settle(dg);
    /* one merge, or two when an add asked again before the first froze */
    assert_true(sn_digests_merges(dg, &rehashed) >= 1);
    assert_int_equal(rehashed, 0);
    assert_int_equal(sn_snapshot_write(path, ix, STORE_A, 1, NULL, err, sizeof(err)), SN_OK);
    uint8_t *all;
    size_t size = read_all(&all);
    digest_part d = part_of(all, size);
    free(all);
    assert_int_equal(d.k, 13);
    assert_int_equal(d.fp_bits, 8); /* a build's would be 9 */
    assert_int_equal(sn_snapshot_load(path, back, STORE_A, 1, &r, err, sizeof(err)), SN_OK);
    for (size_t i = 0; i < N + MORE; i += 5)
        finds(back, number_at(i), 1);
    finds(back, number_at(N + MORE - 1), 1);
    finds(back, number_at(N + MORE), 0);
    sn_numindex_free(ix);
    sn_numindex_free(back);
}

/* The states' part is padded with zeros so the tables start 8-aligned:
 * anything else there is refused. One number: a record of 21 bytes, so
 * there is padding to spoil. */
static void padding_before_the_tables_is_checked(void **state)
{
    char err[SN_ERRMSG_MAX];
    (void)state;
    sn_numindex *one = sn_numindex_new();
    sn_number_state st = state_at(1);
    assert_int_equal(sn_numindex_load_add(one, &st), SN_OK);
    assert_int_equal(sn_numindex_load_end(one), SN_OK);
    assert_int_equal(sn_snapshot_write(path, one, STORE_A, 1, NULL, err, sizeof(err)), SN_OK);
    sn_numindex_free(one);
    uint8_t *all, end_mark[8];
    size_t size = read_all(&all);
    digest_part d = part_of(all, size);
    assert_int_equal(d.at % 8, 0);
    memset(end_mark, 0xff, sizeof(end_mark));
    size_t pad = 0;
    while (pad < 8 && memcmp(all + d.at - 24 - pad, end_mark, 8) != 0)
        pad++;
    assert_true(pad > 0 && pad < 8);
    for (size_t i = 0; i < pad; i++)
        assert_int_equal(all[d.at - pad + i], 0);
    all[d.at - 1] = 1;
    write_all(all, size);
    assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_EINVAL);
    assert_non_null(strstr(err, "blocks do not read back"));
    all[d.at - 1] = 0;
    write_all(all, size);
    assert_int_equal(load_code(STORE_A, 1, err, sizeof(err)), SN_OK);
    free(all);
}

/* --hashed-checks off writes no tables; loading that with digests builds
 * them, and a snapshot with tables loads into an index without. */
static void snapshots_with_and_without_tables_load_either_way(void **state)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info w, r;
    (void)state;
    sn_numindex *plain = sn_numindex_new();
    sn_numindex_without_digests(plain);
    for (size_t i = 0; i < COUNT; i++) {
        sn_number_state st = state_at(i);
        assert_int_equal(sn_numindex_load_add(plain, &st), SN_OK);
    }
    assert_int_equal(sn_numindex_load_end(plain), SN_OK);
    assert_int_equal(sn_snapshot_write(path, plain, STORE_A, 2, &w, err, sizeof(err)), SN_OK);
    assert_int_equal(w.digest_bytes, 0);
    sn_numindex *hashed = sn_numindex_new();
    assert_int_equal(sn_snapshot_load(path, hashed, STORE_A, 2, &r, err, sizeof(err)), SN_OK);
    assert_int_equal(r.digest_bytes, 0);
    for (size_t i = 0; i < COUNT; i += 7)
        finds(hashed, number_at(i), 1);
    assert_int_equal(sn_snapshot_write(path, hashed, STORE_A, 3, &w, err, sizeof(err)), SN_OK);
    assert_true(w.digest_bytes > 0);
    sn_numindex *off = sn_numindex_new();
    sn_numindex_without_digests(off);
    assert_int_equal(sn_snapshot_load(path, off, STORE_A, 3, &r, err, sizeof(err)), SN_OK);
    same_answers(hashed, off);
    finds(off, number_at(1), 0);
    assert_null(sn_numindex_digests(off));
    sn_numindex_free(plain);
    sn_numindex_free(hashed);
    sn_numindex_free(off);
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
        cmocka_unit_test_setup_teardown(digest_tables_load_back_to_the_same_lookups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(saved_tables_are_served_not_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(flipped_byte_in_the_digest_tables_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tables_that_do_not_read_back_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshots_with_and_without_tables_load_either_way, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tables_are_served_from_the_file_until_a_merge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tables_split_by_a_merge_load, setup, teardown),
        cmocka_unit_test_setup_teardown(padding_before_the_tables_is_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(saved_side_maps_are_checked, setup, teardown),
    };
    return sn_run_tests(tests);
}
