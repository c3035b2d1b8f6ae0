import { describe, expect, it } from 'vitest';
import { refuseLocalOnlySettings } from '../../cdk/deployment-checks';
import { testProject } from '../helpers/projects';

describe('a deployment outside the local cloud', () => {
  it('refuses allow-list entries that open loopback or link-local, and webhooks in clear', () => {
    const project = testProject([]);
    project.config.network.allow = ['127.0.0.1/32', '10.1.0.0/16'];
    project.config.webhooks.subscriptions = [
      { name: 'local', url: 'http://127.0.0.1:9000/hook', events: ['run.failed'], enabled: true },
      { name: 'internal', url: 'http://10.1.2.3/hook', events: ['run.failed'], enabled: true },
      { name: 'partner', url: 'https://partner.example.org/hook', events: ['run.failed'], enabled: true },
    ];
    expect(() => refuseLocalOnlySettings(project)).toThrow(
      'the project cannot be deployed outside the local cloud as it is:\n' +
        "  - network.allow: 127.0.0.1/32 opens loopback or link-local addresses (on AWS, the function's own sandbox and the instance metadata service): remove it; keep it for the local cloud only\n" +
        '  - webhooks.subscriptions local: http://127.0.0.1:9000/hook must use https',
    );
  });

  it('accepts a project that needs neither', () => {
    const project = testProject([]);
    project.config.network.allow = ['10.1.0.0/16'];
    project.config.webhooks.subscriptions = [];
    expect(() => refuseLocalOnlySettings(project)).not.toThrow();
  });
});
