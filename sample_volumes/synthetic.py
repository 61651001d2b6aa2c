"""The synthetic survey: layered reflectivity, a salt dome and a mass-transport deposit.

Everything is a function of the grid and one seeded random generator, so the same shape
and seed give identical arrays. The geology is built in normalised coordinates
``u`` (inline), ``v`` (crossline), ``w`` (time), each in [0, 1), so every size shows the
same survey at a different resolution:

- **background**: conformal alternating beds (about five samples thick, in samples
  whatever the size), gently dipping and folded, dragged up around the salt, below a
  water column (facies 0) and its strong sea-floor reflection;
- **salt**: a dome whose stem narrows with depth; chaotic weak reflectivity seen with a
  low-frequency wavelet, under a strong top-of-salt reflection;
- **mtd**: a lens inside the layers made of blocks; half are rotated, still-coherent
  slabs of the old layers, half are chaotic, each with its own energy.

The amplitude is the reflectivity convolved with a Ricker wavelet (30 Hz, 12 Hz inside the
salt) plus band-limited noise, scaled so the background RMS below the sea floor is about
one.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: facies codes of the ``true_facies`` volume (0 = none: the water column)
SALT, MTD, BACKGROUND = 1, 2, 3
#: sample interval (ms) of the synthetic survey
DT_MS = 4.0
#: dominant frequencies (Hz) of the wavelets
F_SEDIMENT, F_SALT = 30.0, 12.0


def ricker(frequency: float, dt_ms: float = DT_MS) -> np.ndarray:
    """Zero-phase Ricker wavelet of peak ``frequency`` (Hz), sampled every ``dt_ms``."""
    half = int(np.ceil(1.5 / frequency / (dt_ms / 1000.0)))
    t = np.arange(-half, half + 1) * dt_ms / 1000.0
    a = (np.pi * frequency * t) ** 2
    return ((1 - 2 * a) * np.exp(-a)).astype(np.float32)


def _grid(shape: tuple[int, int, int]):
    ni, nx, ns = shape
    u = (np.arange(ni, dtype=np.float32) / ni)[:, None, None]
    v = (np.arange(nx, dtype=np.float32) / nx)[None, :, None]
    w = (np.arange(ns, dtype=np.float32) / ns)[None, None, :]
    return u, v, w


def _layer_log_impedance(rng: np.random.Generator, ns: int, n: int = 8192):
    """Piecewise-constant log impedance over relative geological time [-1, 2)."""
    tau = np.linspace(-1.0, 2.0, n, dtype=np.float32)
    mean_thickness = 4.0 / ns  # about four samples per layer at any size
    n_layers = int(3.0 / mean_thickness) + 8  # enough to fill [-1, 2)
    # gamma-distributed thicknesses: varied, but no bed so thick that a slice has no reflector
    tops = np.cumsum(rng.gamma(4.0, mean_thickness / 4.0, n_layers) + 0.25 * mean_thickness) - 1.0
    # alternating sand and shale, so every depth has reflectors of comparable strength
    values = (np.where(np.arange(n_layers) % 2 == 0, 1.0, -1.0) * rng.uniform(0.3, 1.0, n_layers)).astype(np.float32)
    # a slow compaction trend so layers are not white
    values += 0.3 * np.sin(np.linspace(0, 9, n_layers)).astype(np.float32)
    idx = np.clip(np.searchsorted(tops, tau), 0, n_layers - 1)
    return tau, values[idx]


def _sample(tau_grid: np.ndarray, log_z: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Look up the layer log impedance at geological times ``tau`` (nearest)."""
    step = tau_grid[1] - tau_grid[0]
    idx = np.clip(np.rint((tau - tau_grid[0]) / step).astype(np.int64), 0, len(log_z) - 1)
    return log_z[idx]


