// asl-validator ships JavaScript without types; this is the part the tests use.
declare module 'asl-validator' {
  export default function aslValidator(definition: unknown): { isValid: boolean; errorsText(separator?: string): string };
}
