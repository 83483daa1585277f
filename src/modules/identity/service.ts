import { can, ROLES, type Role } from '../../kernel/auth/permissions.ts';
import type { Principal } from '../../kernel/http/auth.ts';

/** Identity's rules as plain functions: no SQL, no HTTP. */

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * Passwords that meet the length/letter/digit rule and still top every breach list. Short on purpose:
 * the rule plus rate limiting does the heavy lifting; this catches the few a guesser tries first.
 */
const COMMON_PASSWORDS = new Set([
  'password1', 'password12', 'password123', 'password1234', 'passw0rd', 'p@ssw0rd', 'p@ssword1', 'pa55word',
  'qwerty123', 'qwerty1234', 'qwerty12', 'qwertyuiop1', '1qaz2wsx', 'zaq12wsx', '1q2w3e4r', '1q2w3e4r5t',
  'q1w2e3r4', 'q1w2e3r4t5', 'a1b2c3d4', 'abc12345', 'abcd1234', 'abc123456', 'a12345678', '12345678a',
  '123456789a', 'iloveyou1', 'iloveyou2', 'welcome1', 'welcome123', 'letmein1', 'letmein123', 'admin123',
  'admin1234', 'administrator1', 'trustno1', 'sunshine1', 'football1', 'baseball1', 'monkey123', 'dragon123',
  'princess1', 'superman1', 'batman123', 'michael1', 'shadow123', 'charlie1', 'master123', 'secret123',
  'changeme1', 'changeme123', 'test1234', 'test12345', 'testing123', 'hello123', 'hello1234', 'login123',
  'starwars1', 'whatever1', 'computer1', 'internet1', 'freedom1', 'jordan23', 'liverpool1', 'chelsea1',
  'summer2024', 'summer2025', 'summer2026', 'winter2024', 'winter2025', 'winter2026', 'spring2025', 'autumn2025',
  'bazaar123', 'bazaar2026', 'shopping1', 'password2026', 'password2025', 'password2024',
]);

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * The password rule (documented in docs/identity.md): 8 to 256 characters, at least one letter and one
 * digit, not a well-known common password, and not the account's own email or its local part.
 */
export function passwordProblems(password: string, email?: string): FieldProblem[] {
  const problems: string[] = [];
  if ([...password].length < PASSWORD_MIN_LENGTH) problems.push(`must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if ([...password].length > PASSWORD_MAX_LENGTH) problems.push(`must be at most ${PASSWORD_MAX_LENGTH} characters`);
  if (!/\p{L}/u.test(password)) problems.push('must contain a letter');
  if (!/\p{Nd}/u.test(password)) problems.push('must contain a digit');
  const lowered = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lowered)) problems.push('is too common');
  if (email) {
    const mail = email.toLowerCase();
    const local = mail.split('@')[0] ?? '';
    if (lowered === mail || lowered === local) problems.push('must not be your email address');
  }
  return problems.map((message) => ({ path: '/password', message }));
}

/** The form emails are compared in. Stored as the user typed it, compared case-insensitively. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Collapses inner whitespace and trims: "  Ada   Lovelace " -> "Ada Lovelace". */
export function cleanText(value: string): string {
  return value.replace(/\s+/gu, ' ').trim();
}

export function anonymisedEmail(userId: string): string {
  return `deleted+${userId}@invalid`;
}
export const ANONYMISED_NAME = 'Deleted user';

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Roles in a stable order (the order of ROLES), without repeats. */
export function orderRoles(roles: readonly string[]): Role[] {
  return ROLES.filter((r) => roles.includes(r));
}

/**
 * Who may see a user record: the user, or staff allowed to read any user. Everyone else is told the
 * record does not exist (404), never that it is forbidden.
 */
export function canSeeUser(principal: Principal, userId: string): boolean {
  return principal.userId === userId || can(principal.roles, 'users:read-any');
}

export function canEditUser(principal: Principal, userId: string): boolean {
  return principal.userId === userId || can(principal.roles, 'users:manage');
}

/** A write to someone else's record is an admin act and goes to the audit log. */
export function isActingOnOther(principal: Principal, userId: string): boolean {
  return principal.userId !== userId;
}

/** Removing admin from the last active admin would leave nobody able to grant it back. */
export function removesLastAdmin(previousRoles: readonly string[], nextRoles: readonly string[], activeAdminCount: number): boolean {
  return previousRoles.includes('admin') && !nextRoles.includes('admin') && activeAdminCount <= 1;
}

export type SellerStatus = 'active' | 'suspended';

/** Suspending a suspended seller (or reinstating an active one) changes nothing and emits nothing. */
export function sellerTransition(current: SellerStatus, wanted: SellerStatus): 'change' | 'unchanged' {
  return current === wanted ? 'unchanged' : 'change';
}

export const MAX_ADDRESSES_PER_USER = 50;

/** ISO 3166-1 alpha-2, officially assigned codes. */
const COUNTRIES = new Set(
  ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO ' +
    'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR ' +
    'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO ' +
    'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV ' +
    'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '),
);

/** Upper-cases a country code; undefined when it is not an assigned ISO 3166-1 alpha-2 code. */
export function countryCode(value: string): string | undefined {
  const code = value.trim().toUpperCase();
  return COUNTRIES.has(code) ? code : undefined;
}

/**
 * Which address is the default after a change, so that a user with any address has exactly one:
 * the one just marked default; else the current default unless it was just unmarked; else the newest
 * other address; else (it is the only one) the unmarked one stays default.
 */
export function defaultAddressAfter(
  addresses: readonly { id: string; isDefault: boolean }[],
  change: { marked?: string; unmarked?: string } = {},
): string | undefined {
  if (change.marked && addresses.some((a) => a.id === change.marked)) return change.marked;
  const current = addresses.find((a) => a.isDefault && a.id !== change.unmarked);
  if (current) return current.id;
  const newestFirst = [...addresses].sort((a, b) => (a.id < b.id ? 1 : -1));
  return (newestFirst.find((a) => a.id !== change.unmarked) ?? newestFirst[0])?.id;
}
