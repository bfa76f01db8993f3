"""The ``astroml`` command line: every task runs headless on a file, for batch work and scripts.

    astroml sim hi-cube --seed S -o CUBE.fits [--truth TRUTH.ecsv] [--small]
    astroml sim blends --seed S -o FIELD.fits [--truth TRUTH.ecsv] [--demo]
    astroml info FILE.fits [--as cube|image|spectra|lightcone]     (see cli_info.py)
    astroml hi detect CUBE.fits -o catalogue.ecsv [--method model|baseline] [--threshold P] [--regions out.reg]
    astroml deblend IMAGE.fits -o sources.ecsv [--masks masks.fits] [--regions sources.reg] [--method model|sep|photutils]
    astroml sim spectra --seed S -n N -o SPECTRA.fits [--unexpected FRACTION]
    astroml spectra classify SPECTRA.fits -o classes.ecsv
    astroml spectra embed SPECTRA.fits -o coords.ecsv [--method umap|tsne|vae|pca] [--reference REF.fits]
    astroml users add NAME [--role admin|vetter|viewer] [--password-stdin] [--db URL]
    astroml users remove NAME | users role NAME ROLE | users list
    astroml vetting list | vetting export CAMPAIGN_ID -o out.ecsv|.csv|.xml --as ADMIN
    astroml sim lightcone --seed S -o LC.fits | sim galaxies -o G.ecsv     (see cli_infer.py)
    astroml infer lightcone LC.fits -o posterior.ecsv | infer galaxy G.ecsv -o posterior.ecsv
    astroml serve [--port 5006] [--address 127.0.0.1] [--num-procs N]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from .cli_infer import add_infer_command, add_sim_commands
from .cli_info import add_info_command
from .errors import AstroMLError

__all__ = ["main"]


def _sim_hi_cube(args: argparse.Namespace) -> int:
    from .sim.hi import small_config, write_hi_cube

    truth = write_hi_cube(args.output, args.seed, args.truth, small_config() if args.small else None)
    print(f"wrote {args.output} with {len(truth)} sources" + (f"; truth in {args.truth}" if args.truth else ""))
    return 0


def _sim_blends(args: argparse.Namespace) -> int:
    from .sim.blends import demo_config, write_blend_field

    truth = write_blend_field(args.output, args.seed, args.truth, demo_config() if args.demo else None)
    print(f"wrote {args.output} with {len(truth)} galaxies" + (f"; truth in {args.truth}" if args.truth else ""))
    return 0


def _hi_detect(args: argparse.Namespace) -> int:
    from .data import open_cube
    from .tasks.hi import detect, write_catalogue

    cube = open_cube(args.cube)
    shown = [-1]

    def progress(fraction: float, message: str) -> None:
        step = int(fraction * 10)
        if step != shown[0]:
            shown[0] = step
            print(f"{fraction:4.0%} {message}", file=sys.stderr)

    table = detect(cube, args.method, threshold=args.threshold, progress=progress)
    kept = table[table["accepted"]]
    write_catalogue(kept, args.output)
    if args.regions:
        write_catalogue(kept, args.regions)
    for note in table.meta.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    print(f"{len(kept)} sources (reliability ≥ {table.meta['threshold']:.2f}, {args.method}) → {args.output}")
    return 0


def _deblend(args: argparse.Namespace) -> int:
    from .data import open_multiband
    from .tasks.deblend import deblend
    from .tasks.deblend.export import write_masks, write_regions, write_sources

    image = open_multiband(args.image)
    result = deblend(image, args.method)
    write_sources(image, result, args.output)
    if args.masks:
        write_masks(image, result, args.masks)
    if args.regions:
        write_regions(image, result, args.regions)
    extra = "".join(f"; {what} → {path}" for what, path in (("masks", args.masks), ("regions", args.regions)) if path)
    print(f"{len(result.catalogue)} sources ({args.method}) → {args.output}{extra}")
    for note in result.catalogue.meta.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    return 0


def _sim_spectra(args: argparse.Namespace) -> int:
    from .sim.spectra import write_simulated

    write_simulated(args.output, args.seed, args.n, unexpected=args.unexpected)
    print(f"wrote {args.n} spectra to {args.output}")
    return 0


def _spectra_classify(args: argparse.Namespace) -> int:
    from .data.tables import write_table
    from .data.spectra import open_spectra
    from .tasks.spectra import classify, selection_table
    from .tasks.spectra.survey import Survey

    spectra = open_spectra(args.spectra)
    result = classify(spectra)
    table = selection_table(Survey(spectra, result), np.arange(len(spectra)))
    table["disagreement"] = np.round(result.disagreement, 4)
    for i, name in enumerate(result.classes):
        table[f"p_{name}"] = np.round(result.probs[:, i], 4)
    write_table(table, args.output)
    counts = dict(zip(*np.unique(result.label, return_counts=True)))
    print(f"{len(table)} spectra → {args.output}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _spectra_embed(args: argparse.Namespace) -> int:
    from .data.tables import write_table
    from astropy.table import Table

    from .data.spectra import open_spectra
    from .tasks.spectra import add_embedding, analyse, place
    from .tasks.spectra.survey import binned_flux

    spectra = open_spectra(args.spectra)
    reference = open_spectra(args.reference) if args.reference else spectra
    ref = analyse(reference)
    emb = ref.embeddings.get(args.method) or add_embedding(ref, args.method)
    if args.reference:
        new = analyse(spectra) if args.method != "pca" else None
        coords = place(emb, features=new.result.features if new else None,
                       latent=new.result.latent if new else None,
                       binned=binned_flux(spectra) if args.method == "pca" else None)
    else:
        coords = emb.coords
    table = Table({"id": spectra.ids, emb.axes[0]: coords[:, 0], emb.axes[1]: coords[:, 1]})
    table.meta["comments"] = [f"{args.method} map" + (f", placed into the map of {args.reference}" if args.reference else "")]
    write_table(table, args.output)
    print(f"{len(table)} spectra → {args.output} ({args.method})")
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the two passwords differ")
    return first


def _users(args: argparse.Namespace) -> int:
    from .vetting import VettingStore
    from .config import settings

    store = VettingStore(args.db or settings().vetting_db)
    if args.action == "add":
        user = store.add_user(args.name, _password(args), args.role)
        print(f"added {user.name} ({user.role}) to {store.public_url}")
    elif args.action == "remove":
        store.remove_user(args.name)
        print(f"removed {args.name}: they can no longer log in; their votes stay")
    elif args.action == "role":
        user = store.set_role(args.name, args.role)
        print(f"{user.name} is now {user.role}")
    else:
        for user in store.users():
            print(f"{user.name}\t{user.role}")
    return 0


def _vetting(args: argparse.Namespace) -> int:
    from .config import settings
    from .vetting import VettingStore, write_campaign

    store = VettingStore(args.db or settings().vetting_db)
    if args.action == "list":
        for c in store.campaigns():
            print(f"{c.id}\t{c.name}\t{c.kind}\t{c.n_candidates} candidates\t{c.n_votes} votes")
        return 0
    path = write_campaign(store, args.campaign, args.output, getattr(args, "as"))
    print(f"campaign {args.campaign} → {path}")
    return 0


def _serve(rest: list[str]) -> int:
    """Become ``python -m app`` with the arguments ``rest`` (same process id, signals and exit status): the core
    imports nothing from the app, which sits above it. Returns only by raising OSError."""
    os.execv(sys.executable, [sys.executable, "-m", "app", *rest])
    return 0


def _add_truth_sim(sim, name: str, help: str, func, *, output: str, flag: tuple[str, str]) -> None:
    """A ``sim`` command that writes a field and, on request, its truth catalogue (``hi-cube``, ``blends``):
    they share --seed, -o and --truth and differ by one size switch (``flag``: its name and help)."""
    cmd = sim.add_parser(name, help=help)
    cmd.add_argument("--seed", type=int, required=True)
    cmd.add_argument("-o", "--output", type=Path, required=True, help=output)
    cmd.add_argument("--truth", type=Path, help="ECSV truth catalogue to write")
    cmd.add_argument(flag[0], action="store_true", help=flag[1])
    cmd.set_defaults(func=func)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``astroml`` command."""
    parser = argparse.ArgumentParser(prog="astroml", description="AstroML Explorer on the command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("sim", help="simulate data").add_subparsers(dest="kind", required=True)
    _add_truth_sim(sim, "hi-cube", "an SDC2-style HI cube and its truth catalogue", _sim_hi_cube,
                   output="FITS cube to write", flag=("--small", "64×64×96 instead of 256×256×512"))
    _add_truth_sim(sim, "blends", "a g, r, i, z field of blended galaxies (GalSim) and its truth", _sim_blends,
                   output="FITS file to write (one HDU per band)",
                   flag=("--demo", "a 256×256 field of ~24 groups instead of one 64×64 blend"))
    sp = sim.add_parser("spectra", help="SDSS-like spectra of the 13 classes (and unexpected kinds)")
    sp.add_argument("--seed", type=int, required=True)
    sp.add_argument("-n", type=int, default=1000, help="how many spectra")
    sp.add_argument("-o", "--output", type=Path, required=True, help="FITS table to write")
    sp.add_argument("--unexpected", type=float, default=0.0, help="fraction from the unexpected kinds (0–1)")
    sp.set_defaults(func=_sim_spectra)
    add_sim_commands(sim)
    add_info_command(sub)
    hi_cmd = sub.add_parser("hi", help="HI source finding").add_subparsers(dest="action", required=True)
    det = hi_cmd.add_parser("detect", help="find and characterise HI sources (SDC2 columns)")
    det.add_argument("cube", type=Path)
    det.add_argument("-o", "--output", type=Path, required=True, help=".ecsv, .csv, .vot/.xml or .reg")
    det.add_argument("--method", choices=("model", "baseline"), default="model")
    det.add_argument("--threshold", type=float, help="score cut (default: the model card's, 0.9 reliability)")
    det.add_argument("--regions", type=Path, help="also write DS9 regions here")
    det.set_defaults(func=_hi_detect)
    db = sub.add_parser("deblend", help="detect, segment and measure galaxies on a multi-band image")
    db.add_argument("image", type=Path, help="FITS: one HDU per band, a band-axis cube or one image")
    db.add_argument("-o", "--output", type=Path, required=True, help=".ecsv, .csv or .vot catalogue")
    db.add_argument("--masks", type=Path, help="also write the segmentation map (FITS) here")
    db.add_argument("--regions", type=Path, help="also write each mask's ellipse as DS9 regions here")
    db.add_argument("--method", choices=("model", "sep", "photutils"), default="model")
    db.set_defaults(func=_deblend)
    spec = sub.add_parser("spectra", help="classify and map spectra").add_subparsers(dest="action", required=True)
    cl = spec.add_parser("classify", help="class, probabilities, uncertainty and anomaly score per spectrum")
    cl.add_argument("spectra", type=Path, help="our spectra FITS table or an SDSS spec file")
    cl.add_argument("-o", "--output", type=Path, required=True, help=".ecsv, .csv or .vot")
    cl.set_defaults(func=_spectra_classify)
    em = spec.add_parser("embed", help="2-D coordinates of each spectrum in a UMAP / t-SNE / VAE / PCA map")
    em.add_argument("spectra", type=Path)
    em.add_argument("-o", "--output", type=Path, required=True, help=".ecsv, .csv or .vot")
    em.add_argument("--method", choices=("umap", "tsne", "vae", "pca"), default="umap")
    em.add_argument("--reference", type=Path, help="place the spectra into this set's map instead of making a new one")
    em.set_defaults(func=_spectra_embed)
    users = sub.add_parser("users", help="vetting accounts").add_subparsers(dest="action", required=True)
    for action, helptext in (("add", "create a user (password asked twice, or read from stdin)"),
                             ("remove", "deactivate a user (their votes stay)"),
                             ("role", "change a user's role"), ("list", "list active users")):
        p = users.add_parser(action, help=helptext)
        p.add_argument("--db", help="SQLAlchemy URL (default: ASTROML_VETTING_DB or data/vetting.sqlite)")
        if action != "list":
            p.add_argument("name")
        if action == "role":
            p.add_argument("role", choices=("admin", "vetter", "viewer"))
        if action == "add":
            p.add_argument("--role", choices=("admin", "vetter", "viewer"), default="vetter")
            p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        p.set_defaults(func=_users)
    vet = sub.add_parser("vetting", help="vetting campaigns").add_subparsers(dest="action", required=True)
    vl = vet.add_parser("list", help="campaigns with candidate and vote counts")
    vl.add_argument("--db")
    vl.set_defaults(func=_vetting)
    ve = vet.add_parser("export", help="consensus table with provenance (admins)")
    ve.add_argument("campaign", type=int)
    ve.add_argument("-o", "--output", type=Path, required=True, help=".ecsv, .csv or .xml (VOTable)")
    ve.add_argument("--as", required=True, help="an admin's user name")
    ve.add_argument("--db")
    ve.set_defaults(func=_vetting)
    add_infer_command(sub)
    serve = sub.add_parser("serve", help="serve the app (same options as python -m app)", add_help=False)
    serve.set_defaults(func=lambda args: _serve([]))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command. A typed error prints one line, ``error: <what was wrong and what to do>``, and exits
    with status 2; so does a file that cannot be written. Anything else is a bug: one line saying so and
    status 3 (``ASTROML_DEBUG=1`` shows the traceback instead)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:       # everything after it is the app's own options, --help included
        return _serve(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AstroMLError as exc:
        return _fail(str(exc), 2)
    except OSError as exc:
        where = f" {Path(exc.filename).name}" if getattr(exc, "filename", None) else ""
        return _fail(f"cannot read or write{where}: {exc.strerror or exc}; check the path and its permissions", 2)
    except Exception as exc:
        if os.environ.get("ASTROML_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {exc}) in `astroml {args.command}`; this is a bug: please "
                     "report it with the file (ASTROML_DEBUG=1 shows the traceback)", 3)


def _fail(message: str, status: int) -> int:
    """Print ``error: message`` on one line of stderr and return ``status``."""
    from .data.fitsfile import one_line

    print(f"error: {one_line(message, 1000)}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
