"""Java in a plait process: the JVM (hosted through JPype), the executor of Java workers,
and the runtime bridge Java code calls back through. See docs/cross-language.md.

Importing this package does not start a JVM; plait._java.jvm.start() does, once.
"""
