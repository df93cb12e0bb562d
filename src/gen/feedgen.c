/*
 * feedgen.c - the synthetic carrier feed of `secondnum gen` (see feedgen.h).
 *
 * Owns the simulated stories and their CSV form. Shaped for tens of millions
 * of rows in a few seconds and little memory:
 *   - each number's story comes from its own counter-based random stream
 *     (seed, number index), so a story can be replayed at will and costs no
 *     memory between passes;
 *   - an event is one 64-bit record, (time offset << 32 | index << 3 | kind):
 *     the id6 of an activation is a hash of the record, not stored;
 *   - the feed is sorted by time with a three-digit LSD radix sort whose
 *     first scatter happens while the stories are replayed (pass 1 counts,
 *     pass 2 places); digits of at most 11 bits keep the scatter's write
 *     streams in cache;
 *   - distinct numbers come from a keyed Feistel permutation of the number
 *     space (cycle-walked into range), so no hash set is needed.
 * Ties in time go to the lower number index (the radix sort is stable and
 * stories are generated in index order), so the output is a pure function of
 * the options. Integer arithmetic only: no libm, no floating point.
 * Thread-safe: no globals; each call owns its buffers.
 */
#include "gen/feedgen.h"

#include "core/errors.h"
#include "core/lifecycle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DAY_SECONDS 86400u
#define RADIX_DIGITS 3 /* of the 32-bit time offset: at most 11 bits (2048 buckets) each */
#define INDEX_BITS 29
#define MAX_EVENTS_PER_NUMBER 200
#define OUT_BUF_SIZE (1u << 20)
#define ROW_MAX 160
#define PREFETCH_ROWS 16
#define SUBSCRIBER_BLOCK 100000000u /* 8 digits after a 3-digit prefix */

/* Mobile prefixes of the three big carriers: 40 blocks of 10^8
 * numbers, 4.0e9 in all, which fits the 32-bit permutation domain. */
static const char prefixes[][4] = {
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "166",
    "172", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "195", "198", "199",
};
#define PREFIX_COUNT (sizeof(prefixes) / sizeof(prefixes[0]))

/* Story shape: means in days and shares in percent, tuned for ~4 events per number. */
#define ACTIVE_MEAN_DAYS 1500 /* until the next event of an active subscriber */
#define POOL_MEAN_DAYS 150    /* until a released number is sold again */
#define MID_HISTORY_PERMILLE 20
#define ACTIVE_PORT_PCT 12    /* of active-state events: port_in */
#define ACTIVE_SUSPEND_PCT 48 /* then: arrears suspension; the rest: voluntary cancel */
#define RESUME_PCT 55         /* of suspensions: paid up and resumed */
#define SUSPENDED_PORT_PCT 5  /* then: ported while suspended; the rest: cancelled */
#define ARREARS_CANCEL_DAYS 60
#define RECLAIM_PCT 7         /* of cancellations: taken back during the freeze */
#define DIRECT_REISSUE_PCT 12 /* then: reissued straight from the freeze; the rest: released */
#define REISSUE_PCT 80        /* of released numbers: sold again before the end */

/* --- random numbers ------------------------------------------------------- */

