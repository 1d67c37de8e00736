/** errorMessage: one way to turn whatever was thrown into text, with or without the error's class name. */
import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../../shared/errors';

class ThrottlingException extends Error {
  override name = 'ThrottlingException';
}

describe('errorMessage', () => {
  it('names the class of an error that has one of its own', () => {
    expect(errorMessage(new ThrottlingException('Rate exceeded'))).toBe('ThrottlingException: Rate exceeded');
    expect(errorMessage(new Error('plain'))).toBe('plain');
  });

  it('gives the bare message with { name: false }, for text that already says what failed', () => {
    expect(errorMessage(new ThrottlingException('Rate exceeded'), { name: false })).toBe('Rate exceeded');
    expect(errorMessage(new SyntaxError('Unexpected token'), { name: false })).toBe('Unexpected token');
  });

  it('turns a thrown non-error into its string', () => {
    expect(errorMessage('boom')).toBe('boom');
    expect(errorMessage(42, { name: false })).toBe('42');
  });
});
