# References for myorisk.modeling.calibration.calibration_curve: the calibration of fixed
# predictions in one set, with R's own functions.
#   lowess(p, y, iter = 0) interpolated at a grid (approx, rule 1) — as rms val.prob's curve;
#   a pointwise bootstrap band: the same curve in each resample (index matrix saved, replayed
#     exactly by Python), 2.5% and 97.5% type-7 quantiles where at least half the resamples
#     reach the grid point;
#   grouped observed proportions: cut(p, unique(quantile(p, 0:g/g)), include.lowest = TRUE),
#     exact binomial CIs (binom.test);
#   logistic recalibration: glm(y ~ 1, offset = qlogis(p)) (calibration-in-the-large) and
#     glm(y ~ qlogis(p)) (slope) with Wald CIs (confint.default) and the line's Wald band.
# Run from tests/results/ (make r-refs). Output: calibration_curve_r.json
suppressMessages(library(jsonlite))

one <- function(p, y, B, seed, g) {
  n <- length(p)
  grid <- seq(min(p), max(p), length.out = 50)
  curve <- function(pp, yy) {
    s <- lowess(pp, yy, iter = 0)
    approx(s$x, s$y, xout = grid, ties = function(v) v[1])$y
  }
  set.seed(seed)
  idx <- t(vapply(seq_len(B), function(i) sample(n, replace = TRUE), integer(n)))
  boot <- t(apply(idx, 1, function(i) curve(p[i], y[i])))
  enough <- colSums(!is.na(boot)) >= B / 2
  low <- ifelse(enough, apply(boot, 2, quantile, 0.025, na.rm = TRUE, type = 7), NA)
  high <- ifelse(enough, apply(boot, 2, quantile, 0.975, na.rm = TRUE, type = 7), NA)
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)  # to convergence, as myorisk
  citl <- glm(y ~ 1, offset = qlogis(p), family = binomial, control = ctl)
  lg <- qlogis(p)
  rc <- glm(y ~ lg, family = binomial, control = ctl)
  pr <- predict(rc, newdata = data.frame(lg = qlogis(grid)), se.fit = TRUE)
  z <- qnorm(0.975)
  q <- quantile(p, seq(0, 1, 1 / g))
  grp <- cut(p, unique(q), include.lowest = TRUE)
  grp <- droplevels(grp)
  gs <- lapply(split(seq_len(n), grp), function(i) {
    k <- sum(y[i]); m <- length(i); ci <- binom.test(k, m)$conf.int
    c(n = m, events = k, predicted = mean(p[i]), observed = k / m, low = ci[1], high = ci[2])
  })
  gs <- do.call(rbind, gs)
  list(p = p, y = y, B = B, g = g, grid = grid, index = idx,
       observed = curve(p, y), low = unname(low), high = unname(high),
       intercept = unname(coef(citl)), intercept_ci = unname(confint.default(citl)[1, ]),
       slope = unname(coef(rc)[2]), slope_ci = unname(confint.default(rc)[2, ]),
       logistic = unname(plogis(pr$fit)), logistic_low = unname(plogis(pr$fit - z * pr$se.fit)),
       logistic_high = unname(plogis(pr$fit + z * pr$se.fit)),
       groups = list(n = unname(gs[, "n"]), events = unname(gs[, "events"]),
                     predicted = unname(gs[, "predicted"]), observed = unname(gs[, "observed"]),
                     low = unname(gs[, "low"]), high = unname(gs[, "high"])))
}

# aSAH (pROC): a model fitted on the first 60 patients, its predictions in the other 53
a <- read.csv("data/asah.csv")
f <- glm(poor ~ age + wfns + s100b, family = binomial, data = a[1:60, ])
pa <- unname(predict(f, newdata = a[61:113, ], type = "response"))
# birthwt (MASS): apparent predictions of a small model, 189 births
b <- read.csv("data/birthwt.csv")
fb <- glm(low ~ lwt + smoke + ht, family = binomial, data = b)
pb <- unname(fitted(fb))
res <- list(
  asah = one(pa, a$poor[61:113], B = 200, seed = 3, g = 3),
  birthwt = one(pb, b$low, B = 200, seed = 4, g = 9),
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."))
)
write_json(res, "calibration_curve_r.json", digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null")
