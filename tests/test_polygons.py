"""Facies polygon files: format round trip, the picking operations, bad files, the CLI."""

import json

import numpy as np
import pytest

import aaspi_py
from aaspi_py.cli.commands import main
from aaspi_py.framework.errors import AaspiError
from aaspi_py.training import polygons as P

TRIANGLE = [(10, 0), (14, 0), (14, 8)]


@pytest.fixture
def survey(project):
    """A project with a 5 × 6 × 10 volume 'amp' (inlines 100..104, crosslines 10..20 step 2)."""
    a = np.arange(5 * 6 * 10, dtype="f4").reshape(5, 6, 10)
    aaspi_py.save_volume(a, project.volumes_dir / "amp.zarr", inline=np.arange(100, 105),
                         crossline=np.arange(10, 22, 2), sample=np.arange(10) * 4.0)
    return project


# ---------------------------------------------------------------- file format

def test_round_trip_keeps_every_field(tmp_path):
    ff = P.FaciesFile("salt", "#d62728", "amplitude", [
        P.Polygon(1, "inline", 120, [(300, 400.0), (340, 400.0), (340.5, 480.25)]),
        P.Polygon(2, "crossline", 340, [(100, 0), (120, 0), (120, 40)]),
        P.Polygon(5, "sample", 800.5, [(100, 300), (110, 300), (110, 320), (100, 320)]),
    ])
    path = ff.save(tmp_path / "salt.json")
    back = P.FaciesFile.load(path)
    assert back == ff and back.path == path
    data = json.loads(path.read_text())
    assert data["format"] == "aaspi_py.facies" and data["version"] == 1
    assert data["polygons"][0] == {"id": 1, "slice": "inline", "line": 120,
                                   "vertices": [[300, 400], [340, 400], [340.5, 480.25]]}
    assert data["polygons"][2]["line"] == 800.5
    # human-readable: one line per polygon
    assert sum('"id":' in line for line in path.read_text().splitlines()) == 3
    assert [p.axes for p in back.polygons] == [("crossline", "sample"), ("inline", "sample"),
                                               ("inline", "crossline")]


def _write(tmp_path, obj):
    path = tmp_path / "bad.json"
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


GOOD = {"format": "aaspi_py.facies", "version": 1, "facies": "salt", "color": "#d62728", "volume": "amp"}


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON (line 1: Expecting property name enclosed in double quotes); fix or delete it."),
    ({"facies": "salt"}, 'is not an aaspi_py facies file (no "format": "aaspi_py.facies").'),
    ({**GOOD, "version": 2}, ": facies file version 2 is not supported (this aaspi_py reads version 1); upgrade aaspi_py."),
    ({**GOOD, "color": "red"}, ": color 'red' is not '#rrggbb'; fix it or remove the key."),
    ({**GOOD, "polygons": [{"id": 1, "slice": "time", "line": 8, "vertices": []}]},
     ": polygon 1: slice must be one of inline, crossline, sample, got 'time'."),
    ({**GOOD, "polygons": [{"id": 2, "slice": "inline", "line": 8}]}, ": polygon 2: missing 'vertices'."),
    ({**GOOD, "polygons": [{"id": 2, "slice": "inline", "line": 8.5, "vertices": [[1, 2]]}]},
     ": polygon 2: inline line must be a whole line number, got 8.5."),
    ({**GOOD, "polygons": [{"id": 3, "slice": "inline", "line": 8, "vertices": [[1, 2, 3]]}]},
     ": polygon 3: vertices must be a list of [x, y] pairs of finite numbers."),
    ({**GOOD, "polygons": [{"id": 1, "slice": "inline", "line": 8, "vertices": [[1, 2]]},
                           {"id": 1, "slice": "inline", "line": 9, "vertices": [[1, 2]]}]},
     ": polygon 1: id 1 is used twice; give each polygon its own id."),
    ({**GOOD, "polygons": [{"id": "a", "slice": "inline", "line": 8, "vertices": [[1, 2]]}]},
     ": polygon #1: id must be a positive integer, got 'a'."),
])
def test_bad_files_give_one_line_naming_file_and_polygon(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(AaspiError) as e:
        P.FaciesFile.load(path)
    sep = " " if message.startswith("is") else ""
    assert str(e.value) == f"{path}{sep}{message}"


def test_missing_file(project):
    with pytest.raises(AaspiError) as e:
        P.read_facies(project, "salt")
    assert str(e.value) == (f"Facies 'salt' not found (no {project.polygons_dir / 'salt.json'}); "
                            f"facies in the project: none.")


# ---------------------------------------------------------------- operations

def test_save_polygon_to_new_file_defaults_and_refuses_clobber(survey):
    ff = P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, volume="amp")
    assert ff.facies == "polygon" and ff.path == survey.polygons_dir / "polygon.json"
    assert ff.polygons == [P.Polygon(1, "inline", 102, TRIANGLE)] and ff.color == P.PALETTE[0]
    with pytest.raises(AaspiError) as e:
        P.save_polygon_to_new_file(survey, "inline", 103, TRIANGLE)
    assert str(e.value) == (f"Facies file {ff.path} already exists; rename that facies first, add the polygon "
                            f"to it, or allow overwriting.")
    again = P.save_polygon_to_new_file(survey, "inline", 103, TRIANGLE, overwrite=True)
    assert P.read_facies(survey, "polygon").polygons[0].line == 103 and again.polygons[0].id == 1


