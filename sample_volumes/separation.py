"""How well each candidate attribute separates the facies of the synthetic survey, measured.

``python -m aaspi_py.sample_volumes.separation [small|demo]`` prints the table of
``sample_volumes/README.md``: for each attribute and pair of facies the two-class ROC AUC
(0.5: no separation, 1: complete; orientation ignored), the balanced accuracy of a quadratic
discriminant on the attribute alone, and what it adds to the :data:`INFORMATIVE` set.
"""

from __future__ import annotations

import sys

import numpy as np

from . import ATTRIBUTES, FACIES, FACIES_CODES, INFORMATIVE, SIZES

PAIRS = [("salt", "background"), ("mtd", "background"), ("salt", "mtd")]


def balanced_sample(survey: dict[str, np.ndarray], n: int = 3000, seed: int = 0):
    """Up to ``n`` voxels of each facies: (attribute values by name, facies codes)."""
    facies = survey["true_facies"].ravel()
    rng = np.random.default_rng(seed)
    index = np.concatenate([rng.choice(np.flatnonzero(facies == c), min(n, int((facies == c).sum())), replace=False)
                            for c in FACIES_CODES.values()])
    return {a: survey[a].ravel()[index].astype(np.float64) for a in ATTRIBUTES}, facies[index]


def auc(x: np.ndarray, positive: np.ndarray) -> float:
    """Two-class ROC AUC of score ``x`` (Mann-Whitney), folded to [0.5, 1]."""
    from scipy.stats import rankdata

    ranks = rankdata(x)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    a = (ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    return float(max(a, 1 - a))


def accuracy(values: dict, facies: np.ndarray, names: list[str]) -> float:
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    x = np.stack([values[n] for n in names], axis=1)
    return float(QuadraticDiscriminantAnalysis(reg_param=1e-3).fit(x, facies).score(x, facies))


def measure(survey: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per attribute: AUC per facies pair, accuracy alone, gain over INFORMATIVE, R^2 from it."""
    from sklearn.linear_model import LinearRegression

    values, facies = balanced_sample(survey)
    base = accuracy(values, facies, INFORMATIVE)
    x_inf = np.stack([values[n] for n in INFORMATIVE], axis=1)
    out = {}
    for name in ATTRIBUTES:
        row = {}
        for a, b in PAIRS:
            keep = np.isin(facies, [FACIES_CODES[a], FACIES_CODES[b]])
            row[f"{a}/{b}"] = auc(values[name][keep], facies[keep] == FACIES_CODES[a])
        row["alone"] = accuracy(values, facies, [name])
        others = [n for n in INFORMATIVE if n != name]
        with_it = accuracy(values, facies, [*others, name])
        row["gain"] = with_it - accuracy(values, facies, others) if name in INFORMATIVE else with_it - base
        row["r2"] = (float(LinearRegression().fit(x_inf, values[name]).score(x_inf, values[name]))
                     if name not in INFORMATIVE else 1.0)
        out[name] = row
    out["_informative"] = {"accuracy": base, "chance": 1.0 / len(FACIES)}
    return out


def forward_selection(survey: dict[str, np.ndarray], steps: int = 6) -> list[tuple[str, float]]:
    """Greedy forward selection by QDA balanced accuracy: (attribute added, accuracy) per step."""
    values, facies = balanced_sample(survey)
    chosen: list[str] = []
    path = []
    for _ in range(steps):
        scores = {a: accuracy(values, facies, [*chosen, a]) for a in ATTRIBUTES if a not in chosen}
        best = max(scores, key=scores.get)
        chosen.append(best)
        path.append((best, scores[best]))
    return path


def table(result: dict) -> str:
    head = "| attribute | " + " | ".join(f"AUC {a}/{b}" for a, b in PAIRS) + " | QDA alone | gain | R² from informative |"
    lines = [head, "|" + "---|" * (len(PAIRS) + 4)]
    for name in ATTRIBUTES:
        r = result[name]
        r2 = "—" if name in INFORMATIVE else f"{r['r2']:.2f}"
        lines.append(f"| {name} | " + " | ".join(f"{r[f'{a}/{b}']:.2f}" for a, b in PAIRS)
                     + f" | {r['alone']:.2f} | {r['gain']:+.3f} | {r2} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from .synthetic import make_survey

    size = sys.argv[1] if len(sys.argv) > 1 else "demo"
    survey = make_survey(SIZES[size], seed=0)
    result = measure(survey)
    print(table(result))
    print("forward selection (QDA): " + ", ".join(f"{a} {acc:.3f}" for a, acc in forward_selection(survey)))
    print(f"QDA on the informative set: {result['_informative']['accuracy']:.3f} (chance 0.333)")
