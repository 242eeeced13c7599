#!/usr/bin/env Rscript
## Reference ("golden") values for the ikaros survival engine.
##
## Run from the repository root:
##     Rscript tests/reference/survival/make_golden.R
## Writes tests/reference/survival/golden.json (next to this script).
##
## Data are read in place (never copied): $IKAROS_SHARED_DATA if set, otherwise
## <repo root>/../shared/data.  See README.md in this directory for the data
## preparation rules and the JSON layout.  The script is deterministic: no random
## numbers, no dates, fixed ordering.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

## ---------------------------------------------------------------------------
## Locations
## ---------------------------------------------------------------------------
script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "survival"), mustWork = TRUE)
}
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."), mustWork = TRUE)
data_dir <- Sys.getenv("IKAROS_SHARED_DATA", unset = "")
if (!nzchar(data_dir)) data_dir <- file.path(repo_root, "..", "shared", "data")
data_dir <- normalizePath(data_dir, mustWork = TRUE)
out_file <- file.path(script_dir, "golden.json")

f_gse <- file.path(data_dir, "gse24080", "clinical.tsv")
f_cp_clin <- file.path(data_dir, "commpass", "clinical.csv")
f_cp_expr <- file.path(data_dir, "commpass", "expression_100genes_log2fpkm.csv")

## ---------------------------------------------------------------------------
## Constants
## ---------------------------------------------------------------------------
CONF_TYPE <- "log-log"
CONF_INT <- 0.95
LANDMARKS_ISS <- c(12, 36, 60)
LANDMARKS_MARKER <- c(36)
DAYS_PER_MONTH <- 30.4375
GSE_MARKERS <- c("b2m_mg_l", "ldh")
CP_GENES <- c("ENSG00000002586", "ENSG00000004799", "ENSG00000000938")

## ---------------------------------------------------------------------------
## JSON helpers: arrays are wrapped in I() so that auto_unbox never turns a
## length-1 array into a scalar.
## ---------------------------------------------------------------------------
arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))
mat_rows <- function(m) I(lapply(seq_len(nrow(m)), function(i) arr(as.numeric(m[i, ]))))

## ---------------------------------------------------------------------------
## Data preparation
## ---------------------------------------------------------------------------
gse <- read.delim(f_gse, stringsAsFactors = FALSE, check.names = FALSE)
stopifnot(nrow(gse) == 565)

cp_clin <- read.csv(f_cp_clin, stringsAsFactors = FALSE, check.names = FALSE)
cp_clin$time <- ifelse(cp_clin$vital_status == "Dead",
                       cp_clin$days_to_death, cp_clin$days_to_last_follow_up) / DAYS_PER_MONTH
cp_clin$event <- as.integer(cp_clin$vital_status == "Dead")
cp_clin$iss <- c(I = 1, II = 2, III = 3)[cp_clin$iss_stage]   # "Unknown" -> NA
cp_clin$iss <- unname(cp_clin$iss)
cp_bad_time <- is.na(cp_clin$time) | cp_clin$time < 0
cp_dropped <- cp_clin$bcr_patient_barcode[cp_bad_time]
cp_os <- cp_clin[!cp_bad_time, c("bcr_patient_barcode", "time", "event", "iss", "iss_stage")]

cp_expr_raw <- read.csv(f_cp_expr, stringsAsFactors = FALSE, check.names = FALSE)
gene_ids <- cp_expr_raw[[1]]
expr_cols <- sort(grep("_1_BM_", colnames(cp_expr_raw)[-1], value = TRUE, fixed = TRUE))
expr_pid <- vapply(strsplit(expr_cols, "_", fixed = TRUE),
                   function(p) paste(p[1:2], collapse = "_"), "")
n_dup_cols <- sum(duplicated(expr_pid))
keep <- !duplicated(expr_pid)               # first in sorted column-name order
expr_cols <- expr_cols[keep]
expr_pid <- expr_pid[keep]
stopifnot(all(CP_GENES %in% gene_ids))
cp_expr <- data.frame(bcr_patient_barcode = expr_pid)
for (g in CP_GENES) {
  cp_expr[[g]] <- as.numeric(unlist(cp_expr_raw[match(g, gene_ids), expr_cols]))
}
cp_m <- merge(cp_os, cp_expr, by = "bcr_patient_barcode", all = FALSE, sort = TRUE)

