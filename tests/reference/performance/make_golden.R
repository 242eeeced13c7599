#!/usr/bin/env Rscript
## Reference ("golden") values for ikaros.performance (prognostic performance of Cox models).
##
## Run from anywhere:
##     Rscript tests/reference/performance/make_golden.R
## Writes tests/reference/performance/golden.json next to this script. See README.md here.
##
## Data are read in place: $IKAROS_SHARED_DATA if set, otherwise <repo root>/../shared/data.
## Deterministic: the only random numbers are in rms::validate, under fixed seeds.

suppressPackageStartupMessages({
  library(survival)
  library(riskRegression)
  library(rms)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "performance"), mustWork = TRUE)
}
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."), mustWork = TRUE)
data_dir <- Sys.getenv("IKAROS_SHARED_DATA", unset = "")
if (!nzchar(data_dir)) data_dir <- file.path(repo_root, "..", "shared", "data")
data_dir <- normalizePath(data_dir, mustWork = TRUE)
out_file <- file.path(script_dir, "golden.json")

DAYS_PER_MONTH <- 30.4375
CP_GENES <- c("ENSG00000002586", "ENSG00000004799", "ENSG00000000938")
THRESHOLDS <- seq(0.05, 0.60, by = 0.05)
N_GROUPS <- 5
VALIDATE_B <- 200
VALIDATE_SEEDS <- 1:10

arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))

## ---------------------------------------------------------------------------
## Cohorts (as tests/conftest.py prepares them), complete cases over the model variables
## ---------------------------------------------------------------------------
gse <- read.delim(file.path(data_dir, "gse24080", "clinical.tsv"), check.names = FALSE)
gse <- gse[!is.na(gse$b2m_mg_l) & !is.na(gse$ldh) & !is.na(gse$iss), ]
gse <- data.frame(time = gse$os_time, event = gse$os_event, protocol = gse$protocol,
                  log2_b2m = log2(gse$b2m_mg_l), log2_ldh = log2(gse$ldh),
                  iss2 = 1 * (gse$iss == 2), iss3 = 1 * (gse$iss == 3))

clin <- read.csv(file.path(data_dir, "commpass", "clinical.csv"), check.names = FALSE)
clin$time <- ifelse(clin$vital_status == "Dead", clin$days_to_death,
                    clin$days_to_last_follow_up) / DAYS_PER_MONTH
clin$event <- as.integer(clin$vital_status == "Dead")
clin <- clin[!is.na(clin$time) & clin$time >= 0, ]
clin$iss <- unname(c(I = 1, II = 2, III = 3)[clin$iss_stage])
expr <- read.csv(file.path(data_dir, "commpass", "expression_100genes_log2fpkm.csv"),
                 check.names = FALSE)
genes <- expr[[1]]
cols <- sort(grep("_1_BM_", colnames(expr)[-1], value = TRUE, fixed = TRUE))
pid <- vapply(strsplit(cols, "_", fixed = TRUE), function(p) paste(p[1:2], collapse = "_"), "")
keep <- !duplicated(pid)
ex <- t(as.matrix(expr[match(CP_GENES, genes), cols[keep]]))
rownames(ex) <- pid[keep]
colnames(ex) <- CP_GENES
cp <- clin[clin$bcr_patient_barcode %in% rownames(ex) & !is.na(clin$iss), ]
cp <- cp[order(cp$bcr_patient_barcode), ]
cp <- data.frame(barcode = cp$bcr_patient_barcode, time = cp$time, event = cp$event,
                 iss2 = 1 * (cp$iss == 2), iss3 = 1 * (cp$iss == 3),
                 ex[cp$bcr_patient_barcode, , drop = FALSE], check.names = FALSE)

## ---------------------------------------------------------------------------
## Metrics of one model on one data set
## ---------------------------------------------------------------------------
surv_formula <- function(vars) as.formula(paste("Surv(time, event) ~", paste0("`", vars, "`", collapse = " + ")))

concord <- function(d, lp, tau = NULL) {
  h <- concordance(Surv(d$time, d$event) ~ lp, reverse = TRUE)
  out <- list(c = num(h$concordance), se = num(sqrt(h$var)),
              count = as.list(setNames(num(h$count), names(h$count))))
  if (!is.null(tau)) {
    u <- concordance(Surv(d$time, d$event) ~ lp, reverse = TRUE, timewt = "n/G2", ymax = tau)
    out$uno <- list(tau = tau, c = num(u$concordance), se = num(sqrt(u$var)))
  }
  out
}

