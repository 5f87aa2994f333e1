// Errors meant for the user: the message says what happened, where, and what to do.

export class HerdError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'HerdError';
  }
}
