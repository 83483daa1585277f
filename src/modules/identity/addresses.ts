import type { SecretBox } from '../../kernel/crypto.ts';
import type { Db } from '../../kernel/db/database.ts';
import { badRequest, conflict, notFound } from '../../kernel/http/problem.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import type { AddressInputBody } from './schemas.ts';
import { cleanText, countryCode, defaultAddressAfter, MAX_ADDRESSES_PER_USER } from './service.ts';
import * as store from './store.ts';
import type { AddressFields, AddressRecord } from './store.ts';

/**
 * Saved addresses. Street lines and phone are personal data that a database dump should not reveal:
 * they are sealed with AES-256-GCM (ctx.secrets) before they reach SQL and opened on the way out.
 */

type AddressValues = Omit<AddressInputBody, 'isDefault'>;

function optionalText(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return cleanText(value) || null;
}

function requiredText(value: string, path: string): string {
  const cleaned = cleanText(value);
  if (!cleaned) throw badRequest(`${path.slice(1)} must not be blank`, [{ path, message: 'must not be blank' }]);
  return cleaned;
}

function seal(values: AddressValues, secrets: SecretBox): AddressFields {
  const country = countryCode(values.country);
  if (!country) throw badRequest('Unknown country code', [{ path: '/country', message: 'must be an ISO 3166-1 alpha-2 country code' }]);
  const line2 = optionalText(values.line2);
  const phone = optionalText(values.phone);
  return {
    label: optionalText(values.label),
    name: requiredText(values.name, '/name'),
    line1Sealed: secrets.encrypt(requiredText(values.line1, '/line1')),
    line2Sealed: line2 === null ? null : secrets.encrypt(line2),
    city: requiredText(values.city, '/city'),
    region: optionalText(values.region),
    postalCode: requiredText(values.postalCode, '/postalCode'),
    country,
    phoneSealed: phone === null ? null : secrets.encrypt(phone),
  };
}

function open(address: AddressRecord, secrets: SecretBox): AddressValues {
  return {
    label: address.label,
    name: address.name,
    line1: secrets.decrypt(address.line1Sealed),
    line2: address.line2Sealed === null ? null : secrets.decrypt(address.line2Sealed),
    city: address.city,
    region: address.region,
    postalCode: address.postalCode,
    country: address.country,
    phone: address.phoneSealed === null ? null : secrets.decrypt(address.phoneSealed),
  };
}

async function applyDefault(tx: Db, userId: string, change: { marked?: string; unmarked?: string }): Promise<void> {
  const all = await store.listAddresses(tx, userId);
  await store.setDefaultAddress(tx, userId, defaultAddressAfter(all, change));
}

export async function createAddress(ctx: ModuleContext, userId: string, input: AddressInputBody): Promise<AddressRecord> {
  const fields = seal(input, ctx.secrets);
  const id = newId();
  return ctx.transaction(async (tx) => {
    // Locking the user serialises two concurrent saves, so they agree on the count and the default.
    await store.lockUser(tx, userId);
    const existing = await store.listAddresses(tx, userId);
    if (existing.length >= MAX_ADDRESSES_PER_USER) {
      throw conflict('too-many-addresses', `A user may keep at most ${MAX_ADDRESSES_PER_USER} addresses`);
    }
    await store.insertAddress(tx, userId, id, fields);
    await applyDefault(tx, userId, input.isDefault ? { marked: id } : {});
    return (await store.findAddress(tx, userId, id))!;
  });
}

export async function updateAddress(ctx: ModuleContext, userId: string, id: string, patch: Partial<AddressInputBody>): Promise<AddressRecord> {
  return ctx.transaction(async (tx) => {
    await store.lockUser(tx, userId);
    const current = await store.findAddress(tx, userId, id);
    if (!current) throw notFound('Address');
    const { isDefault, ...changes } = patch;
    await store.replaceAddress(tx, userId, id, seal({ ...open(current, ctx.secrets), ...changes }, ctx.secrets));
    if (isDefault !== undefined) await applyDefault(tx, userId, isDefault ? { marked: id } : { unmarked: id });
    return (await store.findAddress(tx, userId, id))!;
  });
}

export async function removeAddress(ctx: ModuleContext, userId: string, id: string): Promise<void> {
  await ctx.transaction(async (tx) => {
    await store.lockUser(tx, userId);
    const current = await store.findAddress(tx, userId, id);
    if (!current) throw notFound('Address');
    await store.deleteAddress(tx, userId, id);
    await applyDefault(tx, userId, {});
  });
}
