"""xmrisk_nb — the small helper module the xmrisk notebooks import.

Three jobs, nothing else:

1. find and run the `xmrisk` program and read what it writes (summary.json, accounts.csv,
   paths.csv, `liqprice` CSV, `check` text);
2. derive a few per-account quantities the result files do not print (the equity and the
   leverage implied by today's liquidation prices);
3. closed-form formulas for the validation notebook (barrier-crossing probability of a GBM,
   the Broadie-Glasserman-Kou discrete-monitoring correction), written from the textbook
   formulas, independently of the C code.

Environment:
  XMRISK_BIN     the xmrisk binary (the test suite sets it); default ../build/xmrisk relative
                 to this file.
  XMRISK_NB_OUT  where runs, model files and figures go (the test suite sets it to the build
                 tree); default notebooks/out/ (ignored by git).

Only the Python standard library, NumPy and pandas (Debian's python3-numpy, python3-pandas).
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

NB_DIR = Path(__file__).resolve().parent
REPO = NB_DIR.parent
MODELS = REPO / "models"
DATA = REPO / "data"


# --------------------------------------------------------------------------------------------
# Finding things
# --------------------------------------------------------------------------------------------

def binary() -> Path:
    """The xmrisk program: $XMRISK_BIN, else ../build/xmrisk next to the notebooks."""
    env = os.environ.get("XMRISK_BIN")
    p = Path(env) if env else REPO / "build" / "xmrisk"
    if not (p.is_file() and os.access(p, os.X_OK)):
        raise FileNotFoundError(
            f"xmrisk binary not found at {p}: build it (cmake -S . -B build && cmake --build build) "
            "or set XMRISK_BIN")
    return p


def out_dir(*sub: str) -> Path:
    """Output directory for runs and figures: $XMRISK_NB_OUT or notebooks/out/, plus `sub`."""
    env = os.environ.get("XMRISK_NB_OUT")
    base = Path(env) if env else NB_DIR / "out"
    d = base.joinpath(*sub)
    d.mkdir(parents=True, exist_ok=True)
    return d


def model(name: str) -> Path:
    """A bundled model file, e.g. model('default') -> models/default.yaml."""
    p = MODELS / f"{name}.yaml"
    if not p.is_file():
        raise FileNotFoundError(p)
    return p


def savefig(fig, name: str, sub: str = "figures") -> Path:
    """Save a matplotlib figure as PNG (150 dpi) under the output directory; return its path."""
    p = out_dir(sub) / f"{name}.png"
    fig.savefig(p, dpi=150, bbox_inches="tight")
    return p


def show(fig, name: str) -> Path:
    """Save `fig` as PNG under the output directory, display that PNG in the notebook (so an
    executed notebook carries its figures whatever the matplotlib backend) and close `fig`."""
    p = savefig(fig, name)
    try:
        from IPython.display import Image, display
        display(Image(filename=str(p)))
    except ImportError:  # plain Python: the PNG is the result
        pass
    import matplotlib.pyplot as plt
    plt.close(fig)
    print(f"figure: {p}")
    return p


# --------------------------------------------------------------------------------------------
# Running xmrisk
# --------------------------------------------------------------------------------------------

def xmrisk(*args) -> subprocess.CompletedProcess:
    """Run `xmrisk ARGS...`; raise RuntimeError (with its standard error) on a non-zero exit."""
    cmd = [str(binary()), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr.strip()}")
    return r


@dataclass
class Run:
    """What one `xmrisk run` wrote."""
    dir: Path
    summary: dict
    accounts: pd.DataFrame | None
    paths: pd.DataFrame
    stdout: str


def read_run(d: Path, stdout: str = "") -> Run:
    """The result files of DIR, all of one run: read from the set DIR/.xmrisk/current
    resolves to (docs/interface.md "Result files"), else from DIR."""
    d = Path(d)
    cur = d / ".xmrisk" / "current"
    s = cur.resolve() if cur.exists() else d
    with open(s / "summary.json") as f:
        summary = json.load(f)
    acc = s / "accounts.csv"
    accounts = pd.read_csv(acc, dtype={"id": str}) if acc.exists() else None
    paths = pd.read_csv(s / "paths.csv")
    return Run(d, summary, accounts, paths, stdout)


def run(model_file, out: str | Path, paths: int | None = None, seed: int | None = None,
        threads: int | None = None) -> Run:
    """`xmrisk run MODEL --out OUT [--paths N] [--seed S] [--threads T]`, then read the results.

    `out` is a directory; a relative one is taken under the output directory."""
    out = Path(out)
    if not out.is_absolute():
        out = out_dir() / out
    args = ["run", model_file, "--out", out]
    if paths is not None:
        args += ["--paths", int(paths)]
    if seed is not None:
        args += ["--seed", int(seed)]
    if threads is not None:
        args += ["--threads", int(threads)]
    r = xmrisk(*args)
    return read_run(out, r.stdout)


def calibrate(model_file, out: str | Path, *args) -> tuple[dict, str]:
    """`xmrisk calibrate MODEL --out OUT ARGS...`; returns (calibration.json as a dict, stdout).

    `out` is a directory; a relative one is taken under the output directory."""
    out = Path(out)
    if not out.is_absolute():
        out = out_dir() / out
    r = xmrisk("calibrate", model_file, "--out", out, *args)
    with open(out / "calibration.json") as f:
        return json.load(f), r.stdout


def liqprice(model_file) -> pd.DataFrame:
    """`xmrisk liqprice MODEL` as a DataFrame; liq_price is NaN where no positive price exists."""
    from io import StringIO
    r = xmrisk("liqprice", model_file)
    return pd.read_csv(StringIO(r.stdout), dtype={"account_id": str, "asset": str})


def check(model_file) -> str:
    """`xmrisk check MODEL`: the resolved model (standard output). Raises if it is invalid."""
    return xmrisk("check", model_file).stdout


_TIER_RE = re.compile(
    r"\{cap_usd:\s*([^,]+),\s*mmr:\s*([^,]+),\s*max_leverage:\s*([^,]+),\s*cum:\s*([^}]+)\}")


def tiers_from_check(text: str) -> dict[str, np.ndarray]:
    """Tier tables from `xmrisk check` output: {symbol: array of rows (cap_usd, mmr, cum)}."""
    tiers: dict[str, list] = {}
    in_tiers, sym = False, None
    for line in text.splitlines():
        if re.match(r"^  tiers:", line):
            in_tiers = True
            continue
        if not in_tiers:
            continue
        if line and not line.startswith("    "):  # back at a shallower key: tiers are over
            break
        m = re.match(r"^    (\S+):\s*$", line)
        if m:
            sym = m.group(1)
            tiers[sym] = []
            continue
        m = _TIER_RE.search(line)
        if m and sym:
            cap, mmr, _, cum = (float(g) for g in m.groups())
            tiers[sym].append((cap, mmr, cum))
    return {s: np.array(rows) for s, rows in tiers.items()}


def maintenance(table: np.ndarray, notional) -> np.ndarray:
    """Maintenance margin MM(N) = N mmr_k - cum_k, k the tier holding N (model.md §3);
    beyond the last cap the last tier."""
    n = np.asarray(notional, dtype=float)
    k = np.searchsorted(table[:, 0], n, side="left")  # first cap >= N
    k = np.minimum(k, len(table) - 1)
    return n * table[k, 1] - table[k, 2]


# --------------------------------------------------------------------------------------------
# Per-account leverage implied by the liquidation prices
# --------------------------------------------------------------------------------------------

def account_leverage(liq: pd.DataFrame, tiers: dict[str, np.ndarray], rtol: float = 1e-6):
    """Per account: gross notional at start prices, equity at start prices, leverage.

    The result files carry no equity, but today's liquidation price pins it down. For a cross
    account with positions j at marks m_j, liquidation in asset a at price x means
        E0 + sum_{j in a} q_j (x - m_a) = sum_{j in a} MM(|q_j| x) + sum_{j not in a} MM(|q_j| m_j),
    so  E0 = sum_{j in a} q_j (m_a - x) + the right-hand side.  For an isolated position the
    same identity with only that position gives its margin-plus-PnL E0_j.

    `liqprice` does not say whether an account is cross or isolated. A single-position account
    is the same either way. For several positions we compute E0 from each priced asset as if
    the account were cross: a cross account gives the same E0 from every one (relative
    agreement `rtol`); otherwise it is isolated and its equity is the sum of its positions' own
    E0_j, counting an isolated long without a positive liquidation price (margin >= notional)
    at its notional. With only one priced asset the account is read as cross.

    Returns a DataFrame indexed by account id with columns notional_usd, equity_usd, leverage,
    mode ('single', 'cross', 'isolated' or 'unpriced': no position has a liquidation price,
    leverage below about 1, equity unknown: leverage NaN), main_asset (largest notional),
    n_positions and dist_to_liq (smallest |mark - liq_price| / mark over its positions).
    """
    df = liq.copy()
    df["notional"] = df["qty"].abs() * df["mark"]
    df["mm_now"] = np.nan
    df["mm_liq"] = np.nan
    for sym, idx in df.groupby("asset").groups.items():
        t = tiers[sym]
        sub = df.loc[idx]
        df.loc[idx, "mm_now"] = maintenance(t, sub["notional"].to_numpy())
        x = sub["liq_price"].to_numpy()
        ok = np.isfinite(x)
        v = np.full(len(sub), np.nan)
        v[ok] = maintenance(t, np.abs(sub["qty"].to_numpy()[ok]) * x[ok])
        df.loc[idx, "mm_liq"] = v
    df["priced"] = np.isfinite(df["liq_price"])
    # Isolated reading: the position's own E0_j; an unpriced (fully margined) long: its notional.
    df["e_iso"] = np.where(df["priced"],
                           df["qty"] * (df["mark"] - df["liq_price"]) + df["mm_liq"],
                           df["notional"])
    df["dist"] = (df["mark"] - df["liq_price"]).abs() / df["mark"]
    df["pnl_at_liq"] = df["qty"] * (df["mark"] - df["liq_price"])

    acc = df.groupby("account_id", sort=False)
    per = pd.DataFrame({
        "notional_usd": acc["notional"].sum(),
        "n_positions": acc.size(),
        "n_priced": acc["priced"].sum(),
        "mm_total": acc["mm_now"].sum(),
        "e_iso": acc["e_iso"].sum(),
        "dist_to_liq": acc["dist"].min(),
        "main_asset": df.loc[acc["notional"].idxmax(), ["account_id", "asset"]]
                        .set_index("account_id")["asset"],
    })
    # Cross reading per priced (account, asset): positions of one asset share the price.
    pa = df[df["priced"]].groupby(["account_id", "asset"], sort=False).agg(
        pnl=("pnl_at_liq", "sum"), mm_liq=("mm_liq", "sum"), mm_now=("mm_now", "sum"))
    pa = pa.join(per["mm_total"], on="account_id")
    pa["e_cross"] = pa["pnl"] + pa["mm_liq"] + pa["mm_total"] - pa["mm_now"]
    ec = pa.groupby(level="account_id")["e_cross"].agg(["min", "max", "mean", "size"])
    per = per.join(ec)
    agree = (per["max"] - per["min"]) <= rtol * np.maximum(1.0, per[["min", "max"]].abs().max(axis=1))
    # agreeing readings, or a single priced asset (other assets are longs the wallet keeps safe
    # at any price: the usual cross case), read as cross
    cross = (per["n_positions"] > 1) & (per["n_priced"] > 0) & ((per["size"] == 1) | agree)
    per["mode"] = np.select(
        [per["n_priced"] == 0, per["n_positions"] == 1, cross],
        ["unpriced", "single", "cross"], "isolated")
    per["equity_usd"] = np.select(
        [per["mode"] == "unpriced", per["mode"] == "cross"], [np.nan, per["mean"]], per["e_iso"])
    out = per[["notional_usd", "equity_usd", "mode", "main_asset", "n_positions", "dist_to_liq"]].copy()
    out.index.name = "id"
    out["leverage"] = out["notional_usd"] / out["equity_usd"]
    return out


# --------------------------------------------------------------------------------------------
# Reading the cascade histogram
# --------------------------------------------------------------------------------------------

def cascade_ccdf(summary: dict) -> pd.DataFrame:
    """summary.json `cascades.bins` as a DataFrame: lo_usd, hi_usd, count, ccdf
    (ccdf = share of cascades of size >= lo_usd)."""
    return pd.DataFrame(summary["cascades"]["bins"])


def empirical_ccdf(x) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values and P(X >= value), for a CCDF step plot."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    return x, 1.0 - np.arange(n) / n


def wilson(k, n, z: float = 1.959963984540054):
    """95% Wilson score interval for k successes in n trials (vectorised)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


