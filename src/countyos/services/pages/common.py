"""What the services domain's pages share."""

from __future__ import annotations

from countyos.core.i18n import N_

SERVICES = N_("Government services")  # the navigation group of every services page
