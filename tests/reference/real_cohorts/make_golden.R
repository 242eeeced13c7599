#!/usr/bin/env Rscript
## Reference ("golden") values for issue 11: real cohorts as they come.
##
## Run from anywhere:
##     Rscript tests/reference/real_cohorts/make_golden.R
## Writes, next to this script:
##     mgus2_ttp.csv   survival::mgus2 as a competing-risk cohort (time to progression, death
##                     without progression competing), in the columns `ikaros analyze` reads
##     golden.json     the values below (see README.md in this directory)
##
## The same derived data that tests/test_real_cohorts.py gives to `ikaros analyze`:
##   1. CoMMpass clinical.csv as published (overall survival by ISS stage):
##        ikaros analyze clinical.csv --map patient_id=bcr_patient_barcode --map iss=iss_stage
##          --endpoint os --time-from os=days_to_death,days_to_last_follow_up
##          --event-from os=vital_status:Dead --time-unit days --na-values Unknown --group iss
##      time = first non-missing of days_to_death, days_to_last_follow_up, / 30.4375 (months);
##      event = vital_status == "Dead"; the censored patient with -3 days of follow-up is
##      excluded (no time at risk); ISS "Unknown" is missing (those patients are not analysed).
##   2. GSE24080 clinical.tsv (times in months), patient id = patid:
##        OS by b2m_mg_l with --cut 3.5,5.5 (<= 3.5 | 3.5 < x <= 5.5 | > 5.5) and --cut median
##        (x <= type-7 median is "low"); EFS by protocol (TT2 reference) adjusted for age.
##   3. survival::mgus2 as a competing-risk endpoint `ttp`: time = ptime if pstat == 1 else
##      futime (months); code 1 = progression to a plasma-cell malignancy, 2 = death without
##      progression, 0 = censored. All 1384 rows are written; hgb is missing for 13 of them,
##      which are kept in the file (they count in the cumulative incidence by sex) and left out
##      of every model that contains hgb (complete cases), as ikaros does.
## Deterministic: no random numbers, no dates; re-running gives byte-identical files.

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
  normalizePath(file.path("tests", "reference", "real_cohorts"), mustWork = TRUE)
}
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."), mustWork = TRUE)
data_dir <- Sys.getenv("IKAROS_SHARED_DATA", unset = "")
if (!nzchar(data_dir)) data_dir <- file.path(repo_root, "..", "shared", "data")
data_dir <- normalizePath(data_dir, mustWork = TRUE)

f_cp <- file.path(data_dir, "commpass", "clinical.csv")
f_gse <- file.path(data_dir, "gse24080", "clinical.tsv")

CONF <- 0.95
Z <- qnorm(1 - (1 - CONF) / 2)
DAYS_PER_MONTH <- 30.4375
LANDMARK <- 36
LANDMARK_CIF <- 120

arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))

## ---------------------------------------------------------------------------
## Survival helpers (Kaplan-Meier with log-log CIs, log-rank, trend, Cox)
## ---------------------------------------------------------------------------
## `g` is a factor whose levels are the groups in order; the first is the reference.
km_block <- function(time, event, g, landmark) {
  fit <- survfit(Surv(time, event) ~ g, conf.type = "log-log", conf.int = CONF)
  stopifnot(length(fit$strata) == nlevels(g))
  idx <- split(seq_along(fit$time), rep(seq_along(fit$strata), fit$strata))
  tab <- summary(fit)$table
  s <- summary(fit, times = landmark, extend = FALSE)
  out <- list()
  for (k in seq_len(nlevels(g))) {
    i <- idx[[k]]
    j <- which(as.integer(s$strata) == k)
    stopifnot(length(j) == 1)
    out[[levels(g)[k]]] <- list(
      n = num(fit$n[k]),
      events = sum(fit$n.event[i]),
      landmark = list(time = landmark, survival = num(s$surv[j]), lower = num(s$lower[j]),
                      upper = num(s$upper[j]), n_risk = num(s$n.risk[j])),
      median = list(estimate = num(tab[k, "median"]), lower = num(tab[k, "0.95LCL"]),
                    upper = num(tab[k, "0.95UCL"])),
      curve = list(time = arr(fit$time[i]), n_risk = arr(fit$n.risk[i]),
                   n_event = arr(fit$n.event[i]), n_censor = arr(fit$n.censor[i]),
                   surv = arr(fit$surv[i]), lower = arr(fit$lower[i]),
                   upper = arr(fit$upper[i]))
    )
  }
  out
}

