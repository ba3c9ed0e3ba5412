import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from countyos.geo.service.partition import bisect_partition, lattice_cells, polygonal


@pytest.mark.parametrize(
    "shape",
    [
        box(0, 0, 4, 1),
        box(0, 0, 1, 4),
        Point(0, 0).buffer(1),
        Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]),
    ],
)
def test_bisection_is_an_exact_partition_in_proportion(shape):
    weights = [1, 2, 0.5, 1, 3, 1, 1]
    parts = bisect_partition(shape, weights)
    assert len(parts) == len(weights)
    total = sum(weights)
    for p, w in zip(parts, weights, strict=True):
        assert p.area == pytest.approx(shape.area * w / total, rel=1e-6)
        assert p.is_valid
    union = shapely.union_all(parts)
    assert union.symmetric_difference(shape).area < 1e-9 * shape.area
    overlap = sum(parts[i].intersection(parts[j]).area for i in range(len(parts)) for j in range(i + 1, len(parts)))
    assert overlap < 1e-9 * shape.area


def test_bisection_runs_west_to_east_and_north_to_south():
    wide = bisect_partition(box(0, 0, 10, 1), [1, 1])
    assert wide[0].centroid.x < wide[1].centroid.x
    tall = bisect_partition(box(0, 0, 1, 10), [1, 1])
    assert tall[0].centroid.y > tall[1].centroid.y


def test_lattice_cells_reading_order_and_cover():
    shape = box(0.2, 0.3, 3.7, 2.9)
    cells = lattice_cells(shape, 1.0)
    keys = [(c.row, c.col) for c in cells]
    assert keys == sorted(keys)  # rows from the north, then columns from the west
    assert cells[0].geom.centroid.y > cells[-1].geom.centroid.y
    assert cells[0].geom.centroid.x < cells[1].geom.centroid.x
    assert shapely.union_all([c.geom for c in cells]).symmetric_difference(shape).area < 1e-9
    # pieces under a quarter of a cell are folded into a neighbour
    assert all(c.geom.area >= 0.25 for c in cells)


def test_lattice_keeps_a_small_shape_whole():
    shape = box(0.1, 0.1, 0.2, 0.2)
    cells = lattice_cells(shape, 1.0)
    assert len(cells) == 1 and cells[0].geom.equals(shape)


def test_polygonal_drops_lines_points_and_specks():
    mixed = shapely.GeometryCollection(
        [box(0, 0, 1, 1), Point(5, 5), shapely.LineString([(0, 0), (3, 3)]), box(10, 10, 10 + 1e-9, 10 + 1e-9)]
    )
    assert polygonal(mixed).equals(box(0, 0, 1, 1))
