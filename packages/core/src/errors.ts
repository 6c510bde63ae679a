/**
 * Domain errors. They know nothing of HTTP: the controller's error handler is the one place that maps a kind to a
 * status code and to the body shape the Deis v2 contract requires.
 * @module
 */

export type ErrorKind =
  | 'validation'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'unprocessable'
  | 'unavailable';

export interface DeisErrorOptions {
  /** A stable snake_case id that clients may match on instead of the message. */
  code?: string;
  /** What the user can do about it; the CLI prints it after the message. */
  hint?: string;
  cause?: unknown;
}

export class DeisError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, options: DeisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = options.code ?? kind;
    this.hint = options.hint;
  }
}

/**
 * Bad input. With `fields` the wire body is Django REST framework's field dictionary (`{"id": ["..."]}`);
 * without it, `{"detail": message}`.
 */
export class ValidationError extends DeisError {
  readonly fields: Readonly<Record<string, readonly string[]>> | undefined;

  constructor(message: string, options: DeisErrorOptions & { fields?: Record<string, string[]> } = {}) {
    super('validation', message, options);
    this.fields = options.fields;
  }

  /** The common case of one message about one field. */
  static field(field: string, message: string, options: DeisErrorOptions = {}): ValidationError {
    return new ValidationError(message, { ...options, fields: { [field]: [message] } });
  }
}

export class AuthenticationError extends DeisError {
  constructor(message = 'Authentication credentials were not provided.', options: DeisErrorOptions = {}) {
    super('authentication', message, options);
  }
}

export class PermissionDeniedError extends DeisError {
  constructor(message = 'You do not have permission to perform this action.', options: DeisErrorOptions = {}) {
    super('permission', message, options);
  }
}

/** The wire body of a 404 is the message itself as a JSON string, as Django's Http404 gives it. */
export class NotFoundError extends DeisError {
  constructor(message: string, options: DeisErrorOptions = {}) {
    super('not_found', message, { code: 'not_found', ...options });
  }

  /** `No App matches the given query.`: the text every Deis client and test compares. */
  static of(model: string, options: DeisErrorOptions = {}): NotFoundError {
    return new NotFoundError(`No ${model} matches the given query.`, options);
  }
}

export class MethodNotAllowedError extends DeisError {
  constructor(method: string) {
    super('method_not_allowed', `Method "${method}" not allowed.`);
  }
}

export class ConflictError extends DeisError {
  constructor(message: string, options: DeisErrorOptions = {}) {
    super('conflict', message, options);
  }
}

export class UnprocessableError extends DeisError {
  constructor(message: string, options: DeisErrorOptions = {}) {
    super('unprocessable', message, options);
  }
}

/** A dependency (the container engine, the store) failed; the request may succeed later. */
export class UnavailableError extends DeisError {
  constructor(message: string, options: DeisErrorOptions = {}) {
    super('unavailable', message, options);
  }
}
