"""oas.py - read an OpenAPI YAML document and check JSON values against its
schemas (python3 standard library only).

The YAML reader handles the subset OpenAPI documents are written in: block
mappings and sequences by indentation, plain, single- and double-quoted
scalars, plain scalars continued on more-indented lines, literal/folded block
scalars (| and >), flow sequences of scalars ([a, b]) and empty flow
collections, and comment lines. Anything else (anchors, tags, multi-document
streams, flow mappings with content) raises YamlError rather than being read
wrongly.

The validator covers the JSON Schema keywords of OpenAPI 3.0 that the CAMARA
documents use: $ref (local), allOf/anyOf/oneOf, type (+ nullable), enum,
pattern, format date, minLength/maxLength, minimum/maximum, required,
properties, additionalProperties, items, minItems/maxItems. An unknown keyword
with a validation meaning raises SchemaError, so a schema is never half-checked.
"""

import datetime
import json
import re


class YamlError(Exception):
    pass


class SchemaError(Exception):
    pass


# ---------------------------------------------------------------------------
# YAML subset


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _strip_comment(text):
    """Drop a trailing ' # comment' outside quotes."""
    q = None
    for i, ch in enumerate(text):
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text


def _scalar(text, lineno):
    t = _strip_comment(text.strip()) if not text.strip().startswith(("'", '"')) else text.strip()
    if t.startswith("'"):
        if not t.endswith("'") or len(t) < 2:
            raise YamlError("line %d: unterminated single-quoted scalar" % lineno)
        return t[1:-1].replace("''", "'")
    if t.startswith('"'):
        try:
            return json.loads(t)
        except ValueError:
            raise YamlError("line %d: double-quoted scalar not read: %s" % (lineno, t))
    if t.startswith(("&", "*", "!", "{")) and t != "{}":
        raise YamlError("line %d: unsupported YAML construct: %s" % (lineno, t))
    if t == "{}":
        return {}
    if t.startswith("["):
        if not t.endswith("]"):
            raise YamlError("line %d: unterminated flow sequence" % lineno)
        inner = t[1:-1].strip()
        return [] if not inner else [_scalar(p, lineno) for p in inner.split(",")]
    if t in ("", "~", "null", "Null", "NULL"):
        return None
    if t in ("true", "True", "TRUE"):
        return True
    if t in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", t):
        return int(t)
    if re.fullmatch(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", t):
        return float(t)
    return t


KEY_RE = re.compile(r"""^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^'"#][^#]*?)\s*:(?:\s+(.*)|$)""")


class _Reader:
    def __init__(self, text):
        self.lines = []  # (lineno, text) without blank and comment-only lines
        self.raw = text.split("\n")
        for n, line in enumerate(self.raw, 1):
            if "\t" in line[:_indent(line) + 1] and line.strip():
                raise YamlError("line %d: tab in indentation" % n)
            self.lines.append((n, line.rstrip()))

    def significant(self, i):
        """Index of the next line with content at or after i."""
        while i < len(self.lines):
            s = self.lines[i][1].strip()
            if s and not s.startswith("#") and s != "---":
                return i
            i += 1
        return i

    def block(self, i, indent):
        i = self.significant(i)
        if i >= len(self.lines):
            return None, i
        line = self.lines[i][1]
        if line.lstrip().startswith("- ") or line.strip() == "-":
            return self.sequence(i, _indent(line))
        return self.mapping(i, _indent(line))

    def sequence(self, i, indent):
        out = []
        while True:
            i = self.significant(i)
            if i >= len(self.lines):
                break
            n, line = self.lines[i]
            if _indent(line) != indent or not (line.lstrip().startswith("- ") or line.strip() == "-"):
                break
            rest = line.strip()[1:].strip()
            if not rest:
                v, i = self.block(i + 1, indent + 1)
            elif KEY_RE.match(rest) and not rest.startswith(("'", '"', "[")):
                self.lines[i] = (n, " " * (indent + 2) + rest)
                v, i = self.mapping(i, indent + 2)
            else:
                v, i = _scalar(rest, n), i + 1
            out.append(v)
        return out, i

    def block_scalar(self, i, indent, style):
        parts = []
        j = i
        while j < len(self.lines):
            line = self.lines[j][1]
            if line.strip() and _indent(line) <= indent:
                break
            parts.append(line)
            j += 1
        while parts and not parts[-1].strip():
            parts.pop()
        body = [p[min(_indent(x) for x in parts if x.strip()):] if p.strip() else ""
                for p in parts] if parts else []
        text = "\n".join(body) + "\n"
        if style.startswith(">"):
            text = re.sub(r"(?<!\n)\n(?!\n)", " ", text.rstrip("\n")) + "\n"
        if "-" in style:
            text = text.rstrip("\n")
        return text, j

    def mapping(self, i, indent):
        out = {}
        while True:
            i = self.significant(i)
            if i >= len(self.lines):
                break
            n, line = self.lines[i]
            ind = _indent(line)
            if ind < indent:
                break
            if ind > indent:
                raise YamlError("line %d: unexpected indentation" % n)
            if line.lstrip().startswith("- "):
                break
            m = KEY_RE.match(line.strip())
            if not m:
                raise YamlError("line %d: not a 'key: value' line: %s" % (n, line.strip()))
            key = _scalar(m.group(1), n)
            key = key if isinstance(key, str) else str(key)
            rest = (m.group(2) or "").strip()
            if key in out:
                raise YamlError("line %d: duplicate key %r" % (n, key))
            if rest[:1] in ("|", ">"):
                out[key], i = self.block_scalar(i + 1, indent, rest)
                continue
            if _strip_comment(rest) == "":
                j = self.significant(i + 1)
                nxt = self.lines[j][1] if j < len(self.lines) else ""
                if j < len(self.lines) and (_indent(nxt) > indent or (
                        _indent(nxt) == indent and nxt.lstrip().startswith("- "))):
                    out[key], i = self.block(j, indent)
                else:
                    out[key], i = None, i + 1
                continue
            value = _scalar(rest, n)
            i += 1
            # a plain scalar may continue on more-indented lines
            while isinstance(value, str) and not rest.startswith(("'", '"', "[")):
                j = self.significant(i)
                if j >= len(self.lines) or _indent(self.lines[j][1]) <= indent:
                    break
                value += " " + self.lines[j][1].strip()
                i = j + 1
            out[key] = value
        return out, i


def load_yaml(text):
    r = _Reader(text)
    value, i = r.block(0, 0)
    i = r.significant(i)
    if i < len(r.lines):
        raise YamlError("line %d: content after the document" % r.lines[i][0])
    return value


def load_yaml_file(path):
    with open(path, encoding="utf-8") as f:
        return load_yaml(f.read())


# ---------------------------------------------------------------------------
# JSON Schema (OpenAPI 3.0 dialect)

ANNOTATIONS = {"description", "example", "examples", "title", "default", "deprecated",
               "readOnly", "writeOnly", "externalDocs", "xml", "discriminator"}
CHECKED = {"$ref", "allOf", "anyOf", "oneOf", "type", "nullable", "enum", "pattern", "format",
           "minLength", "maxLength", "minimum", "maximum", "required", "properties",
           "additionalProperties", "items", "minItems", "maxItems"}
# formats with no check here are annotations (int32 is checked by min/max when given)
FORMATS_UNCHECKED = {"int32", "int64", "uri", "uuid", "email", "password", "byte", "float",
                     "double"}


def resolve(doc, ref):
    if not ref.startswith("#/"):
        raise SchemaError("only local references are supported: %s" % ref)
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError("unresolved reference %s" % ref)
        node = node[part]
    return node


def schema_at(doc, pointer):
    """The schema at '#/components/...' or '/components/...'."""
    p = pointer if pointer.startswith("#") else "#" + pointer
    return resolve(doc, p)


def _is_date(v):
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v):
        return False
    try:
        datetime.date.fromisoformat(v)
        return True
    except ValueError:
        return False


