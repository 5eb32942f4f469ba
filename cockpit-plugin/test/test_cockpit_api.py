"""The README's table of Cockpit releases stays true (README.md, "Cockpit
releases").  It fails when

- src/*.js, src/*.jsx or po.js use a `cockpit.<name>` the table lacks, or
  the table names a `cockpit.<name>` they no longer use;
- an object literal passed to cockpit.dbus(), cockpit.spawn() or the D-Bus
  client's call() has a key the table lacks as that call's option;
- the page calls a method of the D-Bus client (`client`) or of the process
  (`proc`), or listens to an event of the client, that the table lacks;
- index.html loads, or src/ fetches, a file from outside the page that the
  table lacks; index.html takes a stylesheet from outside the page;
- src/manifest.json has a key the table lacks (`name` is the build's,
  `config` is read through ../manifests.json);
- a row that is not optional is newer than NethServer 7's Cockpit (195), or
  the manifest's `requires` is not the highest release of those rows;
- src/ uses a --pf-v5- CSS variable that PatternFly's base CSS, which the
  page bundles, does not define.

NS8M_PAGE_DIR may point at another copy of cockpit-plugin/.
"""

import glob
import json
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.environ.get("NS8M_PAGE_DIR", os.path.dirname(HERE))
NS7_COCKPIT = "195"
SECTION = "## Cockpit releases"

# The objects the page gets from Cockpit, by the call that makes them, and
# their names in the table.
FACTORIES = {"dbus": "client", "spawn": "proc"}


def release_key(release):
    """'0.107' < '118' < '167': Cockpit's releases compare part by part."""
    return tuple(int(p) for p in release.split("."))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def strip_comments(code):
    """JavaScript without its comments; strings, template literals and
    regular expressions are kept as they are."""
    out = []
    i, n = 0, len(code)
    last = ""  # the last significant character outside comments
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            i = n if j < 0 else j
            continue
        if code.startswith("/*", i):
            j = code.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
            continue
        if c in "'\"`" or (c == "/" and (last == "" or last in "(,=:[!&|?{};+-*%<>~^")):
            j = i + 1
            in_class = False
            while j < n:
                if code[j] == "\\":
                    j += 2
                    continue
                if c == "/" and code[j] == "[":
                    in_class = True
                elif c == "/" and code[j] == "]":
                    in_class = False
                elif code[j] == c and not in_class:
                    break
                elif code[j] == "\n" and c != "`":
                    break
                j += 1
            out.append(code[i:j + 1])
            last = c
            i = j + 1
            continue
        out.append(c)
        if not c.isspace():
            last = c
        i += 1
    return "".join(out)


def call_args(code, start):
    """The text between the parenthesis at `start` and its match."""
    depth = 0
    for j in range(start, len(code)):
        if code[j] == "(":
            depth += 1
        elif code[j] == ")":
            depth -= 1
            if depth == 0:
                return code[start + 1:j]
    return code[start + 1:]


def literal_keys(args):
    """The keys of the object literals among a call's arguments (the top
    level of each {...}; a nested object's keys are not the call's)."""
    keys = set()
    depth = 0
    top = []
    for c in args:
        if c == "}":
            depth -= 1
            if depth == 0:
                keys |= set(re.findall(r"(?:^|,)\s*([A-Za-z_]\w*)\s*:", "".join(top)))
        elif depth == 1:
            top.append(c)
        if c == "{":
            depth += 1
            if depth == 1:
                top = []
    return keys


def table():
    """{(api, kind, name): (release, optional)} from the README's table;
    kind and name are None for a row about the API itself."""
    text = read(os.path.join(PAGE, "README.md"))
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    rows = {}
    for line in text[start:end if end >= 0 else None].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) < 4 or cells[0] in ("API", "---"):
            continue
        m = re.fullmatch(r"(?:manifest `(?P<key>[^`]+)`|`(?P<api>[^`]+)`"
                         r"(?: (?P<kind>option|event) `(?P<name>[^`]+)`)?)", cells[0])
        if not m:
            raise AssertionError(f"README: a row's API cell is not understood: {cells[0]!r}")
        release = cells[2]
        if not re.fullmatch(r"\d+(\.\d+)?", release):
            raise AssertionError(f"README: {cells[0]}: {release!r} is not a Cockpit release")
        if m["key"]:
            key = ("manifest", None, m["key"])
        else:
            key = (m["api"].removesuffix("()"), m["kind"], m["name"])
        rows[key] = (release, "*optional*" in cells[1])
    if not rows:
        raise AssertionError(f"README: no table under {SECTION!r}")
    return rows


