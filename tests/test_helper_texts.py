"""The helper's sentences by id (helper/src/core/text.h): every
Text("id", "template") in helper/src, as xgettext extracts them for the
translation catalogs (the id is the message context), has one template per
id, a dotted id, and placeholders %1..%9 without gaps.
"""

import glob
import os
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NS8M_SOURCE_DIR", os.path.join(HERE, ".."))
ID = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$")


def extract(files):
    """[(id, template, where)] from xgettext's catalog of FILES."""
    out = subprocess.run(["xgettext", "--language=C++", "--from-code=UTF-8", "--keyword=", "--keyword=Text:1c,2",
                          "--no-wrap", "-o", "-"] + files, check=True, capture_output=True, text=True).stdout
    texts = []
    where = ""
    ctxt = None
    for line in out.split("\n"):
        if line.startswith("#: "):
            where = line[3:]
        elif line.startswith("msgctxt "):
            ctxt = eval(line[len("msgctxt "):])  # a C string literal
        elif line.startswith("msgid ") and ctxt is not None:
            texts.append((ctxt, eval(line[len("msgid "):]), where))
            ctxt = None
    return texts


def problems(texts):
    seen = {}
    found = []
    for ident, tmpl, where in texts:
        if not ID.match(ident):
            found.append("%s: id %r is not dotted lower-case words" % (where, ident))
        if ident in seen and seen[ident] != tmpl:
            found.append("%s: id %r has two templates: %r and %r" % (where, ident, seen[ident], tmpl))
        seen.setdefault(ident, tmpl)
        numbers = sorted({int(n) for n in re.findall(r"%([1-9])", tmpl)})
        if numbers != list(range(1, len(numbers) + 1)):
            found.append("%s: %r skips a placeholder" % (where, tmpl))
    return found


class HelperTexts(unittest.TestCase):
    def test_the_check_sees_a_second_template(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.cpp")
            with open(path, "w", encoding="utf-8") as f:
                f.write('void f() { Text("a.b", "One %1"); Text("a.b", "Two"); Text("Bad", "x %2"); }\n')
            found = problems(extract([path]))
        self.assertTrue(any("two templates" in p for p in found), found)
        self.assertTrue(any("not dotted" in p for p in found), found)
        self.assertTrue(any("skips a placeholder" in p for p in found), found)

    def test_every_id_of_the_helper_has_one_template(self):
        files = sorted(glob.glob(os.path.join(SOURCE, "helper", "src", "**", "*.cpp"), recursive=True)
                       + glob.glob(os.path.join(SOURCE, "helper", "src", "**", "*.h"), recursive=True))
        texts = extract(files)
        # The closing sentences of every operation have ids by now.
        ids = {t[0] for t in texts}
        for ident in ("connect.done", "scan.done", "start.done", "sync.done", "finish.done", "abort.done",
                      "disconnect.done", "step.start.check", "step.sync.sync",
                      "check.node-disk.title", "check.node-disk.found", "check.node-disk.remedy",
                      "check.leader-tls.valid", "check.backup.none", "check.not-yet.connect-first"):
            self.assertIn(ident, ids)
        self.assertEqual(problems(texts), [])


if __name__ == "__main__":
    unittest.main()