def _type_ok(t, v):
    return {
        "string": lambda: isinstance(v, str),
        "integer": lambda: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda: isinstance(v, bool),
        "object": lambda: isinstance(v, dict),
        "array": lambda: isinstance(v, list),
    }[t]()


def errors(doc, schema, value, where="$"):
    """The list of reasons value does not conform to schema (empty: it does)."""
    if not isinstance(schema, dict):
        raise SchemaError("%s: schema is not an object" % where)
    unknown = set(schema) - CHECKED - ANNOTATIONS
    unknown = {k for k in unknown if not k.startswith("x-")}
    if unknown:
        raise SchemaError("%s: schema keywords not supported: %s" % (where, sorted(unknown)))
    if "$ref" in schema:
        return errors(doc, resolve(doc, schema["$ref"]), value, where)
    out = []
    for sub in schema.get("allOf", []):
        out += errors(doc, sub, value, where)
    if "anyOf" in schema and not any(not errors(doc, s, value, where) for s in schema["anyOf"]):
        out.append("%s: matches none of anyOf" % where)
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not errors(doc, s, value, where))
        if n != 1:
            out.append("%s: matches %d of oneOf (exactly one needed)" % (where, n))
    if value is None and schema.get("nullable"):
        return out
    if "type" in schema and not _type_ok(schema["type"], value):
        return out + ["%s: %r is not of type %s" % (where, value, schema["type"])]
    if "enum" in schema and value not in schema["enum"]:
        out.append("%s: %r not in %r" % (where, value, schema["enum"]))
    if isinstance(value, str):
        out += _string_errors(schema, value, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append("%s: %r < minimum %r" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            out.append("%s: %r > maximum %r" % (where, value, schema["maximum"]))
    if isinstance(value, dict):
        out += _object_errors(doc, schema, value, where)
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append("%s: more than %d items" % (where, schema["maxItems"]))
        for i, item in enumerate(value):
            if "items" in schema:
                out += errors(doc, schema["items"], item, "%s[%d]" % (where, i))
    return out


def _string_errors(schema, value, where):
    out = []
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append("%s: shorter than %d" % (where, schema["minLength"]))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append("%s: longer than %d" % (where, schema["maxLength"]))
    fmt = schema.get("format")
    if fmt == "date" and not _is_date(value):
        out.append("%s: %r is not a full-date" % (where, value))
    elif fmt not in (None, "date") and fmt not in FORMATS_UNCHECKED:
        raise SchemaError("%s: format %s not supported" % (where, fmt))
    return out


def _object_errors(doc, schema, value, where):
    out = []
    props = schema.get("properties", {})
    for r in schema.get("required", []):
        if r not in value:
            out.append("%s: required property %s missing" % (where, r))
    for k, v in value.items():
        if k in props:
            out += errors(doc, props[k], v, "%s.%s" % (where, k))
        else:
            extra = schema.get("additionalProperties", True)
            if extra is False:
                out.append("%s: property %s not allowed" % (where, k))
            elif isinstance(extra, dict):
                out += errors(doc, extra, v, "%s.%s" % (where, k))
    return out