## k-group log-rank (survdiff) and, for ordered groups, the trend test with scores 1..k built
## from survdiff's observed, expected and variance: (w'(O - E))^2 / (w' V w) on 1 df, which is
## how ikaros.stats.logrank.logrank_trend defines it.
logrank_block <- function(time, event, g, trend) {
  sd <- survdiff(Surv(time, event) ~ g)
  df <- sum(sd$exp > 0) - 1
  lr <- list(statistic = num(sd$chisq), df = df,
             p = pchisq(sd$chisq, df, lower.tail = FALSE))
  tr <- NULL
  if (trend) {
    w <- seq_len(nlevels(g))
    U <- sum(w * (sd$obs - sd$exp))
    V <- as.numeric(t(w) %*% sd$var %*% w)
    tr <- list(statistic = U^2 / V, df = 1L, p = pchisq(U^2 / V, 1, lower.tail = FALSE),
               scores = arr(w))
  }
  list(logrank = lr, trend = tr)
}

## Cox (Efron) on explicit 0/1 indicator columns, named as ikaros names the terms, plus
## any numeric covariates; Wald CIs and p; likelihood-ratio test; cox.zph (KM transform).
cox_block <- function(time, event, design) {
  d <- data.frame(time = time, event = event, design, check.names = FALSE)
  d <- d[stats::complete.cases(d), ]
  nm <- names(design)
  safe <- sprintf("x%d", seq_along(nm))
  names(d)[-(1:2)] <- safe
  f <- as.formula(paste("Surv(time, event) ~", paste(safe, collapse = " + ")))
  fit <- coxph(f, data = d, ties = "efron", model = TRUE, x = TRUE)
  s <- summary(fit)
  cf <- s$coefficients
  ci <- exp(confint(fit, level = CONF))
  zph <- cox.zph(fit, transform = "km", terms = TRUE)$table
  terms <- list()
  ph <- list()
  for (k in seq_along(nm)) {
    terms[[nm[k]]] <- list(hr = num(cf[k, "exp(coef)"]), lower = num(ci[k, 1]),
                           upper = num(ci[k, 2]), p = num(cf[k, "Pr(>|z|)"]),
                           coef = num(cf[k, "coef"]), se = num(cf[k, "se(coef)"]))
    ph[[nm[k]]] <- list(statistic = num(zph[safe[k], "chisq"]), df = num(zph[safe[k], "df"]),
                        p = num(zph[safe[k], "p"]))
  }
  list(n = fit$n, events = fit$nevent, terms = terms,
       lr_statistic = num(s$logtest["test"]), lr_df = num(s$logtest["df"]),
       lr_p = num(s$logtest["pvalue"]),
       ph = list(terms = ph, global = list(statistic = num(zph["GLOBAL", "chisq"]),
                                           df = num(zph["GLOBAL", "df"]),
                                           p = num(zph["GLOBAL", "p"]))))
}

indicators <- function(g, prefix) {
  ref <- levels(g)[1]
  out <- list()
  for (lv in levels(g)[-1]) out[[sprintf("%s %s vs %s", prefix, lv, ref)]] <- as.numeric(g == lv)
  as.data.frame(out, check.names = FALSE)
}

survival_case <- function(time, event, g, prefix, trend, covariates = NULL) {
  ind <- indicators(g, prefix)
  case <- list(n = length(time), events = sum(event),
               levels = lapply(levels(g), function(lv) list(
                 label = lv, n = sum(g == lv), events = sum(event[g == lv]))),
               groups = km_block(time, event, g, LANDMARK))
  case <- c(case, logrank_block(time, event, g, trend))
  case$cox <- cox_block(time, event, ind)
  if (!is.null(covariates)) case$cox_adjusted <- cox_block(time, event, cbind(ind, covariates))
  case
}