## ---------------------------------------------------------------------------
## Grouping helpers
## ---------------------------------------------------------------------------
quartile_cuts <- function(x) quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
quartile_group <- function(x, q) {
  ifelse(x <= q[1], 1L, ifelse(x <= q[2], 2L, ifelse(x <= q[3], 3L, 4L)))
}
Q4_LABELS <- c("Q1", "Q2", "Q3", "Q4")
Q2_LABELS <- c("Q1", "Q2-4")
ISS_LABELS <- c("1", "2", "3")

## ---------------------------------------------------------------------------
## Kaplan-Meier
## ---------------------------------------------------------------------------
split_idx <- function(fit) {
  if (is.null(fit$strata)) return(list(seq_along(fit$time)))
  split(seq_along(fit$time), rep(seq_along(fit$strata), fit$strata))
}

median_table <- function(fit) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  stopifnot(isTRUE(all.equal(num(q$quantile), num(tab[, "median"]))),
            isTRUE(all.equal(num(q$lower), num(tab[, "0.95LCL"]))),
            isTRUE(all.equal(num(q$upper), num(tab[, "0.95UCL"]))))
  tab
}

km_case <- function(id, dataset, endpoint, grouping, marker, labels, time, event, group,
                    landmarks) {
  d <- data.frame(time = time, event = event, group = factor(group, levels = seq_along(labels)))
  fit <- survfit(Surv(time, event) ~ group, data = d, conf.type = CONF_TYPE, conf.int = CONF_INT)
  stopifnot(length(fit$strata) == length(labels))
  idx <- split_idx(fit)
  tab <- median_table(fit)
  s <- summary(fit, times = landmarks, extend = TRUE)
  s_str <- as.integer(s$strata)
  groups <- lapply(seq_along(labels), function(k) {
    i <- idx[[k]]
    j <- which(s_str == k)
    list(
      label = labels[k],
      n = num(fit$n[k]),
      n_event_total = sum(fit$n.event[i]),
      table = list(
        time = arr(fit$time[i]), n_risk = arr(fit$n.risk[i]), n_event = arr(fit$n.event[i]),
        n_censor = arr(fit$n.censor[i]), surv = arr(fit$surv[i]),
        std_err = arr(fit$std.err[i]),
        std_err_surv = arr(fit$surv[i] * fit$std.err[i]),
        lower = arr(fit$lower[i]), upper = arr(fit$upper[i])
      ),
      landmarks = list(
        time = arr(s$time[j]), n_risk = arr(s$n.risk[j]), n_event = arr(s$n.event[j]),
        n_censor = arr(s$n.censor[j]), surv = arr(s$surv[j]), std_err = arr(s$std.err[j]),
        lower = arr(s$lower[j]), upper = arr(s$upper[j])
      ),
      median = list(median = num(tab[k, "median"]), lower = num(tab[k, "0.95LCL"]),
                    upper = num(tab[k, "0.95UCL"]))
    )
  })
  list(id = id, dataset = dataset, endpoint = endpoint, grouping = grouping,
       marker = marker, conf_type = CONF_TYPE, conf_int = CONF_INT, n = length(time),
       landmark_times = arr(landmarks), groups = groups)
}

reverse_km_case <- function(id, dataset, endpoint, time, event) {
  d <- data.frame(time = time, cens = 1L - event)
  fit <- survfit(Surv(time, cens) ~ 1, data = d, conf.type = CONF_TYPE, conf.int = CONF_INT)
  tab <- median_table(fit)
  list(id = id, dataset = dataset, endpoint = endpoint, conf_type = CONF_TYPE,
       conf_int = CONF_INT, n = length(time), n_censored = sum(event == 0),
       median = num(tab[1, "median"]), lower = num(tab[1, "0.95LCL"]),
       upper = num(tab[1, "0.95UCL"]))
}

