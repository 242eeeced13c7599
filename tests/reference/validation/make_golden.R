#!/usr/bin/env Rscript
## Reference ("golden") values for ikaros.validation: treatment-by-marker Cox models, STEPP
## window estimates, random-effects meta-analysis (metafor) and the one-stage stratified Cox.
##
## Run from anywhere:
##     Rscript tests/reference/validation/make_golden.R
## Writes golden.json next to this script. Reads the real cohorts in place from
## $IKAROS_SHARED_DATA (default <repo root>/../shared/data) and the simulated cohorts
## sim_multicohort.csv and sim_two_arm.csv beside this script (made by make_inputs.py).
## Deterministic: no random numbers, no dates, fixed order. See README.md.

suppressPackageStartupMessages({
  library(survival)
  library(metafor)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "validation"), mustWork = TRUE)
}
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."), mustWork = TRUE)
data_dir <- Sys.getenv("IKAROS_SHARED_DATA", unset = "")
if (!nzchar(data_dir)) data_dir <- file.path(repo_root, "..", "shared", "data")
data_dir <- normalizePath(data_dir, mustWork = TRUE)
out_file <- file.path(script_dir, "golden.json")

DAYS_PER_MONTH <- 30.4375
## metafor's defaults stop REML at a change of 1e-5 and the Q-profile root search at
## .Machine$double.eps^0.25; both are tightened so that the values are the exact solutions.
REML_CONTROL <- list(threshold = 1e-12, maxiter = 1000)
CI_CONTROL <- list(tol = 1e-12)

arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))

## ---------------------------------------------------------------------------------------------
## data
## ---------------------------------------------------------------------------------------------
gse <- read.delim(file.path(data_dir, "gse24080", "clinical.tsv"), check.names = FALSE)
stopifnot(nrow(gse) == 565)
gse$trt <- as.integer(gse$protocol == "TT3")   # TT3 active, TT2 reference

cp <- read.csv(file.path(data_dir, "commpass", "clinical.csv"), check.names = FALSE)
cp$os_time <- ifelse(cp$vital_status == "Dead", cp$days_to_death,
                     cp$days_to_last_follow_up) / DAYS_PER_MONTH
cp$os_event <- as.integer(cp$vital_status == "Dead")
cp <- cp[!is.na(cp$os_time) & cp$os_time >= 0, ]
cp$iss <- unname(c(I = 1, II = 2, III = 3)[cp$iss_stage])
cp$age <- cp$age_at_diagnosis / 365.25

sim <- read.csv(file.path(script_dir, "sim_multicohort.csv"))
two <- read.csv(file.path(script_dir, "sim_two_arm.csv"))
two$trt <- as.integer(two$treatment == "active")

## ---------------------------------------------------------------------------------------------
## treatment by marker (coxph, Efron)
## ---------------------------------------------------------------------------------------------
terms_of <- function(fit) {
  s <- summary(fit)$coefficients
  lapply(setNames(seq_len(nrow(s)), rownames(s)), function(i)
    list(coef = num(s[i, "coef"]), se = num(s[i, "se(coef)"]), p = num(s[i, "Pr(>|z|)"])))
}

interaction_block <- function(time, event, x, trt) {
  d <- data.frame(time = time, event = event, x = x, trt = trt)
  full <- coxph(Surv(time, event) ~ x + trt + x:trt, data = d, ties = "efron")
  base <- coxph(Surv(time, event) ~ x + trt, data = d, ties = "efron")
  lr <- 2 * (full$loglik[2] - base$loglik[2])
  list(n = full$n, events = full$nevent, terms = terms_of(full),
       loglik_full = num(full$loglik[2]), loglik_base = num(base$loglik[2]),
       lr = num(lr), lr_p = num(pchisq(lr, 1, lower.tail = FALSE)))
}

single <- function(time, event, x) {
  f <- coxph(Surv(time, event) ~ x, ties = "efron")
  s <- summary(f)$coefficients
  list(n = f$n, events = f$nevent, coef = num(s[1, "coef"]), se = num(s[1, "se(coef)"]),
       p = num(s[1, "Pr(>|z|)"]))
}

tbm <- list()
for (ep in c("efs", "os")) {
  d <- gse[!is.na(gse$b2m_mg_l), ]
  time <- d[[paste0(ep, "_time")]]
  event <- d[[paste0(ep, "_event")]]
  cut <- num(quantile(d$b2m_mg_l, 0.25, type = 7))
  high <- as.numeric(d$b2m_mg_l > cut)
  groups <- list(low = high == 0, high = high == 1)
  arms <- list(TT2 = d$trt == 0, TT3 = d$trt == 1)
  tbm[[ep]] <- list(
    n_excluded = sum(is.na(gse$b2m_mg_l)),
    cut = cut,
    continuous_none = interaction_block(time, event, d$b2m_mg_l, d$trt),
    continuous_log2 = interaction_block(time, event, log2(d$b2m_mg_l), d$trt),
    cut_model = interaction_block(time, event, high, d$trt),
    cells = lapply(groups, function(g) lapply(arms, function(a)
      list(n = sum(g & a), events = sum(event[g & a])))),
    treatment_within = lapply(groups, function(g) single(time[g], event[g], d$trt[g])),
    marker_cut_within = lapply(arms, function(a) single(time[a], event[a], high[a])),
    marker_cont_within = lapply(arms, function(a) single(time[a], event[a], d$b2m_mg_l[a]))
  )
}