# --------------------------------------------------------------------------------------------
# Closed forms (validation notebook). Independent of the C code: textbook formulas.
# --------------------------------------------------------------------------------------------

def norm_cdf(x):
    """Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2 (vectorised)."""
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(-np.asarray(x, dtype=float) / math.sqrt(2))


def liq_barrier(entry: float, leverage, mmr: float, side: str = "long"):
    """Mark at which an isolated position with margin = notional / leverage (entry = mark, one
    tier with cum = 0) is liquidatable: equity = maintenance,
        long : M + q (B - e) = mmr q B  ->  B = e (1 - 1/L) / (1 - mmr)
        short: M - q (B - e) = mmr q B  ->  B = e (1 + 1/L) / (1 + mmr)."""
    L = np.asarray(leverage, dtype=float)
    if side == "long":
        return entry * (1 - 1 / L) / (1 - mmr)
    return entry * (1 + 1 / L) / (1 + mmr)


def p_barrier_gbm(S0: float, B, sigma: float, mu: float, T: float):
    """P(a GBM with annual drift mu and volatility sigma touches B within T years), continuous
    monitoring. With x = ln S, nu = mu - sigma^2/2, b = ln(B/S0):
        down (b < 0): Phi((b - nu T)/(sigma sqrt T)) + exp(2 nu b / sigma^2) Phi((b + nu T)/(sigma sqrt T))
        up   (b > 0): Phi((-b + nu T)/(sigma sqrt T)) + exp(2 nu b / sigma^2) Phi((-b - nu T)/(sigma sqrt T))
    (reflection principle for Brownian motion with drift)."""
    B = np.asarray(B, dtype=float)
    b = np.log(B / S0)
    nu = mu - 0.5 * sigma ** 2
    s = sigma * math.sqrt(T)
    down = (norm_cdf((b - nu * T) / s)
            + np.exp(2 * nu * b / sigma ** 2) * norm_cdf((b + nu * T) / s))
    up = (norm_cdf((-b + nu * T) / s)
          + np.exp(2 * nu * b / sigma ** 2) * norm_cdf((-b - nu * T) / s))
    p = np.where(b < 0, down, up)
    return np.clip(p, 0.0, 1.0)