## ---------------------------------------------------------------------------
## Log-rank (survdiff) and trend test
## ---------------------------------------------------------------------------
logrank_case <- function(id, dataset, endpoint, grouping, marker, labels, time, event,
                         group, strata = NULL, strata_var = NULL) {
  d <- data.frame(time = time, event = event, group = factor(group, levels = seq_along(labels)))
  if (is.null(strata)) {
    sd <- survdiff(Surv(time, event) ~ group, data = d)
  } else {
    d$s <- strata
    sd <- survdiff(Surv(time, event) ~ group + strata(s), data = d)
  }
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  exp <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  df <- sum(exp > 0) - 1                      # as in print.survdiff
  p <- pchisq(sd$chisq, df, lower.tail = FALSE)
  stopifnot(isTRUE(all.equal(p, sd$pvalue)))
  stopifnot(length(obs) == length(labels))
  w <- seq_along(labels)
  U <- sum(w * (obs - exp))
  V <- as.numeric(t(w) %*% sd$var %*% w)
  tchisq <- U^2 / V
  out <- list(id = id, dataset = dataset, endpoint = endpoint, grouping = grouping,
              marker = marker, strata = strata_var,
              n = length(time), labels = arr(labels), group_n = arr(as.numeric(sd$n)),
              obs = arr(obs), exp = arr(exp), var = mat_rows(sd$var),
              chisq = num(sd$chisq), df = df, p = p)
  if (!is.null(strata)) out$n_strata <- length(unique(strata))
  ## trend test only for unstratified comparisons of > 2 ordered groups
  if (!is.null(strata) || length(labels) < 3) return(list(logrank = out, trend = NULL))
  trend <- list(id = sub("/logrank$", "/trend", id), dataset = dataset, endpoint = endpoint,
                grouping = grouping, marker = marker, n = length(time), labels = arr(labels),
                scores = arr(w), obs = arr(obs), exp = arr(exp), U = U, V = V,
                chisq = tchisq, df = 1L, p = pchisq(tchisq, 1, lower.tail = FALSE))
  list(logrank = out, trend = trend)
}

## ---------------------------------------------------------------------------
## Cox
## ---------------------------------------------------------------------------
fit_cox <- function(formula, data) {
  ## model = TRUE, x = TRUE: cox.zph() needs the model frame and must not re-evaluate the call
  coxph(formula, data = data, ties = "efron", model = TRUE, x = TRUE)
}

cox_case <- function(id, dataset, endpoint, model, marker, formula, data, subset = NULL,
                     fit = NULL) {
  if (is.null(fit)) fit <- fit_cox(formula, data)
  s <- summary(fit)
  cf <- s$coefficients
  ci <- exp(confint(fit, level = 0.95))
  zph <- cox.zph(fit, transform = "km", terms = TRUE)
  zt <- zph$table
  terms <- lapply(seq_len(nrow(cf)), function(i) list(
    term = rownames(cf)[i], coef = num(cf[i, "coef"]), se = num(cf[i, "se(coef)"]),
    hr = num(cf[i, "exp(coef)"]), lower = num(ci[i, 1]), upper = num(ci[i, 2]),
    z = num(cf[i, "z"]), p = num(cf[i, "Pr(>|z|)"])))
  zph_rows <- lapply(seq_len(nrow(zt)), function(i) list(
    term = rownames(zt)[i], chisq = num(zt[i, "chisq"]), df = num(zt[i, "df"]),
    p = num(zt[i, "p"])))
  list(id = id, dataset = dataset, endpoint = endpoint, model = model, marker = marker,
       formula = paste(deparse(formula, width.cutoff = 500L), collapse = ""),
       subset = subset, ties = "efron", n = fit$n, nevent = fit$nevent,
       terms = terms,
       lr = list(chisq = num(s$logtest["test"]), df = num(s$logtest["df"]),
                 p = num(s$logtest["pvalue"])),
       wald = list(chisq = num(s$waldtest["test"]), df = num(s$waldtest["df"]),
                   p = num(s$waldtest["pvalue"])),
       score = list(chisq = num(s$sctest["test"]), df = num(s$sctest["df"]),
                    p = num(s$sctest["pvalue"])),
       loglik_null = num(fit$loglik[1]), loglik = num(fit$loglik[2]),
       concordance = list(c = num(s$concordance[1]), se = num(s$concordance[2])),
       zph = list(transform = "km", terms = zph_rows))
}

