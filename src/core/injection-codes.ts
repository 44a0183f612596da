/**
 * The Injection API's public error codes — exactly the strings SocketLabs' client libraries know.
 * Emitting any other string breaks them (Python indexes an enum by it, Node rejects with no result),
 * so every code the API answers comes from these registries.
 */
export const POST_ERROR_CODES = [
  'Success',
  'Warning',
  'AccountDisabled',
  'InternalError',
  'InvalidAuthentication',
  'InvalidData',
  'NoMessages',
  'EmptyMessage',
  'OverQuota',
  'TooManyErrors',
  'TooManyMessages',
  'TooManyRecipients',
  'NoValidRecipients',
  'MetadataOrTagsAreTooLarge',
  'MessageTooLarge',
] as const;
export type PostErrorCode = (typeof POST_ERROR_CODES)[number];

export const MESSAGE_ERROR_CODES = [
  'Warning',
  'InvalidAttachment',
  'MessageTooLarge',
  'EmptySubject',
  'EmptyToAddress',
  'InvalidFrom',
  'NoValidBodyParts',
  'NoValidRecipients',
  'InvalidMergeData',
  'InvalidTemplateId',
  'TemplateHasNoContent',
  'MessageBodyConflict',
] as const;
export type MessageErrorCode = (typeof MESSAGE_ERROR_CODES)[number];

export type AddressErrorCode = 'InvalidAddress';

export interface AddressResult {
  EmailAddress: string;
  Accepted: boolean;
  ErrorCode: AddressErrorCode;
}
export interface MessageResult {
  Index: number;
  ErrorCode: MessageErrorCode;
  AddressResults: AddressResult[];
}
/** The response body, PascalCase and with no other property (the Java client fails on unknown ones). */
export interface InjectionResponse {
  ErrorCode: PostErrorCode;
  MessageResults: MessageResult[];
  TransactionReceipt: string | null;
}
