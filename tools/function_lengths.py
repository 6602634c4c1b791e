#!/usr/bin/env python3
"""Function-length ratchet (issue #15): no function over 70 lines may grow.

Lists every function body longer than LIMIT lines in the C++ sources and
compares them with the committed ratchet file: the check fails if a listed
function grew or a new one crossed the limit. A function that shrank or
left the list passes; `--update` rewrites the ratchet file to what is there
now (run it after shortening something, so the ratchet tightens).

The parser is brace matching for our own style (clang-format, Google-based):
a function starts on a line that ends with "{" after a closing ")" (plus
qualifiers such as const, override, noexcept, or a trailing return type), at
namespace or class level, and ends at its matching "}". Strings, character
literals and comments are blanked first so braces inside them do not count.
Python 3 standard library only.
"""
import re
import subprocess
import sys
from pathlib import Path

LIMIT = 70
HEADER = re.compile(r"\)\s*(const\s*)?(noexcept\s*)?(override\s*)?(final\s*)?(->\s*[\w:<>, *&]+\s*)?\{$")
NOT_FUNCTION = re.compile(r"^\s*(if|for|while|switch|catch|else|do|return)\b|=\s*\[|\]\s*\(|^\s*\[")


def blank(text):
    """The text with comments, strings and character literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + (m.group(1) if m else "") + '"', i)
            j = n if end < 0 else end + len(m.group(1) if m else "") + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'" and not (c == "'" and i > 0 and text[i - 1].isalnum()):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path, text):
    """(name, lines) of each function in text: the name is file:qualified-name of the header line."""
    lines = blank(text).split("\n")
    found = []
    depth = 0
    scopes = []  # depths at which a namespace, class or struct body opened
    start = None  # (line index, name, depth) of the function being measured
    for k, line in enumerate(lines):
        stripped = line.strip()
        if start is None and depth == len(scopes) and HEADER.search(stripped) and not NOT_FUNCTION.search(stripped):
            head = stripped
            back = k
            while "(" not in head and back > 0:  # a header wrapped over lines
                back -= 1
                head = lines[back].strip() + " " + head
            m = re.search(r"([~\w:]+(?:operator\S*)?)\s*\(", head)
            start = (k, m.group(1) if m else "?", depth)
        elif start is None and re.search(r"\b(namespace|class|struct|union|enum)\b[^;()]*\{$", stripped):
            scopes.append(depth)
        for ch in line:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if start is not None and depth == start[2]:
                    found.append((f"{path}:{start[1]}", k - start[0] + 1))
                    start = None
                while scopes and depth <= scopes[-1]:
                    scopes.pop()
    return found


def long_functions(files):
    counts = {}
    out = {}
    for path in files:
        for name, length in functions(path, Path(path).read_text(encoding="utf-8", errors="replace")):
            if length <= LIMIT:
                continue
            counts[name] = counts.get(name, 0) + 1
            key = name if counts[name] == 1 else f"{name}#{counts[name]}"  # overloads
            out[key] = length
    return out


def read_ratchet(path):
    ratchet = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            length, name = line.split(maxsplit=1)
            ratchet[name] = int(length)
    return ratchet


def main(argv):
    update = "--update" in argv
    args = [a for a in argv if a != "--update"]
    if len(args) < 1:
        print("usage: function_lengths.py RATCHET_FILE [--update] [SOURCE...]", file=sys.stderr)
        return 2
    ratchet_path, files = args[0], args[1:]
    if not files:
        listed = subprocess.run(["git", "ls-files", "*.cc", "*.h"], capture_output=True, text=True, check=True)
        files = [f for f in listed.stdout.split() if not f.endswith("_test.cc") and not f.startswith("tests/function_lengths/")]
    now = long_functions(files)
    if update:
        with open(ratchet_path, "w") as f:
            f.write(f"# Functions over {LIMIT} lines: none may grow, no new one may appear\n")
            f.write("# (tools/function_lengths.py; --update after shortening one).\n")
            for name in sorted(now):
                f.write(f"{now[name]} {name}\n")
        print(f"function lengths: {len(now)} functions over {LIMIT} lines written to {ratchet_path}")
        return 0
    ratchet = read_ratchet(ratchet_path)
    bad = []
    for name, length in sorted(now.items()):
        if name not in ratchet:
            bad.append(f"{name} has {length} lines, over the limit of {LIMIT}")
        elif length > ratchet[name]:
            bad.append(f"{name} grew from {ratchet[name]} to {length} lines")
    for line in bad:
        print(f"function lengths: {line}", file=sys.stderr)
    if bad:
        return 1
    longest = max(now.values(), default=0)
    print(f"function lengths: {len(now)} functions over {LIMIT} lines, none grew (longest {longest})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
