import { plainHttpAllowed, sandboxAllowEntries, type Project } from '@datacycle/core';

/**
 * What the local cloud needs and a deployment to AWS must not have: allow-list entries that
 * open the functions' own loopback or the metadata service, and webhook URLs in clear.
 */
export function refuseLocalOnlySettings(project: Project): void {
  const problems: string[] = [];
  const sandbox = sandboxAllowEntries(project.config.network.allow);
  if (sandbox.length > 0)
    problems.push(
      `network.allow: ${sandbox.join(', ')} opens loopback or link-local addresses (on AWS, the ` +
        "function's own sandbox and the instance metadata service): remove it; keep it for the local cloud only",
    );
  // Judged without the refused entries: a receiver on loopback is no reason for plain http.
  const network = { allow: project.config.network.allow.filter((entry) => !sandbox.includes(entry)) };
  for (const subscription of project.config.webhooks.subscriptions)
    if (
      new URL(subscription.url).protocol === 'http:' &&
      !plainHttpAllowed(new URL(subscription.url), network)
    )
      problems.push(`webhooks.subscriptions ${subscription.name}: ${subscription.url} must use https`);
  if (problems.length > 0)
    throw new Error(
      `the project cannot be deployed outside the local cloud as it is:\n  - ${problems.join('\n  - ')}`,
    );
}
