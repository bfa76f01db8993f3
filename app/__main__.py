"""Serve AstroML Explorer: ``python -m app [--port 5006] [--address 127.0.0.1] [--num-procs N]``.

Makes the demo data first if it is missing, then serves every page with Panel. Serving every interface
(``--address 0.0.0.0``) needs the origins browsers reach it by (``--allow-origin host[:port]`` or
``ASTROML_ALLOW_ORIGIN``); without them the server refuses to start rather than accept websockets from
any site. Behind a TLS-terminating proxy, ``--behind-proxy`` trusts its X-Forwarded-For/-Proto headers
(client addresses for the login rate limit, Secure cookies for https).
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import sys

TITLE = "AstroML Explorer"

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m app", description="Serve AstroML Explorer")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5006)))
    p.add_argument("--address", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    p.add_argument("--num-procs", type=int, default=1, help="server processes sharing the port")
    p.add_argument("--allow-origin", "--allow-websocket-origin", dest="allow_origin", action="append", default=None,
                   help="host[:port] that browsers open the app at (repeatable; ASTROML_ALLOW_ORIGIN, "
                        "comma-separated); required with --address 0.0.0.0; default: the address and port")
    p.add_argument("--behind-proxy", action="store_true", default=os.environ.get("ASTROML_BEHIND_PROXY") == "1",
                   help="trust X-Forwarded-For/X-Forwarded-Proto from a reverse proxy (ASTROML_BEHIND_PROXY=1)")
    p.add_argument("--data-root", help="folder whose files may be opened by path (ASTROML_DATA_ROOT)")
    p.add_argument("--max-upload-mb", type=float, help="largest upload (ASTROML_MAX_UPLOAD_MB)")
    p.add_argument("--show", action="store_true", help="open a browser tab")
    return p


def _warm_spectra(path) -> None:
    """Analyse the demo survey and its UMAP in the background now, so the first visitor need not wait; then
    keep what that loaded (the survey, the models) out of the garbage collector's way."""
    from astroml_core.tasks.spectra.store import warm

    warm(path).future.add_done_callback(lambda f: f.exception() is None and _freeze_long_lived())


def _freeze_long_lived() -> None:
    """Move what the server now holds for its whole life (modules, demo data, weights) out of the garbage
    collector's reach: Panel runs ``gc.collect()`` on the event loop after closed sessions, and a full
    pass over a heap of torch, astropy and a survey kept every visitor waiting ~0.3–0.5 s (5 ms after)."""
    gc.collect()
    gc.freeze()


_WILDCARD = ("0.0.0.0", "::", "", "[::]")


def _origins(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The websocket origins to allow: the ones given (a URL's scheme and path are dropped), else the
    loopback names for a loopback or named address; serving every interface without any is an error."""
    given = args.allow_origin or [o for o in os.environ.get("ASTROML_ALLOW_ORIGIN", "").split(",") if o.strip()]
    origins = [re.sub(r"^[a-z][a-z0-9+.-]*://", "", o.strip(), flags=re.I).split("/", 1)[0] for o in given]
    if origins:
        if "*" in origins:
            logging.getLogger("astroml").warning("--allow-origin '*': pages from any web site may open websockets")
        return origins
    if args.address in _WILDCARD:
        parser.error(f"--address {args.address or '(all)'} serves every network interface: name the host[:port] "
                     f"that browsers will open the app at with --allow-origin (or ASTROML_ALLOW_ORIGIN), e.g. "
                     f"--allow-origin astro.example.org:{args.port}")
    return [f"{args.address}:{args.port}", f"localhost:{args.port}", f"127.0.0.1:{args.port}"]


def main(argv: list[str] | None = None) -> int:
    """Parse options into the environment (so forked processes agree), make demo data, serve."""
    parser = _parser()
    args = parser.parse_args(argv)
    origins = _origins(parser, args)
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "astroml-numba"))
    if args.data_root:
        os.environ["ASTROML_DATA_ROOT"] = os.path.abspath(args.data_root)
    if args.max_upload_mb:
        os.environ["ASTROML_MAX_UPLOAD_MB"] = str(args.max_upload_mb)
    if args.address not in ("127.0.0.1", "localhost", "::1"):
        os.environ.setdefault("ASTROML_UPLOADS", "users")      # served to other machines: no guest uploads
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from astroml_core.config import settings
    from astroml_core.sim.blends import ensure_demo_blends
    from astroml_core.sim.hi import ensure_demo_cube
    from astroml_core.sim.lightcone import ensure_demo_lightcones
    from astroml_core.sim.spectra import ensure_demo_spectra

    cfg = settings()
    logging.getLogger("astroml").info("demo data in %s", cfg.demo_dir)
    ensure_demo_cube(cfg.demo_dir)
    ensure_demo_blends(cfg.demo_dir)
    ensure_demo_lightcones(cfg.demo_dir)
    _warm_spectra(ensure_demo_spectra(cfg.demo_dir, n=cfg.demo_spectra))

    import panel as pn

    from .components import socket_writes
    from .offloop import offloop_app
    from .shell import routes

    socket_writes.install()         # Panel ≤ 1.9.4 can leave a page's change unsent (see the module)
    # FilePond's scripts load with every page: the upload pages add their dropper only when Upload is chosen
    pn.extension("tabulator", "filedropper", notifications=False, design="bootstrap")
    from astroml_core.vetting import open_store

    from .auth import RestrictedComponentHandler, StoreAuthProvider, cookie_secret
    from .components.upload import websocket_max_message_bytes

    logging.getLogger("astroml").info("vetting store %s", open_store().public_url)  # migrated before forking
    open_store().dispose()
    _freeze_long_lived()
    apps = {path: offloop_app(page, TITLE) for path, page in routes().items()}   # pages built off the loop
    pn.serve(apps, port=args.port, address=args.address, show=args.show, num_procs=args.num_procs,
             websocket_origin=origins, threaded=False,
             websocket_max_message_size=websocket_max_message_bytes(), admin=False,
             auth_provider=StoreAuthProvider(), oauth_optional=True, cookie_secret=cookie_secret(cfg.data_root),
             use_xheaders=args.behind_proxy,
             extra_patterns=[(r"/components/(.*)", RestrictedComponentHandler, {})])
    return 0


if __name__ == "__main__":
    sys.exit(main())
