"""The helper knows no app: what it does for one comes from the app's
profile (apps/*.yaml).  This check fails when a file under helper/src names
an app's id, name, NS8 image, companion image or field id taken from
apps/*.yaml, in any letter case (the same words and matching as
unit.page_knows_no_app, whose functions it uses).

NS8M_HELPER_SRC may point at another copy of helper/src (to check an older
tree).
"""

import os
import tempfile
import unittest

from test_page_knows_no_app import APPS, SOURCE, app_words, leaks

HELPER_SRC = os.environ.get("NS8M_HELPER_SRC", os.path.join(SOURCE, "helper", "src"))


class HelperKnowsNoApp(unittest.TestCase):
    def test_the_check_finds_a_name_in_code(self):
        words = {"demoapp": "id of demo.yaml", "demoapp-proxy": "companion image of demo.yaml"}
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "operations"))
            with open(os.path.join(d, "operations", "x.cpp"), "w", encoding="utf-8") as f:
                f.write('// ok\nrep.add(QStringLiteral("DemoApp-Proxy"));\n')
            self.assertEqual(leaks(d, words), [
                "operations/x.cpp:2: 'DemoApp-Proxy' (companion image of demo.yaml)"])

    def test_helper_source_names_no_app(self):
        self.assertTrue(os.path.isdir(HELPER_SRC), HELPER_SRC)
        found = leaks(HELPER_SRC, app_words(APPS))
        if found:
            self.fail("the helper's code names an app; take it from the app's profile instead "
                      "(fields:, ns8.companions, texts:, typical_size):\n" + "\n".join(found))


if __name__ == "__main__":
    unittest.main()
