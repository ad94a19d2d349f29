import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, expectBoolean, expectFunction, expectInteger, expectOneOf, expectPlainObject, expectString } from '../lib/arguments.js';
import { ValueError } from '../lib/errors.js';

const typeError = (name: string) => (error: unknown) =>
  error instanceof TypeError && (error as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
  error.message.includes(`"${name}"`) && error.message.includes('Received');

test('expectInteger: type first, then range', () => {
  assert.equal(expectInteger('port', 80, 0, 65535), 80);
  assert.throws(() => expectInteger('port', '80', 0, 65535), typeError('port'));
  assert.throws(() => expectInteger('port', 8.5, 0, 65535), typeError('port'));
  assert.throws(() => expectInteger('port', 70000, 0, 65535), (error: unknown) =>
    error instanceof ValueError && error.code === 'ERR_OUT_OF_RANGE' && /Received 70000/.test(error.message));
});

test('the other checks name the argument and describe what was received', () => {
  assert.equal(expectString('host', 'h'), 'h');
  assert.throws(() => expectString('host', 1), /"host" argument must be of type string\. Received type number \(1\)/);
  assert.equal(expectBoolean('flag', false), false);
  assert.throws(() => expectBoolean('flag', 'no'), typeError('flag'));
  const fn = () => 1;
  assert.equal(expectFunction('callback', fn), fn);
  assert.throws(() => expectFunction('callback', {}), /Received an object/);
  assert.deepEqual(expectPlainObject('options', { a: 1 }), { a: 1 });
  assert.throws(() => expectPlainObject('options', [1]), /Received an array of length 1/);
  assert.throws(() => expectPlainObject('options', null), /Received null/);
  assert.equal(expectOneOf('cors', 'on', ['off', 'on']), 'on');
  assert.throws(() => expectOneOf('cors', 'yes', ['off', 'on']), (error: unknown) =>
    error instanceof ValueError && error.code === 'ERR_INVALID_ARG_VALUE' && /'off', 'on'\. Received 'yes'/.test(error.message));
});

test('didYouMean finds slips of case and spelling, and nothing for unrelated names', () => {
  const fields = ['statuscode', 'statusmsg', 'version', 'headers', 'message'];
  assert.equal(didYouMean('statusCode', fields), 'statuscode');
  assert.equal(didYouMean('header', fields), 'headers');
  assert.equal(didYouMean('mesage', fields), 'message');
  assert.equal(didYouMean('zzz', fields), undefined);
});