/* The splitmix64 finaliser: a bijective 64-bit mixer. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    r->state += 0x9E3779B97F4A7C15ULL;
    return mix64(r->state);
}

/* Uniform in [0, n) (n >= 1); the bias of the multiply-shift is below 2^-32. */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static int rng_percent(rng *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

/* Roughly exponential with the given mean, integers only: a geometric number
 * of steps of 2/3 of the mean (P(k) = 2^-(k+1)) plus a uniform part. */
static uint32_t rng_wait(rng *r, uint32_t mean)
{
    uint32_t step = mean * 2 / 3 + 1;
    unsigned k = (unsigned)__builtin_ctzll(rng_next(r) | (1ULL << 40));
    return k * step + rng_below(r, step);
}

/* --- the generator -------------------------------------------------------- */

typedef struct {
    const sn_gen_options *o;
    uint64_t key;  /* the mixed seed */
    uint32_t span; /* days from start to end */
    uint32_t round_key[4];
} gen;

static void gen_init(gen *g, const sn_gen_options *o)
{
    g->o = o;
    g->key = mix64(o->seed ^ 0x5EC0D0A11ULL);
    g->span = (uint32_t)(o->end - o->start);
    for (int i = 0; i < 4; i++)
        g->round_key[i] = (uint32_t)mix64(g->key + (uint64_t)i + 1);
}

/* A keyed permutation of 32-bit values (4-round balanced Feistel). */
static uint32_t feistel(const gen *g, uint32_t x)
{
    uint32_t left = x >> 16, right = x & 0xFFFF;
    for (int i = 0; i < 4; i++) {
        uint32_t f = (uint32_t)mix64(right ^ ((uint64_t)g->round_key[i] << 16)) & 0xFFFF;
        uint32_t t = right;
        right = left ^ f;
        left = t;
    }
    return left << 16 | right;
}

/* --- dense blocks --------------------------------------------------------- */

#define BLOCKS_PER_PREFIX (SUBSCRIBER_BLOCK / SN_GEN_BLOCK_SIZE)
#define BLOCK_COUNT ((uint32_t)PREFIX_COUNT * BLOCKS_PER_PREFIX)

/* A keyed permutation of [0, 2^(2 * half)) (4-round balanced Feistel),
 * cycle-walked into [0, n): distinct x below n give distinct values below
 * n. 2^(2 * half) must be less than 4n so the walk stays short. */
static uint32_t small_perm(const gen *g, uint32_t x, unsigned half, uint32_t n, uint64_t tweak)
{
    const uint32_t mask = (1u << half) - 1;
    do {
        uint32_t left = x >> half, right = x & mask;
        for (int i = 0; i < 4; i++) {
            uint32_t f = (uint32_t)mix64(right ^ ((uint64_t)g->round_key[i] << 20) ^ tweak) & mask;
            uint32_t t = right;
            right = left ^ f;
            left = t;
        }
        x = left << half | right;
    } while (x >= n);
    return x;
}

/* Dense: the per_block numbers of block j (the j-th block of the keyed
 * block order) are the first per_block of a keyed order of its 10,000. */
static uint32_t per_block(const sn_gen_options *o)
{
    return SN_GEN_BLOCK_SIZE * o->fill_pct / 100;
}

static uint32_t dense_slot(const gen *g, uint32_t idx)
{
    uint32_t per = per_block(g->o);
    uint32_t b = small_perm(g, idx / per, 10, BLOCK_COUNT, 0x0B10C);
    uint32_t pos = small_perm(g, idx % per, 7, SN_GEN_BLOCK_SIZE, (uint64_t)b << 24);
    return b / BLOCKS_PER_PREFIX * SUBSCRIBER_BLOCK + b % BLOCKS_PER_PREFIX * SN_GEN_BLOCK_SIZE +
           pos;
}

/* The number slot of index idx: distinct for distinct idx, in [0, PREFIX_COUNT * block). */
static uint32_t number_slot(const gen *g, uint32_t idx)
{
    if (g->o->fill_pct > 0)
        return dense_slot(g, idx);
    const uint32_t space = (uint32_t)PREFIX_COUNT * SUBSCRIBER_BLOCK;
    uint32_t x = idx;
    do
        x = feistel(g, x);
    while (x >= space);
    return x;
}

/* --- collecting events ---------------------------------------------------- */

/* The events as they are generated. Pass 1 counts rows and the histogram of
 * each radix digit of the time offset; pass 2 scatters by the lowest digit. */
typedef struct {
    size_t *hist[RADIX_DIGITS];
    unsigned bits;    /* per digit */
    uint64_t *placed; /* pass 2 only */
    size_t rows;
    int placing;
} sink;

static uint32_t digit_of(const sink *s, uint64_t rec, int i)
{
    return (uint32_t)(rec >> (32 + s->bits * (unsigned)i)) & ((1u << s->bits) - 1);
}

static void sink_put(sink *s, uint64_t rec)
{
    if (s->placing) {
        s->placed[s->hist[0][digit_of(s, rec, 0)]++] = rec;
        return;
    }
    for (int i = 0; i < RADIX_DIGITS; i++)
        s->hist[i][digit_of(s, rec, i)]++;
    s->rows++;
}

/* --- stories ---------------------------------------------------------------- */

typedef enum { PH_ACTIVE, PH_SUSPENDED, PH_FROZEN, PH_POOL, PH_DONE } phase;

/* When the event happens within its day: people act in shop hours, billing
 * (suspension, arrears cancellation, release) runs in a night batch. */
typedef enum { AT_SHOP, AT_NIGHT } window;

typedef struct {
    const gen *g;
    sink *out;
    rng r;
    uint32_t idx;
    uint32_t day;   /* day (from start) of the latest event */
    uint32_t mark;  /* day of the latest suspension or cancellation */
    unsigned count; /* events so far */
} story;

/* Record kind on day d (from start); 0 when d is past the end (the story is over). */
static int emit(story *st, uint32_t d, int kind, window w)
{
    uint32_t sec = w == AT_NIGHT ? 3600 + rng_below(&st->r, 4 * 3600)
                                 : 9 * 3600 + rng_below(&st->r, 12 * 3600);
    if (d >= st->g->span || st->count >= MAX_EVENTS_PER_NUMBER)
        return 0;
    uint64_t t = (uint64_t)d * DAY_SECONDS + sec;
    sink_put(st->out, t << 32 | (uint64_t)st->idx << 3 | (uint64_t)kind);
    st->day = d;
    st->count++;
    return 1;
}

static phase begin(story *st)
{
    uint32_t d = rng_below(&st->r, st->g->span);
    if (rng_below(&st->r, 1000) >= MID_HISTORY_PERMILLE)
        return emit(st, d, SN_EV_ACTIVATE, AT_SHOP) ? PH_ACTIVE : PH_DONE;
    st->mark = d;
    switch (rng_below(&st->r, 5)) {
    case 0:
    case 1:
        return emit(st, d, SN_EV_SUSPEND, AT_NIGHT) ? PH_SUSPENDED : PH_DONE;
    case 2:
    case 3:
        return emit(st, d, SN_EV_CANCEL, AT_NIGHT) ? PH_FROZEN : PH_DONE;
    default:
        return emit(st, d, SN_EV_PORT_IN, AT_SHOP) ? PH_ACTIVE : PH_DONE;
    }
}

static phase step_active(story *st)
{
    uint32_t d = st->day + 1 + rng_wait(&st->r, ACTIVE_MEAN_DAYS);
    uint32_t roll = rng_below(&st->r, 100);
    if (roll < ACTIVE_PORT_PCT)
        return emit(st, d, SN_EV_PORT_IN, AT_SHOP) ? PH_ACTIVE : PH_DONE;
    st->mark = d;
    if (roll < ACTIVE_PORT_PCT + ACTIVE_SUSPEND_PCT)
        return emit(st, d, SN_EV_SUSPEND, AT_NIGHT) ? PH_SUSPENDED : PH_DONE;
    return emit(st, d, SN_EV_CANCEL, AT_SHOP) ? PH_FROZEN : PH_DONE;
}

/* Arrears: paid within days, or cancelled 60 days after the suspension. */
static phase step_suspended(story *st)
{
    uint32_t roll = rng_below(&st->r, 100);
    if (roll < RESUME_PCT) {
        uint32_t d = st->day + 1 + rng_below(&st->r, 30);
        return emit(st, d, SN_EV_RESUME, AT_SHOP) ? PH_ACTIVE : PH_DONE;
    }
    if (roll < RESUME_PCT + SUSPENDED_PORT_PCT) {
        uint32_t d = st->day + 1 + rng_below(&st->r, 20);
        return emit(st, d, SN_EV_PORT_IN, AT_SHOP) ? PH_SUSPENDED : PH_DONE;
    }
    uint32_t d = st->mark + ARREARS_CANCEL_DAYS;
    if (d <= st->day)
        d = st->day + 1;
    st->mark = d;
    return emit(st, d, SN_EV_CANCEL, AT_NIGHT) ? PH_FROZEN : PH_DONE;
}

/* The freeze: a reclaim before the aging ends, or a reissue or release after it. */
static phase step_frozen(story *st)
{
    uint32_t aging = st->g->o->min_aging_days;
    uint32_t roll = rng_below(&st->r, 100);
    if (roll < RECLAIM_PCT && aging >= 2) {
        uint32_t d = st->mark + 1 + rng_below(&st->r, aging - 1);
        return emit(st, d, SN_EV_RECLAIM, AT_SHOP) ? PH_ACTIVE : PH_DONE;
    }
    if (roll < RECLAIM_PCT + DIRECT_REISSUE_PCT) {
        uint32_t wait = aging + rng_below(&st->r, 60);
        return emit(st, st->mark + (wait ? wait : 1), SN_EV_ACTIVATE, AT_SHOP) ? PH_ACTIVE
                                                                               : PH_DONE;
    }
    uint32_t wait = aging + rng_below(&st->r, 30);
    return emit(st, st->mark + (wait ? wait : 1), SN_EV_RELEASE, AT_NIGHT) ? PH_POOL : PH_DONE;
}

static phase step_pool(story *st)
{
    if (!rng_percent(&st->r, REISSUE_PCT))
        return PH_DONE;
    uint32_t d = st->day + 1 + rng_wait(&st->r, POOL_MEAN_DAYS);
    return emit(st, d, SN_EV_ACTIVATE, AT_SHOP) ? PH_ACTIVE : PH_DONE;
}

/* Replay the story of number idx into out; the same (seed, idx) gives the same events. */
static void simulate(const gen *g, uint32_t idx, sink *out)
{
    story st = {.g = g, .out = out, .idx = idx};
    st.r.state = g->key ^ mix64((uint64_t)idx + 0x1D6ULL);
    phase p = begin(&st);
    while (p != PH_DONE) {
        switch (p) {
        case PH_ACTIVE:
            p = step_active(&st);
            break;
        case PH_SUSPENDED:
            p = step_suspended(&st);
            break;
        case PH_FROZEN:
            p = step_frozen(&st);
            break;
        default:
            p = step_pool(&st);
            break;
        }
    }
}

/* Turn counts into start positions. */
static void prefix_sums(size_t *hist, uint32_t n)
{
    size_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t c = hist[i];
        hist[i] = sum;
        sum += c;
    }
}

