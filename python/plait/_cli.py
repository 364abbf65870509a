"""The `plait` command: start/stop nodes by hand, show cluster status.

plait start --head [--port 6379] [--num-cpus N] [--num-gpus N] [--resources JSON]
plait start --address HOST:PORT [--num-cpus N] ...
plait status [--address HOST:PORT]
plait stop
plait java [-cp CLASSPATH] [--address ADDR] [--namespace NS] MAIN_CLASS [ARGS ...]
plait conformance [--filter SUBSTR] [--languages python,cpp,java] [--suite DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import plait
from plait._protocol import gcs_pb2
from plait._services.node import CLUSTER_FILE, PLAIT_TMP, start_head, start_worker_node
from plait._transport.channels import sync_channel
from plait._transport.clients import GcsSyncClient

NODES_DIR = PLAIT_TMP / "nodes"


def _record(procs: list[int], info: dict[str, object]) -> None:
    NODES_DIR.mkdir(parents=True, exist_ok=True)
    for pid in procs:
        (NODES_DIR / f"{pid}.json").write_text(json.dumps(info))


def _resources(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    try:
        res = json.loads(text)
    except json.JSONDecodeError as e:
        raise SystemExit(
            f"--resources must be a JSON object, e.g. '{{\"custom\": 2}}': {e}"
        ) from None
    if not isinstance(res, dict):
        raise SystemExit("--resources must be a JSON object, e.g. '{\"custom\": 2}'")
    return {str(k): float(v) for k, v in res.items()}


def cmd_start(ns: argparse.Namespace) -> int:
    res = _resources(ns.resources)
    if ns.head:
        node = start_head(
            num_cpus=ns.num_cpus,
            num_gpus=ns.num_gpus,
            resources=res,
            object_store_memory=ns.object_store_memory,
            host=ns.node_ip_address,
            gcs_port=ns.port,
            tie_to_parent=False,
            inherit_output=False,
        )
        CLUSTER_FILE.parent.mkdir(parents=True, exist_ok=True)
        CLUSTER_FILE.write_text(
            json.dumps({"gcs_address": node.gcs_address, "session_dir": node.session_dir})
        )
        _record([p.pid for p in node.procs], {"role": "head", "gcs": node.gcs_address})
        print(f"plait head started. GCS address: {node.gcs_address}")
        print(f"  node {node.node_id}, raylet {node.raylet_address}")
        print(f"To add a node:     plait start --address {node.gcs_address}")
        print(f"To connect:        plait.init(address='{node.gcs_address}')")
        print("To stop:           plait stop")
        return 0
    if not ns.address:
        print("error: plait start needs --head or --address HOST:PORT", file=sys.stderr)
        return 2
    node = start_worker_node(
        ns.address,
        node_ip=ns.node_ip_address,
        num_cpus=ns.num_cpus,
        num_gpus=ns.num_gpus,
        resources=res,
        object_store_memory=ns.object_store_memory,
        tie_to_parent=False,
        inherit_output=False,
    )
    _record([p.pid for p in node.procs], {"role": "worker", "gcs": ns.address})
    print(f"plait node {node.node_id} joined {ns.address}; raylet {node.raylet_address}")
    return 0


def cmd_stop(ns: argparse.Namespace) -> int:
    if not NODES_DIR.exists():
        print("no plait processes were started here")
        return 0
    pids = []
    for f in NODES_DIR.glob("*.json"):
        pids.append(int(f.stem))
        f.unlink()
    # Raylets before the GCS: each raylet then stops its own workers.
    for pid in sorted(pids, reverse=True):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + ns.timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        time.sleep(0.1)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    CLUSTER_FILE.unlink(missing_ok=True)
    print(f"stopped {len(pids)} plait process(es)")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def cmd_status(ns: argparse.Namespace) -> int:
    address = ns.address
    if not address:
        if not CLUSTER_FILE.exists():
            print("no running plait cluster found; pass --address HOST:PORT", file=sys.stderr)
            return 1
        address = json.loads(CLUSTER_FILE.read_text())["gcs_address"]
    with sync_channel(address) as ch:
        try:
            nodes = GcsSyncClient(ch).GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=10).nodes
        except Exception as e:
            print(f"could not reach the GCS at {address}: {e}", file=sys.stderr)
            return 1
    print(f"plait cluster at {address}")
    total: dict[str, float] = {}
    avail: dict[str, float] = {}
    alive = [n for n in nodes if n.alive]
    print(f"Nodes: {len(alive)} alive, {len(nodes) - len(alive)} dead")
    for n in nodes:
        role = "head" if n.is_head else "worker"
        state = "ALIVE" if n.alive else "DEAD"
        print(f"  {n.node_id}  {n.ip}:{n.raylet_port}  {role}  {state}")
        if n.alive:
            for k, v in n.total_resources.items():
                total[k] = total.get(k, 0.0) + v
            for k, v in n.available_resources.items():
                avail[k] = avail.get(k, 0.0) + v
    print("Resources (used / total):")
    for k in sorted(total):
        if k.startswith("node:"):
            continue
        used = total[k] - avail.get(k, 0.0)
        print(f"  {k}: {used:g} / {total[k]:g}")
    return 0


def cmd_java(ns: argparse.Namespace) -> int:
    """Run a Java program's main() as a plait driver (connecting, or starting a cluster)."""
    # Only this command runs a driver and needs JPype: `plait start` and `plait status`
    # start without loading the API or the Java bridge.
    import plait  # noqa: PLC0415
    from plait._core.context import current_core_worker  # noqa: PLC0415
    from plait._java.driver import run_main  # noqa: PLC0415

    class_path = [p for p in (ns.class_path or "").split(os.pathsep) if p]
    missing = [p for p in class_path if not os.path.exists(p)]
    if missing:
        print(f"plait java: class path entries not found: {missing}", file=sys.stderr)
        return 2
    plait.init(address=ns.address, namespace=ns.namespace, code_search_path=class_path)
    try:
        return run_main(ns.main, ns.args, class_path, current_core_worker().host_api())
    finally:
        plait.shutdown()