## ---------------------------------------------------------------------------
## Rank tests
## ---------------------------------------------------------------------------
## Jonckheere-Terpstra test for ordered alternatives, from its definition.
## JT = sum_{i<j} sum_{a in group i} sum_{b in group j} [ I(x_a < x_b) + 0.5 I(x_a == x_b) ]
## Null mean  E = (N^2 - sum n_i^2) / 4.
## Tie-corrected null variance (Hollander & Wolfe, Nonparametric Statistical Methods,
## 2nd ed. 1999, Sect. 6.2, large-sample approximation with ties; Lehmann,
## Nonparametrics, 1975, Ch. 5):
##   V = [N(N-1)(2N+5) - sum n_i(n_i-1)(2n_i+5) - sum t_k(t_k-1)(2t_k+5)] / 72
##     + [sum n_i(n_i-1)(n_i-2)] [sum t_k(t_k-1)(t_k-2)] / [36 N(N-1)(N-2)]
##     + [sum n_i(n_i-1)] [sum t_k(t_k-1)] / [8 N(N-1)]
## t_k = sizes of the groups of exactly equal values.  z = (JT - E)/sqrt(V), no
## continuity correction, two-sided p = 2 * pnorm(-|z|).
jt_test <- function(x, g) {
  ok <- !is.na(x) & !is.na(g)
  x <- x[ok]; g <- g[ok]
  lev <- sort(unique(g))
  JT <- 0
  for (a in seq_along(lev)) for (b in seq_along(lev)) if (a < b) {
    xa <- x[g == lev[a]]; xb <- x[g == lev[b]]
    JT <- JT + sum(outer(xa, xb, "<")) + 0.5 * sum(outer(xa, xb, "=="))
  }
  N <- length(x)
  n <- as.numeric(vapply(lev, function(l) sum(g == l), 0L))
  tk <- as.numeric(rle(sort(x))$lengths)     # exact-equality tie groups
  E <- (N^2 - sum(n^2)) / 4
  V <- (N * (N - 1) * (2 * N + 5) - sum(n * (n - 1) * (2 * n + 5)) -
          sum(tk * (tk - 1) * (2 * tk + 5))) / 72 +
    sum(n * (n - 1) * (n - 2)) * sum(tk * (tk - 1) * (tk - 2)) / (36 * N * (N - 1) * (N - 2)) +
    sum(n * (n - 1)) * sum(tk * (tk - 1)) / (8 * N * (N - 1))
  z <- (JT - E) / sqrt(V)
  list(N = N, groups = arr(as.character(lev)), group_n = arr(n),
       n_tie_groups = sum(tk > 1), statistic = JT, mean = E, var = V, z = z,
       p = 2 * pnorm(-abs(z)))
}

kruskal_case <- function(id, dataset, variable, by, x, g) {
  ok <- !is.na(x) & !is.na(g)
  kt <- kruskal.test(x[ok], factor(g[ok]))
  list(id = id, dataset = dataset, test = "kruskal", variable = variable, by = by,
       n = sum(ok), groups = arr(levels(factor(g[ok]))),
       group_n = arr(as.numeric(table(factor(g[ok])))),
       statistic = num(kt$statistic), df = num(kt$parameter), p = num(kt$p.value))
}

jt_case <- function(id, dataset, variable, by, x, g) {
  c(list(id = id, dataset = dataset, test = "jonckheere_terpstra", variable = variable,
         by = by, alternative = "two.sided"), jt_test(x, g))
}

## ---------------------------------------------------------------------------
## Build cases
## ---------------------------------------------------------------------------
KM <- list(); LR <- list(); TR <- list(); COX <- list(); ANOVA <- list()
RKM <- list(); QU <- list(); RANK <- list()
push <- function(lst, x) { lst[[length(lst) + 1]] <- x; lst }
add_lr <- function(res) {
  LR <<- push(LR, res$logrank)
  if (!is.null(res$trend)) TR <<- push(TR, res$trend)
}

