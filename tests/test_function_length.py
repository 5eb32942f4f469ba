"""No function in helper/src is longer than 80 lines (the D-Bus vtables
aside, which are tables, not code): a long function is where steps, checks
and callbacks pile up, and the operation runner exists so that they don't.

A function body is recognised the way the project formats it
(.clang-format): the opening brace alone on its line, at column 0 for a
free or member function defined outside its class, at column 4 for one
defined inside a struct or class, and the closing brace at the same column.
"""

import re
import unittest

from helper_sources import helper_sources
LIMIT = 80


def long_functions(text, limit=LIMIT):
    """[(first line of the signature, body lines)] for the bodies over LIMIT."""
    lines = text.split("\n")
    found = []
    i = 0
    while i < len(lines):
        m = re.match(r"^( {0,4})\{\s*$", lines[i])
        prev = lines[i - 1] if i > 0 else ""
        if m and not re.match(r"^\s*(namespace|struct|class|enum|union)\b", prev) \
                and not prev.rstrip().endswith(("=", ",")):
            indent = m.group(1)
            j = i + 1
            while j < len(lines) and not re.match("^" + indent + r"\}", lines[j]):
                j += 1
            if j - i - 1 > limit:
                k = i - 1
                while k > 0 and lines[k].startswith(" " * (len(indent) + 1)):
                    k -= 1
                found.append((k + 1, j - i - 1))
            i = j
        i += 1
    return found


class FunctionLength(unittest.TestCase):
    def test_the_check_sees_a_long_function(self):
        body = "\n".join("    x += %d;" % n for n in range(LIMIT + 1))
        self.assertEqual(long_functions("int f(int x)\n{\n" + body + "\n}\n"), [(1, LIMIT + 1)])
        self.assertEqual(long_functions("int f(int x)\n{\n" + "    x += 1;\n" * LIMIT + "}\n"), [])
        member = "struct S {\n    int f(int x)\n    {\n" + "\n".join("        x += 1;" for _ in range(LIMIT + 1)) + "\n    }\n};\n"
        self.assertEqual(long_functions(member), [(2, LIMIT + 1)])

    def test_no_function_in_the_helper_is_longer_than_80_lines(self):
        files = helper_sources()
        self.assertTrue(files)
        too_long = ["%s:%d: %d lines" % (rel, line, n) for rel, text in files for line, n in long_functions(text)]
        self.assertEqual(too_long, [], "functions longer than %d lines:\n%s" % (LIMIT, "\n".join(too_long)))


if __name__ == "__main__":
    unittest.main()
