"""A LocalStack runtime executor that runs Lambda functions as local processes.

LocalStack's community executor needs Docker. This one starts `supervisor.mjs` (shipped
beside this file) with the host's `node`, and speaks LocalStack's executor protocol:
the supervisor posts `status/ready` (or `status/error`) when the handler module has loaded,
receives `POST /invoke` on a loopback port, and answers through the
`/_localstack_lambda/<id>/invocations/<request id>/{logs,response,error}` callbacks.

Layers are resolved here (the community Docker executor does not mount them): each layer's
unzipped `nodejs/node_modules` goes on NODE_PATH, like /opt/nodejs/node_modules on AWS.

Python functions (python3.x) and custom runtimes (provided.*) run too: the supervisor then
serves the Lambda Runtime API to the runtime's own process, AWS's runtime interface client
(awslambdaric, from DATACYCLE_PYTHON_RUNTIME_PATH) with the host's Python of the same version
and each layer's `python` folder on PYTHONPATH, or the function's `bootstrap`. A custom
runtime uses the host's programs (the R models' runner: the host's R).
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import (
    NAMESPACE,
    ExecutorEndpoint,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

SUPERVISOR = Path(__file__).with_name("supervisor.mjs")
LOG_LINES_KEPT = 2000
# Host variables a Node.js process needs to run at all; everything else comes from the
# function's own environment, as on AWS.
INHERITED_HOST_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "NODE_EXTRA_CA_CERTS")


def _node_binary() -> str | None:
    return os.environ.get("DATACYCLE_NODE_BINARY") or shutil.which("node")


def _gateway_host() -> str:
    host = config.GATEWAY_LISTEN[0].host
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _layer_code_locations(function_version: FunctionVersion) -> list[Path]:
    return [
        layer.code.get_unzipped_code_location()
        for layer in function_version.config.layers
        if layer.code is not None
    ]


def _node_path(function_version: FunctionVersion) -> str:
    paths: list[str] = []
    for location in _layer_code_locations(function_version):
        paths.append(str(location / "nodejs" / "node_modules"))
        paths.append(str(location / "nodejs" / "node22" / "node_modules"))
    return os.pathsep.join(paths)


def _python_binary(runtime: str) -> str | None:
    """The host's Python of the runtime's version (python3.11 for python3.11), outside any venv."""
    version = runtime.removeprefix("python")
    base = getattr(sys, "_base_executable", sys.executable)
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version and os.path.exists(base):
        return base
    return shutil.which(f"python{version}")


def _runtime_command(function_version: FunctionVersion, code_location: Path) -> tuple[list[str], dict[str, str]]:
    """The runtime process of a non-Node.js function, and the environment it needs."""
    runtime = function_version.config.runtime or ""
    handler = function_version.config.handler or ""
    layers = _layer_code_locations(function_version)
    if runtime.startswith("python"):
        python = _python_binary(runtime)
        if not python:
            raise LambdaRuntimeException(
                f"{function_version.id.function_name} uses {runtime}: install {runtime.replace('python', 'Python ')} on this machine"
            )
        ric = os.environ.get("DATACYCLE_PYTHON_RUNTIME_PATH", "")
        paths = [str(code_location)] + [str(layer / "python") for layer in layers] + ([ric] if ric else [])
        # -S: no site-packages of the host; the function sees its code, its layers and the client.
        return [python, "-S", "-m", "awslambdaric", handler], {"PYTHONPATH": os.pathsep.join(paths)}
    if runtime.startswith("provided"):
        for folder in [code_location, *layers]:
            if (folder / "bootstrap").is_file():
                return [str(folder / "bootstrap")], {"LAMBDA_RUNTIME_DIR": str(folder)}
        raise LambdaRuntimeException(f"{function_version.id.function_name}: no bootstrap in its code or layers")
    raise LambdaRuntimeException(
        f"node-process executor runs Node.js, Python and custom runtimes; "
        f"{function_version.id.function_name} uses runtime '{runtime}'"
    )


class NodeProcessRuntimeExecutor(RuntimeExecutor):
    """One execution environment = one supervisor process (which keeps one worker)."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = ExecutorEndpoint(
            self.id, container_address="127.0.0.1", container_port=self.port
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.log_lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)

    # lifecycle -------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        runtime = self.function_version.config.runtime or ""
        node = _node_binary()
        if not node:
            raise LambdaRuntimeException("node-process executor: no `node` binary on PATH")

        self.executor_endpoint.start()
        code_location = self.function_version.config.code.get_unzipped_code_location()
        environment = {k: os.environ[k] for k in INHERITED_HOST_VARIABLES if k in os.environ}
        environment.update({k: str(v) for k, v in env_vars.items()})
        environment.update(
            {
                "LAMBDA_TASK_ROOT": str(code_location),
                "NODE_PATH": _node_path(self.function_version),
                "DATACYCLE_EXECUTOR_PORT": str(self.port),
                "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.port}",
            }
        )
        if not runtime.startswith("nodejs"):
            command, extra = _runtime_command(self.function_version, Path(code_location))
            environment.update(extra)
            environment["_HANDLER"] = self.function_version.config.handler or ""
            environment["DATACYCLE_RUNTIME_COMMAND"] = json.dumps(command)
        LOG.debug("Starting %s for %s", SUPERVISOR, self.function_version.qualified_arn)
        self.process = subprocess.Popen(
            [node, str(SUPERVISOR)],
            cwd=str(code_location),
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() ends the worker too
        )
        threading.Thread(target=self._pump_output, daemon=True).start()
        threading.Thread(target=self._watch_exit, daemon=True).start()
        self.executor_endpoint.wait_for_startup()

    def stop(self) -> None:
        process = self.process
        if process and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:  # the endpoint may never have started
            LOG.debug("Executor endpoint %s shutdown: %s", self.id, error)

    # process output --------------------------------------------------------------------

    def _pump_output(self) -> None:
        assert self.process and self.process.stdout
        name = self.function_version.id.function_name
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.log_lines.append(line)
            LOG.debug("[lambda %s] %s", name, line)

    def _watch_exit(self) -> None:
        """A supervisor that dies before it is ready must not leave LocalStack waiting."""
        assert self.process
        code = self.process.wait()
        future = self.executor_endpoint.startup_future
        if future is not None and not future.done():
            message = f"Node.js supervisor exited with code {code} before ready:\n" + self.get_logs()
            future.set_exception(StatusErrorException(message, payload=message.encode()))

    # addresses ---------------------------------------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return _gateway_host()

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{_gateway_host()}:{port}{NAMESPACE}/{self.id}"

    def invoke(self, payload: dict[str, str]):
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        return "\n".join(self.log_lines)

    # versions ----------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            if layer.code is not None:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # Unzipped code is LocalStack's cache, removed by LocalStack itself.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        if not _node_binary():
            LOG.error("node-process executor: `node` is not on PATH; Lambda functions cannot run")
            return False
        return True
