"""The vetting page's texts as HTML fragments, built from the store's records with every stored string
escaped (names, labels and comments come from other users)."""
from __future__ import annotations

from astroml_core.vetting import CampaignInfo, CandidateInfo, CommentInfo, UserInfo, VoteInfo

from ...components.safe_text import html_text, md_text
from .state import Snapshot

__all__ = ["NO_CAMPAIGN", "DONE", "STILL_SAVING", "COMMENT_SAVED", "who_html", "keys_help", "campaign_html", "candidate_title",
           "candidate_html", "progress_html", "consensus_html", "thread_html", "reply_options", "saving_html",
           "saved_vote_html", "unsaved_vote_html", "unsaved_comment_html", "busy_html"]

NO_CAMPAIGN = ("### No campaign yet\nAn admin creates one with **Send to vetting** on the spectra page (log in "
               "first; `astroml users add NAME --role admin` makes an admin).")
DONE = "### You have voted on every candidate of this campaign. Thank you!"
STILL_SAVING = "<span class='vet-wait'>Still saving the last vote or comment…</span>"
COMMENT_SAVED = "<span class='vet-saved'>Comment saved</span>"
_NOT_SAVED = "<span class='vet-not-saved' style='color:#a00'>Not saved: the database stayed busy; "


def who_html(user: UserInfo | None) -> str:
    """Who is logged in and what they may do, with a log-in or log-out link."""
    if user is None:
        return ("Viewing as a guest: <a href='./login?next=./vetting' class='vet-login'>log in</a> to vote "
                "and comment.")
    rights = "may vote and comment" if user.can_vote else "read-only (a viewer)"
    return (f"Logged in as <b class='vet-username'>{html_text(user.name)}</b> ({html_text(user.role)}, "
            f"{rights}) · <a href='./logout'>log out</a>")


def keys_help(can_vote: bool) -> str:
    """The keyboard shortcuts, or why there are none."""
    return ("Keys: <b>1–9</b> vote that label · <b>y</b> agree with the model · <b>n</b> or → skip · <b>b</b> "
            "or ← back · <b>c</b> comment" if can_vote else "Voting needs a vetter or admin account.")


def campaign_html(info: CampaignInfo) -> str:
    """The campaign's kind, model and maker."""
    return (f"{html_text(info.kind.replace('_', ' '))} · model <b>{html_text(info.model_name or '—')}</b>"
            f" {html_text(info.model_version)} · made by {html_text(info.created_by)}")


def candidate_title(cand: CandidateInfo) -> str:
    """The candidate's name as a Markdown heading."""
    return f"### {md_text(cand.name)}"


def candidate_html(cand: CandidateInfo) -> str:
    """What the model says of the candidate, and its metadata."""
    meta = " · ".join(f"{html_text(k)} {v:.4f}" if isinstance(v, float) else f"{html_text(k)} {html_text(v)}"
                      for k, v in cand.meta.items())
    return (f"Model says <b class='vet-model-label'>{html_text(cand.model_label or '—')}</b> "
            f"(score {cand.score:.3f}, uncertainty {cand.uncertainty:.3f})" + (f" · {meta}" if meta else ""))


def progress_html(p: dict[str, int], user: str | None) -> str:
    """A progress bar and how many candidates have votes (and how many this user voted on)."""
    return (f"<progress max='{p['candidates']}' value='{p['voted']}'></progress> "
            f"<span class='vet-progress-text'>{p['voted']} of {p['candidates']} candidates have "
            f"votes, {p['settled']} have ≥ 3" + (f"; you have voted on {p['mine']}" if user else "") + "</span>")


def consensus_html(snap: Snapshot) -> str:
    """The shown candidate's consensus: votes in all, majority, Dawid–Skene, counts per label and voters."""
    row = snap.row
    counts = "".join(f"<tr><td>{html_text(lab)}</td><td class='vet-count' data-label='{html_text(lab)}' "
                     f"style='padding-left:12px'>{n}</td></tr>" for lab, n in row.counts.items() if n)
    ds = (f"Dawid–Skene: <b class='vet-ds'>{html_text(row.ds_label)}</b> (p = {row.ds_probability:.2f})"
          if row.ds_label else "Dawid–Skene estimate from 3 votes")
    majority = (f"Majority: <b class='vet-majority'>{html_text(row.majority)}</b> ({row.agreement:.0%} agree)"
                if row.majority else "<span class='vet-majority'>No votes yet</span>")
    votes = ", ".join(f"{html_text(v.user)}: {html_text(v.label)}" for v in snap.votes)
    return (f"<b>Consensus</b> · <span class='vet-nvotes'>{row.n_votes}</span> "
            f"vote{'' if row.n_votes == 1 else 's'}<br>"
            f"{majority}<br>{ds}<table style='margin-top:4px'>{counts}</table>"
            f"<div class='vet-voters' style='color:#555'>{votes}</div>")


def thread_html(thread: tuple[CommentInfo, ...]) -> str:
    """The comment thread, replies indented under their parents."""
    return "<b>Comments</b>" + ("".join(
        f"<div class='vet-comment-item' style='margin-left:{16 * c.depth}px;border-left:2px solid #ccd;"
        f"padding-left:6px;margin-top:4px'><span style='color:#555'>#{c.id} {html_text(c.user)}:</span> "
        f"<span class='vet-comment-text' style='white-space:pre-wrap'>{html_text(c.text)}</span></div>"
        for c in thread) or "<div style='color:#777'>None yet</div>")


def reply_options(thread: tuple[CommentInfo, ...]) -> dict[str, int]:
    """The "Reply to" choices: a new thread (0) or any comment by id."""
    return {"(new thread)": 0, **{f"#{c.id} {c.user}: {c.text[:30]}": c.id for c in thread}}


def saving_html(label: str | None = None) -> str:
    """While a write is on its way: "Saving <label>…" for a vote, "Saving the comment…" without a label."""
    what = "the comment" if label is None else f"<b>{html_text(label)}</b>"
    return f"<span class='vet-saving'>Saving {what}…</span>"


def saved_vote_html(vote: VoteInfo, cand: CandidateInfo) -> str:
    """The acknowledgement of a stored vote."""
    return (f"<span class='vet-saved'>Saved: <b>{html_text(vote.label)}</b> for {html_text(cand.name)} "
            f"(vote #{vote.id}, confidence {vote.confidence:.2f})</span> · ← Back to change it")


def unsaved_vote_html(label: str, cand: CandidateInfo) -> str:
    """A vote the busy database refused."""
    return (f"{_NOT_SAVED}your vote (<b>{html_text(label)}</b> for {html_text(cand.name)}) was not stored — try "
            "again</span>")


def unsaved_comment_html() -> str:
    """A comment the busy database refused (it stays in the box)."""
    return f"{_NOT_SAVED}your comment was not stored (it is still in the box) — try again</span>"


def busy_html(attempt: int) -> str:
    """The database is locked by another writer: the write is retried."""
    return f"<span class='vet-busy' style='color:#a60'>Database busy, retrying… (try {attempt + 1})</span>"
