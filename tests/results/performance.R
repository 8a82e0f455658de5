# Reference values for myorisk.modeling.smoothing (lowess, approx) and
# myorisk.modeling.performance (val_prob, hosmer_lemeshow, spiegelhalter_z).
# Run from tests/results/ with `Rscript --vanilla performance.R`; writes performance_r.json.
# Inputs (data and probabilities) are written next to the results so the Python tests use
# identical numbers.
suppressMessages({library(rms); library(jsonlite); library(pROC); library(brglm2)})

# jsonlite's digits = NA writes 15 significant digits, so every input is first rounded to the
# double that its 15-digit text parses to: Python then reads exactly the numbers R used.
r15 <- function(x) ifelse(is.na(x), NA_real_, suppressWarnings(as.numeric(sprintf("%.15g", x))))

res <- list()
res$versions <- list(R = R.version.string, rms = as.character(packageVersion("rms")),
                     pROC = as.character(packageVersion("pROC")),
                     brglm2 = as.character(packageVersion("brglm2")),
                     Hmisc = as.character(packageVersion("Hmisc")))

# ---------------------------------------------------------------- lowess ---------------------
set.seed(20240611)
lowess_data <- list()     # each data set once; the cases refer to it by name
lowess_cases <- list()
add_data <- function(name, x, y) lowess_data[[name]] <<- list(x = r15(x), y = r15(y))
add_lowess <- function(name, data, f = 2/3, iter = 3L, delta = NULL) {
  d <- lowess_data[[data]]
  f <- r15(f)
  args <- list(x = d$x, y = d$y, f = f, iter = iter)
  if (!is.null(delta)) args$delta <- delta <- r15(delta)
  out <- do.call(lowess, args)
  lowess_cases[[length(lowess_cases) + 1L]] <<- list(
    name = name, data = data, f = f, iter = iter,
    delta = if (is.null(delta)) NA else delta, out_x = out$x, out_y = out$y)
}
for (k in 1:6) {
  n <- c(25, 60, 150, 400, 7, 500)[k]
  x <- rnorm(n)
  y <- sin(2 * x) + rnorm(n, sd = 0.4)
  if (k %% 2 == 0) y[sample(n, 3)] <- y[sample(n, 3)] + 6    # outliers for robustness weights
  dn <- sprintf("cont%d", k)
  add_data(dn, x, y)
  for (f in c(2/3, 0.25, 1, 1.5)) for (iter in c(0L, 3L)) {
    add_lowess(sprintf("%s_f%.3f_it%d", dn, f, iter), dn, f, iter)
  }
  add_lowess(sprintf("%s_delta0_it1", dn), dn, 0.5, 1L, 0)
  add_lowess(sprintf("%s_delta_big", dn), dn, 0.4, 2L, 0.1 * diff(range(x)))
}
for (k in 1:5) {   # ties in x, binary y: the calibration use
  n <- c(30, 113, 189, 500, 800)[k]
  p <- plogis(rnorm(n, -1, 1.2))
  dn <- sprintf("ties%d", k)
  add_data(dn, round(p, c(1, 2, 2, 3, 2)[k]), rbinom(n, 1, p))
  for (iter in c(0L, 3L)) add_lowess(sprintf("%s_it%d", dn, iter), dn, 2/3, iter)
  add_lowess(sprintf("%s_f0.2_delta0.05", dn), dn, 0.2, 0L, 0.05)
}
add_data("two_points", c(1, 2), c(3, 5))
add_lowess("two_points", "two_points")
add_data("one_point", 0.5, 1)
add_lowess("one_point", "one_point")
add_data("const_x", rep(0.3, 10), c(0, 1, 0, 0, 1, 1, 0, 1, 0, 0))
add_lowess("const_x", "const_x", iter = 0L)
add_data("const_y", rnorm(20), rep(2, 20))
add_lowess("const_y", "const_y")           # cmad == 0 -> robustness loop stops
add_data("unsorted_ties", c(3, 1, 2, 2, 5, 1, 4, 3, 3, 2), c(1, 5, 2, 3, 9, 4, 1, 0, 7, 2))
add_lowess("unsorted_ties", "unsorted_ties", 0.5, 2L)
add_lowess("unsorted_ties_f0.1", "unsorted_ties", 0.1, 0L)
res$lowess_data <- lowess_data
res$lowess <- lowess_cases

# ---------------------------------------------------------------- approx ---------------------
approx_cases <- list()
add_approx <- function(name, x, y, xout, rule = 1, ties = "mean") {
  x <- r15(x); y <- r15(y); xout <- r15(xout)
  tf <- switch(ties, mean = mean, first = function(v) v[1], ordered = "ordered")
  out <- suppressWarnings(approx(x, y, xout = xout, rule = rule, ties = tf))
  approx_cases[[length(approx_cases) + 1L]] <<- list(
    name = name, x = x, y = y, xout = xout, rule = rule, ties = ties, out = out$y)
}
for (k in 1:6) {
  n <- c(5, 20, 50, 200, 1000, 37)[k]
  x <- round(runif(n), c(1, 1, 2, 2, 3, 6)[k])
  y <- rnorm(n)
  xout <- c(runif(40, -0.1, 1.1), x[1:min(n, 10)], min(x), max(x))
  for (ties in c("mean", "first")) for (rule in 1:2) {
    add_approx(sprintf("r%d_%s_rule%d", k, ties, rule), x, y, xout, rule, ties)
  }
  xs <- sort(x)
  add_approx(sprintf("r%d_ordered", k), xs, y, xout, 1, "ordered")
}
lc <- Filter(function(z) z$name == "ties3_it0", lowess_cases)[[1]]
add_approx("lowess_smooth", lc$out_x, lc$out_y, lowess_data$ties3$x, 1, "mean")
add_approx("na_pairs", c(1, 2, NA, 4, 5), c(1, NA, 3, 4, 10), c(0.5, 1.5, 3, 4.5, 6), 1, "mean")
res$approx <- approx_cases