## ---- endpoint-level analyses (ISS KM, ISS log-rank/trend, reverse KM) -------
endpoint_block <- function(dataset, endpoint, d) {
  pre <- paste(dataset, endpoint, sep = "/")
  RKM <<- push(RKM, reverse_km_case(paste0(pre, "/reverse_km"), dataset, endpoint,
                                    d$time, d$event))
  di <- d[!is.na(d$iss), ]
  KM <<- push(KM, km_case(paste0(pre, "/iss/km"), dataset, endpoint, "iss", NULL,
                          ISS_LABELS, di$time, di$event, di$iss, LANDMARKS_ISS))
  add_lr(logrank_case(paste0(pre, "/iss/logrank"), dataset, endpoint, "iss", NULL,
                      ISS_LABELS, di$time, di$event, di$iss))
}

## ---- marker-level analyses -------------------------------------------------
marker_block <- function(dataset, endpoint, d, marker, q, covars, strat_var, log2_ok) {
  pre <- paste(dataset, endpoint, marker, sep = "/")
  d <- d[!is.na(d[[marker]]), ]
  x <- d[[marker]]
  d$q4 <- quartile_group(x, q)
  d$high <- as.integer(x > q[1])
  d$q2 <- d$high + 1L
  ## KM Q1 vs Q2-4
  KM <<- push(KM, km_case(paste0(pre, "/q1_vs_rest/km"), dataset, endpoint, "q1_vs_rest",
                          marker, Q2_LABELS, d$time, d$event, d$q2, LANDMARKS_MARKER))
  add_lr(logrank_case(paste0(pre, "/q1_vs_rest/logrank"), dataset, endpoint, "q1_vs_rest",
                      marker, Q2_LABELS, d$time, d$event, d$q2))
  add_lr(logrank_case(paste0(pre, "/quartiles/logrank"), dataset, endpoint, "quartiles",
                      marker, Q4_LABELS, d$time, d$event, d$q4))
  ds <- d[!is.na(d[[strat_var]]), ]
  add_lr(logrank_case(paste0(pre, "/q1_vs_rest/logrank_strat_", strat_var), dataset,
                      endpoint, "q1_vs_rest", marker, Q2_LABELS, ds$time, ds$event, ds$q2,
                      strata = ds[[strat_var]], strata_var = strat_var))
  ## Cox
  mk <- function(rhs) as.formula(paste("Surv(time, event) ~", rhs))
  cc <- function(vars) d[stats::complete.cases(d[, vars, drop = FALSE]), ]
  COX <<- push(COX, cox_case(paste0(pre, "/cox/continuous"), dataset, endpoint, "continuous",
                             marker, mk(marker), d))
  if (log2_ok) {
    stopifnot(all(x > 0))
    COX <<- push(COX, cox_case(paste0(pre, "/cox/log2"), dataset, endpoint, "log2", marker,
                               mk(sprintf("log2(%s)", marker)), d))
  }
  COX <<- push(COX, cox_case(paste0(pre, "/cox/high"), dataset, endpoint, "high", marker,
                             mk("high"), d))
  dm <- cc(c(marker, covars))
  COX <<- push(COX, cox_case(paste0(pre, "/cox/multivariable"), dataset, endpoint,
                             "multivariable", marker,
                             mk(paste(c(marker, covars), collapse = " + ")), dm))
  dh <- cc(c("high", strat_var))
  COX <<- push(COX, cox_case(paste0(pre, "/cox/high_adjusted"), dataset, endpoint,
                             "high_adjusted", marker, mk(paste("high +", strat_var)), dh))
  d
}

