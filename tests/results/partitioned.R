# Reference values for the partitioned (Parquet, sufficient-statistics) fit of `myorisk fit DATA/`:
# the same SYNTHETIC data (data/partitioned_synthetic.csv, 3000 rows, generated once with numpy,
# 96 rows with a missing value) fitted in memory by stats::glm and rms 6.5 lrm after listwise
# deletion (na.omit, as myorisk excludes the incomplete rows of every partition).
# Run from tests/results/: Rscript --vanilla partitioned.R
suppressMessages({library(rms); library(jsonlite)})

d <- read.csv("data/partitioned_synthetic.csv")
cc <- na.omit(d)
form <- y ~ age + crp + score + flag + dose
g <- glm(form, data = cc, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
f <- lrm(form, data = cc)
p <- fitted(g)
s <- summary(g)$coefficients
out <- list(
  n_rows = nrow(d), n = nrow(cc), events = sum(cc$y), n_dropped = nrow(d) - nrow(cc),
  missing = as.list(colSums(is.na(d))),
  coef = unname(coef(g)), se = unname(s[, 2]), z = unname(s[, 3]), p = unname(s[, 4]),
  wald_low = unname(confint.default(g)[, 1]), wald_high = unname(confint.default(g)[, 2]),
  loglik = as.numeric(logLik(g)), aic = AIC(g), null_deviance = g$null.deviance, deviance = deviance(g),
  brier = mean((p - cc$y)^2),
  c_exact = unname(somers2(p, cc$y)["C"]),                     # Hmisc: exact concordance
  lrm_c = unname(f$stats["C"]), lrm_r2 = unname(f$stats["R2"]),  # rms 6.5: C from 0.0002 cells
  lrm_chi2 = unname(f$stats["Model L.R."]), lrm_brier = unname(f$stats["Brier"])
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "partitioned_r.json")
