/*
 * messages.c - subscriber message texts (see messages.h). Pure.
 */
#include "sms/messages.h"

#include "core/names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const lang_codes[] = {"zh", "en"};

int sn_lang_parse(const char *s)
{
    return sn_name_find(SN_NAMES(lang_codes), s, -1);
}

const char *sn_lang_code(int lang)
{
    return lang == SN_LANG_EN ? "en" : "zh";
}

void sn_mask_number(sn_number n, char *out)
{
    size_t len = sn_number_format(n, out);
    /* keep "+", the country code and the first digits (six characters of
     * a Chinese mobile number: "+86138"), and the last four */
    size_t keep_front = len >= 13 ? 6 : 4;
    if (len < keep_front + 4 + 2)
        return; /* too short to hide anything and still be recognisable */
    for (size_t i = keep_front; i < len - 4; i++)
        out[i] = '*';
}

/* A bounded writer: appends stop (and `full` is set) at the first piece
 * that does not fit; what was written stays a whole prefix. */
typedef struct {
    char *s;
    size_t len, cap;
    int full;
} text;

static int put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int put(text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->full)
        return -1;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->s[t->len] = '\0';
        t->full = 1;
        return -1;
    }
    t->len += (size_t)n;
    return 0;
}

size_t sn_sms_otp_text(int lang, const char *code, unsigned ttl_minutes, char *out, size_t cap)
{
    text t = {out, 0, cap, 0};
    if (lang == SN_LANG_EN)
        put(&t,
            "[secondnum] Your sign-in code is %s. It expires in %u minutes. Never share it: "
            "secondnum will never ask you for it.",
            code, ttl_minutes);
    else
        put(&t,
            "【secondnum】您的登录验证码是 %s，%u 分钟内有效。请勿告诉他人，secondnum "
            "不会向您索要验证码。",
            code, ttl_minutes);
    return t.len;
}

/* Room kept at the end of a report for the closing sentence. */
#define TAIL_ROOM 120

/* "name (k)" entries of the apps with a count in the chosen column. */
static void list_apps(text *t, int lang, const sn_report_app *apps, size_t n, int mine)
{
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        total += (mine ? apps[i].mine : apps[i].previous) > 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = mine ? apps[i].mine : apps[i].previous;
        if (k == 0)
            continue;
        size_t before = t->len;
        if (t->len + TAIL_ROOM >= t->cap ||
            put(t, "%s%s (%u)", shown > 0 ? (lang == SN_LANG_EN ? ", " : "、") : "", apps[i].name,
                k) != 0) {
            t->full = 0;
            t->len = before;
            t->s[t->len] = '\0';
            break;
        }
        shown++;
    }
    if (shown < total)
        put(t, lang == SN_LANG_EN ? " and %zu more" : " 等另外 %zu 个", total - shown);
}

/* The report's sentences in each language (by sn_lang). */
typedef struct {
    const char *header, *none, *mine, *previous, *end, *open;
} report_text;

static const report_text report_phrases[] = {
    [SN_LANG_ZH] = {"【secondnum】号码 %s 的绑定情况：", "没有应用绑定。",
                    "您本人绑定 %zu 个应用：", "前机主绑定 %zu 个应用：", "。",
                    "尚未完成的解绑申请：%u 个。"},
    [SN_LANG_EN] = {"[secondnum] Apps bound to %s: ", "none.", "yours, %zu: ",
                    "a previous owner's, %zu: ", ". ", "Unbind requests still open: %u."},
};

size_t sn_sms_report_text(int lang, const char *masked, const sn_report_app *apps, size_t n,
                          uint32_t open_requests, char *out, size_t cap)
{
    text t = {out, 0, cap, 0};
    size_t mine = 0, previous = 0;
    const report_text *p = &report_phrases[lang == SN_LANG_EN ? SN_LANG_EN : SN_LANG_ZH];
    for (size_t i = 0; i < n; i++) {
        mine += apps[i].mine > 0;
        previous += apps[i].previous > 0;
    }
    out[0] = '\0';
    put(&t, p->header, masked);
    if (mine == 0 && previous == 0)
        put(&t, "%s", p->none);
    if (mine > 0) {
        put(&t, p->mine, mine);
        list_apps(&t, lang, apps, n, 1);
        put(&t, "%s", p->end);
    }
    if (previous > 0) {
        put(&t, p->previous, previous);
        list_apps(&t, lang, apps, n, 0);
        put(&t, "%s", p->end);
    }
    if (open_requests > 0)
        put(&t, p->open, open_requests);
    while (t.len > 0 && out[t.len - 1] == ' ')
        out[--t.len] = '\0';
    return t.len;
}
