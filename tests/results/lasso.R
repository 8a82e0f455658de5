# Reference values for myorisk.modeling.lasso: glmnet 4.1 binomial lasso / elastic net
# (standardize = TRUE), coefficients on the original scale at given lambdas, the default lambda path,
# and cv.glmnet (deviance, given fold ids) lambda.min / lambda.1se. Run from tests/results/.
suppressMessages({library(glmnet); library(jsonlite)})
rd <- function(name) read.csv(file.path("data", paste0(name, ".csv")), stringsAsFactors = FALSE)

bw <- rd("birthwt")
bw$race <- factor(bw$race, levels = sort(unique(bw$race), method = "radix"))
xb <- model.matrix(~ age + lwt + race + smoke + ptl + ht + ui + ftv, bw)[, -1]
yb <- bw$low
pima <- rd("pima_tr")
xp <- as.matrix(pima[, c("npreg", "glu", "bp", "skin", "bmi", "ped", "age")])
yp <- as.integer(pima$type == "Yes")

case <- function(name, dataset, outcome, predictors, x, y, alpha, lambdas, nfolds) {
  # exact solutions at the given lambdas (thresh tight, lambdas passed so no interpolation)
  f <- glmnet(x, y, family = "binomial", alpha = alpha, lambda = sort(lambdas, decreasing = TRUE),
              thresh = 1e-14, maxit = 1e6)
  cf <- as.matrix(coef(f))
  path <- glmnet(x, y, family = "binomial", alpha = alpha, thresh = 1e-14, maxit = 1e6)
  foldid <- rep_len(1:nfolds, nrow(x))          # deterministic folds, given to both programs
  cv <- cv.glmnet(x, y, family = "binomial", alpha = alpha, foldid = foldid, thresh = 1e-14,
                  maxit = 1e6)
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors, alpha = alpha,
       columns = colnames(x),
       lambdas = unname(f$lambda), coef = lapply(seq_len(ncol(cf)), function(j) unname(cf[, j])),
       path_lambda = unname(path$lambda), path_df = unname(path$df),
       foldid = foldid, cv_lambda = unname(cv$lambda), cvm = unname(cv$cvm), cvsd = unname(cv$cvsd),
       lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se,
       coef_min = unname(as.matrix(coef(cv, s = "lambda.min"))[, 1]),
       coef_1se = unname(as.matrix(coef(cv, s = "lambda.1se"))[, 1]))
}

cases <- list(
  case("birthwt_lasso", "birthwt", "low", c("age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv"),
       xb, yb, 1, c(0.08, 0.04, 0.02, 0.01, 0.002), 10),
  case("pima_enet", "pima_tr", "type", c("npreg", "glu", "bp", "skin", "bmi", "ped", "age"),
       xp, yp, 0.5, c(0.1, 0.03, 0.01, 0.001), 5)
)
write_json(list(glmnet = as.character(packageVersion("glmnet")), cases = cases), "lasso_r.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