# After the main class these reach the program: `plait java Main --help` is Main's help.
_PROGRAM_OWNS = ("-h", "--help")


def _add_java_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    sj = sub.add_parser(
        "java",
        help="run a Java main class as a plait driver",
        description="Run MAIN_CLASS's main(String[]) as a plait driver, connected to the "
        "cluster at --address or to a new local one. plait's options come before "
        "MAIN_CLASS; everything after it is the program's arguments. A plait option "
        "after MAIN_CLASS is an error; to pass one to the program, put '--' right after "
        "MAIN_CLASS: plait java --address X Main -- --address Y.",
        # An abbreviation (--addr) would be plait's option or the program's by luck.
        allow_abbrev=False,
    )
    sj.add_argument(
        "-cp",
        "-classpath",
        "--class-path",
        dest="class_path",
        metavar="CLASSPATH",
        default="",
        help="the job's code search path, separated by ':': jars and class directories "
        "(the JVM's class path), directories of Python modules and of C++ libraries; "
        "shipped to the workers",
    )
    sj.add_argument(
        "--address",
        metavar="ADDR",
        help="cluster to join: HOST:PORT, or 'auto' for the one 'plait start' started "
        "(default: $PLAIT_ADDRESS or $RAY_ADDRESS, else a new local cluster)",
    )
    sj.add_argument(
        "--namespace",
        metavar="NS",
        help="the job's namespace, where Plait.getActor(name) looks (default: an anonymous one)",
    )
    sj.add_argument("main", metavar="MAIN_CLASS", help="the class whose main(String[]) to run")
    sj.add_argument("args", metavar="ARGS", nargs="*", help="arguments for main")
    sj.set_defaults(fn=cmd_java)
    return sj