## ---------------------------------------------------------------------------------------------
## STEPP: sliding windows as R stepp 3.2.7 (generate.all, type "sliding"; the stepp package is
## not in Debian, so the window rule is transcribed here), KM at the landmark per arm
## (summary.survfit, Greenwood SE) and the log-rank (O - E) / V log HR of the active arm.
## ---------------------------------------------------------------------------------------------
stepp_windows <- function(x, r1, r2) {
  zvals <- sort(unique(x))
  cumfreq <- cumsum(as.numeric(table(x)))
  cnt <- function(a, b) cumfreq[b] - (if (a > 1) cumfreq[a - 1] else 0)
  I0 <- 1
  I1 <- sum(cumfreq < r2) + 1
  while (I1[length(I1)] < length(zvals)) {
    a <- I0[length(I0)] + 1
    while (cnt(a, I1[length(I1)]) > r1) a <- a + 1
    b <- I1[length(I1)]
    while (cnt(a, b) < r2 && b < length(zvals)) b <- b + 1
    I0 <- c(I0, a)
    I1 <- c(I1, b)
  }
  cbind(zvals[I0], zvals[I1])
}

km_at <- function(time, event, L) {
  if (L > max(time)) return(list(surv = NA, se = NA))
  s <- summary(survfit(Surv(time, event) ~ 1), times = L)
  list(surv = num(s$surv), se = num(s$std.err))
}

stepp_block <- function(time, event, x, trt, L, r1, r2) {
  w <- stepp_windows(x, r1, r2)
  one <- function(m) {
    a <- km_at(time[m & trt == 1], event[m & trt == 1], L)
    r <- km_at(time[m & trt == 0], event[m & trt == 0], L)
    sd <- survdiff(Surv(time[m], event[m]) ~ trt[m])
    oe <- sd$obs[2] - sd$exp[2]
    v <- sd$var[2, 2]
    list(n = sum(m), events = sum(event[m]), median = num(median(x[m])),
         surv_active = a$surv, se_active = a$se, surv_reference = r$surv,
         se_reference = r$se, log_hr = num(oe / v), log_hr_se = num(1 / sqrt(v)))
  }
  list(landmark = L, r1 = r1, r2 = r2, low = arr(w[, 1]), high = arr(w[, 2]),
       windows = lapply(seq_len(nrow(w)), function(i) one(x >= w[i, 1] & x <= w[i, 2])),
       overall = one(rep(TRUE, length(x))))
}

gd <- gse[!is.na(gse$b2m_mg_l), ]
stepp_ref <- list(
  gse_efs_log2b2m = stepp_block(gd$efs_time, gd$efs_event, log2(gd$b2m_mg_l), gd$trt, 48, 100, 150),
  gse_os_b2m = stepp_block(gd$os_time, gd$os_event, gd$b2m_mg_l, gd$trt, 60, 60, 120),
  sim_two_arm = stepp_block(two$time, two$event, two$marker, two$trt, 36, 40, 80)
)

## ---------------------------------------------------------------------------------------------
## meta-analysis (metafor rma REML + Knapp-Hartung, predict, confint Q-profile, leave1out, FE)
## ---------------------------------------------------------------------------------------------
meta_block <- function(yi, vi, names, control = REML_CONTROL) {
  r <- rma(yi, vi, method = "REML", test = "knha", control = control)
  p <- predict(r)
  ci <- confint(r, control = CI_CONTROL)$random
  fe <- rma(yi, vi, method = "FE")
  out <- list(
    names = arr(names), yi = arr(num(yi)), vi = arr(num(vi)),
    random = list(estimate = num(r$b), se = num(r$se), lower = num(r$ci.lb),
                  upper = num(r$ci.ub), statistic = num(r$zval), p = num(r$pval)),
    fixed = list(estimate = num(fe$b), se = num(fe$se), lower = num(fe$ci.lb),
                 upper = num(fe$ci.ub), statistic = num(fe$zval), p = num(fe$pval)),
    q = num(r$QE), q_p = num(r$QEp), tau2 = num(r$tau2), i2 = num(r$I2), h2 = num(r$H2),
    tau2_ci = arr(num(ci["tau^2", c("ci.lb", "ci.ub")])),
    i2_ci = arr(num(ci["I^2(%)", c("ci.lb", "ci.ub")])),
    h2_ci = arr(num(ci["H^2", c("ci.lb", "ci.ub")])),
    pi = arr(num(c(p$pi.lb, p$pi.ub))),
    weights = arr(num(weights(r)))
  )
  if (length(yi) >= 3) {
    l1 <- leave1out(r)
    out$leave1out <- list(estimate = arr(num(l1$estimate)), se = arr(num(l1$se)),
                          lower = arr(num(l1$ci.lb)), upper = arr(num(l1$ci.ub)),
                          p = arr(num(l1$pval)), tau2 = arr(num(l1$tau2)),
                          i2 = arr(num(l1$I2)), q = arr(num(l1$Q)))
  }
  out
}

