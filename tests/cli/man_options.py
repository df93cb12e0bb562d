#!/usr/bin/env python3
"""man_options.py - every option a command's --help names is documented in
that command's section of man/secondnum.1 (or its COMMON OPTIONS).
One direction only: the page may document more (flags still being merged).
usage: man_options.py SECONDNUM MANPAGE; prints what is missing, exits 1 if any.
"""
import re, subprocess, sys

sn, page = sys.argv[1], sys.argv[2]
src = open(page).read().replace("\\-", "-")
top = subprocess.run([sn, "--help"], capture_output=True, text=True).stdout
commands = re.findall(r"^  (\w+) ", top.split("Commands:", 1)[1], re.M)
if not commands:
    sys.exit("no commands in secondnum --help")

# the page's sections: (title, text) split at .SH and .SS lines
parts = re.split(r"^\.(S[HS]) (.*)$", src, flags=re.M)
sections = [(parts[i + 1].strip('"'), parts[i + 2]) for i in range(1, len(parts), 3)]
common = "".join(t for title, t in sections if title == "COMMON OPTIONS")
missing, checked = [], 0
for cmd in commands:
    text = common + "".join(t for title, t in sections if title.startswith(f"secondnum {cmd} "))
    if len(text) == len(common):
        missing.append(f"{cmd}: no section 'secondnum {cmd} ...'")
        continue
    res = subprocess.run([sn, cmd, "--help"], capture_output=True, text=True)
    helptext = res.stdout + res.stderr
    opts = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", helptext)))
    if not opts:
        missing.append(f"{cmd}: --help names no option")
    for o in opts:
        checked += 1
        if not re.search(re.escape(o) + r"(?![a-z0-9-])", text):
            missing.append(f"{cmd}: {o}")
for m in missing:
    print("missing from " + page + ": " + m)
print(f"{len(commands)} commands, {checked} options checked")
sys.exit(1 if missing else 0)
