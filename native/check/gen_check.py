#!/usr/bin/env python3
"""Writes a C file that checks our native/include/triton_api.h against Triton's real headers.

Usage: gen_check.py OUR_HEADER TRITON_INCLUDE OUT.c

The C file includes Triton's triton/core/tritonbackend.h (which includes tritonserver.h) and a
copy of our header in the same translation unit, so the compiler compares the two:
  - function declarations keep their names: C requires two declarations of one function to have
    compatible types, so a differing return or parameter type is a "conflicting types" error;
  - struct typedefs keep their names: a typedef may be repeated only with the same type;
  - an enum typedef keeps its name but loses its body (typedef enum TAG NAME;), which must name
    the same tag as Triton's; the body is repeated under the prefix ours_ (a C enumerator may be
    declared once only) and every enumerator is _Static_assert'ed equal to Triton's;
  - an object-like #define becomes ours_NAME, asserted equal to Triton's NAME;
  - every name our header declares must already be declared by Triton's headers when our copy is
    seen (otherwise a misspelt or invented function would pass as a new declaration);
  - version claims in our comments ("TRITONBACKEND_API_VERSION 1.19", "(tritonserver.h, API
    1.34)") are asserted against TRITON*_API_VERSION_MAJOR/MINOR, and a section comment naming
    a header ("(tritonbackend.h)") must name the header that declares the names under it.
The lists come from our header itself: this script classifies every top-level declaration in it
and refuses what it does not recognise, so a new declaration is covered or the build says why.
#line directives point errors at our header's own lines. Nothing of Triton's is copied: the C
file includes Triton's headers from TRITON_INCLUDE and names only the struct tags they declare.
"""
import os
import re
import sys

IDENT = r"[A-Za-z_]\w*"
PREFIX = "ours_"


class HeaderError(Exception):
    pass


def blank_comments(text):
    """Returns text with comments and string literals' contents blanked (same length, same
    lines), and the list of (offset, comment text)."""
    out = list(text)
    comments = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise HeaderError("unterminated comment")
            first, last, nxt = i, j + 2, j + 2
            comments.append((i, text[i:last]))
        elif text.startswith("//", i):
            j = text.find("\n", i)
            first = i
            last = nxt = n if j < 0 else j
            comments.append((i, text[i:last]))
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            first, last, nxt = i + 1, j, j + 1  # the quotes stay
        else:
            i += 1
            continue
        for k in range(first, min(last, n)):
            if out[k] != "\n":
                out[k] = " "
        i = nxt
    return "".join(out), comments


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def parse(text):
    """Classifies our header. Returns a dict of what it declares, with offsets into text."""
    code, comments = blank_comments(text)
    decl = {"defines": [], "structs": [], "enums": [], "functions": [], "guard": None}
    # Preprocessor lines: recognised ones are blanked from code; __cplusplus blocks are C++ only.
    c_code = list(code)
    lines = code.split("\n")
    offset, skipping, depth = 0, False, 0
    for line in lines:
        start, stripped = offset, line.strip()
        offset += len(line) + 1
        m = re.match(r"#\s*(\w+)\s*(.*)$", stripped)
        if not m:
            if skipping:
                c_code[start:start + len(line)] = " " * len(line)
            continue
        directive, rest = m.group(1), m.group(2).strip()
        if rest.endswith("\\"):
            raise HeaderError(f"line {line_of(text, start)}: continued directives are not supported")
        if directive == "ifndef" and decl["guard"] is None and depth == 0:
            decl["guard"] = rest
            depth += 1
        elif directive == "ifdef" and rest == "__cplusplus":
            skipping = True
            depth += 1
        elif directive == "endif":
            skipping = False
            depth -= 1
        elif skipping:
            pass
        elif directive == "include":
            pass
        elif directive == "define":
            dm = re.match(rf"({IDENT})(\(?)\s*(.*)$", rest)
            if dm.group(2):
                raise HeaderError(f"line {line_of(text, start)}: function-like macro {dm.group(1)}")
            if dm.group(1) != decl["guard"]:
                if not re.fullmatch(r"[\w()+\-*/<>|&~ ]+", dm.group(3)):
                    raise HeaderError(
                        f"line {line_of(text, start)}: {dm.group(1)} is not an integer constant")
                decl["defines"].append((dm.group(1), dm.group(3), start + line.index("define")))
        else:
            raise HeaderError(f"line {line_of(text, start)}: unsupported directive #{directive}")
        c_code[start:start + len(line)] = " " * len(line)
    c_code = "".join(c_code)

    # Top-level statements, split on ';' outside braces.
    pos, brace = 0, 0
    for i, ch in enumerate(c_code):
        if ch == "{":
            brace += 1
        elif ch == "}":
            brace -= 1
        elif ch == ";" and brace == 0:
            classify(text, c_code, pos, i + 1, decl)
            pos = i + 1
    if c_code[pos:].strip():
        raise HeaderError(f"line {line_of(text, pos)}: text after the last declaration")
    decl["comments"] = comments
    return decl


