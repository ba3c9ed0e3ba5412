"""The payment table (付费表): one row per assessed period of a contract, or of every contract in a year,
with the sums; the formula and its steps in words; the data of the PDF and Excel exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound
from countyos.core.i18n import N_, gettext
from countyos.org.service import users
from countyos.programme.models.kpis import Amendment, Assessment, ContractKpi, Score
from countyos.programme.models.projects import Contract, Organisation
from countyos.programme.schemas.payments import Formula
from countyos.programme.service import kpis, payments

MAX_ROWS = 2000  # a year of monthly periods for about 160 contracts


@dataclass
class PaymentRow:
    assessment: Assessment
    contract: Contract
    party: str
    approved_by: str
    locked_by: str
    amendments: int


@dataclass
class PaymentTable:
    rows: list[PaymentRow]
    sums: dict[str, int]
    contract: Contract | None = None
    party: str = ""
    truncated: bool = False
    contracts: list[Contract] = field(default_factory=list)


def get_assessment(session: Session, *, actor: Actor, assessment_id: int) -> Assessment:
    """An assessment of a contract the actor sees (``kpis.visible_contracts``)."""
    a = session.scalar(
        select(Assessment)
        .join(Contract, Contract.id == Assessment.contract_id)
        .where(Assessment.id == assessment_id, kpis.visible_contracts(session, actor))
    )
    if a is None:
        raise NotFound(N_("No such assessment"))
    return a


def contract_of(session: Session, assessment: Assessment) -> Contract:
    c = session.get(Contract, assessment.contract_id)
    assert c is not None  # a foreign key
    return c


def table(session: Session, *, actor: Actor, contract_id: int | None = None, year: int | None = None) -> PaymentTable:
    """The rows of one contract (every period) or of a year (every contract's periods starting in it), of
    the contracts the actor sees."""
    stmt = (
        select(Assessment, Contract)
        .join(Contract, Contract.id == Assessment.contract_id)
        .where(kpis.visible_contracts(session, actor))
    )
    contract = None
    if contract_id is not None:
        contract = kpis.contract(session, actor=actor, contract_id=contract_id)
        stmt = stmt.where(Assessment.contract_id == contract_id)
    if year is not None:
        stmt = stmt.where(Assessment.period_start >= date(year, 1, 1), Assessment.period_start < date(year + 1, 1, 1))
    found = session.execute(stmt.order_by(Contract.code, Assessment.period_start).limit(MAX_ROWS + 1)).all()
    truncated = len(found) > MAX_ROWS
    found = found[:MAX_ROWS]
    ids = [a.id for a, _ in found]
    counts: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for aid, n in session.execute(
            select(Amendment.assessment_id, func.count())
            .where(Amendment.assessment_id.in_(chunk))
            .group_by(Amendment.assessment_id)
        ):
            counts[aid] = int(n)
    people = users.colleagues(session, user_ids=[u for a, _ in found for u in (a.approved_by_id, a.locked_by_id)])
    party_ids = {c.party_id for _, c in found} | ({contract.party_id} if contract else set())
    parties: dict[int, str] = {}
    if party_ids:
        for oid, oname in session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(party_ids))
        ):
            parties[oid] = oname

    def name(uid: int | None) -> str:
        return people[uid].display_name if uid is not None and uid in people else ""

    rows = [
        PaymentRow(a, c, parties.get(c.party_id, ""), name(a.approved_by_id), name(a.locked_by_id), counts.get(a.id, 0))
        for a, c in found
    ]
    sums = {
        key: sum(int(getattr(r.assessment, key)) for r in rows)
        for key in ("base_fen", "deduction_fen", "bonus_fen", "payable_fen")
    }
    return PaymentTable(
        rows=rows,
        sums=sums,
        contract=contract,
        party=parties.get(contract.party_id, "") if contract else "",
        truncated=truncated,
    )


def people(session: Session, *, user_ids: list[int | None]) -> dict[int, str]:
    """Display names by user id."""
    return {i: c.display_name for i, c in users.colleagues(session, user_ids=user_ids).items()}


def contracts(session: Session, *, actor: Actor) -> list[Contract]:
    """The contracts the actor sees, for the page's chooser (by code)."""
    stmt = select(Contract).where(kpis.visible_contracts(session, actor)).order_by(Contract.code).limit(1000)
    return list(session.scalars(stmt))


def scores(session: Session, *, assessment_ids: list[int]) -> dict[int, list[tuple[Score, ContractKpi]]]:
    """Each assessment's KPI scores with their KPI (value, target, weight, score)."""
    out: dict[int, list[tuple[Score, ContractKpi]]] = {i: [] for i in assessment_ids}
    for i in range(0, len(assessment_ids), 500):
        chunk = assessment_ids[i : i + 500]
        for s, k in session.execute(
            select(Score, ContractKpi)
            .join(ContractKpi, ContractKpi.id == Score.kpi_id)
            .where(Score.assessment_id.in_(chunk))
            .order_by(Score.assessment_id, ContractKpi.id)
        ):
            out[s.assessment_id].append((s, k))
    return out


# -- in words -------------------------------------------------------------------------------------


def _n(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.2f}".rstrip("0").rstrip(".")


def formula_words(formula: Formula) -> list[str]:
    """The formula as sentences in the current locale."""
    g = gettext
    out = [
        g(N_("Base: the contract amount divided equally over its periods"))
        if formula.base == "even"
        else g(N_("Base: the instalments of the payment schedule due in the period")),
        g(N_("A total score of %(full)s or more is paid in full"), full=_n(formula.full_at)),
        g(
            N_("Each point below deducts %(pct)s percent of the base, at most %(most)s percent"),
            pct=_n(formula.per_point_pct),
            most=_n(formula.max_deduction_pct),
        ),
    ]
    if formula.zero_below is not None:
        out.append(g(N_("Below %(zero)s points nothing is paid"), zero=_n(formula.zero_below)))
    for step in sorted(formula.bonus, key=lambda s: s.at_least):
        out.append(
            g(
                N_("At %(score)s points or more, a bonus of %(pct)s percent of the base"),
                score=_n(step.at_least),
                pct=_n(step.pct),
            )
        )
    if formula.bonus:
        out.append(g(N_("The bonus is at most %(most)s percent of the base"), most=_n(formula.max_bonus_pct)))
    out.append(
        {
            "reweight": g(N_("A KPI without data is left out and the other weights scaled up")),
            "zero": g(N_("A KPI without data scores zero")),
            "full": g(N_("A KPI without data scores full points")),
        }[formula.missing]
    )
    out.append(
        g(N_("A period without any data is held until it is assessed again"))
        if formula.no_data == "hold"
        else g(N_("A period without any data is paid in full"))
    )
    return out


def steps_words(breakdown: dict[str, Any]) -> list[str]:
    """What the formula did for one period, in the current locale."""
    g = gettext
    rule = breakdown.get("rule")
    if rule is None:
        return []
    if rule == "held":
        return [g(N_("No KPI had data: the payment is held"))]
    if rule == "no_data_paid":
        return [g(N_("No KPI had data: paid in full as the formula says"))]
    total = _n(breakdown.get("total"))
    if rule == "zero":
        return [
            g(
                N_("Total score %(total)s is below %(zero)s: nothing is paid"),
                total=total,
                zero=_n(breakdown.get("zero_below")),
            )
        ]
    out = []
    if rule == "full":
        out.append(
            g(
                N_("Total score %(total)s reaches %(full)s: no deduction"),
                total=total,
                full=_n(breakdown.get("full_at")),
            )
        )
    else:
        out.append(
            g(
                N_("Total score %(total)s is %(points)s points below %(full)s: %(pct)s percent of the base deducted"),
                total=total,
                points=_n(breakdown.get("points_below")),
                full=_n(breakdown.get("full_at")),
                pct=_n(breakdown.get("deduction_pct")),
            )
        )
        if breakdown.get("capped"):
            out.append(
                g(N_("The deduction is capped at %(most)s percent"), most=_n(breakdown.get("max_deduction_pct")))
            )
    step = breakdown.get("bonus_step")
    if step:
        out.append(
            g(
                N_("Bonus step reached (%(score)s points or more): %(pct)s percent of the base"),
                score=_n(step.get("at_least")),
                pct=_n(breakdown.get("bonus_pct")),
            )
        )
        if breakdown.get("bonus_capped"):
            out.append(g(N_("The bonus is capped at %(most)s percent"), most=_n(breakdown.get("max_bonus_pct"))))
    if breakdown.get("limited"):
        out.append(g(N_("The payable is kept between zero and the base with the largest bonus")))
    if breakdown.get("adjusted_payable_fen") is not None:
        out.append(
            g(
                N_("Payable set to %(amount)s yuan by an amendment"),
                amount=payments.yuan(int(breakdown["adjusted_payable_fen"])),
            )
        )
    return out