class Source:
    """What the page's JavaScript takes from Cockpit."""

    def __init__(self):
        files = sorted(glob.glob(os.path.join(PAGE, "src", "*.js")) + glob.glob(os.path.join(PAGE, "src", "*.jsx")))
        files.append(os.path.join(PAGE, "po.js"))
        self.uses = {}   # (api, kind, name) -> first file using it
        for path in files:
            code = strip_comments(read(path))
            self.scan(code, os.path.relpath(path, PAGE))

    def add(self, key, where):
        self.uses.setdefault(key, where)

    def scan(self, code, where):
        # cockpit.<name>, and this.cockpit.<name> (the helper client is given cockpit)
        for m in re.finditer(r"(?:(?<=\bthis\.)|(?<![\w./-]))cockpit\.([A-Za-z_]\w*)", code):
            name = "cockpit." + m[1]
            self.add((name, None, None), where)
            if m[1] in FACTORIES and code[m.end():m.end() + 1] == "(":
                for key in literal_keys(call_args(code, m.end())):
                    self.add((name, "option", key), where)
        # the objects cockpit.dbus() and cockpit.spawn() return, and their aliases
        names = {}
        for m in re.finditer(r"\b(?:const|let|var)\s+(\w+)\s*=\s*(?:this\.)?cockpit\.(\w+)\(", code):
            if m[2] in FACTORIES:
                names[m[1]] = FACTORIES[m[2]]
        for m in re.finditer(r"\bthis\.(\w+)\s*=\s*(\w+)\s*;", code):
            if m[2] in names:
                names["this." + m[1]] = names[m[2]]
        for var, obj in names.items():
            for m in re.finditer(r"(?<![\w.])" + re.escape(var) + r"\.(\w+)\(", code):
                api = f"{obj}.{m[1]}"
                args = call_args(code, m.end() - 1)
                if m[1] != "addEventListener":  # a row per event
                    self.add((api, None, None), where)
                if m[1] == "addEventListener":
                    event = re.match(r"\s*[\"'](\w+)[\"']", args)
                    if not event:
                        raise AssertionError(f"{where}: {var}.addEventListener() with an event that is not a string")
                    self.add((api, "event", event[1]), where)
                elif m[1] == "call":
                    for key in literal_keys(args):
                        self.add((api, "option", key), where)
        # files fetched from outside the page
        for m in re.finditer(r"\bfetch\(\s*[\"'](\.\./[^\"']+)[\"']", code):
            self.add((m[1], None, None), where)


def page_html():
    """The script and stylesheet URLs of index.html."""
    html = read(os.path.join(PAGE, "src", "index.html"))
    scripts = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html)
    styles = re.findall(r"<link\b[^>]*\bhref=\"([^\"]+)\"", html)
    return scripts, styles


class CockpitApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rows = table()
        cls.source = Source()

    def test_every_use_is_in_the_table(self):
        missing = {k: w for k, w in self.source.uses.items() if k not in self.rows}
        self.assertEqual(missing, {}, "used by the page (key: where), not in the README's table of Cockpit releases")

    def test_every_cockpit_name_of_the_table_is_used(self):
        listed = {k for k in self.rows if k[0].startswith("cockpit.") and k[1] is None}
        used = {k for k in self.source.uses if k[0].startswith("cockpit.") and k[1] is None}
        self.assertEqual(sorted(listed - used), [], "in the README's table, no longer used by the page")

    def test_the_scan_sees_the_clients(self):
        """The scan is not blind: it finds the D-Bus client and the process."""
        for key in (("cockpit.dbus", "option", "superuser"), ("client.call", "option", "type"),
                    ("client.addEventListener", "event", "notify"), ("proc.stream", None, None),
                    ("cockpit.locale", None, None)):
            self.assertIn(key, self.source.uses)

    def test_files_from_cockpit(self):
        scripts, styles = page_html()
        outside = [s for s in scripts if s.startswith("../")]
        self.assertIn("../base1/cockpit.js", outside)
        for src in outside:
            with self.subTest(src=src):
                name = src if src != "../base1/po.js" else "po.js"
                self.assertIn((name, None, None), self.rows)
        for src in scripts:
            if not src.startswith("../"):
                self.assertIn(src, ("po.js", "index.js"), "a script of the page's own that the build does not make")
        if "po.js" in scripts:
            self.assertIn(("po.js", None, None), self.rows)
        self.assertEqual([h for h in styles if h.startswith("../") or "//" in h], [],
                         "a stylesheet from outside the page: the page brings its own CSS")

    def test_manifest_keys(self):
        manifest = json.loads(read(os.path.join(PAGE, "src", "manifest.json")))
        keys = set(manifest) - {"name", "config"}
        for entry in (manifest.get("menu") or {}).values():
            keys |= set(entry) - {"label", "order"}
        for key in sorted(keys):
            with self.subTest(key=key):
                self.assertIn(("manifest", None, key), self.rows)

    def test_nothing_newer_than_ns7(self):
        newer = {k: r for k, (r, optional) in self.rows.items()
                 if not optional and release_key(r) > release_key(NS7_COCKPIT)}
        self.assertEqual(newer, {}, f"needs a Cockpit newer than NethServer 7's {NS7_COCKPIT}")

    def test_requires_is_the_highest_release(self):
        manifest = json.loads(read(os.path.join(PAGE, "src", "manifest.json")))
        highest = max((r for r, optional in self.rows.values() if not optional), key=release_key)
        self.assertEqual(manifest.get("requires"), {"cockpit": highest},
                         "the manifest's requires is the highest release of the README's table")

    def test_css_variables_come_with_the_page(self):
        base = os.path.join(PAGE, "node_modules", "@patternfly", "patternfly", "patternfly-base.css")
        if not os.path.exists(base):
            self.skipTest("no node_modules (npm ci)")
        index = strip_comments(read(os.path.join(PAGE, "src", "index.jsx")))
        self.assertRegex(index, r"import\s+\"@patternfly/patternfly/patternfly-base\.css\"",
                         "the page bundles PatternFly's base CSS")
        defined = set(re.findall(r"(--pf-v5-[\w-]+)\s*:", read(base)))
        used = {}
        for path in sorted(glob.glob(os.path.join(PAGE, "src", "*"))):
            if path.endswith((".css", ".js", ".jsx")):
                for var in re.findall(r"var\(\s*(--pf-v5-[\w-]+)", read(path)):
                    used.setdefault(var, os.path.relpath(path, PAGE))
        self.assertTrue(used)
        self.assertEqual({v: w for v, w in used.items() if v not in defined}, {},
                         "CSS variables that PatternFly's base CSS does not define")


if __name__ == "__main__":
    unittest.main()
