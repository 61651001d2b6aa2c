"""Choosing inputs: volume kinds and grids, training-set attributes, earlier outputs, and
putting a deleted polygon back (the library calls behind the GUI's pickers and checks)."""

import json

import numpy as np
import pytest

import aaspi_py
from aaspi_py.framework.errors import AaspiError
from aaspi_py.training.polygons import (
    delete_polygon,
    facies_colors,
    read_facies,
    restore_polygon,
    save_polygon_to_new_file,
)
from aaspi_py.training.volume_catalog import (
    catalog,
    check_input_volumes,
    earlier_outputs,
    training_set_volumes,
    usable_volumes,
)


@pytest.fixture
def volumes(project):
    z = np.zeros((3, 4, 5), "f4")
    aaspi_py.save_volume(z, project.volumes_dir / "amplitude.zarr", kind="amplitude")
    aaspi_py.save_volume(z, project.volumes_dir / "envelope.zarr")
    aaspi_py.save_volume(z.astype("i2"), project.volumes_dir / "rfc3d_classification_test.zarr", kind="classification")
    aaspi_py.save_volume(z, project.volumes_dir / "shifted.zarr", sample=np.arange(5) * 4.0 + 100)
    return project


def test_usable_volumes_leave_out_class_volumes_and_other_grids(volumes):
    entries = catalog(volumes)
    assert entries["rfc3d_classification_test"].kind == "classification"
    assert entries["amplitude"].same_grid(entries["envelope"]) and not entries["amplitude"].same_grid(entries["shifted"])
    assert usable_volumes(volumes) == ["amplitude", "envelope", "shifted"]
    assert usable_volumes(volumes, "envelope") == ["amplitude", "envelope"]
    assert usable_volumes(volumes, "shifted") == ["shifted"]


def test_input_check_names_missing_volumes_and_mixed_grids(volumes):
    assert check_input_volumes(volumes, ["amplitude", "envelope"], "attributes") is None
    assert check_input_volumes(volumes, ["nope"], "attributes").startswith(
        "Volume 'nope' (parameter 'attributes') not found")
    assert "'amplitude' and 'shifted' are not on the same grid: samples" in \
        check_input_volumes(volumes, ["amplitude", "shifted"], "attributes")


def test_training_set_volumes_from_folder_name_json_or_text_file(project):
    folder = project.training_dir / "picks"
    folder.mkdir()
    (folder / "training_set.json").write_text(json.dumps({"attributes": ["env", "coh"],
                                                          "volumes": ["envelope", "coherence"]}))
    (folder / "picks.txt").write_text("# x\n")
    for value in ("picks", "training/picks", "training/picks/training_set.json", "training/picks/picks.txt"):
        assert training_set_volumes(project, value) == ["envelope", "coherence"], value
    assert training_set_volumes(project, "elsewhere.csv") is None


def test_earlier_outputs_are_those_of_the_module_and_run_name(volumes):
    (volumes.results_dir / "rfc3d_timeslice_test.png").write_bytes(b"")
    (volumes.results_dir / "rfc3d_timeslice_test_v2.png").write_bytes(b"")
    (volumes.results_dir / "rfc3d_model_test").mkdir()
    names = [p.name for p in earlier_outputs(volumes, "rfc3d", "test")]
    assert names == ["rfc3d_classification_test.zarr", "rfc3d_model_test", "rfc3d_timeslice_test.png"]
    assert [p.name for p in earlier_outputs(volumes, "rfc3d", "test_v2")] == ["rfc3d_timeslice_test_v2.png"]
    assert earlier_outputs(volumes, "gtm3d", "test") == []


def test_deleted_polygon_comes_back_with_its_id(project):
    save_polygon_to_new_file(project, "inline", 10, [(1, 1), (5, 1), (5, 5)], facies="salt", color="#112233")
    ff = read_facies(project, "salt")
    ff.add("inline", 11, [(1, 1), (4, 1), (4, 4)])
    ff.save()
    gone = delete_polygon(project, "salt", 1)
    assert [p.id for p in read_facies(project, "salt").polygons] == [2]
    assert restore_polygon(project, "salt", gone) == gone
    assert read_facies(project, "salt").polygons[0] == gone
    with pytest.raises(AaspiError, match="polygon 1 exists again"):
        restore_polygon(project, "salt", gone)
    assert facies_colors(project) == {"salt": "#112233"}
