"""Personas suggested by the data: k-means on firmographics and behaviour, with rules to paste.

Features, per person, computed in the engine: the standardized log company size; the job
title, encoded by the mean (standardized log) company size of the people holding it, shrunk
towards the mean for rare titles, so that titles held in the same kind of company land
together; the industry and the lead source (the most common ones, one-hot). Each group
carries a weight (two people differing only in one group are about weight^2 apart,
squared). An unknown size or title is left out of the distance, not imputed.

A deterministic sample (at most ``sample_size`` people, chosen by a hash of ``person_id``)
is fetched to fit k-means (k-means++ starts, best of ``n_init``); when ``k`` is not given,
the k in ``ks`` with the best silhouette on part of the sample wins. Every person is then
assigned to the nearest centroid in the engine, and each cluster is described there: size,
dominant industries, titles, sources, company size and conversion. Each cluster proposes a
``[[personas]]`` block: its distinctive title words as a ``job_title`` regex and a size
range cut between neighbouring clusters, checked in the engine against the clusters.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from leadjourney.analysis.funnel import required_top
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.persona_profiles import Share, person_table, top_values
from leadjourney.analysis.rates import (
    StageCount,
    Transition,
    everyone_enters_first,
    transition_between,
)
from leadjourney.analysis.sources import UNKNOWN
from leadjourney.config import UNASSIGNED_PERSONA, Persona
from leadjourney.display import percent
from leadjourney.engine import fetch, fetch_rows
from leadjourney.errors import OptionError
from leadjourney.escape import markdown_code_block, one_line
from leadjourney.escape import markdown_text as md
from leadjourney.ingest.persona_rules import persona_column
from leadjourney.tabular import Tabular

KS = (2, 3, 4)
SAMPLE_SIZE = 20_000
SELECTION_SAMPLE = 5_000  # people of the sample k is chosen on
SILHOUETTE_SAMPLE = 1_000
WEIGHTS = {"size": 1.0, "title": 1.0, "industry": 0.3, "source": 0.3}
TITLE_SHRINK = 10.0  # people: a rare title's size profile is pulled towards the mean
MAX_TITLES = 2_000  # distinct titles read for the vocabulary
MAX_WORDS = 30  # title words considered for the rules
MAX_CATEGORIES = 10  # industries and sources used as features
MIN_SHARE = 0.01  # a word or category must cover this share of people to become a feature
STOPWORDS = frozenset({"of", "the", "and", "for", "to", "in", "at", "a", "an", "on", "de", "la", "y"})
DISTINCTIVE = 3.0  # a title word is distinctive when this many times as common in the cluster as outside
MIN_WORD_SHARE = 0.05  # ... and used by at least this share of the cluster
_HASH_MOD = 1_000_003


@dataclass(frozen=True)
class Feature:
    """One clustering feature: a group ("size", "title", "industry", "source") and its value."""

    group: str
    value: str | None  # the category of a one-hot feature; None for the numeric size and title
    column: str


@dataclass
class PersonaCluster:
    """One suggested persona: who is in it, how they convert, and the rules that would catch them."""

    cluster: int
    name: str
    people: int
    share: float | None
    industries: list[Share]
    titles: list[Share]
    sources: list[Share]
    employees_p10: float | None
    employees_median: float | None
    employees_p90: float | None
    distinctive_words: list[str]
    transitions: list[Transition]
    rule: Persona | None  # the proposed [[personas]] block; None when nothing distinguishes the cluster
    rule_recall: float | None = None  # share of the cluster the proposed rules assign to this persona
    rule_precision: float | None = None  # share of the people assigned to it who are in the cluster

    def description(self) -> str:
        """One line: dominant titles, industries, size range, sources and end-to-end conversion."""
        def top(items: list[Share]) -> str:
            return ", ".join(f"{s.value} ({s.share:.0%})" for s in items[:3] if s.share is not None) or "-"
        size = ("unknown size" if self.employees_median is None else
                f"{self.employees_p10:,.0f}-{self.employees_p90:,.0f} employees (median {self.employees_median:,.0f})")
        rates = ", ".join(f"{t.from_stage} → {t.to_stage} {t.rate:.0%}" for t in self.transitions if t.rate is not None)
        return (f"{self.people:,} people ({percent(self.share)}): titles {top(self.titles)}; industries "
                f"{top(self.industries)}; {size}; sources {top(self.sources)}; conversion {rates or '-'}.")

    def toml(self) -> str:
        """The proposed ``[[personas]]`` block, commented, ready to paste into leadjourney.toml."""
        head = [f"# suggested: {one_line(self.description())}"]
        if self.rule is None:
            return "\n".join([*head, "# (no distinctive title or size: no rule proposed)"])
        r = self.rule
        lines = [*head, "[[personas]]", f"name = {_toml_str(r.name)}"]
        if r.job_title:
            lines.append(f"job_title = {_toml_str(r.job_title)}")
        if r.industries:
            lines.append("industries = [" + ", ".join(_toml_str(i) for i in r.industries) + "]")
        if r.min_employees is not None:
            lines.append(f"min_employees = {r.min_employees}")
        if r.max_employees is not None:
            lines.append(f"max_employees = {r.max_employees}")
        lines.append(f"match = {_toml_str(r.match)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["transitions"] = [t.to_dict() for t in self.transitions]
        out["description"] = self.description()
        out["toml"] = self.toml()
        return out


@dataclass
class PersonaSuggestion(Tabular):
    """Data-driven persona clusters with a proposed ``[[personas]]`` block each.

    >>> suggestion = PersonaSuggestion(seed=0).fit(journeys)   # doctest: +SKIP
    >>> print(suggestion.to_toml())                            # doctest: +SKIP
    """

    table_from = "clusters"  # to_arrow() / to_pandas(): one row per item

    k: int | None = None  # None: the k in ks with the best silhouette
    seed: int = 0
    ks: tuple[int, ...] = KS
    sample_size: int = SAMPLE_SIZE
    n_init: int = 4
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    n_people: int = 0
    n_sample: int = 0
    silhouettes: dict[int, float] = field(default_factory=dict)  # per k tried, on the silhouette sample
    features: list[Feature] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # the title words the rules are written from
    _titles: ir.Table | None = field(default=None, init=False, repr=False)
    centroids: list[list[float]] = field(default_factory=list)
    clusters: list[PersonaCluster] = field(default_factory=list)
    _assigned: ir.Table | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.k is not None and self.k < 1:
            raise OptionError(f"k must be at least 1, not {self.k}")
        if not self.ks or min(self.ks) < 2:
            raise OptionError(f"ks must be cluster counts of at least 2, not {self.ks}")
        unknown = set(self.weights) - set(WEIGHTS)
        if unknown:
            raise OptionError(f"unknown feature groups {sorted(unknown)}; known: {', '.join(WEIGHTS)}")

    def fit(self, journeys: Journeys, people: ir.Table | None = None) -> PersonaSuggestion:
        """Cluster the selected people; ``people`` (:func:`person_table`) is reused when given."""
        table = people if people is not None else person_table(journeys)
        base, n = self._features(journeys, table)
        self.n_people = n
        if not n or not self.features:
            self.clusters, self._assigned = [], None
            return self
        x, known = self._sample(base)
        self.n_sample = len(x)
        if not len(x):
            self.clusters, self._assigned = [], None
            return self
        rng = np.random.default_rng(self.seed)
        # k is chosen (and each k fitted, best of n_init) on part of the sample; the winner is refined on all of it
        part = rng.permutation(len(x))[:SELECTION_SAMPLE]
        fits: dict[int, np.ndarray] = {}
        if self.k is not None:
            k = min(self.k, len(x))
        else:
            self.silhouettes = {}
            check = part[:SILHOUETTE_SAMPLE]
            dist = distances(x[check])
            for k in self.ks:
                if k > len(x):
                    continue
                fits[k] = kmeans(x[part], known[part], k, rng, self.n_init)[0]
                self.silhouettes[k] = silhouette(dist, nearest(x[check], known[check], fits[k]))
            k = max(self.silhouettes, key=lambda j: self.silhouettes[j]) if self.silhouettes else 1
        if k not in fits:
            fits[k] = kmeans(x[part], known[part], k, rng, self.n_init)[0]
        centroids = kmeans(x, known, k, rng, init=fits[k])[0]
        self.centroids = centroids.tolist()
        self._assigned = journeys.materialize(self._assign(base, centroids))
        self.clusters = self._describe(journeys, self._assigned)
        return self

    # ------------------------------------------------------------------ features

    def _features(self, journeys: Journeys, table: ir.Table) -> tuple[ir.Table, int]:
        """The person table with the feature columns and title word flags, and the people count.

        Numeric features: ``z`` (standardized log company size) and ``title_z``; categorical:
        ``cat_industry`` and ``cat_source``, one-hot over the values in :attr:`features`.
        """
        table = table.select("person_id", "source", "industry", "job_title", "employee_count",
                             *[c for c in table.columns if c.startswith("has_")])
        log_size = (table.employee_count.cast("float64") + 1.0).ln()  # NULL stays NULL (greatest() would not)
        # a title is encoded by the company size of the people who hold it (shrunk towards the mean),
        # so titles that go together land together; its words are kept to write the rules.
        # Grouped by the title as written first (cheap), then by its normalized spelling.
        raw = table.group_by("job_title").aggregate(
            holders=table.count(), known=log_size.count(), sum_log=log_size.sum(), sum_log2=(log_size * log_size).sum())
        raw = journeys.materialize(raw.mutate(title_key=raw.job_title.lower().strip()))  # one row per title as written
        totals = fetch_rows(raw.aggregate(n=raw.holders.sum(), known=raw.known.sum(), s1=raw.sum_log.sum(),
                                          s2=raw.sum_log2.sum()))[0]
        n, known = int(totals["n"] or 0), int(totals["known"] or 0)
        mu = totals["s1"] / known if known else None
        var = (totals["s2"] - known * mu * mu) / (known - 1) if mu is not None and known > 1 else 0.0
        sd = math.sqrt(var) if var > 0 else 1.0
        z = (log_size - (mu or 0.0)) / sd
        people = table.mutate(z=z)
        raw = raw.filter(raw.job_title.notnull() & (raw.title_key != ""))
        keyed = raw.group_by("title_key").aggregate(
            holders=raw.holders.sum(),
            title_z=(raw.sum_log.sum().fill_null(0.0) - raw.known.sum() * (mu or 0.0))
            / ((raw.known.sum() + TITLE_SHRINK) * sd))
        words = self._vocabulary(keyed)
        # a whole word: \b spelled out, as Postgres reads \b as a backspace ([a-z0-9]+ words, lower-case keys)
        flags = {f"w_{i}": keyed.title_key.re_search(rf"(^|[^a-z0-9_]){w}([^a-z0-9_]|$)") for i, w in enumerate(words)}
        # per title as written: its normalized key, size profile and word flags
        self._titles = raw.select("job_title", "title_key").join(keyed.mutate(**flags), "title_key").drop("holders")
        base = people.left_join(self._titles.select("job_title", "title_z"), "job_title").drop("job_title_right")
        self.words = words

        everyone = table.mutate(all=ibis.literal("all"))
        counts = top_values(everyone, "all", {
            "industry": everyone.industry, "source": everyone.source.fill_null(UNKNOWN)}, MAX_CATEGORIES, {"all": n})
        categories = {g: [s.value for s in counts.get(("all", g), []) if n and s.people / n >= MIN_SHARE]
                      for g in ("industry", "source")}

        base = base.mutate(cat_industry=base.industry, cat_source=base.source.fill_null(UNKNOWN))
        self.features = []
        if self.weights.get("size") and mu is not None:
            self.features.append(Feature("size", None, "z"))
        if self.weights.get("title") and mu is not None:
            self.features.append(Feature("title", None, "title_z"))
        for group in ("industry", "source"):
            if self.weights.get(group):
                self.features += [Feature(group, v, f"cat_{group}") for v in categories[group]]
        return base, n

    @staticmethod
    def _vocabulary(titles: ir.Table) -> list[str]:
        """The most common title words (by people), from the most common distinct titles."""
        rows = fetch_rows(titles.order_by([ibis.desc("holders"), "title_key"]).limit(MAX_TITLES).select(
            "title_key", "holders"))
        total = sum(int(r["holders"]) for r in rows)
        people: dict[str, int] = {}
        for r in rows:  # distinct titles: aggregated rows
            for word in set(re.findall(r"[a-z0-9]+", str(r["title_key"]))):
                if len(word) >= 2 and word not in STOPWORDS:
                    people[word] = people.get(word, 0) + int(r["holders"])
        ranked = sorted(people.items(), key=lambda kv: (-kv[1], kv[0]))
        return [w for w, n in ranked if total and n / total >= MIN_SHARE][:MAX_WORDS]

    def _sample(self, base: ir.Table) -> tuple[np.ndarray, np.ndarray]:
        """The sampled people's weighted features and known-masks (deterministic: a hash of person_id and
        the seed). A feature is 0 where unknown; distances leave unknown features out."""
        keep = min(1.0, self.sample_size / self.n_people)
        bucket = ((base.person_id.hash() % _HASH_MOD + _HASH_MOD + self.seed * 7_919) % _HASH_MOD)
        sample = base.filter(bucket < math.ceil(keep * _HASH_MOD)) if keep < 1 else base
        columns = sorted({f.column for f in self.features})
        got = fetch(sample.select("person_id", *columns).order_by("person_id").limit(2 * self.sample_size))
        x = np.zeros((got.num_rows, len(self.features)))
        known = np.ones_like(x)
        for i, f in enumerate(self.features):  # whole columns of the bounded sample at a time
            values = got.column(f.column).to_numpy(zero_copy_only=False)
            if f.value is None:  # a numeric column: NULL arrives as NaN
                values = values.astype(float)
                known[:, i] = ~np.isnan(values)
                x[:, i] = np.nan_to_num(values) * self.weights[f.group]
            else:
                x[:, i] = (values == f.value) * self._scale(f.group)
        return x, known

    def _scale(self, group: str) -> float:
        # one-hot: two people in different categories of a group are weight^2 apart (squared)
        return self.weights.get(group, 0.0) / math.sqrt(2)

    def _assign(self, base: ir.Table, centroids: np.ndarray) -> ir.Table:
        """Every person's nearest centroid, as an engine expression (ties: the lower cluster).

        The distance over known features, less what every cluster shares: per numeric feature
        ``c^2 - 2 x c`` where x is known, per one-hot group ``sum c^2 - 2 scale c[x's value]``.
        """
        k = len(centroids)
        constant = [0.0] * k
        lookups: dict[str, dict[str, list[Any]]] = {}  # per one-hot column: value -> its term per cluster
        for i, f in enumerate(self.features):
            if f.value is not None:
                table = lookups.setdefault(f.column, {f.column: [], **{f"{f.column}_{j}": [] for j in range(k)}})
                table[f.column].append(f.value)
                for j in range(k):
                    c = float(centroids[j][i])
                    constant[j] += c * c
                    table[f"{f.column}_{j}"].append(-2 * c * self._scale(f.group))
        for column, table in lookups.items():  # a small lookup join instead of string comparisons per person
            base = base.left_join(ibis.memtable(table), column).drop(f"{column}_right")
        dist = {}
        for j in range(k):
            terms: list[ir.FloatingValue] = []
            for i, f in enumerate(self.features):
                if f.value is None:
                    c = float(centroids[j][i])
                    x = base[f.column] * self.weights[f.group]
                    terms.append(base[f.column].isnull().ifelse(0.0, c * c - 2 * c * x))
            terms += [base[f"{column}_{j}"].fill_null(0.0) for column in lookups]
            dist[f"d_{j}"] = sum(terms, ibis.literal(constant[j]))
        keep = ["person_id", "source", "industry", "job_title", "employee_count",
                *[c for c in base.columns if c.startswith("has_")]]
        scored = base.select(*keep, **dist)
        if k == 1:
            return scored.mutate(cluster=ibis.literal(0)).drop("d_0")
        branches = []
        for j in range(k - 1):
            wins = [scored[f"d_{j}"] <= scored[f"d_{m}"] for m in range(j + 1, k)]
            wins += [scored[f"d_{j}"] < scored[f"d_{m}"] for m in range(j)]
            cond = wins[0]
            for w in wins[1:]:
                cond = cond & w
            branches.append((cond, j))
        return scored.mutate(cluster=ibis.cases(*branches, else_=k - 1)).drop(*dist)

    # ------------------------------------------------------------------ description

    def _describe(self, journeys: Journeys, assigned: ir.Table) -> list[PersonaCluster]:
        stages = journeys.config.stages
        required = [i for i, s in enumerate(stages) if not s.optional]
        top = required_top(assigned, required)
        words = self.words
        aggregates: dict[str, Any] = {
            "n": assigned.count(), "p05": assigned.employee_count.quantile(0.05),
            "p10": assigned.employee_count.quantile(0.1), "p50": assigned.employee_count.quantile(0.5),
            "p90": assigned.employee_count.quantile(0.9), "p95": assigned.employee_count.quantile(0.95),
        }
        for i, stage in enumerate(stages):
            has = assigned[f"has_{i}"].fill_null(False)
            aggregates[f"reached_{i}"] = (has if stage.optional else top >= i).sum()
        rows = {int(r["cluster"]): r for r in
                fetch_rows(assigned.group_by("cluster").aggregate(**aggregates))}
        if words and self._titles is not None:  # people per cluster with each title word: via the titles
            per_title = assigned.group_by(["cluster", "job_title"]).aggregate(n=assigned.count())
            flagged = per_title.join(self._titles, "job_title")
            counts = flagged.group_by("cluster").aggregate(
                **{f"w_{i}": flagged.n.sum(where=flagged[f"w_{i}"]) for i in range(len(words))})
            for r in fetch_rows(counts):
                rows[int(r["cluster"])].update({f"w_{i}": r[f"w_{i}"] for i in range(len(words))})
        tops = top_values(assigned, "cluster", {
            "industry": assigned.industry, "title": assigned.job_title,
            "source": assigned.source.fill_null(UNKNOWN)}, 5, {c: int(r["n"]) for c, r in rows.items()})
        total = sum(int(r["n"]) for r in rows.values())
        word_totals = [sum(int(r.get(f"w_{i}") or 0) for r in rows.values()) for i in range(len(words))]

        clusters = []
        for c in sorted(rows, key=lambda c: -(rows[c]["p50"] or 0)):  # largest companies first
            r = rows[c]
            n = int(r["n"])
            counts = [StageCount(s.name, s.lane, int(r[f"reached_{i}"] or 0), 0) for i, s in enumerate(stages)]
            if counts and not stages[0].optional:
                counts = everyone_enters_first(counts, n)
            distinctive = []
            for i, f in enumerate(words):
                inside = int(r.get(f"w_{i}") or 0) / n
                outside = (word_totals[i] - int(r.get(f"w_{i}") or 0)) / (total - n) if total > n else 0.0
                if inside >= MIN_WORD_SHARE and inside >= DISTINCTIVE * outside:
                    distinctive.append((inside, f))
            clusters.append(PersonaCluster(
                cluster=c, name="", people=n, share=n / total if total else None,
                industries=tops.get((c, "industry"), []), titles=tops.get((c, "title"), []),
                sources=tops.get((c, "source"), []), employees_p10=r["p10"], employees_median=r["p50"],
                employees_p90=r["p90"], distinctive_words=[w for _, w in sorted(distinctive, key=lambda t: -t[0])],
                transitions=[transition_between(a, b, journeys.config.min_n) for a, b in itertools.pairwise(counts)],
                rule=None,
            ))
        self._propose(clusters, rows)
        self._check_rules(assigned, clusters)
        return clusters

    @staticmethod
    def _propose(clusters: list[PersonaCluster], rows: dict[int, dict[str, Any]]) -> None:
        """Name each cluster and propose its rules: distinctive title words, size cut between neighbours."""
        used: set[str] = {UNASSIGNED_PERSONA}
        cuts: list[int | None] = []  # between cluster i (larger companies) and i + 1
        for big, small in itertools.pairwise(clusters):
            lo, hi = rows[small.cluster]["p95"], rows[big.cluster]["p05"]
            if lo is None or hi is None:
                cuts.append(None)
                continue
            if lo >= hi:  # overlapping: cut between the medians
                lo, hi = small.employees_median or lo, big.employees_median or hi
            cuts.append(_round_between(float(lo), float(hi)) if hi > lo else None)
        for i, c in enumerate(clusters):
            label = ("unknown_size" if c.employees_median is None else "enterprise" if c.employees_median >= 1000
                     else "midmarket" if c.employees_median >= 100 else "smb")
            name = f"{label}_{c.distinctive_words[0]}" if c.distinctive_words else f"{label}_cluster"
            name = re.sub(r"[^a-z0-9_]+", "_", name.lower())
            while name in used:
                name += "_2"
            used.add(name)
            c.name = name
            low = cuts[i] if i < len(cuts) else None  # the cut below this cluster
            above = cuts[i - 1] if i > 0 else None
            high = above - 1 if above is not None else None  # the cut above it
            title = r"\b(" + "|".join(re.escape(w) for w in c.distinctive_words) + r")\b" \
                if c.distinctive_words else None
            if title or low is not None or high is not None:
                c.rule = Persona(name, title, (), low, high, "any")

    @staticmethod
    def _check_rules(assigned: ir.Table, clusters: list[PersonaCluster]) -> None:
        """How the proposed rules would assign each cluster's people (one grouped query).

        The rules are evaluated once per (cluster, title, size band) rather than per person: each
        company size is replaced by the lowest size of its band between the rules' bounds.
        """
        rules = tuple(c.rule for c in clusters if c.rule is not None)
        if not rules:
            return
        bounds = sorted({r.min_employees for r in rules if r.min_employees is not None}
                        | {r.max_employees + 1 for r in rules if r.max_employees is not None})
        size = assigned.employee_count
        if bounds:
            size = ibis.cases((size.isnull(), ibis.null("int64")), *[(size >= b, b) for b in reversed(bounds)],
                              else_=bounds[0] - 1)
        keys = {"cluster": assigned.cluster, "job_title": assigned.job_title, "employee_count": size}
        if any(r.industries for r in rules):
            keys["industry"] = assigned.industry
        grouped = assigned.group_by(**keys).aggregate(n=assigned.count())
        proposed = grouped.mutate(proposed=persona_column(grouped, rules))
        rows = fetch_rows(proposed.group_by(["cluster", "proposed"]).aggregate(n=proposed.n.sum()))
        for c in clusters:
            if c.rule is None:
                continue
            hit = sum(int(r["n"]) for r in rows if r["cluster"] == c.cluster and r["proposed"] == c.name)
            claimed = sum(int(r["n"]) for r in rows if r["proposed"] == c.name)
            c.rule_recall = hit / c.people if c.people else None
            c.rule_precision = hit / claimed if claimed else None

    # ------------------------------------------------------------------ access and rendering

    def assignments(self) -> ir.Table:
        """person_id, cluster: every selected person's cluster (valid until ``journeys.release()``)."""
        if self._assigned is None:
            raise ValueError("nothing assigned: call fit() on a selection with people first")
        return self._assigned.select("person_id", "cluster")

    def to_toml(self) -> str:
        """Every proposed ``[[personas]]`` block, to paste in place of the configured ones."""
        return "\n\n".join(c.toml() for c in self.clusters) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": len(self.clusters), "k_requested": self.k, "seed": self.seed, "n_people": self.n_people,
            "n_sample": self.n_sample, "silhouettes": {str(k): s for k, s in self.silhouettes.items()},
            "weights": self.weights, "features": [asdict(f) for f in self.features],
            "clusters": [c.to_dict() for c in self.clusters], "toml": self.to_toml(),
        }

    def to_markdown(self) -> str:
        chosen = f"k = {self.k} as asked" if self.k is not None else (
            "k chosen by silhouette (" + ", ".join(f"k={k}: {s:.2f}" for k, s in self.silhouettes.items()) + ")")
        lines = ["# Suggested personas", "",
                 f"k-means on company size, job title (by its holders' company size), industry and lead source, "
                 f"fitted on a sample of "
                 f"{self.n_sample:,} of {self.n_people:,} people; {chosen}; every person assigned to the nearest "
                 "cluster. Each cluster proposes a `[[personas]]` block; recall is the share of the cluster its "
                 "rules catch, precision the share of the people they catch who are in the cluster.", "",
                 "| Suggested persona | People | Share | Median employees | Distinctive title words | Rule recall "
                 "| Rule precision |", "|---|---:|---:|---:|---|---:|---:|"]
        for c in self.clusters:
            lines.append(f"| {md(c.name)} | {c.people:,} | {percent(c.share)} | "
                         f"{'-' if c.employees_median is None else f'{c.employees_median:,.0f}'} | "
                         f"{md(', '.join(c.distinctive_words) or '-')} | {percent(c.rule_recall)} | {percent(c.rule_precision)} |")
        for c in self.clusters:
            lines += ["", f"## {md(c.name)}", "", md(c.description())]
        lines += ["", "## Rules to paste into leadjourney.toml", "", *markdown_code_block(self.to_toml(), "toml")]
        return "\n".join(lines) + "\n"


