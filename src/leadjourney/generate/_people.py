"""Synthetic firmographics: companies, titles, owners and e-mail addresses (no real-looking people).

E-mails are ``user0001234@example.com`` style (reserved example domains only), one
distinct address per simulated lead; companies are ``Company 123`` and shared by
a few leads each, with one size, industry and country per company.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadjourney.generate import _params as P

DOMAINS = (("example.com", 0.6), ("example.org", 0.25), ("example.net", 0.15))
COUNTRIES = (
    ("US", 0.55),
    ("GB", 0.10),
    ("CA", 0.08),
    ("DE", 0.07),
    ("FR", 0.04),
    ("AU", 0.04),
    ("IN", 0.04),
    ("NL", 0.03),
    ("SE", 0.03),
    ("BR", 0.02),
)
OWNERS_BY_PERSONA = ((1, 4), (5, 9), (10, 12))  # owner_NN ranges per persona (inclusive)
LEADS_PER_COMPANY = 2.5
MISSING_EMPLOYEES = 0.07


@dataclass(frozen=True)
class People:
    email_local: pa.Array
    email_domain: pa.Array
    company: pa.Array
    industry: pa.Array
    employee_count: pa.Array
    country: pa.Array
    job_title: pa.Array
    owner: pa.Array
    source_detail: pa.Array


def take(vocab: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """``vocab[idx]`` as an Arrow string array; negative indices become null."""
    idx = np.asarray(idx)
    return pa.array(list(vocab), pa.string()).take(pa.array(idx, pa.int64(), mask=idx < 0))


def coded(vocab: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.DictionaryArray:
    """Like :func:`take`, dictionary-encoded (cheap to build and to write for long columns)."""
    idx = np.asarray(idx).astype(np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(idx, pa.int32(), mask=idx < 0), pa.array(list(vocab), pa.string())
    )


def numbered(prefix: str, numbers: np.ndarray, width: int = 0) -> pa.Array:
    """``prefix`` followed by each number, zero-padded to ``width`` digits."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    if width:
        text = pc.utf8_lpad(text, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def _choice(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    weights = np.array([w for _, w in pairs])
    return rng.choice(len(pairs), size=n, p=weights / weights.sum())


def people(rng: np.random.Generator, persona: np.ndarray, channel: np.ndarray) -> People:
    """Firmographics and contact details for leads of the given personas and channels."""
    n = len(persona)
    person = rng.permutation(n) + 1
    local = numbered("user", person, max(7, len(str(n))))
    domain = take([d for d, _ in DOMAINS], _choice(rng, DOMAINS, n))

    company = np.zeros(n, dtype=np.int64)
    industry = np.zeros(n, dtype=np.int64)
    employees = np.zeros(n, dtype=np.int64)
    country = np.zeros(n, dtype=np.int64)
    title = np.zeros(n, dtype=np.int64)
    owner = np.zeros(n, dtype=np.int64)
    industries: list[str] = []
    titles: list[str] = []
    offset = 0
    for k, p in enumerate(P.PERSONAS):
        rows = np.flatnonzero(persona == k)
        size = max(1, int(np.ceil(len(rows) / LEADS_PER_COMPANY)))
        lo, hi = np.log(p.employees[0]), np.log(p.employees[1])
        co_employees = np.round(np.exp(rng.uniform(lo, hi, size))).astype(np.int64)
        co_industry = len(industries) + rng.integers(0, len(p.industries), size)
        co_country = _choice(rng, COUNTRIES, size)
        pick = rng.integers(0, size, len(rows))
        company[rows] = offset + pick + 1
        employees[rows] = co_employees[pick]
        industry[rows] = co_industry[pick]
        country[rows] = co_country[pick]
        title[rows] = len(titles) + rng.integers(0, len(p.titles), len(rows))
        first, last = OWNERS_BY_PERSONA[k]
        owner[rows] = rng.integers(first, last + 1, len(rows))
        offset += size
        industries += p.industries
        titles += p.titles
    missing = rng.random(n) < MISSING_EMPLOYEES

    details = [d for c in P.CHANNELS for d in c.details]
    starts = np.cumsum([0] + [len(c.details) for c in P.CHANNELS])[:-1]
    counts = np.array([len(c.details) for c in P.CHANNELS])
    detail = starts[channel] + np.floor(rng.random(n) * counts[channel]).astype(np.int64)
    return People(
        email_local=local,
        email_domain=domain,
        company=numbered("Company ", company),
        industry=take(industries, industry),
        employee_count=pa.array(employees, pa.int64(), mask=missing),
        country=take([c for c, _ in COUNTRIES], country),
        job_title=take(titles, title),
        owner=numbered("owner_", owner, 2),
        source_detail=take(details, detail),
    )
