# Reference knots for myorisk.modeling.terms.rcs_knots: Hmisc rcspline.eval as rms rcs() calls it
# (fractied = 0.05) on variables with few distinct values and with a tied extreme value (a pile at
# zero or at a detection limit). Run from tests/results/ with Rscript --vanilla.
suppressMessages({library(rms); library(jsonlite)})
set.seed(20261204)
vars <- list(
  three_values = rep(c(4, 6, 8), c(11, 7, 14)),                    # R refuses: < 3 knots
  six_values = rep(c(1, 2, 3, 4, 6, 8), c(7, 10, 3, 10, 1, 1)),     # knots = interior values
  binary = rep(c(0, 1), c(19, 13)),                                 # R refuses
  zero_pile = c(rep(0, 30), round(rexp(170) * 10, 1)),              # first knot moved
  both_piles = c(rep(0, 25), round(runif(150, 0, 100), 2), rep(100, 25)),
  small_zero_pile = c(rep(0, 8), round(rexp(52) * 3, 2)),           # n < 100 and a pile
  continuous = round(rnorm(90, 50, 10), 3)
)
out <- list()
for (v in names(vars)) for (k in 3:7) {
  kn <- tryCatch(suppressWarnings(rcs(vars[[v]], k)), error = function(e) NULL)
  out[[length(out) + 1]] <- list(variable = v, nk = k,
                                 knots = if (is.null(kn)) NULL else unname(attr(kn, "parms")))
}
res <- list(x = vars, cases = out,
            versions = list(R = R.version.string, rms = as.character(packageVersion("rms")),
                            Hmisc = as.character(packageVersion("Hmisc"))))
write_json(res, "knots_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", null = "null")