score_metrics <- function(fit, d, times, ibs_grid) {
  s <- Score(list(model = fit), formula = Surv(time, event) ~ 1, data = data.frame(d), times = times,
             metrics = c("auc", "brier"), null.model = FALSE, se.fit = TRUE,
             conservative = FALSE, cens.model = "km", split.method = "none")
  a <- as.data.frame(s$AUC$score)
  b <- as.data.frame(s$Brier$score)
  g <- Score(list(model = fit), formula = Surv(time, event) ~ 1, data = data.frame(d), times = ibs_grid,
             metrics = "brier", null.model = FALSE, se.fit = FALSE, cens.model = "km",
             summary = "ibs")
  gb <- as.data.frame(g$Brier$score)
  list(times = arr(times),
       auc = arr(a$AUC), auc_se = arr(a$se), auc_lower = arr(a$lower), auc_upper = arr(a$upper),
       brier = arr(b$Brier), brier_se = arr(b$se), brier_lower = arr(b$lower),
       brier_upper = arr(b$upper),
       ibs_grid = arr(ibs_grid), ibs_brier = arr(gb$Brier), ibs = arr(gb$IBS))
}

risk_at <- function(fit, newdata, t) num(predictRisk(fit, newdata = newdata, times = t))

## Observed (1 - KM) vs mean predicted risk in N_GROUPS quantile groups of predicted risk
risk_groups <- function(d, risk, t) {
  q <- quantile(risk, probs = seq_len(N_GROUPS - 1) / N_GROUPS, type = 7, names = FALSE)
  grp <- findInterval(risk, q, left.open = TRUE) + 1
  ## tied cut points leave groups empty: those are left out
  rows <- lapply(sort(unique(grp)), function(k) {
    s <- survfit(Surv(time, event) ~ 1, data = d[grp == k, ])
    ss <- summary(s, times = t, extend = TRUE)
    short <- max(d$time[grp == k]) < t  # KM not estimable at t
    list(group = k, n = sum(grp == k), predicted = mean(risk[grp == k]),
         observed = if (short) NA_real_ else 1 - num(ss$surv),
         se = if (short) NA_real_ else num(ss$std.err))
  })
  list(cuts = arr(q), groups = I(rows))
}

## Smoothed calibration (Austin, Harrell & van Klaveren 2020): Cox model of the outcome on a
## restricted cubic spline (3 knots) of log(-log(1 - predicted risk)), observed risk at t.
smooth_calibration <- function(d, risk, t) {
  cll <- log(-log(1 - risk))
  knots <- quantile(cll, c(0.1, 0.5, 0.9), type = 7, names = FALSE)
  if (length(unique(knots)) == 3) {
    basis <- rcspline.eval(cll, knots = knots, inclx = TRUE)
    dd <- data.frame(time = d$time, event = d$event, b1 = basis[, 1], b2 = basis[, 2])
    cal <- coxph(Surv(time, event) ~ b1 + b2, data = dd, ties = "efron", x = TRUE)
  } else {  # too few distinct predictions for a spline: linear in cll
    dd <- data.frame(time = d$time, event = d$event, b1 = cll)
    cal <- coxph(Surv(time, event) ~ b1, data = dd, ties = "efron", x = TRUE)
  }
  obs <- num(predictRisk(cal, newdata = dd, times = t))
  err <- abs(obs - risk)
  list(knots = arr(knots), coef = arr(coef(cal)), observed_first = arr(obs[1:10]),
       ici = mean(err), e50 = num(median(err)), e90 = num(quantile(err, 0.9, type = 7)),
       emax = max(err))
}

net_benefit <- function(d, risk, t) {
  km_risk <- function(dd) {  # NA when follow-up ends before t (KM not estimable there)
    if (max(dd$time) < t) return(NA_real_)
    s <- summary(survfit(Surv(time, event) ~ 1, data = dd), times = t, extend = TRUE)
    1 - num(s$surv)
  }
  n <- nrow(d)
  all_risk <- km_risk(d)
  model <- vapply(THRESHOLDS, function(p) {
    pos <- risk >= p
    if (!any(pos)) return(0)
    r <- km_risk(d[pos, ])
    m <- sum(pos) / n
    r * m - (1 - r) * m * p / (1 - p)
  }, 0)
  list(time = t, thresholds = arr(THRESHOLDS), net_benefit = arr(model),
       treat_all = arr(all_risk - (1 - all_risk) * THRESHOLDS / (1 - THRESHOLDS)))
}

