/* test_audit_group.c - audit/group.c: single checks of one key and second
 * share a row, each keeping its hash, day, verdict, millisecond and
 * x-correlator (read back by sn_audit_meta_read); another key or second is
 * another row; a full group is written on the add that fills it; a key past
 * SN_AUDIT_GROUP_OPEN writes the oldest group; clear drops them; a failed
 * write is the caller's; what may join a group; damaged meta is refused. */
#include "unit.h"

#include "audit/group.h"
#include "core/errors.h"

#include <string.h>

#define T0 ((int64_t)1796536429000) /* a whole second */

/* What the write callback saw: each row's key and its records, decoded. */
typedef struct {
    int64_t at;
    char app[SN_AUDIT_TEXT_MAX], route[SN_AUDIT_TEXT_MAX];
    int status;
    uint32_t items;
    uint8_t hash0[SN_AUDIT_HASH_LEN];
    uint32_t off[SN_AUDIT_GROUP_ITEMS];
    char request[4][SN_AUDIT_REQUEST_MAX + 1];
    uint8_t verdict[4];
    uint32_t day[4];
} seen_row;

typedef struct {
    seen_row rows[40];
    size_t n;
    int fail_at; /* the write that fails (1-based; 0: none) */
} seen;

static int keep(void *ctx, const sn_audit_row *r, char *err, size_t errlen)
{
    seen *s = ctx;
    if (s->fail_at > 0 && (size_t)s->fail_at == s->n + 1)
        return sn_fail(err, errlen, SN_ESTORE, "refused");
    seen_row *o = &s->rows[s->n++];
    size_t pos = 0, len;
    const char *req;
    memset(o, 0, sizeof(*o));
    o->at = r->at;
    o->status = r->status;
    o->items = r->items;
    snprintf(o->app, sizeof(o->app), "%s", r->app);
    snprintf(o->route, sizeof(o->route), "%s", r->route);
    memcpy(o->hash0, r->item_data, SN_AUDIT_HASH_LEN);
    assert_false(r->has_number);
    for (uint32_t i = 0; i < r->items; i++) {
        assert_true(
            sn_audit_meta_read(r->item_meta, r->item_meta_len, &pos, &o->off[i], &req, &len));
        if (i < 4) {
            const uint8_t *it = r->item_data + (size_t)i * SN_AUDIT_ITEM_BYTES;
            memcpy(o->request[i], req, len);
            o->verdict[i] = it[SN_AUDIT_HASH_LEN + 4];
            o->day[i] = (uint32_t)it[8] | (uint32_t)it[9] << 8 | (uint32_t)it[10] << 16 |
                        (uint32_t)it[11] << 24;
        }
    }
    assert_int_equal(pos, r->item_meta_len);
    return SN_OK;
}

static sn_audit_record check(int64_t at_ms, const char *app, const char *corr)
{
    sn_audit_record r;
    memset(&r, 0, sizeof(r));
    r.at_ms = at_ms;
    r.route = "/number-recycling/v0.2/check";
    r.method = "POST";
    r.status = 200;
    r.who_kind = "app";
    snprintf(r.who, sizeof(r.who), "7");
    snprintf(r.app, sizeof(r.app), "%s", app);
    r.has_number = 1;
    r.number = 8613700000001ULL;
    r.day = 19000;
    r.verdict = 1;
    snprintf(r.request, sizeof(r.request), "%s", corr);
    return r;
}

