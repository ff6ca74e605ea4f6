#!/usr/bin/env python3
"""Checks that every path the Dockerfile copies exists, without Docker.

  scripts/check-dockerfile-paths.py

* COPY from the build context: each source exists in the repository and is not excluded by
  .dockerignore; and no file git tracks is excluded (the build stage copies the whole context
  and builds from it).
* COPY --from=<stage>: each source, a path in that stage, is mapped to this tree through the
  stage's WORKDIR (/src in the build stage is the repository root) and must exist after the
  build: run `make build` and `triton-build/stage-image.sh build/image` first, which is what the
  build stage runs (scripts/check-dockerfile.sh does both).
Exit 0 when every path exists, 1 with one line per missing path otherwise.
"""

import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def instructions(text):
    """(line number, instruction, argument string) with continuations joined, comments dropped."""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if not buf:
            start = n
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        parts = buf.split(None, 1)
        out.append((start, parts[0].upper(), parts[1] if len(parts) > 1 else ""))
        buf = ""
    return out


def ignore_rules(path):
    rules = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = os.path.normpath(line[1:] if negate else line).lstrip("/")
            rx = ""
            i = 0
            while i < len(pattern):
                if pattern.startswith("**", i):
                    rx += ".*"
                    i += 2
                    if pattern.startswith("/", i):
                        rx += "/?"
                        i += 1
                    continue
                c = pattern[i]
                rx += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
                i += 1
            rules.append((re.compile(rx + "(/.*)?$"), negate))
    return rules


def ignored(rel, rules):
    """Whether .dockerignore keeps rel out of the context (the last matching rule wins)."""
    result = False
    for rx, negate in rules:
        if rx.match(rel):
            result = not negate
    return result


def main(argv):
    staged_note = "after make build and triton-build/stage-image.sh build/image"
    text = open(os.path.join(ROOT, "Dockerfile")).read()
    rules = ignore_rules(os.path.join(ROOT, ".dockerignore"))
    problems, checked = [], 0
    workdirs, stage = {}, None
    for n, inst, args in instructions(text):
        if inst == "FROM":
            m = re.search(r"\bAS\s+(\S+)", args, re.I)
            stage = m.group(1) if m else None
        elif inst == "WORKDIR" and stage:
            workdirs[stage] = args.strip()
        elif inst in ("COPY", "ADD"):
            words = shlex.split(args)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            sources = paths[:-1]
            origin = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
            for src in sources:
                checked += 1
                if origin is None:
                    rel = os.path.normpath(src).lstrip("/")
                    full = os.path.join(ROOT, rel)
                    if not os.path.exists(full):
                        problems.append("Dockerfile:%d: %s %s: not in the build context" % (n, inst, src))
                    elif rel != "." and ignored(rel, rules):
                        problems.append("Dockerfile:%d: %s %s: excluded by .dockerignore" % (n, inst, src))
                else:
                    wd = workdirs.get(origin)
                    if wd is None:
                        problems.append("Dockerfile:%d: COPY --from=%s: stage has no WORKDIR to map" % (n, origin))
                        continue
                    if not src.startswith(wd.rstrip("/") + "/"):
                        problems.append("Dockerfile:%d: COPY --from=%s %s: outside the stage's WORKDIR %s" % (n, origin, src, wd))
                        continue
                    rel = src[len(wd.rstrip("/")) + 1:]
                    if not os.path.exists(os.path.join(ROOT, rel)):
                        problems.append("Dockerfile:%d: COPY --from=%s %s: %s does not exist %s" % (n, origin, src, rel, staged_note))
    try:
        tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        tracked = []
    for f in tracked:
        if ignored(f, rules):
            problems.append(".dockerignore excludes the tracked file %s (the build stage needs the sources)" % f)
    for p in problems:
        print(p)
    print("check-dockerfile-paths: %d COPY sources and %d tracked files checked, %d problems" % (checked, len(tracked), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
