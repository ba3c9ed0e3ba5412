"""What the services domain's pages share."""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.org.service import audit

SERVICES = N_("Government services")  # the navigation group of every services page

# Every write to an application is audited as ``services.application.<action>`` (the lifecycle's actions,
# its creation and its material files): their names in the audit log, once for every page.
APPLICATION_AUDIT: dict[str, str] = {
    "services.application.create": N_("Application created"),
    "services.application.material_file": N_("Application material file added"),
    "services.application.submit": N_("Application submitted"),
    "services.application.request_correction": N_("Corrections requested (one complete notice)"),
    "services.application.resubmit": N_("Corrected materials submitted"),
    "services.application.accept": N_("Application accepted"),
    "services.application.accept_immediate": N_("Application accepted and concluded at once"),
    "services.application.reject": N_("Application not accepted"),
    "services.application.pass": N_("Application step approved"),
    "services.application.return": N_("Application step returned"),
    "services.application.step_other": N_("Other action on an application step"),
    "services.application.start_special": N_("Special procedure started"),
    "services.application.end_special": N_("Special procedure ended"),
    "services.application.deliver": N_("Application result delivered"),
    "services.application.withdraw": N_("Application withdrawn"),
    "services.application.lapse": N_("Application treated as withdrawn"),
    "services.application.supervise": N_("Application supervised"),
    "services.application.comment": N_("Comment on an application"),
}
audit.name_codes(actions=APPLICATION_AUDIT, targets={"services_application": N_("Service application")})