## ---------------------------------------------------------------------------
## 1. CoMMpass: OS by ISS from the published columns
## ---------------------------------------------------------------------------
cp <- read.csv(f_cp, stringsAsFactors = FALSE, check.names = FALSE, na.strings = c("NA", ""))
stopifnot(nrow(cp) == 995)
days <- ifelse(!is.na(cp$days_to_death), cp$days_to_death, cp$days_to_last_follow_up)
cp$time <- days / DAYS_PER_MONTH
cp$event <- as.integer(cp$vital_status == "Dead")
early <- !is.na(cp$time) & cp$time < 0
stopifnot(sum(early) == 1, all(cp$event[early] == 0))   # MMRF_1994, -3 days, censored
cp$iss_stage[cp$iss_stage == "Unknown"] <- NA
cp_ok <- cp[!early & !is.na(cp$time), ]
cp_iss <- cp_ok[!is.na(cp_ok$iss_stage), ]
commpass <- survival_case(cp_iss$time, cp_iss$event,
                          factor(cp_iss$iss_stage, levels = c("I", "II", "III")),
                          "iss", trend = TRUE)
commpass$excluded_negative_time <- cp$bcr_patient_barcode[early]
commpass$missing_variable <- sum(is.na(cp_ok$iss_stage))

## ---------------------------------------------------------------------------
## 2. GSE24080: OS by B2M (thresholds, median); EFS by protocol adjusted for age
## ---------------------------------------------------------------------------
gse <- read.delim(f_gse, stringsAsFactors = FALSE, check.names = FALSE)
stopifnot(nrow(gse) == 565, !anyDuplicated(gse$patid))
gb <- gse[!is.na(gse$b2m_mg_l), ]
x <- gb$b2m_mg_l
thr <- c(3.5, 5.5)
stopifnot(sum(x %in% thr) > 0)           # values on a threshold exist: they go to the lower group
g_thr <- cut(x, c(-Inf, thr, Inf), right = TRUE, labels = c("<= 3.5", "3.5-5.5", "> 5.5"))
b2m_thresholds <- survival_case(gb$os_time, gb$os_event, g_thr, "b2m_mg_l", trend = TRUE)
b2m_thresholds$on_threshold <- sum(x %in% thr)
med <- quantile(x, 0.5, type = 7, names = FALSE)
g_med <- factor(ifelse(x <= med, "low", "high"), levels = c("low", "high"))
b2m_median <- survival_case(gb$os_time, gb$os_event, g_med, "b2m_mg_l", trend = FALSE)
b2m_median$median <- med
b2m_median$on_median <- sum(x == med)
protocol <- survival_case(gse$efs_time, gse$efs_event, factor(gse$protocol, c("TT2", "TT3")),
                          "protocol", trend = FALSE, covariates = data.frame(age = gse$age))
## the same adjusted for sex as well (`--covariate sex`: the indicator of "male", the second of
## the two values in sorted order)
protocol_sex <- cox_block(gse$efs_time, gse$efs_event,
                          cbind(indicators(factor(gse$protocol, c("TT2", "TT3")), "protocol"),
                                age = gse$age, sex = as.numeric(gse$sex == "male")))

## ---------------------------------------------------------------------------
## 3. mgus2: progression with death as a competing event
## ---------------------------------------------------------------------------
m <- survival::mgus2
mg <- data.frame(
  patient_id = sprintf("MGUS%04d", m$id),
  age = m$age,
  sex = ifelse(m$sex == "M", "male", "female"),
  hgb = m$hgb,
  mspike = m$mspike,
  ttp_time = ifelse(m$pstat == 1, m$ptime, m$futime),
  ttp_event = ifelse(m$pstat == 1, 1L, 2L * m$death)
)
mg_file <- file.path(script_dir, "mgus2_ttp.csv")
write.csv(mg, mg_file, row.names = FALSE, na = "")
mg <- read.csv(mg_file, stringsAsFactors = FALSE, na.strings = "")   # what ikaros reads
stopifnot(nrow(mg) == 1384, !anyNA(mg[, c("age", "sex", "ttp_time", "ttp_event")]))