def suggest_personas(journeys: Journeys, k: int | None = None, seed: int = 0) -> PersonaSuggestion:
    """Data-driven persona clusters (k in 2..4 by silhouette unless given), each with a proposed block."""
    return PersonaSuggestion(k=k, seed=seed).fit(journeys)


# ------------------------------------------------------------------ k-means on the sample


def nearest(x: np.ndarray, known: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each row's nearest centroid over its known features (ties: the lower index, as the engine)."""
    return _nearest_t(np.ascontiguousarray(x.T), np.ascontiguousarray(known.T), centroids)


def _nearest_t(xt: np.ndarray, known_t: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    # on the transposed (features x people) arrays: BLAS is much faster this way round
    d = (centroids**2) @ known_t - 2 * (centroids @ xt)
    return np.asarray(d.argmin(0))


def kmeans(x: np.ndarray, known: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4,
           max_iter: int = 100, tol: float = 1e-4, init: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Lloyd's k-means ignoring unknown features (``known`` = 0), k-means++ starts, best of ``n_init``.

    Returns (centroids, inertia); ``x`` is 0 where a feature is unknown. A run stops when the
    centroids move less (squared) than ``tol`` times the features' mean variance. ``init``
    gives the starting centroids of a single run instead.
    """
    best: tuple[np.ndarray, float] | None = None
    xt, known_t = np.ascontiguousarray(x.T), np.ascontiguousarray(known.T)
    norms = (x**2).sum(1)
    small = tol * float(np.var(x, axis=0).mean()) if len(x) else 0.0
    for _ in range(1 if init is not None else n_init):
        centroids = np.array(init, dtype=float) if init is not None else _kmeans_pp(xt, known_t, k, rng, norms)
        for _ in range(max_iter):
            onehot = np.ascontiguousarray(np.eye(k)[_nearest_t(xt, known_t, centroids)].T)
            sums, counts = onehot @ x, onehot @ known
            moved = np.where(counts > 0, sums / np.maximum(counts, 1e-12), centroids)
            shift = float(((moved - centroids) ** 2).sum())
            centroids = moved
            if shift <= small:
                break
        labels = _nearest_t(xt, known_t, centroids)
        inertia = float((known * (x - centroids[labels]) ** 2).sum())
        if best is None or inertia < best[1] - 1e-9:
            best = (centroids, inertia)
    assert best is not None
    return best


def _kmeans_pp(xt: np.ndarray, known_t: np.ndarray, k: int, rng: np.random.Generator,
               norms: np.ndarray) -> np.ndarray:
    def to(c: np.ndarray) -> np.ndarray:
        return np.maximum(norms - 2 * (c @ xt) + (c * c) @ known_t, 0.0)

    n = xt.shape[1]
    centroids = [xt[:, rng.integers(n)]]
    closest = to(centroids[0])
    for _ in range(1, k):
        total = closest.sum()
        pick = rng.choice(n, p=closest / total) if total > 0 else rng.integers(n)
        centroids.append(xt[:, pick])
        closest = np.minimum(closest, to(xt[:, pick]))
    return np.array(centroids)


def distances(x: np.ndarray) -> np.ndarray:
    """Euclidean distances between every pair of rows."""
    sq = (x**2).sum(1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0))


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width from pairwise distances; 0 when there is one cluster."""
    groups = np.unique(labels)
    if len(groups) < 2:
        return 0.0
    onehot = (labels[:, None] == groups[None, :]).astype(float)
    sums = dist @ onehot
    sizes = onehot.sum(0)
    own = np.searchsorted(groups, labels)
    rows = np.arange(len(labels))
    a = sums[rows, own] / np.maximum(sizes[own] - 1, 1)
    other = sums / sizes[None, :]
    other[rows, own] = np.inf
    b = other.min(1)
    s = np.where(sizes[own] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def _round_between(lo: float, hi: float) -> int:
    """The geometric middle of (lo, hi], rounded to as few significant digits as stay inside: a size cut."""
    middle = math.sqrt(max(lo, 1.0) * max(hi, 1.0))
    for digits in range(1, 7):
        magnitude = 10 ** (math.floor(math.log10(middle)) - digits + 1)
        cut = int(round(middle / magnitude) * magnitude)
        if lo < cut <= hi:
            return cut
    return math.ceil(middle)


def _toml_str(text: str) -> str:
    """A TOML basic string: JSON's escapes are valid TOML; DEL, which TOML forbids raw, escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
