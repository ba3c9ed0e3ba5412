"""What the market part reads of the certs part: the 承诺达标合格证 numbers of batches (for the 入市查验)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.village.models.certs import Certificate


def certificate_numbers(session: Session, *, batch_ids: list[int]) -> set[str]:
    """The numbers of the certificates in force (not revoked) issued for these batches."""
    if not batch_ids:
        return set()
    return set(
        session.scalars(
            select(Certificate.number).where(Certificate.batch_id.in_(batch_ids), Certificate.revoked_at.is_(None))
        )
    )