step_at <- function(x, y, t, y0 = 0) {
  i <- findInterval(t, x)
  ifelse(i == 0, y0, y[pmax(i, 1)])
}
loglog_ci <- function(f, v) {
  ok <- f > 0 & f < 1
  fs <- ifelse(ok, f, 0.5)
  se <- sqrt(pmax(v, 0)) / abs(fs * log(fs))
  th <- log(-log(fs))
  list(lower = ifelse(ok, exp(-exp(th + Z * se)), NA),
       upper = ifelse(ok, exp(-exp(th - Z * se)), NA))
}

## Aalen-Johansen cumulative incidence of cause 1 per group (cmprsk::cuminc estimate and
## variance, log(-log) interval), at every distinct time of the group; 1 - Kaplan-Meier with
## competing events censored (the naive contrast) at the landmark; Gray's test.
cif_case <- function(time, status, g, landmark) {
  ci <- cuminc(time, status, g)
  groups <- list()
  for (gl in levels(g)) {
    sel <- g == gl
    tg <- time[sel]
    sg <- status[sel]
    times <- sort(unique(tg))
    cc <- ci[[paste(gl, 1)]]
    est <- step_at(cc$time, cc$est, times)
    var <- step_at(cc$time, cc$var, times)
    band <- loglog_ci(est, var)
    e_l <- step_at(cc$time, cc$est, landmark)
    v_l <- step_at(cc$time, cc$var, landmark)
    b_l <- loglog_ci(e_l, v_l)
    naive <- survfit(Surv(tg, sg == 1) ~ 1)
    stopifnot(landmark <= max(tg))
    groups[[gl]] <- list(
      n = sum(sel), events = sum(sg == 1), competing = sum(sg > 1),
      at = list(time = landmark, cif = e_l, lower = b_l$lower, upper = b_l$upper,
                naive = 1 - step_at(naive$time, naive$surv, landmark, 1)),
      curve = list(time = arr(times),
                   n_risk = arr(vapply(times, function(t) sum(tg >= t), 0)),
                   n_event = arr(vapply(times, function(t) sum(tg == t & sg == 1), 0)),
                   n_competing = arr(vapply(times, function(t) sum(tg == t & sg > 1), 0)),
                   cif = arr(est), variance = arr(var), lower = arr(band$lower),
                   upper = arr(band$upper))
    )
  }
  tests <- ci$Tests
  list(n = length(time), events = sum(status == 1), competing = sum(status > 1),
       groups = groups,
       gray = list(statistic = num(tests["1", "stat"]), df = num(tests["1", "df"]),
                   p = num(tests["1", "pv"])))
}

## Fine-Gray (cmprsk::crr, robust SE, Wald CI) beside the cause-specific Cox (Efron) with the
## same terms, on the complete cases of those terms.
competing_model <- function(time, status, design) {
  ok <- stats::complete.cases(design)
  X <- as.matrix(design[ok, , drop = FALSE])
  t <- time[ok]
  s <- status[ok]
  # gtol tightened from the default 1e-6 (which stops ~1e-7 short of the maximum)
  fg <- crr(t, s, X, failcode = 1, cencode = 0, gtol = 1e-12, maxiter = 50)
  stopifnot(fg$converged)
  se <- sqrt(diag(fg$var))
  cs <- coxph(Surv(t, s == 1) ~ X, ties = "efron")
  cf <- summary(cs)$coefficients
  cci <- exp(confint(cs, level = CONF))
  terms <- list()
  for (k in seq_len(ncol(X))) {
    b <- num(fg$coef[k])
    terms[[colnames(X)[k]]] <- list(
      fine_gray = list(hr = exp(b), lower = exp(b - Z * se[k]), upper = exp(b + Z * se[k]),
                       p = 2 * pnorm(-abs(b / se[k])), coef = b, se = num(se[k])),
      cause_specific = list(hr = num(cf[k, "exp(coef)"]), lower = num(cci[k, 1]),
                            upper = num(cci[k, 2]), p = num(cf[k, "Pr(>|z|)"]),
                            coef = num(cf[k, "coef"]), se = num(cf[k, "se(coef)"])))
  }
  list(n = sum(ok), events = sum(s == 1), competing = sum(s > 1), terms = terms)
}

