"""Rasterisation of polygons: hand-computed masks, the boundary rule, and every refusal."""

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from aaspi_py.framework.errors import AaspiError
from aaspi_py.training.polygons import Polygon
from aaspi_py.training.rasterize import (
    Grid,
    point_in_polygon,
    polygon_voxels,
    shape_problem,
    slice_mask,
)

SRC = "polygons/test.json"


def grid(mask=None, sample=None):
    """8 inlines 100..114 step 2, 8 crosslines 10..24 step 2, 8 samples 0..28 ms."""
    return Grid(inline=np.arange(100, 116, 2), crossline=np.arange(10, 26, 2),
                sample=np.arange(8) * 4.0 if sample is None else sample,
                trace_mask=np.ones((8, 8), bool) if mask is None else mask)


def big_grid():
    """10 × 10 × 10 nodes at unit steps, for the larger hand masks."""
    return Grid(np.arange(10), np.arange(10), np.arange(10.0), np.ones((10, 10), bool))


def art(text):
    """A hand-drawn mask: one row per first-axis index, 'X' = inside."""
    return np.array([[c == "X" for c in row.strip()] for row in text.strip().splitlines()])


def inline_poly(index_vertices, pid=1):
    """A polygon on inline 104 from (crossline index, sample index) vertices of ``grid()``."""
    v = [(10 + 2 * a, 4.0 * b) for a, b in index_vertices]
    return Polygon(pid, "inline", 104, v)


# ---------------------------------------------------------------- hand masks

def test_rectangle_with_vertices_on_nodes_includes_its_edges():
    mask = slice_mask(inline_poly([(1, 1), (4, 1), (4, 4), (1, 4)]), grid(), SRC)
    expected = art("""
        ........
        .XXXX...
        .XXXX...
        .XXXX...
        .XXXX...
        ........
        ........
        ........""")
    assert mask.shape == (8, 8)  # (crossline, sample) on an inline slice
    assert np.array_equal(mask, expected)


def test_concave_u_shape():
    u = [(0, 0), (6, 0), (6, 6), (4, 6), (4, 2), (2, 2), (2, 6), (0, 6)]
    expected = art("""
        XXXXXXX.
        XXXXXXX.
        XXXXXXX.
        XXX.....
        XXXXXXX.
        XXXXXXX.
        XXXXXXX.
        ........""")
    assert np.array_equal(slice_mask(inline_poly(u), grid(), SRC), expected)


def test_triangle_diagonal_edge_and_off_node_vertices():
    on_nodes = slice_mask(inline_poly([(0, 0), (6, 0), (0, 6)]), grid(), SRC)
    expected = art("""
        XXXXXXX.
        XXXXXX..
        XXXXX...
        XXXX....
        XXX.....
        XX......
        X.......
        ........""")
    assert np.array_equal(on_nodes, expected)
    # vertices half a step off the nodes: a >= 1, b >= 1, a + b <= 7
    off = slice_mask(inline_poly([(0.5, 0.5), (6.5, 0.5), (0.5, 6.5)]), grid(), SRC)
    expected_off = art("""
        ........
        .XXXXXX.
        .XXXXX..
        .XXXX...
        .XXX....
        .XX.....
        .X......
        ........""")
    assert np.array_equal(off, expected_off)


def test_two_polygons_around_a_hole():
    g = big_grid()
    a = Polygon(1, "sample", 5.0, [(0, 0), (0, 8), (2, 8), (2, 2), (8, 2), (8, 0)])
    b = Polygon(2, "sample", 5.0, [(8, 2), (8, 8), (2, 8), (2, 6), (6, 6), (6, 2)])
    ma, mb = slice_mask(a, g, SRC), slice_mask(b, g, SRC)
    expected = art("""
        XXXXXXXXX.
        XXXXXXXXX.
        XXXXXXXXX.
        XXX...XXX.
        XXX...XXX.
        XXX...XXX.
        XXXXXXXXX.
        XXXXXXXXX.
        XXXXXXXXX.
        ..........""")
    assert np.array_equal(ma | mb, expected)
    # the L-shapes share the nodes of their two common edges
    assert sorted(zip(*np.nonzero(ma & mb))) == [(2, 6), (2, 7), (2, 8), (6, 2), (7, 2), (8, 2)]


@pytest.mark.parametrize("direction", ["inline", "crossline", "sample"])
def test_every_slice_direction_gives_its_voxels(direction):
    g = grid()
    tri = [(1, 1), (4, 1), (1, 4)]  # index coordinates on the slice
    nodes = [(a, b) for a in range(8) for b in range(8) if a >= 1 and b >= 1 and a + b <= 5]
    to_survey = {
        "inline": (lambda a, b: (10 + 2 * a, 4.0 * b), 104, lambda a, b: (2, a, b)),
        "crossline": (lambda a, b: (100 + 2 * a, 4.0 * b), 16, lambda a, b: (a, 3, b)),
        "sample": (lambda a, b: (100 + 2 * a, 10 + 2 * b), 20.0, lambda a, b: (a, b, 5)),
    }[direction]
    conv, line, voxel = to_survey
    poly = Polygon(7, direction, line, [conv(a, b) for a, b in tri])
    got = polygon_voxels(poly, g, SRC)
    assert len(nodes) == 10
    assert got.tolist() == sorted(list(voxel(a, b)) for a, b in nodes)


# ---------------------------------------------------------------- boundary rule