static const uint8_t H1[SN_AUDIT_HASH_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static char err[SN_ERRMSG_MAX];

static void test_one_second_one_key_one_row(void **state)
{
    (void)state;
    sn_audit_groups *g = NULL;
    seen s = {.n = 0};
    assert_int_equal(sn_audit_groups_new(&g), SN_OK);
    sn_audit_record a = check(T0 + 5, "bank", "c-1"), b = check(T0 + 998, "bank", "");
    b.verdict = 3;
    b.day = 19001;
    assert_int_equal(sn_audit_groups_add(g, &a, H1, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_groups_add(g, &b, H1, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 0); /* nothing written before the flush */
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 1);
    seen_row *r = &s.rows[0];
    assert_int_equal(r->at, T0);
    assert_int_equal(r->items, 2);
    assert_string_equal(r->app, "bank");
    assert_memory_equal(r->hash0, H1, SN_AUDIT_HASH_LEN);
    assert_int_equal(r->off[0], 5);
    assert_int_equal(r->off[1], 998);
    assert_string_equal(r->request[0], "c-1");
    assert_string_equal(r->request[1], "");
    assert_int_equal(r->verdict[0], 1);
    assert_int_equal(r->verdict[1], 3);
    assert_int_equal(r->day[0], 19000);
    assert_int_equal(r->day[1], 19001);
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 1); /* none left open */
    sn_audit_groups_free(g);
}

static void test_another_key_or_second_another_row(void **state)
{
    (void)state;
    sn_audit_groups *g = NULL;
    seen s = {.n = 0};
    assert_int_equal(sn_audit_groups_new(&g), SN_OK);
    sn_audit_record r[6] = {check(T0, "bank", "a"),     check(T0 + 1, "shop", "b"),
                            check(T0 + 2, "bank", "c"), check(T0 + 1000, "bank", "d"),
                            check(T0 + 3, "bank", "e"), check(T0 + 4, "bank", "f")};
    r[4].status = 201;
    r[5].route = "/v1/check";
    for (int i = 0; i < 6; i++)
        assert_int_equal(sn_audit_groups_add(g, &r[i], H1, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 5); /* oldest first: bank (a, c), shop, next second, 201, /v1/check */
    assert_int_equal(s.rows[0].items, 2);
    assert_string_equal(s.rows[0].request[1], "c");
    assert_string_equal(s.rows[1].app, "shop");
    assert_int_equal(s.rows[2].at, T0 + 1000);
    assert_int_equal(s.rows[3].status, 201);
    assert_string_equal(s.rows[4].route, "/v1/check");
    sn_audit_groups_free(g);
}

static void test_a_full_group_is_written_on_the_add_that_fills_it(void **state)
{
    (void)state;
    sn_audit_groups *g = NULL;
    seen s = {.n = 0};
    assert_int_equal(sn_audit_groups_new(&g), SN_OK);
    char corr[SN_AUDIT_REQUEST_MAX + 1];
    memset(corr, 'x', SN_AUDIT_REQUEST_MAX);
    corr[SN_AUDIT_REQUEST_MAX] = '\0'; /* the longest correlator kept, every time */
    sn_audit_record r = check(T0 + 999, "bank", corr);
    for (int i = 0; i < SN_AUDIT_GROUP_ITEMS; i++) {
        assert_int_equal(s.n, 0);
        assert_int_equal(sn_audit_groups_add(g, &r, H1, keep, &s, err, sizeof(err)), SN_OK);
    }
    assert_int_equal(s.n, 1);
    assert_int_equal(s.rows[0].items, SN_AUDIT_GROUP_ITEMS);
    assert_int_equal(s.rows[0].off[SN_AUDIT_GROUP_ITEMS - 1], 999);
    assert_string_equal(s.rows[0].request[3], corr);
    assert_int_equal(sn_audit_groups_add(g, &r, H1, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.rows[1].items, 1);
    sn_audit_groups_free(g);
}

static void test_a_key_past_the_open_groups_writes_the_oldest(void **state)
{
    (void)state;
    sn_audit_groups *g = NULL;
    seen s = {.n = 0};
    char app[16];
    assert_int_equal(sn_audit_groups_new(&g), SN_OK);
    for (int i = 0; i <= SN_AUDIT_GROUP_OPEN; i++) {
        snprintf(app, sizeof(app), "app-%d", i);
        sn_audit_record r = check(T0, app, "");
        assert_int_equal(sn_audit_groups_add(g, &r, H1, keep, &s, err, sizeof(err)), SN_OK);
    }
    assert_int_equal(s.n, 1);
    assert_string_equal(s.rows[0].app, "app-0");
    sn_audit_record again = check(T0 + 1, "app-1", ""); /* still open: joins */
    assert_int_equal(sn_audit_groups_add(g, &again, H1, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, SN_AUDIT_GROUP_OPEN + 1);
    assert_string_equal(s.rows[1].app, "app-1");
    assert_int_equal(s.rows[1].items, 2);
    sn_audit_groups_free(g);
}

static void test_clear_drops_and_a_failed_write_is_returned(void **state)
{
    (void)state;
    sn_audit_groups *g = NULL;
    seen s = {.n = 0, .fail_at = 1};
    assert_int_equal(sn_audit_groups_new(&g), SN_OK);
    sn_audit_record r = check(T0, "bank", "");
    assert_int_equal(sn_audit_groups_add(g, &r, H1, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_ESTORE);
    assert_string_equal(err, "refused");
    sn_audit_groups_clear(g);
    s.fail_at = 0;
    assert_int_equal(sn_audit_groups_flush(g, keep, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(s.n, 0);
    sn_audit_groups_free(g);
}

static void done(void *arg)
{
    (void)arg;
}

static void test_what_may_join_a_group(void **state)
{
    (void)state;
    sn_audit_item items[1] = {{8613700000001ULL, 19000, 1, 1}};
    sn_audit_record r = check(T0, "bank", "");
    assert_true(sn_audit_groupable(&r, 1));
    assert_false(sn_audit_groupable(&r, 0)); /* numbers not hashed */
    sn_audit_record x = r;
    x.done = done; /* a write's held answer: its own row, committed first */
    assert_false(sn_audit_groupable(&x, 1));
    x = r;
    x.nitems = 1;
    x.items = items;
    assert_false(sn_audit_groupable(&x, 1));
    x = r;
    x.has_number = 0;
    assert_false(sn_audit_groupable(&x, 1));
    x = r;
    x.verdict = -1;
    assert_false(sn_audit_groupable(&x, 1));
    x = r;
    x.answer = "ok";
    assert_false(sn_audit_groupable(&x, 1));
    x = r;
    x.app[0] = '\0'; /* a subscriber's own check */
    assert_false(sn_audit_groupable(&x, 1));
}

static void test_damaged_meta_is_refused(void **state)
{
    (void)state;
    const uint8_t good[] = {0xe7, 0x03, 2, 'o', 'k'}; /* 999, "ok" */
    const uint8_t late[] = {0xe8, 0x03, 0};           /* 1000 ms: not in the second */
    const uint8_t cut[] = {0, 0, 5, 'a'};             /* a correlator past the end */
    size_t pos = 0, len = 0;
    uint32_t off = 0;
    const char *req = NULL;
    assert_true(sn_audit_meta_read(good, sizeof(good), &pos, &off, &req, &len));
    assert_int_equal(off, 999);
    assert_int_equal(len, 2);
    assert_memory_equal(req, "ok", 2);
    assert_int_equal(pos, sizeof(good));
    assert_false(sn_audit_meta_read(good, sizeof(good), &pos, &off, &req, &len)); /* the end */
    pos = 0;
    assert_false(sn_audit_meta_read(late, sizeof(late), &pos, &off, &req, &len));
    assert_false(sn_audit_meta_read(cut, sizeof(cut), &pos, &off, &req, &len));
    assert_false(sn_audit_meta_read(cut, 2, &pos, &off, &req, &len));
    assert_false(sn_audit_meta_read(NULL, 0, &pos, &off, &req, &len));
    assert_int_equal(pos, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_second_one_key_one_row),
        cmocka_unit_test(test_another_key_or_second_another_row),
        cmocka_unit_test(test_a_full_group_is_written_on_the_add_that_fills_it),
        cmocka_unit_test(test_a_key_past_the_open_groups_writes_the_oldest),
        cmocka_unit_test(test_clear_drops_and_a_failed_write_is_returned),
        cmocka_unit_test(test_what_may_join_a_group),
        cmocka_unit_test(test_damaged_meta_is_refused),
    };
    return sn_run_tests(tests);
}
