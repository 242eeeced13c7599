# KM figures with numbers at risk, base R graphics, PNG (300 dpi) + SVG, for each marker x endpoint
# and both groupings of the demo cohort. Usage: Rscript km_figures_equivalent.R COHORT.csv OUTDIR
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); out <- args[2]
draw <- function(fit, groups, t, ev) {
  layout(matrix(1:2), heights = c(3, 1)); par(mar = c(3, 4, 1, 1))
  plot(fit, conf.int = TRUE, mark.time = TRUE, col = seq_along(groups), xlab = "Months")
  ticks <- seq(0, max(t), by = 12)
  par(mar = c(1, 4, 0, 1)); plot.new(); plot.window(range(ticks), c(0, length(groups) + 1))
  for (i in seq_along(groups)) {
    s <- summary(fit[i], times = ticks, extend = TRUE)
    text(ticks, i, s$n.risk, cex = 0.7, col = i)
  }
}
t0 <- proc.time()[["elapsed"]]
for (m in c("IKZF1", "IKZF3", "CRBN", "BSG")) for (e in c("pfs", "os")) {
  t <- d[[paste0(e, "_time")]]; ev <- d[[paste0(e, "_event")]]; x <- d[[m]]
  q <- quantile(x, c(.25, .5, .75), type = 7)
  for (g in list(ifelse(x <= q[1], "Q1", "Q2-4"), as.character(cut(x, c(-Inf, q, Inf))))) {
    fit <- survfit(Surv(t, ev) ~ g, conf.type = "log-log"); groups <- sort(unique(g))
    stem <- file.path(out, paste(m, e, length(groups), sep = "_"))
    png(paste0(stem, ".png"), width = 6, height = 5, units = "in", res = 300); draw(fit, groups, t, ev); dev.off()
    svg(paste0(stem, ".svg"), width = 6, height = 5); draw(fit, groups, t, ev); dev.off()
  }
}
cat(sprintf("%.6f\n", proc.time()[["elapsed"]] - t0))