# Broadie, Glasserman & Kou (1997): beta = -zeta(1/2) / sqrt(2 pi).
BGK_BETA = 0.5826


def bgk_barrier(S0: float, B, sigma: float, dt_years: float):
    """Barrier shifted away from S0 by exp(beta sigma sqrt(dt)): a continuously monitored
    barrier at the shifted level approximates a discretely monitored one at B
    (down barrier: B exp(-beta sigma sqrt dt); up barrier: B exp(+beta sigma sqrt dt))."""
    B = np.asarray(B, dtype=float)
    shift = math.exp(BGK_BETA * sigma * math.sqrt(dt_years))
    return np.where(B < S0, B / shift, B * shift)


def p_terminal_gbm(S0: float, B, sigma: float, mu: float, T: float, side: str = "long"):
    """P(S_T <= B) (long) or P(S_T >= B) (short) for a GBM: one monitoring date at T."""
    b = np.log(np.asarray(B, dtype=float) / S0)
    nu = mu - 0.5 * sigma ** 2
    z = (b - nu * T) / (sigma * math.sqrt(T))
    return norm_cdf(z) if side == "long" else 1 - norm_cdf(z)


# --------------------------------------------------------------------------------------------
# Calibration helpers (calibrate-from-data notebook)
# --------------------------------------------------------------------------------------------

