"""`python -m plait._services.gcs`: run the GCS process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from plait._services.gcs.node_table import DEFAULT_NODE_TIMEOUT_S
from plait._services.gcs.server import serve
from plait._services.gcs.storage import MEMORY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plait._services.gcs", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--storage",
        default=MEMORY,
        help="SQLite file holding the GCS state (default: in memory, not persisted)",
    )
    parser.add_argument(
        "--node-timeout-s",
        type=float,
        default=DEFAULT_NODE_TIMEOUT_S,
        help="a node silent this long is declared dead",
    )
    parser.add_argument("--ready-file", default=None, help="written with the port once listening")
    ns = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if ns.storage == MEMORY:
        logging.getLogger("plait._services.gcs").warning("no --storage: GCS state is not persisted")
    asyncio.run(serve(ns.host, ns.port, ns.storage, ns.node_timeout_s, ns.ready_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
