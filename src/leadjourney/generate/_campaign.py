"""Marketing e-mail programs: a nurture sequence with one broken step, and a campaign people rarely click.

A share of simulated leads is enrolled in the nurture :data:`NURTURE` a few hours after they are created:
one e-mail per step every :data:`STEP_GAP_DAYS`, each sent, delivered, maybe opened and clicked (a
Marketo program's activities). After step k a person leaves the program with :data:`NURTURE_LEAVE` [k-1]
(step :data:`BROKEN_STEP` loses far more: the broken step), some of the leavers by unsubscribing. Another
share gets the two e-mails of :data:`WEAK`, opened as often but clicked far less. Every e-mail event falls
in the lead's first touch window (never in a planted dark gap), so the programs stop where a lead goes
dark, closes or the period ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leadjourney.generate import _params as P
from leadjourney.generate._touch import ASSET_VOCAB, CAMPAIGN_VOCAB, K, Touches, Windows

NURTURE = "Nurture: trial onboarding"
NURTURE_EMAILS = tuple(f"Onboarding e-mail {k}" for k in range(1, 6))
NURTURE_LEAVE = (0.06, 0.06, 0.40, 0.06)  # after steps 1..4; everyone leaves after the last
BROKEN_STEP = 3
NURTURE_SHARE = 0.45
WEAK = "Product update: Q2 release"
WEAK_EMAILS = ("Q2 release e-mail 1", "Q2 release e-mail 2")
WEAK_SHARE = 0.35
PROGRAMS = (NURTURE, WEAK)
STEP_GAP_DAYS = 4
DELIVERED = 0.97
OPENED = 0.45  # of those delivered
CLICKED = 0.50  # of those opened (the weak campaign: WEAK_CLICKED)
WEAK_CLICKED = 0.08
UNSUBSCRIBED = 0.30  # of those leaving the nurture before its last step


def _email_kinds() -> tuple[int, int, int, int, int]:
    return K["email_send"], K["email_delivered"], K["email_open"], K["email_click"], K["email_unsubscribe"]


def program_touches(rng: np.random.Generator, w: Windows, stop: int) -> tuple[Touches, dict[str, Any]]:
    """The programs' e-mail events of the leads in ``w``, and their ground truth."""
    n = len(w.lead)
    email = [c.name for c in P.CHANNELS].index("email")
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int, int]] = []  # row, at, kind, campaign, asset
    end = np.minimum(w.end1, stop - 1)

    def send(rows: np.ndarray, at: np.ndarray, campaign: int, asset: int, clicked: float) -> np.ndarray:
        """Send (and deliver, open, click) one e-mail to ``rows`` at ``at`` where it fits; the rows sent to."""
        ok = at <= end[rows]
        rows, at = rows[ok], at[ok]
        send_k, deliver_k, open_k, click_k, _ = _email_kinds()
        parts.append((rows, at, np.full(len(rows), send_k), campaign, asset))
        u = rng.random((len(rows), 3))
        delivered = u[:, 0] < DELIVERED
        d_at = at + 60
        opened = delivered & (u[:, 1] < OPENED)
        o_at = d_at + rng.integers(300, 36 * 3600, len(rows))
        click = opened & (u[:, 2] < clicked)
        c_at = o_at + rng.integers(10, 300, len(rows))
        for mask, when, kind in ((delivered, d_at, deliver_k), (opened, o_at, open_k), (click, c_at, click_k)):
            fits = mask & (when <= end[rows])
            parts.append((rows[fits], when[fits], np.full(int(fits.sum()), kind), campaign, asset))
        return rows

    nurture, weak = CAMPAIGN_VOCAB.index(NURTURE), CAMPAIGN_VOCAB.index(WEAK)
    alive = np.flatnonzero(rng.random(n) < NURTURE_SHARE)
    t0 = w.created[alive] + rng.integers(3600, 86400, len(alive))
    received: list[int] = []
    left: list[int] = []
    unsubscribed: list[int] = []
    unsub_k = _email_kinds()[4]
    for step, asset_name in enumerate(NURTURE_EMAILS, start=1):
        at = t0 + (step - 1) * STEP_GAP_DAYS * P.DAY + rng.integers(0, 6 * 3600, len(alive))
        kept = np.isin(alive, send(alive, at, nurture, ASSET_VOCAB.index(asset_name), CLICKED))
        sent, at, t0 = alive[kept], at[kept], t0[kept]
        received.append(len(sent))
        if step == len(NURTURE_EMAILS):
            break
        leave = rng.random(len(sent)) < NURTURE_LEAVE[step - 1]
        quits = leave & (rng.random(len(sent)) < UNSUBSCRIBED)
        q_at = at[quits] + rng.integers(3600, 2 * 86400, int(quits.sum()))
        fits = q_at <= end[sent[quits]]
        parts.append((sent[quits][fits], q_at[fits], np.full(int(fits.sum()), unsub_k), nurture, -1))
        left.append(int(leave.sum()))
        unsubscribed.append(int(fits.sum()))
        alive, t0 = sent[~leave], t0[~leave]

    weak_rows = np.flatnonzero(rng.random(n) < WEAK_SHARE)
    w0 = w.created[weak_rows] + rng.integers(86400, 10 * 86400, len(weak_rows))
    weak_received = []
    for i, asset_name in enumerate(WEAK_EMAILS):
        sent = send(weak_rows, w0 + i * 7 * P.DAY, weak, ASSET_VOCAB.index(asset_name), WEAK_CLICKED)
        weak_received.append(len(sent))

    rows = np.concatenate([p[0] for p in parts])
    touches = Touches(
        lead=w.lead[rows],
        at=np.concatenate([p[1] for p in parts]).astype(np.int64),
        kind=np.concatenate([p[2] for p in parts]).astype(np.int64),
        channel=np.full(len(rows), email, dtype=np.int64),
        campaign=np.concatenate([np.full(len(p[0]), p[3], dtype=np.int64) for p in parts]),
        asset=np.concatenate([np.full(len(p[0]), p[4], dtype=np.int64) for p in parts]),
        priority=np.full(len(rows), 2, dtype=np.int64),
    )
    truth = {
        "nurture": {"campaign": NURTURE, "steps": len(NURTURE_EMAILS), "broken_step": BROKEN_STEP,
                    "leave_probability": list(NURTURE_LEAVE), "step_gap_days": STEP_GAP_DAYS,
                    "received": received, "left_by_choice": left, "unsubscribed": unsubscribed},
        "weak_campaign": {"campaign": WEAK, "click_given_open": WEAK_CLICKED, "other_click_given_open": CLICKED,
                          "open_given_delivered": OPENED, "received": weak_received},
        "delivered_probability": DELIVERED,
        # opens and clicks are drawn whatever the lead goes on to do: engaging changes no conversion
        "engaged_minus_not_conversion": 0.0,
        "touches": len(rows),
    }
    return touches, truth
