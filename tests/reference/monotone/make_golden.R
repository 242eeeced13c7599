#!/usr/bin/env Rscript
## Reference values for monotone-likelihood handling (issue 10): R coxph and cmprsk::crr on the
## inputs beside this script (written by make_inputs.py).
##
## Run from the repository root:
##     Rscript tests/reference/monotone/make_golden.R
## Writes golden.json next to this script. Deterministic (no random numbers, no dates).
##
## Per Cox case: coxph(Surv(time, event) ~ ..., ties = "efron") with tight control
## (eps = 1e-12, toler.chol = 1e-13, iter.max = 100) and with R's default control. Recorded:
## coefficients, SEs, HR, 95% Wald CI, Wald p, log-likelihoods, iterations and R's warnings;
## `infinite` is TRUE when R warns that a coefficient may be infinite or the coefficient is NA.
## Fine-Gray: crr(time, status, X, failcode = 1, cencode = 0) with gtol = 1e-12 and by default.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "monotone"), mustWork = TRUE)
}
out_file <- file.path(script_dir, "golden.json")
rd <- function(name) read.csv(file.path(script_dir, name), check.names = FALSE)
arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))

tight <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)

with_warnings <- function(expr) {
  msgs <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warning = paste(msgs, collapse = "; "))
}

cox_summary <- function(formula, d, control) {
  got <- with_warnings(coxph(formula, data = d, ties = "efron", control = control))
  fit <- got$value
  co <- summary(fit)$coefficients
  ci <- suppressWarnings(exp(confint(fit)))
  list(
    terms = arr(rownames(co)),
    coef = arr(num(co[, "coef"])), se = arr(num(co[, "se(coef)"])),
    hr = arr(num(co[, "exp(coef)"])), lower = arr(num(ci[, 1])), upper = arr(num(ci[, 2])),
    z = arr(num(co[, "z"])), p = arr(num(co[, "Pr(>|z|)"])),
    loglik_null = num(fit$loglik[1]), loglik = num(fit$loglik[2]),
    iter = num(fit$iter), warning = got$warning,
    infinite = grepl("infinite", got$warning) || any(is.na(coef(fit)))
  )
}

cox_case <- function(id, file, formula) {
  d <- rd(file)
  list(id = id, file = file, formula = deparse(formula), n = nrow(d), nevent = sum(d$event),
       tight = cox_summary(formula, d, tight),
       default = cox_summary(formula, d, coxph.control()))
}

cases <- list(
  cox_case("finite", "cox_finite.csv", Surv(time, event) ~ x),
  cox_case("separated", "cox_separated.csv", Surv(time, event) ~ x),
  cox_case("joint", "cox_joint.csv", Surv(time, event) ~ x + c),
  cox_case("joint_x_alone", "cox_joint.csv", Surv(time, event) ~ x)
)

## scan: one coxph per gene (tight control)
m <- rd("scan_matrix.csv")
genes <- setdiff(colnames(m), c("time", "event"))
per_gene <- lapply(genes, function(g) {
  d <- data.frame(time = m$time, event = m$event, x = m[[g]])
  s <- cox_summary(Surv(time, event) ~ x, d, tight)
  s$terms <- NULL
  s
})
field <- function(name) arr(vapply(per_gene, function(s) {
  v <- s[[name]]
  if (is.character(v)) v else as.numeric(v)
}, if (name == "warning") character(1) else numeric(1)))
scan <- list(genes = arr(genes), sd = arr(num(vapply(genes, function(g) sd(m[[g]]), 1))))
for (name in c("coef", "se", "hr", "lower", "upper", "z", "p", "loglik", "loglik_null",
               "iter", "warning", "infinite")) {
  scan[[name]] <- field(name)
}
scan$infinite <- arr(as.logical(scan$infinite))

## Fine-Gray
fg <- rd("fine_gray.csv")
crr_case <- function(id, cols) {
  X <- as.matrix(fg[, cols, drop = FALSE])
  got <- with_warnings(crr(fg$time, fg$status, X, failcode = 1, cencode = 0, gtol = 1e-12,
                           maxiter = 100))
  dflt <- with_warnings(crr(fg$time, fg$status, X, failcode = 1, cencode = 0))
  f <- got$value
  se <- sqrt(diag(f$var))
  list(id = id, covariates = arr(cols), coef = arr(num(f$coef)), se = arr(num(se)),
       hr = arr(num(exp(f$coef))), p = arr(num(2 * pnorm(-abs(f$coef / se)))),
       converged = isTRUE(f$converged), loglik = num(f$loglik),
       warning = got$warning,
       default = list(coef = arr(num(dflt$value$coef)), converged = isTRUE(dflt$value$converged),
                      warning = dflt$warning))
}
fine_gray <- list(crr_case("separated", "x2"), crr_case("finite", "x3"))

out <- list(
  meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
              cmprsk = as.character(packageVersion("cmprsk")),
              jsonlite = as.character(packageVersion("jsonlite")),
              control = "coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)"),
  cox = cases, scan = scan, fine_gray = fine_gray
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE), out_file)
