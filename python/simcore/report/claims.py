"""The claims table every report.md opens with: the source's claim, where it is, our
result with its 95% CI, the verdict and the conditions it holds under."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from simcore.report.format import markdown_table

#: "partly reproduced": some of a claim's parts hold (or it holds under some settings);
#: "inconclusive": the 95 % CI of the effect includes 0 (neither shown nor refuted)
VERDICTS = ("reproduced", "partly reproduced", "inconclusive", "not reproduced", "not tested",
            "differs by design")


@dataclass(frozen=True)
class Claim:
    """One row of the claims table.

    Attributes:
        claim: what the source says, in a sentence.
        source: where (file and section, figure or table).
        result: our measurement with its 95% CI (e.g. ``"+4.1 % ± 1.2 (5 seeds)"``).
        verdict: one of :data:`VERDICTS`.
        conditions: the settings the verdict holds under (and where it breaks).
    """

    claim: str
    source: str
    result: str
    verdict: str
    conditions: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {VERDICTS}, got {self.verdict!r}")


def claims_table(claims: Iterable[Claim]) -> str:
    """The Markdown claims table (columns: claim, source, our result (95 % CI),
    verdict, conditions)."""
    rows = [(c.claim, c.source, c.result, c.verdict, c.conditions) for c in claims]
    return markdown_table(["claim", "source", "our result (95 % CI)", "verdict", "conditions"], rows)


def claims_json(claims: Iterable[Claim]) -> list[dict[str, str]]:
    """The claims as plain dicts (results.json)."""
    return [asdict(c) for c in claims]


def verdict_from_ci(low: float, high: float, *, expect_positive: bool = True) -> str:
    """'reproduced' when the CI lies wholly on the expected side of 0, 'not reproduced'
    when wholly on the other side, else 'inconclusive' (the CI includes 0)."""
    if low != low or high != high:
        return "not tested"
    if expect_positive:
        return "reproduced" if low > 0 else ("not reproduced" if high < 0 else "inconclusive")
    return "reproduced" if high < 0 else ("not reproduced" if low > 0 else "inconclusive")
