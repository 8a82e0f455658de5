# Reference values for myorisk.modeling.terms / design (rcs splines, interactions) and
# myorisk.modeling.anova (rms anova.rms Wald tests). R rms 6.5 lrm. Run from tests/results/.
suppressMessages({library(rms); library(jsonlite)})
options(contrasts = c("contr.treatment", "contr.poly"))
rd <- function(name) read.csv(file.path("data", paste0(name, ".csv")), stringsAsFactors = FALSE)
lev <- function(x) factor(x, levels = sort(unique(x), method = "radix"))

anova_rows <- function(f) {
  a <- anova(f)
  list(factor = trimws(rownames(a)), chi2 = unname(a[, "Chi-Square"]), df = unname(a[, "d.f."]),
       p = unname(a[, "P"]))
}

case <- function(name, dataset, data, formula, predictors, outcome) {
  f <- lrm(formula, data = data, x = TRUE, eps = 1e-12, maxit = 100)
  kn <- lapply(f$Design$parms, function(p) if (is.numeric(p)) unname(p) else NULL)
  kn <- kn[!vapply(kn, is.null, logical(1))]
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors,
       names = names(coef(f)), coef = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))),
       knots = kn, loglik = as.numeric(f$deviance[2]) / -2, anova = anova_rows(f))
}

pima <- rd("pima_tr"); pima$type <- lev(pima$type)
bw <- rd("birthwt"); bw$race <- lev(bw$race)
aq <- rd("airquality_hi"); aq$month <- lev(aq$month)
small <- pima[1:80, ]

cases <- list(
  case("pima_rcs", "pima_tr", pima, type ~ rcs(glu, 4) + bmi + rcs(age, 3),
       c("rcs(glu, 4)", "bmi", "rcs(age, 3)"), "type"),
  case("pima_small_rcs5", "pima_tr[1:80]", small, type ~ rcs(glu, 5) + ped,
       c("rcs(glu, 5)", "ped"), "type"),
  case("birthwt_rcs_x_factor", "birthwt", bw, low ~ rcs(age, 4) * race + lwt,
       c("rcs(age, 4)*race", "lwt"), "low"),
  case("birthwt_linear_ia", "birthwt", bw, low ~ smoke * lwt + race,
       c("smoke*lwt", "race"), "low"),
  case("pima_rcs_x_rcs", "pima_tr", pima, type ~ rcs(glu, 3) * rcs(bmi, 3),
       c("rcs(glu, 3)*rcs(bmi, 3)"), "type"),
  case("pima_rcs_ia_rcs", "pima_tr", pima, type ~ rcs(glu, 3) + rcs(age, 3) + rcs(glu, 3) %ia% rcs(age, 3),
       c("rcs(glu, 3)", "rcs(age, 3)", "rcs(glu, 3) %ia% rcs(age, 3)"), "type"),
  case("pima_knots", "pima_tr", pima, type ~ rcs(glu, c(80, 100, 120, 160)) + ped,
       c("rcs(glu, knots=[80, 100, 120, 160])", "ped"), "type"),
  case("airquality_missing", "airquality_hi", aq, hi ~ rcs(Temp, 3) + Solar.R + Wind,
       c("rcs(Temp, 3)", "Solar.R", "Wind"), "hi")
)
write_json(list(rms = as.character(packageVersion("rms")), cases = cases), "terms_r.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
