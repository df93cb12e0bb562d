/*
 * cmd_receipts.c - `secondnum receipts`: rotate the key that signs check
 * receipts, print the keys document, and verify a receipt offline against
 * a saved keys document (service/receipts.h, crypto/receipt.h).
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "service/receipts.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: secondnum receipts rotate --db FILE [--key FILE]\n"
    "       secondnum receipts keys --db FILE\n"
    "       secondnum receipts verify --keys KEYS.json RECEIPT.json\n"
    "\n"
    "Check receipts are signed with Ed25519 (docs/http-api.md, \"Receipts\").\n"
    "rotate makes a new signing key, current from now; the keys before it are\n"
    "retired but stay published, so the receipts they signed still verify. A\n"
    "running serve signs with the new key within a second. keys prints the\n"
    "keys document (what GET /v1/receipts/keys answers). verify checks a\n"
    "receipt (a file holding the receipt's JSON object) against a keys\n"
    "document saved from GET /v1/receipts/keys, offline.\n"
    "\n"
    "  --db FILE          the store (a file, or a postgresql:// URL)\n"
    "  --key FILE         the store's secret file, which seals the signing\n"
    "                     keys (default $SECONDNUM_KEY, else FILE.key)\n"
    "  --keys FILE        the keys document a receipt is verified against\n"
    "\n"
    "Exit status: 0 done (verify: the receipt is valid), 1 failed (verify: the\n"
    "receipt is not valid, the reason on stderr), 2 usage (a file that cannot\n"
    "be read).\n";

typedef struct {
    const char *db, *key_path, *keys;
} receipts_args;

/* The command line into a; -1 after --help, else an exit code. */
static int parse(int argc, char **argv, const char *action, receipts_args *a)
{
    const sn_cli_opt opts[] = {SN_CLI_TEXT("db", &a->db), SN_CLI_TEXT("key", &a->key_path),
                               SN_CLI_TEXT("keys", &a->keys)};
    int rc = sn_cli_parse("receipts", argc, argv, 2, opts, SN_CLI_N(opts), usage);
    int verify = strcmp(action, "verify") == 0;
    if (rc != SN_EXIT_OK)
        return rc;
    if (verify && (a->keys == NULL || optind + 1 != argc || a->db != NULL))
        return sn_cli_usage_error("receipts", "verify takes --keys FILE and one receipt file");
    if (!verify && (a->db == NULL || optind != argc || a->keys != NULL))
        return sn_cli_usage_error("receipts", "%s takes --db FILE and no file", action);
    if (strcmp(action, "keys") == 0 && a->key_path != NULL)
        return sn_cli_usage_error("receipts", "keys takes no --key");
    return SN_EXIT_OK;
}

/* The whole of a file of at most SN_RECEIPT_FILE_MAX bytes (malloc'd): NULL
 * after saying why. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = f != NULL ? malloc(SN_RECEIPT_FILE_MAX + 1) : NULL;
    if (f == NULL || buf == NULL) {
        fprintf(stderr, "secondnum receipts: cannot read %s\n", path);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, SN_RECEIPT_FILE_MAX + 1, f);
    int bad = ferror(f) || *len > SN_RECEIPT_FILE_MAX;
    fclose(f);
    if (bad) {
        fprintf(stderr, "secondnum receipts: cannot read %s (or it is over %u bytes)\n", path,
                SN_RECEIPT_FILE_MAX);
        free(buf);
        return NULL;
    }
    return buf;
}

static int verify(const char *keys_path, const char *path)
{
    size_t len = 0, keys_len = 0;
    char why[SN_ERRMSG_MAX];
    char *receipt = read_file(path, &len), *keys = receipt ? read_file(keys_path, &keys_len) : NULL;
    int rc = SN_EXIT_USAGE;
    if (keys != NULL) {
        if (sn_receipt_verify(receipt, len, keys, keys_len, why, sizeof(why)) == SN_OK) {
            printf("valid\n");
            rc = SN_EXIT_OK;
        } else {
            fprintf(stderr, "secondnum receipts: not valid: %s\n", why);
            rc = SN_EXIT_REJECTED;
        }
    }
    free(receipt);
    free(keys);
    return rc;
}

/* rotate or keys, on the store. */
static int on_store(const char *action, const receipts_args *a)
{
    sn_store *s = NULL;
    sn_secret secret;
    sn_strbuf doc = {0};
    char err[SN_ERRMSG_MAX];
    uint32_t id = 0;
    int rc, rotate = strcmp(action, "rotate") == 0;
    if (rotate && sn_cli_load_secret("receipts", a->db, a->key_path, 0, &secret) != 1) {
        fprintf(stderr, "secondnum receipts: rotate needs the store's secret file (--key)\n");
        return SN_EXIT_REJECTED;
    }
    if (sn_cli_open_store("receipts", a->db, NULL, 0, &s) != SN_OK)
        return SN_EXIT_REJECTED;
    if (rotate && (rc = sn_receipts_rotate(&secret, s, &id, err, sizeof(err))) == SN_OK)
        printf("receipt key %u is current; the keys before it are retired\n", id);
    else if (!rotate && (rc = sn_receipts_list(s, &doc, err, sizeof(err))) == SN_OK)
        printf("%s\n", doc.s);
    if (rc != SN_OK)
        fprintf(stderr, "secondnum receipts: %s\n", err);
    free(doc.s);
    sn_store_close(s);
    return rc == SN_OK ? SN_EXIT_OK : SN_EXIT_REJECTED;
}

int sn_cmd_receipts(int argc, char **argv)
{
    receipts_args a = {NULL, NULL, NULL};
    const char *action = argc > 1 ? argv[1] : "";
    int rc;
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return fputs(usage, stdout), SN_EXIT_OK;
    if (strcmp(action, "rotate") != 0 && strcmp(action, "keys") != 0 &&
        strcmp(action, "verify") != 0)
        return sn_cli_usage_error("receipts", "expected rotate, keys or verify");
    if ((rc = parse(argc, argv, action, &a)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (strcmp(action, "verify") == 0)
        return verify(a.keys, argv[optind]);
    return on_store(action, &a);
}
