#!/usr/bin/env Rscript
## Reference ("golden") values for the competing-risk section of `ikaros course` with baseline
## covariates (ikaros.course.competing), on the demo's simulated maintenance cohort.
##
## Input (written by ikaros, tests/course/test_covariates.py, and committed):
##     maintenance_competing.csv   patient_id, time (months from diagnosis), status (0 censored,
##                                 1 SPM, 2 death without SPM), age, arm (0 = A, 1 = B),
##                                 arm_label (A/B)
## Output, next to this script: golden.json with
##     fine_gray        cmprsk::crr(time, status, cbind(age, arm), failcode = 1, cencode = 0)
##     cause_specific   survival::coxph(Surv(time, status == 1) ~ age + arm, ties = "efron")
##     gray             cmprsk::cuminc(time, status, arm_label)$Tests for cause 1
## Run from anywhere: Rscript tests/reference/course_competing/make_golden.R
## Deterministic (no random numbers); re-running gives a byte-identical golden.json.

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
  normalizePath(file.path("tests", "reference", "course_competing"), mustWork = TRUE)
}
d <- read.csv(file.path(script_dir, "maintenance_competing.csv"),
              colClasses = c(patient_id = "character", arm_label = "character"))

x <- cbind(age = d$age, arm = d$arm)
fg <- crr(d$time, d$status, x, failcode = 1, cencode = 0)
fg_se <- sqrt(diag(fg$var))
fg_z <- fg$coef / fg_se
terms_fg <- lapply(seq_along(fg$coef), function(i) {
  list(coef = unname(fg$coef[i]), se = unname(fg_se[i]),
       p = 2 * pnorm(-abs(unname(fg_z[i]))))
})
names(terms_fg) <- colnames(x)

cs <- coxph(Surv(time, status == 1) ~ age + arm, data = d, ties = "efron")
cs_s <- summary(cs)$coefficients
terms_cs <- lapply(rownames(cs_s), function(n) {
  list(coef = unname(cs_s[n, "coef"]), se = unname(cs_s[n, "se(coef)"]),
       p = unname(cs_s[n, "Pr(>|z|)"]))
})
names(terms_cs) <- rownames(cs_s)

ci <- cuminc(d$time, d$status, d$arm_label)
tests <- ci$Tests
golden <- list(
  r_version = R.version.string,
  cmprsk = as.character(packageVersion("cmprsk")),
  survival = as.character(packageVersion("survival")),
  n = nrow(d),
  events = sum(d$status == 1),
  competing = sum(d$status == 2),
  fine_gray = list(converged = fg$converged, terms = terms_fg),
  cause_specific = list(events = cs$nevent, terms = terms_cs),
  gray = list(statistic = unname(tests["1", "stat"]), p = unname(tests["1", "pv"]),
              df = unname(tests["1", "df"]))
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(script_dir, "golden.json"))
