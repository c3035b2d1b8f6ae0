# Runs one R model of a datacycle project: see functions/model-python/runner.py for the
# contract (inputs as CSV behind presigned URLs, the result written to a presigned PUT URL).
# Needs R and the jsonlite package, nothing else.
args <- commandArgs(trailingOnly = TRUE)
event <- jsonlite::fromJSON(args[[1]], simplifyVector = FALSE)
answer <- function(value) {
  writeLines(jsonlite::toJSON(value, auto_unbox = TRUE, null = "null"), args[[2]])
  quit(save = "no", status = 0)
}

col_classes <- c(integer = "numeric", number = "numeric", boolean = "logical", string = "character",
                 date = "character", datetime = "character", datetimetz = "character",
                 geometry = "character")

read_input <- function(item) {
  file <- tempfile(fileext = ".csv")
  on.exit(unlink(file))
  utils::download.file(item$url, file, method = "libcurl", quiet = TRUE, mode = "wb")
  names <- vapply(item$columns, function(c) c$name, "")
  kinds <- vapply(item$columns, function(c) c$kind, "")
  frame <- utils::read.csv(file, colClasses = unname(col_classes[kinds]), na.strings = "",
                           check.names = FALSE, encoding = "UTF-8", stringsAsFactors = FALSE)
  names(frame) <- names
  for (i in seq_along(kinds)) {
    if (kinds[[i]] == "date") frame[[i]] <- as.Date(frame[[i]])
    if (kinds[[i]] %in% c("datetime", "datetimetz"))
      frame[[i]] <- as.POSIXct(sub("Z$", "", frame[[i]]), format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC")
  }
  frame
}

kind_of <- function(column) {
  if (is.logical(column)) return("boolean")
  if (is.integer(column)) return("integer")
  # A column's type follows its R type, never its values: integer → bigint, double → double
  # precision (integers read from the database are doubles here: R's integers have 32 bits).
  if (is.numeric(column)) return("number")
  if (inherits(column, "Date")) return("date")
  if (inherits(column, "POSIXt")) return("datetimetz")
  "string"
}

# The deepest line of the model's file in the calls that led to the error.
line_of <- function(calls, file) {
  lines <- integer(0)
  for (call in calls) {
    ref <- attr(call, "srcref")
    if (!is.null(ref) && identical(attr(ref, "srcfile")$filename, file)) lines <- c(lines, ref[[1]])
  }
  if (length(lines) == 0) NULL else lines[[length(lines)]]
}

calls <- NULL
result <- tryCatch(
  withCallingHandlers({
    exprs <- parse(text = event$code, keep.source = TRUE, srcfile = srcfilecopy(event$file, event$code))
    env <- new.env(parent = globalenv())
    for (expr in exprs) eval(expr, env)
    if (!exists("model", envir = env, inherits = FALSE) || !is.function(env$model))
      stop(paste(event$file, "defines no function model(...)"))
    frames <- lapply(event$inputs, read_input)
    names(frames) <- vapply(event$inputs, function(i) i$parameter, "")
    do.call(env$model, frames)
  }, error = function(e) calls <<- sys.calls()),
  error = function(e) {
    line <- line_of(calls, event$file)
    if (is.null(line) && grepl("^[^:]*:([0-9]+):", conditionMessage(e)))
      line <- as.integer(sub("^[^:]*:([0-9]+):.*$", "\\1", conditionMessage(e)))
    answer(list(ok = FALSE, error = conditionMessage(e), line = line))
  }
)

if (!is.data.frame(result))
  answer(list(ok = FALSE, error = paste0("model() returned ", class(result)[[1]], ", not a data.frame"), line = NULL))
if (ncol(result) == 0) answer(list(ok = FALSE, error = "model() returned a data.frame without columns", line = NULL))
if (anyDuplicated(names(result)))
  answer(list(ok = FALSE, error = paste("model() returned duplicate column names:",
                                        paste(unique(names(result)[duplicated(names(result))]), collapse = ", ")),
              line = NULL))

columns <- lapply(names(result), function(name) list(name = name, kind = kind_of(result[[name]])))
for (i in seq_along(result)) {
  if (inherits(result[[i]], "POSIXt")) {
    missing <- is.na(result[[i]])
    result[[i]] <- format(result[[i]], "%Y-%m-%dT%H:%M:%OS6%z", tz = "UTC")
    result[[i]][missing] <- NA
  }
  if (is.factor(result[[i]])) result[[i]] <- as.character(result[[i]])
  if (columns[[i]]$kind == "integer") {
    missing <- is.na(result[[i]])
    result[[i]] <- format(result[[i]], scientific = FALSE, trim = TRUE)
    result[[i]][missing] <- NA
  }
}
output <- tempfile(fileext = ".csv")
utils::write.csv(result, output, row.names = FALSE, na = "", fileEncoding = "UTF-8")
status <- system2("curl", c("-sS", "-f", "-X", "PUT", "-H", shQuote("content-type: text/csv"),
                            "--upload-file", shQuote(output), shQuote(event$output$url)))
if (status != 0) stop("the result could not be uploaded (curl exited with ", status, ")")
answer(list(ok = TRUE, columns = columns, rows = nrow(result)))
