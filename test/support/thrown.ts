import { expect } from 'vitest';

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** The error `run` throws, checked to be a `type` (the test fails when nothing is thrown). */
export function thrown<E extends Error>(type: ErrorClass<E>, run: () => unknown): E {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error(`nothing was thrown (a ${type.name} was expected)`);
}

/** The error `work` rejects with, checked to be a `type` (the test fails when it resolves). */
export async function rejected<E extends Error>(type: ErrorClass<E>, work: Promise<unknown>): Promise<E> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error(`it resolved (a ${type.name} was expected)`);
}
