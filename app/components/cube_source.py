"""Where a cube or image comes from: the built-in demo, an upload, or a path under the server's data root.

The chooser only turns a user action into a local file path (or a typed error); the page opens it.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

import panel as pn

from astroml_core.config import settings
from astroml_core.data import list_fits, resolve_under_root
from astroml_core.data.shown_paths import forget_upload, register_upload
from astroml_core.errors import InvalidFITSError

from ..auth import current_user
from .locking import with_document_lock
from .upload import StreamingFileDropper, session_quota, upload_quota_bytes, uploads_need_login

__all__ = ["CubeSource"]


def _example_path(demos: list[str], cfg) -> str:
    """This page's first demo file as a path under the data root (the path box's placeholder)."""
    try:
        return f"e.g. {(Path(cfg.demo_dir).resolve().relative_to(Path(cfg.data_root).resolve()) / demos[0]).as_posix()}"
    except (IndexError, ValueError):
        return "a FITS file under the data root"


class CubeSource(pn.viewable.Viewer):
    """Three choices (Demo, Upload, Server path) that call ``on_path(path, label)`` or ``on_error(exc)``;
    with ``on_paths``, several files dropped at once go to ``on_paths(paths, label)`` together.

    ``demo_prefix`` picks this page's demo files from the demo folder; ``noun`` names what is opened.
    """

    def __init__(self, *, on_path: Callable[[Path, str], None], on_error: Callable[[BaseException], None],
                 demo_prefix: str = "hi_", noun: str = "cube",
                 on_paths: Callable[[list[Path], str], None] | None = None, **params) -> None:
        super().__init__(**params)
        self._on_path, self._on_error, self._on_paths = on_path, on_error, on_paths
        self._noun = noun
        cfg = settings()
        self._cfg = cfg
        self._uploads: list[Path] = []
        demos = [p for p in list_fits(cfg.demo_dir) if Path(p).name.startswith(demo_prefix)]
        self.demo_select = pn.widgets.Select(label=f"Demo {noun}", options=demos, value=demos[0] if demos else None,
                                             width=260)
        self.demo_button = pn.widgets.Button(label="Open demo", color="primary", width=120,
                                             css_classes=["open-demo"])
        self.demo_button.on_click(lambda e: with_document_lock(self.open_demo))      # clicks may arrive unlocked
        # uploads stream to disk, limited on the server (per file and per session); guests may be refused
        self._can_upload = not uploads_need_login() or current_user() is not None
        self.dropper = StreamingFileDropper(
            folder=cfg.upload_dir, max_bytes=cfg.max_upload_bytes,
            quota=session_quota(upload_quota_bytes(cfg.max_upload_bytes)),
            on_files=self._uploaded, on_error=on_error, allowed=lambda: self._can_upload,
            accepted_filetypes=[".fits", ".fit", ".fts", ".fz", ".gz", "application/fits"],
            multiple=on_paths is not None, width=260, height=110, layout="compact",
            disabled=not self._can_upload, css_classes=["cube-upload"])
        self.path_input = pn.widgets.AutocompleteInput(
            label="Path under the data root", options=list_fits(cfg.data_root, private=cfg.private_dirs),
            restrict=False, min_characters=1, case_sensitive=False, search_strategy="includes",
            placeholder=_example_path(demos, cfg), width=260, css_classes=["cube-path"])
        self.path_button = pn.widgets.Button(label="Open path", color="primary", width=120,
                                             css_classes=["open-path"])
        self.path_button.on_click(lambda e: with_document_lock(
            partial(self.open_path, self.path_input.value_input or self.path_input.value)))
        self._panes = self._choice_panes()
        self.choice = pn.widgets.RadioButtonGroup(options=list(self._panes), value="Demo", color="default",
                                                  css_classes=["source-choice"], margin=(5, 10))
        self.choice.param.watch(lambda e: self._show_choice(e.new), "value")
        self._show_choice("Demo")
        if pn.state.curdoc is not None:
            pn.state.on_session_destroyed(lambda ctx: self._forget_uploads())

    def open_demo(self) -> None:
        if not self.demo_select.value:
            self._on_error(InvalidFITSError(f"no demo {self._noun} found; `make serve` makes the demo data"))
            return
        self.choice.value = "Demo"
        self._on_path(self._cfg.demo_dir / self.demo_select.value, f"demo: {self.demo_select.value}")

    def open_path(self, text: str) -> None:
        try:
            path = resolve_under_root(text or "", self._cfg.data_root, private=self._cfg.private_dirs)
        except Exception as exc:  # typed PathNotAllowedError; shown by the page
            self._on_error(exc)
            return
        shown = str(path.relative_to(self._cfg.data_root))
        self.path_input.value = shown         # the chooser says where the open file came from, not the demo's name
        self.choice.value = "Server path"
        self._on_path(path, shown)

    def _uploaded(self, files: list[tuple[Path, str]]) -> None:
        """Open the files the dropper has written (``(path, name as sent)``; the name is only a label)."""
        for path, name in files:              # messages and exports name the file as its sender did
            register_upload(path, name)
        self._uploads.extend(path for path, _ in files)
        self.choice.value = "Upload"
        if self._on_paths is not None and len(files) > 1:       # several files dropped together: one set
            self._on_paths([p for p, _ in files], f"upload: {len(files)} files")
            return
        for path, name in files:
            self._on_path(path, f"upload: {name}")

    def keep_until_session_ends(self, path: Path) -> None:
        """Delete ``path`` with this session's uploads (a file made from them)."""
        self._uploads.append(path)

    def _forget_uploads(self) -> None:
        """Delete this session's uploaded files when the session ends."""
        for path in self._uploads:
            path.unlink(missing_ok=True)
            forget_upload(path)

    def _choice_panes(self) -> dict:
        """The Demo, Upload and Server path rows, one shown at a time."""
        limit = self._cfg.max_upload_bytes / 2**20
        return {
            "Demo": pn.Row(self.demo_select, pn.Column(pn.Spacer(height=18), self.demo_button)),
            "Upload": pn.Column(pn.pane.Markdown(
                f"FITS {self._noun} up to {limit:,.0f} MB. Bigger files: put them under the data root and "
                "open them by path." if self._can_upload else
                "**Log in to upload** ([log in](./login)); guests can open the demo and files under the data "
                "root by path.", styles={"font-size": "12px"}, width=380, margin=(0, 10),
                css_classes=["upload-note"])),
            "Server path": pn.Row(self.path_input, pn.Column(pn.Spacer(height=18), self.path_button)),
        }

    def _show_choice(self, name: str) -> None:
        """Show the row of the chosen way in; hide the others. The file dropper joins the page the first time
        Upload is chosen: FilePond reads the page's layout on every animation frame while it is there (a few
        ms of each channel step), which a user who never uploads should not pay."""
        upload = self._panes["Upload"]
        if name == "Upload" and self.dropper not in upload.objects:
            upload.insert(0, self.dropper)
        for key, pane in self._panes.items():
            pane.visible = key == name

    def __panel__(self):
        article = "an" if self._noun[0] in "aeiou" else "a"
        heading = pn.pane.HTML(f"<b>Open {article} {self._noun}</b>", margin=(12, 5, 5, 10))
        return pn.Column(pn.Row(heading, self.choice),
                         *self._panes.values(), css_classes=["cube-source"], margin=(0, 5))
