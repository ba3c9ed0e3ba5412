"""Names people read for the codes of the case directory (steps, time units, kinds, priorities,
channels). Templates look a code up here and translate it; a code never shows as itself."""

from __future__ import annotations

from countyos.cases import lifecycle
from countyos.cases.models import CallbackWay, CategoryKind, Channel, DemandType, Priority, Step
from countyos.core.i18n import N_
from countyos.core.workcal import TimeUnit
from countyos.org.service import audit

STEP_LABELS: dict[str, str] = {
    Step.ACCEPT: N_("Acceptance"),
    Step.VERIFY: N_("Verification"),
    Step.REGISTER: N_("Registration"),
    Step.DISPATCH: N_("Dispatch"),
    Step.HANDLE: N_("Handling"),
    Step.CHECK: N_("Checking"),
    Step.CLOSE: N_("Closing"),
}
UNIT_LABELS: dict[str, str] = {
    TimeUnit.WORKING_HOURS: N_("Working hours"),
    TimeUnit.WORKING_DAYS: N_("Working days"),
    TimeUnit.HOURS: N_("Natural hours"),
}
KIND_LABELS: dict[str, str] = {
    CategoryKind.COMPONENT: N_("Management component"),
    CategoryKind.MATTER: N_("Management matter"),
    CategoryKind.HOTLINE: N_("12345 hotline category"),
    CategoryKind.LOCAL: N_("Local category"),
}
PRIORITY_LABELS: dict[str, str] = {
    Priority.NORMAL: N_("Normal"),
    Priority.URGENT: N_("Urgent"),
    Priority.CRITICAL: N_("Critical"),
}
CHANNEL_LABELS: dict[str, str] = {
    Channel.GRID: N_("Grid worker patrol"),
    Channel.WEB: N_("Citizen web form"),
    Channel.OPEN311: N_("Open311 app"),
    Channel.HOTLINE: N_("12345 hotline"),
    Channel.STAFF: N_("Operations centre staff"),
    Channel.IOT: N_("Sensing alarm"),
    Channel.CAMERA: N_("Camera detection"),
}
DEMAND_LABELS: dict[str, str] = {
    DemandType.CONSULT: N_("Enquiry"),
    DemandType.HELP: N_("Request for help"),
    DemandType.COMPLAINT: N_("Complaint"),
    DemandType.REPORT: N_("Tip-off"),
    DemandType.SUGGESTION: N_("Suggestion"),
    DemandType.PRAISE: N_("Praise"),
}
CALLBACK_LABELS: dict[str, str] = {
    CallbackWay.PHONE: N_("By phone"),
    CallbackWay.SMS: N_("By text message"),
}
ALL = {
    "step_labels": STEP_LABELS,
    "unit_labels": UNIT_LABELS,
    "kind_labels": KIND_LABELS,
    "priority_labels": PRIORITY_LABELS,
    "channel_labels": CHANNEL_LABELS,
    "demand_labels": DEMAND_LABELS,
    "callback_labels": CALLBACK_LABELS,
}

# The audit log names the cases domain's codes: every lifecycle action ("case.dispatch") and the rest.
audit.name_codes(
    actions={
        **{f"case.{code}": label for code, label in lifecycle.ACTION_LABELS.items()},
        "case.caller.lookup": N_("Caller's past cases looked up by phone number"),
        "case.intake.classify": N_("Message categorised and placed at the intake desk"),
        "case.phrase.add": N_("Stock phrase added"),
        "case.phrase.remove": N_("Stock phrase removed"),
        "case.attachment.publish": N_("Case photo published or withdrawn"),
        "case.attachment.upload": N_("Case photo uploaded"),
        "case.category.create": N_("Category created"),
        "case.category.import": N_("Category directory imported"),
        "case.category.update": N_("Category changed"),
        "case.demo.history": N_("Demo case history generated"),
        "case.evaluation.export": N_("Evaluation exported"),
        "case.evaluation.scheme": N_("Evaluation weights changed"),
        "case.hotline.import": N_("12345 work orders imported"),
        "case.keep_apart": N_("Cases kept apart"),
        "case.limit.set": N_("Time limit set"),
        "case.report": N_("Case reported"),
        "case.reporter.reveal": N_("Reporter's phone number viewed"),
        "case.routing.delete": N_("Routing rule deleted"),
        "case.routing.save": N_("Routing rule saved"),
    },
    targets={
        "case": N_("Case"),
        "case_attachment": N_("Case photo"),
        "case_stock_phrase": N_("Stock phrase"),
        "caller": N_("Caller"),
        "case_category": N_("Category"),
        "case_eval_scheme": N_("Evaluation scheme"),
        "case_routing_rule": N_("Routing rule"),
    },
)
