import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ConsoleForbiddenError } from './errors';

/** A fresh session token for one start of the console: actions carry it, a page from elsewhere cannot know it. */
export const newSessionToken = () => randomBytes(32).toString('base64url');

/** The Host values the console answers to: its loopback address and port (a rebound DNS name is refused). */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Refuses a request addressed to another host name (DNS rebinding): every request, reads included. */
export function checkHost(host: string | undefined, port: number): void {
  if (!host || !allowedHosts(port).includes(host.toLowerCase()))
    throw new ConsoleForbiddenError(`requests must be addressed to ${allowedHosts(port)[0]}, not "${host ?? ''}"`);
}

/**
 * Whether an action may run: the console is not read-only, the request comes from the console's
 * own pages (an Origin, when sent, is the console's), and it carries this start's session token.
 */
export function checkAction(request: { origin?: string; token?: string }, session: { readOnly: boolean; token: string; port: number }): void {
  if (session.readOnly) throw new ConsoleForbiddenError('this console is read-only (--read-only): actions are off');
  if (request.origin !== undefined && !allowedHosts(session.port).some((h) => request.origin === `http://${h}`))
    throw new ConsoleForbiddenError(`an action from another origin (${request.origin}) is refused`);
  const given = Buffer.from(request.token ?? '');
  const expected = Buffer.from(session.token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new ConsoleForbiddenError('the action carries no valid session token: reload the page and confirm again');
}