def test_colours_come_from_the_palette_and_stay_distinct(survey):
    colors = [P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, facies=f).color
              for f in ("a", "b", "c")]
    assert colors == list(P.PALETTE[:3])
    assert P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, facies="d", color="#000000").color == "#000000"
    with pytest.raises(AaspiError, match=r"Colour 'blue' is not '#rrggbb'"):
        P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, facies="e", color="blue")


def test_add_rename_list_delete(survey):
    P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, volume="amp")
    p2 = P.add_polygon(survey, "polygon", "sample", 8.0, [(100, 10), (103, 10), (103, 16)])
    p3 = P.add_polygon(survey, "polygon", "crossline", 12, [(100, 0), (104, 0), (104, 36)])
    assert (p2.id, p3.id) == (2, 3)
    renamed = P.rename_facies(survey, "polygon", "salt")
    assert not (survey.polygons_dir / "polygon.json").exists()
    assert json.loads((survey.polygons_dir / "salt.json").read_text())["facies"] == "salt"
    assert renamed.polygons == P.read_facies(survey, "salt").polygons
    assert [(f.facies, p.id) for f, p in P.list_polygons(survey)] == [("salt", 1), ("salt", 2), ("salt", 3)]
    assert [p.id for _, p in P.polygons_on_slice(survey, "sample", 8.0)] == [2]
    assert P.delete_polygon(survey, "salt", 2).slice == "sample"
    assert [p.id for p in P.read_facies(survey, "salt").polygons] == [1, 3]
    assert P.add_polygon(survey, "salt", "inline", 100, TRIANGLE).id == 4  # the next id follows the highest
    with pytest.raises(AaspiError) as e:
        P.delete_polygon(survey, "salt", 9)
    assert str(e.value) == f"{survey.polygons_dir / 'salt.json'}: no polygon 9 (polygons: 1, 3, 4)."


def test_replace_polygon_keeps_id_slice_and_order(survey):
    P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, volume="amp")
    P.add_polygon(survey, "polygon", "sample", 8.0, [(100, 10), (103, 10), (103, 16)])
    new = P.replace_polygon(survey, "polygon", 1, [(10, 0), (16, 0), (16, 12), (10, 12)])
    assert new == P.Polygon(1, "inline", 102, [(10, 0), (16, 0), (16, 12), (10, 12)])
    assert P.read_facies(survey, "polygon").polygons[0] == new
    with pytest.raises(AaspiError, match="polygon 2: vertex 3 .* is outside the survey"):
        P.replace_polygon(survey, "polygon", 2, [(100, 10), (103, 10), (109, 16)])
    assert P.read_facies(survey, "polygon").polygons[1].vertices[2] == (103, 16)


def test_rename_refuses_to_clobber(survey):
    P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, facies="a")
    P.save_polygon_to_new_file(survey, "inline", 103, TRIANGLE, facies="b")
    with pytest.raises(AaspiError) as e:
        P.rename_facies(survey, "a", "b")
    assert str(e.value) == (f"Cannot rename facies 'a' to 'b': {survey.polygons_dir / 'b.json'} already exists; "
                            f"choose another name or allow overwriting.")
    P.rename_facies(survey, "a", "b", overwrite=True)
    assert P.list_facies(survey) == ["b"] and P.read_facies(survey, "b").polygons[0].line == 102
    with pytest.raises(AaspiError, match="Invalid facies name 'x/y'"):
        P.rename_facies(survey, "b", "x/y")


