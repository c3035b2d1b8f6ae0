// Supervisor of one Lambda execution environment, started by the node-process executor.
//
// It plays the part of LocalStack's Go `init` in its Docker image: it keeps one worker process
// that has loaded the handler, accepts `POST /invoke` from LocalStack on a loopback port, and
// reports through LocalStack's callbacks (status/ready, status/error, invocations/<id>/logs,
// invocations/<id>/response, invocations/<id>/error). A timed-out or crashed worker is killed
// and replaced, so the next invocation gets a fresh runtime, as on AWS.
//
// Other runtimes (Python, custom runtimes): DATACYCLE_RUNTIME_COMMAND names the runtime's own
// process (AWS's Python runtime interface client, a `bootstrap`), which talks to the Lambda
// Runtime API that the supervisor serves on the same port (AWS_LAMBDA_RUNTIME_API).
import { fork, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const mode = process.argv[2] === 'worker' ? 'worker' : 'supervisor';
if (mode === 'worker') await runWorker();
else runSupervisor();

// ------------------------------------------------------------------------------------------
// supervisor

function runSupervisor() {
  const env = process.env;
  const runtimeEndpoint = required('LOCALSTACK_RUNTIME_ENDPOINT');
  const runtimeId = required('LOCALSTACK_RUNTIME_ID');
  const port = Number(required('DATACYCLE_EXECUTOR_PORT'));
  const timeoutSeconds = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 3);
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 128);

  let worker = null;
  let workerReady = null; // promise resolved when the current worker has loaded the handler
  let current = null; // { requestId, logs: string[], timer, started }
  let announcedReady = false;
  // Runtime API mode: the runtime's command, its pending `next` request, the event it awaits.
  const runtimeCommand = env.DATACYCLE_RUNTIME_COMMAND ? JSON.parse(env.DATACYCLE_RUNTIME_COMMAND) : null;
  let waitingNext = null;
  let pendingEvent = null;
  let runtimeStarted = null; // resolves workerReady at the runtime's first `next`

  function required(name) {
    const value = env[name];
    if (!value) {
      console.error(`supervisor: environment variable ${name} is missing`);
      process.exit(2);
    }
    return value;
  }

  async function post(path, body) {
    try {
      await fetch(`${runtimeEndpoint}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    } catch (error) {
      console.error(`supervisor: callback ${path} failed: ${error.message}`);
    }
  }

  function relay(chunk) {
    const text = chunk.toString('utf8');
    process.stdout.write(text);
    if (current) current.logs.push(text);
  }

  function startWorker() {
    if (runtimeCommand) return startRuntimeProcess();
    worker = fork(fileURLToPath(import.meta.url), ['worker'], {
      env,
      silent: true,
      // A heap limit is the closest a process gets to the function's memory setting.
      execArgv: [`--max-old-space-size=${Math.max(64, memoryMb)}`],
    });
    worker.stdout.on('data', relay);
    worker.stderr.on('data', relay);
    const thisWorker = worker;
    workerReady = new Promise((resolve, reject) => {
      thisWorker.on('message', (message) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error') reject(message.error);
        else if (message.type === 'result' || message.type === 'error') finish(message);
      });
      thisWorker.on('exit', whenExited(thisWorker, reject));
    });
    workerReady.catch(() => {}); // observed by whoever awaits it
  }

  /** A worker or runtime that exits: not ready, and the invocation it held fails. */
  function whenExited(process, reject) {
    return (code, signal) => {
      const reason = {
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited with ${signal ?? `code ${code}`}`,
      };
      reject(reason);
      if (worker === process) {
        worker = null;
        waitingNext = null;
        if (current) finish({ type: 'error', error: reason });
      }
    };
  }

  function startRuntimeProcess() {
    const child = spawn(runtimeCommand[0], runtimeCommand.slice(1), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = child;
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    waitingNext = null;
    workerReady = new Promise((resolve, reject) => {
      runtimeStarted = { resolve, reject };
      child.on('error', (error) => reject({ errorType: 'Runtime.InvalidEntrypoint', errorMessage: error.message }));
      child.on('exit', whenExited(child, reject));
    });
    workerReady.catch(() => {});
  }

  /** Hands an event to the runtime: now if it waits in `next`, else at its next `next`. */
  function deliverToRuntime(event) {
    if (!waitingNext) {
      pendingEvent = event;
      return;
    }
    const res = waitingNext;
    waitingNext = null;
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': event.requestId,
      'lambda-runtime-deadline-ms': String(event.deadline),
      'lambda-runtime-invoked-function-arn': event.functionArn ?? '',
      'lambda-runtime-trace-id': event.traceId ?? '',
    });
    res.end(event.payload);
  }

  /** The Lambda Runtime API, as the runtime process calls it. */
  function runtimeApi(req, res, body) {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      runtimeStarted?.resolve();
      waitingNext = res;
      if (pendingEvent) {
        const event = pendingEvent;
        pendingEvent = null;
        deliverToRuntime(event);
      }
      return;
    }
    const match = /^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|init\/error)$/.exec(url);
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    const text = body.toString('utf8');
    if (!match[1]) {
      runtimeStarted?.reject(parseError(text, 'Runtime.InitError'));
      return;
    }
    if (!current || current.requestId !== match[1]) return; // a late answer to a timed-out call
    if (match[2] === 'response') finish({ type: 'result', payload: text });
    else finish({ type: 'error', error: parseError(text, 'Error') });
  }

  function parseError(text, fallbackType) {
    try {
      return JSON.parse(text);
    } catch {
      return { errorType: fallbackType, errorMessage: text };
    }
  }

  async function finish(message) {
    const invocation = current;
    if (!invocation) return;
    current = null;
    clearTimeout(invocation.timer);
    const duration = Number(process.hrtime.bigint() - invocation.started) / 1e6;
    const report =
      `END RequestId: ${invocation.requestId}\n` +
      `REPORT RequestId: ${invocation.requestId}\tDuration: ${duration.toFixed(2)} ms\t` +
      `Billed Duration: ${Math.ceil(duration)} ms\tMemory Size: ${memoryMb} MB\n`;
    process.stdout.write(report);
    invocation.logs.push(report);
    await post(`/invocations/${invocation.requestId}/logs`, { logs: invocation.logs.join('') });
    if (message.type === 'result') {
      await post(`/invocations/${invocation.requestId}/response`, message.payload);
    } else {
      await post(`/invocations/${invocation.requestId}/error`, message.error);
    }
  }

  function killWorker() {
    if (worker) {
      const dying = worker;
      worker = null;
      dying.kill('SIGKILL');
    }
  }

  async function invoke(request) {
    const requestId = request['invoke-id'];
    const started = process.hrtime.bigint();
    current = { requestId, logs: [], started, timer: null };
    const start = `START RequestId: ${requestId} Version: ${env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST'}\n`;
    process.stdout.write(start);
    current.logs.push(start);
    current.timer = setTimeout(() => {
      killWorker();
      finish({
        type: 'error',
        error: {
          errorType: 'Sandbox.Timedout',
          errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
        },
      });
    }, timeoutSeconds * 1000);

    if (!worker) startWorker();
    try {
      await workerReady;
    } catch (error) {
      await finish({ type: 'error', error });
      return;
    }
    if (!current || current.requestId !== requestId || !worker) return; // timed out while starting
    const deadline = Date.now() + timeoutSeconds * 1000;
    if (runtimeCommand) {
      deliverToRuntime({
        requestId,
        functionArn: request['invoked-function-arn'],
        traceId: request['trace-id'],
        payload: request.payload,
        deadline,
      });
      return;
    }
    worker.send({
      type: 'invoke',
      requestId,
      functionArn: request['invoked-function-arn'],
      traceId: request['trace-id'],
      payload: request.payload,
      deadline,
    });
  }

  const server = createServer((req, res) => {
    if (runtimeCommand && req.url?.startsWith('/2018-06-01/runtime/')) {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => runtimeApi(req, res, Buffer.concat(chunks)));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/invoke') {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let request;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end('invalid invoke payload');
        return;
      }
      if (current) {
        res.writeHead(409).end('an invocation is already running');
        return;
      }
      res.writeHead(200).end();
      invoke(request);
    });
  });

  server.listen(port, '127.0.0.1', async () => {
    startWorker();
    try {
      await workerReady;
      announcedReady = true;
      await post(`/status/${runtimeId}/ready`, {});
    } catch (error) {
      await post(`/status/${runtimeId}/error`, error);
      process.exit(1);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      killWorker();
      server.close();
      process.exit(announcedReady ? 0 : 1);
    });
  }
}