def classify(text, c_code, start, end, decl):
    stmt = c_code[start:end]
    lead = len(stmt) - len(stmt.lstrip())
    start += lead
    stmt = " ".join(stmt.split())
    where = f"line {line_of(text, start)}"
    m = re.fullmatch(rf"typedef struct ({IDENT}) ({IDENT}) ?;", stmt)
    if m:
        decl["structs"].append((m.group(1), m.group(2), start))
        return
    m = re.fullmatch(rf"typedef enum ({IDENT}) ?\{{(.*)\}} ?({IDENT}) ?;", stmt)
    if m:
        body_at = c_code.index("{", start) + 1
        decl["enums"].append({"tag": m.group(1), "name": m.group(3), "start": start, "end": end,
                              "items": enumerators(text, c_code, body_at, where)})
        return
    m = re.fullmatch(rf"([^(){{}}]*?)\b({IDENT}) ?\(([^{{}}]*)\) ?;", stmt)
    if m and m.group(1).strip() and not stmt.startswith("typedef "):
        decl["functions"].append((m.group(2), start))
        return
    raise HeaderError(f"{where}: unrecognised declaration: {stmt[:80]}")


def enumerators(text, c_code, body_at, where):
    body_end = c_code.index("}", body_at)
    items, depth, item_at = [], 0, body_at
    for i in range(body_at, body_end + 1):
        ch = c_code[i]
        depth += ch == "("
        depth -= ch == ")"
        if (ch == "," and depth == 0) or i == body_end:
            item = c_code[item_at:i]
            if item.strip():
                m = re.fullmatch(rf"\s*({IDENT})\s*(?:=\s*(.+?))?\s*", item, re.S)
                if not m:
                    raise HeaderError(f"{where}: unrecognised enumerator: {item.strip()}")
                at = item_at + len(item) - len(item.lstrip())
                items.append((m.group(1), m.group(2) and " ".join(m.group(2).split()), at))
            item_at = i + 1
    return items


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def line_directive(path, text, offset):
    return f"#line {line_of(text, offset)} {c_string(path)}"


def claims(text, decl, triton):
    """Version claims in our comments, and which Triton header a section comment names."""
    versions = []
    for at, comment in decl["comments"]:
        for m in re.finditer(r"\b(TRITON(?:BACKEND|SERVER))_API_VERSION\s+(\d+)\.(\d+)", comment):
            versions.append((m.group(1), m.group(2), m.group(3), at + m.start()))
        for m in re.finditer(r"\((triton(?:backend|server))\.h,\s*API\s+(\d+)\.(\d+)\)", comment):
            versions.append((m.group(1).upper(), m.group(2), m.group(3), at + m.start()))
    # A comment naming exactly one of Triton's headers covers the declarations up to the next one.
    sections = sorted((at, names[0]) for at, c in decl["comments"]
                      if len(names := sorted(set(re.findall(r"\b(tritonserver|tritonbackend)\.h",
                                                            c)))) == 1)
    wrong = []
    named = [(n, at) for n, at in decl["functions"]]
    named += [(e["name"], e["start"]) for e in decl["enums"]]
    for name, at in named:
        header = None
        for s_at, s_header in sections:
            if s_at < at:
                header = s_header
        if header and not re.search(rf"\b{name}\b\s*[(;]|}}\s*{name}\s*;",
                                    triton[header + ".h"]):
            wrong.append(f"line {line_of(text, at)}: {name} is not declared in {header}.h, "
                         "which the comment above it names")
    return versions, wrong


