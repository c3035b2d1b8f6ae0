import { errorMessage } from '../errors';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured logs, one JSON object a line: what CloudWatch Logs Insights and `datacycle logs` read. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
  /** The same logger with more fields on every line (a message's run id and dataset). */
  child(fields: Record<string, unknown>): Logger;
}

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Errors become their message (and name when it says something), never a stack on one line. */
function plain(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) continue;
    out[key] = value instanceof Error ? errorMessage(value) : value;
    if (value instanceof Error && value.name !== 'Error') out[`${key}Kind`] = value.name;
  }
  return out;
}

/**
 * The one logger of every function and tool. `fields` stand on every line (function, request
 * id); LOG_LEVEL (debug, info, warn, error; default info) sets the least level written.
 */
export function createLogger(
  fields: Record<string, unknown>,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  least: LogLevel = (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info',
): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, details: Record<string, unknown> = {}) => {
      if (levels[level] < (levels[least] ?? levels.info)) return;
      write(JSON.stringify({ level, time: new Date().toISOString(), ...fields, message, ...plain(details) }));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => createLogger({ ...fields, ...plain(more) }, write, least),
  };
}
