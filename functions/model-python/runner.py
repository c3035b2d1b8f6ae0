"""Runs one Python model of a datacycle project (a Lambda handler on the python3.11 runtime).

The transform pass builds the models inside one database transaction, so the relations a
model reads may exist only in that transaction. It hands them over as CSV files: the event
names each input (presigned GET URL, column kinds) and where the result goes (presigned PUT
URL). This runner reads the inputs into pandas data frames, calls the model's `model`
function with them, and writes its result; the pass loads it into the same transaction.

A model's own error is an answer, not a crash: {"ok": false, "error", "line"}, the line being
the deepest one of the model's file in the traceback.
"""

from __future__ import annotations

import datetime
import io
import traceback
import types
import urllib.request

import pandas as pd

PANDAS_DTYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean", "string": "string"}
TIMEOUT_SECONDS = 600


def handler(event, context):  # noqa: ARG001 (the Lambda signature)
    file = event["file"]
    try:
        function = load_model(event["code"], file)
        frames = {}
        for item in event["inputs"]:
            try:
                frames[item["parameter"]] = read_input(item)
            except Exception as error:
                return failure(f"reading its input {item['parameter']}: {type(error).__name__}: {error}", None)
        result = function(**frames)
        if not isinstance(result, pd.DataFrame):
            return failure(f"model() returned {type(result).__name__}, not a pandas DataFrame", None)
        result = with_named_index(result)
        problem = column_problem(result)
        if problem:
            return failure(problem, None)
        columns = [{"name": str(name), "kind": kind_of(result[name])} for name in result.columns]
        write_output(result, event["output"]["url"])
        return {"ok": True, "columns": columns, "rows": int(len(result))}
    except Exception as error:  # the model's own error, located in its file
        return failure(f"{type(error).__name__}: {error}", line_in(error, file))


def load_model(code: str, file: str):
    module = types.ModuleType("datacycle_model")
    module.__file__ = file
    exec(compile(code, file, "exec"), module.__dict__)
    function = module.__dict__.get("model")
    if not callable(function):
        raise NameError(f"{file} defines no function model(...)")
    return function


def read_input(item: dict) -> pd.DataFrame:
    columns = item["columns"]
    dtypes = {c["name"]: PANDAS_DTYPES[c["kind"]] for c in columns if c["kind"] in PANDAS_DTYPES}
    with urllib.request.urlopen(item["url"], timeout=TIMEOUT_SECONDS) as response:
        frame = pd.read_csv(response, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in columns:
        name, kind = column["name"], column["kind"]
        if kind == "date":
            frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d")
        elif kind == "datetime":
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        elif kind == "datetimetz":
            frame[name] = pd.to_datetime(frame[name], format="ISO8601", utc=True)
        elif kind == "geometry":
            frame[name] = frame[name].astype("string")
    return frame


def with_named_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A grouped result keeps its keys in the index: they become columns, as the author meant."""
    if any(name is not None for name in frame.index.names):
        return frame.reset_index()
    return frame


def column_problem(frame: pd.DataFrame) -> str | None:
    names = [str(name) for name in frame.columns]
    if len(names) == 0:
        return "model() returned a DataFrame without columns"
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        return f"model() returned duplicate column names: {', '.join(duplicates)}"
    return None


def kind_of(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetimetz"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "datetime"
    values = series.dropna()
    # Dates (`.dt.date`): objects that are dates and not date-times.
    if len(values) > 0 and all(
        isinstance(v, datetime.date) and not isinstance(v, datetime.datetime) for v in values
    ):
        return "date"
    return "string"


def write_output(frame: pd.DataFrame, url: str) -> None:
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, na_rep="", date_format="%Y-%m-%dT%H:%M:%S.%f%z")
    request = urllib.request.Request(
        url, data=buffer.getvalue(), method="PUT", headers={"content-type": "text/csv"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()


def line_in(error: BaseException, file: str) -> int | None:
    if isinstance(error, SyntaxError) and error.filename == file:
        return error.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == file]
    return lines[-1] if lines else None


def failure(message: str, line: int | None) -> dict:
    return {"ok": False, "error": message, "line": line}