/* Bits per digit so that RADIX_DIGITS digits cover every time offset of the span. */
static unsigned digit_bits(const gen *g)
{
    uint64_t max_t = (uint64_t)g->span * DAY_SECONDS - 1;
    unsigned bits = 1;
    while (bits < 32 && (max_t >> bits) != 0)
        bits++;
    return (bits + RADIX_DIGITS - 1) / RADIX_DIGITS;
}

/* The remaining LSD passes: digit i from *src into *dst, then swap them. */
static void scatter_rest(sink *s, uint64_t **src, uint64_t **dst)
{
    for (int d = 1; d < RADIX_DIGITS; d++) {
        for (size_t i = 0; i < s->rows; i++) {
            uint64_t rec = (*src)[i];
            (*dst)[s->hist[d][digit_of(s, rec, d)]++] = rec;
        }
        uint64_t *t = *src;
        *src = *dst;
        *dst = t;
    }
}

/* All events sorted by (time, index) into *rows_out (caller frees). */
static int collect(const gen *g, uint64_t **rows_out, size_t *count, char *err, size_t errlen)
{
    sink s = {.bits = digit_bits(g)};
    uint64_t *spare = NULL;
    int rc = SN_OK;
    uint32_t n = (uint32_t)g->o->numbers;

    for (int d = 0; d < RADIX_DIGITS; d++)
        if ((s.hist[d] = calloc((size_t)1 << s.bits, sizeof(size_t))) == NULL)
            goto nomem;
    for (uint32_t i = 0; i < n; i++)
        simulate(g, i, &s);
    if (s.rows > SIZE_MAX / sizeof(uint64_t))
        goto nomem;
    s.placed = malloc((s.rows ? s.rows : 1) * sizeof(uint64_t));
    spare = malloc((s.rows ? s.rows : 1) * sizeof(uint64_t));
    if (s.placed == NULL || spare == NULL)
        goto nomem;
    for (int d = 0; d < RADIX_DIGITS; d++)
        prefix_sums(s.hist[d], 1u << s.bits);
    s.placing = 1;
    for (uint32_t i = 0; i < n; i++)
        simulate(g, i, &s);
    scatter_rest(&s, &s.placed, &spare);
    *rows_out = s.placed;
    *count = s.rows;
    s.placed = NULL;
    goto out;
nomem:
    rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory generating %lu numbers (%zu rows)",
                 g->o->numbers, s.rows);
