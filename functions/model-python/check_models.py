"""Checks Python model files without running them (`datacycle check`): syntax, and that the
`model` function's parameters are the inputs the header declares.

Reads {"files": [{"file", "code", "inputs": [parameter…]}]} from the JSON file it is given; prints a JSON list of
{"file", "line", "message"}. Standard library only: the machine checking needs no pandas.
"""

import ast
import json
import sys


def problems_of(file: str, code: str, inputs: list[str]) -> list[dict]:
    try:
        tree = ast.parse(code, filename=file)
    except SyntaxError as error:
        return [{"file": file, "line": error.lineno, "message": f"SyntaxError: {error.msg}"}]
    functions = [
        node for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "model"
    ]
    if not functions:
        return [{"file": file, "line": None, "message": "no function model(...) at the top level of the file"}]
    function = functions[-1]
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    named = [a.arg for a in positional + arguments.kwonlyargs]
    problems = []
    for parameter in inputs:
        if parameter not in named and arguments.kwarg is None:
            problems.append({
                "file": file, "line": function.lineno,
                "message": f"input {parameter} (header) is not a parameter of model()",
            })
    defaults = len(arguments.defaults)
    required = [a.arg for a in positional[: len(positional) - defaults]]
    required += [a.arg for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is None]
    for parameter in required:
        if parameter not in inputs:
            problems.append({
                "file": file, "line": function.lineno,
                "message": f"parameter {parameter} of model() is not among the header's inputs",
            })
    return problems


with open(sys.argv[1], encoding="utf-8") as source:
    request = json.load(source)
found = []
for item in request["files"]:
    found.extend(problems_of(item["file"], item["code"], item["inputs"]))
json.dump(found, sys.stdout)
