/** Query parameters whose values are credentials, by the names APIs give them. */
const SECRET_PARAMETER =
  /^(api[-_]?key|apikey|key|token|access[-_]?token|id[-_]?token|secret|client[-_]?secret|password|passwd|pwd|signature|sig|auth|authorization|x-amz-signature|x-amz-credential|x-amz-security-token)$/i;

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)\]]+/gi;

/** A URL with its user info and the values of its credential parameters replaced by ***. */
function redactUrl(match: string): string {
  // Punctuation that ends a sentence ends the URL too ("GET https://…?token=x: 500").
  const trailing = /[.,:;!?]+$/.exec(match)?.[0] ?? '';
  const text = match.slice(0, match.length - trailing.length);
  return redactUrlText(text) + trailing;
}

function redactUrlText(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.username || url.password) {
    url.username = '***';
    url.password = '';
    changed = true;
  }
  for (const name of [...url.searchParams.keys()])
    if (SECRET_PARAMETER.test(name)) {
      url.searchParams.set(name, '***');
      changed = true;
    }
  return changed ? url.toString().replace(/%2A%2A%2A/g, '***') : text;
}

/**
 * A text for anonymous readers: credentials that an error or a detail may carry (a source URL
 * with its API key, a bearer token, a connection string's password) replaced by ***.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_IN_TEXT, redactUrl)
    .replace(/\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1$2***');
}

/** The same, through every string of a JSON value. */
export function redactJson<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map(redactJson) as T;
  if (value && typeof value === 'object' && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactJson(inner)])) as T;
  return value;
}
