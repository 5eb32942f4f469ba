"""The Cockpit page knows no app: what it says about one comes from the
helper (App.Fields, App.Texts, the app's Name), which reads the app's
profile.  This check fails when a file under cockpit-plugin/src names an
app's id, name, NS8 image, companion image or field id taken from
apps/*.yaml, in any letter case.

NS8M_PAGE_SRC may point at another copy of cockpit-plugin/src (to check
an older tree).
"""

import os
import re
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NS8M_SOURCE_DIR", os.path.join(HERE, ".."))
APPS = os.path.join(SOURCE, "apps")
PAGE_SRC = os.environ.get("NS8M_PAGE_SRC", os.path.join(SOURCE, "cockpit-plugin", "src"))


def app_words(apps_dir):
    """{word: where it comes from} for every profile in apps_dir."""
    words = {}
    for name in sorted(os.listdir(apps_dir)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(apps_dir, name), encoding="utf-8") as f:
            p = yaml.safe_load(f) or {}
        found = [("id", p.get("id")), ("name", p.get("name"))]
        ns8 = p.get("ns8") or {}
        # An account provider's image is named after the directory server
        # (openldap, samba), which the helper and the page know as NS7's
        # provider kinds: that word is not the app's.
        if not (p.get("detect") or {}).get("account_provider"):
            found.append(("ns8.image", ns8.get("image")))
        found += [("companion image", c.get("image")) for c in ns8.get("companions") or []]
        found += [("field id", fl.get("id")) for fl in p.get("fields") or []]
        for what, word in found:
            if isinstance(word, str) and word.strip():
                words.setdefault(word.strip().lower(), "%s of apps/%s" % (what, name))
    return words


def leaks(src_dir, words):
    """Every line of a file under src_dir that contains one of WORDS."""
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    out = []
    for root, _dirs, files in os.walk(src_dir):
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                with open(path, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except UnicodeDecodeError:
                continue
            for n, line in enumerate(lines, 1):
                for m in pattern.finditer(line):
                    out.append("%s:%d: %r (%s)" % (os.path.relpath(path, src_dir), n, m.group(0),
                                                   words[m.group(0).lower()]))
    return out


class PageKnowsNoApp(unittest.TestCase):
    def test_the_profiles_give_words(self):
        words = app_words(APPS)
        kinds = {v.split(" of ")[0] for v in words.values()}
        self.assertTrue({"id", "field id"} <= kinds, words)

    def test_the_check_finds_a_name(self):
        words = {"demoapp": "id of demo.yaml", "demo_host": "field id of demo.yaml"}
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "a.jsx"), "w", encoding="utf-8") as f:
                f.write('ok\nconst x = settings.Demo_Host; // DemoApp\n')
            self.assertEqual(leaks(d, words), [
                "a.jsx:2: 'Demo_Host' (field id of demo.yaml)", "a.jsx:2: 'DemoApp' (id of demo.yaml)"])

    def test_page_source_names_no_app(self):
        self.assertTrue(os.path.isdir(PAGE_SRC), PAGE_SRC)
        found = leaks(PAGE_SRC, app_words(APPS))
        if found:
            self.fail("the page's code names an app; move the text to the app's profile (texts:, fields:) "
                      "and read it from App.Texts / App.Fields:\n" + "\n".join(found))


if __name__ == "__main__":
    unittest.main()
