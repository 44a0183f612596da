import type { MergeField } from '../core/message.js';

/** What the expander needs of one member of the list. */
export interface ListMember {
  contactId: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
  unsubscribed: boolean;
  /** Custom field values by field name. */
  fields: ReadonlyMap<string, string>;
}

/**
 * The contact as a merge row: %%DeliveryAddress%% and %%EmailAddress%% (the address),
 * %%FirstName%%, %%LastName%%, %%RecipientName%% ("First Last"), %%ContactId%% and every custom
 * field of the server by its name. A value the contact lacks is empty, never the placeholder left
 * in the text.
 */
export function contactMergeRow(m: ListMember, fieldNames: readonly string[]): MergeField[] {
  const first = m.firstName ?? '';
  const last = m.lastName ?? '';
  return [
    { field: 'DeliveryAddress', value: m.email },
    { field: 'EmailAddress', value: m.email },
    { field: 'FirstName', value: first },
    { field: 'LastName', value: last },
    { field: 'RecipientName', value: `${first} ${last}`.trim() },
    { field: 'ContactId', value: String(m.contactId) },
    ...fieldNames.map((name) => ({ field: name, value: m.fields.get(name) ?? '' })),
  ];
}
