# Reference values for penalised maximum likelihood (rms 6.5 lrm(penalty=), default Penalty.matrix),
# effective degrees of freedom and pentrace's grid search. Run from tests/results/.
suppressMessages({library(rms); library(jsonlite)})
rd <- function(name) read.csv(file.path("data", paste0(name, ".csv")), stringsAsFactors = FALSE)
lev <- function(x) factor(x, levels = sort(unique(x), method = "radix"))

bw <- rd("birthwt"); bw$race <- lev(bw$race)
pima <- rd("pima_tr"); pima$type <- lev(pima$type)

pcase <- function(name, dataset, data, formula, predictors, outcome, penalty, grid) {
  f0 <- lrm(formula, data = data, x = TRUE, y = TRUE, eps = 1e-12, maxit = 100)
  f <- lrm(formula, data = data, x = TRUE, y = TRUE, penalty = penalty, eps = 1e-12, maxit = 100)
  pm <- Penalty.matrix(f0$Design, f0$x)
  pt <- pentrace(f0, grid, tol = 1e-13)
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors, penalty = penalty,
       names = names(coef(f)), coef = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))),
       effective_df = unname(f$stats["d.f."]), lr = unname(f$stats["Model L.R."]),
       effective_df_diagonal = unname(f$effective.df.diagonal),
       penalty_matrix = unname(pm),
       pentrace = list(best = unname(pt$penalty), grid = unname(pt$results.all$penalty),
                       df = unname(pt$results.all$df), aic = unname(pt$results.all$aic),
                       bic = unname(pt$results.all$bic), aic_c = unname(pt$results.all$aic.c)))
}

cases <- list(
  pcase("birthwt", "birthwt", bw, low ~ age + lwt + race + smoke + ptl + ht + ui,
        c("age", "lwt", "race", "smoke", "ptl", "ht", "ui"), "low", 4,
        c(0, 0.5, 1, 2, 4, 8, 16, 32)),
  pcase("pima_spline", "pima_tr", pima, type ~ rcs(glu, 4) + rcs(age, 4) + bmi + ped + npreg,
        c("rcs(glu, 4)", "rcs(age, 4)", "bmi", "ped", "npreg"), "type", 2,
        c(0.25, 0.5, 1, 2, 3, 5, 10, 20))
)
write_json(list(rms = as.character(packageVersion("rms")), cases = cases), "penalty_r.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor")
