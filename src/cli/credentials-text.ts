import type { Credentials } from '../accept/bootstrap.js';

/**
 * The first credentials as `postline init` and the first start print them: each key with the APIs
 * it opens and how to send it, so a new user knows which key goes where. `baseUrl`: where the
 * HTTP API answers, when known (the first start knows its port; init does not).
 */
export function credentialsLines(c: Credentials, baseUrl?: string): string[] {
  const at = (path: string): string => `${baseUrl ?? ''}${path}`;
  return [
    `ServerId: ${c.serverId}`,
    `API key:  ${c.apiKey}`,
    `  (injection key: sends mail through the Injection API, POST ${at('/api/v1/email')} with Authorization: Bearer,`,
    `   and SMTP AUTH with the ServerId as user name)`,
    `Account key: ${c.accountKey}`,
    `  (manages every server of the account: the v2 API at ${at('/v2/...')} (also ${at('/api/v2/...')}) with`,
    '   Authorization: Bearer, or Basic with any user name and the key as password; the Marketing API at',
    `   ${at('/marketing/v1/...')} with Basic, the ServerId as user name and the key as password)`,
  ];
}