def _smooth_noise(rng: np.random.Generator, shape, sigma) -> np.ndarray:
    """Unit-variance Gaussian random field with correlation lengths ``sigma`` (samples)."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma, mode="reflect")
    return field / max(float(field.std()), 1e-12)


def make_geology(shape: tuple[int, int, int], seed: int = 0) -> dict[str, np.ndarray]:
    """Reflectivity and facies of the synthetic survey.

    Returns
    -------
    dict with ``reflectivity_sediment`` and ``reflectivity_salt`` (float32 arrays of shape
    ``shape``; the first is seen with the 30 Hz wavelet, the second with the 12 Hz one) and
    ``true_facies`` (int16 array of shape ``shape``: 1 salt, 2 mtd, 3 background, 0 water).
    """
    rng = np.random.default_rng(seed)
    ni, nx, ns = shape
    u, v, w = _grid(shape)
    tau_grid, log_z = _layer_log_impedance(rng, ns)

    # salt dome: a round top, a stem that narrows with depth
    su, sv = 0.30, 0.64
    azimuth = np.arctan2(v - sv, u - su)
    lobes = 1.0 + 0.10 * np.sin(3 * azimuth + 0.5) + 0.05 * np.cos(5 * azimuth)
    radius = np.sqrt(((u - su) / 0.20) ** 2 + ((v - sv) / 0.22) ** 2) / lobes
    stem = 1.0 - 0.35 * np.clip((w - 0.6) / 0.4, 0.0, 1.0)
    salt = (radius < stem) & (w > 0.38 + 0.16 * radius**2)

    # relative geological time: dip, gentle folds, drag around the salt
    tau = (w - 0.07 * u - 0.05 * v
           + 0.035 * np.sin(2 * np.pi * (0.9 * u + 0.35 * v)) * np.cos(2 * np.pi * 0.6 * v)
           + 0.12 * np.exp(-(radius / 1.5) ** 2) * (0.3 + w))
    sediment = _sample(tau_grid, log_z, tau)

    # mass-transport deposit: a lens between two geological times, away from the salt
    mu, mv = 0.70, 0.32
    lens = np.clip(1.0 - ((u - mu) / 0.33) ** 2 - ((v - mv) / 0.30) ** 2, 0.0, None)
    thickness = 0.22 * np.sqrt(lens)
    mtd = (tau > 0.42 - 0.35 * thickness) & (tau < 0.42 + 0.65 * thickness) & ~salt
    _fill_mtd(rng, sediment, mtd, tau, u, v, shape, tau_grid, log_z)

    # water column: no reflectors above a gently dipping sea floor
    sea_floor = 0.07 + 0.02 * u + 0.01 * v
    water = (w < sea_floor) & ~salt

    log_impedance = np.where(water, log_z.min() - 1.0, sediment).astype(np.float32)
    salt_level = np.float32(log_z.max() + 0.5)  # salt is faster than any sediment: strong top
    chaos = _smooth_noise(rng, shape, (1.2, 1.2, 1.5))
    log_impedance = np.where(salt, salt_level + 1.2 * chaos, log_impedance)
    reflectivity = np.diff(log_impedance, axis=-1, prepend=log_impedance[..., :1])
    # inside the salt (below its top sample) the wavelet is low-frequency
    salt_inside = salt & np.concatenate([np.zeros((ni, nx, 1), bool), salt[..., :-1]], axis=-1)
    reflectivity_salt = np.where(salt_inside, reflectivity, 0.0).astype(np.float32)
    reflectivity_sediment = np.where(salt_inside, 0.0, reflectivity).astype(np.float32)

    facies = np.full(shape, BACKGROUND, dtype=np.int16)
    facies[mtd] = MTD
    facies[salt] = SALT
    facies[water] = 0
    return {"reflectivity_sediment": reflectivity_sediment, "reflectivity_salt": reflectivity_salt,
            "true_facies": facies}


def _fill_mtd(rng, sediment, mtd, tau, u, v, shape, tau_grid, log_z) -> None:
    """Replace the layers inside the MTD by rotated blocks and chaotic blocks, in place.

    Blocks are the Voronoi cells of random seeds in (inline, crossline, geological time),
    so their outlines are irregular on every slice.
    """
    n_blocks = 36
    seeds = np.stack([rng.uniform(0.35, 1.0, n_blocks), rng.uniform(0.0, 0.65, n_blocks),
                      rng.uniform(0.30, 0.55, n_blocks)], axis=1).astype(np.float32)
    tilt_u = rng.uniform(-0.5, 0.5, n_blocks).astype(np.float32)
    tilt_v = rng.uniform(-0.5, 0.5, n_blocks).astype(np.float32)
    shift = rng.uniform(-0.05, 0.05, n_blocks).astype(np.float32)
    gain = rng.uniform(0.4, 2.6, n_blocks).astype(np.float32)
    chaotic = rng.random(n_blocks) < 0.5
    chaos = _smooth_noise(rng, shape, (0.8, 0.8, 0.7))

    where = np.nonzero(mtd)
    uu = np.broadcast_to(u, shape)[where]
    vv = np.broadcast_to(v, shape)[where]
    tt = tau[where]
    # geological time counts three times as much: blocks are wider than they are thick
    distance = ((uu[:, None] - seeds[:, 0]) ** 2 + (vv[:, None] - seeds[:, 1]) ** 2
                + (3.0 * (tt[:, None] - seeds[:, 2])) ** 2)
    b = np.argmin(distance, axis=1)
    del distance
    rotated_tau = tt + shift[b] + tilt_u[b] * (uu - seeds[b, 0]) + tilt_v[b] * (vv - seeds[b, 1])
    layers = _sample(tau_grid, log_z, rotated_tau)
    sediment[where] = np.where(chaotic[b], 1.4 * chaos[where], layers) * gain[b]


def make_amplitude(geology: dict[str, np.ndarray], seed: int = 0) -> np.ndarray:
    """Convolve the reflectivity with the wavelets and add band-limited noise.

    The reflectivity is mirrored past the first and last samples, so the survey has no
    fading edge.

    Returns a float32 array of shape ``true_facies.shape``, background RMS about one.
    """
    rng = np.random.default_rng(seed + 7919)
    shape = geology["true_facies"].shape
    amplitude = ndimage.convolve1d(geology["reflectivity_sediment"], ricker(F_SEDIMENT), axis=-1, mode="reflect")
    amplitude += 0.2 * ndimage.convolve1d(geology["reflectivity_salt"], ricker(F_SALT), axis=-1, mode="reflect")
    # scale by the layers below the sea-floor reflection, the strongest event
    background = geology["true_facies"] == BACKGROUND
    background[..., : shape[-1] // 6] = False
    rms = float(np.sqrt(np.mean(amplitude[background] ** 2))) if background.any() else 1.0
    amplitude /= max(rms, 1e-12)
    # noise that looks like processed data: laterally a little smooth, band-limited in time
    noise = ndimage.convolve1d(rng.standard_normal(shape, dtype=np.float32), ricker(F_SEDIMENT), axis=-1, mode="reflect")
    noise = ndimage.uniform_filter(noise, (2, 2, 1))
    amplitude += 0.05 * noise / max(float(noise.std()), 1e-12)
    return amplitude.astype(np.float32)


def make_survey(shape: tuple[int, int, int], seed: int = 0, progress=None) -> dict[str, np.ndarray]:
    """The whole synthetic survey as numpy arrays.

    Parameters
    ----------
    shape : (n_inlines, n_crosslines, n_samples)
    seed : the same seed gives identical arrays
    progress : optional :class:`aaspi_py.Progress`, updated between steps (may cancel)

    Returns
    -------
    dict with ``amplitude`` (float32), ``true_facies`` (int16) and every attribute of
    :data:`aaspi_py.sample_volumes.ATTRIBUTES` (float32), each of shape ``shape``.
    """
    from .attributes import compute_attributes

    shape = tuple(int(n) for n in shape)
    if len(shape) != 3 or min(shape) < 8:
        raise ValueError(f"make_survey: shape must be three sizes >= 8, got {shape}")
    from aaspi_py.framework.progress import SubProgress

    if progress is not None:
        progress.update(0.0, "geology")
    geology = make_geology(shape, seed)
    if progress is not None:
        progress.update(0.3, "amplitude")
        progress.check()
    amplitude = make_amplitude(geology, seed)
    out = {"amplitude": amplitude, "true_facies": geology["true_facies"]}
    attributes = SubProgress(progress, 0.4, 1.0) if progress is not None else None
    out.update(compute_attributes(amplitude, seed=seed, dt_ms=DT_MS, progress=attributes))
    return out
