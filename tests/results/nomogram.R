# Reference values for myorisk.modeling.nomogram: rms 6.5 nomogram() on public data. Run from tests/results/.
suppressMessages({library(rms); library(jsonlite)})
lev <- function(x, ref = NULL) {
  l <- sort(unique(x), method = "radix"); if (!is.null(ref)) l <- c(ref, setdiff(l, ref)); factor(x, levels = l)
}
bw <- read.csv("data/birthwt.csv"); bw$race <- lev(bw$race, "white")
as <- read.csv("data/asah.csv"); as$gender <- lev(as$gender)
options(datadist = NULL)

nomo_case <- function(name, data, formula, dataset, outcome, predictors, reference, fun.at = NULL) {
  dd <<- datadist(data); options(datadist = "dd")
  f <- lrm(formula, data = data, x = TRUE)
  nom <- if (is.null(fun.at)) nomogram(f, fun = plogis, funlabel = "Risk") else
    nomogram(f, fun = plogis, funlabel = "Risk", fun.at = fun.at)
  info <- attr(nom, "info")
  axes <- lapply(predictors, function(v) {
    s <- nom[[v]]
    list(variable = v, values = I(as.character(s[[v]])), points = I(as.numeric(s$points)))
  })
  pts_patients <- NULL
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors, reference = reference,
       fun_at = fun.at, coef = unname(coef(f)),
       sc = info$sc, intercept = unname(info$Intercept), R = info$R, axes = axes,
       total_points = I(nom$total.points$x),
       lp_x = I(nom$lp$x), lp_real = I(nom$lp$x.real),
       prob_x = I(nom$Risk$x), prob_real = I(nom$Risk$x.real))
}
cases <- list(
  nomo_case("birthwt", bw, low ~ age + lwt + race + smoke + ptl + ht + ui, "birthwt", "low",
            c("age", "lwt", "race", "smoke", "ptl", "ht", "ui"), list(race = "white")),
  nomo_case("birthwt_funat", bw, low ~ lwt + race + smoke + ht, "birthwt", "low",
            c("lwt", "race", "smoke", "ht"), list(race = "white"),
            fun.at = c(.05, .1, .2, .3, .4, .5, .6, .7, .8, .9)),
  nomo_case("asah", as, poor ~ age + gender + s100b + wfns, "asah", "poor",
            c("age", "gender", "s100b", "wfns"), list())
)
# R's pretty() itself, on awkward ranges (nomogram axes are built with it)
ranges <- list(c(0.03, 2.07), c(-3.21, 4.5), c(14, 45), c(80, 250), c(0, 0.87), c(1e-4, 3e-4), c(-0.5, 0.5),
               c(0, 137.2), c(-5.123, -4.9), c(0.0012, 0.9988), c(2, 2))
pr <- lapply(ranges, function(r) list(lo = r[1], hi = r[2], n = 10, pretty = I(pretty(r, n = 10)),
                                      pretty5 = I(pretty(r))))
write_json(list(versions = list(R = R.version.string, rms = as.character(packageVersion("rms"))),
                cases = cases, pretty = pr),
           "nomogram_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
