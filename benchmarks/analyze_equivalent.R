# The computations of `ikaros analyze COHORT -m M... -e E... --transform log2` (default quartile
# cut, landmark 36 months), done with R survival and timed inside R (the reading of the file
# excluded). Per marker x endpoint, as ikaros.study.marker does:
#   Kaplan-Meier (log-log CI) of Q1 vs Q2-4 and of the four quartiles, with the landmark and
#   the median; log-rank Q1 vs Q2-4, over the quartiles with the trend test (scores 1-4), and
#   stratified by cytogenetic risk; Cox (Efron) on log2(marker), on the group, each with and
#   without cytogenetic risk; in each risk subgroup: Kaplan-Meier, log-rank and Cox on the
#   marker; the interaction model and its likelihood-ratio test; cox.zph on every Cox model.
# Per marker: Kruskal-Wallis against ISS and the Wilcoxon test of CR/VGPR vs PR/SD (ikaros also
# runs a Jonckheere-Terpstra test, which base R lacks: R does slightly less work).
# Per endpoint: median follow-up by reverse Kaplan-Meier.
#
# Usage: Rscript analyze_equivalent.R COHORT.csv REPEATS MARKERS ENDPOINTS [OUT.csv]
#   MARKERS, ENDPOINTS: comma-separated. OUT.csv: hazard ratios of every Cox model, to check
#   ikaros against. Prints the reader used and the median compute time (s) on the last line.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
fast_read <- requireNamespace("data.table", quietly = TRUE)
d <- if (fast_read) as.data.frame(data.table::fread(args[1])) else read.csv(args[1])
reps <- as.integer(args[2])
markers <- strsplit(args[3], ",")[[1]]
endpoints <- strsplit(args[4], ",")[[1]]
out_csv <- if (length(args) >= 5) args[5] else ""
landmark <- 36
d$cyto <- as.integer(d$del17p | d$t_4_14 | d$t_14_16)

km <- function(t, ev, g) {
  f <- survfit(Surv(t, ev) ~ g, conf.type = "log-log")
  list(summary(f, times = landmark, extend = TRUE), quantile(f, 0.5))
}

# cox.zph right after each fit: it rebuilds the model frame from the formula's environment
zph <- function(fit) {
  cox.zph(fit)
  fit
}

trend <- function(sd, w) {
  u <- sum(w * (sd$obs - sd$exp))
  u^2 / drop(t(w) %*% sd$var %*% w)
}

hr_rows <- list()
one_run <- function(record = FALSE) {
  for (m in markers) {
    raw <- d[[m]]
    x <- log2(raw)
    q <- quantile(raw, c(.25, .5, .75), type = 7, names = FALSE)
    g <- factor(ifelse(raw <= q[1], "Q1", "Q2-4"), levels = c("Q1", "Q2-4"))
    g4 <- cut(raw, c(-Inf, q, Inf), labels = c("Q1", "Q2", "Q3", "Q4"))
    high <- as.integer(g == "Q2-4")
    cyto <- d$cyto
    for (e in endpoints) {
      t <- d[[paste0(e, "_time")]]
      ev <- d[[paste0(e, "_event")]]
      km(t, ev, g)
      km(t, ev, g4)
      survdiff(Surv(t, ev) ~ g)
      sd4 <- survdiff(Surv(t, ev) ~ g4)
      trend(sd4, 1:4)
      survdiff(Surv(t, ev) ~ g + strata(cyto))
      fits <- list(
        continuous = zph(coxph(Surv(t, ev) ~ x)),
        group = zph(coxph(Surv(t, ev) ~ high)),
        multivariable = zph(coxph(Surv(t, ev) ~ x + cyto)),
        group_multivariable = zph(coxph(Surv(t, ev) ~ high + cyto))
      )
      for (r in 0:1) {
        k <- cyto == r
        km(t[k], ev[k], g[k])
        survdiff(Surv(t[k], ev[k]) ~ g[k])
        xk <- x[k]
        fits[[paste0("subgroup_", r)]] <- zph(coxph(Surv(t[k], ev[k]) ~ xk))
      }
      fits$interaction <- zph(coxph(Surv(t, ev) ~ x * cyto))
      anova(fits$multivariable, fits$interaction)
      if (record) {
        for (model in names(fits)) {
          hr <- exp(coef(fits[[model]]))
          hr_rows[[length(hr_rows) + 1]] <<- data.frame(
            marker = m, endpoint = e, model = model, term = seq_along(hr), hr = unname(hr)
          )
        }
      }
    }
    kruskal.test(raw ~ d$iss)
    good <- raw[d$best_response %in% c("sCR", "CR", "VGPR")]
    poor <- raw[d$best_response %in% c("PR", "MR", "SD")]
    wilcox.test(good, poor, exact = FALSE, correct = TRUE)
  }
  for (e in endpoints) {
    f <- survfit(Surv(d[[paste0(e, "_time")]], 1 - d[[paste0(e, "_event")]]) ~ 1)
    quantile(f, 0.5)
  }
}

times <- numeric(reps)
for (i in seq_len(reps)) {
  times[i] <- system.time(suppressWarnings(one_run(record = i == 1 && nzchar(out_csv))))[["elapsed"]]
}
if (nzchar(out_csv)) write.csv(do.call(rbind, hr_rows), out_csv, row.names = FALSE)
cat(if (fast_read) "reader: data.table::fread\n" else "reader: read.csv\n")
cat(sprintf("%.6f\n", median(times)))
