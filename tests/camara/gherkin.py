"""gherkin.py - a small reader for Gherkin feature files (python3 stdlib).

Reads what the CAMARA test definitions use: one Feature, an optional
Background, Scenario and Scenario Outline (Scenario Template) blocks with
their @tags, Examples tables (each row becomes one scenario with <name>
placeholders replaced), steps starting with Given/When/Then/And/But/*, doc
strings (\"\"\" ... \"\"\") and data tables attached to a step, and # comment
lines. Rule: blocks are not supported and raise GherkinError, as does any
line the reader does not understand: a feature is never read partially.

Step.text is the step without its keyword, inner runs of blanks collapsed
to one space (the published files have a few double spaces).
"""

import re


class GherkinError(Exception):
    pass


class Step:
    def __init__(self, keyword, text, line):
        self.keyword = keyword
        self.text = re.sub(r"\s+", " ", text.strip())
        self.line = line
        self.doc = None    # doc string text, or None
        self.table = None  # list of rows (lists of cells), or None

    def __repr__(self):
        return "%s %s" % (self.keyword, self.text)


class Scenario:
    def __init__(self, name, tags, line, outline=False):
        self.name = name
        self.tags = tags
        self.line = line
        self.outline = outline
        self.steps = []
        self.examples = []  # (header, rows) tables of an outline
        self.row = None     # the Examples row's values, for a scenario expanded from one

    @property
    def tag(self):
        """The first tag without its @ (the scenario's id in CAMARA files)."""
        return self.tags[0][1:] if self.tags else ""


class Feature:
    def __init__(self):
        self.name = None
        self.description = []  # free lines and comments under the Feature line
        self.background = []
        self.scenarios = []


STEP_RE = re.compile(r"^(Given|When|Then|And|But|\*)\s+(.*)$")
HEAD_RE = re.compile(r"^(Feature|Background|Scenario Outline|Scenario Template|Scenario|Example|"
                     r"Examples|Scenarios|Rule):\s*(.*)$")


def _cells(line, n):
    if not line.endswith("|"):
        raise GherkinError("line %d: table row does not end with |" % n)
    return [c.strip() for c in line[1:-1].split("|")]


def parse(text):
    f = Feature()
    tags = []
    block = None       # the list steps go to
    current = None     # the Scenario being read
    in_doc = None      # (step, indent, lines) while reading a doc string
    examples = None    # [header, rows] while reading an Examples table
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_doc is not None:
            if line in ('"""', "```"):
                in_doc[0].doc = "\n".join(in_doc[2])
                in_doc = None
            else:
                in_doc[2].append(raw[in_doc[1]:] if raw[:in_doc[1]].strip() == "" else line)
            continue
        if not line:
            continue
        if line.startswith("#"):
            if f.name is not None and block is None:
                f.description.append(line)
            continue
        if line.startswith("@"):
            tags += line.split()
            continue
        m = HEAD_RE.match(line)
        if m:
            kind, name = m.groups()
            examples = None
            if kind == "Feature":
                if f.name is not None:
                    raise GherkinError("line %d: a second Feature" % n)
                f.name = name
            elif kind == "Rule":
                raise GherkinError("line %d: Rule blocks are not supported" % n)
            elif kind == "Background":
                if f.scenarios or f.background:
                    raise GherkinError("line %d: Background after scenarios" % n)
                block = f.background
            elif kind in ("Examples", "Scenarios"):
                if current is None or not current.outline:
                    raise GherkinError("line %d: Examples outside a Scenario Outline" % n)
                examples = [None, []]
                current.examples.append(examples)
                block = None
            else:
                current = Scenario(name, tags, n, outline=kind.startswith("Scenario O") or
                                   kind.startswith("Scenario T"))
                f.scenarios.append(current)
                block = current.steps
            tags = []
            continue
        if line.startswith("|"):
            cells = _cells(line, n)
            if examples is not None:
                if examples[0] is None:
                    examples[0] = cells
                elif len(cells) != len(examples[0]):
                    raise GherkinError("line %d: row has %d cells, header %d" % (
                        n, len(cells), len(examples[0])))
                else:
                    examples[1].append(cells)
            elif block:
                step = block[-1]
                step.table = (step.table or []) + [cells]
            else:
                raise GherkinError("line %d: table outside a step" % n)
            continue
        if line in ('"""', "```") and block:
            in_doc = (block[-1], len(raw) - len(raw.lstrip()), [])
            continue
        m = STEP_RE.match(line)
        if m and block is not None:
            block.append(Step(m.group(1), m.group(2), n))
            continue
        if f.name is not None and block is None and current is None and not f.background:
            f.description.append(line)  # free text under the Feature line
            continue
        raise GherkinError("line %d: not understood: %s" % (n, line))
    if in_doc is not None:
        raise GherkinError("unterminated doc string")
    if f.name is None:
        raise GherkinError("no Feature line")
    return f


def expand(feature):
    """The runnable scenarios: plain ones as they are, one per Examples row
    for outlines (name suffixed with the row's values)."""
    out = []
    for s in feature.scenarios:
        if not s.outline:
            out.append(s)
            continue
        if not s.examples:
            raise GherkinError("line %d: Scenario Outline without Examples" % s.line)
        for header, rows in s.examples:
            for row in rows:
                x = Scenario("%s [%s]" % (s.name, ", ".join(row)), s.tags, s.line)
                x.row = ", ".join(row)
                for st in s.steps:
                    t = st.text
                    for k, v in zip(header, row):
                        t = t.replace("<%s>" % k, v)
                    y = Step(st.keyword, t, st.line)
                    y.doc, y.table = st.doc, st.table
                    x.steps.append(y)
                out.append(x)
    return out


def parse_file(path):
    with open(path, encoding="utf-8") as fh:
        return parse(fh.read())
