"""Which executor a worker of each language runs (C++ and Java load lazily)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import cast

from plait._core.language import LanguageExecutor

# language -> (module, class); imported only in workers of that language, since the
# Java side starts a JVM and the C++ side loads the native runtime.
_EXECUTORS = {
    "cpp": ("plait._cpp.executor", "CppExecutor"),
    "java": ("plait._java.executor", "JavaExecutor"),
}


def make_language_executor(
    language: str, code_search_path: Sequence[str]
) -> LanguageExecutor | None:
    """None for Python workers; otherwise the executor hosting the job's C++/Java code."""
    if language == "python":
        return None
    if language not in _EXECUTORS:
        raise ValueError(f"unknown worker language {language!r} (expected python, cpp or java)")
    module, cls_name = _EXECUTORS[language]
    cls = getattr(importlib.import_module(module), cls_name)
    return cast(LanguageExecutor, cls.for_code_search_path(list(code_search_path)))
