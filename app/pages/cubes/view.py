"""The HI cube page's controls and layout: the widgets bound to the page's parameters, the player's buttons,
and where everything sits. The page (:mod:`.page`) wires the callbacks; nothing here holds state."""
from __future__ import annotations

from functools import partial

import panel as pn

from astroml_core.display import axis_labels, pixel_ticks, sky_ticks

from .cube_facts import beam_pixels, describe, repairs_html
from ...components.locking import with_document_lock
from ...components.safe_text import md_text, pre_text

__all__ = ["make_controls", "layout", "text_panes", "show_facts", "draw_ticks"]


def make_controls(page, player) -> dict:
    """The page's widgets by name, bound to its parameters, their clicks wired to the page and ``player``."""
    p, w = page.param, pn.widgets
    c = dict(
        view=w.RadioButtonGroup.from_param(p.view, color="primary", variant="outline", label="",
                                           css_classes=["view-choice"], width=340,
                                           stylesheets=[".bk-btn {padding: 6px 4px}"]),
        channel=w.IntSlider.from_param(p.channel, label="Channel", width=245, css_classes=["channel-slider"]),
        back=w.Button(label="◀", width=45, css_classes=["channel-back"], description="Previous channel"),
        play=w.Toggle(label="▶ Play", width=110, css_classes=["channel-play"], color="success"),
        forward=w.Button(label="▶", width=45, css_classes=["channel-forward"], description="Next channel"),
        speed=w.Select(options={"2 fps": 500, "5 fps": 200, "10 fps": 100}, value=200, width=90),
        moments=w.IntRangeSlider(label=p.moment_channels.label, start=0, end=1, value=(0, 1), width=330,
                                 visible=False, css_classes=["moment-range"]),
        stretch=w.Select.from_param(p.stretch, width=160, css_classes=["stretch-select"]),
        velocity=w.Select.from_param(p.velocity, width=160, css_classes=["velocity-select"]),
        moment_unit=w.Select.from_param(p.moment_unit, width=330, visible=False, css_classes=["moment-unit"]),
        limits=w.Select.from_param(p.limits, width=160, css_classes=["limits-select"]),
        cmap=w.Select.from_param(p.cmap, width=160),
        halfwidth=w.IntInput(label="± channels", value=20, start=1, width=90),
        around=w.Button(label="Moment 0 around this channel", width=230, css_classes=["map-around"],
                        description="Integrate the channels either side of the current one"),
        vmin=w.FloatInput.from_param(p.vmin, width=160, visible=False, css_classes=["vmin-input"]),
        vmax=w.FloatInput.from_param(p.vmax, width=160, visible=False, css_classes=["vmax-input"]),
    )
    # maps are slow on big cubes: recompute when the handle is released, not while dragging
    c["moments"].param.watch(lambda e: setattr(page, "moment_channels", e.new), "value_throttled")
    # button clicks can be processed outside the document lock: act on the next tick, locked
    c["around"].on_click(lambda e: with_document_lock(partial(page.map_around, c["halfwidth"].value)))
    c["back"].on_click(lambda e: with_document_lock(partial(page.step, -1)))
    c["forward"].on_click(lambda e: with_document_lock(partial(page.step, +1)))
    c["play"].param.watch(partial(_play, player, c), "value")
    c["speed"].param.watch(lambda e: player.restart(e.new), "value")
    return c


def _play(player, c: dict, event) -> None:
    """The Play toggle: start or stop the player, and say which it does next."""
    c["play"].label = "❚❚ Pause" if event.new else "▶ Play"
    if event.new:
        player.start(c["speed"].value)
    else:
        player.stop()


def layout(page, w: dict, image_pane) -> pn.Column:
    """Title and source on top, the controls beside the image and spectrum, the tools and detections below."""
    controls = pn.Column(
        w["view"], pn.Row(w["channel"], page.axis.channel_input, page.axis.keys),
        pn.Row(w["back"], w["play"], w["forward"], w["speed"]), pn.Row(w["around"], w["halfwidth"]), w["moments"],
        pn.Row(page.axis.chooser, w["velocity"]), w["moment_unit"],
        page.channel_label,
        pn.Row(w["stretch"], w["limits"]), pn.Row(w["vmin"], w["vmax"]), w["cmap"], page.limits_label,
        page.info, page.repairs, pn.Card(page.header_text, title="FITS header", collapsed=True, width=340,
                                         styles={"overflow": "auto"}),
        width=360, margin=(0, 10))
    plots = pn.Column(image_pane, page.readout, pn.pane.Bokeh(page.spectrum_view.fig, margin=(10, 0)), margin=0)
    return pn.Column(
        pn.Row(pn.Column(page.title, page.copy_link, width=380), page.source, margin=(0, 0, 5, 0)),
        page.banner,
        # side by side where both fit; in a narrower window (1280 px, lecturer mode) the image and its
        # colour bar go on top, whole, and the controls wrap below them
        pn.Row(controls, plots, styles={"flex-wrap": "wrap-reverse", "align-items": "start",
                                        "align-content": "start"}, sizing_mode="stretch_width"),
        page.tools,
        pn.Row(page.detections, max_width=1320),
        sizing_mode="stretch_width",
    )


def text_panes() -> dict:
    """The page's text panes: title, facts, header repairs, FITS header, channel and limits labels, readout."""
    return dict(
        title=pn.pane.Markdown("### No cube open", margin=(0, 10), css_classes=["page-title"]),
        info=pn.pane.Markdown("", css_classes=["cube-info"], styles={"font-size": "13px"}, margin=(0, 10)),
        repairs=pn.pane.HTML("", css_classes=["header-repairs"], visible=False, sizing_mode="stretch_width",
                             styles={"font-size": "12px", "background": "#fff8e1", "padding": "4px 8px"}),
        header_text=pn.pane.HTML("", styles={"font-size": "11px", "overflow": "auto"}, max_height=400,
                                 css_classes=["fits-header"], sizing_mode="stretch_width"),
        channel_label=pn.pane.HTML("", css_classes=["channel-label"], styles={"font-size": "14px"}, margin=(0, 10)),
        limits_label=pn.pane.HTML("", css_classes=["limits-label"], margin=(0, 10)),
        readout=pn.pane.HTML("Move the pointer over the image", css_classes=["pointer-readout"],
                             styles={"font-family": "monospace", "font-size": "13px"}, margin=(0, 10),
                             min_height=22),
    )


def show_facts(page, label: str, cube) -> None:
    """Title, facts, header repairs and FITS header of a newly opened cube."""
    page.title.object = f"### {md_text(label)}"
    page.info.object = describe(cube)
    page.repairs.param.update(object=repairs_html(cube), visible=bool(cube.repairs))
    page.header_text.object = pre_text(cube.header.tostring(sep="\n", endcard=False, padding=False))


def draw_ticks(image, cube, beam_channel: int | None) -> None:
    """Sky ticks (pixel ticks without a celestial WCS) and the beam for the visible part of ``image``."""
    x0, x1, y0, y1 = image.visible()
    wcs = cube.celestial
    if wcs is not None:
        xt, yt = sky_ticks(wcs, "x", x0, x1, y0), sky_ticks(wcs, "y", y0, y1, x0)
    else:
        xt, yt = pixel_ticks(x0, x1), pixel_ticks(y0, y1)
    image.set_axis_ticks(xt, yt, *axis_labels(wcs))
    image.set_beam(*beam_pixels(cube, beam_channel))
