"""The Python functions that bench/crosslang.py's Java driver calls (Java→Python rows).

bench/pyfns is on the Java driver's class path (`plait java -cp ...:bench/pyfns`), which
plait ships to the job's Python workers as a code search path entry.
"""


def echo(x):
    return x


class Echo:
    def echo(self, x):
        return x