# ---------------------------------------------------------------- val.prob -------------------
vp_names <- c("Dxy", "C (ROC)", "R2", "D", "D:Chi-sq", "D:p", "U", "U:Chi-sq", "U:p", "Q",
              "Brier", "Intercept", "Slope", "Emax", "E90", "Eavg", "S:z", "S:p")
run_vp <- function(name, p, y) {
  p <- r15(p)
  warns <- character()
  s <- withCallingHandlers(val.prob(p, y, pl = FALSE),
                           warning = function(w) { warns <<- c(warns, conditionMessage(w));
                                                   invokeRestart("muffleWarning") })
  i <- is.finite(qlogis(p))
  citl <- if (length(unique(p)) > 1)
    unname(coef(glm(y[i] ~ 1, offset = qlogis(p[i]), family = binomial,
                    control = glm.control(epsilon = 1e-14, maxit = 100)))) else NA
  const <- length(unique(p)) == 1
  recal <- if (!const) unname(coef(glm(y[i] ~ qlogis(p[i]), family = binomial,
               control = glm.control(epsilon = 1e-14, maxit = 100)))) else NA
  # exact concordance (Hmisc somers2 = rms >= 6.9) on the same observations
  exact <- if (length(unique(p)) > 1) somers2(p[i], y[i]) else c(C = 0.5, Dxy = 0)
  # the lowess + approx curve behind Emax/E90/Eavg
  cs <- if (!const) approx(lowess(p, y, iter = 0), xout = p, ties = mean)$y else NA
  list(name = name, p = p, y = y, stats = as.list(setNames(unname(s)[seq_along(vp_names)], vp_names)),
       raw = unname(s), warnings = warns, citl = citl,
       recal_glm = recal, c_exact = unname(exact["C"]),
       dxy_exact = unname(exact["Dxy"]), cal_smooth = cs)
}
b <- read.csv("data/birthwt.csv")
fb <- glm(low ~ age + lwt + race + smoke + ptl + ht + ui, data = b, family = binomial)
pb <- unname(fitted(fb))
a <- read.csv("data/asah.csv")
fa <- glm(poor ~ s100b + wfns + age, data = a, family = binomial)
pa <- unname(fitted(fa))
pm <- plogis(0.5 + 1.4 * qlogis(pb))
pd <- pb
pd[which.min(pb)] <- 0            # an exact 0 with y = 0
pd[which(b$low == 1)[1:2]] <- 1   # exact 1s with y = 1
pd2 <- pb
pd2[which(b$low == 0)[1]] <- 1    # an exact 1 with y = 0 (dropped from L01 by na.rm)
vp <- list(
  run_vp("birthwt", pb, b$low),
  run_vp("asah", pa, a$poor),
  run_vp("birthwt_miscal", pm, b$low),
  run_vp("birthwt_exact01", pd, b$low),
  run_vp("birthwt_exact1_y0", pd2, b$low),
  run_vp("asah_rounded", round(pa, 2), a$poor),
  run_vp("constant", rep(0.3, 50), rep(c(1, 0, 0, 0, 1), 10))
)
res$val_prob <- vp

# ---------------------------------------------------------------- Hosmer-Lemeshow ------------
# ResourceSelection 0.3-6 hoslem.test(x = y, y = yhat, g), re-implemented in base R (the package
# is not in Debian); the algorithm is the package's, line by line.
hoslem <- function(y, yhat, g = 10) {
  qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
  cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
  observed <- xtabs(cbind(y0 = 1 - y, y1 = y) ~ cutyhat)
  expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
  chisq <- sum((observed - expected)^2 / expected)
  G <- length(unique(cutyhat))
  if (G < 2L) stop("The number of bins led to negative df.")
  warn <- G < g
  list(chisq = chisq, df = G - 2, p = 1 - pchisq(chisq, G - 2), groups = G, warn = warn,
       breaks = unname(qq), observed0 = unname(observed[, 1]), observed1 = unname(observed[, 2]),
       expected0 = unname(expected[, 1]), expected1 = unname(expected[, 2]),
       n = unname(as.vector(table(cutyhat))))
}
hl_cases <- list()
add_hl <- function(name, y, p, g = 10) {
  p <- r15(p)
  hl_cases[[length(hl_cases) + 1L]] <<- c(list(name = name, y = y, prob = p, g = g), hoslem(y, p, g))
}
add_hl("birthwt", b$low, pb)
add_hl("birthwt_g5", b$low, pb, 5)
add_hl("birthwt_g7", b$low, pb, 7)
add_hl("asah", a$poor, pa)
add_hl("birthwt_miscal", b$low, pm)
add_hl("asah_rounded1", a$poor, round(pa, 1))          # ties: fewer than 10 groups
add_hl("asah_rounded2_g20", a$poor, round(pa, 2), 20)
pt <- rep(c(0.1, 0.2, 0.2, 0.4, 0.4, 0.4, 0.7), 9)
add_hl("tied_levels", rep(c(0, 0, 1, 0, 1, 1, 1), 9), pt)
res$hosmer_lemeshow <- hl_cases

jsonlite::write_json(res, "performance_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
                     na = "null")