subgroup_block <- function(dataset, endpoint, d, marker) {
  pre <- paste(dataset, endpoint, marker, sep = "/")
  d <- d[!is.na(d[[marker]]), ]
  f1 <- as.formula(paste("Surv(time, event) ~", marker))
  for (v in c(0L, 1L)) {
    COX <<- push(COX, cox_case(sprintf("%s/cox/subgroup_cyto_abn%d", pre, v), dataset,
                               endpoint, sprintf("subgroup_cyto_abn%d", v), marker, f1,
                               d[d$cyto_abn == v, ], subset = sprintf("cyto_abn == %d", v)))
  }
  f_main <- as.formula(paste("Surv(time, event) ~", marker, "+ cyto_abn"))
  f_int <- as.formula(paste("Surv(time, event) ~", marker, "* cyto_abn"))
  fm <- fit_cox(f_main, d)
  fi <- fit_cox(f_int, d)
  COX <<- push(COX, cox_case(paste0(pre, "/cox/main_cyto_abn"), dataset, endpoint,
                             "main_cyto_abn", marker, f_main, d, fit = fm))
  COX <<- push(COX, cox_case(paste0(pre, "/cox/interaction_cyto_abn"), dataset, endpoint,
                             "interaction_cyto_abn", marker, f_int, d, fit = fi))
  a <- anova(fm, fi)
  stopifnot(fm$n == fi$n)
  int_term <- paste0(marker, ":cyto_abn")
  sfi <- summary(fi)$coefficients
  ANOVA <<- push(ANOVA, list(
    id = paste0(pre, "/interaction_cyto_abn/lrt"), dataset = dataset, endpoint = endpoint,
    marker = marker, reduced = paste(deparse(f_main), collapse = ""),
    full = paste(deparse(f_int), collapse = ""), n = fi$n, nevent = fi$nevent,
    loglik_reduced = num(fm$loglik[2]), loglik_full = num(fi$loglik[2]),
    chisq = num(a[2, "Chisq"]), df = num(a[2, "Df"]), p = num(a[2, "Pr(>|Chi|)"]),
    interaction_term = int_term, interaction_wald_p = num(sfi[int_term, "Pr(>|z|)"])))
}

## ---- GSE24080 --------------------------------------------------------------
gse_q <- list()
for (m in GSE_MARKERS) {
  x <- gse[[m]][!is.na(gse[[m]])]
  q <- quartile_cuts(x)
  gse_q[[m]] <- q
  QU <- push(QU, list(id = paste0("gse24080/", m, "/quartiles"), dataset = "gse24080",
                      marker = m, n = length(x), n_missing = sum(is.na(gse[[m]])),
                      type = 7L, probs = arr(c(0.25, 0.5, 0.75)), q = arr(q),
                      group_labels = arr(Q4_LABELS),
                      group_n = arr(as.numeric(tabulate(quartile_group(x, q), 4))),
                      q1_vs_rest_n = arr(c(sum(x <= q[1]), sum(x > q[1])))))
}
for (ep in c("efs", "os")) {
  d <- data.frame(time = gse[[paste0(ep, "_time")]], event = gse[[paste0(ep, "_event")]],
                  iss = gse$iss, cyto_abn = gse$cyto_abn, age = gse$age,
                  b2m_mg_l = gse$b2m_mg_l, ldh = gse$ldh)
  stopifnot(!anyNA(d$time), !anyNA(d$event))
  endpoint_block("gse24080", ep, d)
  for (m in GSE_MARKERS) {
    marker_block("gse24080", ep, d, m, gse_q[[m]], covars = c("cyto_abn", "age"),
                 strat_var = "cyto_abn", log2_ok = TRUE)
    subgroup_block("gse24080", ep, d, m)
  }
}
RANK <- push(RANK, kruskal_case("gse24080/ldh/by_iss/kruskal", "gse24080", "ldh", "iss",
                                gse$ldh, gse$iss))
wt <- wilcox.test(ldh ~ cyto_abn, data = gse, exact = FALSE, correct = TRUE)
RANK <- push(RANK, list(id = "gse24080/ldh/by_cyto_abn/wilcox", dataset = "gse24080",
                        test = "wilcoxon_rank_sum", variable = "ldh", by = "cyto_abn",
                        n = sum(!is.na(gse$ldh) & !is.na(gse$cyto_abn)),
                        groups = arr(c("0", "1")),
                        group_n = arr(as.numeric(table(factor(gse$cyto_abn, levels = 0:1)))),
                        exact = FALSE, correct = TRUE, alternative = "two.sided",
                        statistic = num(wt$statistic), p = num(wt$p.value)))
