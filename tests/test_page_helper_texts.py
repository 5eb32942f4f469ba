"""The page's catalog holds the helper's sentences by id: the (id, template)
pairs that xgettext finds in helper/src (Text("id", "template"), see
helper/src/core/text.h) are exactly the msgctxt entries of
cockpit-plugin/po/ns8-migration.pot, and cockpit-plugin/po/it.po translates
each of them (not fuzzy, the same %1..%9).  When it fails: run
`node build.js --pot` in cockpit-plugin/ and translate the new templates in
po/it.po (po/README.md).
"""

import json
import os
import re
import subprocess
import unittest


def extract(files):
    """[(id, template)] of the Text("id", "template") in FILES, as xgettext finds them."""
    out = subprocess.run(["xgettext", "--language=C++", "--from-code=UTF-8", "--keyword=", "--keyword=Text:1c,2",
                          "--no-wrap", "--omit-header", "-o", "-"] + files, check=True, capture_output=True, text=True).stdout
    return [k for k in read_po_text(out)]

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NS8M_SOURCE_DIR", os.path.join(HERE, ".."))
PO = os.path.join(SOURCE, "cockpit-plugin", "po")


def unquote(s):
    return json.loads(s.replace("\t", "\\t"))


def read_po(path):
    with open(path, encoding="utf-8") as f:
        return read_po_text(f.read())


def read_po_text(text):
    """{(msgctxt, msgid): (msgstr, fuzzy)} of the entries with a context."""
    entries = {}
    blocks = text.split("\n\n")
    for block in blocks:
        fields = {}
        key = None
        for line in block.split("\n"):
            m = re.match(r'^(msgctxt|msgid|msgstr)\s+(".*")$', line)
            if m:
                key = m.group(1)
                fields[key] = unquote(m.group(2))
            elif line.startswith('"') and key:
                fields[key] += unquote(line)
        if "msgctxt" in fields:
            entries[(fields["msgctxt"], fields["msgid"])] = (fields.get("msgstr", ""), "fuzzy" in block.split("msgctxt")[0])
    return entries


def placeholders(s):
    return sorted(re.findall(r"%[1-9]", s))


class PageHelperTexts(unittest.TestCase):
    def setUp(self):
        src = os.path.join(SOURCE, "helper", "src")
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs if f.endswith((".cpp", ".h")))
        self.helper = set(extract(files))
        self.assertGreater(len(self.helper), 50)

    def test_the_pot_holds_the_helper_texts(self):
        pot = set(read_po(os.path.join(PO, "ns8-migration.pot")))
        self.assertEqual(sorted(self.helper - pot), [],
                         "helper texts missing from po/ns8-migration.pot: run node build.js --pot in cockpit-plugin/")
        self.assertEqual(sorted(pot - self.helper), [],
                         "po/ns8-migration.pot has helper texts the sources no longer have: run node build.js --pot")

    def test_italian_translates_every_helper_text(self):
        it = read_po(os.path.join(PO, "it.po"))
        missing = sorted(k for k in self.helper if k not in it or not it[k][0] or it[k][1])
        self.assertEqual(missing, [], "helper texts without an Italian translation in po/it.po")
        for k in sorted(self.helper):
            self.assertEqual(placeholders(it[k][0]), placeholders(k[1]), "placeholders differ in the translation of %r" % (k,))


if __name__ == "__main__":
    unittest.main()