def generate(our_path, triton_include, out_path):
    with open(our_path, encoding="utf-8") as f:
        text = f.read()
    decl = parse(text)
    core = os.path.join(triton_include, "triton", "core")
    triton = {}
    for name in ("tritonserver.h", "tritonbackend.h"):
        with open(os.path.join(core, name), encoding="utf-8") as f:
            triton[name] = f.read()
    versions, wrong = claims(text, decl, triton)
    if wrong:
        raise HeaderError("\n".join(wrong))

    here = os.path.abspath(our_path)
    out = [f"/* Generated by native/check/gen_check.py from {os.path.basename(our_path)}; do not edit.",
           "   It compiles only if that header agrees with Triton's headers. */",
           "#include <assert.h>", ""]
    # Triton's headers are C++ at heart: tritonbackend.h names struct types without 'struct'.
    # In C, typedef each struct tag they forward-declare (C++ gives that name implicitly).
    out.append("/* The struct tags Triton's headers forward-declare, named as C++ names them. */")
    for header in ("tritonserver.h", "tritonbackend.h"):
        for tag in re.findall(rf"^struct ({IDENT});", triton[header], re.M):
            out.append(f"typedef struct {tag} {tag};")
    out += ["#include \"triton/core/tritonbackend.h\"", ""]

    out.append("/* Every name our header declares is declared by Triton's headers already. */")
    for tag, name, at in decl["structs"]:
        out += [line_directive(here, text, at), f"typedef {name} {PREFIX}exists_{name};"]
    for enum in decl["enums"]:
        out += [line_directive(here, text, enum["start"]),
                f"typedef {enum['name']} {PREFIX}exists_{enum['name']};"]
    for name, at in decl["functions"]:
        out += [line_directive(here, text, at),
                f"static_assert(sizeof(&{name}) != 0, \"{name} is not declared by Triton\");"]
    for name, _, at in decl["defines"]:
        out += [line_directive(here, text, at), f"#ifndef {name}",
                f"#error \"{name} is not defined by Triton's headers\"", "#endif"]
    out.append("")

    # Our header, line for line, with enum bodies moved out and constants renamed.
    copy = text
    edits = [(e["start"], e["end"], f"typedef enum {e['tag']} {e['name']};"
              + "\n" * text.count("\n", e["start"], e["end"])) for e in decl["enums"]]
    edits += [(at, at + len("define ") + len(name), f"define {PREFIX}{name}")
              for name, _, at in decl["defines"]]
    for start, end, new in sorted(edits, reverse=True):
        copy = copy[:start] + new + copy[end:]
    out += [f"/* {os.path.basename(our_path)}, line for line: enum bodies below, constants renamed. */",
            f"#line 1 {c_string(here)}", copy.rstrip("\n"), ""]

    ours = {n for e in decl["enums"] for n, _, _ in e["items"]}
    rename = (lambda expr: re.sub(rf"\b({IDENT})\b",
                                  lambda m: PREFIX + m.group(1) if m.group(1) in ours
                                  else m.group(1), expr))
    for e in decl["enums"]:
        out.append(line_directive(here, text, e["start"]))
        out.append(f"enum {PREFIX}{e['tag']} {{")
        for name, value, at in e["items"]:
            out += [line_directive(here, text, at),
                    f"  {PREFIX}{name}" + (f" = {rename(value)}," if value else ",")]
        out.append("};")
        out += [line_directive(here, text, e["start"]),
                f"static_assert(sizeof(enum {PREFIX}{e['tag']}) == sizeof({e['name']}), "
                f"\"{e['name']}: our enum's size differs from Triton's\");"]
        for name, _, at in e["items"]:
            out += [line_directive(here, text, at),
                    f"static_assert((long long){PREFIX}{name} == (long long){name}, "
                    f"\"{name}: our value differs from Triton's\");"]
    for name, _, at in decl["defines"]:
        out += [line_directive(here, text, at),
                f"static_assert(({PREFIX}{name}) == ({name}), "
                f"\"{name}: our value differs from Triton's\");"]
    for api, major, minor, at in versions:
        out += [line_directive(here, text, at),
                f"static_assert({api}_API_VERSION_MAJOR == {major} && "
                f"{api}_API_VERSION_MINOR == {minor}, "
                f"\"the comment says {api} API {major}.{minor}, Triton's headers say otherwise\");"]
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    n_items = sum(len(e["items"]) for e in decl["enums"])
    return (f"{len(decl['functions'])} functions, {len(decl['structs'])} struct types, "
            f"{len(decl['enums'])} enums ({n_items} values), {len(decl['defines'])} constants, "
            f"{len(versions)} version claims")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[0])
    try:
        summary = generate(*sys.argv[1:])
    except HeaderError as e:
        sys.exit(f"{sys.argv[1]}: {e}")
    print(summary)


if __name__ == "__main__":
    main()
