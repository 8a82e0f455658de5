# Reference values for myorisk.modeling.sample_size (Riley et al. minimum sample size for a
# binary-outcome prediction model, as R pmsampsize(type = "b") computes it).
# pmsampsize is not packaged in Debian, so the formulas are written here in base R (our own
# code, following Riley et al. 2020 and pmsampsize 1.1.x). Run from tests/results/ with
# `Rscript --vanilla sample_size.R`. Output: sample_size_r.json.
suppressMessages({library(jsonlite); library(rms); library(pROC); library(brglm2)})

max_r2cs <- function(prev) 1 - exp(2 * (prev * log(prev) + (1 - prev) * log(1 - prev)))

# pmsampsize's cstat2rsq: simulate 1e6 linear predictors, fit a logistic calibration model
cstat2rsq <- function(cstatistic, prevalence, seed = 123456) {
  n <- 1000000
  mu <- sqrt(2) * qnorm(cstatistic)
  set.seed(seed)
  LP <- c(rnorm(prevalence * n, mean = 0, sd = 1), rnorm((1 - prevalence) * n, mean = mu, sd = 1))
  y <- c(rep(0, prevalence * n), rep(1, (1 - prevalence) * n))
  model <- glm(y ~ LP, family = binomial)
  as.numeric(1 - exp(-1 * (model$null.deviance - model$deviance) / n))
}

riley <- function(prevalence, parameters, csrsquared = NA, nagrsquared = NA, cstatistic = NA,
                  shrinkage = 0.9, mmoe = 0.05, seed = 123456) {
  mx <- max_r2cs(prevalence)
  r2_unrounded <- NA
  if (!is.na(csrsquared)) {
    r2 <- csrsquared
  } else if (!is.na(nagrsquared)) {
    r2 <- round(nagrsquared * mx, 3)
  } else {
    r2_unrounded <- cstat2rsq(cstatistic, prevalence, seed)
    r2 <- round(r2_unrounded, 4)
  }
  nshr <- function(s) ceiling(parameters / ((s - 1) * log(1 - r2 / s)))
  n1 <- nshr(shrinkage)
  s2 <- r2 / (r2 + 0.05 * mx)
  n2 <- nshr(s2)
  n3 <- ceiling((1.96 / mmoe)^2 * prevalence * (1 - prevalence))
  n <- max(n1, n2, n3)
  list(input = list(prevalence = prevalence, parameters = parameters, csrsquared = csrsquared,
                    nagrsquared = nagrsquared, cstatistic = cstatistic, shrinkage = shrinkage,
                    mmoe = mmoe),
       r2_cs = r2, r2_cs_unrounded = r2_unrounded, max_r2_cs = mx, r2_nagelkerke = r2 / mx,
       n = c(n1, n2, n3, n), shrinkage = c(shrinkage, s2, max(shrinkage, s2), max(shrinkage, s2)),
       events = c(n1, n2, n3, n) * prevalence,
       epp = c(n1, n2, n3, n) * prevalence / parameters,
       epp_rounded = round(c(n1, n2, n3, n) * prevalence / parameters, 2))
}

res <- list()
res$cases <- list(
  riley(0.174, 24, csrsquared = 0.288),
  riley(0.174, 24, csrsquared = 0.55),
  riley(0.174, 36, csrsquared = 0.288),
  riley(0.25, 24, csrsquared = 0.288),
  riley(0.174, 24, nagrsquared = 0.48),
  riley(0.3, 5, nagrsquared = 0.15),
  riley(0.05, 10, csrsquared = 0.05, shrinkage = 0.95, mmoe = 0.03),
  riley(0.297, 3, csrsquared = 0.15),
  riley(0.174, 24, cstatistic = 0.89),
  riley(0.3, 3, cstatistic = 0.8)
)

# R's random stream, to check the Python replay of set.seed/rnorm (Mersenne-Twister, Inversion)
set.seed(123456)
res$rnorm_123456 <- rnorm(10)
res$rnorm_tail <- {set.seed(42); x <- rnorm(100001, 1.5, 2); x[c(1, 2, 50000, 100001)]}

# Published numbers, copied from pmsampsize's own test suite (not computed here):
# pmsampsize tests/testthat/test_bin.R, "Test 4.1" (pmsampsize 1.1.x):
#   pmsampsize(type = "b", csrsquared = 0.288, parameters = 24, prevalence = 0.174)
#   ss <- c(623, 662, 221, 662); SPP <- c(4.52, 4.8, 1.6, 4.8)
# and "Test 4.4" (prevalence = 0.25): ss <- c(623, 590, 289, 623); SPP <- c(6.49, 6.15, 3.01, 6.49)
res$published <- list(
  source = "pmsampsize tests/testthat/test_bin.R (Tests 4.1-4.4)",
  tests = list(
    list(prevalence = 0.174, parameters = 24, csrsquared = 0.288,
         n = c(623, 662, 221, 662), epp = c(4.52, 4.8, 1.6, 4.8)),
    list(prevalence = 0.174, parameters = 24, csrsquared = 0.55,
         n = c(255, 532, 221, 532), epp = c(1.85, 3.86, 1.6, 3.86)),
    list(prevalence = 0.174, parameters = 36, csrsquared = 0.288,
         n = c(934, 992, 221, 992), epp = c(4.51, 4.79, 1.07, 4.79)),
    list(prevalence = 0.25, parameters = 24, csrsquared = 0.288,
         n = c(623, 590, 289, 623), epp = c(6.49, 6.15, 3.01, 6.49))
  )
)

res$versions <- list(R = as.character(getRversion()),
                     rms = as.character(packageVersion("rms")),
                     pROC = as.character(packageVersion("pROC")),
                     brglm2 = as.character(packageVersion("brglm2")),
                     jsonlite = as.character(packageVersion("jsonlite")))
write_json(res, "sample_size_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
