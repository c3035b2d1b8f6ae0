import { describe, expect, it } from 'vitest';
import { redactJson, redactSecrets } from '../../layers/core/src/services/api/redact';

describe('redactSecrets', () => {
  it('hides credentials in URLs: user info and key, token, signature parameters', () => {
    expect(
      redactSecrets(
        'GET https://user:pa55@api.example.org/v1/items?apikey=K3Y&page=2 failed after 5 attempts',
      ),
    ).toBe('GET https://***@api.example.org/v1/items?apikey=***&page=2 failed after 5 attempts');
    expect(redactSecrets('s3 https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Credential=AKIA')).toBe(
      's3 https://b.s3.amazonaws.com/k?X-Amz-Signature=***&X-Amz-Credential=***',
    );
    expect(redactSecrets('connect postgres://loader:s3cret@db.internal:5432/datacycle refused')).toBe(
      'connect postgres://***@db.internal:5432/datacycle refused',
    );
  });

  it('hides bearer tokens and leaves ordinary text and URLs alone', () => {
    expect(redactSecrets('sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y')).toBe(
      'sent Authorization: Bearer ***',
    );
    const plain =
      'row 12, field code_insee: "7501" does not match ^[0-9]{5}$; see https://example.org/a?page=3';
    expect(redactSecrets(plain)).toBe(plain);
  });

  it('goes through every string of a JSON value', () => {
    expect(
      redactJson({
        error: 'GET https://x.org/?token=T0K3N: 500',
        steps: [{ details: { url: 'https://u:p@x.org/' } }],
        rows: 3,
      }),
    ).toEqual({
      error: 'GET https://x.org/?token=***: 500',
      steps: [{ details: { url: 'https://***@x.org/' } }],
      rows: 3,
    });
  });
});
