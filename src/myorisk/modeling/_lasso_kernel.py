"""Compiled (numba) coordinate-descent kernel of :mod:`myorisk.modeling.lasso` (imported on first use)."""

from __future__ import annotations

import numpy as np
from numba import njit

_PMIN = 1e-9


@njit(cache=True, nogil=True)
def cd_path(X, y, w, alpha, lambdas, early, maxit):  # pragma: no cover - compiled
    """Elastic-net logistic path on standardised X; returns (coefficients, deviance ratios)."""
    n, p = X.shape
    nl = lambdas.size
    coefs = np.zeros((nl, p + 1))
    devr = np.zeros(nl)
    ybar = 0.0
    for i in range(n):
        ybar += w[i] * y[i]
    b0 = np.log(ybar / (1.0 - ybar))
    beta = np.zeros(p)
    eta = np.full(n, b0)
    nulldev = 0.0
    for i in range(n):
        nulldev -= 2.0 * w[i] * (y[i] * np.log(ybar) + (1.0 - y[i]) * np.log(1.0 - ybar))
    used = 0
    v = np.zeros(n)
    z = np.zeros(n)
    r = np.zeros(n)
    xv = np.zeros(p)
    for m in range(nl):
        lam = lambdas[m]
        l1 = lam * alpha
        l2 = lam * (1.0 - alpha)
        # glmnet's first λ of its own path is λ_max, where every slope is zero by definition
        for _outer in range(0 if (early and m == 0) else maxit):
            # quadratic approximation at the current point
            for i in range(n):
                pr = 1.0 / (1.0 + np.exp(-eta[i]))
                if pr < _PMIN:
                    pr = _PMIN
                elif pr > 1.0 - _PMIN:
                    pr = 1.0 - _PMIN
                v[i] = w[i] * pr * (1.0 - pr)
                z[i] = (y[i] - pr) / (pr * (1.0 - pr))  # working residual on the eta scale
                r[i] = z[i]
            for j in range(p):
                s = 0.0
                for i in range(n):
                    s += v[i] * X[i, j] * X[i, j]
                xv[j] = s
            sv = 0.0
            for i in range(n):
                sv += v[i]
            # inner coordinate descent on  ½ Σ v (r − Δb0 − X Δβ)² + penalty(β + Δβ)
            d0 = 0.0
            dbeta = np.zeros(p)
            for _inner in range(10000):
                dlx = 0.0
                # intercept
                s = 0.0
                for i in range(n):
                    s += v[i] * r[i]
                step = s / sv
                d0 += step
                for i in range(n):
                    r[i] -= step
                if step * step * sv > dlx:
                    dlx = step * step * sv
                for j in range(p):
                    old = beta[j] + dbeta[j]
                    g = 0.0
                    for i in range(n):
                        g += v[i] * X[i, j] * r[i]
                    u = g + xv[j] * old
                    au = abs(u) - l1
                    new = 0.0
                    if au > 0.0:
                        new = np.sign(u) * au / (xv[j] + l2)
                    if new != old:
                        delta = new - old
                        dbeta[j] += delta
                        for i in range(n):
                            r[i] -= delta * X[i, j]
                        if delta * delta * xv[j] > dlx:
                            dlx = delta * delta * xv[j]
                if dlx < 1e-24:
                    break
            b0 += d0
            for j in range(p):
                beta[j] += dbeta[j]
            change = d0 * d0 * sv
            for j in range(p):
                if dbeta[j] * dbeta[j] * xv[j] > change:
                    change = dbeta[j] * dbeta[j] * xv[j]
            for i in range(n):
                s = b0
                for j in range(p):
                    s += X[i, j] * beta[j]
                eta[i] = s
            if change < 1e-22:
                break
        dev = 0.0
        for i in range(n):
            pr = 1.0 / (1.0 + np.exp(-eta[i]))
            if pr < _PMIN:
                pr = _PMIN
            elif pr > 1.0 - _PMIN:
                pr = 1.0 - _PMIN
            dev -= 2.0 * w[i] * (y[i] * np.log(pr) + (1.0 - y[i]) * np.log(1.0 - pr))
        coefs[m, 0] = b0
        for j in range(p):
            coefs[m, j + 1] = beta[j]
        devr[m] = 1.0 - dev / nulldev
        used = m + 1
        if early and m >= 4:
            if devr[m] - devr[m - 1] < 1e-5 or devr[m] > 0.999:
                break
    return coefs[:used], devr[:used]

