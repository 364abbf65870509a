"""Java in a plait process: the JVM (hosted through JPype), the executor of Java workers,
and the runtime bridge Java code calls back through. See docs/cross-language.md.

Importing this package does not start a JVM; plait._java.jvm.start() does, once.
"""

from __future__ import annotations

import importlib.util

JPYPE_MISSING = (
    "plait's Java support needs JPype1, which is not installed: pip install 'plait[java]' "
    "(and a JDK 17+ on the machine)"
)

# JPype1 is the optional `plait[java]` extra: plait imports and runs Python and C++
# without it, and any use of Java (this package) fails here saying what to install.
if importlib.util.find_spec("jpype") is None:
    raise ModuleNotFoundError(JPYPE_MISSING, name="jpype")
