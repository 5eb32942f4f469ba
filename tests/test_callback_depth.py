"""No callback in helper/src nests deeper than two (issue #12): a lambda
inside a lambda inside a lambda is where an asynchronous sequence has
become a pyramid, and step tables (Operation, DbDumper::runSteps) and named
member functions exist so that it does not.

A lambda is recognised by its introducer and the brace that opens its body:
`[captures](parameters) {` or `[captures] {` (with `mutable`, `noexcept` or
a trailing return type in between).  Its depth is the number of lambda
bodies it lies in, its own included: a lambda in a function is 1, a lambda
in that lambda is 2.  String and character literals and comments are blanked
out first (line breaks kept), so that what they say is not taken for code.
"""

import re
import unittest

from helper_sources import helper_sources
LIMIT = 2

_RAW_PREFIX = re.compile(r"(?<![\w])(?:u8|u|U|L)?R$")
_CHAR_PREFIX = re.compile(r"(?<![\w])(?:u8|u|U|L)$")


def strip_literals(text):
    """TEXT with comments and the insides of string and character literals
    replaced by spaces; line breaks and every other position kept."""
    out = list(text)
    n = len(text)
    i = 0

    def blank(start, end):
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end)
            i = end
        elif c == '"' and _RAW_PREFIX.search(text, 0, i):
            m = re.compile(r'"([^()\\\s]{0,16})\(').match(text, i)
            if not m:
                i += 1
                continue
            close = ")" + m.group(1) + '"'
            end = text.find(close, m.end())
            end = n if end < 0 else end + len(close)
            blank(i + 1, end - 1)
            i = end
        elif c == '"' or (c == "'" and (not text[i - 1:i].isalnum() or _CHAR_PREFIX.search(text, 0, i))):
            # A ' after a digit or a letter is a digit separator (1'000),
            # unless the letters are a character literal's prefix (u'x').
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _balanced(text, i, open_, close):
    """The index after the bracket that closes the one at I, or -1."""
    depth = 0
    while i < len(text):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


# What comes before a '[' that starts no lambda: a name, ')' or ']' (a[i],
# f()[i]), `auto` (structured bindings), `operator`; but a lambda may follow
# a keyword that ends an expression's left side (return [x] {...}).
_NOT_INTRODUCER_BEFORE = re.compile(r"(?<!\breturn)(?<!\bco_return)(?<!\bco_yield)(?<!\bthrow)(?<=[\w)\]])\s*$"
                                    r"|\bauto\s*&{0,2}\s*$")
_SPECIFIERS = re.compile(r"\s*(?:(?:mutable|constexpr|consteval|noexcept)\b\s*|->\s*[\w:<>,&*\s]+?\s*)*\{")


def lambda_bodies(code):
    """{position of the brace opening a lambda's body: position of its '['}
    in CODE (already stripped of literals and comments)."""
    bodies = {}
    for m in re.finditer(r"\[", code):
        i = m.start()
        if code.startswith("[[", i) or code[i - 1:i] == "[":  # [[attribute]]
            continue
        if _NOT_INTRODUCER_BEFORE.search(code, max(0, i - 40), i):
            continue
        j = _balanced(code, i, "[", "]")
        if j < 0:
            continue
        k = j
        while k < len(code) and code[k].isspace():
            k += 1
        if k < len(code) and code[k] == "(":
            k = _balanced(code, k, "(", ")")
            if k < 0:
                continue
        s = _SPECIFIERS.match(code, k)
        if s:
            bodies[s.end() - 1] = i
    return bodies


def deep_lambdas(text, limit=LIMIT):
    """[(line of the lambda's introducer, depth)] for the lambdas deeper than LIMIT."""
    code = strip_literals(text)
    bodies = lambda_bodies(code)
    found = []
    stack = []  # one bool per open brace: whether it opens a lambda's body
    for i, c in enumerate(code):
        if c == "{":
            is_lambda = i in bodies
            if is_lambda:
                depth = 1 + sum(stack)
                if depth > limit:
                    found.append((code.count("\n", 0, bodies[i]) + 1, depth))
            stack.append(is_lambda)
        elif c == "}" and stack:
            stack.pop()
    return found


class CallbackDepth(unittest.TestCase):
    TWO_DEEP = (
        "void f(Runner *r)\n"
        "{\n"
        "    r->run([r](const Result &a) {\n"
        "        r->then(a, [](int b) { use(b); });\n"
        "    });\n"
        "}\n"
    )
    THREE_DEEP = (
        "void f(Runner *r)\n"
        "{\n"
        "    r->run([r](const Result &a) {\n"
        "        return [r] {\n"
        "            r->last([](int c) mutable -> bool { return c > 0; });\n"
        "        };\n"
        "    });\n"
        "}\n"
    )

    def test_the_check_sees_a_three_deep_nesting(self):
        self.assertEqual(deep_lambdas(self.THREE_DEEP), [(5, 3)])
        self.assertEqual(deep_lambdas(self.THREE_DEEP, limit=3), [])

    def test_the_check_accepts_two_deep(self):
        self.assertEqual(deep_lambdas(self.TWO_DEEP), [])
        self.assertEqual(deep_lambdas(self.TWO_DEEP, limit=1), [(4, 2)])

    def test_literals_comments_and_brackets_that_are_no_lambdas(self):
        text = (
            "void f(QList<int> a)\n"
            "{\n"
            "    run([a] {\n"
            "        then([] {\n"
            "            const char *s = \"[x] { [y] { \\\" [z] {\";\n"
            "            QChar q = u'[', r = '{';\n"
            "            int n = 1'000 + a[0];\n"
            "            // [c] { [d] {\n"
            "            /* [e](int) {\n"
            "               [f] { */\n"
            "            auto [k, v] = pair();\n"
            "            const auto &[x, y] = pair();\n"
            "            const QString raw = QStringLiteral(R\"x([g] { \"[h] {\" )x\");\n"
            "            if (a[n] > 0) { [[maybe_unused]] int z = n; }\n"
            "        });\n"
            "    });\n"
            "}\n"
        )
        self.assertEqual(deep_lambdas(text), [])
        self.assertEqual(strip_literals(text).count("\n"), text.count("\n"))
        self.assertEqual(deep_lambdas(text.replace("int z = n;", "call([] {});")), [(14, 3)])

    def test_no_callback_in_the_helper_nests_deeper_than_two(self):
        files = helper_sources()
        self.assertTrue(files)
        too_deep = ["%s:%d: lambda nested %d deep" % (rel, line, depth)
                    for rel, text in files for line, depth in deep_lambdas(text)]
        self.assertEqual(too_deep, [], "callbacks nested deeper than %d:\n%s" % (LIMIT, "\n".join(too_deep)))


if __name__ == "__main__":
    unittest.main()