validate_runs <- function(d, vars) {
  f <- cph(surv_formula(vars), data = d, x = TRUE, y = TRUE)
  runs <- lapply(VALIDATE_SEEDS, function(s) {
    set.seed(s)
    v <- rms::validate(f, B = VALIDATE_B)
    c(dxy_orig = v["Dxy", "index.orig"], dxy_opt = v["Dxy", "optimism"],
      dxy_cor = v["Dxy", "index.corrected"], slope_opt = v["Slope", "optimism"],
      slope_cor = v["Slope", "index.corrected"], n = v["Dxy", "n"])
  })
  m <- do.call(rbind, runs)
  list(B = VALIDATE_B, seeds = arr(VALIDATE_SEEDS), runs = nrow(m),
       dxy_apparent = num(m[1, "dxy_orig"]),
       dxy_optimism = arr(m[, "dxy_opt"]), dxy_corrected = arr(m[, "dxy_cor"]),
       c_corrected_mean = num(mean(m[, "dxy_cor"]) / 2 + 0.5),
       c_corrected_sd = num(sd(m[, "dxy_cor"]) / 2),
       slope_optimism = arr(m[, "slope_opt"]), slope_corrected = arr(m[, "slope_cor"]),
       slope_corrected_mean = num(mean(m[, "slope_cor"])),
       slope_corrected_sd = num(sd(m[, "slope_cor"])), replicates = arr(m[, "n"]))
}

model_block <- function(d, vars, landmarks, tau, ibs_grid) {
  fit <- coxph(surv_formula(vars), data = d, ties = "efron", x = TRUE, y = TRUE)
  lp <- num(predict(fit, type = "lp"))
  risk <- risk_at(fit, d, landmarks[1])
  list(vars = arr(vars), n = fit$n, events = fit$nevent, coef = arr(coef(fit)),
       loglik = num(fit$loglik[2]),
       predicted_risk_first = lapply(landmarks, function(t) arr(risk_at(fit, d[1:10, ], t))),
       concordance = concord(d, lp, tau),
       score = score_metrics(fit, d, landmarks, ibs_grid),
       risk_groups = risk_groups(d, risk, landmarks[1]),
       smooth = smooth_calibration(d, risk, landmarks[1]),
       decision = net_benefit(d, risk, landmarks[1]))
}

added_value <- function(d, base, full) {
  fb <- coxph(surv_formula(base), data = d, ties = "efron")
  ff <- coxph(surv_formula(full), data = d, ties = "efron")
  a <- anova(fb, ff)
  cc <- concordance(fb, ff)
  delta <- num(cc$concordance[2] - cc$concordance[1])
  v <- cc$var
  list(base = arr(base), full = arr(full), lr_statistic = num(a$Chisq[2]), df = num(a$Df[2]),
       p = num(a[["Pr(>|Chi|)"]][2]), c_base = num(cc$concordance[1]),
       c_full = num(cc$concordance[2]), delta_c = delta,
       delta_c_se = num(sqrt(v[1, 1] + v[2, 2] - 2 * v[1, 2])))
}

## External validation (calibration slope etc. are 1 / trivial on the development data)
validation_block <- function(dev, val, vars, t, label) {
  fit <- coxph(surv_formula(vars), data = dev, ties = "efron", x = TRUE, y = TRUE)
  lp <- num(as.matrix(data.frame(val)[, vars]) %*% coef(fit))
  slope <- coxph(Surv(val$time, val$event) ~ lp, ties = "efron")
  risk <- risk_at(fit, val, t)
  list(split = label, n_dev = nrow(dev), n_val = nrow(val), time = t,
       coef_dev = arr(coef(fit)), slope = num(coef(slope)), slope_se = num(sqrt(vcov(slope))),
       concordance = concord(val, lp),
       predicted_risk_first = arr(risk[1:10]),
       risk_groups = risk_groups(val, risk, t),
       smooth = smooth_calibration(val, risk, t),
       decision = net_benefit(val, risk, t))
}

