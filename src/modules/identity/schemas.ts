import { Type, type Static } from '@sinclair/typebox';
import { ROLES } from '../../kernel/auth/permissions.ts';
import type { SecretBox } from '../../kernel/crypto.ts';
import { PASSWORD_MAX_LENGTH } from './service.ts';
import type { AddressRecord, SellerProfileRecord, UserRecord } from './store.ts';

/** Identity's HTTP shapes: one TypeBox schema per shape serves validation, types and OpenAPI. */

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH });
export const PersonName = Type.String({ minLength: 1, maxLength: 100 });
export const StoreName = Type.String({ minLength: 1, maxLength: 100 });
export const RoleName = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const RefreshTokenBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const SellerProfile = Type.Object(
  {
    id: Type.String({ description: 'The seller id: the id of the user who owns the store' }),
    storeName: Type.String(),
    description: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
    suspendedReason: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Shown to the seller and to admins only' })),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'SellerProfile' },
);
export type SellerProfileView = Static<typeof SellerProfile>;

export const User = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    roles: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('deleted')]),
    createdAt: Type.String({ format: 'date-time' }),
    sellerProfile: Type.Optional(SellerProfile),
  },
  { title: 'User' },
);
export type UserView = Static<typeof User>;

export const AuthResult = Type.Object({
  user: User,
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});

const Phone = Type.String({ pattern: '^\\+?[0-9][0-9 ().-]{3,30}$' });
const ShortText = (max: number) => Type.String({ minLength: 1, maxLength: max });

export const AddressInput = Type.Object(
  {
    label: Type.Optional(Type.Union([ShortText(50), Type.Null()])),
    name: ShortText(100),
    line1: ShortText(200),
    line2: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    city: ShortText(100),
    region: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    postalCode: ShortText(20),
    country: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' }),
    phone: Type.Optional(Type.Union([Phone, Type.Null()])),
    isDefault: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AddressInputBody = Static<typeof AddressInput>;
export const AddressPatch = Type.Partial(AddressInput, { additionalProperties: false, minProperties: 1 });

export const Address = Type.Object(
  {
    id: Type.String(),
    label: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    line1: Type.String(),
    line2: Type.Union([Type.String(), Type.Null()]),
    city: Type.String(),
    region: Type.Union([Type.String(), Type.Null()]),
    postalCode: Type.String(),
    country: Type.String(),
    phone: Type.Union([Type.String(), Type.Null()]),
    isDefault: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Address' },
);
export type AddressView = Static<typeof Address>;

export function sellerView(profile: SellerProfileRecord, options: { private?: boolean } = {}): SellerProfileView {
  return {
    id: profile.userId,
    storeName: profile.storeName,
    description: profile.description,
    status: profile.status,
    ...(options.private ? { suspendedReason: profile.suspendedReason } : {}),
    createdAt: profile.createdAt.toISOString(),
  };
}

export function userView(user: UserRecord): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: user.roles,
    status: user.status,
    createdAt: user.createdAt.toISOString(),
    ...(user.sellerProfile ? { sellerProfile: sellerView(user.sellerProfile, { private: true }) } : {}),
  };
}

export function addressView(address: AddressRecord, secrets: SecretBox): AddressView {
  return {
    id: address.id,
    label: address.label,
    name: address.name,
    line1: secrets.decrypt(address.line1Sealed),
    line2: address.line2Sealed === null ? null : secrets.decrypt(address.line2Sealed),
    city: address.city,
    region: address.region,
    postalCode: address.postalCode,
    country: address.country,
    phone: address.phoneSealed === null ? null : secrets.decrypt(address.phoneSealed),
    isDefault: address.isDefault,
    createdAt: address.createdAt.toISOString(),
    updatedAt: address.updatedAt.toISOString(),
  };
}
