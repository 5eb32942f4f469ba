"""The helper's source files (helper/src), as the lint tests read them."""

import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NS8M_SOURCE_DIR", os.path.join(HERE, ".."))


def helper_sources():
    """[(path relative to the source tree, text)] of every .cpp and .h of helper/src, sorted."""
    paths = sorted(glob.glob(os.path.join(SOURCE, "helper", "src", "**", "*.cpp"), recursive=True)
                   + glob.glob(os.path.join(SOURCE, "helper", "src", "**", "*.h"), recursive=True))
    files = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            files.append((os.path.relpath(path, SOURCE).replace(os.sep, "/"), f.read()))
    return files