sex <- factor(mg$sex, levels = c("female", "male"))
male <- data.frame(`sex male vs female` = as.numeric(sex == "male"), check.names = FALSE)
mgus_sex <- cif_case(mg$ttp_time, mg$ttp_event, sex, LANDMARK_CIF)
mgus_sex$models <- list(
  "sex levels" = competing_model(mg$ttp_time, mg$ttp_event, male),
  "sex levels + covariates" = competing_model(mg$ttp_time, mg$ttp_event,
                                              cbind(male, hgb = mg$hgb, age = mg$age))
)

## hgb as a marker cut at its median (patients with hgb), landmark 36 months
mh <- mg[!is.na(mg$hgb), ]
hmed <- quantile(mh$hgb, 0.5, type = 7, names = FALSE)
hg <- factor(ifelse(mh$hgb <= hmed, "low", "high"), levels = c("low", "high"))
mgus_hgb <- cif_case(mh$ttp_time, mh$ttp_event, hg, LANDMARK)
mgus_hgb$median <- hmed
mgus_hgb$models <- list(
  "hgb (continuous)" = competing_model(mh$ttp_time, mh$ttp_event, data.frame(hgb = mh$hgb)),
  "hgb groups" = competing_model(mh$ttp_time, mh$ttp_event,
                                 data.frame(`hgb high vs low` = as.numeric(hg == "high"),
                                            check.names = FALSE)),
  "hgb + covariates" = competing_model(mh$ttp_time, mh$ttp_event,
                                       data.frame(hgb = mh$hgb, age = mh$age))
)
## hgb, age and sex in one model, as `--marker hgb --covariate age --covariate sex` asks for
mgus_hgb_age_sex <- competing_model(mh$ttp_time, mh$ttp_event,
                                    data.frame(hgb = mh$hgb, age = mh$age,
                                               sex = as.numeric(mh$sex == "male")))

golden <- list(
  description = paste(
    "Issue 11 reference values on real cohorts as published: R survival (survfit log-log,",
    "survdiff, trend from survdiff, coxph Efron, cox.zph) and cmprsk (cuminc, Gray, crr);",
    "see make_golden.R for the derivations"
  ),
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  cmprsk_version = as.character(packageVersion("cmprsk")),
  conf_level = CONF,
  days_per_month = DAYS_PER_MONTH,
  datasets = list(
    commpass = list(md5 = unname(tools::md5sum(f_cp)), rows = nrow(cp)),
    gse24080 = list(md5 = unname(tools::md5sum(f_gse)), rows = nrow(gse)),
    mgus2_ttp = list(md5 = unname(tools::md5sum(mg_file)), rows = nrow(mg),
                     missing_hgb = sum(is.na(mg$hgb)))
  ),
  commpass_os_iss = commpass,
  gse24080_os_b2m_thresholds = b2m_thresholds,
  gse24080_os_b2m_median = b2m_median,
  gse24080_efs_protocol_age = protocol,
  gse24080_efs_protocol_age_sex_cox = protocol_sex,
  mgus2_ttp_sex = mgus_sex,
  mgus2_ttp_hgb_median = mgus_hgb,
  mgus2_ttp_hgb_age_sex_model = mgus_hgb_age_sex
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE),
           file.path(script_dir, "golden.json"))
cat("wrote", file.path(script_dir, "golden.json"), "\n")
