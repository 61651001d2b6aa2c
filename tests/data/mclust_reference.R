# Reference values from R's mclust for tests/test_gmm.py (regenerate: Rscript tests/data/mclust_reference.R).
# For the nine models: mstep() from fixed soft responsibilities z on iris (4 attributes, 3 clusters),
# and me() (EM from the same z, tolerance 1e-10): log-likelihood, iterations, mixing proportions.
# And Mclust()'s maximised log-likelihood (its default hierarchical initialisation) for the nine
# models, G = 2 and 3, on iris (4 attributes) and faithful (2 attributes; faithful.csv is written too).
# Writes tests/data/mclust_reference.json next to this script.
suppressMessages(library(mclust))
x <- as.matrix(iris[, 1:4])
set.seed(1)
raw <- matrix(rexp(nrow(x) * 3), ncol = 3)
raw[cbind(seq_len(nrow(x)), as.integer(iris$Species))] <- raw[cbind(seq_len(nrow(x)), as.integer(iris$Species))] + 3
z <- raw / rowSums(raw)
num <- function(v) paste0("[", paste(sprintf("%.17g", as.vector(v)), collapse = ", "), "]")
models <- c("EII", "VII", "EEI", "EVI", "VVI", "EEE", "EEV", "EVV", "VVV")
parts <- c()
for (m in models) {
  ms <- mstep(modelName = m, data = x, z = z)
  sigma <- ms$parameters$variance$sigma            # d x d x G
  fit <- me(modelName = m, data = x, z = z, control = emControl(tol = c(1e-10, sqrt(.Machine$double.eps))))
  parts <- c(parts, sprintf(paste0('"%s": {"mstep_pro": %s, "mstep_mean": %s, "mstep_sigma": %s, ',
                                   '"me_loglik": %.17g, "me_iterations": %d, "me_pro": %s}'),
                            m, num(ms$parameters$pro), num(t(ms$parameters$mean)), num(aperm(sigma, c(3, 1, 2))),
                            fit$loglik, as.integer(attr(fit, "info")["iterations"]), num(fit$parameters$pro)))
}
best <- c()
for (set in c("iris", "faithful")) {
  data <- if (set == "iris") x else as.matrix(faithful)
  per_model <- c()
  for (m in models) {
    ll <- sapply(2:3, function(g) Mclust(data, G = g, modelNames = m, verbose = FALSE)$loglik)
    per_model <- c(per_model, sprintf('"%s": {"2": %.17g, "3": %.17g}', m, ll[1], ll[2]))
  }
  best <- c(best, sprintf('"%s": {%s}', set, paste(per_model, collapse = ", ")))
}
out <- paste0('{"mclust_version": "', packageVersion("mclust"), '", "z": ', num(z), ', ',
              paste(parts, collapse = ", "), ', "mclust_loglik": {', paste(best, collapse = ", "), "}}")
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
write.csv(faithful, file.path(here, "faithful.csv"), row.names = FALSE)
writeLines(out, file.path(here, "mclust_reference.json"))
