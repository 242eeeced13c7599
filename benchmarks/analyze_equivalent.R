# The core computations of `ikaros analyze` for one cohort, done with R survival, timed in R.
# Usage: Rscript analyze_equivalent.R COHORT.csv REPEATS
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2])
d$cyto <- as.integer(d$del17p | d$t_4_14 | d$t_14_16)
one_run <- function() {
  for (m in c("IKZF1", "IKZF3", "CRBN", "BSG")) {
    for (e in c("pfs", "os")) {
      t <- d[[paste0(e, "_time")]]; ev <- d[[paste0(e, "_event")]]; x <- d[[m]]
      q <- quantile(x, c(.25, .5, .75), type = 7)
      g <- ifelse(x <= q[1], "Q1", "Q2-4"); g4 <- cut(x, c(-Inf, q, Inf))
      high <- as.integer(x > q[1])
      f <- survfit(Surv(t, ev) ~ g, conf.type = "log-log"); s <- summary(f, times = 36, extend = TRUE)
      qq <- quantile(f, 0.5)
      f4 <- survfit(Surv(t, ev) ~ g4, conf.type = "log-log"); s4 <- summary(f4, times = 36, extend = TRUE)
      l2 <- survdiff(Surv(t, ev) ~ g); l4 <- survdiff(Surv(t, ev) ~ g4)
      ls <- survdiff(Surv(t, ev) ~ g + strata(d$cyto))
      c1 <- coxph(Surv(t, ev) ~ x); z1 <- cox.zph(c1)
      c2 <- coxph(Surv(t, ev) ~ high); z2 <- cox.zph(c2)
      c3 <- coxph(Surv(t, ev) ~ x + d$cyto); z3 <- cox.zph(c3)
      c4 <- coxph(Surv(t, ev) ~ high + d$cyto); z4 <- cox.zph(c4)
      for (r in 0:1) { k <- d$cyto == r; cs <- coxph(Surv(t[k], ev[k]) ~ x[k]) }
      ci <- coxph(Surv(t, ev) ~ x * d$cyto); a <- anova(c3, ci)
    }
    kruskal.test(d[[m]] ~ d$iss)
  }
  rev <- survfit(Surv(d$pfs_time, 1 - d$pfs_event) ~ 1)
}
invisible(suppressWarnings(one_run()))
times <- replicate(reps, system.time(suppressWarnings(one_run()))[["elapsed"]])
cat(sprintf("%.6f\n", median(times)))
