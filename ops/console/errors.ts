import { LandfallError } from '../../shared/core/errors';

/** A console request the console cannot answer as asked: a bad query parameter, an unknown batch or page (400/404). */
export class ConsoleRequestError extends LandfallError {
  override readonly name = 'ConsoleRequestError';
  readonly code = 'CONSOLE_BAD_REQUEST';
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

/** An action the console refuses: no or a wrong session token, a foreign origin, a read-only console (403). */
export class ConsoleForbiddenError extends LandfallError {
  override readonly name = 'ConsoleForbiddenError';
  readonly code = 'CONSOLE_FORBIDDEN';
}
