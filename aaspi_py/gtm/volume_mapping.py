"""GTM over whole volumes: latent maps, PDFs and facies probabilities, chunk by chunk.

A :class:`VolumeGTM` bundles a fitted :class:`~aaspi_py.gtm.estimator.GTM` with what turns attribute
volumes into its inputs (attribute order, standardisation) and, once a training set is
mapped, the facies PDFs. For every voxel v with responsibilities R_kv over the K nodes:

- latent mean ``Σ_k R_kv u_k`` (two volumes) and latent mode (node number 1..K of the
  largest R_kv, row-major over ``latent_shape``);
- the **unsupervised PDF**: ``Σ_v R_kv`` over all live voxels (a K-vector);
- each facies' **supervised PDF** ``p_m = mean of R over its training voxels`` (sums to 1);
- **probability volumes** ``P_m(v) = Σ_k sqrt(R_kv p_mk)``, the Bhattacharyya coefficient
  between the voxel's posterior and the facies PDF (1 when they are identical, 0 when
  they do not overlap);
- the **Bayesian posterior** ``P(m|v) = Σ_k R_kv P(m|k)`` with
  ``P(m|k) = p_mk π_m / Σ_j p_jk π_j`` and priors ``π_m`` the facies' shares of the
  training voxels; so ``P(m|k)`` is the responsibility-weighted fraction of training
  voxels at node k that belong to facies m (the priors where no training voxel reaches
  node k). ``Σ_m P(m|v) = 1``;
- the **most probable facies**: class 1..M (argmax of the posterior, or of the
  Bhattacharyya coefficients), 0 for dead traces and voxels with a missing attribute.

Voxels of dead traces (``trace_mask`` False) or with a NaN attribute are left out of
every statistic and get 0 in every output volume.

:func:`map_volume` builds all these as lazy dask arrays sharing one task per chunk, so
one ``dask.compute`` of all outputs reads every input chunk once, with memory bounded
by a few chunks per worker (build and compute writers inside :func:`one_pass`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.gtm.estimator import EXP_FLOOR, GTM, gtm_from_dict, gtm_to_dict
from aaspi_py.gtm.voxel_kernels import LANES, map_voxels

FORMAT = "aaspi_py.gtm_model"
VERSION = 1
CLASSIFY_BY = ("posterior", "bhattacharyya")


# ---------------------------------------------------------------- the model

@dataclass
class VolumeGTM:
    """A fitted GTM with its attribute order, standardisation and facies PDFs.

    Attributes
    ----------
    gtm : GTM
        Fitted on standardised attributes.
    attributes : list of str, length D
        Attribute names in input order.
    center, scale : ndarray of shape (D,)
        Standardisation: the GTM sees ``(x - center) / scale`` (0 and 1 when not
        standardising).
    facies : list of str, length M
    facies_pdfs : ndarray of shape (M, K) or None
        Supervised PDFs: mean responsibilities of each facies' training voxels.
    facies_counts : ndarray of shape (M,) or None
        Training voxels per facies (the priors of the Bayesian posterior).
    unsupervised_pdf : ndarray of shape (K,) or None
        Sum of the responsibilities of all live voxels of the mapped volume.
    """

    gtm: GTM
    attributes: list[str]
    center: np.ndarray
    scale: np.ndarray
    facies: list[str] = field(default_factory=list)
    facies_pdfs: np.ndarray | None = None
    facies_counts: np.ndarray | None = None
    unsupervised_pdf: np.ndarray | None = None

    @classmethod
    def fit(cls, X: np.ndarray, attributes: Sequence[str], *, standardize: bool = True,
            callback: Callable[[int, float], Any] | None = None, **gtm_params: Any) -> VolumeGTM:
        """Standardise X (optionally) and fit a GTM to it.

        Parameters
        ----------
        X : ndarray of shape (n_samples, D)
            Training voxels, columns in ``attributes`` order, all finite.
        attributes : sequence of str, length D
        standardize : bool
            Scale each attribute by its sample mean and standard deviation.
        callback : callable, optional
            Passed to :meth:`GTM.fit`.
        **gtm_params
            :class:`GTM` parameters.
        """
        X = np.asarray(X, dtype=np.float64)
        d = X.shape[1]
        if len(attributes) != d:
            raise AaspiError(f"VolumeGTM.fit: {len(attributes)} attribute names for {d} columns.")
        if standardize:
            center = X.mean(axis=0)
            scale = X.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
        else:
            center, scale = np.zeros(d), np.ones(d)
        gtm = GTM(**gtm_params).fit((X - center) / scale, callback=callback)
        return cls(gtm=gtm, attributes=list(attributes), center=center, scale=scale)

    # -- shapes
    @property
    def n_nodes(self) -> int:
        return len(self.gtm.nodes_)

    @property
    def latent_shape(self) -> tuple[int, int]:
        return tuple(int(n) for n in self.gtm.latent_shape)

    @property
    def n_facies(self) -> int:
        return len(self.facies)

    # -- voxels as rows
    def standardize(self, X: np.ndarray) -> np.ndarray:
        """``(X - center) / scale``, shape (n, D)."""
        return (np.asarray(X, dtype=np.float64) - self.center) / self.scale

    def responsibilities(self, X: np.ndarray) -> np.ndarray:
        """R of shape (n, K) for voxels X of shape (n, D) in attribute units."""
        return self.gtm.predict_proba(self.standardize(X))

    def fit_facies(self, X: np.ndarray, facies_index: np.ndarray, facies: Sequence[str]) -> VolumeGTM:
        """Supervised PDFs from training voxels.

        Parameters
        ----------
        X : ndarray of shape (V, D)
            Training voxels in attribute units (finite).
        facies_index : ndarray of shape (V,)
            Facies of each voxel, 0..M-1.
        facies : sequence of str, length M
        """
        facies_index = np.asarray(facies_index)
        R = self.responsibilities(X)
        counts = np.bincount(facies_index, minlength=len(facies))
        empty = [f for f, c in zip(facies, counts) if c == 0]
        if empty:
            raise AaspiError(f"Facies {', '.join(empty)} has no training voxel on live traces; "
                             f"redraw its polygons where the inputs have data.")
        pdfs = np.zeros((len(facies), R.shape[1]))
        np.add.at(pdfs, facies_index, R)
        self.facies = list(facies)
        self.facies_pdfs = pdfs / counts[:, None]
        self.facies_counts = counts.astype(np.int64)
        return self

    def node_posterior(self) -> np.ndarray:
        """P(m|k) of shape (M, K) from the supervised PDFs and training-count priors."""
        if self.facies_pdfs is None:
            raise AaspiError("No facies PDFs: map a training set first (fit_facies).")
        prior = self.facies_counts / self.facies_counts.sum()
        joint = self.facies_pdfs * prior[:, None]
        total = joint.sum(axis=0)
        # nodes no training voxel reaches fall back to the priors
        reached = total > 1e-300
        out = np.where(reached, joint / np.where(reached, total, 1.0), prior[:, None])
        return out

    def facies_probabilities(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bhattacharyya coefficients and Bayesian posteriors of voxels X, each (n, M)."""
        R = self.responsibilities(X)
        bc = np.sqrt(R) @ np.sqrt(self.facies_pdfs).T
        return np.minimum(bc, 1.0), R @ self.node_posterior().T

    # -- persistence (JSON + npz, no pickle)
    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``model.json`` and ``model.npz`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta, arrays = gtm_to_dict(self.gtm)
        payload = {f"gtm_{k}": v for k, v in arrays.items()}
        payload.update(center=self.center, scale=self.scale)
        for name in ("facies_pdfs", "facies_counts", "unsupervised_pdf"):
            value = getattr(self, name)
            if value is not None:
                payload[name] = np.asarray(value)
        np.savez(folder / "model.npz", **payload)
        manifest = {"format": FORMAT, "version": VERSION, "attributes": self.attributes,
                    "facies": self.facies, "latent_shape": list(self.latent_shape), "gtm": meta}
        (folder / "model.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> VolumeGTM:
        """Read a model written by :meth:`save`."""
        folder = Path(folder)
        mf = folder / "model.json"
        if not mf.exists():
            raise AaspiError(f"{folder} is not a GTM model (no model.json); run gtm3d to make one.")
        manifest = json.loads(mf.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise AaspiError(f"{mf} is not an aaspi_py GTM model manifest.")
        if manifest.get("version", 0) > VERSION:
            raise AaspiError(f"{mf} was written by a newer aaspi_py (version {manifest['version']}); upgrade.")
        with np.load(folder / "model.npz", allow_pickle=False) as z:
            arrays = {k[4:]: z[k] for k in z.files if k.startswith("gtm_")}
            extra = {k: z[k] for k in z.files if not k.startswith("gtm_")}
        return cls(gtm=gtm_from_dict(manifest["gtm"], arrays), attributes=list(manifest["attributes"]),
                   center=extra["center"], scale=extra["scale"], facies=list(manifest.get("facies", [])),
                   facies_pdfs=extra.get("facies_pdfs"), facies_counts=extra.get("facies_counts"),
                   unsupervised_pdf=extra.get("unsupervised_pdf"))


# ---------------------------------------------------------------- one chunk

@dataclass(frozen=True)
class _Kernel:
    """Everything a chunk needs, laid out for :func:`aaspi_py.gtm.voxel_kernels.map_voxels`."""

    center: np.ndarray          # (D,) subtract, then divide by scale, then subtract offset
    scale: np.ndarray           # (D,)
    offset: np.ndarray          # (D,) the GTM's data mean
    weights: np.ndarray         # (Dp, Kp) β y_k, zero rows up to a multiple of 3
    bias: np.ndarray            # (Kp,) -β/2 ||y_k||², nodes padded to a multiple of LANES
    latent: np.ndarray          # (2, Kp) node coordinates
    node_posterior: np.ndarray  # (M, Kp) P(m|k)
    sqrt_pdfs: np.ndarray       # (M, Kp)
    n_nodes: int                # K
    classify_by: str

    @classmethod
    def from_model(cls, model: VolumeGTM, classify_by: str) -> _Kernel:
        g = model.gtm
        k = len(g.nodes_)
        if model.facies_pdfs is not None:
            # coefficients below 1e-40 contribute nothing visible; zeroing them keeps the
            # products with responsibilities (>= 1e-261) out of the slow subnormal range
            posterior = model.node_posterior()
            posterior = np.where(posterior < 1e-40, 0.0, posterior)
            sqrt_pdfs = np.sqrt(model.facies_pdfs)
            sqrt_pdfs = np.where(sqrt_pdfs < 1e-40, 0.0, sqrt_pdfs)
        else:
            posterior = sqrt_pdfs = np.zeros((0, k))
        centers = np.asarray(g.means_ - g.mean_, dtype=np.float64)
        beta = float(g.beta_)
        d = centers.shape[1]
        kp = LANES * -(-k // LANES)

        def padded(rows: np.ndarray, n_rows: int, fill: float = 0.0) -> np.ndarray:
            out = np.full((n_rows, kp), fill)
            out[: len(rows), :k] = rows
            return out

        bias = padded(-0.5 * beta * np.einsum("kd,kd->k", centers, centers)[None], 1, -1e300)[0]
        return cls(center=np.asarray(model.center, dtype=np.float64), scale=np.asarray(model.scale, dtype=np.float64),
                   offset=np.asarray(g.mean_, dtype=np.float64), weights=padded(beta * centers.T, 3 * -(-d // 3)),
                   bias=bias, latent=padded(np.asarray(g.nodes_, dtype=np.float64).T, 2),
                   node_posterior=padded(posterior, len(posterior)), sqrt_pdfs=padded(sqrt_pdfs, len(sqrt_pdfs)),
                   n_nodes=k, classify_by=classify_by)

    @property
    def cut(self) -> float:
        """Blocks of nodes whose exponentiated terms are all below ``exp(-cut)`` of the
        largest are left out: together they weigh under ``K exp(-cut) = 2**-54``, half a
        unit in the last place of the sum (which is at least 1), so they change nothing."""
        return float(np.log(self.n_nodes) + 54 * np.log(2.0))

    @property
    def n_facies(self) -> int:
        return self.sqrt_pdfs.shape[0]

    @property
    def n_channels(self) -> int:
        return 3 + 2 * self.n_facies


def map_chunk(kernel: _Kernel, mask: np.ndarray, *blocks: np.ndarray) -> tuple[np.ndarray, ...]:
    """All GTM outputs of one chunk.

    Every voxel is mapped from its own values only (:mod:`aaspi_py.gtm.voxel_kernels`), so
    the outputs do not depend on the chunking.

    Parameters
    ----------
    kernel : _Kernel
    mask : ndarray of shape (ni, nx), bool
        ``trace_mask`` of the chunk.
    *blocks : D ndarrays of shape (ni, nx, ns)
        The attribute chunks, in model order.

    Returns
    -------
    channels : ndarray of shape (3 + 2M, ni, nx, ns), float32
        Latent mean u1, u2, latent mode (node 1..K), Bhattacharyya coefficient per facies,
        Bayesian posterior per facies; 0 where a voxel is dead.
    classes : ndarray of shape (ni, nx, ns), int16
        Most probable facies 1..M (0: dead voxel, or no facies PDFs).
    pdf : ndarray of shape (K,)
        Sum of the responsibilities of the chunk's live voxels.
    live_count : ndarray of shape (1,)
        Number of live voxels.
    """
    shape = blocks[0].shape
    n = int(np.prod(shape))
    # one (D, n) array in the inputs' own type (float32 volumes stay float32 until the kernel)
    dtype = np.result_type(*(b.dtype for b in blocks), np.float32)
    if dtype.kind != "f" or dtype.itemsize > 8:
        dtype = np.dtype(np.float64)
    values = np.empty((len(blocks), n), dtype=dtype)
    for j, b in enumerate(blocks):
        values[j] = np.asarray(b).reshape(-1)
    channels = np.zeros((kernel.n_channels, n), dtype=np.float32)
    classes = np.zeros(n, dtype=np.int16)
    pdf = np.zeros(kernel.bias.shape[0])
    half = kernel.n_facies > 0  # exp(a/2) gives sqrt(R) for the Bhattacharyya coefficients
    live = map_voxels(values, np.ascontiguousarray(mask, dtype=np.bool_).reshape(-1), shape[2] if n else 1,
                      kernel.center, kernel.scale, kernel.offset, kernel.weights, kernel.bias, half,
                      (0.5 if half else 1.0) * EXP_FLOOR, kernel.cut, kernel.latent, kernel.node_posterior,
                      kernel.sqrt_pdfs, kernel.classify_by == "posterior", channels, classes, pdf)
    return (channels.reshape((kernel.n_channels, *shape)), classes.reshape(shape), pdf[: kernel.n_nodes],
            np.array([live]))


# ---------------------------------------------------------------- whole volumes

@dataclass
class VolumeMaps:
    """Lazy outputs of :func:`map_volume` (dask arrays of shape (inline, crossline, sample))."""

    latent_mean: tuple[Any, Any]
    latent_mode: Any
    bhattacharyya: list[Any]
    posterior: list[Any]
    classification: Any
    pdf: Any           # dask array of shape (K,): the unsupervised PDF
    live_voxels: Any   # dask array of shape (): live voxels counted
    class_counts: Any  # dask array of shape (M + 1,): voxels per class 0..M of ``classification``
    #: the same three per chunk (block axes first), for :func:`aaspi_py.framework.volume_store.write_volumes`
    per_chunk: tuple[Any, Any, Any] = ()


def map_volume(model: VolumeGTM, arrays: Sequence[Any], trace_mask: Any, *,
               classify_by: str = "posterior") -> VolumeMaps:
    """Lazy GTM outputs of whole volumes; one task per chunk feeds every output.

    Parameters
    ----------
    model : VolumeGTM
    arrays : sequence of D dask or numpy arrays of shape (ni, nx, ns)
        Attribute volumes in ``model.attributes`` order; chunked like the first one.
    trace_mask : array of shape (ni, nx), bool
    classify_by : {"posterior", "bhattacharyya"}
        What the most-probable-facies volume maximises.

    Returns
    -------
    VolumeMaps
        Compute the arrays you need together (``dask.compute``) so chunks are read once;
        build and compute zarr writers of them inside :func:`one_pass`.
    """
    import dask
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    if classify_by not in CLASSIFY_BY:
        raise AaspiError(f"classify_by must be one of {', '.join(CLASSIFY_BY)}; got {classify_by!r}.")
    if len(arrays) != len(model.attributes):
        raise AaspiError(f"map_volume: {len(arrays)} volumes for a model of {len(model.attributes)} attributes.")
    first = da.asarray(arrays[0])
    shape = first.shape
    for a, name in zip(arrays, model.attributes):
        if tuple(a.shape) != tuple(shape):
            raise AaspiError(f"Attribute volume '{name}' has shape {tuple(a.shape)}, expected {tuple(shape)}: "
                             f"all inputs must share one grid.")
    vols = [da.asarray(a).rechunk(first.chunks) for a in arrays]
    mask = da.asarray(np.asarray(trace_mask, dtype=bool) if not hasattr(trace_mask, "dask") else trace_mask)
    mask = mask.rechunk(first.chunks[:2])
    kernel = _Kernel.from_model(model, classify_by)
    c, k, m = kernel.n_channels, model.n_nodes, model.n_facies
    one = tuple((1,) * n for n in first.numblocks)
    # One task per chunk returns every output of the chunk as a record; the outputs are
    # blockwise views of the records. The record layer is a plain (materialised) layer, so
    # blockwise fusion never copies it into the views (each would recompute the mapping).
    token = dask.base.tokenize(kernel, mask, *vols)
    name, kname = f"gtm-map-{token}", f"gtm-kernel-{token}"
    dsk: dict = {kname: kernel}
    for idx in np.ndindex(*first.numblocks):
        dsk[(name, *idx)] = (_chunk_record, kname, (mask.name, *idx[:2]), *[(v.name, *idx) for v in vols])
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[mask, *vols])
    records = da.Array(graph, name, chunks=one, dtype=object)
    channels = da.map_blocks(_take, records, 0, new_axis=[0], chunks=((c,), *first.chunks), dtype=np.float32)
    classes = da.map_blocks(_take, records, 1, chunks=first.chunks, dtype=np.int16)
    pdfs = da.map_blocks(_take, records, 2, new_axis=[3], chunks=(*one, (k,)), dtype=np.float64)
    counts = da.map_blocks(_take, records, 3, chunks=one, dtype=np.int64)
    per_class = da.map_blocks(_class_counts, records, m + 1, new_axis=[3], chunks=(*one, (m + 1,)), dtype=np.int64)
    return VolumeMaps(
        latent_mean=(channels[0], channels[1]),
        latent_mode=channels[2],
        bhattacharyya=[channels[3 + i] for i in range(m)],
        posterior=[channels[3 + m + i] for i in range(m)],
        classification=classes,
        pdf=pdfs.sum(axis=(0, 1, 2)),
        live_voxels=counts.sum(),
        class_counts=per_class.sum(axis=(0, 1, 2)),
        per_chunk=(pdfs, counts, per_class),
    )


def _chunk_record(kernel: _Kernel, mask: np.ndarray, *blocks: np.ndarray) -> np.ndarray:
    out = np.empty((1, 1, 1), dtype=object)
    out[0, 0, 0] = map_chunk(kernel, mask, *blocks)
    return out


def _class_counts(record: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(record[0, 0, 0][1].reshape(-1), minlength=n).reshape(1, 1, 1, n)


def _take(record: np.ndarray, which: int) -> np.ndarray:
    value = record[0, 0, 0][which]
    # the small per-chunk results carry one axis per chunk axis
    return value.reshape(1, 1, 1, -1) if which == 2 else value.reshape(1, 1, 1) if which == 3 else value


@contextlib.contextmanager
def one_pass():
    """Build and compute several outputs of one :func:`map_volume` inside this block.

    Writers such as ``xarray.Dataset.to_zarr(compute=False)`` wrap each output in its own
    delayed graph, and dask's low-level fusion then folds the shared per-chunk task into
    every one of them under new names, so each output would recompute the whole mapping.
    Without fusion the per-chunk task keeps its key and runs once for all outputs.
    """
    import dask

    with dask.config.set({"optimization.fuse.active": False}):
        yield


# ---------------------------------------------------------------- voxels from volumes

def sample_live_voxels(trace_mask: np.ndarray, n_samples: int, size: int, seed: int) -> np.ndarray:
    """Seeded uniform sample, without replacement, of voxels on live traces.

    Parameters
    ----------
    trace_mask : ndarray of shape (ni, nx), bool
    n_samples : int
        Samples per trace.
    size : int
        Voxels wanted (all of them when there are fewer).
    seed : int

    Returns
    -------
    ndarray of shape (min(size, live voxels), 3), int
        Index triples (inline, crossline, sample), sorted for chunk-friendly reads.
    """
    traces = np.flatnonzero(np.asarray(trace_mask, dtype=bool).reshape(-1))
    total = traces.size * int(n_samples)
    if total == 0:
        raise AaspiError("The input volumes have no live trace (trace_mask is all False).")
    rng = np.random.default_rng(seed)
    pick = np.arange(total) if size >= total else np.sort(rng.choice(total, size=size, replace=False))
    trace, sample = np.divmod(pick, int(n_samples))
    il, xl = np.divmod(traces[trace], np.asarray(trace_mask).shape[1])
    return np.column_stack([il, xl, sample])


def gather_voxels(arrays: Sequence[Any], index: np.ndarray, compute: Callable[..., tuple] | None = None) -> np.ndarray:
    """Values of D volumes at voxel indices, shape (n, D) float64 (NaN kept).

    Parameters
    ----------
    arrays : sequence of D dask arrays of shape (ni, nx, ns)
    index : ndarray of shape (n, 3), int
    compute : callable, optional
        ``compute(*dask_arrays) -> tuple`` (e.g. ``ctx.compute`` for progress and cancel);
        default ``dask.compute``.
    """
    import dask
    import dask.array as da

    if len(index) == 0:
        return np.empty((0, len(arrays)))
    il, xl, s = (np.asarray(index[:, j], dtype=np.intp) for j in range(3))
    picks = [da.asarray(a).vindex[il, xl, s] for a in arrays]
    values = (compute or dask.compute)(*picks)
    return np.column_stack([np.asarray(v, dtype=np.float64) for v in values])


def positions_to_index(positions: np.ndarray, inline: np.ndarray, crossline: np.ndarray,
                       sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Survey positions (inline, crossline, sample time/depth) to voxel indices of a grid.

    Parameters
    ----------
    positions : ndarray of shape (V, 3)
    inline, crossline : ndarray
        Line numbers of the grid.
    sample : ndarray
        Sample times or depths of the grid (regular or not).

    Returns
    -------
    index : ndarray of shape (V, 3), int
        (inline, crossline, sample) indices; rows outside the grid are -1.
    inside : ndarray of shape (V,), bool
        Whether the position is a grid node (inline and crossline numbers present, sample
        within half a sample interval of a grid sample).
    """
    positions = np.asarray(positions, dtype=np.float64)
    out = np.full((len(positions), 3), -1, dtype=np.intp)
    inside = np.isfinite(positions).all(axis=1)
    for j, coord in enumerate((inline, crossline)):
        coord = np.asarray(coord, dtype=np.float64)
        order = np.argsort(coord)
        pos = np.clip(np.searchsorted(coord[order], positions[:, j]), 0, len(coord) - 1)
        hit = coord[order][pos] == positions[:, j]
        out[:, j] = np.where(hit, order[pos], -1)
        inside &= hit
    sample = np.asarray(sample, dtype=np.float64)
    order = np.argsort(sample)
    srt = sample[order]
    pos = np.clip(np.searchsorted(srt, positions[:, 2]), 1, max(len(srt) - 1, 1))
    if len(srt) > 1:
        left = srt[pos - 1]
        right = srt[pos]
        nearest = np.where(np.abs(positions[:, 2] - left) <= np.abs(right - positions[:, 2]), pos - 1, pos)
        half = 0.5 * np.min(np.diff(srt))
    else:
        nearest = np.zeros(len(positions), dtype=np.intp)
        half = 0.5
    hit = np.abs(srt[nearest] - positions[:, 2]) <= half + 1e-9 * max(1.0, float(np.abs(srt).max()))
    out[:, 2] = np.where(hit, order[nearest], -1)
    inside &= hit
    out[~inside] = -1
    return out, inside