// ------------------------------------------------------------------------------------------
// worker

async function runWorker() {
  const env = process.env;
  let requestId = '';
  patchConsole(() => requestId);

  let handler;
  try {
    handler = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env._HANDLER ?? 'index.handler');
  } catch (error) {
    process.send({ type: 'init-error', error: toLambdaError(error, 'Runtime.ImportModuleError') });
    return;
  }
  process.send({ type: 'ready' });

  process.on('message', async (message) => {
    if (message.type !== 'invoke') return;
    requestId = message.requestId;
    const context = makeContext(message, env);
    try {
      const event = parseEvent(message.payload);
      const result = await callHandler(handler, event, context);
      process.send({ type: 'result', payload: JSON.stringify(result === undefined ? null : result) });
    } catch (error) {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.send({ type: 'error', error: toLambdaError(error, 'Error') });
    } finally {
      requestId = '';
    }
  });
}

async function loadHandler(taskRoot, handlerSpec) {
  const dot = handlerSpec.lastIndexOf('.');
  const modulePath = handlerSpec.slice(0, dot);
  const exportName = handlerSpec.slice(dot + 1);
  const { existsSync } = await import('node:fs');
  const { pathToFileURL } = await import('node:url');
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => `${taskRoot}/${modulePath}${ext}`);
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) {
    const error = new Error(`Cannot find module '${modulePath}' in ${taskRoot} (tried .js, .mjs, .cjs)`);
    error.name = 'Runtime.ImportModuleError';
    throw error;
  }
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== 'function') {
    const error = new Error(`${modulePath}.${exportName} is not a function`);
    error.name = 'Runtime.HandlerNotFound';
    throw error;
  }
  return handler;
}

function callHandler(handler, event, context) {
  if (handler.length < 3) return handler(event, context);
  // Callback-style handler (event, context, callback).
  return new Promise((resolve, reject) => {
    const maybePromise = handler(event, context, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    if (maybePromise && typeof maybePromise.then === 'function') maybePromise.then(resolve, reject);
  });
}

function parseEvent(payload) {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

function makeContext(message, env) {
  return {
    awsRequestId: message.requestId,
    invokedFunctionArn: message.functionArn,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
}

function toLambdaError(error, fallbackType) {
  if (error instanceof Error) {
    return {
      errorType: error.name && error.name !== 'Error' ? error.name : fallbackType,
      errorMessage: error.message,
      stackTrace: (error.stack ?? '')
        .split('\n')
        .slice(1)
        .map((line) => line.trim()),
    };
  }
  return { errorType: fallbackType, errorMessage: String(error) };
}

function patchConsole(currentRequestId) {
  // Same line shape as the AWS Node.js runtime: time, request id, level, message.
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG' };
  for (const [method, level] of Object.entries(levels)) {
    const original = console[method].bind(console);
    console[method] = (...args) =>
      original(`${new Date().toISOString()}\t${currentRequestId() || 'undefined'}\t${level}\t`, ...args);
  }
}