cohort_estimates <- function(frames, x_of, time_col, event_col) {
  est <- lapply(frames, function(d) {
    f <- coxph(Surv(d[[time_col]], d[[event_col]]) ~ x_of(d), ties = "efron")
    list(n = f$n, events = f$nevent, coef = num(coef(f)), se = num(sqrt(diag(vcov(f)))))
  })
  list(cohorts = est,
       meta = meta_block(sapply(est, `[[`, "coef"), sapply(est, `[[`, "se")^2, names(frames)))
}

real <- list(
  GSE24080_TT2 = gse[gse$protocol == "TT2", ],
  GSE24080_TT3 = gse[gse$protocol == "TT3", ],
  CoMMpass = cp
)
real_iss <- lapply(real, function(d) d[!is.na(d$iss), ])
real_age <- lapply(real, function(d) d[!is.na(d$age), ])
sim_frames <- split(sim, sim$cohort)
q1_cut <- function(x) as.numeric(x > quantile(x, 0.25, type = 7))

meta_ref <- list(
  real_iss3_os = cohort_estimates(real_iss, function(d) as.numeric(d$iss == 3),
                                  "os_time", "os_event"),
  real_age10_os = cohort_estimates(real_age, function(d) d$age / 10, "os_time", "os_event"),
  sim_marker = cohort_estimates(sim_frames, function(d) d$marker, "time", "event"),
  sim_marker_q1 = cohort_estimates(sim_frames, function(d) q1_cut(d$marker), "time", "event"),
  gse_two_protocols_log2b2m_efs = cohort_estimates(
    lapply(real[1:2], function(d) d[!is.na(d$b2m_mg_l), ]),
    function(d) log2(d$b2m_mg_l), "efs_time", "efs_event")
)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
## Fisher scoring oscillates on these 12 estimates (metafor: "did not converge"); metafor's
## documented remedy, a step length of 0.5, reaches the REML maximum
osc <- read.csv(file.path(script_dir, "fisher_oscillates.csv"))
meta_ref$fisher_oscillates <- list(meta = meta_block(osc$yi, osc$sei^2,
                                                     paste0("study", seq_len(nrow(osc))),
                                                     c(REML_CONTROL, list(stepadj = 0.5))))
meta_ref$dat_bcg <- list(meta = meta_block(as.numeric(bcg$yi), as.numeric(bcg$vi),
                                           paste0("trial", bcg$trial)))

## ---------------------------------------------------------------------------------------------
## one-stage Cox stratified by cohort
## ---------------------------------------------------------------------------------------------
strat_block <- function(fit, base = NULL) {
  s <- summary(fit)$coefficients
  out <- list(n = fit$n, events = fit$nevent, terms = terms_of(fit),
              loglik = num(fit$loglik[2]))
  if (!is.null(base)) {
    lr <- 2 * (fit$loglik[2] - base$loglik[2])
    out$lr <- num(lr)
    out$lr_p <- num(pchisq(lr, 1, lower.tail = FALSE))
  }
  out
}
sim$q1 <- unsplit(lapply(sim_frames, function(d) q1_cut(d$marker)), sim$cohort)
sim$trt <- as.integer(sim$treatment == "treated")
pooled_real <- do.call(rbind, lapply(names(real_iss), function(n)
  data.frame(cohort = n, os_time = real_iss[[n]]$os_time, os_event = real_iss[[n]]$os_event,
             iss3 = as.numeric(real_iss[[n]]$iss == 3))))
int_base <- coxph(Surv(time, event) ~ marker + strata(cohort), data = sim, ties = "efron")
one_stage <- list(
  sim_marker = strat_block(int_base),
  sim_marker_q1 = strat_block(coxph(Surv(time, event) ~ q1 + strata(cohort), data = sim,
                                    ties = "efron")),
  sim_marker_by_treatment = strat_block(
    coxph(Surv(time, event) ~ marker + marker:trt + strata(cohort), data = sim, ties = "efron"),
    int_base),
  real_iss3_os = strat_block(coxph(Surv(os_time, os_event) ~ iss3 + strata(cohort),
                                   data = pooled_real, ties = "efron")),
  gse_log2b2m_efs = strat_block(coxph(Surv(efs_time, efs_event) ~ log2(b2m_mg_l) +
                                        strata(protocol), data = gd, ties = "efron"))
)

golden <- list(
  meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
              metafor = as.character(packageVersion("metafor")),
              jsonlite = as.character(packageVersion("jsonlite")),
              gse24080_md5 = unname(tools::md5sum(file.path(data_dir, "gse24080", "clinical.tsv"))),
              commpass_md5 = unname(tools::md5sum(file.path(data_dir, "commpass", "clinical.csv")))),
  treatment_by_marker = tbm,
  stepp = stepp_ref,
  meta_analysis = meta_ref,
  one_stage = one_stage
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE), out_file)