def _split_at_main_class(
    parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[list[str], str | None, list[str]]:
    """(plait's options, the main class or None, what follows it): the main class is the
    first word that is neither an option nor an option's value (or the word after '--')."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            main_class = argv[i + 1] if i + 1 < len(argv) else None
            return argv[:i], main_class, argv[i + 2 :]
        if not token.startswith("-") or token == "-":
            return argv[:i], token, argv[i + 1 :]
        action = parser._option_string_actions.get(token)
        i += 2 if action is not None and action.nargs != 0 else 1
    return argv, None, []


def parse_java_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """`plait java`'s arguments: plait's options, the main class, then the program's
    arguments untouched. A plait option among those is an error (it would reach the
    program and leave plait at its default, e.g. start a new local cluster), unless '--'
    right after the main class hands the rest to the program as is."""
    plait_part, main_class, rest = _split_at_main_class(parser, argv)
    # argparse checks plait's part: unknown options, missing values, no main class, -h.
    ns = parser.parse_args([*plait_part, *([main_class] if main_class is not None else [])])
    if rest[:1] == ["--"]:
        ns.args = rest[1:]
        return ns
    for token in rest:
        if token == "--":  # the program's own end of options: what follows is its business
            break
        name = token.split("=", 1)[0]
        if name in parser._option_string_actions and name not in _PROGRAM_OWNS:
            parser.error(
                f"{name} is a plait java option but comes after the main class "
                f"{main_class}, where it would be passed to the program. Put plait's "
                f"options before the main class, or put '--' right after the main class "
                f"to pass {name} to the program: plait java ... {main_class} -- {token} ..."
            )
    ns.args = rest
    return ns


def cmd_conformance(ns: argparse.Namespace) -> int:
    """Run the cross-language conformance suite (docs/conformance.md)."""
    from plait._conformance.main import run_and_report  # noqa: PLC0415 (only this command runs the suite)

    return run_and_report(
        suite=ns.suite,
        name_filter=ns.filter,
        languages=[x for x in ns.languages.split(",") if x],
        report_dir=ns.report_dir,
        address=ns.address,
    )


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """plait's parser and its java subcommand's."""
    p = argparse.ArgumentParser(
        prog="plait", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--version", action="version", version=f"plait {plait.__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="start a head node or join a cluster")
    s.add_argument("--head", action="store_true")
    s.add_argument("--address", help="GCS address HOST:PORT of the cluster to join")
    s.add_argument("--port", type=int, default=6379, help="GCS port for --head (0: any)")
    s.add_argument("--node-ip-address", default="127.0.0.1")
    s.add_argument("--num-cpus", type=float)
    s.add_argument("--num-gpus", type=float)
    s.add_argument("--resources", help="custom resources as JSON, e.g. '{\"custom\": 2}'")
    s.add_argument("--object-store-memory", type=int)
    s.set_defaults(fn=cmd_start)
    st = sub.add_parser("stop", help="stop the plait processes started by 'plait start'")
    st.add_argument("--timeout", type=float, default=10.0)
    st.set_defaults(fn=cmd_stop)
    java = _add_java_parser(sub)
    sc = sub.add_parser("conformance", help="run the cross-language conformance suite")
    sc.add_argument("--filter", help="only cases whose id (group/name) contains this")
    sc.add_argument(
        "--languages",
        default="python,cpp,java",
        help="comma-separated adapters to run (default: all)",
    )
    sc.add_argument("--suite", help="the conformance-tests directory (default: the checkout's)")
    sc.add_argument(
        "--report-dir", help="where report.html and report.xml go (default: the suite directory)"
    )
    sc.add_argument("--address", help="run on this cluster (default: a new local one)")
    sc.set_defaults(fn=cmd_conformance)
    ss = sub.add_parser("status", help="show nodes and resources")
    ss.add_argument("--address")
    ss.set_defaults(fn=cmd_status)
    return p, java


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    p, java = build_parsers()
    if args[:1] == ["java"]:
        # plait's options end at the main class: the program's own go through unparsed.
        ns = parse_java_args(java, args[1:])
    else:
        ns = p.parse_args(args)
    rc: int = ns.fn(ns)
    return rc


if __name__ == "__main__":
    sys.exit(main())
