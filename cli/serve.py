"""`clipmill serve`: the run root over HTTP, read-only, so the dashboard's posters and clip links
open in a browser on a one-machine setup (clipmill/file_server.py says what it serves)."""
from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path
from typing import Optional

import typer

from clipmill.cli.console import fail


def serve(run_root: Optional[Path] = typer.Option(None, "--run-root",
                                                   help="[default: $CLIPMILL_RUN_ROOT or ./runs]"),
          host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface)"),
          port: int = typer.Option(8700, "--port", help="port to listen on")) -> None:
    """Serve the run root's published files (clips, posters, galleries, reports) read-only over
    HTTP. Set CLIPMILL_PUBLIC_URL to the address printed here (deployments/setup.sh does), and
    the dashboard's artifacts link to it."""
    import os

    from clipmill.file_server import make_server
    from clipmill.storage.config import RUN_ROOT_ENV

    root = Path(run_root or os.environ.get(RUN_ROOT_ENV) or "runs").expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        server = make_server(root, host, port)
    except OSError as error:  # port taken, address not here
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
    except ValueError as error:
        fail(str(error))
    # SIGTERM (a service manager, `kill` of a background job) stops it as cleanly as Ctrl-C: exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    typer.echo(f"serving {root} read-only at http://{shown}:{server.server_address[1]}/ "
               f"(CLIPMILL_PUBLIC_URL); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
