"""Newton–Raphson core for binary logistic regression (maximum likelihood and Firth).

Hand-written (see ``docs/hand-written.md``): statsmodels' Logit gives no Firth penalty, no
rms-6.5 stopping rule for bootstrap parity, and no control over step-halving; this core is small,
vectorised and shared by every fit in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myorisk.modeling._special import expit, log_expit

__all__ = ["CoreFit", "newton_logistic", "loglik_logistic"]


@dataclass(frozen=True)
class CoreFit:
    """Raw result of :func:`newton_logistic`.

    Attributes
    ----------
    beta : ndarray of shape (p,)
        Estimates (first column of X is usually the intercept).
    cov : ndarray of shape (p, p)
        Inverse of the (unpenalised) Fisher information at ``beta``.
    loglik : float
        Ordinary log-likelihood at ``beta``.
    penalized_loglik : float
        Log-likelihood plus Firth's penalty ½·log|I(β)| (equals ``loglik`` for ML fits).
    converged : bool
        Whether the convergence criterion was met within ``maxit`` iterations.
    n_iter : int
        Newton iterations used.
    max_abs_score : float
        Largest absolute (modified) score component at the solution.
    """

    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    penalized_loglik: float
    converged: bool
    n_iter: int
    max_abs_score: float


def loglik_logistic(
    lp: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Binomial log-likelihood Σ w·[y·lp − log(1 + e^lp)], computed stably."""
    ll = y * log_expit(lp) + (1.0 - y) * log_expit(-lp)
    if weights is not None:
        ll = ll * weights
    return float(np.sum(ll))


def _firth_terms(
    X: np.ndarray, p: np.ndarray, w: np.ndarray, info: np.ndarray
) -> tuple[np.ndarray, float]:
    """Hat-matrix diagonal h and ½·log|I| for the Firth (Jeffreys) penalty."""
    chol = np.linalg.cholesky(info)
    v = w * p * (1.0 - p)
    # h_i = v_i x_i' I^{-1} x_i
    z = np.linalg.solve(chol, X.T)  # L^{-1} X'
    h = v * np.sum(z * z, axis=0)
    half_logdet = float(np.sum(np.log(np.diag(chol))))
    return h, half_logdet


def newton_logistic(
    X: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    firth: bool = False,
    penalty: np.ndarray | None = None,
    start: np.ndarray | None = None,
    maxit: int = 50,
    tol: float = 1e-10,
) -> CoreFit:
    """Fit a logistic regression by Newton–Raphson with step-halving.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Design matrix, including the intercept column if one is wanted.
    y : ndarray of shape (n,)
        Outcome coded 0/1.
    weights : ndarray of shape (n,), optional
        Case weights (frequency weights; bootstrap resamples use them).
    offset : ndarray of shape (n,), optional
        Fixed part of the linear predictor.
    firth : bool, default=False
        Maximise the Firth-penalised likelihood (Jeffreys prior; brglm2 ``type="AS_mean"``,
        logistf) instead of the ordinary likelihood.
    penalty : ndarray of shape (p, p), optional
        Quadratic penalty matrix P: maximise log L − ½ β′Pβ (rms ``lrm(penalty=)``). The
        returned ``cov`` is then the inverse of the penalised information I + P (rms
        ``var.penalty="simple"``) and ``penalized_loglik`` the penalised log-likelihood.
    start : ndarray of shape (p,), optional
        Starting values; by default the intercept-only solution when column 0 is constant,
        else zeros.
    maxit : int, default=50
        Maximum number of Newton iterations.
    tol : float, default=1e-10
        Convergence when the largest absolute Newton step is below ``tol`` and the
        (modified) score is below ``1e-8·n``.

    Returns
    -------
    CoreFit
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    if start is None:
        beta = np.zeros(k)
        if k and np.all(X[:, 0] == 1.0):
            ybar = np.sum(w * y) / np.sum(w)
            if 0.0 < ybar < 1.0:
                beta[0] = np.log(ybar / (1.0 - ybar)) - (np.mean(off) if offset is not None else 0.0)
    else:
        beta = np.asarray(start, dtype=float).copy()

    def objective(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
        lp = off + X @ b
        p = expit(lp)
        ll = loglik_logistic(lp, y, w)
        info = (X * (w * p * (1.0 - p))[:, None]).T @ X
        pen = 0.0
        h = None
        if firth:
            try:
                h, pen = _firth_terms(X, p, w, info)
            except np.linalg.LinAlgError:
                return -np.inf, p, info, np.full(k, np.nan), np.nan
        resid = w * (y - p)
        if firth:
            resid = resid + h * (0.5 - p)
        score = X.T @ resid
        if penalty is not None:
            pen -= 0.5 * float(b @ penalty @ b)
            info = info + penalty
            score = score - penalty @ b
        return ll + pen, p, info, score, ll

    obj, _, info, score, ll = objective(beta)
    converged = False
    it = 0
    scale = max(1.0, float(np.sum(w)))
    for it in range(1, maxit + 1):  # noqa: B007 - it is reported as n_iter
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, score, rcond=None)[0]
        # A step that moves some linear predictor by more than 10 comes from a nearly singular
        # information (fitted probabilities saturated at 0/1, e.g. a large offset): shorten it
        # to a change of 10 at most, which halving alone cannot do in 40 tries.
        dlp = float(np.max(np.abs(X @ step))) if k else 0.0
        if np.isfinite(dlp) and dlp > 10.0:
            step = step * (10.0 / dlp)
        # step-halving: accept a step that raises the (penalised) log-likelihood, or keeps it
        # (to rounding) while shrinking the score. Without the score rule, Fisher scoring on a
        # flat Firth likelihood can jump back and forth across the maximum for ever.
        t = 1.0
        score_norm = np.max(np.abs(score)) if k else 0.0
        for _ in range(40):
            cand = beta + t * step
            obj_c, _, info_c, score_c, ll_c = objective(cand)
            if np.isfinite(obj_c) and (
                obj_c > obj
                or (obj_c >= obj - 1e-12 * abs(obj) and np.max(np.abs(score_c)) < score_norm)
            ):
                break
            t *= 0.5
        else:  # no step length improves: stay at the best point (converged only if the score is ~0)
            converged = bool(np.max(np.abs(score)) < 1e-8 * scale) if k else True
            break
        beta, obj, info, score, ll = cand, obj_c, info_c, score_c, ll_c
        if np.max(np.abs(t * step)) < tol * max(1.0, np.max(np.abs(beta))) and np.max(
            np.abs(score)
        ) < 1e-8 * scale:
            converged = True
            break
        if np.max(np.abs(score)) < 1e-12 * scale:
            converged = True
            break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    return CoreFit(
        beta=beta,
        cov=cov,
        loglik=float(ll),
        penalized_loglik=float(obj),
        converged=converged,
        n_iter=it,
        max_abs_score=float(np.max(np.abs(score))) if k else 0.0,
    )
