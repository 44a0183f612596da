/** What `postline serve --roles` can run; every one by default (docs/architecture.md, One program, several roles). */
export const ROLES = ['api', 'smtp', 'delivery', 'webhooks'] as const;
export type Role = (typeof ROLES)[number];