out:
    free(spare);
    free(s.placed);
    for (int d = 0; d < RADIX_DIGITS; d++)
        free(s.hist[d]);
    return rc;
}

/* --- writing rows --------------------------------------------------------- */

typedef struct {
    FILE *out;
    char *buf;
    size_t used;
    char id_prefix[24]; /* "g<seed>-" */
    size_t id_prefix_len;
    int64_t day; /* day (from start) in time_text, -1 for none */
    char time_text[SN_TIME_TEXT_MAX];
    size_t time_len;
    const char *name[SN_EV_COUNT]; /* event names and their lengths */
    size_t name_len[SN_EV_COUNT];
} writer;

static int writer_flush(writer *w, char *err, size_t errlen)
{
    if (w->used > 0 && fwrite(w->buf, 1, w->used, w->out) != w->used)
        return sn_fail(err, errlen, SN_EIO, "writing the feed failed: %s", strerror(errno));
    w->used = 0;
    return SN_OK;
}

/* Write v in decimal at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Write v as exactly width digits at p; returns the end. */
static char *put_fixed(char *p, uint32_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

static char *put_str(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

/* "+86" and the 11-digit mobile number of slot. */
static char *put_number(char *p, uint32_t slot)
{
    p = put_str(p, "+86", 3);
    p = put_str(p, prefixes[slot / SUBSCRIBER_BLOCK], 3);
    return put_fixed(p, slot % SUBSCRIBER_BLOCK, 8);
}

/* The event time; the date part is formatted once per day (rows come sorted). */
static char *put_time(writer *w, const gen *g, char *p, uint32_t t)
{
    uint32_t day = t / DAY_SECONDS, sec = t % DAY_SECONDS;
    if (w->day != (int64_t)day) {
        sn_day d = g->o->start + (sn_day)day;
        w->time_len =
            sn_time_format(sn_day_start(d, g->o->tz_minutes), g->o->tz_minutes, w->time_text);
        w->day = day;
    }
    p = put_str(p, w->time_text, w->time_len);
    char *hms = p - w->time_len + 11; /* "YYYY-MM-DDT" */
    put_fixed(hms, sec / 3600, 2);
    put_fixed(hms + 3, sec / 60 % 60, 2);
    put_fixed(hms + 6, sec % 60, 2);
    return p;
}

/* Last six ID digits of a new subscriber: birth day, sequence, check digit or X. */
static char *put_id6(const gen *g, char *p, uint64_t rec)
{
    uint64_t h = mix64(g->key ^ mix64(rec));
    p = put_fixed(p, (uint32_t)(h % 31) + 1, 2);
    p = put_fixed(p, (uint32_t)(h >> 8) % 1000, 3);
    uint32_t check = (uint32_t)(h >> 24) % 11;
    *p++ = check == 10 ? 'X' : (char)('0' + check);
    return p;
}

static uint32_t row_index(uint64_t rec)
{
    return (uint32_t)(rec >> 3) & ((1u << INDEX_BITS) - 1);
}

static void put_row(writer *w, const gen *g, const uint32_t *slots, uint64_t rec, size_t row)
{
    uint32_t idx = row_index(rec);
    int kind = (int)(rec & 7);
    char *p = w->buf + w->used;

    p = put_number(p, slots[idx]);
    *p++ = ',';
    p = put_str(p, w->name[kind], w->name_len[kind]);
    *p++ = ',';
    p = put_time(w, g, p, (uint32_t)(rec >> 32));
    *p++ = ',';
    p = put_str(p, w->id_prefix, w->id_prefix_len);
    p = put_u64(p, (uint64_t)row + 1);
    *p++ = ',';
    if (kind == SN_EV_ACTIVATE)
        p = put_id6(g, p, rec);
    *p++ = '\n';
    w->used = (size_t)(p - w->buf);
}

static int write_rows(const gen *g, const uint32_t *slots, const uint64_t *rows, size_t count,
                      FILE *out, char *err, size_t errlen)
{
    static const char header[] = "number,event,at,event_id,id6\n";
    writer w = {.out = out, .day = -1};
    int rc = SN_OK;

    w.buf = malloc(OUT_BUF_SIZE);
    if (w.buf == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory for the output buffer");
        goto out;
    }
    for (int k = 1; k < SN_EV_COUNT; k++) {
        w.name[k] = sn_event_name(k);
        w.name_len[k] = strlen(w.name[k]);
    }
    w.id_prefix[0] = 'g';
    char *end = put_u64(w.id_prefix + 1, g->o->seed);
    *end++ = '-';
    w.id_prefix_len = (size_t)(end - w.id_prefix);
    w.used = (size_t)(put_str(w.buf, header, sizeof(header) - 1) - w.buf);
    for (size_t i = 0; i < count; i++) {
        if (w.used + ROW_MAX > OUT_BUF_SIZE && (rc = writer_flush(&w, err, errlen)) != SN_OK)
            goto out;
        /* Rows visit numbers at random: fetch the slot a few rows ahead. */
        if (i + PREFETCH_ROWS < count)
            __builtin_prefetch(&slots[row_index(rows[i + PREFETCH_ROWS])]);
        put_row(&w, g, slots, rows[i], i);
    }
    if ((rc = writer_flush(&w, err, errlen)) != SN_OK)
        goto out;
    if (fflush(out) != 0)
        rc = sn_fail(err, errlen, SN_EIO, "writing the feed failed: %s", strerror(errno));
out:
    free(w.buf);
    return rc;
}

/* --- public API ----------------------------------------------------------- */

void sn_gen_defaults(sn_gen_options *o)
{
    o->numbers = 1;
    o->seed = 1;
    o->start = sn_day_from_civil(2015, 1, 1);
    o->end = sn_day_from_civil(2026, 1, 1);
    o->min_aging_days = SN_DEFAULT_MIN_AGING_DAYS;
    o->tz_minutes = SN_DEFAULT_TZ_MINUTES;
    o->fill_pct = 0;
}

int sn_gen_check(const sn_gen_options *o, char *err, size_t errlen)
{
    if (o->numbers < 1 || o->numbers > SN_GEN_MAX_NUMBERS)
        return sn_fail(err, errlen, SN_ELIMIT, "numbers must be between 1 and %lu, not %lu",
                       SN_GEN_MAX_NUMBERS, o->numbers);
    if (o->end <= o->start)
        return sn_fail(err, errlen, SN_EINVAL, "the end day must be after the start day");
    if ((int64_t)o->end - o->start > SN_GEN_MAX_SPAN_DAYS)
        return sn_fail(err, errlen, SN_ELIMIT, "the period may span at most %d days",
                       SN_GEN_MAX_SPAN_DAYS);
    if (o->min_aging_days > SN_MAX_AGING_DAYS)
        return sn_fail(err, errlen, SN_ELIMIT, "the minimum aging may be at most %d days",
                       SN_MAX_AGING_DAYS);
    if (o->fill_pct > 100)
        return sn_fail(err, errlen, SN_EINVAL, "the fill must be a percentage from 1 to 100");
    if (o->fill_pct > 0 && o->numbers > (unsigned long)BLOCK_COUNT * per_block(o))
        return sn_fail(err, errlen, SN_ELIMIT,
                       "%lu numbers do not fit %u blocks filled to %u%% (at most %lu)", o->numbers,
                       BLOCK_COUNT, o->fill_pct, (unsigned long)BLOCK_COUNT * per_block(o));
    if (o->tz_minutes <= -24 * 60 || o->tz_minutes >= 24 * 60)
        return sn_fail(err, errlen, SN_EINVAL, "the UTC offset must be less than 24 hours");
    return SN_OK;
}

int sn_gen_write(const sn_gen_options *o, FILE *out, char *err, size_t errlen)
{
    gen g;
    uint32_t *slots = NULL;
    uint64_t *rows = NULL;
    size_t count = 0;
    int rc;

    if ((rc = sn_gen_check(o, err, errlen)) != SN_OK)
        return rc;
    gen_init(&g, o);
    slots = malloc(o->numbers * sizeof(uint32_t));
    if (slots == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory for %lu numbers", o->numbers);
        goto out;
    }
    for (uint32_t i = 0; i < (uint32_t)o->numbers; i++)
        slots[i] = number_slot(&g, i);
    if ((rc = collect(&g, &rows, &count, err, errlen)) != SN_OK)
        goto out;
    rc = write_rows(&g, slots, rows, count, out, err, errlen);
out:
    free(rows);
    free(slots);
    return rc;
}
