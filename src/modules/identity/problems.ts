import { conflict, Problem, tooManyRequests } from '../../kernel/http/problem.ts';
import type { FieldProblem } from './service.ts';

/** Identity's error types, named once; the kernel renders them as problem+json. */

/** One answer for an unknown email and a wrong password, so the response does not reveal which. */
export const invalidCredentials = () =>
  new Problem({ status: 401, type: 'invalid-credentials', title: 'Not authenticated', detail: 'Email or password is incorrect' });

export const invalidRefreshToken = () =>
  new Problem({ status: 401, type: 'invalid-refresh-token', title: 'Not authenticated', detail: 'The refresh token is not valid; sign in again' });

export const accountLocked = (retryAfterSeconds: number) => {
  const problem = tooManyRequests(`Too many failed sign-ins for this account; try again in ${retryAfterSeconds} s`, retryAfterSeconds);
  return new Problem({ status: 429, type: 'account-locked', title: problem.title, detail: problem.detail, headers: problem.headers });
};

export const weakPassword = (errors: FieldProblem[]) =>
  new Problem({ status: 400, type: 'weak-password', title: 'Invalid input', detail: 'The password is too weak', errors });

export const emailTaken = () => conflict('email-taken', 'An account with this email already exists');

export const wrongCurrentPassword = () =>
  new Problem({ status: 403, type: 'wrong-password', title: 'Forbidden', detail: 'The current password is not correct' });

export const lastAdmin = () => conflict('last-admin', 'This is the last admin: grant admin to someone else first');
