"""The geo domain's services. Other domains use this interface:

- :func:`locate` / :func:`locate_many`: point(s) → :class:`Place` (county, township, village, grid, area
  class); :class:`OutsideCounty` (422 ``outside_county``) for a point outside the county.
- :func:`place_address`: a free-text address → the village or township it names (offline, by name).
- :func:`to_wgs84` / :func:`from_wgs84`: coordinates between WGS-84/CGCS2000, GCJ-02 and BD-09.
- :func:`grid_for_code`, :func:`grids_of_worker`, :func:`grids_of_department`: grids with their
  responsible department and grid workers (org ids).
"""

from countyos.geo.service.addresses import AddressPlace
from countyos.geo.service.addresses import place as place_address
from countyos.geo.service.crs import area_m2, distance_m, from_wgs84, normalize_crs, to_wgs84
from countyos.geo.service.divisions import the_county
from countyos.geo.service.grids import GridInfo, grid_for_code, grids_of_department, grids_of_worker
from countyos.geo.service.lookup import OutsideCounty, Place, PlaceBatch, locate, locate_many

__all__ = [
    "AddressPlace",
    "GridInfo",
    "OutsideCounty",
    "Place",
    "PlaceBatch",
    "area_m2",
    "distance_m",
    "from_wgs84",
    "grid_for_code",
    "grids_of_department",
    "grids_of_worker",
    "locate",
    "locate_many",
    "normalize_crs",
    "place_address",
    "the_county",
    "to_wgs84",
]
