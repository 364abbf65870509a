"""`plait java`'s arguments: plait's options before the main class, the program's after
it, a plait option after it a clear error, and the help that says so (no process runs)."""

from __future__ import annotations

import argparse
import re

import pytest

from plait import _cli


@pytest.fixture
def java() -> argparse.ArgumentParser:
    return _cli.build_parsers()[1]


def parse(java: argparse.ArgumentParser, *argv: str) -> argparse.Namespace:
    return _cli.parse_java_args(java, list(argv))


def test_options_before_the_main_class_are_plaits(java: argparse.ArgumentParser) -> None:
    ns = parse(
        java, "--address", "10.0.0.1:6379", "--namespace", "ns1", "-cp", "a.jar:b", "Main", "x"
    )
    assert (ns.address, ns.namespace, ns.class_path) == ("10.0.0.1:6379", "ns1", "a.jar:b")
    assert (ns.main, ns.args) == ("Main", ["x"])
    # Every spelling of the class path, and the --opt=value form.
    for flag in ("-cp", "-classpath", "--class-path"):
        assert parse(java, flag, "app.jar", "Main").class_path == "app.jar"
    ns = parse(java, "--address=h:1", "--namespace=n", "Main")
    assert (ns.address, ns.namespace, ns.main, ns.args) == ("h:1", "n", "Main", [])
    assert ns.fn is _cli.cmd_java


def test_program_arguments_that_are_not_plaits_stay_the_programs(
    java: argparse.ArgumentParser,
) -> None:
    ns = parse(java, "-cp", "app.jar", "com.example.Main", "--verbose", "-x", "3", "file.txt")
    assert ns.main == "com.example.Main"
    assert ns.args == ["--verbose", "-x", "3", "file.txt"]
    assert ns.address is None  # nothing of the program's leaked into plait's options
    # The program's own help: what a user asking for Main's help means.
    assert parse(java, "Main", "--help").args == ["--help"]
    assert parse(java, "Main", "-h").args == ["-h"]


@pytest.mark.parametrize(
    "late",
    [
        ["--address", "h:1"],
        ["--address=h:1"],
        ["--namespace", "ns"],
        ["-cp", "x.jar"],
        ["-classpath", "x.jar"],
        ["--class-path=x.jar"],
    ],
)
def test_a_plait_option_after_the_main_class_is_an_error(
    java: argparse.ArgumentParser, late: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(java, "--address", "h:2", "Main", "arg", *late)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    name = late[0].split("=")[0]
    assert f"{name} is a plait java option but comes after the main class Main" in err
    assert "before the main class" in err
    assert f"Main -- {late[0]}" in err  # how to pass it to the program instead


def test_double_dash_after_the_main_class_hands_the_rest_to_the_program(
    java: argparse.ArgumentParser,
) -> None:
    ns = parse(java, "--address", "X", "Main", "--", "--address", "Y", "--", "-cp")
    assert (ns.address, ns.main) == ("X", "Main")
    assert ns.args == ["--address", "Y", "--", "-cp"]
    # A '--' among the program's arguments is the program's own: kept, and not checked past.
    ns = parse(java, "Main", "--verbose", "--", "--address", "Y")
    assert ns.args == ["--verbose", "--", "--address", "Y"]
    # '--' before the main class ends plait's options too.
    ns = parse(java, "--namespace", "n", "--", "Main", "a")
    assert (ns.namespace, ns.main, ns.args) == ("n", "Main", ["a"])


def test_bad_plait_arguments_fail_in_argparse(
    java: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        (): "the following arguments are required: MAIN_CLASS",
        ("-cp", "a.jar"): "the following arguments are required: MAIN_CLASS",
        ("--address",): "expected one argument",
        ("--verbose", "Main"): "unrecognized arguments: --verbose",
        # No abbreviations: --addr is not taken for --address.
        ("--addr", "h:1", "Main"): "unrecognized arguments: --addr",
    }
    for argv, message in cases.items():
        with pytest.raises(SystemExit) as exit_:
            parse(java, *argv)
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err, argv


def _usage(java: argparse.ArgumentParser) -> str:
    return " ".join(java.format_usage().split())  # one line, single spaces


def test_help_shows_every_option_before_the_main_class(
    java: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(java, "--help")
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    usage = _usage(java)
    assert " ".join(help_text.split()).startswith(usage)
    main_at = usage.index("MAIN_CLASS")
    options = [a for a in java._actions if a.option_strings]
    for action in options:
        shown = action.option_strings[0]
        assert shown in usage and usage.index(shown) < main_at, shown
        for spelling in action.option_strings:  # every spelling is in the help
            assert spelling in help_text, spelling
    assert usage.endswith("MAIN_CLASS [ARGS ...]")


def test_the_usage_lines_of_plait_help_match_the_parser(java: argparse.ArgumentParser) -> None:
    """`plait --help` lists each command's usage (the module docstring): java's line is
    the parser's own usage, without -h."""
    doc = _cli.__doc__ or ""
    line = next(x for x in doc.splitlines() if x.startswith("plait java "))
    parser_usage = re.sub(r"^usage: ", "", _usage(java)).replace(" [-h]", "")
    assert line == parser_usage
