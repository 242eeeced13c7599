# The per-gene work of an ikaros genome-wide scan, done as an R survival loop and timed in R:
# coxph(Surv ~ gene) (Efron ties), survdiff for Q1 (x <= type-7 25th percentile) vs Q2-4, and
# Benjamini-Hochberg q-values of both p-value vectors.
#
# Usage: Rscript scan_equivalent.R SUBSET.csv OUT.csv
#   SUBSET.csv: columns time, event, then one column per gene.
# Prints the elapsed seconds of the loop (inside R, reading the file excluded) on the last line
# and writes coef, Wald p and the log-rank chi-square per gene to OUT.csv (to check agreement).
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
genes <- setdiff(colnames(d), c("time", "event"))
tm <- d$time
ev <- d$event

scan <- function() {
  coef <- p_cox <- chisq <- p_lr <- numeric(length(genes))
  for (i in seq_along(genes)) {
    x <- d[[genes[i]]]
    fit <- coxph(Surv(tm, ev) ~ x)
    s <- summary(fit)$coefficients
    coef[i] <- s[1, "coef"]
    p_cox[i] <- s[1, "Pr(>|z|)"]
    high <- x > quantile(x, 0.25, type = 7, names = FALSE)
    sd <- survdiff(Surv(tm, ev) ~ high)
    chisq[i] <- sd$chisq
    p_lr[i] <- pchisq(sd$chisq, 1, lower.tail = FALSE)
  }
  data.frame(gene = genes, coef = coef, p_cox = p_cox, q_cox = p.adjust(p_cox, "BH"),
             chisq = chisq, p_logrank = p_lr, q_logrank = p.adjust(p_lr, "BH"))
}

elapsed <- system.time(res <- scan())[["elapsed"]]
write.csv(res, args[2], row.names = FALSE)
cat(sprintf("%.6f\n", elapsed))