RANK <- push(RANK, jt_case("gse24080/ldh/by_iss/jt", "gse24080", "ldh", "iss",
                           gse$ldh, gse$iss))

## ---- CoMMpass --------------------------------------------------------------
endpoint_block("commpass", "os", cp_os)
for (g in CP_GENES) {
  x <- cp_m[[g]][!is.na(cp_m[[g]])]
  q <- quartile_cuts(x)
  QU <- push(QU, list(id = paste0("commpass/", g, "/quartiles"), dataset = "commpass",
                      marker = g, n = length(x), n_missing = sum(is.na(cp_m[[g]])),
                      type = 7L, probs = arr(c(0.25, 0.5, 0.75)), q = arr(q),
                      group_labels = arr(Q4_LABELS),
                      group_n = arr(as.numeric(tabulate(quartile_group(x, q), 4))),
                      q1_vs_rest_n = arr(c(sum(x <= q[1]), sum(x > q[1])))))
  marker_block("commpass", "os", cp_m, g, q, covars = c("iss"), strat_var = "iss",
               log2_ok = FALSE)
  RANK <- push(RANK, kruskal_case(paste0("commpass/", g, "/by_iss/kruskal"), "commpass", g,
                                  "iss", cp_m[[g]], cp_m$iss))
  RANK <- push(RANK, jt_case(paste0("commpass/", g, "/by_iss/jt"), "commpass", g, "iss",
                             cp_m[[g]], cp_m$iss))
}

## ---------------------------------------------------------------------------
## Meta / dataset summaries and output
## ---------------------------------------------------------------------------
md5 <- function(f) unname(tools::md5sum(f))
datasets <- list(
  gse24080 = list(
    file = "gse24080/clinical.tsv", md5 = md5(f_gse), n_rows = nrow(gse),
    n_iss_missing = sum(is.na(gse$iss)),
    n_missing = lapply(setNames(GSE_MARKERS, GSE_MARKERS), function(m) sum(is.na(gse[[m]]))),
    n_time_zero = list(efs = sum(gse$efs_time == 0), os = sum(gse$os_time == 0)),
    n_events = list(efs = sum(gse$efs_event), os = sum(gse$os_event))),
  commpass = list(
    files = list(clinical = "commpass/clinical.csv",
                 expression = "commpass/expression_100genes_log2fpkm.csv"),
    md5 = list(clinical = md5(f_cp_clin), expression = md5(f_cp_expr)),
    days_per_month = DAYS_PER_MONTH,
    n_clinical = nrow(cp_clin),
    n_dropped_time = sum(cp_bad_time), dropped_patients = arr(cp_dropped),
    n_os = nrow(cp_os), n_os_events = sum(cp_os$event),
    n_iss_unknown_os = sum(is.na(cp_os$iss)),
    n_expr_columns_1_BM = length(expr_cols) + n_dup_cols,
    n_expr_duplicate_patients_dropped = n_dup_cols,
    n_expr_patients = length(expr_pid),
    n_merged = nrow(cp_m), n_merged_events = sum(cp_m$event),
    n_merged_iss_unknown = sum(is.na(cp_m$iss)),
    genes = arr(CP_GENES))
)

golden <- list(
  meta = list(
    generator = "tests/reference/survival/make_golden.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    conf_type = CONF_TYPE, conf_int = CONF_INT, ties = "efron",
    landmarks_iss = arr(LANDMARKS_ISS), landmarks_marker = arr(LANDMARKS_MARKER)),
  datasets = datasets,
  quartiles = QU,
  km = KM,
  reverse_km = RKM,
  logrank = LR,
  trend = TR,
  cox = COX,
  cox_lrt = ANOVA,
  rank_tests = RANK
)

ids <- unlist(lapply(golden[c("quartiles", "km", "reverse_km", "logrank", "trend", "cox",
                              "cox_lrt", "rank_tests")], function(l) vapply(l, `[[`, "", "id")))
stopifnot(!anyDuplicated(ids))

json <- toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
               pretty = TRUE)
writeLines(json, out_file, useBytes = TRUE)
cat(sprintf("wrote %s (%d cases)\n", out_file, length(ids)))
