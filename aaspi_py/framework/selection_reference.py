"""``@attribute_selection_<project><suffix>``: a finished attribute_selection run's recommendation as a volume list.

Any list-of-volumes parameter (rfc3d ``attributes``, kuwahara3d and gtm3d ``inputs``) may
hold, instead of (or among) volume names, a reference ``@<run>`` to the results of a finished
attribute_selection run, ``results/<run>.json``: it stands for the recommended attributes'
volumes, in the training set's order. ``@<run>:<template>`` puts each volume name into the
template's ``{}`` — e.g. ``@attribute_selection_survey:kuwahara3d_{}_survey`` for the
Kuwahara-filtered versions that gtm3d usually takes. Resolved once, by the runner, before a
module runs.
"""

from __future__ import annotations

import json
from typing import Any

from aaspi_py.framework.errors import AaspiError

PREFIX = "@"


def resolve(project, module: str, params, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every ``@run`` item of a volumes parameter replaced by its recommended volumes."""
    out = dict(values)
    for p in params:
        if p.kind != "volumes" or not isinstance(out.get(p.name), list):
            continue
        if any(isinstance(v, str) and v.startswith(PREFIX) for v in out[p.name]):
            items = []
            for v in out[p.name]:
                items += _recommended(project, module, p.name, v[1:]) if v.startswith(PREFIX) else [v]
            out[p.name] = items
    return out


def recommended(project, run: str) -> list[str]:
    """The recommended volumes of the finished attribute_selection run ``run`` of ``project``."""
    return _recommended(project, "this step", "attributes", run)


def _recommended(project, module: str, param: str, reference: str) -> list[str]:
    run, _, template = reference.partition(":")
    run = run.removesuffix(".json")
    path = project.results_dir / f"{run}.json"
    if not path.exists():
        have = sorted(q.stem for q in project.results_dir.glob("attribute_selection*.json")) \
            if project.results_dir.exists() else []
        hint = f" Finished runs: {', '.join(have)}." if have else " The project has no finished attribute_selection run."
        raise AaspiError(f"The '{param}' parameter of {module} refers to '@{run}', but {path} does not exist; "
                         f"run attribute_selection first (its outputs are named attribute_selection_<project><suffix>).{hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data.get("recommended_volumes") or data["recommended"]
    except (OSError, ValueError, KeyError, AttributeError):
        raise AaspiError(f"The '{param}' parameter of {module} refers to '@{run}', but {path} is not the JSON "
                         "of an attribute_selection run (no 'recommended' list); rerun attribute_selection.") from None
    if template and "{}" not in template:
        raise AaspiError(f"The '{param}' parameter of {module}: in '@{reference}' the part after ':' must hold "
                         "'{}' where each volume name goes, e.g. '@" + run + ":kuwahara3d_{}_survey'.")
    return [template.replace("{}", n) if template else n for n in names]