def read_prices(symbol: str, kind: str = "usdt_daily_binance") -> pd.DataFrame:
    """data/<sym>_<kind>.csv with the timestamp parsed, the unfinished last row dropped."""
    p = DATA / f"{symbol.lower()}_{kind}.csv"
    df = pd.read_csv(p, parse_dates=["timestamp"])
    return df.iloc[:-1]  # the last row is an unfinished candle (data/README.md)


def student_t_loglik(x: np.ndarray, nu: float) -> float:
    """Log-likelihood of standardised data x (mean 0, variance 1) under a Student-t with nu
    degrees of freedom rescaled to unit variance (the form the simulator uses)."""
    s2 = (nu - 2) / nu  # squared scale of a unit-variance t
    n = len(x)
    c = (math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)
         - 0.5 * math.log(nu * math.pi * s2))
    return n * c - (nu + 1) / 2 * np.sum(np.log1p(x * x / (nu * s2)))


def student_t_mle(x: np.ndarray, grid=None) -> tuple[float, np.ndarray, np.ndarray]:
    """Profile MLE of nu for unit-variance standardised data on a grid (numpy only).
    Returns (nu_hat, grid, loglik)."""
    if grid is None:
        grid = np.concatenate([np.arange(2.05, 10, 0.05), np.arange(10, 60.5, 0.5)])
    ll = np.array([student_t_loglik(x, nu) for nu in grid])
    return float(grid[np.argmax(ll)]), grid, ll


