"""The slice viewer: slices in survey coordinates, colour maps by kind, co-rendering (offscreen)."""

import numpy as np
import pytest
from aaspi_py.gui.slice_plot import SEISMIC
from aaspi_py.gui.slice_viewer import SliceViewer

import aaspi_py
from aaspi_py.training.polygons import save_polygon_to_new_file

SHAPE = (6, 8, 20)
GRID = {"inline": np.arange(200, 212, 2), "crossline": np.arange(10, 18), "sample": 500.0 + 4.0 * np.arange(20)}


@pytest.fixture
def viewer(qtbot, project, rng):
    amp = rng.standard_normal(SHAPE).astype("f4")
    amp[0, 0] = 0.0
    aaspi_py.save_volume(amp, project.volumes_dir / "amplitude.zarr", kind="amplitude",
                         trace_mask=np.arange(48).reshape(6, 8) != 0, **GRID)
    like = project.volume_path("amplitude")
    aaspi_py.save_volume(rng.uniform(0, 1, SHAPE), project.volumes_dir / "prob.zarr", like=like, kind="probability")
    classes = np.ones(SHAPE, "i2")
    classes[:, 4:] = 2
    aaspi_py.save_volume(classes, project.volumes_dir / "classes.zarr", like=like, kind="classification",
                         attrs={"classes": {"1": "salt", "2": "mtd"}})
    save_polygon_to_new_file(project, "inline", 204, [(11, 510), (14, 510), (14, 540)], facies="salt",
                             color="#123456")
    v = SliceViewer(project)
    qtbot.addWidget(v)
    return v


def test_inline_slice_is_drawn_in_line_numbers_and_ms(viewer):
    viewer.show_volumes("amplitude")
    viewer.set_slice("inline", 204)
    ds = viewer.dataset("amplitude")[0]
    image = viewer.plot.base.image
    assert image.shape == (20, 8)  # rows = samples (ms), columns = crosslines
    np.testing.assert_array_equal(image, ds.iline[204].T)
    rect = viewer.plot.base.mapRectToParent(viewer.plot.base.boundingRect())
    assert (rect.left(), rect.right(), rect.top(), rect.bottom()) == (9.5, 17.5, 498.0, 578.0)
    viewer.set_slice("sample", 520.0)
    assert viewer.plot.base.image.shape == (8, 6)  # time slice: rows = crosslines, columns = inlines
    assert np.isnan(viewer.plot.base.image[0, 0])  # the dead trace


def test_colour_maps_follow_the_volume_kind(viewer):
    viewer.show_volumes("amplitude")
    layer = viewer.dataset("amplitude")[1]
    assert layer.cmap is SEISMIC and layer.levels[0] == -layer.levels[1] > -10
    assert viewer.plot.colorbar.isVisible() and viewer.legend.isHidden()
    viewer.show_volumes("prob")
    assert viewer.dataset("prob")[1].levels == (0.0, 1.0) and viewer.plot.colorbar.isVisible()
    viewer.show_volumes("classes")
    assert not viewer.plot.colorbar.isVisible()
    assert "1 salt" in viewer.legend.text() and "2 mtd" in viewer.legend.text()
    assert "#123456" in viewer.legend.text()  # the facies colour from polygons/salt.json
    rgba = viewer.plot.base.image
    assert tuple(rgba[0, 0]) == (0x12, 0x34, 0x56, 255)


def test_result_co_rendered_over_amplitude(viewer):
    viewer.show_volumes("amplitude", "classes", opacity=0.4)
    assert viewer.plot.overlay.isVisible() and viewer.plot.overlay.opacity() == pytest.approx(0.4)
    assert viewer.plot.base.image.ndim == 2 and viewer.plot.overlay.image.shape == (20, 8, 4)
    viewer.opacity.setValue(80)
    assert viewer.plot.overlay.opacity() == pytest.approx(0.8)
    viewer.show_volumes("amplitude", None)
    assert not viewer.plot.overlay.isVisible()


def _where_colour(png, colour):
    """Median (column, row) of the pixels of one exact colour in a PNG."""
    import matplotlib.image as mpimg

    rgb = (mpimg.imread(png)[..., :3] * 255).round().astype(int)
    want = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    rows, cols = np.nonzero(np.all(rgb == want, axis=-1))
    return np.median(cols), np.median(rows), len(rows)


def test_time_slice_png_and_viewer_share_orientation_and_facies_colours(viewer, tmp_path):
    from aaspi_py.forest.report import timeslice_png
    from aaspi_py.training.polygons import facies_colors

    project = viewer.project
    save_polygon_to_new_file(project, "inline", 204, [(11, 560), (14, 560), (14, 590)], facies="mtd",
                             color="#00a050")
    colours = facies_colors(project)
    # class 1 (salt) only at high inlines and high crosslines, class 2 (mtd) elsewhere
    classes = np.full(SHAPE[:2], 2, "i2")
    classes[3:, 4:] = 1
    il, xl = GRID["inline"], GRID["crossline"]
    png = tmp_path / "slice.png"
    timeslice_png(png, classes, ["salt", "mtd"], [il[0], il[-1], xl[0], xl[-1]], 520.0,
                  colors=[colours["salt"], colours["mtd"]])
    salt_x, salt_y, n_salt = _where_colour(png, colours["salt"])
    mtd_x, mtd_y, n_mtd = _where_colour(png, colours["mtd"])
    # PNG: inline grows to the right, crossline upwards (image rows grow downwards)
    assert n_salt > 100 and n_mtd > n_salt and salt_x > mtd_x and salt_y < mtd_y

    # viewer: the same slice has x = inline, y = crossline upwards, the same colours
    aaspi_py.save_volume(np.repeat(classes[:, :, None], SHAPE[2], axis=2), project.volumes_dir / "cls.zarr",
                         like=project.volume_path("amplitude"), kind="classification",
                         attrs={"classes": {"1": "salt", "2": "mtd"}})
    viewer.set_volumes({n: project.volume_path(n) for n in project.volumes()})
    viewer.show_volumes("cls")
    viewer.set_slice("sample", 520.0)
    sl, layer = viewer.plot.current, viewer.dataset("cls")[1]
    assert list(sl.x) == list(il) and list(sl.y) == list(xl)
    assert not viewer.plot.getPlotItem().getViewBox().yInverted()
    expected = classes.T.copy()
    expected[0, 0] = 0  # the fixture's dead trace
    assert np.array_equal(sl.image, expected)
    assert layer.colors == {1: colours["salt"], 2: colours["mtd"]}
