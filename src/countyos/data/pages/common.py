"""What the data domain's pages share: the navigation group, label maps and the audit log's names."""

from __future__ import annotations

from typing import Any

from countyos.core.i18n import N_
from countyos.data.codes import LABELS, FieldType, Grade, OpenType, RuleKind, ShareMethod, ShareType, UpdateCycle
from countyos.data.lifecycle import ACTION_NAMES, STATE_NAMES
from countyos.data.models import LoadState, RequestState
from countyos.org.service import audit

DATA = N_("Data sharing and open data")  # the navigation group of every data page

LOAD_STATES = {LoadState.LOADED: N_("Loaded"), LoadState.REFUSED: N_("Refused by quality rules"),
               LoadState.FAILED: N_("Failed")}  # fmt: skip
REQUEST_STATES = {RequestState.PENDING: N_("Awaiting decision"), RequestState.APPROVED: N_("Approved"),
                  RequestState.REFUSED: N_("Refused")}  # fmt: skip


def labels_of(resource: Any, names: list[str]) -> list[str]:
    """The Chinese names (信息项 中文名称) of a resource's columns, for people; a column no longer described
    keeps its name."""
    label = {i.name: i.label for i in resource.items}
    return [label.get(n, n) for n in names]


PAGE_LABELS = {
    "share_labels": LABELS[ShareType],
    "method_labels": LABELS[ShareMethod],
    "open_labels": LABELS[OpenType],
    "cycle_labels": LABELS[UpdateCycle],
    "grade_labels": LABELS[Grade],
    "type_labels": LABELS[FieldType],
    "rule_labels": LABELS[RuleKind],
    "state_labels": STATE_NAMES,
    "action_labels": ACTION_NAMES,
    "load_labels": LOAD_STATES,
    "request_labels": REQUEST_STATES,
    "labels_of": labels_of,
}

audit.name_codes(
    actions={
        "data.resource.create": N_("Data resource described"),
        "data.resource.update": N_("Data resource edited"),
        "data.resource.submit": N_("Data resource submitted for review"),
        "data.resource.approve": N_("Data resource review approved"),
        "data.resource.reject": N_("Data resource sent back"),
        "data.resource.request_revoke": N_("Revocation of a data resource asked"),
        "data.resource.redraft": N_("Data resource drafted again"),
        "data.load.loaded": N_("Data loaded"),
        "data.load.refused": N_("Data load refused by quality rules"),
        "data.load.failed": N_("Data load failed"),
        "data.share.request": N_("Shared data requested"),
        "data.share.approved": N_("Request for shared data approved"),
        "data.share.refused": N_("Request for shared data refused"),
        "data.share.grant": N_("Grant of shared data issued"),
        "data.share.revoke": N_("Grant of shared data revoked"),
        "data.share.call": N_("Shared data read through a grant"),
        "data.connector.create": N_("Data connector defined"),
        "data.connector.run": N_("Data connector run"),
    },
    targets={
        "data_resource": N_("Data resource"),
        "data_share_request": N_("Request for shared data"),
        "data_grant": N_("Grant of shared data"),
    },
)
