# Reference values for myorisk.modeling.pooling (Rubin's rules) and myorisk.modeling.mice (MICE).
# R mice 3.15 from Debian (r-cran-mice). Run from tests/results/ after 00_datasets.R.
#
# 1. An incomplete copy of birthwt (MASS; public) with a seeded MAR pattern in age, lwt (numeric:
#    pmm), smoke (binary factor: logreg) and race (3 levels: polyreg) -> data/birthwt_miss.csv.
# 2. mice(m = 5, seed = 2026) on it; the long completed data (mice::complete(imp, "long")) ->
#    data/birthwt_mice_long.csv; glm(binomial) fitted with(imp, ...) and pool() -> pooled table.
# 3. Monte-Carlo reference for myorisk's own MICE: the pooled coefficients of mice's defaults over
#    K seeds (their mean and between-seed SD).
suppressMessages({library(mice); library(jsonlite)})

bw <- read.csv("data/birthwt.csv")
bw <- bw[, c("low", "age", "lwt", "race", "smoke", "ptl", "ht", "ui")]
set.seed(20261204)
n <- nrow(bw)
miss <- function(p) runif(n) < p
bw$age[miss(plogis(-2.0 + 0.8 * bw$low + 0.5 * bw$ui))] <- NA
bw$lwt[miss(plogis(-2.2 + 0.9 * bw$ht + 0.4 * bw$low))] <- NA
bw$smoke[miss(plogis(-2.3 + 0.7 * bw$low))] <- NA
bw$race[miss(rep(0.10, n))] <- NA
write.csv(bw, "data/birthwt_miss.csv", row.names = FALSE, na = "")

prep <- function(d) {
  d$race <- factor(d$race, levels = c("white", "black", "other"))
  d$smoke <- factor(d$smoke, levels = c(0, 1))
  d
}
d <- prep(bw)
form <- low ~ age + lwt + race + smoke + ht + ui

imp <- mice(d, m = 5, seed = 2026, printFlag = FALSE)
long <- complete(imp, "long")
long$smoke <- as.integer(as.character(long$smoke))
long$race <- as.character(long$race)
write.csv(long, "data/birthwt_mice_long.csv", row.names = FALSE)

# glm converged tightly and restarted at its solution (as tests/results/logistic.R converges it):
# glm's default epsilon stops IRLS early and takes vcov from the weights of the last-but-one
# iterate, a 1e-6 relative difference that is glm's stopping rule, not pool()'s.
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
fits <- with(imp, {
  f0 <- glm(low ~ age + lwt + race + smoke + ht + ui, family = binomial, control = ctl)
  glm(low ~ age + lwt + race + smoke + ht + ui, family = binomial, control = ctl, start = coef(f0))
})
po <- pool(fits)
pd <- po$pooled
s <- summary(po, conf.int = TRUE)
pooled <- list(
  term = as.character(pd$term), m = po$m, estimate = pd$estimate, ubar = pd$ubar, b = pd$b,
  t = pd$t, dfcom = pd$dfcom, df = pd$df, riv = pd$riv, lambda = pd$lambda, fmi = pd$fmi,
  std_error = s$std.error, statistic = s$statistic, p_value = s$p.value,
  ci_low = s[["2.5 %"]], ci_high = s[["97.5 %"]]
)
scal <- pool.scalar(Q = c(0.71, 0.74, 0.69, 0.73, 0.70), U = c(0.0011, 0.0012, 0.0010, 0.0013, 0.0011), n = 189, k = 7)

# Monte-Carlo reference: mice defaults (pmm / logreg / polyreg, maxit 5), m = 5, K seeds
K <- 20
est <- t(sapply(seq_len(K), function(k) {
  im <- mice(d, m = 5, seed = 1000 + k, printFlag = FALSE)
  summary(pool(with(im, glm(low ~ age + lwt + race + smoke + ht + ui, family = binomial))))$estimate
}))
mc <- list(K = K, m = 5, maxit = 5, method = as.list(imp$method),
           mean = colMeans(est), sd = apply(est, 2, sd), estimates = unname(split(est, row(est))))

write_json(list(mice_version = as.character(packageVersion("mice")),
                data = "birthwt_miss", long = "birthwt_mice_long", outcome = "low",
                predictors = c("age", "lwt", "race", "smoke", "ht", "ui"), reference = list(race = "white"),
                n_incomplete = sum(!complete.cases(bw)), nmis = as.list(colSums(is.na(bw))),
                pooled = pooled,
                scalar = list(Q = c(0.71, 0.74, 0.69, 0.73, 0.70), U = c(0.0011, 0.0012, 0.0010, 0.0013, 0.0011),
                              n = 189, k = 7, qbar = scal$qbar, ubar = scal$ubar, b = scal$b, t = scal$t,
                              df = scal$df, r = scal$r, fmi = scal$fmi),
                mc = mc),
           "imputation_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
