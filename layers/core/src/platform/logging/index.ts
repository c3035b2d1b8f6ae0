export { createLogger, type LogLevel, type Logger } from './logger';
