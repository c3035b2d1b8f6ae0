# Checks R model files without running them (`datacycle check`): syntax, and that the `model`
# function's parameters are the inputs the header declares. Arguments: a JSON file of
# {"files": [{"file", "code", "inputs": [parameter…]}]}; prints a JSON list of {file, line, message}.
request <- jsonlite::fromJSON(commandArgs(trailingOnly = TRUE)[[1]], simplifyVector = FALSE)
found <- list()
problem <- function(file, line, message) found[[length(found) + 1]] <<- list(file = file, line = line, message = message)
for (item in request$files) {
  inputs <- unlist(item$inputs)
  exprs <- tryCatch(parse(text = item$code, keep.source = TRUE, srcfile = srcfilecopy(item$file, item$code)),
                    error = function(e) e)
  if (inherits(exprs, "error")) {
    message <- conditionMessage(exprs)
    line <- suppressWarnings(as.integer(sub("^[^:]*:([0-9]+):.*$", "\\1", message)))
    problem(item$file, if (is.na(line)) NULL else line, paste("syntax error:", sub("\n.*", "", sub("^[^:]*:[0-9]+:[0-9]+: ", "", message))))
    next
  }
  definition <- NULL
  for (i in seq_along(exprs)) {
    e <- exprs[[i]]
    if (is.call(e) && as.character(e[[1]]) %in% c("<-", "=") && identical(e[[2]], as.name("model")) &&
        is.call(e[[3]]) && identical(e[[3]][[1]], as.name("function")))
      definition <- list(formals = e[[3]][[2]], line = attr(exprs, "srcref")[[i]][[1]])
  }
  if (is.null(definition)) {
    problem(item$file, NULL, "no function model <- function(...) at the top level of the file")
    next
  }
  parameters <- names(definition$formals)
  for (input in inputs)
    if (!(input %in% parameters) && !("..." %in% parameters))
      problem(item$file, definition$line, paste0("input ", input, " (header) is not a parameter of model()"))
  for (name in parameters) {
    missing_default <- identical(definition$formals[[name]], quote(expr = ))
    if (name != "..." && missing_default && !(name %in% inputs))
      problem(item$file, definition$line, paste0("parameter ", name, " of model() is not among the header's inputs"))
  }
}
cat(jsonlite::toJSON(found, auto_unbox = TRUE, null = "null"))