def student_t_pdf(x, nu: float):
    """Density of a Student-t with nu degrees of freedom rescaled to unit variance."""
    x = np.asarray(x, dtype=float)
    s2 = (nu - 2) / nu
    c = math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)) / math.sqrt(nu * math.pi * s2)
    return c * (1 + x * x / (nu * s2)) ** (-(nu + 1) / 2)


def student_t_two_sided_tail(x, nu: float):
    """P(|X| >= x) for a unit-variance Student-t (numerical integration; numpy only)."""
    grid = np.concatenate([np.linspace(0, 10, 20001), np.geomspace(10, 1e5, 20001)[1:]])
    pdf = student_t_pdf(grid, nu)
    seg = 0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid)
    tail = np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])   # P(X >= grid[k])
    tail = tail / (2 * tail[0])  # normalise: P(X >= 0) = 1/2 exactly
    return 2 * np.interp(np.asarray(x, dtype=float), grid, tail)


def mv_student_t_loglik(Z: np.ndarray, C: np.ndarray, nu: float) -> float:
    """Log-likelihood of standardised returns Z (n x d, unit variances) under the simulator's
    multivariate Student-t: Z = L e sqrt((nu - 2) / W), e ~ N(0, I), W ~ chi2_nu shared by all
    assets (one mixing variable: tail dependence), L L' = C. Its scale matrix is
    C (nu - 2) / nu, so with delta = z' C^-1 z:
        log f = lgamma((nu+d)/2) - lgamma(nu/2) - d/2 log((nu-2) pi) - 1/2 log|C|
                - (nu+d)/2 log(1 + delta / (nu - 2))."""
    n, d = Z.shape
    delta = np.einsum("ij,jk,ik->i", Z, np.linalg.inv(C), Z)
    _, logdet = np.linalg.slogdet(C)
    c = (math.lgamma((nu + d) / 2) - math.lgamma(nu / 2) - d / 2 * math.log((nu - 2) * math.pi)
         - 0.5 * logdet)
    return n * c - (nu + d) / 2 * float(np.sum(np.log1p(delta / (nu - 2))))


def mv_student_t_mle(Z: np.ndarray, C: np.ndarray, grid=None):
    """Profile MLE of the shared nu on a grid. Returns (nu_hat, grid, loglik)."""
    if grid is None:
        grid = np.concatenate([np.arange(2.05, 10, 0.05), np.arange(10, 60.5, 0.5)])
    ll = np.array([mv_student_t_loglik(Z, C, nu) for nu in grid])
    return float(grid[np.argmax(ll)]), grid, ll
