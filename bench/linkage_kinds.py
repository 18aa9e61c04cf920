"""bench.linkage's figures by kind: recall by kind of difference, precision by kind of non-match.

A record of a child in the index carries the generator's tags of how it differs from
what the index knows (`Labelled.errors`: a moved child, a typing error at the first
letter...); recall is reported for each tag, and for the moved children together. A
record that must not link is of a kind too (a twin or sibling of an indexed child, a
namesake, a namesake who moved, a stranger born the same day, any other child); for each,
what became of those records, and the precision there would be if wrong links of that
kind were the only ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.moves import ADDRESS_KINDS, MOVE_KINDS, STRANGER_KINDS
from bench.synthetic import Child, Labelled
from broker.identity import LinkDecision, Outcome

MOVED = "moved: at the new address"
ADDRESS = "any address difference"
NEGATIVE_KINDS = ("twin", "sibling", *STRANGER_KINDS, "other child")


def negative_kind(child: Child, known: set[str], indexed_households: set[int]) -> str:
    """What a child who is not in the index is to the children who are."""
    prefix = child.child_id.split("-")[0]
    if prefix in STRANGER_KINDS:
        return prefix
    if child.twin_id is not None and child.twin_id in known:
        return "twin"
    if child.household in indexed_households:
        return "sibling"
    return "other child"


@dataclass
class KindTally:
    """Outcomes counted by the kind of each record."""

    recall_total: Counter[str] = field(default_factory=Counter)
    recall_linked: Counter[str] = field(default_factory=Counter)
    negatives: dict[str, Counter[str]] = field(default_factory=dict)
    wrong_by_kind: Counter[str] = field(default_factory=Counter)
    correct: int = 0

    def add_known(self, labelled: Labelled, decision: LinkDecision) -> None:
        """A record of a child in the index: did it link to that child?"""
        tags = set(labelled.errors) or {"none"}
        if tags & set(MOVE_KINDS):
            tags.add(MOVED)
        if tags & set(ADDRESS_KINDS):
            tags.add(ADDRESS)
        right = decision.outcome is Outcome.LINKED and decision.child_id == labelled.child_id
        self.correct += right
        for tag in tags:
            self.recall_total[tag] += 1
            self.recall_linked[tag] += right

    def add_wrong(self, kind: str) -> None:
        """A wrong link, by what the record's child is to the one it was linked to."""
        self.wrong_by_kind[kind] += 1

    def add_negative(self, kind: str, decision: LinkDecision) -> None:
        """A record of a child who is not in the index: it must not link."""
        self.negatives.setdefault(kind, Counter())[str(decision.outcome)] += 1

    def recall(self, tag: str) -> float:
        total = self.recall_total[tag]
        return self.recall_linked[tag] / total if total else 1.0

    def lines(self) -> list[str]:
        """The report, as printed lines."""
        out = ["\nrecall by kind of difference (a record may have several):"]
        order = [MOVED, ADDRESS, *ADDRESS_KINDS, "sibling_known_there"]
        rest = sorted(t for t in self.recall_total if t not in order)
        for tag in [*order, *rest]:
            total = self.recall_total[tag]
            if total:
                linked = self.recall_linked[tag]
                out.append(f"  {tag:34s} {linked:6,} of {total:6,}  recall {linked / total:.4f}")
        out.append("precision by kind of non-match (records of children not in the index):")
        for kind in NEGATIVE_KINDS:
            seen = self.negatives.get(kind, Counter())
            wrong = self.wrong_by_kind[kind]
            precision = self.correct / (self.correct + wrong) if self.correct + wrong else 1.0
            out.append(
                f"  {kind:20s} {sum(seen.values()):6,} records: linked {seen['linked']:4,}, "
                f"review {seen['review']:4,}, new {seen['new']:6,}   precision {precision:.5f}"
            )
        inside = self.wrong_by_kind["in the index"]
        if inside:
            out.append(f"  records of one indexed child linked to another: {inside}")
        return out
