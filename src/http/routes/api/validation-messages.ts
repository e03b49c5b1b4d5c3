import type { FastifySchemaValidationError } from 'fastify';

/** What a pattern stands for, in words a person can act on (ajv would print the regular expression). */
const PATTERN_HINTS = new Map<string, string>();

/** A string pattern for a schema, with the hint that explains it when a value does not match. */
export function describedPattern(pattern: string, hint: string): string {
  PATTERN_HINTS.set(pattern, hint);
  return pattern;
}

/**
 * Turns ajv's errors into one sentence that names the field and says what it
 * should be: the API's callers are people with curl and producers in other
 * languages, not readers of JSON Schema paths.
 */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const sentences = errors.filter((error) => error.keyword !== 'propertyNames').map((error) => describe(error, dataVar));
  return new Error([...new Set(sentences)].join('; '));
}

function describe(error: FastifySchemaValidationError, dataVar: string): string {
  const where = dataVar + error.instancePath.replaceAll('/', '.');
  const params = error.params as Record<string, unknown>;
  const unknownName = (error as { propertyName?: string }).propertyName;
  switch (error.keyword) {
    case 'required':
      return `${where} needs the field "${String(params.missingProperty)}"`;
    case 'enum':
      if (unknownName !== undefined) {
        return `${where} has an unknown field "${unknownName}"; the fields are: ${(params.allowedValues as string[]).join(', ')}`;
      }
      return `${where} must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`;
    case 'const':
      return `${where} must be ${JSON.stringify(params.allowedValue)}`;
    case 'type':
      return `${where} must be ${withArticle(String(params.type))}`;
    case 'pattern': {
      const hint = PATTERN_HINTS.get(String(params.pattern));
      return hint ? `${where} is not valid: ${hint}` : `${where} ${error.message ?? 'is not valid'}`;
    }
    default:
      return `${where} ${error.message ?? 'is not valid'}`;
  }
}

function withArticle(type: string): string {
  return type
    .split(',')
    .map((name) => (/^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`))
    .join(' or ');
}