## rms::validate on B = EXACT_B resamples drawn as predab.resample draws them after
## set.seed(EXACT_SEED) (sample(n, n, replace = TRUE) per replicate); the resamples are written to
## boot_indices_<name>.csv (1-based rows) so that the Python engine can be run on the same ones.
EXACT_B <- 20
EXACT_SEED <- 1
validate_exact <- function(d, vars, name) {
  f <- cph(surv_formula(vars), data = d, x = TRUE, y = TRUE)
  set.seed(EXACT_SEED)
  v <- rms::validate(f, B = EXACT_B)
  set.seed(EXACT_SEED)
  idx <- t(vapply(seq_len(EXACT_B), function(b) sample(nrow(d), nrow(d), replace = TRUE),
                  integer(nrow(d))))
  write.csv(idx, file.path(script_dir, paste0("boot_indices_", name, ".csv")), row.names = FALSE)
  ## the same replicates with coxph converged to its default tolerance (rms refits with
  ## eps = 1e-4, which moves its indices by up to ~1e-4)
  X <- as.matrix(data.frame(d)[, vars])
  y <- Surv(d$time, d$event)
  rep_values <- t(apply(idx, 1, function(i) {
    b <- coef(coxph(y[i] ~ X[i, ], ties = "efron"))
    lpo <- drop(X %*% b)
    c(2 * concordance(y[i] ~ drop(X[i, ] %*% b), reverse = TRUE)$concordance - 1,
      2 * concordance(y ~ lpo, reverse = TRUE)$concordance - 1,
      coef(coxph(y ~ lpo, ties = "efron")))
  }))
  list(B = EXACT_B, seed = EXACT_SEED, indices_file = paste0("boot_indices_", name, ".csv"),
       dxy_apparent = num(v["Dxy", "index.orig"]), dxy_training = num(v["Dxy", "training"]),
       dxy_test = num(v["Dxy", "test"]), dxy_optimism = num(v["Dxy", "optimism"]),
       dxy_corrected = num(v["Dxy", "index.corrected"]), slope_test = num(v["Slope", "test"]),
       slope_corrected = num(v["Slope", "index.corrected"]), replicates = num(v["Dxy", "n"]),
       converged = list(dxy_training = num(mean(rep_values[, 1])),
                        dxy_test = num(mean(rep_values[, 2])),
                        slope_test = num(mean(rep_values[, 3]))))
}

## ---------------------------------------------------------------------------
GSE_BASE <- c("iss2", "iss3")
GSE_MARK <- c("log2_b2m", "log2_ldh")
GSE_FULL <- c(GSE_MARK, GSE_BASE)
CP_BASE <- c("iss2", "iss3")
CP_FULL <- c(CP_GENES, CP_BASE)

out <- list(
  meta = list(R = R.version.string,
              survival = as.character(packageVersion("survival")),
              riskRegression = as.character(packageVersion("riskRegression")),
              rms = as.character(packageVersion("rms")),
              jsonlite = as.character(packageVersion("jsonlite")),
              datasets = list(
                gse24080 = unname(tools::md5sum(file.path(data_dir, "gse24080", "clinical.tsv"))),
                commpass_clinical = unname(tools::md5sum(file.path(data_dir, "commpass", "clinical.csv"))),
                commpass_expression = unname(tools::md5sum(file.path(data_dir, "commpass", "expression_100genes_log2fpkm.csv"))))),
  gse24080 = list(
    n = nrow(gse), events = sum(gse$event),
    models = list(
      base = model_block(gse, GSE_BASE, c(36, 60), 60, 1:60),
      markers = model_block(gse, GSE_MARK, c(36, 60), 60, 1:60),
      full = model_block(gse, GSE_FULL, c(36, 60), 60, 1:60)),
    added_value = added_value(gse, GSE_BASE, GSE_FULL),
    validation = validation_block(gse[gse$protocol == "TT2", ], gse[gse$protocol == "TT3", ],
                                  GSE_FULL, 36, "develop on TT2, validate on TT3"),
    validate = validate_runs(gse, GSE_FULL),
    validate_exact = validate_exact(gse, GSE_FULL, "gse24080")),
  commpass = list(
    n = nrow(cp), events = sum(cp$event),
    models = list(
      base = model_block(cp, CP_BASE, c(24, 36), 36, 1:36),
      full = model_block(cp, CP_FULL, c(24, 36), 36, 1:36)),
    added_value = added_value(cp, CP_BASE, CP_FULL),
    validation = validation_block(cp[seq(1, nrow(cp), 2), ], cp[seq(2, nrow(cp), 2), ],
                                  CP_FULL, 24, "develop on odd rows, validate on even rows (by barcode)"),
    validate = validate_runs(cp, CP_FULL),
    validate_exact = validate_exact(cp, CP_FULL, "commpass"))
)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE),
           out_file)
cat("wrote", out_file, "\n")
