import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

export class RequestValidationError extends BadRequestException {
  constructor(readonly fieldErrors: { field: string; messages: string[] }[]) {
    super('request validation failed');
  }
}

function flatten(errors: ValidationError[], prefix = ''): { field: string; messages: string[] }[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * The one global validation pipe (STYLE.md habit 6): unknown fields are refused, not silently dropped, and
 * every error names its field.
 */
export const globalValidationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flatten(errors)),
  });
