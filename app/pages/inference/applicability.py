"""The posteriors' applicability checks on the inference page: a warning box just above the corner plot when the
lightcone is unlike what the model was trained and calibrated on (``meta["in_distribution"]`` False; the galaxies
tab has its own box above the Ω_m figure, fed the galaxies' check the same way),
and a quiet line for the status when it is like it. Every string of the check may come from a file, so each
is escaped; a posterior whose meta lacks the check's keys counts as in distribution and says nothing."""
from __future__ import annotations

import panel as pn

from ...components.safe_text import html_text, md_text

__all__ = ["ApplicabilityBox", "off_distribution", "status_line", "warning_markdown", "HEADING"]

HEADING = "Off-distribution: this posterior is not to be trusted as it stands"


def off_distribution(meta: dict | None) -> bool:
    """Whether the posterior's check flagged its lightcone (a missing key: not flagged)."""
    return not bool((meta or {}).get("in_distribution", True))


def _number(value) -> str:
    try:
        return format(float(value), ".3g")
    except (TypeError, ValueError):
        return str(value)


def _score_text(check: dict, flagged: bool) -> str:
    return (f"strangeness score {_number(check.get('score'))} {'>' if flagged else '≤'} threshold "
            f"{_number(check.get('threshold'))}")


def warning_markdown(meta: dict) -> str:
    """The warning box's Markdown for a flagged posterior: heading, message, how the intervals were widened,
    and the score against its threshold (every value escaped)."""
    check = meta.get("applicability") or {}
    parts = [f"**⚠ {HEADING}**"]
    if check.get("message"):
        parts.append(md_text(check["message"]))
    if check.get("rule"):
        rule = str(check["rule"]).strip().rstrip(".")
        parts.append(md_text(rule[:1].upper() + rule[1:] + "."))
    facts = md_text(_score_text(check, True).capitalize())
    if check.get("nearest"):
        facts += f"; nearest set: {md_text(check['nearest'])}"
    if check.get("domain"):
        facts += f"; the posterior is mostly that of: {md_text(check['domain'])}"
    parts.append(facts + ".")
    return "\n\n".join(parts)


def status_line(meta: dict | None) -> str:
    """One HTML line for the page's status: a pointer to the warning when flagged, a quiet "in distribution
    (score ≤ threshold)" when the check ran and passed, nothing when the posterior carries no check."""
    meta = meta or {}
    check = meta.get("applicability")
    if off_distribution(meta):
        return "<b>⚠ Off-distribution lightcone: see the warning above the corner plot</b>"
    if "in_distribution" in meta and isinstance(check, dict):
        domain = f"domain: {check['domain']}; " if check.get("domain") else ""
        return f"<span style='color:#555'>In distribution ({html_text(domain + _score_text(check, False))})</span>"
    return ""


class ApplicabilityBox(pn.viewable.Viewer):
    """A warning alert that is hidden until a posterior's check flags its lightcone."""

    def __init__(self, max_width: int = 880, **params) -> None:
        super().__init__(**params)
        self._alert = pn.pane.Alert("", alert_type="warning", visible=False, max_width=max_width,
                                    sizing_mode="stretch_width", margin=(8, 10), css_classes=["applicability-warning"],
                                    styles={"font-size": "13px"})

    def show(self, meta: dict | None) -> None:
        """Show the warning for ``meta`` (the posterior table's meta), or hide it when not flagged."""
        flagged = off_distribution(meta)
        self._alert.param.update(object=warning_markdown(meta) if flagged else "", visible=flagged)

    def clear(self) -> None:
        """Hide the warning (another lightcone is being read)."""
        self._alert.param.update(object="", visible=False)

    @property
    def text(self) -> str:
        return self._alert.object if self._alert.visible else ""

    def __panel__(self):
        return self._alert
