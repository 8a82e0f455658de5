# Reference values for myorisk.modeling.logistic (fit_logistic) and selection (univariate, backward AIC).
# R rms 6.5 lrm, stats::glm (+ MASS profile confint), brglm2 AS_mean (Firth). Run from tests/results/.
suppressMessages({library(rms); library(brglm2); library(jsonlite); library(MASS)})

lev <- function(x, ref = NULL) {           # factor levels in C-locale order, optional reference first
  l <- sort(unique(x), method = "radix")
  if (!is.null(ref)) l <- c(ref, setdiff(l, ref))
  factor(x, levels = l)
}
vec <- function(x) as.list(setNames(as.numeric(x), names(x)))

fit_case <- function(name, data, formula, dataset, predictors, reference = list(), outcome) {
  g <- glm(formula, data = data, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
  f <- lrm(formula, data = data)
  s <- summary(g)$coefficients
  ci <- suppressMessages(confint(g, level = 0.95))        # profile likelihood (MASS method in R 4.2)
  cf <- coef(g); names(cf)[1] <- "Intercept"
  nm <- names(coef(f))                                      # rms names: Intercept, x, f=level
  list(
    name = name, dataset = dataset, outcome = outcome, predictors = predictors, reference = reference,
    names = nm,
    coef = unname(coef(g)), se = unname(s[, 2]), z = unname(s[, 3]), p = unname(s[, 4]),
    lrm_coef = unname(coef(f)), lrm_se = unname(sqrt(diag(vcov(f)))),
    profile_low = unname(ci[, 1]), profile_high = unname(ci[, 2]),
    wald_low = unname(confint.default(g)[, 1]), wald_high = unname(confint.default(g)[, 2]),
    loglik = as.numeric(logLik(g)), aic = AIC(g), null_deviance = g$null.deviance,
    lrm_stats = vec(f$stats)
  )
}

bw <- read.csv("data/birthwt.csv"); bw$race <- lev(bw$race, "white")
inf <- read.csv("data/infert.csv"); inf$education <- lev(inf$education)
as <- read.csv("data/asah.csv"); as$gender <- lev(as$gender)
en <- read.csv("data/endometrial.csv")

cases <- list(
  fit_case("birthwt_full", bw, low ~ age + lwt + race + smoke + ptl + ht + ui, "birthwt",
           c("age", "lwt", "race", "smoke", "ptl", "ht", "ui"), list(race = "white"), "low"),
  fit_case("infert", inf, case ~ age + parity + education + induced + spontaneous, "infert",
           c("age", "parity", "education", "induced", "spontaneous"), list(), "case"),
  fit_case("asah", as, poor ~ age + gender + s100b + wfns, "asah",
           c("age", "gender", "s100b", "wfns"), list(), "poor")
)

# Firth (brglm2 AS_mean) on the quasi-separated endometrial data, and on birthwt
firth_case <- function(name, data, formula, dataset, predictors, reference = list(), outcome) {
  b <- glm(formula, data = data, family = binomial, method = "brglmFit", type = "AS_mean",
           epsilon = 1e-12, maxit = 200)
  s <- summary(b)$coefficients
  # Firth's penalised log-likelihood l(b) + 0.5 log|I(b)| (logistf's loglik), I = X'WX = vcov^-1,
  # for the model and for the intercept-only Firth fit
  pen <- function(m) sum(dbinom(m$y, 1, fitted(m), log = TRUE)) +
    0.5 * as.numeric(determinant(solve(vcov(m)), logarithm = TRUE)$modulus)
  b0 <- glm(update(formula, . ~ 1), data = data, family = binomial, method = "brglmFit",
            type = "AS_mean", epsilon = 1e-12, maxit = 200)
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors, reference = reference,
       coef = unname(coef(b)), se = unname(s[, 2]), z = unname(s[, 3]), p = unname(s[, 4]),
       deviance = deviance(b), loglik = sum(dbinom(b$y, 1, fitted(b), log = TRUE)),
       loglik_penalized = pen(b), loglik_null_penalized = pen(b0))
}
firth <- list(
  firth_case("endometrial", en, HG ~ NV + PI + EH, "endometrial", c("NV", "PI", "EH"), list(), "HG"),
  firth_case("birthwt_firth", bw, low ~ age + lwt + race + smoke, "birthwt",
             c("age", "lwt", "race", "smoke"), list(race = "white"), "low")
)

# ML on endometrial: glm does not converge to a finite NV estimate (quasi-complete separation)
sep <- suppressWarnings(glm(HG ~ NV + PI + EH, data = en, family = binomial))
separation <- list(dataset = "endometrial", glm_nv_estimate = unname(coef(sep)["NV"]),
                   glm_nv_se = unname(summary(sep)$coefficients["NV", 2]),
                   fitted_min = min(fitted(sep)), fitted_max = max(fitted(sep)))

# Univariate table: each predictor alone (glm, Wald and profile CIs)
univ <- lapply(c("age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv"), function(v) {
  g <- glm(as.formula(paste("low ~", v)), data = bw, family = binomial,
           control = glm.control(epsilon = 1e-14, maxit = 100))
  s <- summary(g)$coefficients[-1, , drop = FALSE]
  ci <- suppressMessages(confint(g))[-1, , drop = FALSE]
  tn <- rownames(s)
  if (is.factor(bw[[v]])) tn <- sub(paste0("^", v), paste0(v, "="), tn)   # rms naming: race=black
  list(variable = v, terms = I(tn), coef = unname(s[, 1]), se = unname(s[, 2]), p = unname(s[, 4]),
       profile_low = unname(ci[, 1]), profile_high = unname(ci[, 2]))
})

# Backward stepwise AIC (stats::step) from the full birthwt model with ftv, and from infert
st <- step(glm(low ~ age + lwt + race + smoke + ptl + ht + ui + ftv, data = bw, family = binomial),
           direction = "backward", trace = 0)
st2 <- step(glm(case ~ age + parity + education + induced + spontaneous, data = inf, family = binomial),
            direction = "backward", trace = 0)
steps <- list(
  list(dataset = "birthwt", outcome = "low",
       candidates = c("age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv"), reference = list(race = "white"),
       kept = attr(terms(st), "term.labels"), aic = AIC(st),
       path = as.character(st$anova$Step)),
  list(dataset = "infert", outcome = "case",
       candidates = c("age", "parity", "education", "induced", "spontaneous"), reference = list(),
       kept = attr(terms(st2), "term.labels"), aic = AIC(st2),
       path = as.character(st2$anova$Step))
)

versions <- list(R = R.version.string, rms = as.character(packageVersion("rms")),
                 brglm2 = as.character(packageVersion("brglm2")))
write_json(list(versions = versions, fits = cases, firth = firth, separation = separation,
                univariate = univ, step = steps),
           "logistic_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
