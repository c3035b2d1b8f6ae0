"""datacycle's LocalStack runtime executor: Node.js Lambda functions as local processes."""
