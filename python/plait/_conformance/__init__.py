"""The cross-language conformance runner (`plait conformance`, docs/conformance.md).

cases.py reads the case files, expect.py decides whether an outcome meets a case,
adapters.py knows how to build and reach each language's adapter, runner.py runs every
caller x callee pair on a local cluster, report.py writes the matrix, HTML and JUnit XML.
"""
