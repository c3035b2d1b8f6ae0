export { handleApiRequest, type ApiContext } from './routes';
export { Problem, type ApiRequest, type ApiResponse } from './http';
export { openApiDocument } from './openapi';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, STATEMENT_TIMEOUT_MS } from './rows';
