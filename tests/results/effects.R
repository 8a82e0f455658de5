# Reference values for myorisk.modeling.effects: rms 6.5 Predict() partial effects (log odds with
# pointwise 95% CIs, other predictors at datadist's adjust-to values). Run from tests/results/.
suppressMessages({library(rms); library(jsonlite)})
rd <- function(name) read.csv(file.path("data", paste0(name, ".csv")), stringsAsFactors = FALSE)
lev <- function(x) factor(x, levels = sort(unique(x), method = "radix"))

bw <- rd("birthwt"); bw$race <- lev(bw$race)
pima <- rd("pima_tr"); pima$type <- lev(pima$type)

ecase <- function(name, dataset, data, formula, predictors, outcome, vars) {
  dd <- datadist(data); options(datadist = "dd"); assign("dd", dd, envir = globalenv())
  f <- lrm(formula, data = data, eps = 1e-12, maxit = 100)
  eff <- lapply(vars, function(v) {
    p <- do.call(Predict, list(f, as.name(v)))
    x <- p[[v]]
    list(variable = v, x = if (is.factor(x)) as.character(x) else as.numeric(x),
         yhat = as.numeric(p$yhat), lower = as.numeric(p$lower), upper = as.numeric(p$upper))
  })
  adj <- lapply(names(dd$limits), function(v) {
    a <- dd$limits["Adjust to", v]; if (is.factor(a)) as.character(a) else as.numeric(a) })
  names(adj) <- names(dd$limits)
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors,
       adjust = adj, effects = eff)
}

cases <- list(
  ecase("birthwt_rcs_x_race", "birthwt", bw, low ~ rcs(age, 4) * race + lwt + smoke,
        c("rcs(age, 4)*race", "lwt", "smoke"), "low", c("age", "race", "lwt", "smoke")),
  ecase("pima_rcs", "pima_tr", pima, type ~ rcs(glu, 4) + bmi + ped,
        c("rcs(glu, 4)", "bmi", "ped"), "type", c("glu", "bmi", "ped"))
)
write_json(list(rms = as.character(packageVersion("rms")), cases = cases), "effects_r.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
