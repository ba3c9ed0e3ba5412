"""Pages of the ecology domain, one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.core.i18n import N_
from countyos.eco.pages import air, assets, gep, rivers, water
from countyos.org.service import audit

router = APIRouter()
for part in (air, water, rivers, assets, gep):
    router.include_router(part.router)
NAV = [*air.NAV, *water.NAV, *rivers.NAV, *assets.NAV, *gep.NAV]

# The audit log names every write of the ecology domain.
audit.name_codes(
    actions={
        "eco.air.compute": N_("Air indices recomputed"),
        "eco.air.station.create": N_("Air station added"),
        "eco.air.station.update": N_("Air station changed"),
        "eco.water.section.create": N_("Water section added"),
        "eco.water.section.update": N_("Water section changed"),
        "eco.water.sample.save": N_("Water sample entered"),
        "eco.water.sample.import": N_("Water samples imported"),
        "eco.water.sample.auto": N_("Water sample from an automatic station"),
        "eco.rivers.area.create": N_("River, lake or forest area added"),
        "eco.rivers.area.update": N_("River, lake or forest area changed"),
        "eco.rivers.area.import": N_("Rivers, lakes or forest areas imported"),
        "eco.rivers.chief.assign": N_("Chief assigned"),
        "eco.rivers.chief.end": N_("Chief's assignment ended"),
        "eco.rivers.patrol.start": N_("Patrol started"),
        "eco.rivers.patrol.track": N_("Patrol track received"),
        "eco.rivers.patrol.finish": N_("Patrol finished"),
        "eco.rivers.problem.report": N_("Problem reported on a patrol"),
        "eco.landuse.import": N_("Land-use layer imported"),
        "eco.esv.compute": N_("ESV account kept"),
        "eco.esv.export": N_("ESV account exported"),
        "eco.gep.input": N_("GEP input entered"),
        "eco.gep.inputs_import": N_("GEP inputs imported"),
        "eco.gep.run": N_("GEP account run"),
    },
    targets={
        "eco_air_station": N_("Air station"),
        "eco_water_section": N_("Water section"),
        "eco_river_area": N_("River, lake or forest area"),
        "eco_river_chief": N_("Chief"),
        "eco_river_patrol": N_("Patrol"),
        "eco_river_problem": N_("Patrol problem"),
        "eco_landuse_layer": N_("Land-use layer"),
        "eco_esv_result": N_("ESV account"),
        "eco_gep_input": N_("GEP input"),
        "eco_gep_run": N_("GEP account"),
    },
)