def test_nodes_exactly_on_vertices_and_edges_are_inside():
    square = np.array([(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)])
    diamond = np.array([(2.0, 0.0), (4.0, 2.0), (2.0, 4.0), (0.0, 2.0)])
    on = np.array([(0, 0), (4, 4), (2, 0), (4, 3), (0, 1)])
    assert point_in_polygon(on, square).all()
    assert point_in_polygon(np.array([(2, 0), (3, 1), (1, 3), (0, 2)]), diamond).all()  # vertices, diagonals
    assert not point_in_polygon(np.array([(-0.01, 2), (2, 4.01), (4.01, 4.01)]), square).any()
    assert not point_in_polygon(np.array([(3.01, 3.01), (0.99, 0.99)]), diamond).any()


def test_on_edge_survives_inexact_sample_coordinates():
    # 0.1 s samples: 0.3 is 0.30000000000000004 on the grid, the vertex says 0.3
    g = grid(sample=np.arange(8) * 0.1)
    poly = Polygon(1, "inline", 104, [(12, 0.3), (16, 0.3), (16, 0.6), (12, 0.6)])
    mask = slice_mask(poly, g, SRC)
    assert mask[1:4, 3:7].all() and mask.sum() == 12


def test_orientation_and_start_vertex_do_not_matter(rng):
    u = [(0, 0), (6, 0), (6, 6), (4, 6), (4, 2), (2, 2), (2, 6), (0, 6)]
    ref = slice_mask(inline_poly(u), grid(), SRC)
    for verts in (u[::-1], u[3:] + u[:3], (u[::-1])[5:] + (u[::-1])[:5]):
        assert np.array_equal(slice_mask(inline_poly(verts), grid(), SRC), ref)


def test_interior_agrees_with_matplotlib(rng):
    for _ in range(20):
        n = int(rng.integers(3, 12))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(2, 9, n)
        verts = np.column_stack([10 + radii * np.cos(angles), 10 + radii * np.sin(angles)])
        pts = rng.uniform(0, 20, (2000, 2))
        ours = point_in_polygon(pts, verts)
        theirs = MplPath(verts).contains_points(pts)
        assert np.array_equal(ours, theirs)


def test_dead_traces_are_skipped():
    mask = np.ones((8, 8), bool)
    mask[2, 3] = False  # inline 104, crossline 16
    mask[0, :] = False  # inline 100
    g = grid(mask)
    vox = polygon_voxels(inline_poly([(0, 0), (7, 0), (7, 7), (0, 7)]), g, SRC)
    assert len(vox) == 7 * 8 and 3 not in vox[:, 1]
    on_sample = slice_mask(Polygon(1, "sample", 8.0, [(100, 10), (114, 10), (114, 24), (100, 24)]), g, SRC)
    assert np.array_equal(on_sample, mask)


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize("vertices, problem", [
    ([(10, 0), (12, 0), (10, 0)], "degenerate: 2 distinct vertices, a polygon needs at least 3"),
    ([(10, 0), (10, 0), (12, 4), (12, 4)], "degenerate: 2 distinct vertices, a polygon needs at least 3"),
    ([(10, 0), (12, 4), (14, 8)], "degenerate: zero area (all vertices on one line)"),
    ([(10, 4), (12, 4), (16, 4)], "degenerate: zero area (all vertices on one line)"),
    ([(10, 0), (14, 8), (14, 0), (10, 8)], "self-intersecting: edges 1-2 and 3-4 cross or touch"),
    ([(10, 0), (18, 0), (14, 8), (18, 16), (10, 16), (14, 8)],
     "self-intersecting: edges 2-3 and 5-6 cross or touch"),
    ([(10, 0), (18, 0), (18, 16), (14, 0)], "self-intersecting: edges 4-1 and 1-2 overlap (the outline doubles back)"),
])
def test_bad_shapes_give_one_line(vertices, problem):
    poly = Polygon(3, "inline", 104, vertices)
    with pytest.raises(AaspiError) as e:
        slice_mask(poly, grid(), SRC)
    assert str(e.value) == f"{SRC}: polygon 3: {problem}; redraw it."


def test_every_non_adjacent_edge_pair_is_tested():
    # a long zig-zag whose last edge cuts back across its first ones
    v = [(0, 0), (10, 0), (10, 1), (1, 1), (1, 2), (10, 2), (10, 3), (0.5, 3), (0.5, -1)]
    assert shape_problem(np.array(v)) == "self-intersecting: edges 1-2 and 8-9 cross or touch"
    assert shape_problem(np.array(v[:-1] + [(0, 3)])) is None


@pytest.mark.parametrize("poly, message", [
    (Polygon(4, "inline", 105, [(10, 0), (12, 0), (12, 4)]),
     "polygon 4: inline 105 is not in the volume (inlines 100..114); pick it on one of the volume's inlines."),
    (Polygon(4, "sample", 2.0, [(100, 10), (102, 10), (102, 12)]),
     "polygon 4: sample 2 is not in the volume (samples 0..28 ms); pick it on one of the volume's samples."),
    (Polygon(4, "crossline", 12, [(100, 0), (116, 0), (100, 8)]),
     "polygon 4: vertex 2 (inline 116, sample 0) is outside the survey (inlines 100..114, samples 0..28 ms); "
     "move it inside the volume."),
    (Polygon(4, "inline", 100, [(10, 0), (12, 0), (12, -4)]),
     "polygon 4: vertex 3 (crossline 12, sample -4) is outside the survey (crosslines 10..24, samples 0..28 ms); "
     "move it inside the volume."),
])
def test_out_of_survey_gives_one_line(poly, message):
    with pytest.raises(AaspiError) as e:
        slice_mask(poly, grid(), SRC)
    assert str(e.value) == f"{SRC}: {message}"
