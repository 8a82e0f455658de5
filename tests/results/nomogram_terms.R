# Reference values for myorisk.modeling.nomogram with splines and interactions: rms 6.5 nomogram()
# of lrm fits with rcs() terms and rcs*factor / numeric*binary interactions. Run from tests/results/.
suppressMessages({library(rms); library(jsonlite)})
lev <- function(x, ref = NULL) {
  l <- sort(unique(x), method = "radix"); if (!is.null(ref)) l <- c(ref, setdiff(l, ref)); factor(x, levels = l)
}
bw <- read.csv("data/birthwt.csv"); bw$race <- lev(bw$race, "white")
pima <- read.csv("data/pima_tr.csv"); pima$type <- lev(pima$type); # agegrp's levels in the order myorisk gives them (ICU collation, as R's sort() in a UTF-8 locale)
pima$agegrp <- factor(pima$agegrp, levels = c("<30", ">=50", "30-49"))
options(datadist = NULL)

nomo_case <- function(name, data, formula, dataset, outcome, predictors, reference, rows = 1:15) {
  dd <<- datadist(data); options(datadist = "dd")
  f <- lrm(formula, data = data, x = TRUE, eps = 1e-12, maxit = 100)
  nom <- nomogram(f, fun = plogis, funlabel = "Risk")
  info <- attr(nom, "info")
  sets <- setdiff(names(nom), c("total.points", "lp", "Risk"))
  axes <- lapply(sets, function(s) {
    a <- nom[[s]]
    list(axis = s, variable = names(a)[1], values = I(as.character(a[[1]])), points = I(as.numeric(a$points)))
  })
  # points of individual patients: each axis group's partial linear predictor (all the terms of the
  # predictor and of the factors it interacts with), minus the axis minimum, times sc
  tt <- predict(f, data[rows, ], type = "terms")
  lp <- predict(f, data[rows, ])
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors, reference = reference,
       coef_names = names(coef(f)), coef = unname(coef(f)),
       sc = info$sc, intercept = unname(info$Intercept), R = as.list(as.data.frame(info$R)), axes = axes,
       total_points = I(nom$total.points$x),
       total_probability = I(plogis(unname(info$Intercept) + nom$total.points$x / info$sc)),
       lp_x = I(nom$lp$x), lp_real = I(nom$lp$x.real),
       prob_x = I(nom$Risk$x), prob_real = I(nom$Risk$x.real),
       rows = I(rows), row_lp = I(unname(lp)),
       row_total = I(unname((lp - info$Intercept) * info$sc)))
}
cases <- list(
  nomo_case("birthwt_rcs_x_race", bw, low ~ rcs(age, 4) * race + lwt, "birthwt", "low",
            c("rcs(age, 4)*race", "lwt"), list(race = "white")),
  nomo_case("pima_rcs", pima, type ~ rcs(glu, 4) + bmi + rcs(age, 3), "pima_tr", "type",
            c("rcs(glu, 4)", "bmi", "rcs(age, 3)"), list()),
  nomo_case("birthwt_smoke_x_lwt", bw, low ~ smoke * lwt + race, "birthwt", "low",
            c("smoke*lwt", "race"), list(race = "white")),
  nomo_case("pima_rcs_x_agegrp", pima, type ~ rcs(bmi, 4) * agegrp + ped, "pima_tr", "type",
            c("rcs(bmi, 4)*agegrp", "ped"), list())
)
write_json(list(versions = list(R = R.version.string, rms = as.character(packageVersion("rms"))),
                cases = cases),
           "nomogram_terms_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
