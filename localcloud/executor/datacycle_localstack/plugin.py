from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class NodeProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with LAMBDA_RUNTIME_EXECUTOR=node-process."""

    name = "node-process"

    def load(self, *args, **kwargs):
        from datacycle_localstack.executor import NodeProcessRuntimeExecutor

        return NodeProcessRuntimeExecutor
