import { describe, expect, it } from 'vitest';
import { emailMessage, webhookMessage, type RaisedAlert } from '@datacycle/core';

const alert: RaisedAlert = {
  id: '42',
  kind: 'test-failed',
  severity: 'error',
  subject: 'irve_points',
  runId: '6b5b5c62-9d6c-46cc-ae27-93436a9b3b3a',
  title: 'data tests failed: irve_points not published',
  message: 'irve_points: not_null(code_departement) — 2 failing rows',
  hint: 'the failing rows are sampled in ops.test_results',
};

describe('alert messages', () => {
  it('says on a webhook what failed, why, what to do and which run', () => {
    expect(webhookMessage(alert, 'territoires').text).toBe(
      [
        ':red_circle: *[territoires] data tests failed: irve_points not published*',
        'irve_points: not_null(code_departement) — 2 failing rows',
        '→ the failing rows are sampled in ops.test_results',
        'run `6b5b5c62-9d6c-46cc-ae27-93436a9b3b3a` · `datacycle run 6b5b5c62-9d6c-46cc-ae27-93436a9b3b3a`',
      ].join('\n'),
    );
    expect(
      webhookMessage({ ...alert, severity: 'warning', hint: undefined, runId: undefined }, 'p').text,
    ).toBe(
      ':warning: *[p] data tests failed: irve_points not published*\nirve_points: not_null(code_departement) — 2 failing rows',
    );
  });

  it('puts the failure in an email subject and the rest in its body', () => {
    const mail = emailMessage({ ...alert, severity: 'warning' }, 'territoires');
    expect(mail.subject).toBe('[territoires] (warning) data tests failed: irve_points not published');
    expect(mail.text).toBe(
      [
        'irve_points: not_null(code_departement) — 2 failing rows',
        '',
        'What to do: the failing rows are sampled in ops.test_results',
        'Run: 6b5b5c62-9d6c-46cc-ae27-93436a9b3b3a (datacycle run 6b5b5c62-9d6c-46cc-ae27-93436a9b3b3a)',
        'Severity: warning · kind: test-failed · irve_points',
      ].join('\n'),
    );
  });
});
