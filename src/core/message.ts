/**
 * The accepted message as Postline stores it: a template (which may hold %%Field%% placeholders)
 * plus one recipient row per delivery. A bulk merge is one template and N recipient rows; the
 * per-recipient message is rendered at delivery time, never N bodies at accept time.
 */
export interface MailAddress {
  email: string;
  name: string | null;
}
export interface MailHeader {
  name: string;
  value: string;
}
export interface MailAttachment {
  name: string;
  contentType: string;
  contentId: string | null;
  /** base64, validated at accept time */
  content: string;
  headers: MailHeader[];
}
export interface MergeField {
  field: string;
  value: string;
}
export interface KeyValue {
  key: string;
  value: string;
}

export interface MessageTemplate {
  from: MailAddress;
  replyTo: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  ampBody: string | null;
  charset: string | null;
  headers: MailHeader[];
  attachments: MailAttachment[];
  messageId: string | null;
  mailingId: string | null;
  /** Global merge rows; per-recipient rows live on the recipient. */
  globalMerge: MergeField[];
  /**
   * A message submitted as MIME (SMTP relay): delivered as submitted, with only trace and DKIM
   * headers added; the fields above then hold what was read from its headers (for search and
   * events). The bytes as received (any charset, 8-bit included; line ends normalised to CRLF):
   * stored as bytes, never as text. Absent or null for Injection API messages.
   */
  rawMime?: Buffer | null;
}

export type RecipientKind = 'to' | 'cc' | 'bcc' | 'merge';

export interface NewRecipient {
  id: string;
  address: string;
  kind: RecipientKind;
  /** The PerMessage row of a merge send; null for a basic send. */
  merge: MergeField[] | null;
  /** MailingId and MessageId as rendered for this recipient (they may hold placeholders). */
  mailingId: string | null;
  messageId: string | null;
}

export interface NewMessage {
  id: string;
  serverId: number;
  createdAt: number;
  source: 'api' | 'smtp';
  template: MessageTemplate;
  isMerge: boolean;
  sizeBytes: number;
  metadata: KeyValue[];
  tags: string[];
  recipients: NewRecipient[];
}

/** `sandboxed`: a sandbox-mode server's recipient, processed and evented but never sent. */
export const RECIPIENT_STATUSES = ['queued', 'delivering', 'deferred', 'delivered', 'failed', 'suppressed', 'sandboxed'] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];
