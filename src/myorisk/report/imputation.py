"""Report pieces of a study's multiple-imputation analysis (``missing: {method: mice}``)."""

from __future__ import annotations

__all__ = ["imputation_tables", "imputation_figures"]


def imputation_tables(res):  # noqa: ANN001, ANN201 - Results -> list of report Table
    """Report tables of the imputation analysis (empty when the study did not impute)."""
    from myorisk.report.tables import Table

    imp = res.imputation
    if imp is None:
        return []
    info = imp.info
    out = [Table("imputation_variables",
                 f"Multiple imputation of the development set: m = {info['m']}, seed {info['seed']}",
                 imp.variables, "data",
                 "Chained equations with the outcome in every imputation model; method per imputed variable "
                 "(pmm: predictive mean matching; logreg/polyreg: logistic/polytomous regression).")]
    for m in imp.models:
        fr = m.pooled.to_frame()[["term", "coef", "se", "or", "or_low", "or_high", "p", "df", "fmi"]]
        out.append(Table(f"pooled_{m.name}", f"{m.name}: refitted on {info['m']} imputations, pooled by Rubin's rules",
                         fr, "models", "CIs and p on Student's t with Barnard–Rubin df; fmi: fraction of "
                         "missing information (mice's definition)."))
        out.append(Table(f"validation_mi_{m.name}",
                         f"{m.name}: bootstrap validation within {info['m']} imputations (B = {m.validation.B} each)",
                         m.validation.to_frame(), "validation",
                         "Indexes averaged across imputations; corrected_low/high: 95% location-shifted bootstrap "
                         "intervals (Noma et al. 2021; for Intercept, Slope, Emax and U the percentile interval of "
                         "the test values) — approximate."))
    return out


def imputation_figures(res, watermark):  # noqa: ANN001, ANN201 - Results -> list of report Figure
    """Chain trace plots and observed-vs-imputed distributions (empty without imputation)."""
    from myorisk.report import figures as F
    from myorisk.report.write import Figure

    imp = res.imputation
    if imp is None or imp.mice is None or not imp.mice.imputed:
        return []
    return [
        Figure("imputation_missing", "Missing values per variable",
               "Share of missing values per variable of the imputation model in the development set.", "data",
               F.missing_share_plot(imp.mice.missing, watermark=watermark)),
        Figure("imputation_trace", "Imputation chains",
               "Mean and SD of the imputed values of each variable after every iteration, one line per "
               "imputation chain; chains that mix without trend have converged.", "data",
               F.mice_trace_plot(imp.mice, watermark=watermark)),
        Figure("imputation_densities", "Observed and imputed values",
               "Distribution of the observed values (black) and of the imputed values (colour) of each "
               "imputed variable.", "data", F.mice_density_plot(imp.mice, watermark=watermark)),
    ]
