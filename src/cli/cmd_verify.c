/*
 * cmd_verify.c - `secondnum verify`: prove a store is consistent.
 *
 * Runs the backend's structural check, then replays every number's logged
 * events through the lifecycle rules and compares the result with the
 * number's state row (store.h invariant 3). Used after crashes and by the
 * kill -9 test; read-only.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "store/log.h"

#include <getopt.h>
#include <string.h>

static const char usage[] =
    "usage: secondnum verify --db FILE\n"
    "\n"
    "Check a store: the database's own integrity check, then every number's state\n"
    "against a replay of its event log. Prints the numbers and events checked.\n"
    "Exit status: 0 consistent, 1 inconsistent or unreadable, 2 usage.\n";

typedef struct {
    sn_store *store;
    sn_number_state replay;
    size_t numbers, events, mismatches, replay_errors;
    char err[SN_ERRMSG_MAX];
} verify_state;

static int replay_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    verify_state *v = ctx;
    char why[SN_ERRMSG_MAX];
    (void)ordinal;
    v->events++;
    if (sn_lifecycle_apply(sn_store_rules(v->store), &v->replay, &e->ev, why, sizeof(why)) !=
        SN_OK) {
        char num[SN_NUMBER_TEXT_MAX];
        sn_number_format(e->ev.number, num);
        fprintf(stderr, "%s: logged event %u does not replay: %s\n", num, ordinal, why);
        v->replay_errors++;
    }
    return 0;
}

static int same_state(const sn_number_state *a, const sn_number_state *b)
{
    return a->status == b->status && a->first_is_activation == b->first_is_activation &&
           a->tenure == b->tenure && a->carrier == b->carrier && a->events == b->events &&
           a->first_day == b->first_day && a->last_activation_day == b->last_activation_day &&
           a->last_cancel_day == b->last_cancel_day && a->last_at == b->last_at;
}

static int verify_number(void *ctx, const sn_number_state *st)
{
    verify_state *v = ctx;
    v->numbers++;
    sn_state_init(&v->replay, st->number);
    int rc = sn_store_scan_events(v->store, st->number, replay_event, v, v->err, sizeof(v->err));
    if (rc != SN_OK)
        return rc;
    if (!same_state(&v->replay, st)) {
        char num[SN_NUMBER_TEXT_MAX];
        sn_number_format(st->number, num);
        fprintf(stderr, "%s: state row differs from the replay of its %u logged events\n", num,
                v->replay.events);
        v->mismatches++;
    }
    return 0;
}

int sn_cmd_verify(int argc, char **argv)
{
    verify_state v;
    const char *db = NULL;
    const sn_cli_opt opts[] = {SN_CLI_DB(&db)};
    int rc = sn_cli_parse("verify", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (optind != argc)
        return sn_cli_usage_error("verify", "expected --db FILE and nothing else");
    memset(&v, 0, sizeof(v));
    if (sn_cli_open_store("verify", db, NULL, &v.store) != SN_OK)
        return SN_EXIT_REJECTED;
    rc = sn_store_integrity(v.store, v.err, sizeof(v.err));
    if (rc == SN_OK)
        rc = sn_store_scan_states(v.store, verify_number, &v, v.err, sizeof(v.err));
    sn_store_close(v.store);
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum verify: %s\n", v.err);
        return SN_EXIT_REJECTED;
    }
    printf("%zu numbers, %zu events: %s\n", v.numbers, v.events,
           v.mismatches + v.replay_errors == 0 ? "consistent" : "INCONSISTENT");
    return v.mismatches + v.replay_errors == 0 ? SN_EXIT_OK : SN_EXIT_REJECTED;
}