def test_saving_refuses_bad_polygons(survey):
    path = survey.polygons_dir / "polygon.json"
    with pytest.raises(AaspiError) as e:
        P.save_polygon_to_new_file(survey, "inline", 102, [(10, 0), (14, 8), (14, 0), (10, 8)])
    assert str(e.value) == f"{path}: polygon 1: self-intersecting: edges 1-2 and 3-4 cross or touch; redraw it."
    with pytest.raises(AaspiError) as e:  # outside the survey of the volume it was picked on
        P.save_polygon_to_new_file(survey, "inline", 102, [(10, 0), (30, 0), (14, 8)], volume="amp")
    assert str(e.value) == (f"{path}: polygon 1: vertex 2 (crossline 30, sample 0) is outside the survey "
                            f"(crosslines 10..20, samples 0..36 ms); move it inside the volume.")
    assert not path.exists()
    P.save_polygon_to_new_file(survey, "inline", 102, TRIANGLE, volume="amp")
    with pytest.raises(AaspiError, match="polygon 2: inline 99 is not in the volume"):
        P.add_polygon(survey, "polygon", "inline", 99, TRIANGLE)
    assert len(P.read_facies(survey, "polygon").polygons) == 1


# ---------------------------------------------------------------- CLI

def _cli(capsys, *args):
    code = main(["polygon", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_polygon_commands(survey, capsys, tmp_path):
    root = str(survey.root)
    code, out, _ = _cli(capsys, "new", "-p", root, "--slice", "inline", "--line", "102",
                        "--vertices", "10,0 14,0 14,8", "--volume", "amp")
    assert code == 0 and "saved polygon 1 of facies 'polygon'" in out
    verts = tmp_path / "v.csv"
    verts.write_text("inline,crossline\n100,10\n103,10\n103,16\n")
    code, out, _ = _cli(capsys, "add", "polygon", "-p", root, "--slice", "sample", "--line", "8",
                        "--from", str(verts))
    assert code == 0 and out.startswith("added polygon 2: sample 8, 3 vertices")
    js = tmp_path / "v.json"
    js.write_text(json.dumps([[100, 0], [104, 0], [104, 36]]))
    assert _cli(capsys, "add", "polygon", "-p", root, "--slice", "crossline", "--line", "12", "--from", str(js))[0] == 0
    assert _cli(capsys, "rename", "polygon", "salt", "-p", root)[0] == 0
    code, out, _ = _cli(capsys, "delete", "salt", "2", "-p", root)
    assert code == 0 and out.startswith("deleted polygon 2: sample 8")
    code, out, _ = _cli(capsys, "list", "-p", root)
    assert out.splitlines() == ["salt (#d62728, picked on amp): 2 polygons",
                                "  polygon 1: inline 102, 3 vertices",
                                "  polygon 3: crossline 12, 3 vertices"]
    assert P.read_facies(survey, "salt").polygons[1].vertices == [(100, 0), (104, 0), (104, 36)]


@pytest.mark.parametrize("args, message", [
    (["new", "--slice", "inline", "--line", "102", "--vertices", "10,0 14"],
     "--vertices: '14' is not an x,y pair; write vertices as 'x1,y1 x2,y2 x3,y3'."),
    (["new", "--slice", "inline", "--line", "x", "--vertices", "10,0 14,0 14,8"], "--line: 'x' is not a number."),
    (["new", "--line", "102", "--vertices", "10,0 14,0 14,8"],
     "Give the slice direction with --slice inline|crossline|sample."),
    (["new", "--slice", "inline", "--line", "102"],
     "Give the vertices with either --vertices 'x1,y1 x2,y2 x3,y3' or --from FILE."),
    (["new", "--slice", "inline", "--line", "102", "--vertices", "10,0 14,0 14,8", "--facies", "a b"],
     "Invalid facies name 'a b': use letters, digits, '_', '.' or '-' (no spaces or slashes)."),
    (["add", "nope", "--slice", "inline", "--line", "102", "--vertices", "10,0 14,0 14,8"],
     "Facies 'nope' not found (no {polygons}/nope.json); facies in the project: none."),
    (["delete", "salt", "one"], "Polygon id 'one' is not a whole number; `aaspi polygon list` shows the ids."),
    (["new", "--slice", "inline", "--line", "102", "--vertices", "10,0 12,4 14,8"],
     "{polygons}/polygon.json: polygon 1: degenerate: zero area (all vertices on one line); redraw it."),
])
def test_cli_bad_input_exits_2_with_one_line(survey, capsys, args, message):
    code, out, err = _cli(capsys, *args, "-p", str(survey.root))
    assert code == 2 and out == ""
    assert err == f"aaspi: error: {message.format(polygons=survey.polygons_dir)}\n"
