# Reference values for myorisk.modeling.monitoring (registry monitoring): O/E with the Debray et al.
# (2017) CI, Wald CIs (confint.default) of calibration-in-the-large and slope from stats::glm,
# rms 6.5 val.prob intercept/slope, pROC DeLong CI, cumulative O - E and Bernoulli CUSUMs.
# Data are simulated here with R's RNG and written into the JSON. Run from tests/results/.
suppressMessages({library(rms); library(pROC); library(jsonlite)})
set.seed(20261204)

cusum <- function(p, y, R) {
  w <- y * log(R) - log(1 - p + R * p); s <- 0; out <- numeric(length(p))
  for (i in seq_along(p)) { s <- max(0, s + w[i]); out[i] <- s }
  out
}

one <- function(name, p, y) {
  lg <- qlogis(p)
  g1 <- glm(y ~ 1, offset = lg, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
  g2 <- glm(y ~ lg, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
  v <- val.prob(p, y, pl = FALSE)
  r <- roc(y, p, direction = "<", levels = c(0, 1), quiet = TRUE)
  ci <- ci.auc(r, method = "delong")
  O <- sum(y); E <- sum(p); N <- length(y)
  se <- sqrt(1 / O - 1 / N)
  list(
    name = name, p = p, y = y,
    n = N, events = O, expected = E,
    oe = list(estimate = O / E, low = exp(log(O / E) - qnorm(0.975) * se), high = exp(log(O / E) + qnorm(0.975) * se), se = se),
    citl = list(estimate = unname(coef(g1)[1]), low = confint.default(g1)[1, 1], high = confint.default(g1)[1, 2],
                se = sqrt(vcov(g1)[1, 1])),
    slope_glm = list(estimate = unname(coef(g2)[2]), low = confint.default(g2)[2, 1], high = confint.default(g2)[2, 2],
                     se = sqrt(vcov(g2)[2, 2])),
    valprob = list(intercept = unname(v["Intercept"]), slope = unname(v["Slope"]), brier = unname(v["Brier"])),
    c = list(estimate = as.numeric(ci[2]), low = as.numeric(ci[1]), high = as.numeric(ci[3])),
    cum_o_minus_e = cumsum(y) - cumsum(p),
    band = qnorm(0.975) * sqrt(cumsum(p * (1 - p))),
    cusum_up = cusum(p, y, 2), cusum_down = cusum(p, y, 0.5)
  )
}

# a calibrated model
lp <- rnorm(200, -0.8, 1.1); p1 <- plogis(lp); y1 <- rbinom(200, 1, p1)
# a model that under-estimates risk and is too extreme
lp2 <- rnorm(150, -1.5, 1.6); p2 <- plogis(lp2); y2 <- rbinom(150, 1, plogis(0.7 + 0.5 * lp2))
out <- list(software = list(R = R.version.string, rms = as.character(packageVersion("rms")),
                            pROC = as.character(packageVersion("pROC"))),
            cases = list(one("calibrated", p1, y1), one("miscalibrated", p2, y2)))
write_json(out, "monitoring_r.json", digits = NA, auto_unbox = TRUE, pretty = FALSE)
