/*
 * main.c - the secondnum binary: dispatch to a subcommand.
 * Every subcommand is a function in its own cmd_*.c (see cli.h).
 */
#include "cli/cli.h"

#include <string.h>

#define SN_VERSION "0.1.0"

static const sn_command commands[] = {
    {"init", "create a store with its jurisdiction rules", sn_cmd_init},
    {"import", "apply a carrier feed (CSV) to the store", sn_cmd_import},
    {"check", "has a number changed hands since a date? (one, or a CSV file)", sn_cmd_check},
    {"serve", "serve the HTTP API (CAMARA check, native checks, carrier events)", sn_cmd_serve},
    {"keys", "create, list and revoke API keys", sn_cmd_keys},
    {"carriers", "add carriers and the number ranges they own", sn_cmd_carriers},
    {"apps", "map OAuth 2.0 clients to apps", sn_cmd_apps},
    {"receipts", "rotate the key that signs check receipts; verify a receipt", sn_cmd_receipts},
    {"audit", "export the audit trail for the regulator; count its rows", sn_cmd_audit},
    {"verify", "check a store's integrity and replay its log against its states", sn_cmd_verify},
    {"gen", "write a synthetic carrier feed for demos, tests and benchmarks", sn_cmd_gen},
    {"sms", "read the text messages sent to subscribers (the outbox)", sn_cmd_sms},
    {"backup", "copy a SQLite store while it is being written", sn_cmd_backup},
    {"restore", "put a backup back as the store, once it is verified", sn_cmd_restore},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int sn_cli_command_known(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return 1;
    return 0;
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: secondnum COMMAND [OPTIONS]\n\n"
                 "secondnum keeps the lifecycle of phone numbers and answers whether a number\n"
                 "has changed hands since a date.\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEvery command takes --config FILE: its options from an INI file, db and key\n"
                 "at the top, the command's own in a [COMMAND] section (dist/secondnum.conf\n"
                 "shows them all); options on the command line override the file.\n"
                 "'secondnum COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return SN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return SN_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("secondnum %s\n", SN_VERSION);
        return SN_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "secondnum: unknown command '%s'\n\n", argv[1]);
    print_help(stderr);
    return SN_EXIT_USAGE;
}
